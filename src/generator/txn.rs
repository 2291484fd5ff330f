//! Transactions the way Elle's generators make them (Elle 2020, `elle.list-append/gen` and
//! `elle.rw-register/gen`): each txn is 1..=max_txn_length micro-ops on a pool of active
//! keys; an `append` (list-append) or `w` (rw-register) writes a value unique to its key, the
//! next of 1, 2, 3 ...; a read is `["r", k, null]`. A key retires after max_writes_per_key
//! writes and a fresh key takes its place, so lists stay short and reads stay cheap to check.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::checker::elle::txn::Shape;
use crate::history::Value;

/// What the txn generator draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnSpec {
    pub shape: Shape,
    /// How many keys are active at once.
    pub keys: u32,
    /// Micro-ops per txn, at most (at least 1).
    pub max_txn_length: u32,
    /// Writes a key takes before it retires.
    pub max_writes_per_key: u32,
}

/// The generator's state: the active keys and each one's writes so far.
#[derive(Clone, Debug)]
pub struct TxnGen {
    spec: TxnSpec,
    /// Active keys with the number of values written to each so far.
    active: Vec<(i64, u32)>,
    next_key: i64,
}

impl TxnGen {
    pub fn new(spec: TxnSpec) -> TxnGen {
        let keys = i64::from(spec.keys);
        TxnGen {
            spec,
            active: (0..keys).map(|k| (k, 0)).collect(),
            next_key: keys,
        }
    }

    /// The next txn: a list of micro-ops `[f, k, v]`.
    pub fn next_txn(&mut self, rng: &mut ChaCha8Rng) -> Value {
        let length = rng.gen_range(1..=self.spec.max_txn_length);
        Value::list((0..length).map(|_| self.next_micro(rng)))
    }

    fn next_micro(&mut self, rng: &mut ChaCha8Rng) -> Value {
        let slot = rng.gen_range(0..self.active.len());
        let (key, written) = self.active[slot];
        if rng.gen_bool(0.5) {
            return micro("r", key, Value::Nil);
        }
        let f = match self.spec.shape {
            Shape::ListAppend => "append",
            Shape::RwRegister => "w",
        };
        let value = i64::from(written) + 1;
        self.active[slot].1 += 1;
        if self.active[slot].1 >= self.spec.max_writes_per_key {
            self.active[slot] = (self.next_key, 0);
            self.next_key += 1;
        }
        micro(f, key, Value::Int(value))
    }
}

fn micro(f: &str, key: i64, value: Value) -> Value {
    Value::list(vec![Value::from(f), Value::Int(key), value])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::SeedableRng;

    use super::*;

    fn txns(shape: Shape, n: usize) -> Vec<Value> {
        let spec = TxnSpec {
            shape,
            keys: 3,
            max_txn_length: 4,
            max_writes_per_key: 5,
        };
        let (mut g, mut rng) = (TxnGen::new(spec), ChaCha8Rng::seed_from_u64(1));
        (0..n).map(|_| g.next_txn(&mut rng)).collect()
    }

    /// (f, key, value) of every micro-op, in order.
    fn micros(txns: &[Value]) -> Vec<(String, i64, Value)> {
        let list = |v: &Value| v.as_list().expect("a list").to_vec();
        txns.iter()
            .flat_map(&list)
            .map(|m| {
                let m = list(&m);
                let f = m[0].as_str().expect("f").to_owned();
                (f, m[1].as_int().expect("key"), m[2].clone())
            })
            .collect()
    }

    #[test]
    fn appends_write_1_2_3_to_each_key_and_a_key_retires_after_max_writes() {
        let all = txns(Shape::ListAppend, 500);
        assert!(
            all.iter()
                .all(|t| (1..=4).contains(&t.as_list().unwrap().len()))
        );
        let mut written: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (f, k, v) in micros(&all) {
            match f.as_str() {
                "r" => assert!(v.is_nil()),
                "append" => written.entry(k).or_default().push(v.as_int().unwrap()),
                other => panic!("unexpected micro-op {other}"),
            }
        }
        let retired: Vec<_> = written.values().filter(|vs| vs.len() == 5).collect();
        assert!(retired.len() > 10, "{written:?}");
        assert!(
            written
                .values()
                .all(|vs| *vs == (1..=vs.len() as i64).collect::<Vec<_>>())
        );
    }

    #[test]
    fn rw_register_writes_with_w_and_the_same_seed_gives_the_same_txns() {
        let all = txns(Shape::RwRegister, 200);
        assert_eq!(all, txns(Shape::RwRegister, 200));
        let fs: std::collections::BTreeSet<_> = micros(&all).into_iter().map(|m| m.0).collect();
        assert_eq!(fs.into_iter().collect::<Vec<_>>(), ["r", "w"]);
    }
}
