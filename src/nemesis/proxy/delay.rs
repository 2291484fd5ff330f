//! The latency toxic's delays: `latency ± jitter`, drawn uniformly from a ChaCha8 stream
//! seeded by the proxy's seed, so one seed pins the jitter (STYLE.md: one seed pins all
//! randomness).

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Draws chunk delays. Each (connection, direction) has its own ChaCha stream, so the
/// delays one connection sees depend only on the seed and the connection's accept order,
/// not on how its chunks interleave with other connections'.
#[derive(Clone, Debug)]
pub(crate) struct DelayGen {
    rng: ChaCha8Rng,
}

impl DelayGen {
    /// The generator for `stream` (the proxy uses `2 × connection index + direction`).
    pub(crate) fn new(seed: u64, stream: u64) -> DelayGen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        DelayGen { rng }
    }

    /// A delay uniform in `[latency - jitter, latency + jitter]`, never below zero.
    pub(crate) fn delay(&mut self, latency: Duration, jitter: Duration) -> Duration {
        if jitter.is_zero() {
            return latency;
        }
        let jitter_ns = u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX / 2);
        let offset = self.rng.gen_range(0..=jitter_ns.saturating_mul(2));
        (latency + Duration::from_nanos(offset)).saturating_sub(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64, stream: u64) -> Vec<Duration> {
        let mut delays = DelayGen::new(seed, stream);
        (0..50)
            .map(|_| delays.delay(Duration::from_millis(100), Duration::from_millis(30)))
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_jitter_sequence() {
        assert_eq!(draws(7, 0), draws(7, 0));
        assert_ne!(draws(7, 0), draws(8, 0));
        assert_ne!(draws(7, 0), draws(7, 1));
    }

    #[test]
    fn delays_stay_within_latency_plus_or_minus_jitter_and_spread() {
        let all = draws(42, 3);
        let (min, max) = (all.iter().min(), all.iter().max());
        let (Some(&min), Some(&max)) = (min, max) else {
            panic!("fifty draws")
        };
        assert!(min >= Duration::from_millis(70) && max <= Duration::from_millis(130));
        assert!(max - min > Duration::from_millis(20), "{min:?}..{max:?}");
    }

    #[test]
    fn jitter_larger_than_latency_never_goes_below_zero_and_zero_jitter_is_exact() {
        let mut delays = DelayGen::new(1, 0);
        for _ in 0..100 {
            let d = delays.delay(Duration::from_millis(5), Duration::from_millis(50));
            assert!(d <= Duration::from_millis(55));
        }
        let exact = delays.delay(Duration::from_millis(5), Duration::ZERO);
        assert_eq!(exact, Duration::from_millis(5));
    }
}
