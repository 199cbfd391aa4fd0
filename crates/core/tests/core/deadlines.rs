//! Deadline tables for the pure function, warning levels with an injected clock, and alerts
//! that wait for business hours.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_core::calendar::data::bundled_calendar;
use onetrip_core::calendar::{DayCount, WorkCalendar};
use onetrip_core::cases::{AcceptBasis, CaseEvent, DecisionOutcome, LoggedEvent, SuspendReason};
use onetrip_core::deadlines::{
    self, BusinessDay, Deadlines, ItemRules, Thresholds, Timing, WarningLevel,
};

/// Beijing wall-clock time.
fn bj(d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

fn day() -> BusinessDay {
    BusinessDay {
        spans: vec![(9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60)],
        day_count: DayCount::NextDay,
    }
}

fn rules(promised: u32, statutory: u32) -> ItemRules {
    ItemRules {
        statutory_days: statutory,
        promised_days: promised,
        thresholds: Thresholds::default(),
    }
}

fn ev(seq: u32, at: Timestamp, event: CaseEvent) -> LoggedEvent {
    LoggedEvent {
        seq,
        at,
        actor_name: "张伟".into(),
        event,
    }
}

fn accepted(at: Timestamp) -> LoggedEvent {
    ev(
        1,
        at,
        CaseEvent::Accepted {
            received_at: at,
            basis: AcceptBasis::Direct,
        },
    )
}

fn suspend(seq: u32, at: Timestamp) -> LoggedEvent {
    ev(
        seq,
        at,
        CaseEvent::Suspended {
            reason: SuspendReason::Testing,
            expected_days: 3,
            note: String::new(),
        },
    )
}

fn resume(seq: u32, at: Timestamp) -> LoggedEvent {
    ev(
        seq,
        at,
        CaseEvent::Resumed {
            note: String::new(),
        },
    )
}

fn extended(seq: u32, at: Timestamp, days: u32) -> LoggedEvent {
    ev(
        seq,
        at,
        CaseEvent::Extended {
            days,
            reason: "需专家论证".into(),
            applicant_told: true,
        },
    )
}

fn decided(seq: u32, at: Timestamp) -> LoggedEvent {
    ev(
        seq,
        at,
        CaseEvent::Decided {
            outcome: DecisionOutcome::Approved,
            note: String::new(),
        },
    )
}

fn cal() -> &'static WorkCalendar {
    static CAL: std::sync::OnceLock<WorkCalendar> = std::sync::OnceLock::new();
    CAL.get_or_init(|| bundled_calendar(7))
}

fn compute(events: &[LoggedEvent], r: ItemRules, now: Timestamp) -> Deadlines {
    deadlines::compute(events, cal(), &r, &day(), now).unwrap()
}

/// Monday 2026-11-23, 10:00.
fn mon() -> Timestamp {
    bj(date(2026, 11, 23), 10, 0)
}

