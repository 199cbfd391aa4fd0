//! The queue on a real SQLite file: numbering and its daily reset, limits, the calling rule,
//! every action's allowed and refused transitions, ratings, and many windows calling at once.

use std::collections::BTreeMap;

use crate::common::{Hall, demo_hall, t0};
use jiff::{SignedDuration, Timestamp};
use onetrip_core::hall::{CategoryFields, UpdateCategory};
use onetrip_core::queue::*;
use onetrip_core::{Caller, DeviceKind, ErrorCode, Operation};

fn at(min: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(min)
}

struct Q {
    h: Hall,
    clerks: BTreeMap<u32, Caller>,
    kiosk: Caller,
    admin: Caller,
}

/// The demo hall with clerks signed in at windows 1–6 (window 1 serves A only; 2: A, D;
/// 3: B; 4: B, D; 5: C; 6: D, A, B, C).
fn queue_hall() -> Q {
    let h = demo_hall();
    let mut clerks = BTreeMap::new();
    for (n, login) in [
        (1, "zhangwei"),
        (2, "liuyang"),
        (3, "wangfang"),
        (4, "lina"),
        (5, "chenjing"),
        (6, "yangqiang"),
    ] {
        let s = h.sign_in(login, Some(n));
        clerks.insert(n, h.as_token(&s));
    }
    let admin = h.sign_in("admin", None);
    let admin = h.as_token(&admin);
    Q {
        h,
        clerks,
        kiosk: Caller::device(DeviceKind::Kiosk, "kiosk"),
        admin,
    }
}

