//! The command line: `shop orders|inventory|payments --listen ADDR --db FILE --nats URL ...`,
//! checked into what each role needs. Every error is one line naming the flag or value at
//! fault.

use std::fmt;

use crate::bugs::Bugs;

pub const USAGE: &str = "usage: shop orders|inventory|payments [--listen ADDR] [--db FILE] [--nats URL] [--bugs SPEC]\n       \
     inventory also: [--stock SKU=N,...] (default a=100,b=100); payments also: [--limit N] (default 100)\n\
     bugs (or SHOP_BUGS): no-inbox, no-outbox, racy-stock, ack-before-commit, no-compensation";

/// Which service a process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Orders,
    Inventory,
    Payments,
}

impl Role {
    /// The durable consumer's name and the subjects it takes from the stream. One filter per
    /// consumer: nats-server before 2.10 knows no `filter_subjects`.
    pub fn consumer(self) -> (&'static str, &'static str) {
        match self {
            Role::Orders => ("orders", "shop.>"),
            Role::Inventory => ("inventory", "shop.order.>"),
            Role::Payments => ("payments", "shop.stock.reserved"),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.consumer().0)
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Command {
    pub role: Role,
    pub listen: String,
    pub db: String,
    pub nats: String,
    pub bugs: Bugs,
    /// Inventory: each sku's starting stock, added to the database where the sku is missing.
    pub stock: Vec<(String, i64)>,
    /// Payments: the largest amount captured for any customer.
    pub limit: i64,
}

impl Command {
    /// Parses the arguments after the program name; `env_bugs` is `SHOP_BUGS`, which `--bugs`
    /// overrides.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env_bugs: Option<String>,
    ) -> Result<Command, String> {
        let mut args = args.into_iter();
        let role = match args.next().as_deref() {
            Some("orders") => Role::Orders,
            Some("inventory") => Role::Inventory,
            Some("payments") => Role::Payments,
            Some(other) => {
                return Err(format!(
                    "unknown role {other:?}: expected orders, inventory or payments"
                ));
            }
            None => return Err("missing role: expected orders, inventory or payments".into()),
        };
        let port = match role {
            Role::Orders => 8080,
            Role::Inventory => 8081,
            Role::Payments => 8082,
        };
        let mut cmd = Command {
            role,
            listen: format!("127.0.0.1:{port}"),
            db: format!("shop-{role}.db"),
            nats: "nats://127.0.0.1:4222".to_owned(),
            bugs: Bugs::default(),
            stock: vec![("a".to_owned(), 100), ("b".to_owned(), 100)],
            limit: 100,
        };
        let mut bugs = env_bugs.unwrap_or_default();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag}: expected a value after it"))?;
            match (role, flag.as_str()) {
                (_, "--listen") => cmd.listen = value,
                (_, "--db") => cmd.db = value,
                (_, "--nats") => cmd.nats = value,
                (_, "--bugs") => bugs = value,
                (Role::Inventory, "--stock") => cmd.stock = parse_stock(&value)?,
                (Role::Payments, "--limit") => {
                    cmd.limit = value.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        format!("--limit: expected a whole number, found {value:?}")
                    })?;
                }
                _ => return Err(format!("unknown flag {flag:?} for {role}")),
            }
        }
        cmd.bugs = Bugs::parse(&bugs)?;
        Ok(cmd)
    }
}

/// `a=100,b=50`: each sku once, each count a whole number.
fn parse_stock(spec: &str) -> Result<Vec<(String, i64)>, String> {
    let mut stock: Vec<(String, i64)> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (sku, n) = part
            .split_once('=')
            .ok_or_else(|| format!("--stock {part:?}: expected SKU=N"))?;
        let sku = sku.trim();
        let n: i64 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("--stock {sku}: expected a whole number, found {n:?}"))?;
        if sku.is_empty() || stock.iter().any(|(s, _)| s == sku) {
            return Err(format!("--stock: sku {sku:?} is empty or given twice"));
        }
        stock.push((sku.to_owned(), n));
    }
    Ok(stock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        Command::parse(line.split_whitespace().map(str::to_owned), None)
    }

    #[test]
    fn parses_each_role_with_its_defaults_and_flags() {
        let orders = parse("orders").unwrap();
        assert_eq!(
            (orders.role, orders.listen.as_str(), orders.db.as_str()),
            (Role::Orders, "127.0.0.1:8080", "shop-orders.db")
        );
        let inv = parse("inventory --stock a=5,b=0 --db /tmp/i.db --nats nats://h:1").unwrap();
        assert_eq!(inv.stock, vec![("a".to_owned(), 5), ("b".to_owned(), 0)]);
        assert_eq!(
            (inv.db.as_str(), inv.nats.as_str()),
            ("/tmp/i.db", "nats://h:1")
        );
        assert_eq!(parse("payments --limit 70").unwrap().limit, 70);
    }

    #[test]
    fn takes_bugs_from_the_flag_over_the_environment() {
        let cmd = Command::parse(
            ["payments", "--bugs", "no-inbox"].map(String::from),
            Some("no-outbox".to_owned()),
        )
        .unwrap();
        assert!(cmd.bugs.no_inbox && !cmd.bugs.no_outbox);
        let env = Command::parse(["orders"].map(String::from), Some("no-outbox".into())).unwrap();
        assert!(env.bugs.no_outbox);
    }

    #[test]
    fn rejects_flags_of_another_role_and_bad_values() {
        let err = |line| parse(line).unwrap_err();
        assert!(err("orders --stock a=1").contains("unknown flag \"--stock\" for orders"));
        assert!(err("inventory --limit 5").contains("for inventory"));
        assert!(err("payments --limit -1").contains("--limit"));
        assert!(err("inventory --stock a=1,a=2").contains("given twice"));
        assert!(err("orders --bugs no-inbx").contains("\"no-inbx\""));
        assert!(err("orders --db").contains("expected a value"));
        assert!(err("shipping").contains("unknown role"));
    }
}
