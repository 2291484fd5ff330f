//! Consistency models and the anomalies each forbids, after Elle's table (Kingsbury & Alvaro,
//! VLDB 2020; jepsen-io/elle's `elle.consistency-model`, which draws on Adya, Bailis et al.,
//! Cerone et al. and Daudjee & Salem). Three graphs: which anomaly is also which
//! ([`IMPLIED_ANOMALIES`]), which model implies which ([`MODELS`]), and which anomalies a model
//! proscribes beyond the models it implies ([`PROSCRIBED`]). A model forbids an anomaly when a
//! model it implies proscribes an anomaly that one implies (Elle's `anomalies-prohibited-by`);
//! a history rules out every model that forbids an anomaly found in it
//! (`anomalies->impossible-models`).
//!
//! Kept from Elle: the models splitbrain names and those between them. Left out: models that
//! proscribe nothing splitbrain reports beyond what a kept model they sit under already does
//! (monotonic view, monotonic snapshot read, Cerone's causal, prefix and parallel snapshot
//! isolation, update atomic), the single-object models, and anomalies no check here finds and
//! no kept model's verdict depends on (G-cursor, G-SI, G-update, predicate reads, Elle's
//! `-cycle-exists`, Adya's GSI).

/// `(a, [b ...])`: an `a` anomaly is also a `b` anomaly.
pub const IMPLIED_ANOMALIES: &[(&str, &[&str])] = &[
    // Adya; and since a process runs one transaction at a time, a cycle is trivially one with
    // process edges allowed, and one with process edges is one with real-time edges allowed.
    ("G0", &["G1c", "G0-process"]),
    ("G0-process", &["G1c-process", "G0-realtime"]),
    ("G0-realtime", &["G1c-realtime"]),
    // G1 is G1a, G1b or G1c.
    ("G1a", &["G1"]),
    ("G1b", &["G1"]),
    ("G1c", &["G1", "G1c-process"]),
    ("G1c-process", &["G1c-realtime", "G1-process"]),
    ("G1c-realtime", &["G1-realtime"]),
    ("G1", &["G1-process"]),
    ("G1-process", &["G1-realtime"]),
    // Over item rw edges only.
    (
        "G-single-item",
        &["G-single", "G-single-item-process", "G-nonadjacent-item"],
    ),
    (
        "G-single-item-process",
        &[
            "G-single-process",
            "G-single-item-realtime",
            "G-nonadjacent-item-process",
        ],
    ),
    (
        "G-single-item-realtime",
        &["G-single-realtime", "G-nonadjacent-item-realtime"],
    ),
    // Not Elle's: list-append and rw-register reads have no predicates, so every rw edge
    // splitbrain infers is an item anti-dependency, and each G-single or G-nonadjacent it
    // reports is Adya's -item form, a G2-item cycle, which repeatable read proscribes (Adya's
    // PL-2.99). Elle names these cycles G-single too but leaves the G2-item edge out (its
    // source calls that a known gap), so its repeatable read allows them.
    (
        "G-single",
        &["G-nonadjacent", "G-single-process", "G2-item"],
    ),
    (
        "G-single-process",
        &[
            "G-nonadjacent-process",
            "G-single-realtime",
            "G2-item-process",
        ],
    ),
    (
        "G-single-realtime",
        &["G-nonadjacent-realtime", "G2-item-realtime"],
    ),
    (
        "G-nonadjacent-item",
        &["G-nonadjacent", "G2-item", "G-nonadjacent-item-process"],
    ),
    (
        "G-nonadjacent-item-process",
        &[
            "G-nonadjacent-process",
            "G2-item-process",
            "G-nonadjacent-item-realtime",
        ],
    ),
    (
        "G-nonadjacent-item-realtime",
        &["G2-item-realtime", "G-nonadjacent-realtime"],
    ),
    ("G-nonadjacent", &["G2", "G-nonadjacent-process", "G2-item"]),
    (
        "G-nonadjacent-process",
        &["G2-process", "G-nonadjacent-realtime", "G2-item-process"],
    ),
    (
        "G-nonadjacent-realtime",
        &["G2-realtime", "G2-item-realtime"],
    ),
    ("G2-item", &["G2", "G2-item-process"]),
    ("G2-item-process", &["G2-process", "G2-item-realtime"]),
    ("G2-item-realtime", &["G2-realtime"]),
    ("G2", &["G2-process"]),
    ("G2-process", &["G2-realtime"]),
    // Two reads no single version order explains: one of them saw a dirty state.
    ("incompatible-order", &["G1a"]),
    // A read of a write its own transaction makes later: a one-transaction G1c.
    ("future-read", &["G1c"]),
    // A write over an aborted one: Elle counts it as a dirty read.
    ("dirty-update", &["G1a"]),
    // Bailis: a write skew on one key, so also G2-item; write skew is G2 (Hermitage).
    ("lost-update", &["write-skew", "G2-item"]),
    ("write-skew", &["G2"]),
];

