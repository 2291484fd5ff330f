//! The change feed from the primary to its replicas: one `Change` per new item, numbered by
//! `seq` (1, 2, ... with no gaps) and stamped with the wall-clock time the primary recorded it,
//! so a lagging replica can hold each change back by a fixed delay after that time.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One item the primary recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: i64,
    pub seq: u64,
    /// Milliseconds since the Unix epoch on the primary's clock. Primary and replica compare
    /// wall clocks: on one host that is exact; across hosts it needs synchronised clocks.
    pub at_ms: u64,
}

/// The body of `GET /changes?after=K`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Changes {
    pub changes: Vec<Change>,
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
