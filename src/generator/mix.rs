//! The main-phase generator: picks each operation from the workload's mix and gives it a value.
//! Workers draw from one shared generator in turn, so the n-th operation of a run depends only
//! on the seed (which worker performs it depends on timing).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::checker::Model;
use crate::history::{Name, Value};
use crate::workload::{Plan, ValueSpec};

/// The seeded source of main-phase operations.
#[derive(Debug)]
pub struct Generator {
    rng: ChaCha8Rng,
    /// Operation names with their cumulative shares; the last share is 1.
    mix: Vec<(Name, f64)>,
    values: ValueSpec,
    /// Ops that carry no value: the model's reads (none for a custom model, whose ops are
    /// all writes); view reads (`view:NAME`) never do.
    valueless: &'static [&'static str],
    next_unique: i64,
    /// Transactions' keys and values (list-append, rw-register).
    txn: Option<super::TxnGen>,
}

impl Generator {
    /// A generator for the plan's mix and values, seeded with the plan's seed.
    pub fn new(plan: &Plan) -> Generator {
        let total: f64 = plan.mix.iter().map(|(_, w)| w).sum();
        let mut acc = 0.0;
        let mix = plan
            .mix
            .iter()
            .filter(|(_, w)| *w > 0.0)
            .map(|(f, w)| {
                acc += w / total;
                (f.clone(), acc)
            })
            .collect();
        Generator {
            rng: ChaCha8Rng::seed_from_u64(plan.seed),
            mix,
            values: plan.values.clone(),
            valueless: match plan.model {
                Model::Custom { .. } => &[],
                _ => &["read", "dequeue", "generate", "get"],
            },
            next_unique: 0,
            txn: match plan.values {
                ValueSpec::Txn(spec) => Some(super::TxnGen::new(spec)),
                _ => None,
            },
        }
    }

    /// The next operation: its name and the value to invoke it with (for a keyed model, the
    /// value without its key: see [`Generator::next_keyed`]).
    pub fn next_op(&mut self) -> (Name, Value) {
        let (f, _key, value) = self.next_keyed();
        (f, value)
    }

    /// The next operation: its name, its key (`Nil` unless the model has keys: a register's
    /// is an integer in `0..keys`) and the value to invoke it with.
    pub fn next_keyed(&mut self) -> (Name, Value, Value) {
        let x: f64 = self.rng.r#gen();
        let f = self
            .mix
            .iter()
            .find(|(_, share)| x < *share)
            .or(self.mix.last())
            .map(|(f, _)| f.clone())
            .expect("validation guarantees a mix with a positive weight");
        let key = match self.values {
            ValueSpec::Register { keys, .. } | ValueSpec::Kv { keys, .. } => {
                Value::Int(self.rng.gen_range(0..i64::from(keys)))
            }
            _ => Value::Nil,
        };
        let value = self.value_for(&f);
        (f, key, value)
    }

    /// Reads, dequeues and view reads carry no value; writes get one from the value spec.
    fn value_for(&mut self, f: &str) -> Value {
        if self.valueless.contains(&f) || f.starts_with("view:") {
            return Value::Nil;
        }
        match self.values {
            ValueSpec::Unique => {
                self.next_unique += 1;
                Value::Int(self.next_unique - 1)
            }
            ValueSpec::Range { min, max } => Value::Int(self.rng.gen_range(min..=max)),
            ValueSpec::None => Value::Nil,
            ValueSpec::Txn(_) => self
                .txn
                .as_mut()
                .expect("made with the generator for a txn spec")
                .next_txn(&mut self.rng),
            // A cas compares against one drawn value and sets another: `[from to]`.
            ValueSpec::Register { min, max, .. } if f == "cas" => Value::list(vec![
                Value::Int(self.rng.gen_range(min..=max)),
                Value::Int(self.rng.gen_range(min..=max)),
            ]),
            ValueSpec::Register { min, max, .. } => Value::Int(self.rng.gen_range(min..=max)),
            ValueSpec::Kv { tokens: None, .. } => {
                self.next_unique += 1;
                kv_token(self.next_unique - 1)
            }
            ValueSpec::Kv {
                tokens: Some((min, max)),
                ..
            } => kv_token(self.rng.gen_range(min..=max)),
            ValueSpec::Transfers {
                ref accounts,
                max_amount,
            } => {
                let from = self.rng.gen_range(0..accounts.len());
                // Uniform over the others: draw among n - 1 and skip `from`.
                let mut to = self.rng.gen_range(0..accounts.len() - 1);
                if to >= from {
                    to += 1;
                }
                let amount = self.rng.gen_range(1..=max_amount);
                let entry = |k: &str, v: Value| (Value::from(k), v);
                Value::Map(
                    vec![
                        entry("from", accounts[from].clone()),
                        entry("to", accounts[to].clone()),
                        entry("amount", Value::Int(amount)),
                    ]
                    .into(),
                )
            }
        }
    }
}

