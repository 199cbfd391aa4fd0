//! Cases on a real SQLite file: acceptance, the event log, who may act, extensions, recomputation
//! after a calendar change, alerts that wait for business hours, and the figures.

use crate::common::{Hall, demo_hall, t0};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_core::calendar::AddOverride;
use onetrip_core::cases::{
    AcceptCase, ActOnCase, CaseAction, CaseDetail, CaseScope, DecideExtension, DecisionOutcome,
    GetCaseBoard, ListAlerts, ListCases, SuspendReason,
};
use onetrip_core::catalog::{CreateItem, ListItems, ServiceItem};
use onetrip_core::deadlines::{Timing, WarningLevel};
use onetrip_core::reports::case_stats::GetCaseStats;
use onetrip_core::{Caller, ErrorCode};

fn bj(d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

fn item(h: &Hall, code: &str) -> ServiceItem {
    h.store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response
        .into_iter()
        .find(|i| i.fields.code == code)
        .unwrap()
}

fn accept(h: &Hall, c: &Caller, code: &str, at: Timestamp) -> CaseDetail {
    h.store
        .execute(
            c,
            at,
            AcceptCase {
                item_id: item(h, code).id,
                applicant_name: "王𠇔".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: "13800000000".into(),
                ticket_id: None,
            },
        )
        .unwrap()
        .response
}

fn mine(
    h: &Hall,
    c: &Caller,
    open_only: bool,
) -> onetrip_core::Result<Vec<onetrip_core::cases::CaseSummary>> {
    list(h, c, CaseScope::Mine, open_only)
}

fn list(
    h: &Hall,
    c: &Caller,
    scope: CaseScope,
    open_only: bool,
) -> onetrip_core::Result<Vec<onetrip_core::cases::CaseSummary>> {
    h.store
        .execute(
            c,
            t0(),
            ListCases {
                scope,
                open_only,
                level: None,
                item_id: None,
                owner_id: None,
                query: None,
            },
        )
        .map(|o| o.response)
}

fn act(
    h: &Hall,
    c: &Caller,
    id: &str,
    at: Timestamp,
    action: CaseAction,
) -> onetrip_core::Result<CaseDetail> {
    h.store
        .execute(
            c,
            at,
            ActOnCase {
                id: id.into(),
                action,
            },
        )
        .map(|o| o.response)
}

#[test]
fn a_case_is_numbered_and_counts_down_from_acceptance() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let a = accept(&h, &c, "BDC-001", t0());
    assert_eq!(a.case.number, "330106-2026-000001");
    assert_eq!(
        a.case.applicant_name, "王𠇔",
        "an Extension B character survives storage"
    );
    assert_eq!(a.case.applicant_id_masked, "110105********002X");
    assert_eq!(a.case.deadlines.promised.due_date, date(2026, 11, 30));
    assert_eq!(a.case.deadlines.statutory.due_date, date(2027, 1, 4));
    assert!(
        a.case.deadlines.statutory.provisional,
        "30 working days reach 2027"
    );
    assert_eq!(a.allowed, vec!["start", "suspend", "decide"]);
    assert_eq!(a.case.window_number, Some(1));
    let b = accept(&h, &c, "BDC-002", t0());
    assert_eq!(b.case.number, "330106-2026-000002");
    // "My cases" lists them, most urgent first (BDC-002 is due sooner).
    let listed = mine(&h, &c, true).unwrap();
    assert_eq!(
        listed.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(),
        ["330106-2026-000002", "330106-2026-000001"]
    );
    // Another clerk sees neither, and cannot act on them.
    let other = h.as_token(&h.sign_in("lina", Some(4)));
    let theirs = mine(&h, &other, false).unwrap();
    assert!(theirs.is_empty());
    let dump = h.dump();
    let err = act(&h, &other, &a.case.id, t0(), CaseAction::Start).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let err = list(&h, &other, CaseScope::Hall, true).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert_eq!(h.dump(), dump, "refusals change nothing");
}

