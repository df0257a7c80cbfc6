//! Failures counted per key (an account, an address, both) in a sliding window, and locks once
//! there are too many: the one mechanism behind the web sign-in throttle (`wfm-ops`) and the SIP
//! digest guard (`wfm-telephony`). Sans-IO: times are milliseconds passed in. Memory is bounded:
//! at most [`MAX_TRACKED`] keys, the oldest unlocked forgotten first; a lock in force is never
//! forgotten to make room. Making room costs O(1) amortised (keys are queued by when their count
//! began), so an attacker spreading guesses over many addresses cannot make each of them a scan
//! of every key. Depends on nothing.

use std::collections::{HashMap, VecDeque};
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
    /// Keys by when their count began (`first_ms`), oldest first; an entry whose key has since
    /// been cleared or begun again is stale and skipped.
    order: VecDeque<(i64, K)>,
    /// Every key was a lock in force when room was last sought: none can be made before this.
    all_locked_until_ms: i64,
}

impl<K: Hash + Eq + Clone> FailureCounter<K> {
    pub fn new(window: Window) -> Self {
        Self { window, by_key: HashMap::new(), order: VecDeque::new(), all_locked_until_ms: 0 }
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
        if f.count == 0 {
            self.queue(now, key);
        }
        f.count += 1;
        let locks = f.count >= lock_after && f.locked_until_ms <= now;
        if locks {
            f.locked_until_ms = now + self.window.lock_ms;
        }
        self.by_key.insert(key.clone(), f);
        locks
    }

    fn queue(&mut self, first_ms: i64, key: &K) {
        self.order.push_back((first_ms, key.clone()));
        // Stale entries are dropped in one pass once they outnumber the live ones, so the
        // queue stays within twice the keys (and the pass is paid for by as many pushes).
        if self.order.len() > 2 * self.by_key.len() + 64 {
            let by_key = &self.by_key;
            self.order.retain(|(first, k)| by_key.get(k).is_some_and(|f| f.first_ms == *first));
        }
    }

    /// Forgets the oldest key that is not a lock in force (a count past its window first, as
    /// those began earliest); `false` when every key is a lock in force.
    fn make_room(&mut self, now: i64) -> bool {
        if now < self.all_locked_until_ms {
            return false;
        }
        let mut earliest_unlock = i64::MAX;
        for _ in 0..self.order.len() {
            let Some((first, key)) = self.order.pop_front() else { break };
            match self.by_key.get(&key) {
                Some(f) if f.first_ms == first && f.locked_until_ms > now => {
                    earliest_unlock = earliest_unlock.min(f.locked_until_ms);
                    self.order.push_back((first, key));
                }
                Some(f) if f.first_ms == first => {
                    self.by_key.remove(&key);
                    return true;
                }
                _ => {}
            }
        }
        self.all_locked_until_ms = earliest_unlock;
        false
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

    #[test]
    fn when_full_the_oldest_unlocked_key_makes_room_and_locks_stay() {
        let mut c = FailureCounter::new(Window { window_ms: 1_000_000, lock_ms: 1_000_000 });
        // Key 0 locked first, key 1 counted next (again later: its count began at 1), then the rest.
        assert!(c.fail(&0usize, 0, 1));
        c.fail(&1, 1, 9);
        for k in 2..MAX_TRACKED {
            c.fail(&k, 2, 9);
        }
        c.fail(&1, 3, 9);
        c.fail(&MAX_TRACKED, 4, 9);
        assert_eq!(c.count(&1, 4), 0, "the oldest count that is not a lock went");
        assert!(c.locked_for(&0, 4).is_some(), "the lock stays");
        assert_eq!((c.count(&2, 4), c.count(&MAX_TRACKED, 4)), (1, 1));
        assert_eq!(c.by_key.len(), MAX_TRACKED);
        assert!(c.order.len() <= 2 * c.by_key.len() + 64, "stale queue entries are dropped");
    }

    #[test]
    fn when_every_key_is_a_lock_a_new_key_goes_uncounted_until_one_ends() {
        let mut c = FailureCounter::new(Window { window_ms: 10, lock_ms: 1000 });
        for k in 0..MAX_TRACKED {
            assert!(c.fail(&k, 0, 1));
        }
        assert!(!c.fail(&MAX_TRACKED, 5, 1) && c.count(&MAX_TRACKED, 5) == 0, "uncounted");
        assert!(!c.fail(&(MAX_TRACKED + 1), 6, 1), "and again, without a second scan");
        assert!(c.fail(&MAX_TRACKED, 1000, 1), "once the locks end, counted");
    }
}
