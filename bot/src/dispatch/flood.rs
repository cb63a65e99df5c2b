//! The per-person flood limit: at most N commands in any minute, an invalid
//! one (unknown, malformed) counting twice. The first command over the
//! limit is answered once with when to come back; the rest are ignored in
//! silence, so a flood is never answered by a flood.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

const WINDOW_MS: i64 = 60_000;
/// People remembered at once; past it, those with nothing in the window go.
const PEOPLE: usize = 10_000;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    /// Over the limit for the first time in this flood: answer once, with
    /// the seconds until a command would be read again.
    SlowDown {
        wait_s: i64,
    },
    /// Over the limit, already told: say nothing.
    Ignore,
}

#[derive(Default)]
struct Person {
    /// (time, cost) of admitted commands in the window.
    recent: VecDeque<(i64, u32)>,
    told: bool,
}

pub struct FloodLimit {
    per_minute: u32,
    people: Mutex<HashMap<String, Person>>,
}

impl FloodLimit {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            people: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// May `actor` give a command costing `cost` at `now_ms`? Refused ones
    /// are not counted, so waiting a minute always lets one in again.
    pub fn admit(&self, actor: &str, cost: u32, now_ms: i64) -> Verdict {
        let mut people = self.people.lock().unwrap_or_else(|p| p.into_inner());
        if people.len() >= PEOPLE && !people.contains_key(actor) {
            people.retain(|_, p| p.recent.back().is_some_and(|(t, _)| now_ms - t < WINDOW_MS));
        }
        let person = people.entry(actor.to_string()).or_default();
        while person
            .recent
            .front()
            .is_some_and(|(t, _)| now_ms - t >= WINDOW_MS)
        {
            person.recent.pop_front();
        }
        let used: u32 = person.recent.iter().map(|(_, c)| c).sum();
        if used + cost <= self.per_minute {
            person.recent.push_back((now_ms, cost));
            person.told = false;
            return Verdict::Admit;
        }
        if person.told {
            return Verdict::Ignore;
        }
        person.told = true;
        // When enough of the window has passed for this command to fit.
        let mut freed = 0;
        let mut at = now_ms;
        for (t, c) in &person.recent {
            freed += c;
            at = t + WINDOW_MS;
            if used - freed + cost <= self.per_minute {
                break;
            }
        }
        Verdict::SlowDown {
            wait_s: ((at - now_ms).max(0) + 999) / 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_is_told_once_then_ignored_until_the_window_frees() {
        let f = FloodLimit::new(3);
        for i in 0..3 {
            assert_eq!(f.admit("discord:1", 1, i * 1000), Verdict::Admit);
        }
        assert_eq!(
            f.admit("discord:1", 1, 5_000),
            Verdict::SlowDown { wait_s: 55 }
        );
        assert_eq!(f.admit("discord:1", 1, 6_000), Verdict::Ignore);
        assert_eq!(f.admit("discord:1", 1, 7_000), Verdict::Ignore);
        assert_eq!(
            f.admit("discord:2", 1, 7_000),
            Verdict::Admit,
            "others are not limited"
        );
        // The first command leaves the window at 60 s: one fits again.
        assert_eq!(f.admit("discord:1", 1, 60_000), Verdict::Admit);
        assert_eq!(
            f.admit("discord:1", 1, 60_500),
            Verdict::SlowDown { wait_s: 1 }
        );
    }

    #[test]
    fn invalid_commands_count_double() {
        let f = FloodLimit::new(4);
        assert_eq!(f.admit("a", 2, 0), Verdict::Admit);
        assert_eq!(f.admit("a", 2, 10), Verdict::Admit);
        assert!(matches!(f.admit("a", 1, 20), Verdict::SlowDown { .. }));
    }
}