#[test]
fn suspend_resume_extend_decide_complete() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let on = |d: Date| h.sign_in_at("zhangwei", Some(1), bj(d, 8, 30));
    // 户口迁入: promised 7, statutory 20, extension 10.
    let a = accept(&h, &c, "HJ-001", t0());
    let id = a.case.id.clone();
    assert_eq!(a.case.deadlines.promised.due_date, date(2026, 12, 2));
    act(&h, &c, &id, t0(), CaseAction::Start).unwrap();
    let c = on(date(2026, 11, 24));
    let s = act(
        &h,
        &c,
        &id,
        bj(date(2026, 11, 24), 10, 0),
        CaseAction::Suspend {
            reason: SuspendReason::Appraisal,
            expected_days: 3,
            note: "笔迹鉴定".into(),
        },
    )
    .unwrap();
    assert!(s.case.deadlines.paused);
    assert_eq!(s.allowed, vec!["resume", "request_extension"]);
    // Nothing but resume and extension requests while suspended.
    let c = on(date(2026, 11, 25));
    let err = act(
        &h,
        &c,
        &id,
        bj(date(2026, 11, 25), 10, 0),
        CaseAction::Decide {
            outcome: DecisionOutcome::Approved,
            note: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidTransition);
    let c = on(date(2026, 11, 27));
    let sup = h.sign_in_at("zhouhong", None, bj(date(2026, 11, 27), 8, 30));
    let r = act(
        &h,
        &c,
        &id,
        bj(date(2026, 11, 27), 10, 0),
        CaseAction::Resume {
            note: "鉴定完毕".into(),
        },
    )
    .unwrap();
    // One day used (Tue), Wed–Fri not counted: 6 left from Friday → Monday 12-07.
    assert_eq!(r.case.deadlines.promised.due_date, date(2026, 12, 7));
    // Asking more than the item allows is refused.
    let err = act(
        &h,
        &c,
        &id,
        bj(date(2026, 11, 27), 11, 0),
        CaseAction::RequestExtension {
            days: 11,
            reason: "需补充调查".into(),
        },
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.params["left"].as_str()),
        (ErrorCode::ExtensionExceeded, "10")
    );
    let req = act(
        &h,
        &c,
        &id,
        bj(date(2026, 11, 27), 11, 0),
        CaseAction::RequestExtension {
            days: 5,
            reason: "需补充调查".into(),
        },
    )
    .unwrap();
    assert_eq!(req.case.pending_extension, Some(5));
    assert!(
        !req.may_decide_extension,
        "a clerk does not approve their own extension"
    );
    // A clerk cannot approve; a supervisor must tell the applicant.
    let decide = |caller: &Caller, told: bool| {
        h.store.execute(
            caller,
            bj(date(2026, 11, 27), 14, 0),
            DecideExtension {
                id: id.clone(),
                approve: true,
                applicant_told: told,
                note: String::new(),
            },
        )
    };
    assert_eq!(decide(&c, true).unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(
        decide(&sup, false).unwrap_err().field.as_deref(),
        Some("applicant_told")
    );
    let e = decide(&sup, true).unwrap().response;
    assert_eq!(e.case.deadlines.promised.limit_days, 12);
    assert_eq!(e.case.deadlines.promised.due_date, date(2026, 12, 14));
    assert_eq!(e.extension_left, 5);
    let c = on(date(2026, 12, 4));
    let d = act(
        &h,
        &c,
        &id,
        bj(date(2026, 12, 4), 15, 0),
        CaseAction::Decide {
            outcome: DecisionOutcome::Approved,
            note: "准予迁入".into(),
        },
    )
    .unwrap();
    assert_eq!(d.case.deadlines.timing, Some(Timing::Early));
    let c = on(date(2026, 12, 7));
    let done = act(
        &h,
        &c,
        &id,
        bj(date(2026, 12, 7), 9, 30),
        CaseAction::Complete {
            note: "已领取".into(),
        },
    )
    .unwrap();
    assert!(done.allowed.is_empty());
    let kinds: Vec<_> = done.events.iter().map(|e| e.event.kind()).collect();
    assert_eq!(
        kinds,
        [
            "accepted",
            "started",
            "suspended",
            "resumed",
            "extension_requested",
            "extended",
            "decided",
            "completed"
        ]
    );
    // The log cannot be edited.
    assert!(h.raw_batch("UPDATE case_events SET at = 0").is_err());
    assert!(h.raw_batch("DELETE FROM case_events").is_err());
    // The figures: one case decided early, 6 working days used (Tue; then Mon–Fri: the
    // resumption day itself is not counted, like the acceptance day).
    let sup = h.sign_in_at("zhouhong", None, bj(date(2026, 12, 7), 8, 30));
    let stats = h
        .store
        .execute(
            &sup,
            bj(date(2026, 12, 7), 10, 0),
            GetCaseStats {
                from: "2026-12-01".into(),
                to: "2026-12-31".into(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(stats.total.decided, 1);
    assert_eq!(stats.total.early_rate, Some(100.0));
    assert_eq!(stats.total.on_time_rate, Some(100.0));
    assert_eq!(stats.total.average_workdays, Some(6.0));
    assert_eq!(stats.by_clerk[0].name, "张伟");
}

#[test]
fn a_calendar_change_recomputes_every_open_case_and_keeps_the_version() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let a = accept(&h, &c, "BDC-001", t0());
    let row = |h: &Hall| {
        h.store
            .read(|tx| {
                Ok(tx.query_row(
                    "SELECT promised_due_at, calendar_version FROM cases WHERE id = ?1",
                    [&a.case.id],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )?)
            })
            .unwrap()
    };
    let (due0, v0) = row(&h);
    assert_eq!(due0, bj(date(2026, 11, 30), 17, 0).as_millisecond());
    // The city declares Thursday 11-26 a day off (typhoon): the deadline moves a day.
    h.store
        .execute(
            &Caller::system("t"),
            t0(),
            AddOverride {
                date: "2026-11-26".into(),
                off_day: true,
                reason: "台风停工".into(),
            },
        )
        .unwrap();
    let (due1, v1) = row(&h);
    assert_eq!(due1, bj(date(2026, 12, 1), 17, 0).as_millisecond());
    assert_eq!(v1, v0 + 1);
}

#[test]
fn alerts_raised_at_night_or_on_a_holiday_wait_for_the_next_working_hour() {
    let h = demo_hall();
    let c = h.sign_in_at("zhangwei", Some(1), bj(date(2026, 11, 26), 8, 30));
    // 个体工商户设立登记: promised 1 working day. Accepted Thursday 11-26 16:00: due Friday 17:00.
    let a = accept(&h, &c, "SC-001", bj(date(2026, 11, 26), 16, 0));
    let sweep = |t| {
        onetrip_core::app::jobs::sweep_deadlines(&h.store, t)
            .unwrap()
            .0
    };
    // The reminder raised at acceptance goes out at the next sweep in office hours.
    let r = sweep(bj(date(2026, 11, 26), 16, 1));
    assert_eq!(r.delivered.len(), 1);
    assert_eq!(r.delivered[0].level, WarningLevel::Reminder);
    // It becomes overdue (red) at Friday 17:00; the 22:00 sweep raises it but delivers nothing.
    let r = sweep(bj(date(2026, 11, 27), 22, 0));
    assert_eq!(r.raised, 1);
    assert!(r.delivered.is_empty(), "no alerts at night");
    let r = sweep(bj(date(2026, 11, 28), 10, 0));
    assert!(r.delivered.is_empty(), "no alerts on a Saturday");
    let r = sweep(bj(date(2026, 11, 30), 9, 0));
    assert_eq!(r.delivered.len(), 1, "delivered at Monday 9:00");
    assert_eq!(r.delivered[0].level, WarningLevel::Red);
    assert_eq!(r.delivered[0].case_id, a.case.id);
    // The clerk and the supervisor see it; another clerk does not.
    let monday = bj(date(2026, 11, 30), 8, 30);
    let c = h.sign_in_at("zhangwei", Some(1), monday);
    let list = |caller: &Caller| {
        h.store
            .execute(caller, bj(date(2026, 11, 30), 9, 1), ListAlerts {})
            .unwrap()
            .response
    };
    assert_eq!(list(&c).len(), 2);
    let sup = h.sign_in_at("zhouhong", None, monday);
    assert_eq!(list(&sup).len(), 2);
    assert!(list(&h.sign_in_at("lina", Some(4), monday)).is_empty());
    // The board puts the red case first and counts it per clerk and item.
    let board = h
        .store
        .execute(&sup, bj(date(2026, 11, 30), 9, 1), GetCaseBoard {})
        .unwrap()
        .response;
    assert_eq!(board.total.red, 1);
    assert_eq!(board.by_clerk[0].name, "张伟");
    assert_eq!(board.by_item[0].red, 1);
    // A quiet sweep writes nothing.
    let before = h.audit_count();
    let r = sweep(bj(date(2026, 11, 30), 9, 2));
    assert_eq!((r.raised, r.delivered.len()), (0, 0));
    assert_eq!(h.audit_count(), before);
}

#[test]
fn bad_catalog_input_is_refused_with_its_field_and_changes_nothing() {
    let h = demo_hall();
    let sys = Caller::system("t");
    let base = item(&h, "SC-001").fields;
    type Edit = Box<dyn Fn(&mut onetrip_core::catalog::ItemFields)>;
    let cases: Vec<(&str, Edit, ErrorCode, &str)> = vec![
        (
            "promise beyond statute",
            Box::new(|f| f.promised_days = 4),
            ErrorCode::PromiseExceedsStatute,
            "promised_days",
        ),
        (
            "duplicate code",
            Box::new(|f| f.code = "BDC-001".into()),
            ErrorCode::DuplicateItemCode,
            "code",
        ),
        (
            "code with spaces",
            Box::new(|f| f.code = "SC 009".into()),
            ErrorCode::InvalidFormat,
            "code",
        ),
        (
            "empty name",
            Box::new(|f| {
                f.code = "X-1".into();
                f.name = "  ".into()
            }),
            ErrorCode::Required,
            "name",
        ),
        (
            "statute over a year",
            Box::new(|f| {
                f.code = "X-2".into();
                f.statutory_days = 400
            }),
            ErrorCode::OutOfRange,
            "statutory_days",
        ),
        (
            "conditional without a condition",
            Box::new(|f| {
                f.code = "X-3".into();
                f.materials[0].requirement = onetrip_core::catalog::Requirement::Conditional;
                f.materials[0].condition = String::new();
            }),
            ErrorCode::Required,
            "materials.0.condition",
        ),
        (
            "zero copies",
            Box::new(|f| {
                f.code = "X-4".into();
                f.materials[1].copies = 0
            }),
            ErrorCode::OutOfRange,
            "materials.1.copies",
        ),
        (
            "unknown category",
            Box::new(|f| {
                f.code = "X-5".into();
                f.category_id = Some("0190c0de-0000-7000-8000-000000000000".into())
            }),
            ErrorCode::NotFound,
            "category_id",
        ),
    ];
    let dump = h.dump();
    for (name, edit, code, field) in cases {
        let mut f = base.clone();
        edit(&mut f);
        let err = h
            .store
            .execute(&sys, t0(), CreateItem { fields: f })
            .unwrap_err();
        assert_eq!(err.code, code, "{name}: {}", err.message);
        assert_eq!(err.field.as_deref(), Some(field), "{name}");
        assert!(
            err.message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{name}: Chinese message"
        );
    }
    assert_eq!(h.dump(), dump);
}

#[test]
fn the_demo_catalog_is_realistic() {
    let h = demo_hall();
    let items = h
        .store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response;
    assert!(items.len() >= 20);
    for i in &items {
        assert!(
            i.fields.promised_days <= i.fields.statutory_days,
            "{}",
            i.fields.code
        );
        assert!(!i.fields.materials.is_empty(), "{}", i.fields.code);
        assert!(
            i.fields.category_id.is_some(),
            "{} suggests a queue category",
            i.fields.code
        );
        assert!(
            i.fields.legal_basis.contains('《'),
            "{} cites its law",
            i.fields.code
        );
    }
    for name in [
        "不动产转移登记",
        "城乡居民医保参保登记",
        "户口迁入",
        "个体工商户设立登记",
    ] {
        assert!(items.iter().any(|i| i.fields.name.contains(name)), "{name}");
    }
}
