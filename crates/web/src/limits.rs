//! Throttling of the maintainer's sign-in: growing delays per address after a few wrong
//! tokens, and a global brake when wrong tokens pour in from everywhere. Kept in this
//! process's memory (each replica brakes on its own; the admin token's 32-character minimum is
//! what makes guessing hopeless, this makes trying slow and loud).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens an address may send before delays start.
const FREE_FAILURES: u32 = 3;
/// Longest delay an address is made to wait.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Over this many failures within [`GLOBAL_WINDOW`], everyone waits for the window to pass.
const GLOBAL_FAILURES: usize = 30;
const GLOBAL_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered; beyond it the oldest are forgotten.
const TRACKED: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct SignInThrottle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    per_address: HashMap<String, (u32, Instant)>,
    recent: Vec<Instant>,
}

impl SignInThrottle {
    /// How long `address` must still wait before its next attempt, if at all.
    pub(crate) fn wait(&self, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.recent.retain(|t| now.duration_since(*t) < GLOBAL_WINDOW);
        let global = (st.recent.len() >= GLOBAL_FAILURES)
            .then(|| {
                st.recent
                    .first()
                    .map(|t| GLOBAL_WINDOW.saturating_sub(now.duration_since(*t)))
            })
            .flatten();
        let own = st.per_address.get(address).and_then(|(failures, last)| {
            let delay = delay_after(*failures);
            let passed = now.duration_since(*last);
            (passed < delay).then(|| delay - passed)
        });
        match (own, global) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Records a wrong token from `address`.
    pub(crate) fn failed(&self, address: &str) {
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.recent.push(now);
        if st.per_address.len() >= TRACKED
            && !st.per_address.contains_key(address)
            && let Some(oldest) = st
                .per_address
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
        {
            st.per_address.remove(&oldest);
        }
        let entry = st
            .per_address
            .entry(address.to_string())
            .or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    /// A right token: the address starts afresh.
    pub(crate) fn succeeded(&self, address: &str) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.per_address.remove(address);
    }
}

/// The wait after `failures` wrong tokens: none for the first few, then doubling from 2 s.
fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES).min(20);
    Duration::from_secs(2u64.saturating_pow(exp + 1)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_per_address() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::from_secs(2));
        assert_eq!(delay_after(4), Duration::from_secs(4));
        assert_eq!(delay_after(40), MAX_DELAY);
        let t = SignInThrottle::default();
        for _ in 0..3 {
            assert_eq!(t.wait("a"), None);
            t.failed("a");
        }
        assert!(t.wait("a").is_some());
        assert_eq!(t.wait("b"), None);
        t.succeeded("a");
        assert_eq!(t.wait("a"), None);
    }

    #[test]
    fn a_flood_from_many_addresses_brakes_everyone() {
        let t = SignInThrottle::default();
        for i in 0..GLOBAL_FAILURES {
            t.failed(&format!("addr-{i}"));
        }
        assert!(t.wait("fresh-address").is_some());
    }
}
