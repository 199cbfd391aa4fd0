//! Live reads on a hall with history (issue: fast for years with every screen open).
//!
//! The screens that stay open all day — the counters, the public displays, the kiosks — read on
//! every hall event. Their reads must cost today's work, never the table's history, and must
//! never wait for the writer:
//! - every statement a live screen (or the queue's own writes) runs is planned through an index:
//!   `EXPLAIN QUERY PLAN` shows no `SCAN` of a table that grows with the years;
//! - the per-category waiting counts kept by triggers equal a count of the queue, after a day's
//!   issuing, calling, transfers, no-shows and finishing on a lived-in hall;
//! - a read held open does not hold up a ticket being issued and called.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use onetrip_core::queue::*;
use onetrip_core::store::record_statements;
use onetrip_core::{Caller, DeviceKind, Operation};

use crate::common::{Hall, t0};
use crate::lived_in::lived_in;

/// Tables that grow with every day the hall is open. A screen that scans one gets slower every
/// year; the small ones (windows, categories, staff, settings) may be scanned.
const GROWING: &[&str] = &[
    "tickets",
    "ticket_events",
    "ratings",
    "followups",
    "cases",
    "case_events",
    "case_alerts",
    "applications",
    "application_materials",
    "documents",
    "audit_log",
    "outbox",
    "sessions",
    "window_pauses",
    "queue_counts",
    "ticket_counters",
];

/// Partial indexes over sets that empty as the hall works, not with its history: the messages
/// waiting for the gateway (`outbox_due`) and the failed ones a supervisor retries
/// (`outbox_dead`). Walking one is walking today's backlog.
const BOUNDED_INDEXES: &[&str] = &["outbox_due", "outbox_dead"];

fn at(min: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(min)
}

fn run<O: Operation>(h: &Hall, who: &Caller, now: Timestamp, op: O) -> O::Response {
    h.store
        .execute(who, now, op)
        .unwrap_or_else(|e| panic!("{} failed: {e}", O::NAME))
        .response
}

/// The table a `SCAN x` line of a plan names, resolving `x` when it is an alias in `sql`.
fn scanned_table(sql: &str, detail: &str) -> Option<String> {
    let rest = detail.strip_prefix("SCAN ")?;
    let name = rest.split_whitespace().next()?.to_owned();
    if ["CONSTANT", "SUBQUERY"].contains(&name.as_str()) {
        return None;
    }
    if GROWING.contains(&name.as_str()) {
        return Some(name);
    }
    // `FROM tickets t` / `JOIN tickets AS t`: the word before the alias is the table.
    let words: Vec<&str> = sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if *w == name && i > 0 {
            let before = if words[i - 1].eq_ignore_ascii_case("AS") && i > 1 {
                words[i - 2]
            } else {
                words[i - 1]
            };
            if GROWING.contains(&before) {
                return Some(before.to_owned());
            }
        }
    }
    None
}

/// The plan lines of `sql` that scan a growing table.
fn scans(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("plan of {sql}: {e}"));
    // The plan does not depend on the values (the store turns on the planner's stability
    // guarantee), so every parameter is bound to NULL.
    for i in 1..=stmt.parameter_count() {
        stmt.raw_bind_parameter(i, rusqlite::types::Null).unwrap();
    }
    let mut rows = stmt.raw_query();
    let mut details = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        details.push(r.get::<_, String>(3).unwrap());
    }
    details
        .into_iter()
        .filter(|d| scanned_table(sql, d).is_some())
        .filter(|d| {
            !BOUNDED_INDEXES
                .iter()
                .any(|i| d.ends_with(&format!("INDEX {i}")))
        })
        .collect()
}

/// A lived-in hall (90 days of history) in the middle of a day: clerks at windows 1–6, tickets
/// issued in every category, some called, served, transferred, held, rated.
struct Day {
    h: Hall,
    clerks: Vec<(u32, Caller)>,
    kiosk: Caller,
}

