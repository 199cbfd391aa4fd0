//! The calling rule: which waiting ticket a window calls next. Pure, so it is tested by tables
//! and a property test without a database; the store hands it the *head* of each queue the
//! window serves (the order within one queue never changes, so only heads can win).
//!
//! The rule (hall regulation on 绿色通道 and 排队叫号, as configured in [`super::QueueSettings`]):
//! 1. **Green channel first.** Priority tickets (elderly, disabled, military, pregnant, …) are
//!    called before normal ones — except that a window never calls more than
//!    `priority_max_in_row` priority tickets in a row while a normal ticket has waited at least
//!    `aging_minutes`: then the oldest such normal ticket goes next.
//! 2. **Then the window's category preference** (its first category first). A ticket
//!    transferred to this very window ranks before all categories. A ticket that has waited at
//!    least `aging_minutes` outranks preference, so a window's last category cannot starve
//!    while its first one is busy.
//! 3. **Then arrival order** (`queue_key`, then the sequence number).
//!
//! No ticket starves: once a ticket has waited `aging_minutes` it is ordered purely by arrival
//! among aged tickets of its class, and its class is served at least once every
//! `priority_max_in_row + 1` calls of any window that serves it.

use serde::{Deserialize, Serialize};

/// The head of one queue, as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub ticket_id: String,
    pub priority: bool,
    /// The window's preference for this ticket's queue: 0 is its first category; −1 means the
    /// ticket was transferred to this window.
    pub rank: i32,
    /// Arrival order key, milliseconds (a requeue moves it back).
    pub queue_key: i64,
    pub seq: u32,
}

/// The parts of the hall settings the rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRule {
    pub priority_max_in_row: u32,
    pub aging_ms: i64,
}

