//! Failures counted per key (an account, an address, both) in a sliding window, and locks once
//! there are too many: the one mechanism behind the web sign-in throttle (`wfm-ops`) and the SIP
//! digest guard (`wfm-telephony`). Sans-IO: times are milliseconds passed in. Memory is bounded:
//! at most [`MAX_TRACKED`] keys, the oldest unlocked forgotten first; a lock in force is never
//! forgotten to make room. Depends on nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

pub const MAX_TRACKED: usize = 100_000;

/// How long failures are remembered, and how long a lock lasts.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub window_ms: i64,
    pub lock_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_ms: i64,
    locked_until_ms: i64,
}

#[derive(Debug)]
pub struct FailureCounter<K> {
    window: Window,
    by_key: HashMap<K, Failures>,
}

impl<K: Hash + Eq + Clone> FailureCounter<K> {
    pub fn new(window: Window) -> Self {
        Self { window, by_key: HashMap::new() }
    }

    fn current(&self, key: &K, now: i64) -> Option<Failures> {
        self.by_key.get(key).copied().filter(|f| f.locked_until_ms > now || now - f.first_ms <= self.window.window_ms)
    }

    /// Failures of `key` in the window at `now`.
    pub fn count(&self, key: &K, now: i64) -> u32 {
        self.current(key, now).map_or(0, |f| f.count)
    }

    /// How long `key` stays locked, if it is.
    pub fn locked_for(&self, key: &K, now: i64) -> Option<Duration> {
        self.current(key, now).filter(|f| f.locked_until_ms > now).map(|f| Duration::from_millis((f.locked_until_ms - now) as u64))
    }

    /// Counts a failure; returns whether it locked the key (at the `lock_after`-th failure).
    pub fn fail(&mut self, key: &K, now: i64, lock_after: u32) -> bool {
        if self.by_key.len() >= MAX_TRACKED && !self.by_key.contains_key(key) && !self.make_room(now) {
            // Every entry is a lock in force: this key goes uncounted rather than free one.
            return false;
        }
        let fresh = Failures { count: 0, first_ms: now, locked_until_ms: 0 };
        let f = self.current(key, now).unwrap_or(fresh);
        let mut f = if f.locked_until_ms != 0 && f.locked_until_ms <= now { fresh } else { f };
        f.count += 1;
        let locks = f.count >= lock_after && f.locked_until_ms <= now;
        if locks {
            f.locked_until_ms = now + self.window.lock_ms;
        }
        self.by_key.insert(key.clone(), f);
        locks
    }

    fn make_room(&mut self, now: i64) -> bool {
        let window = self.window.window_ms;
        self.by_key.retain(|_, f| f.locked_until_ms > now || now - f.first_ms <= window);
        if self.by_key.len() < MAX_TRACKED {
            return true;
        }
        match self.by_key.iter().filter(|(_, f)| f.locked_until_ms <= now).min_by_key(|(_, f)| f.first_ms).map(|(k, _)| k.clone()) {
            Some(oldest) => self.by_key.remove(&oldest).is_some(),
            None => false,
        }
    }

    /// Forgets `key`'s failures (a success).
    pub fn clear(&mut self, key: &K) {
        self.by_key.remove(key);
    }

    /// Takes one failure back (an attempt counted when it began turned out right).
    pub fn take_back(&mut self, key: &K) {
        if let Some(f) = self.by_key.get_mut(key) {
            f.count = f.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window { window_ms: 1000, lock_ms: 5000 };

    #[test]
    fn counts_locks_and_forgets() {
        let mut c = FailureCounter::new(W);
        assert!(!c.fail(&"a", 0, 3) && !c.fail(&"a", 10, 3));
        assert!(c.fail(&"a", 20, 3), "the third locks");
        assert_eq!(c.locked_for(&"a", 1020), Some(Duration::from_millis(4000)));
        assert_eq!(c.count(&"b", 20), 0);
        assert_eq!(c.locked_for(&"a", 5020), None, "the lock ends");
        assert!(!c.fail(&"a", 5021, 3), "and counting starts again");
        assert_eq!(c.count(&"a", 5021), 1);
        c.take_back(&"a");
        assert_eq!(c.count(&"a", 5021), 0);
        c.fail(&"c", 0, 9);
        assert_eq!(c.count(&"c", 1001), 0, "outside the window");
        c.fail(&"c", 2000, 9);
        c.clear(&"c");
        assert_eq!(c.count(&"c", 2000), 0);
    }
}