fn busy_day() -> Day {
    let h = lived_in();
    let clerks: Vec<(u32, Caller)> = [
        (1, "zhangwei"),
        (2, "liuyang"),
        (3, "wangfang"),
        (4, "lina"),
        (5, "chenjing"),
        (6, "yangqiang"),
    ]
    .into_iter()
    .map(|(n, login)| (n, h.as_token(&h.sign_in(login, Some(n)))))
    .collect();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let day = Day { h, clerks, kiosk };
    let cats: Vec<String> = run(&day.h, &day.kiosk, at(0), GetQueueBoard {})
        .categories
        .into_iter()
        .map(|c| c.category.id)
        .collect();
    for i in 0..40 {
        let req = IssueTicket {
            category_id: cats[i % cats.len()].clone(),
            priority: (i % 7 == 0).then_some(PriorityReason::Elderly),
            priority_note: String::new(),
            id_number: String::new(),
            applicant_name: String::new(),
        };
        run(&day.h, &day.kiosk, at(1), req);
    }
    for (n, clerk) in &day.clerks {
        let t = run(&day.h, clerk, at(2), CallNext {});
        run(
            &day.h,
            clerk,
            at(3),
            StartService {
                ticket_id: t.id.clone(),
            },
        );
        if *n == 6 {
            run(
                &day.h,
                clerk,
                at(4),
                TransferTicket {
                    ticket_id: t.id,
                    to_window_id: Some(day.h.window_id(1)),
                    to_category_id: None,
                    reason: String::new(),
                },
            );
        } else {
            run(&day.h, clerk, at(4), FinishTicket { ticket_id: t.id });
        }
    }
    day
}

