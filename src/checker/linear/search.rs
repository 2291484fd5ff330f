//! The linearizability search for one key: Wing & Gong (1993) with Lowe's (2017) memo of
//! configurations and Horn & Kroening's (2015) P-compositionality, as Porcupine does it.
//!
//! Calls and returns are entries of a doubly linked list in real-time order. The search walks
//! the list from its head: at a call it tries to linearize that op now (the model must accept
//! it, and the pair (linearized set, state) must be new), lifting the op's call and return out
//! of the list and starting again from the head; at a return it has met an op that had to be
//! linearized before this point and could not be, so it backtracks (pops the last linearized
//! op, puts it back into the list and tries the next entry after it). The list empties when
//! every op is linearized. Ops with an unknown result have their return after every other
//! entry, so they may be linearized anywhere after their call, or last (never, in effect).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rustc_hash::FxHashSet;

use super::model::SeqModel;

/// One operation of one key, as the search sees it.
#[derive(Clone, Debug)]
pub struct Call<Op> {
    pub op: Op,
    /// Position of the op in the caller's list (for [`crate::history::History::ops`]).
    pub id: usize,
    /// When it was invoked and when it returned, in any one clock (history indexes);
    /// `u64::MAX` for an op whose result is unknown.
    pub call: u64,
    pub ret: u64,
}

/// When the search gives up.
#[derive(Clone, Copy, Debug)]
pub struct Limits<'a> {
    /// It stops at this instant.
    pub deadline: Option<Instant>,
    /// It stops when the memo holds more configurations than this.
    pub max_memo: usize,
    /// `(first, me)`: it stops when `first` drops below `me` (a key before this one was
    /// found nonlinearizable).
    pub stop: Option<(&'a AtomicUsize, usize)>,
}

/// How the search for one key ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found<S> {
    Linearizable,
    Violation(Witness<S>),
    /// It hit a limit; the reason names it.
    Unknown(String),
    /// It was told to stop before it decided.
    Stopped,
}

/// Why a key's history is not linearizable, as far as the search got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness<S> {
    /// The longest linearizable prefix found: indexes into the calls, in linearization order.
    pub prefix: Vec<usize>,
    /// The call that had to come next after that prefix (its return was reached) and that no
    /// order of the pending ops let the model accept.
    pub blocked: usize,
    /// The states the object could be in when `blocked` had to take effect, after a longest
    /// prefix (up to [`MAX_STATES`]).
    pub states: Vec<S>,
}

/// At most this many states are kept in a witness.
pub const MAX_STATES: usize = 32;

const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

/// The entries in real-time order as a doubly linked list over arrays (node 0 the head).
struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// For a node: the call it belongs to.
    call_of: Vec<u32>,
    /// For a call node: its return node; for a return node: `NIL`.
    ret_of: Vec<u32>,
}

impl Entries {
    fn new<Op>(calls: &[Call<Op>]) -> Entries {
        // (time, is return, call): calls before returns at the same time, so that ops
        // touching in time count as concurrent, as in Porcupine.
        let mut order: Vec<(u64, bool, u32)> = Vec::with_capacity(calls.len() * 2);
        for (i, c) in calls.iter().enumerate() {
            order.push((c.call, false, i as u32));
            order.push((c.ret, true, i as u32));
        }
        order.sort_unstable();
        let n = order.len() + 1;
        let mut entries = Entries {
            next: (1..=n as u32).collect(),
            prev: (0..n as u32).map(|i| i.wrapping_sub(1)).collect(),
            call_of: vec![NIL; n],
            ret_of: vec![NIL; n],
        };
        entries.next[n - 1] = NIL;
        let mut call_node = vec![NIL; calls.len()];
        for (pos, &(_, is_ret, call)) in order.iter().enumerate() {
            let node = pos as u32 + 1;
            entries.call_of[node as usize] = call;
            if is_ret {
                entries.ret_of[call_node[call as usize] as usize] = node;
            } else {
                call_node[call as usize] = node;
            }
        }
        entries
    }

    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        if n != NIL {
            self.prev[n as usize] = node;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        self.unlink(self.ret_of[call as usize]);
    }

    /// Puts back what [`Entries::lift`] took out (dancing links: in reverse order).
    fn unlift(&mut self, call: u32) {
        self.relink(self.ret_of[call as usize]);
        self.relink(call);
    }
}

