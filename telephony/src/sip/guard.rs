//! Digest guessing refused, sans-IO: failed digest answers counted per source address, per
//! account and address together, and per account, each in a 10-minute window.
//!
//! - an address with 20 failures is locked for 10 minutes (one machine guessing many accounts
//!   or passwords, as SIPVicious' `svcrack` does), unless phones are registered from it (an
//!   office's NAT: there only the accounts that failed are locked);
//! - an account with 5 failures from one address is locked from that address;
//! - an account with 50 failures from anywhere (a guess spread over many addresses) is locked
//!   for every address but the one its phone last registered from, so that the attacker does not
//!   lock the agent out.
//!
//! A locked request is refused `403` before its password is checked; the lock that a failure
//! starts is reported, so that it is logged and raised as an alarm. Only answers to a challenge
//! sent to the same address are counted (the registrar's nonces are bound to it), so a forged
//! source address cannot lock anybody out.

use std::collections::HashMap;
use std::net::IpAddr;
use wfm_throttle::{FailureCounter, Window};

const WINDOW: Window = Window { window_ms: 10 * 60_000, lock_ms: 10 * 60_000 };
const SOURCE_LOCK_AFTER: u32 = 20;
const PAIR_LOCK_AFTER: u32 = 5;
const ACCOUNT_LOCK_AFTER: u32 = 50;
/// Accounts whose last good address is remembered, at most.
const MAX_KNOWN: usize = 100_000;

/// What a failure locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Source,
    AccountFromSource,
    Account,
}

#[derive(Debug)]
pub struct DigestGuard {
    sources: FailureCounter<IpAddr>,
    pairs: FailureCounter<(String, IpAddr)>,
    accounts: FailureCounter<String>,
    /// Each account's address of its last successful registration.
    known: HashMap<String, IpAddr>,
}

impl Default for DigestGuard {
    fn default() -> Self {
        Self { sources: FailureCounter::new(WINDOW), pairs: FailureCounter::new(WINDOW), accounts: FailureCounter::new(WINDOW), known: HashMap::new() }
    }
}

impl DigestGuard {
    /// Whether `user`'s digest from `source` may be checked at `now` (ms). An address with
    /// phones registered from it (`phones_there`: an office's NAT) is not locked as a whole.
    pub fn allows(&self, user: &str, source: IpAddr, now: i64, phones_there: bool) -> bool {
        let user = user.to_owned();
        let account_locked = self.accounts.locked_for(&user, now).is_some() && self.known.get(&user) != Some(&source);
        let source_locked = self.sources.locked_for(&source, now).is_some() && !phones_there;
        !source_locked && self.pairs.locked_for(&(user, source), now).is_none() && !account_locked
    }

    /// A wrong digest; returns the lock it started, if any.
    pub fn failed(&mut self, user: &str, source: IpAddr, now: i64) -> Option<Locked> {
        let source_locked = self.sources.fail(&source, now, SOURCE_LOCK_AFTER);
        let pair_locked = self.pairs.fail(&(user.to_owned(), source), now, PAIR_LOCK_AFTER);
        let account_locked = self.accounts.fail(&user.to_owned(), now, ACCOUNT_LOCK_AFTER);
        [(source_locked, Locked::Source), (pair_locked, Locked::AccountFromSource), (account_locked, Locked::Account)].into_iter().find_map(|(locked, what)| locked.then_some(what))
    }

    /// A right digest: the pair's failures are forgotten and the address becomes the account's.
    pub fn succeeded(&mut self, user: &str, source: IpAddr) {
        self.pairs.clear(&(user.to_owned(), source));
        if self.known.len() >= MAX_KNOWN && !self.known.contains_key(user) {
            self.known.clear();
        }
        self.known.insert(user.to_owned(), source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_guessing_is_locked_out() {
        let mut g = DigestGuard::default();
        let attacker = ip("192.0.2.1");
        for n in 0..4 {
            assert_eq!(g.failed("1001", attacker, n), None);
        }
        assert_eq!(g.failed("1001", attacker, 5), Some(Locked::AccountFromSource), "five wrong passwords for one account");
        assert!(!g.allows("1001", attacker, 6, false));
        assert!(g.allows("1002", attacker, 6, false), "other accounts from there are not locked yet");
        for n in 0..15 {
            g.failed(&format!("2{n:03}"), attacker, 10);
        }
        assert!(!g.allows("1002", attacker, 11, false), "twenty failures lock the address");
        assert!(g.allows("1002", attacker, 11, true), "not an address phones are registered from");
        assert!(!g.allows("1001", attacker, 11, true), "where the account that failed stays locked");
        assert!(g.allows("1001", ip("192.0.2.2"), 11, false), "the account from elsewhere still is");
        assert!(g.allows("1001", attacker, 10 * 60_000 + 11, false), "until the lock ends");
    }

    #[test]
    fn a_spread_guess_does_not_lock_out_the_agents_phone() {
        let mut g = DigestGuard::default();
        let phone = ip("10.0.0.5");
        g.succeeded("1001", phone);
        let locks: Vec<Option<Locked>> = (0..50u32).map(|n| g.failed("1001", IpAddr::from([198, 51, (n / 4) as u8, (n % 4) as u8]), 100)).collect();
        assert_eq!(locks.last(), Some(&Some(Locked::Account)));
        assert!(!g.allows("1001", ip("198.51.100.77"), 101, false), "locked for other addresses");
        assert!(g.allows("1001", phone, 101, false), "not for the phone's own");
    }
}
