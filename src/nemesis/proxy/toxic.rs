//! The toxics a [`FaultProxy`](super::FaultProxy) applies, named and shaped after Toxiproxy's
//! (latency with jitter, `reset_peer`, `timeout` with 0, `bandwidth`), and the active set that
//! every copy loop reads on each chunk.

use std::mem::discriminant;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which way bytes flow through the proxy. As in Toxiproxy, upstream is client → server
/// (requests) and downstream is server → client (responses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client → server: the requests.
    Upstream,
    /// Server → client: the responses.
    Downstream,
    /// Both ways.
    Both,
}

impl Direction {
    /// Whether a toxic on `self` applies to bytes flowing `flow` (`Upstream` or `Downstream`).
    pub fn covers(self, flow: Direction) -> bool {
        self == Direction::Both || self == flow
    }
}

/// One fault on one proxied link. The proxy holds at most one toxic of each kind; setting a
/// second one of the same kind replaces the first.
///
/// Serialized for the history's nemesis events as
/// `{"kind":"latency","direction":"upstream","latency":"100ms","jitter":"20ms"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Toxic {
    /// Each chunk is delayed by `latency ± jitter` (uniform, from the proxy's seeded RNG);
    /// chunks keep their order. Toxiproxy's `latency`.
    Latency {
        /// Which way the delay applies.
        direction: Direction,
        /// The mean delay of a chunk.
        #[serde(with = "duration_text")]
        latency: Duration,
        /// The largest deviation from `latency`, either way (a delay never goes below zero).
        #[serde(with = "duration_text", default)]
        jitter: Duration,
    },
    /// Every connection, existing or new, is closed at once while this is active. The side(s)
    /// `direction` points at get an RST (`SO_LINGER` 0): `Downstream` resets the client,
    /// `Upstream` the server; the other side gets a plain close. Toxiproxy's `reset_peer`.
    Reset {
        /// Which side(s) see the reset.
        direction: Direction,
    },
    /// Bytes are read and dropped; nothing reaches the other side and connections stay open.
    /// After a heal, bytes written from then on flow again. Toxiproxy's `timeout` with 0.
    Blackhole {
        /// Which way bytes are dropped.
        direction: Direction,
    },
    /// New connections are accepted and closed at once (the service is down); existing
    /// connections are left alone.
    Refuse,
    /// Bytes flow at most at `bytes_per_sec`; 0 stalls the link until the toxic changes.
    /// Toxiproxy's `bandwidth` (which counts in KB/s).
    Bandwidth {
        /// Which way the limit applies.
        direction: Direction,
        /// The rate, in bytes per second.
        bytes_per_sec: u64,
    },
}

/// The toxics active on one proxy, at most one of each kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct ToxicSet {
    active: Vec<Toxic>,
}

impl ToxicSet {
    /// Adds `toxic`, replacing the active toxic of the same kind if there is one.
    pub(crate) fn set(&mut self, toxic: Toxic) {
        let kind = discriminant(&toxic);
        match self.active.iter_mut().find(|t| discriminant(*t) == kind) {
            Some(slot) => *slot = toxic,
            None => self.active.push(toxic),
        }
    }

    /// Removes every toxic; returns whether there was any.
    pub(crate) fn clear(&mut self) -> bool {
        let had_any = !self.active.is_empty();
        self.active.clear();
        had_any
    }

    /// The active toxics, in the order they were first set.
    pub(crate) fn list(&self) -> Vec<Toxic> {
        self.active.clone()
    }

    /// The `(latency, jitter)` for bytes flowing `flow`, if a latency toxic covers it.
    pub(crate) fn latency(&self, flow: Direction) -> Option<(Duration, Duration)> {
        self.active.iter().find_map(|t| match t {
            Toxic::Latency {
                direction,
                latency,
                jitter,
            } if direction.covers(flow) => Some((*latency, *jitter)),
            _ => None,
        })
    }

    /// Whether bytes flowing `flow` are dropped.
    pub(crate) fn blackholes(&self, flow: Direction) -> bool {
        self.active
            .iter()
            .any(|t| matches!(t, Toxic::Blackhole { direction } if direction.covers(flow)))
    }

    /// The rate limit, in bytes per second, for bytes flowing `flow`.
    pub(crate) fn bandwidth(&self, flow: Direction) -> Option<u64> {
        self.active.iter().find_map(|t| match t {
            Toxic::Bandwidth {
                direction,
                bytes_per_sec,
            } if direction.covers(flow) => Some(*bytes_per_sec),
            _ => None,
        })
    }

    /// Which side(s) get an RST, if connections are being reset.
    pub(crate) fn reset(&self) -> Option<Direction> {
        self.active.iter().find_map(|t| match t {
            Toxic::Reset { direction } => Some(*direction),
            _ => None,
        })
    }

    /// Whether new connections are refused.
    pub(crate) fn refuses(&self) -> bool {
        self.active.iter().any(|t| matches!(t, Toxic::Refuse))
    }
}

/// Durations as humantime text ("100ms", "1s 500ms"), the way workload files write them.
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_a_toxic_replaces_the_one_of_the_same_kind() {
        let mut set = ToxicSet::default();
        set.set(Toxic::Blackhole {
            direction: Direction::Upstream,
        });
        set.set(Toxic::Refuse);
        set.set(Toxic::Blackhole {
            direction: Direction::Downstream,
        });
        assert_eq!(set.list().len(), 2);
        assert!(set.blackholes(Direction::Downstream));
        assert!(!set.blackholes(Direction::Upstream));
        assert!(set.clear());
        assert!(!set.clear());
    }

    #[test]
    fn toxics_round_trip_through_json_with_readable_durations() {
        let toxic = Toxic::Latency {
            direction: Direction::Both,
            latency: Duration::from_millis(100),
            jitter: Duration::from_millis(20),
        };
        let text = serde_json::to_string(&toxic).expect("serializes");
        assert_eq!(
            text,
            r#"{"kind":"latency","direction":"both","latency":"100ms","jitter":"20ms"}"#
        );
        let back: Toxic = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, toxic);
        let refuse: Toxic = serde_json::from_str(r#"{"kind":"refuse"}"#).expect("parses");
        assert_eq!(refuse, Toxic::Refuse);
    }
}
