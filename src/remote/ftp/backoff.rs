//! Pauses between tries that grow and are jittered: sessions of many
//! sites that failed together (a server that refused them all, a
//! listener that restarted) do not all come back at the same moment.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// The pauses of one operation's tries: each drawn between half and all
/// of a bound that starts at `first` and grows threefold, up to `most`.
pub struct Backoff {
    bound: Duration,
    most: Duration,
}

impl Backoff {
    pub fn new(first: Duration, most: Duration) -> Self {
        Backoff { bound: first, most }
    }

    /// The next pause.
    pub fn next_pause(&mut self) -> Duration {
        let pause = jittered(self.bound);
        self.bound = (self.bound * 3).min(self.most);
        pause
    }

    /// Sleep for the next pause, if it ends before `deadline`; whether it
    /// did (a try after `deadline` is not made).
    pub fn sleep_until_before(&mut self, deadline: Instant) -> bool {
        let pause = self.next_pause();
        if Instant::now() + pause >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        true
    }
}

/// A duration drawn between half and all of `bound`.
fn jittered(bound: Duration) -> Duration {
    // The standard library's hasher is seeded at random for each
    // `RandomState`: random enough to spread pauses, no dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = bound / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_nanos(random % nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_threefold_to_the_most_and_stay_within_half_their_bound() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        for bound in [100, 300, 900, 1000, 1000] {
            let pause = b.next_pause();
            let bound = Duration::from_millis(bound);
            assert!(
                pause >= bound / 2 && pause <= bound,
                "{pause:?} for {bound:?}"
            );
        }
    }

    #[test]
    fn no_pause_runs_past_the_deadline() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
        assert!(!b.sleep_until_before(Instant::now() + Duration::from_secs(1)));
    }
}