/// Pick the next ticket. `priority_streak` is how many of this window's most recent calls were
/// priority tickets in a row (capped by the caller at `priority_max_in_row`).
pub fn choose(
    heads: &[Candidate],
    priority_streak: u32,
    now_ms: i64,
    rule: OrderRule,
) -> Option<&Candidate> {
    let aged = |c: &Candidate| now_ms - c.queue_key >= rule.aging_ms;
    let normal_first =
        priority_streak >= rule.priority_max_in_row && heads.iter().any(|c| !c.priority && aged(c));
    heads.iter().min_by_key(|c| {
        let class = if normal_first {
            c.priority
        } else {
            !c.priority
        };
        let is_aged = aged(c);
        // Aged tickets: arrival only. Others: preference, then arrival.
        let rank = if is_aged { i32::MIN } else { c.rank };
        (class, !is_aged, rank, c.queue_key, c.seq)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const RULE: OrderRule = OrderRule {
        priority_max_in_row: 2,
        aging_ms: 15 * MIN,
    };

    fn c(id: &str, priority: bool, rank: i32, arrived_min: i64) -> Candidate {
        Candidate {
            ticket_id: id.into(),
            priority,
            rank,
            queue_key: arrived_min * MIN,
            seq: arrived_min as u32,
        }
    }

    /// The ordering rule as a table: heads, streak, minute of the call → expected ticket.
    #[test]
    fn ordering_table() {
        let cases: &[(&str, Vec<Candidate>, u32, i64, &str)] = &[
            (
                "priority beats an older normal ticket",
                vec![c("A001", false, 0, 0), c("A002", true, 0, 5)],
                0,
                10,
                "A002",
            ),
            (
                "preference beats arrival for fresh tickets",
                vec![c("B001", false, 1, 0), c("A001", false, 0, 5)],
                0,
                10,
                "A001",
            ),
            (
                "arrival breaks ties within a preference",
                vec![c("A002", false, 0, 6), c("A001", false, 0, 5)],
                0,
                10,
                "A001",
            ),
            (
                "a ticket transferred to this window comes first among normal tickets",
                vec![c("A001", false, 0, 0), c("C007", false, -1, 8)],
                0,
                10,
                "C007",
            ),
            (
                "an aged ticket of the last category outranks a fresh first-category one",
                vec![c("A009", false, 0, 20), c("D001", false, 3, 0)],
                0,
                21,
                "D001",
            ),
            (
                "streak of 2 with a normal ticket aged 15 min: the normal one goes",
                vec![c("A001", false, 0, 0), c("A050", true, 0, 14)],
                2,
                15,
                "A001",
            ),
            (
                "streak of 2 but no normal ticket has aged: priority still goes",
                vec![c("A001", false, 0, 1), c("A050", true, 0, 14)],
                2,
                15,
                "A050",
            ),
            (
                "streak of 1 with an aged normal ticket: priority still goes",
                vec![c("A001", false, 0, 0), c("A050", true, 0, 14)],
                1,
                30,
                "A050",
            ),
            (
                "two aged normal tickets after a streak: the earlier arrival",
                vec![
                    c("B001", false, 1, 0),
                    c("A003", false, 0, 2),
                    c("A050", true, 0, 29),
                ],
                2,
                30,
                "B001",
            ),
            (
                "aged priority tickets go by arrival regardless of preference",
                vec![c("A060", true, 0, 10), c("C002", true, 2, 1)],
                0,
                30,
                "C002",
            ),
        ];
        for (why, heads, streak, at, want) in cases {
            let got = choose(heads, *streak, at * MIN, RULE).map(|c| c.ticket_id.as_str());
            assert_eq!(got, Some(*want), "{why}");
        }
        assert_eq!(choose(&[], 0, 0, RULE), None, "nothing waiting");
    }

    use proptest::prelude::*;

    /// A stream of arrivals (per minute: how many green-channel tickets, and whether a normal
    /// ticket of the window's first or second category arrives), served by one window calling
    /// one ticket a minute. Priority tickets alone can saturate the window; without the quota
    /// and aging, normal tickets (and second-category ones) would wait forever.
    ///
    /// Property: every ticket is called, and no later than
    /// `aging + (max_in_row + 1) × (tickets already waiting when it arrived + 1)` minutes after
    /// arriving.
    fn simulate(arrivals: &[(u8, Option<bool>)], max_in_row: u32, aging_min: i64) {
        let rule = OrderRule {
            priority_max_in_row: max_in_row,
            aging_ms: aging_min * MIN,
        };
        let mut waiting: Vec<(Candidate, usize)> = Vec::new(); // (ticket, waiting when it arrived)
        let mut streak = 0u32;
        let mut seq = 0u32;
        let mut minute = 0i64;
        let mut served = 0usize;
        let mut total = 0usize;
        loop {
            if let Some((prio, normal)) = arrivals.get(minute as usize) {
                let mut arrive = |priority: bool, rank: i32| {
                    seq += 1;
                    let ahead = waiting.len();
                    waiting.push((
                        Candidate {
                            ticket_id: format!("T{seq}"),
                            priority,
                            rank,
                            queue_key: minute * MIN + i64::from(seq),
                            seq,
                        },
                        ahead,
                    ));
                };
                for _ in 0..*prio {
                    arrive(true, 0);
                }
                if let Some(second) = normal {
                    arrive(false, i32::from(*second));
                }
            } else if waiting.is_empty() {
                break;
            }
            total = seq as usize;
            // Heads only, as the store provides them: first per (rank, class).
            let mut heads: Vec<Candidate> = Vec::new();
            for (c, _) in &waiting {
                let better = heads
                    .iter()
                    .position(|h| h.rank == c.rank && h.priority == c.priority);
                match better {
                    Some(i) if (heads[i].queue_key, heads[i].seq) <= (c.queue_key, c.seq) => {}
                    Some(i) => heads[i] = c.clone(),
                    None => heads.push(c.clone()),
                }
            }
            let now = minute * MIN + 59_999; // calls happen after the minute's arrivals
            if let Some(pick) = choose(&heads, streak, now, rule) {
                let i = waiting
                    .iter()
                    .position(|(c, _)| c.ticket_id == pick.ticket_id)
                    .unwrap();
                let (t, ahead) = waiting.remove(i);
                streak = if t.priority {
                    (streak + 1).min(max_in_row)
                } else {
                    0
                };
                let waited_min = (now - t.queue_key) / MIN;
                let bound = aging_min + i64::from(max_in_row + 1) * (ahead as i64 + 1);
                assert!(
                    waited_min <= bound,
                    "{} (priority {}) waited {waited_min} min, bound {bound}",
                    t.ticket_id,
                    t.priority
                );
                served += 1;
            }
            minute += 1;
            assert!(minute < 100_000, "the simulation must end");
        }
        assert_eq!(served, total, "every ticket is eventually called");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn no_ticket_starves_under_a_stream_of_priority_tickets(
            arrivals in prop::collection::vec((0u8..3, prop::option::of(any::<bool>())), 1..200),
            max_in_row in 1u32..4,
            aging_min in 1i64..30,
        ) {
            simulate(&arrivals, max_in_row, aging_min);
        }
    }

    #[test]
    fn a_saturating_priority_stream_still_serves_the_normal_ticket() {
        // Two priority tickets a minute for three hours against one call a minute: the single
        // normal ticket is still called, within aging + 3 calls.
        let mut arrivals = vec![(2u8, None); 180];
        arrivals[0].1 = Some(false);
        simulate(&arrivals, 2, 15);
    }
}
