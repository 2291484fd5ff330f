//! The command line: `replicas primary ...` or `replicas replica ...`, checked into what each
//! role needs. Every error is one line naming the flag or value at fault.

use std::time::Duration;

use crate::bugs::{Bugs, Role};
use crate::replica;

pub const USAGE: &str = "usage: replicas primary [--listen ADDR] [--stock SKU=N,...] [--accounts N] [--balance B] [--bugs SPEC]\n       \
     replicas replica [--listen ADDR] --primary URL [--poll 200ms] [--bugs SPEC]\n\
     bugs (or REPLICAS_BUGS): drop-every=N, lag=MS, double-capture-every=N, racy-stock, \
     racy-transfer, no-funds-check";

/// What to run.
#[derive(Debug)]
pub enum Command {
    Primary {
        listen: String,
        stock: Vec<(String, i64)>,
        /// The bank's accounts `0..accounts`, each starting with `balance`.
        accounts: i64,
        balance: i64,
        bugs: Bugs,
    },
    Replica {
        listen: String,
        config: replica::Config,
    },
}

impl Command {
    pub fn role(&self) -> Role {
        match self {
            Command::Primary { .. } => Role::Primary,
            Command::Replica { .. } => Role::Replica,
        }
    }

    pub fn listen(&self) -> &str {
        match self {
            Command::Primary { listen, .. } | Command::Replica { listen, .. } => listen,
        }
    }

    pub fn bugs(&self) -> &Bugs {
        match self {
            Command::Primary { bugs, .. } => bugs,
            Command::Replica { config, .. } => &config.bugs,
        }
    }

    /// Parses the arguments after the program name; `env_bugs` is `REPLICAS_BUGS`, which
    /// `--bugs` overrides.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env_bugs: Option<String>,
    ) -> Result<Command, String> {
        let mut args = args.into_iter();
        let role = match args.next().as_deref() {
            Some("primary") => Role::Primary,
            Some("replica") => Role::Replica,
            Some(other) => {
                return Err(format!(
                    "unknown role {other:?}: expected primary or replica"
                ));
            }
            None => return Err("missing role: expected primary or replica".to_owned()),
        };
        let mut listen = match role {
            Role::Primary => "127.0.0.1:8080".to_owned(),
            Role::Replica => "127.0.0.1:8081".to_owned(),
        };
        let (mut stock, mut primary, mut poll) = (None, None, None);
        let (mut accounts, mut balance) = (5, 100);
        let mut bugs = env_bugs.unwrap_or_default();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag}: expected a value after it"))?;
            match (role, flag.as_str()) {
                (_, "--listen") => listen = value,
                (_, "--bugs") => bugs = value,
                (Role::Primary, "--stock") => stock = Some(parse_stock(&value)?),
                (Role::Primary, "--accounts") => accounts = whole(&flag, &value, 2)?,
                (Role::Primary, "--balance") => balance = whole(&flag, &value, 0)?,
                (Role::Replica, "--primary") => primary = Some(value),
                (Role::Replica, "--poll") => poll = Some(parse_poll(&value)?),
                _ => return Err(format!("unknown flag {flag:?} for the {role}")),
            }
        }
        let bugs = Bugs::parse(&bugs)?;
        Ok(match role {
            Role::Primary => Command::Primary {
                listen,
                stock: stock.unwrap_or_else(|| vec![("a".to_owned(), 100)]),
                accounts,
                balance,
                bugs,
            },
            Role::Replica => Command::Replica {
                listen,
                config: replica::Config {
                    primary: primary.ok_or("the replica needs --primary URL")?,
                    poll: poll.unwrap_or(Duration::from_millis(200)),
                    bugs,
                },
            },
        })
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

/// A whole number of at least `min` (at most a million: this is a test service).
fn whole(flag: &str, value: &str, min: i64) -> Result<i64, String> {
    value
        .parse()
        .ok()
        .filter(|n| (min..=1_000_000).contains(n))
        .ok_or_else(|| {
            format!("{flag}: expected a whole number from {min} to 1000000, found {value:?}")
        })
}

/// `200ms` or `2s`, at least 1 ms.
fn parse_poll(spec: &str) -> Result<Duration, String> {
    let bad = || format!("--poll: expected a duration like 200ms or 2s, found {spec:?}");
    let (n, unit) = match spec.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => (spec.strip_suffix('s').ok_or_else(bad)?, 1000),
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    match n.checked_mul(unit) {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, String> {
        Command::parse(line.split_whitespace().map(str::to_owned), None)
    }

    #[test]
    fn parses_a_primary_with_its_default_stock_and_a_replica_with_its_default_poll() {
        let Command::Primary { listen, stock, .. } = parse("primary").unwrap() else {
            panic!("not a primary");
        };
        assert_eq!(
            (listen.as_str(), stock),
            ("127.0.0.1:8080", vec![("a".to_owned(), 100)])
        );
        let Command::Replica { config, .. } = parse("replica --primary http://p:1").unwrap() else {
            panic!("not a replica");
        };
        assert_eq!(config.poll, Duration::from_millis(200));
    }

    #[test]
    fn reads_stock_poll_and_bugs_with_the_flag_over_the_environment() {
        let cmd = Command::parse(
            [
                "replica",
                "--primary",
                "http://p:1",
                "--poll",
                "2s",
                "--bugs",
                "lag=300",
            ]
            .map(String::from),
            Some("drop-every=5".to_owned()),
        )
        .unwrap();
        assert_eq!(cmd.bugs().lag_ms, 300);
        assert_eq!(cmd.bugs().drop_every, 0);
        let Command::Primary { stock, .. } = parse("primary --stock a=100,b=50").unwrap() else {
            panic!("not a primary");
        };
        assert_eq!(stock, vec![("a".to_owned(), 100), ("b".to_owned(), 50)]);
        let Command::Primary {
            accounts, balance, ..
        } = parse("primary --accounts 3 --balance 7").unwrap()
        else {
            panic!("not a primary");
        };
        assert_eq!((accounts, balance), (3, 7));
    }

    #[test]
    fn rejects_flags_of_the_other_role_and_bad_values() {
        let err = |line| parse(line).unwrap_err();
        assert!(err("primary --poll 1s").contains("unknown flag \"--poll\" for the primary"));
        assert!(err("replica").contains("needs --primary"));
        assert!(err("replica --primary x --poll 0ms").contains("--poll"));
        assert!(err("replica --primary x --poll 5").contains("--poll"));
        assert!(err("primary --stock a=1,a=2").contains("given twice"));
        assert!(err("primary --stock a=-1").contains("whole number"));
        assert!(err("primary --bugs lag=x").contains("lag"));
        assert!(err("primary --accounts 1").contains("--accounts"));
        assert!(err("primary --balance -5").contains("--balance"));
        assert!(err("replica --primary x --accounts 3").contains("unknown flag"));
        assert!(err("secondary").contains("unknown role"));
    }
}
