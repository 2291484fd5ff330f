//! Partition shapes (Jepsen's grudges): which directed links a partition cuts. Pure: the
//! backends turn a [`Cuts`] into DROP rules (docker) or hook commands (command).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rand::Rng;
use rand::seq::SliceRandom;

/// How a partition divides the nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Cut the target nodes off from the rest, both ways (Jepsen's `partition-random-node`
    /// with target `one`).
    Isolate,
    /// Two random halves that cannot reach each other (Jepsen's `partition-random-halves`).
    Halves,
    /// Every node sees a majority, and no two nodes see the same one (Jepsen's
    /// `partition-majorities-ring`). Needs at least four nodes.
    MajoritiesRing,
    /// Two halves joined by one node that sees both (Jepsen's `bridge`). Needs three nodes.
    Bridge,
    /// The target nodes cannot reach the others; the others still reach them.
    OneWay,
}

impl Shape {
    pub const NAMES: &'static [&'static str] =
        &["isolate", "halves", "majorities-ring", "bridge", "one-way"];

    pub fn from_name(name: &str) -> Option<Shape> {
        match name {
            "isolate" => Some(Shape::Isolate),
            "halves" => Some(Shape::Halves),
            "majorities-ring" => Some(Shape::MajoritiesRing),
            "bridge" => Some(Shape::Bridge),
            "one-way" => Some(Shape::OneWay),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Shape::NAMES[self as usize]
    }

    /// Whether the nodes it cuts come from the fault's target (the other shapes place every
    /// node themselves).
    pub fn uses_target(self) -> bool {
        matches!(self, Shape::Isolate | Shape::OneWay)
    }

    /// The fewest nodes this shape can divide, so validation can say so up front.
    pub fn min_nodes(self) -> usize {
        match self {
            Shape::Isolate | Shape::Halves | Shape::OneWay => 2,
            Shape::Bridge => 3,
            Shape::MajoritiesRing => 4,
        }
    }

    /// The links this shape cuts among `nodes`; `side` (picked by the fault's target) is
    /// the cut-off side of isolate and one-way, and ignored by the other shapes. Random
    /// choices come from `rng`, so a seed pins them.
    pub fn cuts(self, nodes: &[String], side: &[String], rng: &mut impl Rng) -> Cuts {
        let mut cuts = Cuts::default();
        match self {
            Shape::Isolate | Shape::OneWay => {
                let rest: Vec<&String> = nodes.iter().filter(|n| !side.contains(n)).collect();
                for a in side {
                    for b in &rest {
                        cuts.cut(a, b);
                        if self == Shape::Isolate {
                            cuts.cut(b, a);
                        }
                    }
                }
            }
            Shape::Halves | Shape::Bridge => {
                let mut shuffled = nodes.to_vec();
                shuffled.shuffle(rng);
                let half = shuffled.len() / 2;
                let (a, b) = shuffled.split_at(half);
                // The bridge is the first node of the larger half; it keeps every link.
                let b = if self == Shape::Bridge { &b[1..] } else { b };
                for x in a {
                    for y in b {
                        cuts.cut(x, y);
                        cuts.cut(y, x);
                    }
                }
            }
            Shape::MajoritiesRing => {
                let mut ring = nodes.to_vec();
                ring.shuffle(rng);
                let n = ring.len();
                // Each node sees itself and the `reach` nearest on each side: with
                // reach = majority / 2 that is at least a majority, and since every window
                // is centred on a different node, no two windows are the same.
                let majority = n / 2 + 1;
                let reach = majority / 2;
                for i in 0..n {
                    for j in 0..n {
                        let d = i.abs_diff(j);
                        if d.min(n - d) > reach {
                            cuts.cut(&ring[i], &ring[j]);
                        }
                    }
                }
            }
        }
        cuts
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Directed cuts: `from → to` in the set means `from` cannot reach `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cuts {
    links: BTreeSet<(String, String)>,
}

impl Cuts {
    fn cut(&mut self, from: &str, to: &str) {
        if from != to {
            self.links.insert((from.to_owned(), to.to_owned()));
        }
    }

    /// Every link cut by any of `all`: the partitions in force together.
    pub fn union<'a>(all: impl IntoIterator<Item = &'a Cuts>) -> Cuts {
        let links = all
            .into_iter()
            .flat_map(|c| c.links.iter().cloned())
            .collect();
        Cuts { links }
    }

    pub fn is_cut(&self, from: &str, to: &str) -> bool {
        self.links.contains(&(from.to_owned(), to.to_owned()))
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// For each node that must refuse traffic: the peers it refuses, and whether it refuses
    /// only what they initiate (the link back is still open, a one-way cut) or everything.
    pub fn grudges(&self) -> BTreeMap<String, Vec<Refuse>> {
        let mut out: BTreeMap<String, Vec<Refuse>> = BTreeMap::new();
        for (from, to) in &self.links {
            out.entry(to.clone()).or_default().push(Refuse {
                peer: from.clone(),
                only_initiated: !self.is_cut(to, from),
            });
        }
        out
    }

    /// Every node that loses a link, sorted.
    pub fn nodes(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.links.iter().flat_map(|(a, b)| [a, b]).collect();
        set.into_iter().cloned().collect()
    }

    /// `{"n1": ["n3", "n4"], ...}`: each node and the nodes it cannot reach, for the history.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, to) in &self.links {
            map.entry(from).or_default().push(to);
        }
        serde_json::json!(map)
    }
}

/// One rule on a node: drop packets from `peer` (all of them, or only on connections `peer`
/// opened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refuse {
    pub peer: String,
    pub only_initiated: bool,
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn side(name: &str) -> Vec<String> {
        vec![name.to_owned()]
    }

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    /// Who `node` can reach (itself included).
    fn sees(cuts: &Cuts, all: &[String], node: &str) -> BTreeSet<String> {
        all.iter()
            .filter(|p| !cuts.is_cut(node, p))
            .cloned()
            .collect()
    }

    fn symmetric(cuts: &Cuts, all: &[String]) -> bool {
        all.iter()
            .all(|a| all.iter().all(|b| cuts.is_cut(a, b) == cuts.is_cut(b, a)))
    }

    #[test]
    fn isolate_cuts_the_target_off_both_ways_and_nothing_else() {
        let all = nodes(5);
        let cuts = Shape::Isolate.cuts(&all, &side("n2"), &mut ChaCha8Rng::seed_from_u64(1));
        for a in &all {
            for b in &all {
                let expected = a != b && (a == "n2" || b == "n2");
                assert_eq!(cuts.is_cut(a, b), expected, "{a} → {b}");
            }
        }
    }

    #[test]
    fn halves_split_every_node_into_one_of_two_sides() {
        for n in 2..9 {
            let all = nodes(n);
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
            let cuts = Shape::Halves.cuts(&all, &[], &mut rng);
            assert!(symmetric(&cuts, &all));
            let sides: BTreeSet<BTreeSet<String>> =
                all.iter().map(|a| sees(&cuts, &all, a)).collect();
            assert_eq!(sides.len(), 2, "{n} nodes: {sides:?}");
            let sizes: Vec<usize> = sides.iter().map(BTreeSet::len).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| s.abs_diff(n - s) <= 1), "{sizes:?}");
        }
    }

    #[test]
    fn majorities_ring_gives_every_node_a_different_majority() {
        for n in 4..12 {
            let all = nodes(n);
            let cuts = Shape::MajoritiesRing.cuts(&all, &[], &mut ChaCha8Rng::seed_from_u64(7));
            assert!(symmetric(&cuts, &all));
            let views: Vec<BTreeSet<String>> = all.iter().map(|a| sees(&cuts, &all, a)).collect();
            for view in &views {
                assert!(view.len() > n / 2, "{n} nodes: {view:?} is no majority");
                assert!(view.len() < n, "{n} nodes: {view:?} sees everyone");
            }
            let distinct: BTreeSet<_> = views.iter().collect();
            assert_eq!(
                distinct.len(),
                n,
                "{n} nodes: two nodes see the same majority"
            );
        }
    }

    #[test]
    fn bridge_keeps_one_node_linked_to_both_halves() {
        for n in 3..9 {
            let all = nodes(n);
            let cuts = Shape::Bridge.cuts(&all, &[], &mut ChaCha8Rng::seed_from_u64(3));
            assert!(symmetric(&cuts, &all));
            let bridges: Vec<&String> = all
                .iter()
                .filter(|a| sees(&cuts, &all, a).len() == n)
                .collect();
            assert_eq!(bridges.len(), 1, "{n} nodes: {cuts:?}");
            let others: BTreeSet<BTreeSet<String>> = all
                .iter()
                .filter(|a| a != &bridges[0])
                .map(|a| sees(&cuts, &all, a))
                .collect();
            assert_eq!(others.len(), 2, "two sides, each with the bridge");
            assert!(others.iter().all(|side| side.contains(bridges[0])));
        }
    }

    #[test]
    fn one_way_cuts_only_the_targets_outbound_links() {
        let all = nodes(4);
        let cuts = Shape::OneWay.cuts(&all, &side("n1"), &mut ChaCha8Rng::seed_from_u64(1));
        for peer in ["n2", "n3", "n4"] {
            assert!(cuts.is_cut("n1", peer));
            assert!(!cuts.is_cut(peer, "n1"));
        }
        assert!(!cuts.is_cut("n2", "n3"));
        // The rule lands on each peer, refusing only what n1 opens.
        let grudges = cuts.grudges();
        assert_eq!(grudges.keys().collect::<Vec<_>>(), ["n2", "n3", "n4"]);
        let expected = vec![Refuse {
            peer: "n1".into(),
            only_initiated: true,
        }];
        assert!(grudges.values().all(|g| *g == expected));
    }

    #[test]
    fn grudges_of_a_two_way_cut_refuse_everything() {
        let all = nodes(3);
        let cuts = Shape::Isolate.cuts(&all, &side("n3"), &mut ChaCha8Rng::seed_from_u64(1));
        let grudges = cuts.grudges();
        assert_eq!(grudges["n3"].len(), 2);
        assert!(grudges.values().flatten().all(|r| !r.only_initiated));
        assert_eq!(cuts.nodes(), all);
        assert_eq!(
            cuts.to_json(),
            serde_json::json!({"n1": ["n3"], "n2": ["n3"], "n3": ["n1", "n2"]})
        );
    }

    #[test]
    fn a_one_way_cut_and_its_reverse_together_refuse_everything() {
        let all = nodes(3);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let out = Shape::OneWay.cuts(&all, &side("n1"), &mut rng);
        let back = Shape::Isolate.cuts(&all, &side("n2"), &mut rng);
        let both = Cuts::union([&out, &back]);
        let n2 = &both.grudges()["n2"];
        assert_eq!(
            n2,
            &[
                Refuse {
                    peer: "n1".into(),
                    only_initiated: false
                },
                Refuse {
                    peer: "n3".into(),
                    only_initiated: false
                }
            ]
        );
        assert_eq!(Cuts::union([]), Cuts::default());
    }

    #[test]
    fn the_same_seed_cuts_the_same_links() {
        let cut = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Shape::MajoritiesRing.cuts(&nodes(7), &[], &mut rng)
        };
        assert_eq!(cut(5), cut(5));
        assert_ne!(cut(5), cut(6));
    }
}