#[test]
fn deadline_table() {
    struct Row {
        name: &'static str,
        events: Vec<LoggedEvent>,
        rules: ItemRules,
        now: Timestamp,
        promised: Date,
        statutory: Date,
        provisional: bool,
        paused: bool,
    }
    let d = |m, dd| date(2026, m, dd);
    let rows = vec![
        Row {
            name: "plain: the acceptance day is not counted",
            events: vec![accepted(mon())],
            rules: rules(5, 20),
            now: mon(),
            promised: d(11, 30),
            statutory: d(12, 21),
            provisional: false,
            paused: false,
        },
        Row {
            name: "a same-day (即办) item is due at the end of the acceptance day",
            events: vec![accepted(mon())],
            rules: rules(0, 5),
            now: mon(),
            promised: d(11, 23),
            statutory: d(11, 30),
            provisional: false,
            paused: false,
        },
        Row {
            name: "suspended Wed for testing, resumed next Mon: Thu, Fri and Mon are not counted",
            events: vec![
                accepted(mon()),
                suspend(2, bj(d(11, 25), 15, 0)),
                resume(3, bj(d(11, 30), 9, 30)),
            ],
            rules: rules(5, 20),
            now: bj(d(11, 30), 10, 0),
            promised: d(12, 3),
            statutory: d(12, 24),
            provisional: true,
            paused: false,
        },
        Row {
            name: "still suspended: paused, projected as if resumed today",
            events: vec![accepted(mon()), suspend(2, bj(d(11, 25), 15, 0))],
            rules: rules(5, 20),
            now: bj(d(11, 27), 10, 0),
            promised: d(12, 2),
            statutory: d(12, 23),
            provisional: false,
            paused: true,
        },
        Row {
            name: "extension of 10 working days moves both clocks; the statute now reaches 2027",
            events: vec![accepted(mon()), extended(2, bj(d(11, 26), 11, 0), 10)],
            rules: rules(5, 20),
            now: bj(d(11, 26), 11, 0),
            promised: d(12, 14),
            statutory: date(2027, 1, 4),
            provisional: true,
            paused: false,
        },
        Row {
            name: "accepted after a supplement: the clock starts on the supplement day",
            events: vec![ev(
                1,
                bj(d(12, 1), 10, 0),
                CaseEvent::Accepted {
                    received_at: mon(),
                    basis: AcceptBasis::AfterSupplement,
                },
            )],
            rules: rules(5, 20),
            now: bj(d(12, 1), 10, 0),
            promised: d(12, 8),
            statutory: d(12, 29),
            provisional: true,
            paused: false,
        },
        Row {
            name: "deemed accepted (art. 32): the clock runs from receipt, not from the lapse",
            events: vec![ev(
                1,
                bj(d(11, 24), 9, 0),
                CaseEvent::Accepted {
                    received_at: bj(d(11, 16), 10, 0),
                    basis: AcceptBasis::Deemed,
                },
            )],
            rules: rules(5, 20),
            now: bj(d(11, 24), 9, 0),
            promised: d(11, 23),
            statutory: d(12, 14),
            provisional: false,
            paused: false,
        },
        Row {
            name: "a deadline in a year without a notice is provisional",
            events: vec![accepted(bj(d(12, 15), 10, 0))],
            rules: rules(10, 20),
            now: bj(d(12, 15), 10, 0),
            promised: d(12, 29),
            statutory: date(2027, 1, 12),
            provisional: true,
            paused: false,
        },
    ];
    for r in rows {
        let out = compute(&r.events, r.rules, r.now);
        assert_eq!(out.promised.due_date, r.promised, "{}: promised", r.name);
        assert_eq!(out.statutory.due_date, r.statutory, "{}: statutory", r.name);
        assert_eq!(
            out.promised.provisional || out.statutory.provisional,
            r.provisional,
            "{}: provisional",
            r.name
        );
        assert_eq!(out.paused, r.paused, "{}: paused", r.name);
        assert_eq!(
            out.promised.due_at,
            bj(r.promised, 17, 0),
            "{}: due at the end of business",
            r.name
        );
        assert_eq!(out.calendar_version, 7);
    }
}

#[test]
fn the_five_day_notice_clock() {
    // Received Monday 2026-11-16: the notice must go out by Monday 11-23.
    assert_eq!(
        deadlines::notice_deadline(cal(), date(2026, 11, 16))
            .unwrap()
            .0,
        date(2026, 11, 23)
    );
    // Received on Wednesday 09-30, the eve of the National Day week: the holiday does not count, the
    // working Saturday 10-10 does.
    assert_eq!(
        deadlines::notice_deadline(cal(), date(2026, 9, 30))
            .unwrap()
            .0,
        date(2026, 10, 13)
    );
}

#[test]
fn countdown_and_levels_over_a_week_with_an_injected_clock() {
    let events = vec![accepted(mon())];
    let r = rules(5, 20);
    let d = |m, dd| date(2026, m, dd);
    // (now, working days left, level, overdue)
    let table: &[(Timestamp, i32, WarningLevel, bool)] = &[
        (bj(d(11, 24), 10, 0), 4, WarningLevel::None, false),
        (bj(d(11, 25), 10, 0), 3, WarningLevel::None, false),
        (bj(d(11, 26), 10, 0), 2, WarningLevel::Reminder, false),
        (bj(d(11, 27), 16, 0), 1, WarningLevel::Reminder, false),
        (bj(d(11, 28), 10, 0), 1, WarningLevel::Reminder, false), // Saturday: nothing moves
        (bj(d(11, 30), 10, 0), 0, WarningLevel::Yellow, false),
        (bj(d(11, 30), 16, 59), 0, WarningLevel::Yellow, false),
        (bj(d(11, 30), 17, 1), 0, WarningLevel::Red, true),
        (bj(d(12, 2), 10, 0), -2, WarningLevel::Red, true),
        (bj(d(12, 21), 17, 30), -15, WarningLevel::Severe, true),
    ];
    for (now, left, level, overdue) in table {
        let out = compute(&events, r, *now);
        assert_eq!(out.promised.working_days_left, *left, "days left at {now}");
        assert_eq!(out.level, *level, "level at {now}");
        assert_eq!(out.promised.overdue, *overdue, "overdue at {now}");
    }
    // Business minutes left on the due day at 16:00: one hour.
    assert_eq!(
        compute(&events, r, bj(d(11, 30), 16, 0))
            .promised
            .working_minutes_left,
        60
    );
    // On Friday 16:00: one hour today and Monday's 6.5 hours.
    assert_eq!(
        compute(&events, r, bj(d(11, 27), 16, 0))
            .promised
            .working_minutes_left,
        60 + 390
    );
    // An item's own thresholds: red only after two working days overdue.
    let lenient = ItemRules {
        thresholds: Thresholds {
            reminder_days: 3,
            yellow_days: 1,
            red_days: 2,
        },
        ..r
    };
    assert_eq!(
        compute(&events, lenient, bj(d(11, 25), 10, 0)).level,
        WarningLevel::Reminder
    );
    assert_eq!(
        compute(&events, lenient, bj(d(11, 27), 10, 0)).level,
        WarningLevel::Yellow
    );
    assert_eq!(
        compute(&events, lenient, bj(d(12, 1), 10, 0)).level,
        WarningLevel::Yellow,
        "one day overdue is still yellow under this item's rule"
    );
    assert_eq!(
        compute(&events, lenient, bj(d(12, 2), 10, 0)).level,
        WarningLevel::Red
    );
}

