//! The bug switches: the classic mistakes of event-driven services, parsed from `--bugs` or
//! `SHOP_BUGS`. Every role accepts every switch (one variable can serve a whole deployment);
//! each acts only where the mistake lives.

/// Which bugs are on. All off is the correct shop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Handlers skip the inbox: a redelivered event is applied again (a second payment for one
    /// order: `duplicated`).
    pub no_inbox: bool,
    /// Events are published straight after the commit instead of through the outbox: a crash
    /// (or NATS being away) in between loses the event (orders stuck PENDING: `unconverged`,
    /// `missing`).
    pub no_outbox: bool,
    /// Inventory reserves by reading the level, sleeping, then writing what it read minus the
    /// quantity, so concurrent reservations overwrite each other (`wrong-total`, `negative`).
    pub racy_stock: bool,
    /// Handlers ack an event before applying it: a crash in between loses the effect
    /// (`missing`).
    pub ack_before_commit: bool,
    /// Inventory does not release a reservation when its order is cancelled (stock stays
    /// reserved for good: `wrong-total`).
    pub no_compensation: bool,
}

const SWITCHES: &[&str] = &[
    "no-inbox",
    "no-outbox",
    "racy-stock",
    "ack-before-commit",
    "no-compensation",
];

impl Bugs {
    /// Parses `no-inbox,racy-stock` (empty: no bugs). An error names every unknown switch.
    pub fn parse(spec: &str) -> Result<Bugs, String> {
        let mut bugs = Bugs::default();
        let mut unknown = Vec::new();
        for name in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match name {
                "no-inbox" => bugs.no_inbox = true,
                "no-outbox" => bugs.no_outbox = true,
                "racy-stock" => bugs.racy_stock = true,
                "ack-before-commit" => bugs.ack_before_commit = true,
                "no-compensation" => bugs.no_compensation = true,
                _ => unknown.push(format!("{name:?}")),
            }
        }
        if unknown.is_empty() {
            Ok(bugs)
        } else {
            Err(format!(
                "unknown bug switch {}: expected {}",
                unknown.join(", "),
                SWITCHES.join(", ")
            ))
        }
    }

    /// For the startup line: the switches that are on, comma-separated, or `none`.
    pub fn describe(&self) -> String {
        let flags = [
            self.no_inbox,
            self.no_outbox,
            self.racy_stock,
            self.ack_before_commit,
            self.no_compensation,
        ];
        let on: Vec<&str> = SWITCHES
            .iter()
            .zip(flags)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect();
        if on.is_empty() {
            "none".to_owned()
        } else {
            on.join(",")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_switch_and_describes_them_in_a_fixed_order() {
        let bugs = Bugs::parse("no-compensation, ack-before-commit,racy-stock,no-outbox,no-inbox")
            .unwrap();
        assert_eq!(
            bugs.describe(),
            "no-inbox,no-outbox,racy-stock,ack-before-commit,no-compensation"
        );
        assert_eq!(Bugs::parse("").unwrap(), Bugs::default());
        assert_eq!(Bugs::default().describe(), "none");
    }

    #[test]
    fn rejects_unknown_switches_naming_each() {
        let err = Bugs::parse("no-inbox,no-inbx,racy").unwrap_err();
        assert!(
            err.starts_with("unknown bug switch \"no-inbx\", \"racy\": expected no-inbox"),
            "{err}"
        );
    }
}
