//! Personal data (个人信息保护法): ID and phone numbers masked on every screen, the full numbers
//! only for those who work the case and each such view logged; the public surfaces (display,
//! kiosk, printed ticket) never carry a full name or number.

use crate::common::{demo_hall, t0};
use onetrip_core::cases::{AcceptCase, GetCase, RevealApplicant};
use onetrip_core::catalog::ListItems;
use onetrip_core::queue::GetHallBoard;
use onetrip_core::queue::ticket::GetTicketSlip;
use onetrip_core::queue::{GetQueueBoard, IssueTicket};
use onetrip_core::{Caller, DeviceKind, ErrorCode};

#[test]
fn case_screens_mask_the_numbers_and_every_full_view_is_logged() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let item = h
        .store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response
        .into_iter()
        .find(|i| i.fields.code == "BDC-001")
        .unwrap();
    let case = h
        .store
        .execute(
            &clerk,
            t0(),
            AcceptCase {
                item_id: item.id,
                applicant_name: "王小明".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: "13800138000".into(),
                ticket_id: None,
            },
        )
        .unwrap()
        .response;
    let id = case.case.id.clone();
    assert_eq!(case.applicant_id_number, "110105********002X");
    assert_eq!(case.applicant_phone, "138****8000");
    let shown = h
        .store
        .execute(&clerk, t0(), GetCase { id: id.clone() })
        .unwrap()
        .response;
    let text = serde_json::to_string(&shown).unwrap();
    assert!(
        !text.contains("11010519491231002X") && !text.contains("13800138000"),
        "case.get carries masked numbers only: {text}"
    );

    // The clerk who works the case sees the full numbers, and the view is on the record.
    let before = h.audit_count();
    let full = h
        .store
        .execute(&clerk, t0(), RevealApplicant { id: id.clone() })
        .unwrap()
        .response;
    assert_eq!(
        (full.id_number.as_str(), full.phone.as_str()),
        ("11010519491231002X", "13800138000")
    );
    assert_eq!(h.audit_count(), before + 1, "each full view is logged");
    let logged = h
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT actor_name, op, subject_id, summary FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?)
        })
        .unwrap();
    assert_eq!(
        (logged.0.as_str(), logged.1.as_str(), logged.2.as_str()),
        ("张伟", "case.reveal", id.as_str())
    );
    assert!(logged.3.contains(&case.case.number), "{}", logged.3);

    // Another clerk may not, and the refusal reveals and records nothing.
    let other = h.as_token(&h.sign_in("lina", Some(4)));
    let sup = h.as_token(&h.sign_in("zhouhong", None));
    let before = h.audit_count();
    let e = h
        .store
        .execute(&other, t0(), RevealApplicant { id: id.clone() })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(h.audit_count(), before, "nothing recorded for a refusal");
    // A supervisor may (and is logged too); a display may not.
    h.store
        .execute(&sup, t0(), RevealApplicant { id: id.clone() })
        .unwrap();
    assert_eq!(h.audit_count(), before + 1);
    let display = Caller::device(DeviceKind::Display, "屏");
    assert_eq!(
        h.store
            .execute(&display, t0(), RevealApplicant { id })
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

#[test]
fn the_display_the_kiosk_and_the_printed_ticket_never_carry_a_full_name_or_number() {
    let h = demo_hall();
    let kiosk = Caller::device(DeviceKind::Kiosk, "取号机");
    let display = Caller::device(DeviceKind::Display, "叫号屏");
    let category = h
        .board()
        .categories
        .into_iter()
        .find(|c| c.prefix == "A")
        .unwrap()
        .id;
    let issued = h
        .store
        .execute(
            &kiosk,
            t0(),
            IssueTicket {
                category_id: category,
                priority: None,
                priority_note: String::new(),
                id_number: "11010519491231002X".into(),
                applicant_name: "欧阳娜娜".into(),
            },
        )
        .unwrap()
        .response;
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    h.store
        .execute(&clerk, t0(), onetrip_core::queue::CallNext {})
        .unwrap();
    let surfaces = [
        ("kiosk answer", serde_json::to_string(&issued).unwrap()),
        (
            "printed ticket",
            serde_json::to_string(
                &h.store
                    .execute(
                        &kiosk,
                        t0(),
                        GetTicketSlip {
                            ticket_id: issued.ticket.id.clone(),
                        },
                    )
                    .unwrap()
                    .response,
            )
            .unwrap(),
        ),
        (
            "display",
            serde_json::to_string(
                &h.store
                    .execute(&display, t0(), GetQueueBoard {})
                    .unwrap()
                    .response,
            )
            .unwrap(),
        ),
        (
            "hall board",
            serde_json::to_string(
                &h.store
                    .execute(&display, t0(), GetHallBoard {})
                    .unwrap()
                    .response,
            )
            .unwrap(),
        ),
    ];
    for (what, text) in surfaces {
        for secret in ["欧阳娜娜", "11010519491231002X", "19491231"] {
            assert!(!text.contains(secret), "{what} carries {secret}: {text}");
        }
    }
}

#[test]
fn the_purge_anonymises_old_cases_keeps_their_statistics_and_refuses_the_retention_time() {
    use onetrip_core::app::history::HistorySpec;
    use onetrip_core::privacy::{GetPrivacySettings, PurgePersonalData};
    use onetrip_core::reports::{GetFigures, ReportFilter};

    let h = demo_hall();
    onetrip_core::app::history::generate(
        &h.store,
        HistorySpec {
            from: jiff::civil::date(2023, 3, 1),
            to: jiff::civil::date(2023, 8, 31),
            tickets: 1500,
            cases: 400,
            seed: 11,
            keep: false,
        },
        t0(),
    )
    .unwrap();
    let admin = h.as_token(&h.sign_in("admin", None));
    assert_eq!(
        h.store
            .execute(&admin, t0(), GetPrivacySettings {})
            .unwrap()
            .response
            .retention_days,
        1095,
        "three years by default"
    );
    let spring = ReportFilter {
        from: "2023-03-01".into(),
        to: "2023-05-31".into(),
        ..Default::default()
    };
    let figures = |h: &crate::common::Hall| {
        let mut f = h
            .store
            .execute(
                &admin,
                t0(),
                GetFigures {
                    filter: spring.clone(),
                },
            )
            .unwrap()
            .response;
        f.generated_at = t0();
        f
    };
    let before = figures(&h);
    let full_numbers = |h: &crate::common::Hall, completed_before: &str| -> (i64, i64) {
        // Midnight at the start of that Beijing day, in ms.
        let cutoff = completed_before
            .parse::<jiff::civil::Date>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond();
        h.store
            .read(|tx| {
                let q = |anonymised: bool| -> onetrip_core::store::StoreResult<i64> {
                    tx.query_row(
                        &format!(
                            "SELECT count(*) FROM cases c WHERE c.status = 'completed'
                               AND (SELECT max(at) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'completed')
                                   < ?1
                               AND c.applicant_id_number {} '%*%'",
                            if anonymised { "LIKE" } else { "NOT LIKE" }
                        ),
                        [cutoff],
                        |r| r.get(0),
                    )
                };
                Ok((q(false)?, q(true)?))
            })
            .unwrap()
    };
    // Within the retention time: refused, nothing changes.
    let dump = h.dump();
    let e = h
        .store
        .execute(
            &admin,
            t0(),
            PurgePersonalData {
                before: Some("2026-01-01".into()),
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("before"))
    );
    assert_eq!(h.dump(), dump);

    // Cases completed before 2023-06-01 lose their personal data.
    let (full, _) = full_numbers(&h, "2023-06-01");
    assert!(full > 100, "old completed cases with full numbers: {full}");
    let audit = h.audit_count();
    let r = h
        .store
        .execute(
            &admin,
            t0(),
            PurgePersonalData {
                before: Some("2023-06-01".into()),
            },
        )
        .unwrap()
        .response;
    assert_eq!(i64::from(r.cases), full);
    assert_eq!(
        r.applications, r.cases,
        "each generated case has its application"
    );
    assert!(r.tickets > 0 || r.cases > 0);
    assert_eq!(h.audit_count(), audit + 1, "one audit row");
    assert_eq!(full_numbers(&h, "2023-06-01"), (0, full));
    let names_left: i64 = h
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM applications a JOIN cases c ON c.id = a.case_id
                 WHERE c.anonymised_at IS NOT NULL AND (a.applicant_phone NOT LIKE '%*%' OR a.applicant_name NOT LIKE '%*%')",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(names_left, 0, "their applications are masked too");
    // Later cases keep theirs; the statistics are the same.
    let (later_full, _) = full_numbers(&h, "2023-09-30");
    assert!(
        later_full > 0,
        "cases completed after the cutoff keep their data"
    );
    assert_eq!(figures(&h), before, "a purge keeps every figure");
    // Idempotent.
    let again = h
        .store
        .execute(
            &admin,
            t0(),
            PurgePersonalData {
                before: Some("2023-06-01".into()),
            },
        )
        .unwrap()
        .response;
    assert_eq!((again.cases, again.applications), (0, 0));
    // The default cutoff (today minus three years) covers everything completed before it.
    let default = h
        .store
        .execute(&admin, t0(), PurgePersonalData { before: None })
        .unwrap()
        .response;
    assert_eq!(default.before, "2023-11-24");
    assert_eq!(full_numbers(&h, "2023-11-24").0, 0);
}
