//! Failed sign-ins slowed, then refused, per account and per source address. Sans-IO: the
//! time comes in, the verdict goes out; the web layer sleeps and answers.
//!
//! Policy ([`Policy::default`]): within a 15-minute window, from the 4th failure of an account
//! (the 11th of a source address) on, each attempt waits one more second (at most 5 s); the 10th failure of an
//! account locks it for 15 minutes, the 30th of a source address locks that address (several
//! people behind one office's NAT share it, hence the higher number). An attempt counts as a
//! failure from the moment it begins ([`Throttle::begin`]), so that many attempts sent at once
//! are counted as they arrive, not after their passwords are checked; a success takes its own
//! count back and clears the account's. The counting is `wfm-throttle`'s (bounded memory, locks
//! never forgotten early).

use std::net::IpAddr;
use std::time::Duration;
use wfm_throttle::{FailureCounter, Window};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub window_ms: i64,
    pub slow_after: u32,
    pub source_slow_after: u32,
    pub step: Duration,
    pub max_delay: Duration,
    pub account_lock_after: u32,
    pub source_lock_after: u32,
    pub lock_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { window_ms: 15 * 60_000, slow_after: 3, source_slow_after: 10, step: Duration::from_secs(1), max_delay: Duration::from_secs(5), account_lock_after: 10, source_lock_after: 30, lock_ms: 15 * 60_000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password after this delay (zero when nothing failed lately).
    Allow { delay: Duration },
    /// Refused without checking, for this long yet.
    Locked { retry_after: Duration },
}

/// What a failure led to, for the log and the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    None,
    Account,
    Source,
}

#[derive(Debug)]
pub struct Throttle {
    policy: Policy,
    accounts: FailureCounter<String>,
    sources: FailureCounter<IpAddr>,
}

impl Throttle {
    pub fn new(policy: Policy) -> Self {
        let window = Window { window_ms: policy.window_ms, lock_ms: policy.lock_ms };
        Self { policy, accounts: FailureCounter::new(window), sources: FailureCounter::new(window) }
    }

    /// An attempt of `account` from `source` at `now` (ms) begins: the verdict on the failures
    /// before it, and the attempt counted as a failure until [`Throttle::succeeded`] says
    /// otherwise. A refused attempt is not counted again.
    pub fn begin(&mut self, account: &str, source: IpAddr, now: i64) -> (Verdict, Lockout) {
        let verdict = self.check(account, source, now);
        match verdict {
            Verdict::Locked { .. } => (verdict, Lockout::None),
            Verdict::Allow { .. } => (verdict, self.failed(account, source, now)),
        }
    }

    /// What an attempt of `account` from `source` at `now` (ms) would be told.
    pub fn check(&self, account: &str, source: IpAddr, now: i64) -> Verdict {
        let p = &self.policy;
        let account = account.to_owned();
        let locked = [self.accounts.locked_for(&account, now), self.sources.locked_for(&source, now)].into_iter().flatten().max();
        if let Some(retry_after) = locked {
            return Verdict::Locked { retry_after };
        }
        let over = |count: u32, after: u32| count.saturating_sub(after);
        let delay = p.step * over(self.accounts.count(&account, now), p.slow_after).max(over(self.sources.count(&source, now), p.source_slow_after));
        Verdict::Allow { delay: delay.min(p.max_delay) }
    }

    pub fn failed(&mut self, account: &str, source: IpAddr, now: i64) -> Lockout {
        let p = self.policy;
        let account_locked = self.accounts.fail(&account.to_owned(), now, p.account_lock_after);
        let source_locked = self.sources.fail(&source, now, p.source_lock_after);
        match (account_locked, source_locked) {
            (true, _) => Lockout::Account,
            (false, true) => Lockout::Source,
            _ => Lockout::None,
        }
    }

    /// An attempt begun with [`Throttle::begin`] had the right password: the account's count is
    /// cleared and the source's failure taken back.
    pub fn succeeded(&mut self, account: &str, source: IpAddr) {
        self.accounts.clear(&account.to_owned());
        self.sources.take_back(&source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "acme/ann";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn slowed_then_locked_then_released() {
        let mut t = Throttle::new(Policy::default());
        let from = ip("10.0.0.1");
        for n in 0..9u32 {
            let expected = Duration::from_secs(u64::from(n.saturating_sub(3).min(5)));
            assert_eq!(t.check(A, from, 1000), Verdict::Allow { delay: expected }, "after {n} failures");
            assert_eq!(t.failed(A, from, 1000), Lockout::None);
        }
        assert_eq!(t.failed(A, from, 1000), Lockout::Account, "the 10th failure locks");
        assert!(matches!(t.check(A, ip("10.9.9.9"), 2000), Verdict::Locked { .. }), "from anywhere");
        assert_eq!(t.check("acme/bob", ip("10.9.9.9"), 2000), Verdict::Allow { delay: Duration::ZERO }, "other accounts are not locked");
        let after = 1000 + 15 * 60_000 + 1;
        assert!(matches!(t.check(A, ip("10.9.9.9"), after), Verdict::Allow { .. }), "released after the lock");
        assert_eq!(t.failed(A, ip("10.9.9.9"), after), Lockout::None, "counting starts again");
    }

    #[test]
    fn attempts_count_as_they_begin() {
        let mut t = Throttle::new(Policy::default());
        let from = ip("10.0.0.2");
        // Ten attempts in flight at once: the tenth locks before any password is checked.
        let lockouts: Vec<Lockout> = (0..10).map(|_| t.begin(A, from, 0).1).collect();
        assert_eq!(lockouts.last(), Some(&Lockout::Account));
        assert!(matches!(t.begin(A, from, 0).0, Verdict::Locked { .. }));
        let mut u = Throttle::new(Policy::default());
        u.begin(A, from, 0);
        u.succeeded(A, from);
        assert_eq!(u.check("acme/other", from, 0), Verdict::Allow { delay: Duration::ZERO }, "a success takes its count back");
    }

    #[test]
    fn a_source_guessing_many_accounts_is_locked() {
        let mut t = Throttle::new(Policy::default());
        let attacker = ip("192.0.2.7");
        let mut slowed = Throttle::new(Policy::default());
        for n in 0..12 {
            slowed.failed(&format!("acme/user{n}"), attacker, 5);
        }
        assert_eq!(slowed.check("acme/new", attacker, 6), Verdict::Allow { delay: Duration::from_secs(2) }, "an address is slowed from its 11th failure");
        let outcomes: Vec<Lockout> = (0..30).map(|n| t.failed(&format!("acme/user{n}"), attacker, 5)).collect();
        assert_eq!(outcomes.last(), Some(&Lockout::Source));
        assert!(matches!(t.check("acme/new", attacker, 6), Verdict::Locked { .. }));
        assert_eq!(t.check("acme/new", ip("192.0.2.8"), 6), Verdict::Allow { delay: Duration::ZERO });
    }

    #[test]
    fn success_clears_the_account_and_old_failures_expire() {
        let mut t = Throttle::new(Policy::default());
        let from = ip("::1");
        for _ in 0..5 {
            t.failed(A, from, 0);
        }
        t.succeeded(A, from);
        assert_eq!(t.check(A, ip("::2"), 0), Verdict::Allow { delay: Duration::ZERO });
        assert_eq!(t.check("acme/x", from, 15 * 60_000 + 1), Verdict::Allow { delay: Duration::ZERO }, "the window passed");
    }
}