/// Every model, weakest first, with the models it implies: a history that satisfies it
/// satisfies them.
pub const MODELS: &[(&str, &[&str])] = &[
    ("read-uncommitted", &[]),
    ("read-committed", &["read-uncommitted"]),
    ("cursor-stability", &["read-committed"]),
    ("monotonic-atomic-view", &["read-committed"]),
    ("read-atomic", &["monotonic-atomic-view"]),
    ("consistent-view", &["cursor-stability"]),
    ("forward-consistent-view", &["consistent-view"]),
    (
        "repeatable-read",
        &["cursor-stability", "monotonic-atomic-view"],
    ),
    ("update-serializable", &["forward-consistent-view"]),
    // Elle reaches read atomic through Cerone's parallel snapshot isolation and prefix.
    (
        "snapshot-isolation",
        &[
            "forward-consistent-view",
            "monotonic-atomic-view",
            "read-atomic",
        ],
    ),
    (
        "serializable",
        &[
            "repeatable-read",
            "snapshot-isolation",
            "update-serializable",
        ],
    ),
    // Elle's session (process order) and strong (real-time order) variants.
    ("strong-session-read-uncommitted", &["read-uncommitted"]),
    (
        "strong-session-read-committed",
        &["read-committed", "strong-session-read-uncommitted"],
    ),
    (
        "strong-read-uncommitted",
        &["strong-session-read-uncommitted"],
    ),
    (
        "strong-read-committed",
        &["strong-session-read-committed", "strong-read-uncommitted"],
    ),
    (
        "strong-session-snapshot-isolation",
        &["snapshot-isolation", "strong-session-read-committed"],
    ),
    (
        "strong-session-serializable",
        &["serializable", "strong-session-snapshot-isolation"],
    ),
    (
        "strong-snapshot-isolation",
        &["strong-session-snapshot-isolation", "strong-read-committed"],
    ),
    (
        "strict-serializable",
        &[
            "serializable",
            "snapshot-isolation",
            "strong-snapshot-isolation",
            "strong-session-serializable",
        ],
    ),
];

/// `(model, [anomaly ...])`: what a model proscribes beyond the models it implies.
pub const PROSCRIBED: &[(&str, &[&str])] = &[
    // Adya; a version order is total, and an append is unique.
    (
        "read-uncommitted",
        &["G0", "duplicate-elements", "cyclic-versions"],
    ),
    ("read-committed", &["G1"]),
    ("cursor-stability", &["G1", "lost-update"]),
    // Cerone: a transaction reads its own writes (INT) and a snapshot (EXT).
    ("read-atomic", &["internal", "G1a", "future-read"]),
    ("consistent-view", &["G1", "G-single"]),
    ("forward-consistent-view", &["G1"]),
    ("repeatable-read", &["G1", "G2-item", "lost-update"]),
    ("update-serializable", &["G1"]),
    // Generalized SI forbids every cycle whose rw edges are not adjacent (Cerone & Gotsman).
    ("snapshot-isolation", &["internal", "G1", "G-nonadjacent"]),
    ("serializable", &["internal", "G1", "G2"]),
    ("strong-session-read-uncommitted", &["G0-process"]),
    ("strong-session-read-committed", &["G1c-process"]),
    ("strong-read-uncommitted", &["G0-realtime"]),
    ("strong-read-committed", &["G1c-realtime"]),
    (
        "strong-session-snapshot-isolation",
        &["internal", "G1-process", "G-nonadjacent-process"],
    ),
    ("strong-session-serializable", &["G1-process", "G2-process"]),
    (
        "strong-snapshot-isolation",
        &["internal", "G1-realtime", "G-nonadjacent-realtime"],
    ),
    (
        "strict-serializable",
        &["G1", "G1c-realtime", "G2-realtime"],
    ),
];

/// `(name, model)`: other names Elle accepts for a model (Adya's, and its own aliases).
pub const ALIASES: &[(&str, &str)] = &[
    ("PL-1", "read-uncommitted"),
    ("PL-2", "read-committed"),
    ("PL-CS", "cursor-stability"),
    ("PL-2+", "consistent-view"),
    ("PL-FCV", "forward-consistent-view"),
    ("PL-2.99", "repeatable-read"),
    ("PL-3U", "update-serializable"),
    ("PL-SI", "snapshot-isolation"),
    ("PL-3", "serializable"),
    ("conflict-serializable", "serializable"),
    ("PL-SS", "strict-serializable"),
    ("strong-serializable", "strict-serializable"),
];