/// A kv put's or append's value: `"x N y"`, the shape of Porcupine's kv tests, so that the
/// appends a key's string holds can be told apart and put in order.
fn kv_token(n: i64) -> Value {
    Value::from(format!("x {n} y").as_str())
}

/// What the final phase does after the quiet period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalPhase {
    /// `final_reads` reads of this operation (sets, counters).
    Reads(&'static str),
    /// This operation repeated until it fails: the queue is empty.
    Drain(&'static str),
}

/// The final phase of a model; none for unique ids.
pub fn final_phase_of(model: &Model) -> Option<FinalPhase> {
    match model {
        Model::Set { .. } | Model::Counter => Some(FinalPhase::Reads("read")),
        Model::Queue { .. } => Some(FinalPhase::Drain("dequeue")),
        Model::Bank { .. } => Some(FinalPhase::Reads("read")),
        Model::UniqueIds | Model::Custom { .. } | Model::Linear { .. } | Model::Elle(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn plan(seed: u64) -> Plan {
        let text = include_str!("../../workloads/toyset-counter.toml");
        let mut plan = Plan::from_toml(text, Path::new("toyset-counter.toml")).expect("valid");
        plan.seed = seed;
        plan
    }

    fn first(n: usize, seed: u64) -> Vec<(Name, Value)> {
        let mut g = Generator::new(&plan(seed));
        (0..n).map(|_| g.next_op()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_operations_and_another_seed_does_not() {
        assert_eq!(first(1000, 7), first(1000, 7));
        assert_ne!(first(1000, 7), first(1000, 8));
    }

    #[test]
    fn transfers_move_1_to_max_amount_between_two_different_accounts_uniformly() {
        let text = include_str!("../../workloads/replicas-bank.toml");
        let mut plan = Plan::from_toml(text, Path::new("replicas-bank.toml")).expect("valid");
        plan.seed = 3;
        let mut g = Generator::new(&plan);
        let mut pairs = std::collections::BTreeMap::new();
        let mut amounts = std::collections::BTreeSet::new();
        for _ in 0..20_000 {
            let (f, value) = g.next_op();
            if &*f == "read" {
                assert!(value.is_nil());
                continue;
            }
            let field = |k: &str| {
                let Value::Map(entries) = &value else {
                    panic!("a transfer's value is a map, found {value}")
                };
                entries
                    .iter()
                    .find(|(key, _)| key.as_str() == Some(k))
                    .expect("a field")
                    .1
                    .clone()
            };
            let (from, to) = (
                field("from").as_int().unwrap(),
                field("to").as_int().unwrap(),
            );
            assert_ne!(from, to);
            amounts.insert(field("amount").as_int().unwrap());
            *pairs.entry((from, to)).or_insert(0u32) += 1;
        }
        assert_eq!(amounts.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        // 5 accounts: 20 ordered pairs, each about 1/20 of some 16 000 transfers.
        assert_eq!(pairs.len(), 20, "{pairs:?}");
        assert!(pairs.values().all(|n| (600..1000).contains(n)), "{pairs:?}");
    }

    #[test]
    fn a_register_draws_keys_values_and_cas_pairs_from_its_ranges() {
        let text = include_str!("../../workloads/etcd-register.toml")
            .replacen("keys = 1 ", "keys = 3 ", 1)
            .replacen("max = 4", "max = 2", 1);
        let mut plan = Plan::from_toml(&text, Path::new("etcd-register.toml")).expect("valid");
        plan.seed = 5;
        let mut g = Generator::new(&plan);
        let mut keys = std::collections::BTreeSet::new();
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..4_000 {
            let (f, key, value) = g.next_keyed();
            keys.insert(key.as_int().expect("an integer key"));
            let in_range = |v: &Value| v.as_int().is_some_and(|i| (0..=2).contains(&i));
            match &*f {
                "read" => assert!(value.is_nil()),
                "write" => assert!(in_range(&value), "{value}"),
                "cas" => {
                    let pair = value.as_list().expect("[from to]");
                    assert!(pair.len() == 2 && pair.iter().all(in_range), "{value}");
                }
                other => panic!("unexpected op {other}"),
            }
            *counts.entry(f.to_string()).or_insert(0u32) += 1;
        }
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
        // read 0.5, write 0.25, cas 0.25
        assert!((1_800..2_200).contains(&counts["read"]), "{counts:?}");
        assert!((850..1_150).contains(&counts["cas"]), "{counts:?}");
    }

    #[test]
    fn the_mix_and_the_value_range_are_followed() {
        let ops = first(10_000, 1);
        let adds = ops.iter().filter(|(f, _)| &**f == "add").count();
        assert!(
            (7_700..8_300).contains(&adds),
            "about 80 % adds, got {adds}"
        );
        let plan = plan(1);
        let ValueSpec::Range { min, max } = plan.values else {
            panic!("a counter has a value range")
        };
        assert!(ops.iter().all(|(f, v)| &**f == "read" && v.is_nil()
            || v.as_int().is_some_and(|i| (min..=max).contains(&i))));
    }
}
