//! When the clock must look at a task: its timer, or its oldest
//! unacknowledged update, falls due.
//!
//! The clock ticks every 10 ms under the master's lock. Looking at every
//! task on every tick made each tick cost O(tasks): at 10,000 tasks the
//! scans alone held the lock for a good part of the time, and scheduler
//! calls queued behind them. Whoever sets a timer or a resend time also
//! books a wake-up here; a tick looks only at the tasks whose wake-up has
//! come. A booking outlived by its timer (the task ended, the update was
//! acknowledged) costs one look that finds nothing due.

use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

/// Booked wake-ups, earliest first.
#[derive(Debug, Default)]
pub struct Wakeups {
    due: BTreeSet<(Instant, String, String)>,
}

impl Wakeups {
    /// Books a look at task `tid` of framework `fid` at `at`.
    pub fn book(&mut self, at: Instant, fid: &str, tid: &str) {
        self.due.insert((at, fid.to_string(), tid.to_string()));
    }

    /// Whether a look at `tid` is booked for exactly `at` (the clock's
    /// debug check that no timer was set without its booking).
    pub fn is_booked(&self, at: Instant, fid: &str, tid: &str) -> bool {
        self.due.contains(&(at, fid.to_string(), tid.to_string()))
    }

    /// The tasks (framework ID, task ID) with a wake-up at or before
    /// `now`, each once, in the order they fell due.
    pub fn take_due(&mut self, now: Instant) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while self.due.first().is_some_and(|(at, ..)| *at <= now) {
            let (_, fid, tid) = self.due.pop_first().expect("looked at");
            if seen.insert((fid.clone(), tid.clone())) {
                out.push((fid, tid));
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.due.len()
    }

    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_wakeups_come_once_each_in_time_order_and_later_ones_stay() {
        let t0 = Instant::now();
        let mut w = Wakeups::default();
        w.book(t0 + Duration::from_millis(20), "f", "b");
        w.book(t0 + Duration::from_millis(10), "f", "a");
        w.book(t0 + Duration::from_millis(15), "f", "b");
        w.book(t0 + Duration::from_millis(50), "f", "c");
        assert_eq!(
            w.take_due(t0 + Duration::from_millis(30)),
            vec![("f".to_string(), "a".to_string()), ("f".into(), "b".into())]
        );
        assert_eq!(w.len(), 1);
        assert!(w.take_due(t0 + Duration::from_millis(49)).is_empty());
        assert_eq!(w.take_due(t0 + Duration::from_millis(50)).len(), 1);
        assert!(w.is_empty());
    }
}
