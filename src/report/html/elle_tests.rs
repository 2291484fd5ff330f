use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::checker::Verdict;

fn step(from: &str, edge: &str, to: &str, why: &str) -> Json {
    json!({"from": from, "to": to, "edge": edge, "why": why, "ops": format!("ops of {from}")})
}

fn anomaly(cycle: Vec<Json>) -> Anomaly {
    Anomaly {
        kind: "G-single".into(),
        ops: vec![],
        explanation: "x".into(),
        faults: vec![],
        details: json!({"cycle": cycle, "transactions": []}),
        window: None,
    }
}

fn g_single() -> Anomaly {
    anomaly(vec![
        step(
            "T6",
            "rw",
            "T2",
            "T6 read 255 = [2 3 4 5] without 8, which T2 appended next",
        ),
        step("T2", "wr", "T4", "T4 read 255 = [2 3 4 5 8], ending in 8"),
        step("T4", "ww", "T6", "T6 appended <img src=x> after T4"),
    ])
}

#[test]
fn a_cycle_is_drawn_beside_its_steps_micro_ops_and_contradiction() {
    let html = figure(2, &g_single(), true);
    assert_eq!(html.matches("<g class=\"elle-node\">").count(), 3, "{html}");
    assert_eq!(html.matches("<g class=\"elle-edge").count(), 3);
    assert!(html.contains(
        "<li data-step=\"1\">T6 read 255 = [2 3 4 5] without 8, which T2 appended next, so \
         <b>T6 <span class=\"ek-text ek-rw\">→rw</span> T2</b></li>"
    ));
    assert!(html.contains("So T6 would have to come before itself: a contradiction."));
    assert!(html.contains("<tr><td>T2</td><td><code>ops of T2</code></td></tr>"));
    assert_eq!(
        html.matches("<li><svg").count(),
        5,
        "a legend entry per kind"
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x&gt;"));
}

#[test]
fn cycles_past_the_first_of_their_type_or_too_long_are_listed_not_drawn() {
    let listed = figure(0, &g_single(), false);
    assert!(!listed.contains("<svg class=\"elle-svg\""), "{listed}");
    assert!(listed.contains("Not drawn: the first 20 cycles of this type are"));
    assert_eq!(listed.matches("<li data-step=").count(), 3);

    let n = MAX_DRAWN + 1;
    let long = (0..n)
        .map(|i| step(&format!("T{i}"), "ww", &format!("T{}", (i + 1) % n), ""))
        .collect();
    let html = figure(0, &anomaly(long), true);
    assert!(!html.contains("<svg class=\"elle-svg\""));
    assert!(html.contains(&format!("a cycle of {n} steps (over {MAX_DRAWN})")));
    assert!(html.contains("<li data-step=\"25\"><b>T24 "), "{html}");

    let n = MAX_DRAWN;
    let drawn = (0..n)
        .map(|i| step(&format!("T{i}"), "rw", &format!("T{}", (i + 1) % n), ""))
        .collect();
    let html = figure(0, &anomaly(drawn), true);
    assert_eq!(html.matches("<g class=\"elle-node\">").count(), n);
}

fn result() -> CheckerResult {
    CheckerResult {
        valid: Verdict::Invalid,
        anomaly_types: vec!["G-single".into()],
        anomalies: vec![g_single()],
        counts: BTreeMap::from([
            ("G-single".to_owned(), 1),
            ("transactions".to_owned(), 4),
            ("keys".to_owned(), 3),
            ("ww-edges".to_owned(), 2),
            ("rw-edges".to_owned(), 1),
            ("components".to_owned(), 1),
            ("largest-component".to_owned(), 3),
        ]),
        stats: BTreeMap::from([
            ("model".to_owned(), json!("list-append")),
            ("consistency-models".to_owned(), json!(["serializable"])),
            (
                "not".to_owned(),
                json!(["repeatable-read", "snapshot-isolation"]),
            ),
            ("also-not".to_owned(), json!(["serializable"])),
            ("allowed-anomalies".to_owned(), json!({"G2-item": 2})),
        ]),
    }
}

#[test]
fn the_summary_says_the_verdict_in_the_model_s_terms() {
    let html = summary(&result());
    assert!(
        html.contains(
            "Checked as <b>list-append</b> transactions against <code>serializable</code>."
        )
    );
    assert!(
        html.contains("forbidden: <span class=\"badge kind\">G-single</span> ×1."),
        "{html}"
    );
    assert!(html.contains(
        "not <code>repeatable-read</code> and <code>snapshot-isolation</code> (the weakest"
    ));
    assert!(html.contains("nor, being stronger, <code>serializable</code>"));
    assert!(html.contains(
        "allowed by <code>serializable</code>: <span class=\"badge kind\">G2-item</span> ×2."
    ));
    assert!(html.contains(
        "4 transactions on 3 keys; dependency edges: 2 ww, 0 wr, 1 rw, 0 process, 0 realtime; \
         1 strongly connected component(s), the largest of 3 transactions."
    ));
}

#[test]
fn a_valid_history_rules_out_nothing() {
    let mut r = result();
    r.anomaly_types.clear();
    r.stats.insert("not".into(), json!([]));
    r.stats.insert("also-not".into(), json!([]));
    r.stats.remove("allowed-anomalies");
    let html = summary(&r);
    assert!(html.contains("Found no anomaly they forbid."), "{html}");
    assert!(html.contains("rules out no consistency model"));
    assert!(!html.contains("allowed by"));
}

#[test]
fn only_cycles_of_transactional_checkers_are_shown_as_cycles() {
    assert!(is_cycle("list-append", &g_single()));
    assert!(is_cycle("rw-register", &g_single()));
    assert!(!is_cycle("set", &g_single()));
    assert!(!is_cycle("list-append", &anomaly(vec![])));
    assert_eq!(Kind::of("list-append"), Kind::Elle);
}
