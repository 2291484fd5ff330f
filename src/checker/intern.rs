//! Interning history values (set elements, queue items, ids) to dense `u32` ids, so checkers
//! keep per-element state in flat vectors instead of hash maps keyed by [`Value`].
//!
//! Workloads almost always use integers drawn from a compact range (a counter of added
//! elements), so integers inside the range seen while seeding go through a direct table;
//! other integers and every other value go through hash maps.

use rustc_hash::FxHashMap;

use crate::history::Value;

/// No id: a sentinel for "absent" in `u32` slots that hold ids or positions.
pub const NONE: u32 = u32::MAX;

/// Maps values to ids `0..len()` in first-seen order and back.
#[derive(Debug, Default)]
pub struct Interner<'h> {
    /// `table[i - base]` is the id of integer `i`, or [`NONE`].
    table: Vec<u32>,
    base: i64,
    ints: FxHashMap<i64, u32>,
    others: FxHashMap<&'h Value, u32>,
    values: Vec<&'h Value>,
}

impl<'h> Interner<'h> {
    /// An interner whose direct table covers the integers among `seed` when they are dense
    /// enough (range at most four times their number, plus slack).
    pub fn seeded(seed: impl Iterator<Item = &'h Value>) -> Interner<'h> {
        let (mut lo, mut hi, mut n) = (i64::MAX, i64::MIN, 0u64);
        for i in seed.filter_map(as_integer) {
            (lo, hi, n) = (lo.min(i), hi.max(i), n + 1);
        }
        let mut interner = Interner::default();
        let range = (hi as i128) - (lo as i128) + 1;
        if n > 0 && range <= 4 * n as i128 + 1024 && range < NONE as i128 {
            interner.table = vec![NONE; range as usize];
            interner.base = lo;
        }
        interner
    }

    /// The id of `value`, assigning the next one if it is new.
    pub fn intern(&mut self, value: &'h Value) -> u32 {
        let next = self.values.len() as u32;
        let slot = match as_integer(value) {
            Some(i) => match self.table_slot(i) {
                Some(slot) => &mut self.table[slot],
                None => self.ints.entry(i).or_insert(NONE),
            },
            None => self.others.entry(value).or_insert(NONE),
        };
        if *slot == NONE {
            *slot = next;
            self.values.push(value);
        }
        *slot
    }

    /// The id of `value`, if it has one.
    pub fn get(&self, value: &Value) -> Option<u32> {
        let id = match as_integer(value) {
            Some(i) => match self.table_slot(i) {
                Some(slot) => self.table[slot],
                None => *self.ints.get(&i)?,
            },
            None => *self.others.get(value)?,
        };
        (id != NONE).then_some(id)
    }

    /// The value with this id.
    pub fn value(&self, id: u32) -> &'h Value {
        self.values[id as usize]
    }

    /// Frees the value → id lookups once interning is done; [`Interner::value`] still works,
    /// [`Interner::get`] no longer finds anything.
    pub fn forget_lookups(&mut self) {
        self.table = Vec::new();
        self.ints = FxHashMap::default();
        self.others = FxHashMap::default();
    }

    fn table_slot(&self, i: i64) -> Option<usize> {
        let offset = (i as i128) - (self.base as i128);
        (offset >= 0 && (offset as usize) < self.table.len()).then_some(offset as usize)
    }
}

/// The integer a value stands for: an `Int`, or a `Float` holding an exact integer (which
/// [`Value`]'s equality treats as the same element).
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        // -0.0 is not equal to 0 under `Value`'s total order, so it stays a float.
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 && !x.is_sign_negative() => {
            Some(*x as i64)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_an_id_and_ids_map_back() {
        let values = [Value::Int(5), Value::Int(7), Value::Float(5.0), "x".into()];
        let mut interner = Interner::seeded(values.iter());
        let ids: Vec<u32> = values.iter().map(|v| interner.intern(v)).collect();
        assert_eq!(ids, [0, 1, 0, 2]);
        assert_eq!(interner.value(1), &Value::Int(7));
        assert_eq!(interner.get(&Value::Int(9)), None);
    }

    #[test]
    fn integers_outside_the_seeded_range_still_intern() {
        let seed = [Value::Int(0), Value::Int(10)];
        let mut interner = Interner::seeded(seed.iter());
        let far = [Value::Int(-1_000_000_000_000), Value::Int(11)];
        assert_eq!(interner.intern(&far[0]), 0);
        assert_eq!(interner.intern(&far[1]), 1);
        assert_eq!(interner.get(&Value::Int(-1_000_000_000_000)), Some(0));
        assert_eq!(interner.value(1), &Value::Int(11));
    }
}