/// A configuration the search has been in: which calls are linearized, and the state.
#[derive(PartialEq, Eq)]
struct Config<S> {
    linearized: Vec<u64>,
    state: S,
}

impl<S: Hash> Hash for Config<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.linearized.hash(h);
        self.state.hash(h);
    }
}

/// The longest prefix seen and what blocked it.
struct Best<S> {
    prefix: Vec<usize>,
    blocked: Option<usize>,
    states: Vec<S>,
}

impl<S: Clone + Eq> Best<S> {
    fn reached<T>(&mut self, stack: &[(u32, T)], entries: &Entries) {
        if stack.len() > self.prefix.len() {
            self.prefix.clear();
            let calls = stack
                .iter()
                .map(|&(node, _)| entries.call_of[node as usize]);
            self.prefix.extend(calls.map(|c| c as usize));
            self.blocked = None;
            self.states.clear();
        }
    }

    fn blocked_at(&mut self, depth: usize, call: usize, state: &S) {
        if depth != self.prefix.len() || *self.blocked.get_or_insert(call) != call {
            return;
        }
        if self.states.len() < MAX_STATES && !self.states.contains(state) {
            self.states.push(state.clone());
        }
    }
}

/// Decides whether `calls` (all on one key) are linearizable under `model`.
pub fn search<M: SeqModel>(
    model: &M,
    calls: &[Call<M::Op>],
    limits: Limits<'_>,
) -> Found<M::State> {
    let mut entries = Entries::new(calls);
    let words = calls.len().div_ceil(64);
    let mut linearized = vec![0u64; words];
    let mut memo: FxHashSet<Config<M::State>> = FxHashSet::default();
    let mut stack: Vec<(u32, M::State)> = Vec::new();
    let mut best = Best {
        prefix: Vec::new(),
        blocked: None,
        states: Vec::new(),
    };
    let mut state = model.init();
    let mut entry = entries.next[HEAD as usize];
    let mut steps: u64 = 0;
    while entries.next[HEAD as usize] != NIL {
        steps += 1;
        if steps & 0xfff == 0 {
            if limits
                .stop
                .is_some_and(|(first, me)| first.load(Ordering::Relaxed) < me)
            {
                return Found::Stopped;
            }
            if let Some(reason) = over_limits(&limits, memo.len()) {
                return Found::Unknown(reason);
            }
        }
        let call = entries.call_of[entry as usize] as usize;
        if entries.ret_of[entry as usize] == NIL {
            best.blocked_at(stack.len(), call, &state);
            let Some((node, previous)) = stack.pop() else {
                return Found::Violation(best.witness());
            };
            let call = entries.call_of[node as usize] as usize;
            linearized[call / 64] &= !(1 << (call % 64));
            state = previous;
            entries.unlift(node);
            entry = entries.next[node as usize];
            continue;
        }
        let Some(next_state) = model.step(&state, &calls[call].op) else {
            entry = entries.next[entry as usize];
            continue;
        };
        linearized[call / 64] |= 1 << (call % 64);
        let config = Config {
            linearized,
            state: next_state,
        };
        if memo.contains(&config) {
            linearized = config.linearized;
            linearized[call / 64] &= !(1 << (call % 64));
            entry = entries.next[entry as usize];
            continue;
        }
        linearized = config.linearized.clone();
        let next_state = config.state.clone();
        memo.insert(config);
        if memo.len() > limits.max_memo {
            return Found::Unknown(over_limits(&limits, memo.len()).expect("over the memo bound"));
        }
        stack.push((entry, std::mem::replace(&mut state, next_state)));
        best.reached(&stack, &entries);
        entries.lift(entry);
        entry = entries.next[HEAD as usize];
    }
    Found::Linearizable
}

impl<S> Best<S> {
    fn witness(self) -> Witness<S> {
        Witness {
            prefix: self.prefix,
            blocked: self
                .blocked
                .expect("a return entry was met before giving up"),
            states: self.states,
        }
    }
}

fn over_limits(limits: &Limits<'_>, memo: usize) -> Option<String> {
    if memo > limits.max_memo {
        return Some(format!(
            "the search remembered more than {} configurations (the memory bound)",
            limits.max_memo
        ));
    }
    match limits.deadline {
        Some(deadline) if Instant::now() >= deadline => {
            Some("the search ran out of time (the time bound)".to_owned())
        }
        _ => None,
    }
}
