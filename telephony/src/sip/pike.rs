//! INVITE floods limited per source address, sans-IO, as Kamailio's `pike` module does: an
//! address that sends more new calls in a second than the limit is ignored for 10 seconds (its
//! datagrams dropped unanswered, so a flood earns no replies), while every other address is
//! served. Trusted addresses (the trunk, a proxy in front) are never limited.

use std::collections::HashSet;
use std::net::IpAddr;
use wfm_throttle::{FailureCounter, Window};

const WINDOW: Window = Window { window_ms: 1000, lock_ms: 10_000 };

#[derive(Debug)]
pub struct Pike {
    /// New calls per second per address, at most (0: no limit).
    limit: u32,
    trusted: HashSet<IpAddr>,
    recent: FailureCounter<IpAddr>,
}

/// What becomes of a new call from an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Over the limit: dropped; `started` when this one began the address's block.
    Drop { started: bool },
}

impl Pike {
    pub fn new(limit: u32, trusted: impl IntoIterator<Item = IpAddr>) -> Self {
        Self { limit, trusted: trusted.into_iter().collect(), recent: FailureCounter::new(WINDOW) }
    }

    /// A new call (an INVITE outside a dialog) from `source` at `now` (ms).
    pub fn new_call(&mut self, source: IpAddr, now: i64) -> Verdict {
        if self.limit == 0 || self.trusted.contains(&source) {
            return Verdict::Pass;
        }
        if self.recent.locked_for(&source, now).is_some() {
            return Verdict::Drop { started: false };
        }
        if self.recent.fail(&source, now, self.limit.saturating_add(1)) { Verdict::Drop { started: true } } else { Verdict::Pass }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_flood_is_dropped_and_others_are_served() {
        let mut pike = Pike::new(50, [ip("10.0.0.1")]);
        let flooder = ip("192.0.2.7");
        let verdicts: Vec<Verdict> = (0..200).map(|n| pike.new_call(flooder, n)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Pass).count(), 50, "the limit per second");
        assert_eq!(verdicts[50], Verdict::Drop { started: true });
        assert_eq!(verdicts[51], Verdict::Drop { started: false });
        assert_eq!(pike.new_call(ip("192.0.2.8"), 200), Verdict::Pass, "another address is served");
        assert_eq!(pike.new_call(flooder, 5_000), Verdict::Drop { started: false }, "blocked for 10 s");
        assert_eq!(pike.new_call(flooder, 10_051), Verdict::Pass, "then served again");
        assert!((0..1000).all(|n| pike.new_call(ip("10.0.0.1"), n) == Verdict::Pass), "a trusted trunk is never limited");
        assert!((0..1000).all(|n| Pike::new(0, []).new_call(flooder, n) == Verdict::Pass));
    }
}
