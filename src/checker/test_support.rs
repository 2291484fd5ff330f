//! A compact notation for hand-written histories in checker unit tests: one event a line,
//! `TIME PROCESS TYPE F [VALUE]`, indexes given by line order from 0.
//!
//! ```text
//! 10 0 invoke add 1
//! 20 0 ok     add 1
//! 30 1 invoke read
//! 40 1 ok     read [1 2]
//! 50 n info   start-partition [[n1 n2] [n3]]
//! ```
//! PROCESS is a number or `n` (the nemesis); TYPE is `invoke|ok|fail|info` (or `i` for
//! invoke); VALUE is an integer, `nil`, a bare string (`"17"` quoted stays a string), a list
//! in brackets, or a map in braces with bare keys: a view read is
//! `40 1 ok view:replica {records [{id 1 status paid}] round 2}`.

use crate::history::{Event, EventKind, History, Process, Value};

/// Builds a history from the notation above; panics on a typo (tests only).
pub fn history(script: &str) -> History {
    let events = script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(index, line)| event(index as u64, line));
    History::from_events(None, events).expect("test history is well-formed")
}

fn event(index: u64, line: &str) -> Event {
    let mut parts = line
        .splitn(5, char::is_whitespace)
        .filter(|p| !p.is_empty());
    let mut next = |what: &str| parts.next().unwrap_or_else(|| panic!("{what} in {line:?}"));
    let time = next("time").parse().expect("time is a number");
    let process = match next("process") {
        "n" => Process::Nemesis,
        p => Process::Client(p.parse().expect("process is a number or n")),
    };
    let kind = match next("type") {
        "i" | "invoke" => EventKind::Invoke,
        "ok" => EventKind::Ok,
        "fail" => EventKind::Fail,
        "info" => EventKind::Info,
        other => panic!("unknown type {other:?} in {line:?}"),
    };
    let f = next("f").into();
    let value = parts.next().map_or(Value::Nil, parse_value);
    Event {
        index,
        time,
        process,
        kind,
        f,
        value,
        node: None,
        error: None,
    }
}

/// Parses `5`, `nil`, `x`, `"5"`, `[1 2 [a b]]`, `{id 1 tags [a b]}`.
pub fn parse_value(text: &str) -> Value {
    let spaced = text
        .replace('[', " [ ")
        .replace(']', " ] ")
        .replace('{', " { ")
        .replace('}', " } ");
    let mut tokens = spaced.split_whitespace().peekable();
    let value = parse_tokens(&mut tokens);
    assert!(tokens.next().is_none(), "trailing tokens in {text:?}");
    value
}

fn parse_tokens<'a>(tokens: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Value {
    match tokens.next().expect("a value") {
        "[" => {
            let mut items = Vec::new();
            while tokens.peek().expect("a closed list") != &"]" {
                items.push(parse_tokens(tokens));
            }
            tokens.next();
            Value::list(items)
        }
        "{" => {
            let mut entries = Vec::new();
            while tokens.peek().expect("a closed map") != &"}" {
                let key = tokens.next().expect("a key");
                entries.push((Value::from(key), parse_tokens(tokens)));
            }
            tokens.next();
            Value::Map(entries.into_boxed_slice())
        }
        "nil" => Value::Nil,
        quoted if quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"') => {
            Value::from(&quoted[1..quoted.len() - 1])
        }
        atom => atom.parse::<i64>().map_or_else(|_| atom.into(), Value::Int),
    }
}

/// `(kind, ops)` of every anomaly, for exact assertions.
pub fn witnesses(result: &crate::checker::CheckerResult) -> Vec<(&str, Vec<u64>)> {
    result
        .anomalies
        .iter()
        .map(|a| (a.kind.as_str(), a.ops.clone()))
        .collect()
}

/// The lines of one convergence round: process 1 reads each view in turn from `time` on,
/// 10 ns apart; `records` is the view's records in the notation (`[{id 1} {id 2}]`), or
/// `fail` for a read that failed.
pub fn round(n: u32, time: u64, reads: &[(&str, &str)]) -> String {
    let mut lines = String::new();
    for (i, (view, records)) in reads.iter().enumerate() {
        let t = time + 20 * i as u64;
        lines += &format!("{t} 1 i view:{view} {{round {n}}}\n");
        lines += &match *records {
            "fail" => format!("{} 1 fail view:{view} {{round {n}}}\n", t + 10),
            records => format!(
                "{} 1 ok view:{view} {{records {records} round {n}}}\n",
                t + 10
            ),
        };
    }
    lines
}

/// Checks one relation over a script, returning its result and the convergence.
pub fn check_relation(
    relation: crate::checker::relations::Relation,
    script: &str,
) -> (
    crate::checker::CheckerResult,
    crate::checker::relations::Convergence,
) {
    let name = relation.name();
    let (mut results, convergence) =
        crate::checker::relations::check(&[relation], &history(script))
            .expect("well-shaped view history");
    (
        results.remove(&name).expect("one result per relation"),
        convergence,
    )
}

/// Results with one checker, `set`, holding one `lost` anomaly witnessed by the ops at these
/// history indexes.
pub fn results_with_lost(ops: Vec<u64>) -> crate::checker::Results {
    let anomaly = crate::checker::Anomaly {
        kind: "lost".into(),
        ops,
        explanation: String::new(),
        faults: Vec::new(),
        details: serde_json::Value::Null,
        window: None,
    };
    let result = crate::checker::CheckerResult {
        valid: crate::checker::Verdict::Invalid,
        anomaly_types: vec!["lost".into()],
        anomalies: vec![anomaly],
        counts: std::collections::BTreeMap::new(),
        stats: std::collections::BTreeMap::new(),
    };
    crate::checker::Results::from_checkers(std::collections::BTreeMap::from([(
        "set".to_owned(),
        result,
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_builds_ops_with_explicit_times_and_nested_values() {
        let h = history(
            "10 0 invoke read
             25 0 ok read [1 [2 x] nil]
             30 n info start-partition [[n1 n2] [n3]]",
        );
        assert_eq!(h.ops[0].invoke_time, 10);
        assert_eq!(h.ops[0].complete_time, Some(25));
        assert_eq!(h.ops[0].value.to_string(), "[1 [2 \"x\"] nil]");
        assert_eq!(h.nemesis[0].value.to_string(), "[[\"n1\" \"n2\"] [\"n3\"]]");
    }

    #[test]
    fn notation_builds_maps_and_quoted_strings() {
        let v = parse_value(r#"{records [{id "17" n 2}] round 1}"#);
        assert_eq!(
            v.to_string(),
            r#"{"records" [{"id" "17", "n" 2}], "round" 1}"#
        );
    }
}