#[test]
fn live_screens_and_queue_writes_never_scan_a_table_that_grows() {
    let day = busy_day();
    if day.h.store.is_postgres() {
        return; // SQLite's plans; PostgreSQL plans by its statistics (see the note in the suite)
    }
    let (h, kiosk) = (&day.h, &day.kiosk);
    let display = Caller::device(DeviceKind::Display, "display");
    let clerk = &day.clerks[0].1;
    let supervisor = h.as_token(&h.sign_in("zhouhong", None));
    let cat = run(h, kiosk, at(5), GetQueueBoard {}).categories[0]
        .category
        .id
        .clone();
    let (_, statements) = record_statements(|| {
        run(h, &display, at(5), GetQueueBoard {});
        run(h, &Caller::anonymous("t"), at(5), GetHallBoard {});
        for (_, c) in &day.clerks {
            run(h, c, at(5), GetCounter {});
        }
        let issued = run(
            h,
            kiosk,
            at(5),
            IssueTicket {
                category_id: cat.clone(),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        );
        run(
            h,
            kiosk,
            at(5),
            onetrip_core::queue::ticket::GetTicketSlip {
                ticket_id: issued.ticket.id,
            },
        );
        let t = run(h, clerk, at(6), CallNext {});
        run(
            h,
            clerk,
            at(6),
            Recall {
                ticket_id: t.id.clone(),
            },
        );
        run(
            h,
            clerk,
            at(7),
            StartService {
                ticket_id: t.id.clone(),
            },
        );
        run(h, clerk, at(8), FinishTicket { ticket_id: t.id });
        run(h, clerk, at(8), GetCounter {});
        // The outbox delivery runs every few seconds all day, the supervisor's outbox screen
        // on demand: both on years of messages.
        onetrip_core::app::jobs::deliver_outbox(
            &h.store,
            at(8),
            &onetrip_core::outbox::Worker::new("w"),
            &onetrip_core::outbox::LogSink,
        )
        .unwrap();
        run(
            h,
            &supervisor,
            at(8),
            onetrip_core::messages::ListOutbox::default(),
        );
    });
    let distinct: BTreeSet<String> = statements.into_iter().collect();
    assert!(
        distinct.len() > 20,
        "the recorder saw the screens' statements: {}",
        distinct.len()
    );
    let conn = rusqlite::Connection::open(h.path()).unwrap();
    let scanning: Vec<String> = distinct
        .iter()
        .filter_map(|sql| {
            let s = scans(&conn, sql);
            (!s.is_empty()).then(|| format!("{}\n    -> {}", sql.trim(), s.join("; ")))
        })
        .collect();
    assert!(
        scanning.is_empty(),
        "live reads and queue writes must go through an index, never walk a table's history:\n{}",
        scanning.join("\n\n")
    );
}

#[test]
fn the_plan_check_sees_a_scan() {
    // The check must be able to fail: a count by a column no index leads with is a scan.
    let day = busy_day();
    if day.h.store.is_postgres() {
        return;
    }
    let conn = rusqlite::Connection::open(day.h.path()).unwrap();
    assert!(!scans(&conn, "SELECT count(*) FROM tickets t WHERE t.recalls = ?1").is_empty());
    assert!(
        scans(
            &conn,
            "SELECT count(*) FROM tickets WHERE window_id = ?1 AND day = ?2"
        )
        .is_empty()
    );
}

#[test]
fn kept_waiting_counts_equal_a_count_of_the_queue() {
    let day = busy_day();
    let count = |sql: &str| -> Vec<(String, String, i64, i64, i64)> {
        day.h
            .store
            .read(|tx| {
                let mut stmt = tx.prepare(sql)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .unwrap()
    };
    let kept = count(
        "SELECT day, category_id, waiting, priority_waiting, open_waiting FROM queue_counts
         WHERE waiting > 0 ORDER BY day, category_id",
    );
    let counted = count(
        "SELECT day, category_id, CAST(count(*) AS BIGINT), CAST(count(priority) AS BIGINT),
                CAST(count(*) FILTER (WHERE target_window_id IS NULL) AS BIGINT)
         FROM tickets WHERE status = 'waiting' GROUP BY day, category_id ORDER BY day, category_id",
    );
    assert!(!counted.is_empty(), "the day has waiting tickets");
    assert!(
        counted.iter().any(|c| c.4 < c.2),
        "a transfer to one window is among them"
    );
    assert_eq!(kept, counted);
    // The board and the counter read the kept counts.
    let board = run(&day.h, &day.kiosk, at(5), GetQueueBoard {});
    let today: Vec<_> = counted
        .iter()
        .filter(|c| c.0 == board.day)
        .map(|c| (c.1.clone(), c.2 as u32))
        .collect();
    for (cat, waiting) in today {
        let shown = board
            .categories
            .iter()
            .find(|c| c.category.id == cat)
            .unwrap();
        assert_eq!(shown.waiting, waiting);
    }
}

#[test]
fn the_counter_lists_the_head_of_its_queues_in_calling_order() {
    // The waiting list is taken from the head of each queue, not by sorting the queue: it must
    // still be the order calling follows — transfers, green channel, category rank, arrival.
    let day = busy_day();
    for (n, clerk) in &day.clerks {
        let view = run(&day.h, clerk, at(5), GetCounter {});
        let keys: Vec<(bool, bool, usize)> = view
            .waiting
            .iter()
            .map(|t| {
                (
                    t.target_window_id.is_none(),
                    t.priority.is_none(),
                    view.categories
                        .iter()
                        .position(|c| c.id == t.category.id)
                        .unwrap_or(usize::MAX),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "window {n} lists in calling order");
        assert!(view.counts.waiting as usize >= view.waiting.len());
        if *n == 1 {
            assert!(
                view.waiting
                    .first()
                    .is_some_and(|t| t.target_window_id.is_some()),
                "the ticket transferred to window 1 comes first"
            );
        }
        // What it lists first is what it calls next.
        if let Some(first) = view.waiting.first() {
            let called = run(&day.h, clerk, at(6), CallNext {});
            assert_eq!(called.id, first.id, "window {n} calls what it listed first");
        }
    }
}

#[test]
fn a_read_held_open_does_not_hold_up_issuing_and_calling() {
    let day = busy_day();
    let (h, kiosk) = (&day.h, &day.kiosk);
    let clerk = &day.clerks[0].1;
    let cat = run(h, kiosk, at(5), GetQueueBoard {}).categories[0]
        .category
        .id
        .clone();
    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            h.store
                .read(|tx| {
                    let count = |tx: &onetrip_core::store::Tx<'_>| -> i64 {
                        tx.query_row("SELECT count(*) FROM tickets", [], |r| r.get(0))
                            .unwrap()
                    };
                    let before = count(tx);
                    started_tx.send(()).unwrap();
                    // A slow read (a report, a 4K board over a slow link) held open while the
                    // kiosk issues and the window calls. It waits for them at most 60 s: if they
                    // wait for it, they never come and the test fails instead of hanging.
                    let writes_done = done_rx.recv_timeout(Duration::from_secs(60)).is_ok();
                    Ok((writes_done, before, count(tx)))
                })
                .unwrap()
        });
        started_rx.recv().unwrap();
        let t0 = std::time::Instant::now();
        let issued = run(
            h,
            kiosk,
            at(5),
            IssueTicket {
                category_id: cat.clone(),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        );
        let called = run(h, clerk, at(6), CallNext {});
        let took = t0.elapsed();
        done_tx.send(()).unwrap();
        let (writes_done, before, after) = reader.join().unwrap();
        assert!(
            writes_done,
            "the ticket was issued and called while the read was open (took {took:?})"
        );
        assert_eq!(
            before, after,
            "the read kept its snapshot while the writes committed"
        );
        assert!(!issued.ticket.id.is_empty() && !called.id.is_empty());
    });
}

/// What a queue step paints is what a board read shows after it: the counts it carries equal
/// the board's, the window's current ticket too, and a step that paints no counts (start,
/// recall, finish) moved none. The display applies paints without reading
/// (`ui/src/lib/features/queue/paint.ts`), so a wrong paint would stay on the screen.
#[test]
fn a_step_paints_what_a_board_read_shows_and_a_step_without_counts_moves_none() {
    let day = busy_day();
    let (h, kiosk) = (&day.h, &day.kiosk);
    let (_, clerk) = &day.clerks[0];
    let board = |m: i64| run(h, kiosk, at(m), GetQueueBoard {});
    let counts_of = |b: &QueueBoard| -> Vec<(String, u32, u32, u32, u32)> {
        b.categories
            .iter()
            .map(|c| {
                (
                    c.category.id.clone(),
                    c.waiting,
                    c.priority_waiting,
                    c.issued_today,
                    c.remaining,
                )
            })
            .collect()
    };
    let paint_of = |events: &[onetrip_core::HallEvent]| -> onetrip_core::queue::paint::QueuePaint {
        let e = events.last().expect("a queue step emits its event");
        serde_json::from_value(e.paint.clone().expect("a queue step paints")).unwrap()
    };
    let check = |name: &str,
                 before: &QueueBoard,
                 events: &[onetrip_core::HallEvent],
                 m: i64|
     -> onetrip_core::queue::paint::QueuePaint {
        let after = board(m);
        let p = paint_of(events);
        if p.counts.is_empty() {
            assert_eq!(
                counts_of(before),
                counts_of(&after),
                "{name} moved a count it did not paint"
            );
        }
        for c in &p.counts {
            let shown = after
                .categories
                .iter()
                .find(|x| x.category.id == c.category_id)
                .unwrap();
            assert_eq!(
                (
                    c.waiting,
                    c.priority_waiting,
                    c.issued_today,
                    c.remaining,
                    c.estimated_minutes
                ),
                (
                    shown.waiting,
                    shown.priority_waiting,
                    shown.issued_today,
                    shown.remaining,
                    shown.estimated_minutes
                ),
                "{name}: painted counts"
            );
        }
        if let Some(w) = &p.window {
            let shown = after
                .windows
                .iter()
                .find(|x| x.window.id == w.window_id)
                .unwrap();
            assert_eq!(
                w.current.as_ref().map(|c| &c.ticket_id),
                shown.current.as_ref().map(|c| &c.ticket_id),
                "{name}: the window's current ticket"
            );
        }
        p
    };
    let cat = board(6).categories[0].category.id.clone();
    let before = board(6);
    let issued = h
        .store
        .execute(
            kiosk,
            at(6),
            IssueTicket {
                category_id: cat,
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        )
        .unwrap();
    assert_eq!(check("issue", &before, &issued.events, 6).counts.len(), 1);
    let before = board(7);
    let called = h.store.execute(clerk, at(7), CallNext {}).unwrap();
    let p = check("call", &before, &called.events, 7);
    assert_eq!(
        p.counts.len(),
        1,
        "a call moves its category's waiting count"
    );
    assert!(p.call.is_some(), "a call is announced");
    let id = called.response.id.clone();
    for (m, name) in [(8, "recall"), (9, "start"), (10, "finish")] {
        let before = board(m);
        let out = match name {
            "recall" => h.store.execute(
                clerk,
                at(m),
                Recall {
                    ticket_id: id.clone(),
                },
            ),
            "start" => h.store.execute(
                clerk,
                at(m),
                StartService {
                    ticket_id: id.clone(),
                },
            ),
            _ => h.store.execute(
                clerk,
                at(m),
                FinishTicket {
                    ticket_id: id.clone(),
                },
            ),
        }
        .unwrap();
        let p = check(name, &before, &out.events, m);
        assert!(p.counts.is_empty(), "{name} paints no counts");
    }
}
