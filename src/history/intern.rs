//! Name interning for readers: a history of millions of events names a handful of functions
//! and nodes, so each distinct name is allocated once and shared.

use std::collections::HashSet;

use super::Name;

/// How many names are looked up by a linear scan before hashing pays off.
const FEW: usize = 16;

/// Hands out one shared [`Name`] per distinct string.
#[derive(Debug, Default)]
pub struct Interner {
    /// The first names seen: most histories have fewer, and a scan beats hashing them.
    few: Vec<Name>,
    many: HashSet<Name>,
}

impl Interner {
    /// The shared name equal to `s`, allocated the first time it is seen.
    pub fn intern(&mut self, s: &str) -> Name {
        if let Some(name) = self.few.iter().find(|name| ***name == *s) {
            return name.clone();
        }
        if let Some(name) = self.many.get(s) {
            return name.clone();
        }
        let name: Name = s.into();
        if self.few.len() < FEW {
            self.few.push(name.clone());
        } else {
            self.many.insert(name.clone());
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn equal_names_share_one_allocation() {
        let mut interner = Interner::default();
        let a = interner.intern("add");
        let b = interner.intern("add");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &interner.intern("read")));
    }
}