#[test]
fn a_paused_case_does_not_escalate() {
    let events = vec![accepted(mon()), suspend(2, bj(date(2026, 11, 24), 10, 0))];
    let out = compute(&events, rules(5, 20), bj(date(2026, 12, 10), 10, 0));
    assert!(out.paused);
    assert_eq!(
        out.promised.working_days_left, 4,
        "one day used before the suspension"
    );
    assert_eq!(out.level, WarningLevel::None);
}

#[test]
fn timing_at_the_decision() {
    let d = |m, dd| date(2026, m, dd);
    let r = rules(5, 20);
    for (at, timing, used) in [
        (bj(d(11, 27), 11, 0), Timing::Early, 4),
        (bj(d(11, 30), 16, 0), Timing::OnTime, 5),
        (bj(d(12, 1), 9, 30), Timing::Late, 6),
    ] {
        let out = compute(&[accepted(mon()), decided(2, at)], r, bj(d(12, 20), 10, 0));
        assert!(out.stopped);
        assert_eq!(out.timing, Some(timing), "decided at {at}");
        assert_eq!(out.workdays_used, Some(used), "decided at {at}");
        assert_eq!(
            out.level,
            WarningLevel::None,
            "a decided case does not warn"
        );
    }
    // Suspended days are not used days.
    let out = compute(
        &[
            accepted(mon()),
            suspend(2, bj(d(11, 24), 10, 0)),
            resume(3, bj(d(11, 27), 10, 0)),
            decided(4, bj(d(11, 30), 10, 0)),
        ],
        r,
        bj(d(12, 20), 10, 0),
    );
    assert_eq!(out.workdays_used, Some(2), "Tue, then Mon; Wed–Fri paused");
    assert_eq!(out.timing, Some(Timing::Early));
}

#[test]
fn same_day_counting_is_a_hall_setting() {
    let mut day = day();
    day.day_count = DayCount::SameDay;
    let out = deadlines::compute(&[accepted(mon())], cal(), &rules(5, 20), &day, mon()).unwrap();
    assert_eq!(out.promised.due_date, date(2026, 11, 27));
}

#[test]
fn alerts_wait_for_the_next_working_hour() {
    let day = day();
    let c = cal();
    let next = |t| deadlines::next_business_moment(c, &day, t).unwrap();
    // Inside hours: now.
    assert_eq!(next(mon()), mon());
    // Lunch break: 13:30.
    assert_eq!(
        next(bj(date(2026, 11, 23), 12, 30)),
        bj(date(2026, 11, 23), 13, 30)
    );
    // Friday night: Monday 9:00.
    assert_eq!(
        next(bj(date(2026, 11, 27), 22, 0)),
        bj(date(2026, 11, 30), 9, 0)
    );
    // National Day: the first working day after the holiday week.
    assert_eq!(
        next(bj(date(2026, 10, 1), 10, 0)),
        bj(date(2026, 10, 8), 9, 0)
    );
    // A working Saturday (调休) is a working day.
    assert_eq!(
        next(bj(date(2026, 2, 14), 10, 0)),
        bj(date(2026, 2, 14), 10, 0)
    );
}