/// The model `name` names, if it names one.
pub fn canonical(name: &str) -> Option<&'static str> {
    let model = MODELS.iter().map(|&(m, _)| m).find(|&m| m == name);
    model.or_else(|| ALIASES.iter().find(|&&(a, _)| a == name).map(|&(_, m)| m))
}

/// Whether `name` is a model this module knows, by its name or an alias.
pub fn is_model(name: &str) -> bool {
    canonical(name).is_some()
}

/// `start` and every node reachable from it along `graph`'s edges.
fn reachable<'a>(
    graph: &[(&'static str, &'static [&'static str])],
    start: &'a str,
) -> Vec<&'a str> {
    let mut seen = vec![start];
    let mut next = 0;
    while let Some(&node) = seen.get(next) {
        next += 1;
        let out = graph
            .iter()
            .find(|&&(n, _)| n == node)
            .map_or(&[][..], |&(_, out)| out);
        for &n in out {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
    }
    seen
}

/// Whether `model` forbids `anomaly`: some model it implies proscribes some anomaly `anomaly`
/// implies.
pub fn forbids(model: &str, anomaly: &str) -> bool {
    let Some(model) = canonical(model) else {
        return false;
    };
    let implied = reachable(IMPLIED_ANOMALIES, anomaly);
    reachable(MODELS, model).iter().any(|&m| {
        PROSCRIBED
            .iter()
            .filter(|&&(p, _)| p == m)
            .any(|(_, proscribed)| proscribed.iter().any(|a| implied.contains(a)))
    })
}

/// The models these anomalies rule out, weakest first.
pub fn ruled_out<'a>(anomalies: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let mut found: Vec<&str> = anomalies.into_iter().collect();
    found.sort_unstable();
    found.dedup();
    MODELS
        .iter()
        .map(|&(model, _)| model)
        .filter(|model| found.iter().any(|a| forbids(model, a)))
        .collect()
}

/// Elle's `:not` and `:also-not`: of the models ruled out, the weakest ones (implying no other
/// model ruled out), and the rest.
pub fn weakest(ruled_out: &[&'static str]) -> (Vec<&'static str>, Vec<&'static str>) {
    let implies_another = |m: &str| {
        reachable(MODELS, m)[1..]
            .iter()
            .any(|w| ruled_out.contains(w))
    };
    ruled_out.iter().partition(|&&m| !implies_another(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elle's `boundary`: the weakest models the anomalies rule out, and the stronger ones.
    fn boundary(anomalies: &[&str]) -> (Vec<&'static str>, Vec<&'static str>) {
        weakest(&ruled_out(anomalies.iter().copied()))
    }

    #[test]
    fn the_tables_name_known_models_and_list_each_after_those_it_implies() {
        for (i, &(model, implied)) in MODELS.iter().enumerate() {
            for m in implied {
                let earlier = MODELS[..i].iter().any(|&(e, _)| e == *m);
                assert!(
                    earlier,
                    "{model} implies {m}, listed after it or not at all"
                );
            }
        }
        for (model, _) in PROSCRIBED {
            assert!(MODELS.iter().any(|(m, _)| m == model), "{model}");
        }
        for (alias, model) in ALIASES {
            assert!(MODELS.iter().any(|(m, _)| m == model), "{alias}: {model}");
        }
    }

    #[test]
    fn read_committed_and_repeatable_read_allow_internal_and_snapshot_isolation_does_not() {
        for model in ["read-uncommitted", "read-committed", "repeatable-read"] {
            assert!(!forbids(model, "internal"), "{model}");
        }
        for model in ["read-atomic", "snapshot-isolation", "serializable"] {
            assert!(forbids(model, "internal"), "{model}");
        }
        let stronger = [
            "snapshot-isolation",
            "serializable",
            "strong-session-snapshot-isolation",
            "strong-session-serializable",
            "strong-snapshot-isolation",
            "strict-serializable",
        ];
        assert_eq!(
            boundary(&["internal"]),
            (vec!["read-atomic"], stronger.to_vec())
        );
        assert_eq!(
            boundary(&["G2-item", "internal"]).0,
            ["read-atomic", "repeatable-read"]
        );
    }

    #[test]
    fn repeatable_read_and_snapshot_isolation_forbid_lost_update_and_read_committed_does_not() {
        for model in ["cursor-stability", "repeatable-read", "snapshot-isolation"] {
            assert!(forbids(model, "lost-update"), "{model}");
        }
        for model in ["read-committed", "read-atomic"] {
            assert!(!forbids(model, "lost-update"), "{model}");
        }
        // Lost update is G2-item, which snapshot isolation allows in general.
        assert!(!forbids("snapshot-isolation", "G2-item"));
        assert!(forbids("serializable", "lost-update"));
        assert_eq!(boundary(&["lost-update"]).0, ["cursor-stability"]);
    }

    #[test]
    fn g2_item_rules_out_repeatable_read_and_what_implies_it() {
        assert_eq!(
            boundary(&["G2-item"]),
            (
                vec!["repeatable-read"],
                vec![
                    "serializable",
                    "strong-session-serializable",
                    "strict-serializable"
                ]
            )
        );
    }

    #[test]
    fn g_single_on_items_rules_out_consistent_view_and_repeatable_read() {
        // Elle's repeatable read allows a G-single; over item edges it is G2-item (Adya).
        assert!(forbids("repeatable-read", "G-single"));
        assert!(forbids("repeatable-read", "G-nonadjacent"));
        assert!(!forbids("cursor-stability", "G-single"));
        assert!(forbids("snapshot-isolation", "G-single"));
        let also_not = [
            "forward-consistent-view",
            "update-serializable",
            "snapshot-isolation",
            "serializable",
            "strong-session-snapshot-isolation",
            "strong-session-serializable",
            "strong-snapshot-isolation",
            "strict-serializable",
        ];
        assert_eq!(
            boundary(&["G-single"]),
            (
                vec!["consistent-view", "repeatable-read"],
                also_not.to_vec()
            )
        );
        // Snapshot isolation forbids G-nonadjacent too; G2-item it allows.
        assert_eq!(
            boundary(&["G-nonadjacent"]).0,
            ["repeatable-read", "snapshot-isolation"]
        );
        assert!(!forbids("snapshot-isolation", "G2-item"));
    }

    #[test]
    fn process_and_real_time_variants_matter_only_to_session_and_strong_models() {
        assert!(forbids("strong-session-read-committed", "G1c-process"));
        assert!(!forbids("read-committed", "G1c-process"));
        assert!(!forbids("strong-session-read-committed", "G1c-realtime"));
        assert!(forbids("strong-read-committed", "G1c-realtime"));
        assert!(forbids("strong-session-read-uncommitted", "G0-process"));
        assert!(!forbids("strong-session-read-uncommitted", "G1c-process"));
        assert!(!forbids("serializable", "G-single-realtime"));
        assert!(forbids("strict-serializable", "G-single-realtime"));
        assert!(!forbids("strong-session-serializable", "G0-realtime"));
        assert!(forbids("strong-session-serializable", "G0-process"));
        assert_eq!(
            boundary(&["G-single-realtime"]),
            (
                vec!["strong-snapshot-isolation"],
                vec!["strict-serializable"]
            )
        );
    }

    #[test]
    fn read_committed_forbids_what_elle_says() {
        let known = IMPLIED_ANOMALIES
            .iter()
            .chain(PROSCRIBED)
            .flat_map(|&(a, b)| std::iter::once(a).chain(b.iter().copied()));
        let mut forbidden: Vec<&str> = known.filter(|a| forbids("read-committed", a)).collect();
        forbidden.sort_unstable();
        forbidden.dedup();
        assert_eq!(
            forbidden,
            [
                "G0",
                "G1",
                "G1a",
                "G1b",
                "G1c",
                "cyclic-versions",
                "dirty-update",
                "duplicate-elements",
                "future-read",
                "incompatible-order"
            ]
        );
    }

    #[test]
    fn g1a_rules_out_read_committed_and_cyclic_versions_read_uncommitted() {
        let (not, also_not) = boundary(&["dirty-update"]);
        assert_eq!(not, ["read-committed"]);
        assert!(
            !also_not.contains(&"strong-read-uncommitted"),
            "{also_not:?}"
        );
        assert_eq!(also_not.len(), MODELS.len() - 4, "{also_not:?}");
        let (not, also_not) = boundary(&["cyclic-versions"]);
        assert_eq!(not, ["read-uncommitted"]);
        assert_eq!(also_not.len(), MODELS.len() - 1);
        assert!(!forbids("read-uncommitted", "incompatible-order"));
        assert!(forbids("read-uncommitted", "duplicate-elements"));
    }

    #[test]
    fn elles_other_names_are_the_same_models() {
        assert_eq!(canonical("PL-2.99"), Some("repeatable-read"));
        assert_eq!(
            canonical("strong-serializable"),
            Some("strict-serializable")
        );
        assert!(forbids("conflict-serializable", "G2-item"));
        assert!(!forbids("PL-SI", "G2-item"));
        assert!(!is_model("serialisable"));
        assert!(!forbids("serialisable", "G0"));
    }
}
