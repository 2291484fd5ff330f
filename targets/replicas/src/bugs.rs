//! The bug switches: which wrong behaviour each role turns on, parsed from `--bugs` or
//! `REPLICAS_BUGS`. Both roles accept every switch (one environment variable can serve a whole
//! deployment); each role acts only on its own and names the others as ignored.

use std::fmt;

/// Which bugs are on. Counter-based switches fire on every Nth event of their kind (0 = off).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Replica: skip every Nth pulled change for good (never applied, never pulled again).
    /// Expect `unconverged`, and `lost` for a read model that must cover the writes.
    pub drop_every: u64,
    /// Replica: apply a change only `lag_ms` after the primary recorded it. Expect a read
    /// model that converges late by a known delay (a later time to converge; `lost` or
    /// `unconverged` only if the convergence phase stops polling sooner).
    pub lag_ms: u64,
    /// Primary: every Nth CONFIRMED order gets a second CAPTURED payment `p-N-dup`. Expect
    /// `duplicated` per `order_id`.
    pub double_capture_every: u64,
    /// Primary: `/reserve` reads, sleeps and writes outside the lock, so concurrent reserves
    /// lose updates of `reserved` and pass the availability check together. Expect
    /// `wrong-total` and, when stock runs out, `negative`.
    pub racy_stock: bool,
    /// Primary: `/transfer` debits, releases the lock for 1 ms, then credits, so a read in
    /// between sees the money in neither account. Expect the bank's `wrong-total`.
    pub racy_transfer: bool,
    /// Primary: `/transfer` never refuses for insufficient funds, so balances go below zero.
    /// Expect the bank's `negative`.
    pub no_funds_check: bool,
}

/// The switches a primary acts on, and those a replica acts on.
const PRIMARY: &[&str] = &[
    "double-capture-every",
    "racy-stock",
    "racy-transfer",
    "no-funds-check",
];
const REPLICA: &[&str] = &["drop-every", "lag"];

impl Bugs {
    /// Parses `drop-every=5,lag=300,double-capture-every=2,racy-stock` (empty: no bugs). An
    /// error names every bad switch, on one line.
    pub fn parse(spec: &str) -> Result<Bugs, String> {
        let mut bugs = Bugs::default();
        let mut errors = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Err(e) = bugs.set(part) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(bugs)
        } else {
            Err(errors.join("; "))
        }
    }

    /// Turns on one switch, `NAME=N` or `racy-stock`.
    fn set(&mut self, part: &str) -> Result<(), String> {
        let (name, value) = match part.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (part, None),
        };
        let flag = |on: &mut bool| match value {
            None => {
                *on = true;
                Ok(())
            }
            Some(v) => Err(format!("bug switch {name} takes no value, found {v:?}")),
        };
        match name {
            "racy-stock" => flag(&mut self.racy_stock)?,
            "racy-transfer" => flag(&mut self.racy_transfer)?,
            "no-funds-check" => flag(&mut self.no_funds_check)?,
            "drop-every" => self.drop_every = number(name, value)?,
            "lag" => self.lag_ms = number(name, value)?,
            "double-capture-every" => self.double_capture_every = number(name, value)?,
            _ => {
                return Err(format!(
                    "unknown bug switch {name:?}: expected drop-every=N, lag=MS, \
                     double-capture-every=N, racy-stock, racy-transfer or no-funds-check"
                ));
            }
        }
        Ok(())
    }

    /// The switches that are on, as `(name, spec)`, in a fixed order.
    fn on(&self) -> Vec<(&'static str, String)> {
        let mut on = Vec::new();
        let mut every = |name: &'static str, n: u64| {
            if n > 0 {
                on.push((name, format!("{name}={n}")));
            }
        };
        every("drop-every", self.drop_every);
        every("lag", self.lag_ms);
        every("double-capture-every", self.double_capture_every);
        for (name, is_on) in [
            ("racy-stock", self.racy_stock),
            ("racy-transfer", self.racy_transfer),
            ("no-funds-check", self.no_funds_check),
        ] {
            if is_on {
                on.push((name, name.to_owned()));
            }
        }
        on
    }

    /// For the startup line: the switches `role` acts on, then those it ignores.
    pub fn describe(&self, role: Role) -> String {
        let mine = match role {
            Role::Primary => PRIMARY,
            Role::Replica => REPLICA,
        };
        let (active, ignored): (Vec<_>, Vec<_>) = self
            .on()
            .into_iter()
            .partition(|(name, _)| mine.contains(name));
        let join =
            |v: Vec<(&str, String)>| v.into_iter().map(|(_, s)| s).collect::<Vec<_>>().join(",");
        let mut text = if active.is_empty() {
            "none".to_owned()
        } else {
            join(active)
        };
        if !ignored.is_empty() {
            text.push_str(&format!(" (ignored by the {role}: {})", join(ignored)));
        }
        text
    }
}

fn number(name: &str, value: Option<&str>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("bug switch {name}: expected {name}=N"))?;
    value
        .parse()
        .map_err(|_| format!("bug switch {name}: expected a whole number, found {value:?}"))
}

/// Which part of the service a process plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The write model: takes every write and records it as a change.
    Primary,
    /// A read model: pulls the primary's changes and serves its copy.
    Replica,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_switch() {
        let bugs = Bugs::parse(
            "drop-every=5, lag=300,double-capture-every=2,racy-stock,racy-transfer,no-funds-check",
        )
        .unwrap();
        assert_eq!(
            bugs,
            Bugs {
                drop_every: 5,
                lag_ms: 300,
                double_capture_every: 2,
                racy_stock: true,
                racy_transfer: true,
                no_funds_check: true,
            }
        );
        assert_eq!(Bugs::parse("").unwrap(), Bugs::default());
    }

    #[test]
    fn rejects_unknown_switches_and_bad_values_naming_them() {
        let err = |spec| Bugs::parse(spec).unwrap_err();
        assert!(err("drop-evry=5").contains("unknown bug switch \"drop-evry\""));
        assert!(err("lag=soon").contains("lag: expected a whole number, found \"soon\""));
        assert!(err("drop-every").contains("drop-every: expected drop-every=N"));
        assert!(err("racy-stock=1").contains("racy-stock takes no value"));
        assert!(err("no-funds-check=yes").contains("no-funds-check takes no value"));
        let both = err("lag=x,racy-stock,dorp-every=2");
        assert!(
            both.contains("\"x\"") && both.contains("\"dorp-every\""),
            "{both}"
        );
        assert!(!both.contains('\n'));
    }

    #[test]
    fn describes_the_switches_a_role_acts_on_and_those_it_ignores() {
        let bugs = Bugs::parse("lag=300,double-capture-every=2").unwrap();
        assert_eq!(
            bugs.describe(Role::Replica),
            "lag=300 (ignored by the replica: double-capture-every=2)"
        );
        assert_eq!(
            bugs.describe(Role::Primary),
            "double-capture-every=2 (ignored by the primary: lag=300)"
        );
        assert_eq!(Bugs::default().describe(Role::Primary), "none");
    }
}
