//! Constant arrival rate, k6's constant-arrival-rate: operation n is due at start + n / rate,
//! whoever is free takes it. When every worker is busy past an arrival's time, that arrival is
//! dropped and counted, not made up later in a burst, so the load the system sees stays what
//! the workload asked for.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hands out arrival times to workers.
#[derive(Debug)]
pub struct Arrivals {
    start: Instant,
    rate: f64,
    state: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    next: u64,
    dropped: u64,
}

impl Arrivals {
    /// Arrivals at `rate` per second from `start`.
    pub fn new(start: Instant, rate: f64) -> Arrivals {
        Arrivals {
            start,
            rate,
            state: Mutex::new(Slots::default()),
        }
    }

    /// Claims the next arrival not yet past and returns when it is due.
    pub fn claim(&self, now: Instant) -> Instant {
        let due_now = (now.saturating_duration_since(self.start).as_secs_f64() * self.rate) as u64;
        let mut slots = self.state.lock().expect("arrivals lock is never poisoned");
        if slots.next < due_now {
            slots.dropped += due_now - slots.next;
            slots.next = due_now;
        }
        let n = slots.next;
        slots.next += 1;
        self.start + Duration::from_secs_f64(n as f64 / self.rate)
    }

    /// Arrivals dropped because no worker was free.
    pub fn dropped(&self) -> u64 {
        self.state
            .lock()
            .expect("arrivals lock is never poisoned")
            .dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_spaced_by_the_rate() {
        let start = Instant::now();
        let a = Arrivals::new(start, 100.0);
        let t0 = a.claim(start);
        let t1 = a.claim(start);
        assert_eq!(t1 - t0, Duration::from_millis(10));
        assert_eq!(a.dropped(), 0);
    }

    #[test]
    fn arrivals_missed_while_every_worker_was_busy_are_dropped_not_bursted() {
        let start = Instant::now();
        let a = Arrivals::new(start, 100.0);
        a.claim(start);
        // A worker comes back 1 s later: arrivals 1..100 passed with nobody free.
        let due = a.claim(start + Duration::from_secs(1));
        assert_eq!(due, start + Duration::from_secs(1));
        assert_eq!(a.dropped(), 99);
    }
}