impl Q {
    fn run<O: Operation>(
        &self,
        who: &Caller,
        now: Timestamp,
        op: O,
    ) -> onetrip_core::Result<O::Response> {
        self.h.store.execute(who, now, op).map(|o| o.response)
    }
    fn cat(&self, prefix: &str) -> String {
        self.h
            .board()
            .categories
            .into_iter()
            .find(|c| c.prefix == prefix)
            .unwrap()
            .id
    }
    fn issue_with(&self, now: Timestamp, req: IssueTicket) -> onetrip_core::Result<IssuedTicket> {
        self.run(&self.kiosk, now, req)
    }
    fn issue(&self, prefix: &str, now: Timestamp) -> Ticket {
        self.issue_with(now, self.req(prefix)).unwrap().ticket
    }
    fn issue_priority(&self, prefix: &str, now: Timestamp) -> Ticket {
        let mut r = self.req(prefix);
        r.priority = Some(PriorityReason::Elderly);
        self.issue_with(now, r).unwrap().ticket
    }
    fn req(&self, prefix: &str) -> IssueTicket {
        IssueTicket {
            category_id: self.cat(prefix),
            priority: None,
            priority_note: String::new(),
            id_number: String::new(),
            applicant_name: String::new(),
        }
    }
    fn call(&self, w: u32, now: Timestamp) -> onetrip_core::Result<Ticket> {
        self.run(&self.clerks[&w], now, CallNext {})
    }
    /// Call, start and finish: the number served.
    fn serve(&self, w: u32, now: Timestamp) -> String {
        let t = self.call(w, now).unwrap();
        self.run(
            &self.clerks[&w],
            now,
            StartService {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        self.run(
            &self.clerks[&w],
            now,
            FinishTicket {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        t.number
    }
    fn settings(&self, f: impl FnOnce(&mut QueueSettings)) {
        let mut s = self.run(&self.admin, t0(), GetQueueSettings {}).unwrap();
        f(&mut s);
        self.run(&self.admin, t0(), UpdateQueueSettings { settings: s })
            .unwrap();
    }
    fn counter(&self, w: u32, now: Timestamp) -> CounterView {
        self.run(&self.clerks[&w], now, GetCounter {}).unwrap()
    }
    fn board(&self, now: Timestamp) -> QueueBoard {
        self.run(&self.kiosk, now, GetQueueBoard {}).unwrap()
    }
}

#[test]
fn numbers_are_prefix_and_three_digit_daily_sequence_per_category() {
    let q = queue_hall();
    let nums: Vec<String> = ["A", "A", "B", "A", "B"]
        .iter()
        .map(|p| q.issue(p, at(0)).number)
        .collect();
    assert_eq!(nums, ["A001", "A002", "B001", "A003", "B002"]);
    let t = q.issue("C", at(1));
    assert_eq!(t.day, "2026-11-23", "the business day is the Beijing date");
    assert_eq!(t.status, TicketStatus::Waiting);
}

#[test]
fn the_sequence_resets_at_midnight_beijing_time_and_yesterdays_tickets_are_not_called() {
    let q = queue_hall();
    // 2026-11-23 15:59 Beijing = 07:59Z.
    let late: Timestamp = "2026-11-23T07:59:00Z".parse().unwrap();
    for _ in 0..3 {
        q.issue("A", late);
    }
    // 2026-11-24 00:30 Beijing is still 2026-11-23 in UTC: the reset follows Beijing.
    let next_morning: Timestamp = "2026-11-24T00:30:00Z".parse().unwrap();
    let t = q.issue("A", next_morning);
    assert_eq!(t.number, "A001", "a new business day starts again at 001");
    assert_eq!(t.day, "2026-11-24");
    // The clerks sign in anew the next day; the call takes today's A001, not yesterday's.
    let mut q = q;
    for (n, login) in [(1, "zhangwei"), (2, "liuyang")] {
        let s =
            q.h.store
                .execute(
                    &Caller::anonymous("t"),
                    next_morning,
                    onetrip_core::staff::auth::SignIn {
                        login: login.into(),
                        password: onetrip_core::demo::DEMO_PASSWORD.into(),
                        window_id: Some(q.h.window_id(n)),
                    },
                )
                .unwrap()
                .response;
        q.clerks.insert(n, q.h.as_token(&s));
    }
    let called = q.call(1, next_morning).unwrap();
    assert_eq!(
        (called.number.as_str(), called.day.as_str()),
        ("A001", "2026-11-24")
    );
    assert_eq!(
        q.call(2, next_morning).unwrap_err().code,
        ErrorCode::QueueEmpty,
        "yesterday's waiting A002/A003 are not called today"
    );
}

#[test]
fn issuing_hours_and_the_daily_cap_are_enforced_without_consuming_numbers() {
    let q = queue_hall();
    // A issues 08:30–16:30 Beijing (the demo issues all day).
    let a = q.cat("A");
    q.run(
        &q.admin,
        t0(),
        UpdateCategory {
            id: a,
            fields: CategoryFields {
                prefix: "A".into(),
                name: "不动产登记".into(),
                daily_cap: 300,
                issue_from: "08:30".into(),
                issue_until: "16:30".into(),
            },
        },
    )
    .unwrap();
    let early: Timestamp = "2026-11-23T00:29:00Z".parse().unwrap();
    let e = q.issue_with(early, q.req("A")).unwrap_err();
    assert_eq!(e.code, ErrorCode::OutsideIssuingHours);
    assert_eq!(e.params["from"], "08:30");
    let closing: Timestamp = "2026-11-23T08:30:00Z".parse().unwrap();
    assert_eq!(
        q.issue_with(closing, q.req("A")).unwrap_err().code,
        ErrorCode::OutsideIssuingHours,
        "the end of issuing hours is exclusive"
    );
    let closed_a = |at: Timestamp| {
        q.board(at)
            .categories
            .into_iter()
            .find(|c| c.category.prefix == "A")
            .unwrap()
            .closed
    };
    assert_eq!(closed_a(early), Some(IssueClosed::NotYet));
    assert_eq!(closed_a(closing), Some(IssueClosed::Stopped));
    assert_eq!(closed_a(at(0)), None);
    let cat = q.cat("C");
    q.run(
        &q.admin,
        t0(),
        UpdateCategory {
            id: cat.clone(),
            fields: CategoryFields {
                prefix: "C".into(),
                name: "户籍".into(),
                daily_cap: 2,
                issue_from: "08:30".into(),
                issue_until: "16:00".into(),
            },
        },
    )
    .unwrap();
    q.issue("C", at(0));
    q.issue("C", at(0));
    let e = q.issue_with(at(1), q.req("C")).unwrap_err();
    assert_eq!(e.code, ErrorCode::DailyCapReached);
    assert_eq!(e.params["cap"], "2");
    let b = q.board(at(1));
    let c = b
        .categories
        .iter()
        .find(|c| c.category.prefix == "C")
        .unwrap();
    assert_eq!((c.issued_today, c.remaining, c.issuing_now), (2, 0, false));
    assert_eq!(c.closed, Some(IssueClosed::SoldOut));
    assert_eq!(q.issue("B", at(1)).number, "B001", "other categories go on");
}

/// The highest cap (999, what a slip's three digits show) sells out like any other: the 1000th
/// ticket is refused as 今日号源已取完, not failed by the counter's CHECK constraint.
#[test]
fn the_highest_daily_cap_sells_out_with_its_own_error() {
    let q = queue_hall();
    let cat = q.cat("C");
    q.run(
        &q.admin,
        t0(),
        UpdateCategory {
            id: cat,
            fields: CategoryFields {
                prefix: "C".into(),
                name: "户籍".into(),
                daily_cap: 999,
                issue_from: "00:00".into(),
                issue_until: "23:59".into(),
            },
        },
    )
    .unwrap();
    for _ in 0..999 {
        q.issue("C", at(0));
    }
    let e = q.issue_with(at(1), q.req("C")).unwrap_err();
    assert_eq!(e.code, ErrorCode::DailyCapReached, "{e}");
    assert_eq!(e.params["cap"], "999");
    assert_eq!(q.issue("B", at(1)).number, "B001", "other categories go on");
}

#[test]
fn green_channel_records_its_reason() {
    let q = queue_hall();
    let mut r = q.req("A");
    r.priority = Some(PriorityReason::Other);
    assert_eq!(
        q.issue_with(at(0), r.clone()).unwrap_err().code,
        ErrorCode::Required,
        "'other' needs a note"
    );
    r.priority_note = "携带婴儿".into();
    let t = q.issue_with(at(0), r).unwrap().ticket;
    assert_eq!(t.priority, Some(PriorityReason::Other));
    assert_eq!(t.priority_note.as_deref(), Some("携带婴儿"));
    let t = q.issue_priority("A", at(0));
    assert_eq!(t.priority, Some(PriorityReason::Elderly));
}

#[test]
fn one_waiting_ticket_per_person_and_category_with_a_valid_id_number() {
    let q = queue_hall();
    let mut r = q.req("A");
    r.id_number = "330106199001010019".into();
    let e = q.issue_with(at(0), r.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidIdNumber, "wrong check digit");
    assert_eq!(e.field.as_deref(), Some("id_number"));
    r.id_number = "330106199001010018".into();
    r.applicant_name = "张三".into();
    let first = q.issue_with(at(0), r.clone()).unwrap().ticket;
    assert_eq!(first.id_masked.as_deref(), Some("330106********0018"));
    assert_eq!(first.applicant.as_deref(), Some("张*"));
    let e = q.issue_with(at(1), r.clone()).unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyWaiting);
    assert_eq!(e.params["number"], "A001");
    let mut other = r.clone();
    other.category_id = q.cat("B");
    assert!(
        q.issue_with(at(1), other).is_ok(),
        "another category is fine"
    );
    q.serve(1, at(2));
    assert_eq!(
        q.issue_with(at(3), r).unwrap().ticket.number,
        "A002",
        "refusals consume no number, and once served the person may queue again"
    );
}

#[test]
fn recorded_times_give_waiting_and_service_time() {
    let q = queue_hall();
    let t = q.issue("A", at(0));
    let c = q.call(1, at(5)).unwrap();
    assert_eq!(c.id, t.id);
    q.run(
        &q.clerks[&1],
        at(6),
        StartService {
            ticket_id: t.id.clone(),
        },
    )
    .unwrap();
    let done = q
        .run(
            &q.clerks[&1],
            at(16),
            FinishTicket {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(done.issued_at, at(0));
    assert_eq!(done.called_at, Some(at(5)));
    assert_eq!(done.started_at, Some(at(6)));
    assert_eq!(done.finished_at, Some(at(16)));
    assert_eq!(done.wait_seconds, Some(300));
    assert_eq!(done.service_seconds, Some(600));
    assert_eq!(done.window.as_ref().map(|w| w.number), Some(1));
    assert_eq!(done.staff_name.as_deref(), Some("张伟"));
    let counts = q.counter(1, at(17)).counts;
    assert_eq!((counts.called, counts.served), (1, 1));
    assert_eq!(counts.avg_wait_seconds, Some(300));
    assert_eq!(counts.avg_service_seconds, Some(600));
}

#[test]
fn calling_follows_green_channel_then_preference_then_arrival() {
    let q = queue_hall();
    // Window 2 serves A then D.
    q.issue("D", at(0)); // D001
    q.issue("A", at(1)); // A001
    q.issue("A", at(2)); // A002
    q.issue_priority("D", at(3)); // D002, green channel
    let order: Vec<String> = (0..4).map(|i| q.serve(2, at(4 + i))).collect();
    assert_eq!(order, ["D002", "A001", "A002", "D001"]);
}

#[test]
fn green_channel_never_more_than_n_in_a_row_while_a_normal_ticket_has_aged() {
    let q = queue_hall();
    q.issue("A", at(0)); // A001 normal
    for i in 0..6 {
        q.issue_priority("A", at(1 + i)); // A002..A007
    }
    // Before the normal ticket has aged (15 min), priority tickets go first.
    assert_eq!(q.serve(1, at(8)), "A002");
    assert_eq!(q.serve(1, at(9)), "A003");
    assert_eq!(q.serve(1, at(10)), "A004");
    // Aged at minute 15, and the window's last two calls (A003, A004) were green channel.
    assert_eq!(
        q.serve(1, at(15)),
        "A001",
        "the aged normal ticket breaks the streak"
    );
    assert_eq!(q.serve(1, at(16)), "A005");
}

#[test]
fn a_requeued_no_show_goes_n_places_back_once_then_is_voided() {
    let q = queue_hall();
    q.settings(|s| {
        s.no_show_policy = NoShowPolicy::Requeue;
        s.no_show_requeue_places = 3;
    });
    for i in 0..5 {
        q.issue("A", at(i));
    }
    let a1 = q.call(1, at(6)).unwrap();
    assert_eq!(a1.number, "A001");
    let back = q
        .run(
            &q.clerks[&1],
            at(7),
            NoShow {
                ticket_id: a1.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(back.status, TicketStatus::Waiting);
    let order: Vec<String> = (0..3).map(|i| q.serve(1, at(8 + i))).collect();
    assert_eq!(order, ["A002", "A003", "A004"]);
    let again = q.call(1, at(12)).unwrap();
    assert_eq!(again.number, "A001", "three places back");
    let gone = q
        .run(
            &q.clerks[&1],
            at(13),
            NoShow {
                ticket_id: again.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(
        gone.status,
        TicketStatus::NoShow,
        "a second no-show voids it"
    );
    assert_eq!(q.serve(1, at(14)), "A005");
}

#[test]
fn recall_is_capped() {
    let q = queue_hall();
    q.issue("A", at(0));
    let t = q.call(1, at(1)).unwrap();
    for n in 1..=3 {
        let r = q
            .run(
                &q.clerks[&1],
                at(1 + n),
                Recall {
                    ticket_id: t.id.clone(),
                },
            )
            .unwrap();
        assert_eq!(r.recalls, n as u32);
    }
    let e = q
        .run(
            &q.clerks[&1],
            at(5),
            Recall {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RecallLimit);
    assert_eq!(e.params["cap"], "3");
    let calls = q.board(at(5)).recent_calls;
    assert_eq!(calls.len(), 4, "one call and three recalls are announced");
    assert_eq!(calls[0].kind, onetrip_core::queue::view::CallKind::Recall);
}

#[test]
fn hold_frees_the_window_and_call_back_needs_it_free() {
    let q = queue_hall();
    let a1 = q.issue("A", at(0));
    q.issue("A", at(1));
    let c1 = q.clerks[&1].clone();
    q.call(1, at(2)).unwrap();
    q.run(
        &c1,
        at(3),
        StartService {
            ticket_id: a1.id.clone(),
        },
    )
    .unwrap();
    let held = q
        .run(
            &c1,
            at(4),
            HoldTicket {
                ticket_id: a1.id.clone(),
                reason: "回家取户口本".into(),
            },
        )
        .unwrap();
    assert_eq!(held.status, TicketStatus::Held);
    let a2 = q.call(1, at(5)).unwrap();
    assert_eq!(a2.number, "A002");
    let e = q
        .run(
            &c1,
            at(6),
            CallBack {
                ticket_id: a1.id.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TicketActive);
    assert_eq!(e.params["number"], "A002");
    q.run(
        &c1,
        at(6),
        StartService {
            ticket_id: a2.id.clone(),
        },
    )
    .unwrap();
    q.run(
        &c1,
        at(7),
        FinishTicket {
            ticket_id: a2.id.clone(),
        },
    )
    .unwrap();
    let back = q
        .run(
            &c1,
            at(30),
            CallBack {
                ticket_id: a1.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(back.status, TicketStatus::Called);
    assert_eq!(
        back.started_at,
        Some(at(3)),
        "the first service start is kept"
    );
    assert_eq!(
        q.board(at(30)).recent_calls[0].kind,
        onetrip_core::queue::view::CallKind::CallBack
    );
    let e = q
        .run(
            &q.clerks[&2],
            at(31),
            StartService {
                ticket_id: a1.id.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::WrongWindow,
        "another window cannot act on it"
    );
}

#[test]
fn transfer_keeps_the_number_and_reaches_the_target_queue_or_window() {
    let q = queue_hall();
    let a1 = q.issue("A", at(0));
    q.issue("B", at(5)); // B001 arrived later than A001
    let c1 = q.clerks[&1].clone();
    q.call(1, at(6)).unwrap();
    q.run(
        &c1,
        at(7),
        StartService {
            ticket_id: a1.id.clone(),
        },
    )
    .unwrap();
    let moved = q
        .run(
            &c1,
            at(8),
            TransferTicket {
                ticket_id: a1.id.clone(),
                to_category_id: Some(q.cat("B")),
                to_window_id: None,
                reason: "应办社保".into(),
            },
        )
        .unwrap();
    assert_eq!(
        (moved.number.as_str(), moved.status),
        ("A001", TicketStatus::Waiting)
    );
    assert_eq!(moved.category.prefix, "B");
    assert_eq!(
        q.call(3, at(9)).unwrap().number,
        "A001",
        "it keeps its place by arrival in the B queue"
    );
    // To a window: only that window calls it, before its own queues.
    let a2 = q.issue("A", at(10));
    q.issue("D", at(10));
    q.call(1, at(11)).unwrap();
    let e = q
        .run(
            &c1,
            at(12),
            TransferTicket {
                ticket_id: a2.id.clone(),
                to_category_id: None,
                to_window_id: Some(q.h.window_id(1)),
                reason: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTransition, "not to itself");
    q.run(
        &c1,
        at(12),
        TransferTicket {
            ticket_id: a2.id.clone(),
            to_category_id: None,
            to_window_id: Some(q.h.window_id(4)),
            reason: String::new(),
        },
    )
    .unwrap();
    assert_eq!(
        q.call(2, at(13)).unwrap().number,
        "D001",
        "window 2 serves A but does not see A002, which was sent to window 4"
    );
    assert_eq!(q.call(4, at(13)).unwrap().number, "A002");
}

#[test]
fn a_paused_window_calls_nothing_and_is_not_counted_open() {
    let q = queue_hall();
    q.issue("C", at(0));
    let before = q.board(at(0));
    let c = before
        .categories
        .iter()
        .find(|c| c.category.prefix == "C")
        .unwrap();
    assert_eq!(c.windows_open, 2, "windows 5 and 6 serve C");
    let c5 = q.clerks[&5].clone();
    q.run(
        &c5,
        at(1),
        PauseWindow {
            reason: "午间会议".into(),
        },
    )
    .unwrap();
    assert_eq!(q.call(5, at(2)).unwrap_err().code, ErrorCode::WindowPaused);
    assert_eq!(
        q.run(
            &c5,
            at(2),
            PauseWindow {
                reason: "again".into()
            }
        )
        .unwrap_err()
        .code,
        ErrorCode::WindowPaused
    );
    let b = q.board(at(2));
    assert_eq!(
        b.categories
            .iter()
            .find(|c| c.category.prefix == "C")
            .unwrap()
            .windows_open,
        1
    );
    assert_eq!(
        b.windows
            .iter()
            .find(|w| w.window.number == 5)
            .unwrap()
            .paused
            .as_deref(),
        Some("午间会议")
    );
    q.run(&c5, at(3), ResumeWindow {}).unwrap();
    assert_eq!(q.call(5, at(4)).unwrap().number, "C001");
    assert_eq!(
        q.run(&c5, at(5), ResumeWindow {}).unwrap_err().code,
        ErrorCode::InvalidTransition
    );
}

#[test]
fn calling_a_specific_ticket_is_off_by_default_and_audited_when_on() {
    let q = queue_hall();
    q.issue("A", at(0));
    let a2 = q.issue("A", at(1));
    let req = || CallSpecific {
        ticket_id: a2.id.clone(),
        reason: "预约到号".into(),
    };
    assert_eq!(
        q.run(&q.clerks[&1], at(2), req()).unwrap_err().code,
        ErrorCode::SettingDisabled
    );
    q.settings(|s| s.allow_call_specific = true);
    assert_eq!(
        q.run(&q.clerks[&3], at(2), req()).unwrap_err().code,
        ErrorCode::WrongWindow,
        "window 3 does not serve A"
    );
    let t = q.run(&q.clerks[&1], at(2), req()).unwrap();
    assert_eq!(t.number, "A002");
    let logged: String =
        q.h.store
            .read(|tx| {
                Ok(tx.query_row(
                    "SELECT summary FROM audit_log WHERE op = 'queue.call_specific'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
    assert!(logged.contains("越序叫号 A002：预约到号"), "{logged}");
}

/// Every action from every state: allowed ones succeed, the others are refused with a code and
/// change nothing.
#[test]
fn every_action_from_every_state() {
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum St {
        Waiting,
        Called,
        Serving,
        Held,
        Done,
        NoShow,
    }
    let actions = [
        "recall",
        "start",
        "no_show",
        "hold",
        "call_back",
        "transfer",
        "finish",
        "rate",
    ];
    let allowed = |s: St, a: &str| {
        matches!(
            (s, a),
            (St::Called, "recall" | "start" | "no_show" | "transfer")
                | (St::Serving, "hold" | "transfer" | "finish")
                | (St::Held, "call_back")
                | (St::Done, "rate")
        )
    };
    let q = queue_hall();
    let c1 = q.clerks[&1].clone();
    let rater = q.h.rater(1);
    let mut minute = 0;
    for s in [
        St::Waiting,
        St::Called,
        St::Serving,
        St::Held,
        St::Done,
        St::NoShow,
    ] {
        for a in actions {
            minute += 1;
            let now = at(minute);
            // Put a fresh ticket into state `s` at window 1.
            let t = if s == St::Waiting {
                q.issue("B", now) // window 1 does not serve B: it stays waiting
            } else {
                let t = q.issue("A", now);
                assert_eq!(q.call(1, now).unwrap().id, t.id);
                if matches!(s, St::Serving | St::Held | St::Done) {
                    q.run(
                        &c1,
                        now,
                        StartService {
                            ticket_id: t.id.clone(),
                        },
                    )
                    .unwrap();
                }
                if s == St::Held {
                    q.run(
                        &c1,
                        now,
                        HoldTicket {
                            ticket_id: t.id.clone(),
                            reason: String::new(),
                        },
                    )
                    .unwrap();
                }
                if s == St::Done {
                    q.run(
                        &c1,
                        now,
                        FinishTicket {
                            ticket_id: t.id.clone(),
                        },
                    )
                    .unwrap();
                }
                if s == St::NoShow {
                    q.run(
                        &c1,
                        now,
                        NoShow {
                            ticket_id: t.id.clone(),
                        },
                    )
                    .unwrap();
                }
                t
            };
            let id = t.id.clone();
            let before = q.h.dump();
            let result: onetrip_core::Result<()> = match a {
                "recall" => q
                    .run(
                        &c1,
                        now,
                        Recall {
                            ticket_id: id.clone(),
                        },
                    )
                    .map(drop),
                "start" => q
                    .run(
                        &c1,
                        now,
                        StartService {
                            ticket_id: id.clone(),
                        },
                    )
                    .map(drop),
                "no_show" => q
                    .run(
                        &c1,
                        now,
                        NoShow {
                            ticket_id: id.clone(),
                        },
                    )
                    .map(drop),
                "hold" => q
                    .run(
                        &c1,
                        now,
                        HoldTicket {
                            ticket_id: id.clone(),
                            reason: String::new(),
                        },
                    )
                    .map(drop),
                "call_back" => q
                    .run(
                        &c1,
                        now,
                        CallBack {
                            ticket_id: id.clone(),
                        },
                    )
                    .map(drop),
                "transfer" => q
                    .run(
                        &c1,
                        now,
                        TransferTicket {
                            ticket_id: id.clone(),
                            to_category_id: None,
                            to_window_id: Some(q.h.window_id(2)),
                            reason: String::new(),
                        },
                    )
                    .map(drop),
                "finish" => q
                    .run(
                        &c1,
                        now,
                        FinishTicket {
                            ticket_id: id.clone(),
                        },
                    )
                    .map(drop),
                "rate" => q
                    .run(
                        &rater,
                        now,
                        RateTicket {
                            ticket_id: id.clone(),
                            level: RatingLevel::Satisfied,
                            reasons: vec![],
                            comment: String::new(),
                        },
                    )
                    .map(drop),
                _ => unreachable!(),
            };
            if allowed(s, a) {
                result.unwrap_or_else(|e| panic!("{a} from {s:?} must be allowed: {e}"));
            } else {
                let e = result.expect_err(&format!("{a} from {s:?} must be refused"));
                assert_eq!(e.code, ErrorCode::InvalidTransition, "{a} from {s:?}: {e}");
                assert_eq!(
                    q.h.dump(),
                    before,
                    "a refused {a} from {s:?} changes nothing"
                );
            }
            // Free the window for the next case.
            let cur = q.counter(1, now).current;
            if let Some(cur) = cur {
                if cur.status == TicketStatus::Called {
                    q.run(
                        &c1,
                        now,
                        StartService {
                            ticket_id: cur.id.clone(),
                        },
                    )
                    .unwrap();
                }
                q.run(&c1, now, FinishTicket { ticket_id: cur.id }).unwrap();
            }
            // A transferred ticket now waits for window 2: serve it there.
            if a == "transfer" && allowed(s, a) {
                q.serve(2, now);
            }
        }
    }
}

#[test]
fn estimated_wait_uses_recent_service_times_and_open_windows() {
    let q = queue_hall();
    // Two C tickets served in 6 and 10 minutes from call to finish at window 5.
    for (call, finish) in [(0, 6), (10, 20)] {
        let t = q.issue("C", at(call));
        q.call(5, at(call)).unwrap();
        q.run(
            &q.clerks[&5],
            at(call),
            StartService {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        q.run(&q.clerks[&5], at(finish), FinishTicket { ticket_id: t.id })
            .unwrap();
    }
    for _ in 0..3 {
        q.issue("C", at(21));
    }
    let issued = q.issue_with(at(22), q.req("C")).unwrap();
    assert_eq!(issued.ahead, 3);
    assert_eq!(issued.windows_open, 2, "windows 5 and 6 serve C");
    // Mean 8 minutes; 3 ahead over 2 windows = 12 minutes.
    assert_eq!(issued.estimated_minutes, Some(12));
    let slip = q
        .run(
            &q.kiosk,
            at(22),
            onetrip_core::queue::ticket::GetTicketSlip {
                ticket_id: issued.ticket.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(
        (slip.number.as_str(), slip.ahead, slip.estimated_minutes),
        ("C006", 3, Some(12))
    );
    assert_eq!(slip.qr, issued.ticket.id);
    assert_eq!(slip.hall_name, "西湖区政务服务中心");
    assert_eq!(slip.note, "过号请重新取号");
    assert_eq!(slip.issued_at, "2026-11-23 10:22:00");
}

#[test]
fn the_display_board_shows_current_calls_and_waiting_counts_with_masked_names() {
    let q = queue_hall();
    let mut r = q.req("B");
    r.applicant_name = "欧阳娜娜".into();
    q.issue_with(at(0), r).unwrap();
    q.issue("B", at(1));
    q.issue_priority("B", at(1));
    let called = q.call(3, at(2)).unwrap();
    assert_eq!(called.number, "B003", "green channel first");
    let c2 = q.call(4, at(3)).unwrap();
    assert_eq!(c2.applicant.as_deref(), Some("欧***"));
    let b = q.board(at(3));
    let w4 = b.windows.iter().find(|w| w.window.number == 4).unwrap();
    assert_eq!(w4.current.as_ref().unwrap().number, "B001");
    assert_eq!(
        w4.current.as_ref().unwrap().applicant.as_deref(),
        Some("欧***")
    );
    assert_eq!(w4.clerk.as_deref(), Some("李娜"));
    assert_eq!(b.recent_calls[0].number, "B001", "newest first");
    assert_eq!(b.recent_calls[0].window_number, 4);
    let bq = b
        .categories
        .iter()
        .find(|c| c.category.prefix == "B")
        .unwrap();
    assert_eq!((bq.waiting, bq.issued_today), (1, 3));
    let json = serde_json::to_string(&b).unwrap();
    assert!(
        !json.contains("欧阳娜娜"),
        "the public board never carries a full name"
    );
}

/// 16 windows, each on its own connection to the same file, call next at once until the
/// queue is empty: every ticket is called exactly once.
#[test]
fn sixteen_windows_calling_at_once_claim_every_ticket_exactly_once() {
    use onetrip_core::hall::{CreateWindow, WindowFields};
    use onetrip_core::staff::auth::{ChangePassword, SignIn};
    use onetrip_core::staff::{CreateStaff, Role};
    let q = queue_hall();
    let a = q.cat("A");
    let mut callers = Vec::new();
    for i in 0..16u32 {
        let number = 100 + i;
        let w = q
            .run(
                &q.admin,
                t0(),
                CreateWindow {
                    fields: WindowFields {
                        number,
                        name: format!("并发{i}"),
                        category_ids: vec![a.clone()],
                    },
                },
            )
            .unwrap();
        let login = format!("load{i:02}");
        q.run(
            &q.admin,
            t0(),
            CreateStaff {
                login: login.clone(),
                name: format!("压测{i}"),
                role: Role::Clerk,
                initial_password: "Start2026a".into(),
            },
        )
        .unwrap();
        let s = q
            .run(
                &Caller::anonymous("t"),
                t0(),
                SignIn {
                    login,
                    password: "Start2026a".into(),
                    window_id: Some(w.id),
                },
            )
            .unwrap();
        let c = Caller::token(s.token, "t");
        q.run(
            &c,
            t0(),
            ChangePassword {
                old_password: "Start2026a".into(),
                new_password: "Mine2026b".into(),
            },
        )
        .unwrap();
        callers.push(c);
    }
    const TICKETS: usize = 240;
    let mut issued = Vec::new();
    for _ in 0..TICKETS {
        issued.push(q.issue("A", at(1)).id);
    }
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = callers
        .into_iter()
        .map(|c| {
            let barrier = barrier.clone();
            let store = q.h.reopen_at(at(2));
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    match store.execute(&c, at(2), CallNext {}) {
                        Ok(o) => {
                            let id = o.response.id;
                            store
                                .execute(
                                    &c,
                                    at(2),
                                    StartService {
                                        ticket_id: id.clone(),
                                    },
                                )
                                .unwrap();
                            store
                                .execute(
                                    &c,
                                    at(3),
                                    FinishTicket {
                                        ticket_id: id.clone(),
                                    },
                                )
                                .unwrap();
                            mine.push(id);
                        }
                        Err(e) if e.code == ErrorCode::QueueEmpty => break,
                        Err(e) => panic!("call next failed: {e}"),
                    }
                }
                mine
            })
        })
        .collect();
    let mut called: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(called.len(), TICKETS, "every ticket called, none twice");
    called.sort();
    called.dedup();
    assert_eq!(called.len(), TICKETS, "no ticket called by two windows");
    issued.sort();
    assert_eq!(called, issued);
}

/// Tickets are issued on the hall's working days only: not on a Sunday, not on a public
/// holiday, not on a day a local override closes; on the 调休 Saturday that is a working day,
/// yes. The kiosk's board says why and when issuing opens again; a hall that serves on days
/// off (节假日不打烊) issues then.
#[test]
fn issuing_follows_the_working_day_calendar() {
    let q = queue_hall();
    q.settings(|s| s.serve_days_off = false);
    let day_off_of = |at: &str| {
        let e = q.issue_with(at.parse().unwrap(), q.req("A")).unwrap_err();
        assert_eq!(e.code, ErrorCode::HallClosed, "{at}: {e:?}");
        assert!(e.message.contains("不办公"), "{}", e.message);
        e
    };
    // Sunday 22 November 2026, 10:00: closed until Monday.
    let e = day_off_of("2026-11-22T02:00:00Z");
    assert_eq!(e.params["next_open"], "2026-11-23");
    let board = q.board("2026-11-22T02:00:00Z".parse().unwrap());
    let off = board
        .day_off
        .expect("the board says the hall is closed today");
    assert_eq!(off.next_open.as_deref(), Some("2026-11-23"));
    assert!(
        board
            .categories
            .iter()
            .all(|c| !c.issuing_now && c.closed == Some(IssueClosed::DayOff))
    );
    // National Day: closed, named, and the next working day is after the whole holiday.
    let e = day_off_of("2026-10-01T02:00:00Z");
    assert_eq!(e.params["name"], "国庆节");
    let next = e.params["next_open"].to_string();
    assert!(next.as_str() > "2026-10-07", "{next}");
    // The working Saturday before the Spring Festival (调休) issues like any working day.
    let sat = q.issue("A", "2026-02-14T02:00:00Z".parse().unwrap());
    assert_eq!(sat.day, "2026-02-14");
    assert!(
        q.board("2026-02-14T02:00:00Z".parse().unwrap())
            .day_off
            .is_none()
    );
    // A local override (台风停工) closes a Monday, and nothing is issued then.
    q.run(
        &q.admin,
        t0(),
        onetrip_core::calendar::AddOverride {
            date: "2026-11-30".into(),
            off_day: true,
            reason: "市政府通知：台风停工".into(),
        },
    )
    .unwrap();
    let e = day_off_of("2026-11-30T02:00:00Z");
    assert_eq!(e.params["next_open"], "2026-12-01");
    // Refused issuing changed nothing: the Sunday issued no number.
    assert_eq!(
        q.board("2026-11-22T02:00:00Z".parse().unwrap())
            .categories
            .iter()
            .map(|c| c.issued_today)
            .sum::<u32>(),
        0
    );
    // 节假日不打烊: the hall serves on days off, and the Sunday issues.
    q.settings(|s| s.serve_days_off = true);
    let sunday = q.issue("A", "2026-11-22T02:00:00Z".parse().unwrap());
    assert_eq!(sunday.number, "A001");
    assert!(
        q.board("2026-11-22T02:00:00Z".parse().unwrap())
            .day_off
            .is_none()
    );
}

/// The kiosk reads an ID (a reader typing it, or the keypad): the person's age suggests the
/// green channel from the hall's age (70), the numbers they hold show, and with the ID the
/// one-waiting-ticket rule applies at the kiosk too.
#[test]
fn the_kiosk_knows_a_person_by_their_id_and_applies_the_one_ticket_rule() {
    let q = queue_hall();
    let elderly = "11010519491231002X"; // born 31 December 1949
    let base = "11010519900307123";
    let young = format!("{base}{}", onetrip_core::validate::gb11643_check(base));
    let identify = |id: &str| {
        q.run(
            &q.kiosk,
            at(0),
            IdentifyPerson {
                id_number: id.into(),
            },
        )
    };
    let old = identify(elderly).unwrap();
    assert_eq!(old.age, 76, "not yet 77 on 23 November 2026");
    assert!(old.suggest_green);
    assert_eq!(old.id_masked, "110105********002X");
    assert!(old.holding.is_empty());
    let y = identify(&young).unwrap();
    assert_eq!(y.age, 36);
    assert!(!y.suggest_green);
    assert_eq!(
        identify("110105194912310021").unwrap_err().code,
        ErrorCode::InvalidIdNumber,
        "a wrong check digit"
    );
    // Taken with the ID (and the suggested green channel): held, and a second one refused.
    let mut req = q.req("A");
    req.id_number = elderly.into();
    req.priority = Some(PriorityReason::Elderly);
    let t = q.issue_with(at(1), req.clone()).unwrap().ticket;
    let held = identify(elderly).unwrap().holding;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].number, t.number);
    assert_eq!(
        q.issue_with(at(2), req).unwrap_err().code,
        ErrorCode::AlreadyWaiting
    );
    // The hall turns the age suggestion off.
    q.settings(|s| s.elderly_age = 0);
    assert!(!identify(elderly).unwrap().suggest_green);
    // A nonsense age is refused.
    let mut s = q.run(&q.admin, t0(), GetQueueSettings {}).unwrap();
    s.elderly_age = 30;
    assert_eq!(
        q.run(&q.admin, t0(), UpdateQueueSettings { settings: s })
            .unwrap_err()
            .code,
        ErrorCode::OutOfRange
    );
}
