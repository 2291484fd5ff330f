//! The convergence phase: after the faults heal and the final phase ends, read every view
//! once per round, all at once, until every relation holds or `converge_timeout` has passed.
//! A round starts only after the previous one completed, so each round is a snapshot of all
//! the views (the history contract in `checker::relations`).
//!
//! The loop ([`poll`]) knows nothing of HTTP or of the relations checker: it is given how to
//! read a round and how to judge one, so it is tested on its own.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::checker::relations::Round;
use crate::history::Value;

/// How the polling ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Polled {
    /// Rounds read.
    pub rounds: u32,
    /// Whether the last round had every relation hold.
    pub converged: bool,
    /// What did not hold in the last round.
    pub unmet: Vec<String>,
    /// Whether a stop (Ctrl-C) ended it.
    pub interrupted: bool,
}

/// Reads rounds 1, 2, ... with `read`, judges each with `unmet` (empty = every relation
/// holds) and tells `report` about it; stops at the first round that holds, at the first
/// round that ends `timeout` or more after the start, or on `stop`. Sleeps `interval` between
/// rounds, never past the timeout.
pub(super) async fn poll<R, F>(
    mut read: R,
    unmet: impl Fn(&Round) -> Vec<String>,
    mut report: impl FnMut(u32, &[String]),
    (timeout, interval): (Duration, Duration),
    mut stop: watch::Receiver<bool>,
) -> Polled
where
    R: FnMut(u32) -> F,
    F: Future<Output = Round>,
{
    let began = Instant::now();
    let mut polled = Polled {
        rounds: 0,
        converged: false,
        unmet: Vec::new(),
        interrupted: false,
    };
    loop {
        if *stop.borrow() {
            polled.interrupted = true;
            return polled;
        }
        polled.rounds += 1;
        let round = read(polled.rounds).await;
        polled.unmet = unmet(&round);
        polled.converged = polled.unmet.is_empty();
        report(polled.rounds, &polled.unmet);
        let left = timeout.saturating_sub(began.elapsed());
        if polled.converged || left.is_zero() {
            return polled;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval.min(left)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The value a convergence-phase read is invoked with: `{"round": N}`.
pub(super) fn round_value(round: u32) -> Value {
    Value::Map(vec![(Value::from("round"), Value::Int(i64::from(round)))].into())
}

/// A view read's `ok` value with `"round": N` added.
pub(super) fn with_round(value: Value, round: u32) -> Value {
    let mut entries = match value {
        Value::Map(entries) => entries.into_vec(),
        other => vec![(Value::from("records"), other)],
    };
    entries.push((Value::from("round"), Value::Int(i64::from(round))));
    Value::Map(entries.into())
}

/// The records of a view read's `ok` value (`{"records": [...]}`).
pub(super) fn records_of(value: &Value) -> Option<Vec<Value>> {
    let Value::Map(entries) = value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some("records"))
        .and_then(|(_, v)| v.as_list())
        .map(<[Value]>::to_vec)
}

/// `every relation holds` or the unmet lines joined, for run.log.
pub(super) fn describe(round: u32, unmet: &[String]) -> String {
    if unmet.is_empty() {
        format!("converge round {round}: every relation holds")
    } else {
        format!("converge round {round}: {}", unmet.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A view that gains one record per round, and a judge that wants `n` of them.
    fn growing(
        n: usize,
    ) -> (
        impl FnMut(u32) -> std::future::Ready<Round>,
        impl Fn(&Round) -> Vec<String>,
    ) {
        let read = |round: u32| {
            let records = (0..i64::from(round)).map(Value::Int).collect();
            std::future::ready(Round::from([("replica".to_owned(), records)]))
        };
        let unmet = move |round: &Round| match round.get("replica") {
            Some(records) if records.len() >= n => Vec::new(),
            Some(records) => vec![format!("{} of {n} records", records.len())],
            None => vec!["no read".to_owned()],
        };
        (read, unmet)
    }

    fn never_stop() -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        rx
    }

    #[tokio::test]
    async fn polling_stops_at_the_first_round_where_every_relation_holds() {
        let (read, unmet) = growing(3);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let report = move |round: u32, unmet: &[String]| {
            log.lock().unwrap().push(describe(round, unmet));
        };
        let timing = (Duration::from_secs(5), Duration::from_millis(1));
        let polled = poll(read, unmet, report, timing, never_stop()).await;
        assert_eq!(
            polled,
            Polled {
                rounds: 3,
                converged: true,
                unmet: Vec::new(),
                interrupted: false
            }
        );
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "converge round 1: 1 of 3 records",
                "converge round 2: 2 of 3 records",
                "converge round 3: every relation holds"
            ]
        );
    }

    #[tokio::test]
    async fn polling_gives_up_after_the_timeout_with_the_last_rounds_unmet_lines() {
        let (read, unmet) = growing(1_000_000);
        let timing = (Duration::from_millis(120), Duration::from_millis(50));
        let began = Instant::now();
        let polled = poll(read, unmet, |_, _| {}, timing, never_stop()).await;
        assert!(!polled.converged);
        assert!(
            (2..=5).contains(&polled.rounds),
            "about one round per 50 ms for 120 ms: {polled:?}"
        );
        assert_eq!(
            polled.unmet,
            [format!("{} of 1000000 records", polled.rounds)]
        );
        assert!(began.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_stop_ends_the_polling_between_rounds() {
        let (read, unmet) = growing(1_000_000);
        let (tx, rx) = watch::channel(false);
        let timing = (Duration::from_secs(60), Duration::from_secs(30));
        let task = tokio::spawn(async move { poll(read, unmet, |_, _| {}, timing, rx).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).expect("the poller listens");
        let polled = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops well before the 30 s pause ends")
            .expect("no panic");
        assert!(polled.interrupted && !polled.converged);
        assert_eq!(polled.rounds, 1);
    }

    #[test]
    fn round_values_follow_the_history_contract() {
        let ok = Value::Map(vec![(Value::from("records"), Value::list([Value::Int(1)]))].into());
        let json = |v: &Value| serde_json::to_string(v).unwrap();
        assert_eq!(json(&round_value(2)), r#"{"round":2}"#);
        let with = with_round(ok, 2);
        assert_eq!(json(&with), r#"{"records":[1],"round":2}"#);
        assert_eq!(records_of(&with), Some(vec![Value::Int(1)]));
        assert_eq!(records_of(&Value::Nil), None);
    }
}
