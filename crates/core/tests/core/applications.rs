//! Materials checked at the window, the one-time notice, supplement-then-accept, the art. 32
//! five-day clock with deemed acceptance, rejection, archive copies and templates — on a real
//! SQLite file, with the PDFs read back by `pdftotext`.

use crate::common::{Hall, demo_hall, t0};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_core::applications::{
    AppMaterial, Application, ApplicationStatus, Completeness, DecideApplication, Decided,
    Decision, MarkMaterial, MaterialState, OpenApplication, PendingCheck, ReturnWithSupplement,
    check_mark, completeness, notice_lists,
};
use onetrip_core::catalog::{ListItems, Requirement};
use onetrip_core::notices::{ListTemplates, UpdateTemplate};
use onetrip_core::{Caller, ErrorCode};

fn bj(d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

fn mat(position: u32, requirement: Requirement, state: MaterialState) -> AppMaterial {
    AppMaterial {
        position,
        name: format!("材料{position}"),
        form: "copy".into(),
        copies: 1,
        requirement,
        condition: String::new(),
        standard: String::new(),
        state,
        note: String::new(),
    }
}

#[test]
fn material_state_rules() {
    use MaterialState::*;
    use Requirement::*;
    // (requirement, current state, to, supplementing, allowed)
    let table = [
        (Required, Pending, Received, false, true),
        (Required, Pending, Missing, false, true),
        (Required, Pending, NotApplicable, false, false),
        (Conditional, Pending, NotApplicable, false, true),
        (Optional, Pending, NotApplicable, false, true),
        (Required, Received, Missing, false, true),
        (Required, Received, Missing, true, false),
        (Required, Pending, Received, true, true),
    ];
    for (req, from, to, supplementing, ok) in table {
        let r = check_mark(&mat(0, req, from), to, supplementing);
        assert_eq!(
            r.is_ok(),
            ok,
            "{req:?} {from:?} → {to:?} (supplementing {supplementing})"
        );
        if let Err(e) = r {
            assert_eq!(e.code, ErrorCode::InvalidMaterialState);
        }
    }
}

#[test]
fn what_a_notice_lists_as_complete_or_missing() {
    use MaterialState::*;
    use Requirement::*;
    let ms = vec![
        mat(0, Required, Received),
        mat(1, Required, Missing),
        mat(2, Conditional, NotApplicable),
        mat(3, Conditional, Missing),
        mat(4, Optional, Missing),
        mat(5, Optional, Received),
    ];
    let (received, missing) = notice_lists(&ms);
    assert_eq!(
        received.iter().map(|m| m.position).collect::<Vec<_>>(),
        [0, 5]
    );
    assert_eq!(
        missing.iter().map(|m| m.position).collect::<Vec<_>>(),
        [1, 3],
        "an optional material is never 'missing' on a notice"
    );
    assert_eq!(completeness(&ms), Completeness::Incomplete(vec![1, 3]));
    let table: &[(&[(Requirement, MaterialState)], Completeness)] = &[
        (
            &[(Required, Received), (Optional, Pending)],
            Completeness::Complete,
        ),
        (
            &[(Required, Pending), (Required, Missing)],
            Completeness::Unchecked(vec![0]),
        ),
        (
            &[(Conditional, NotApplicable), (Required, Received)],
            Completeness::Complete,
        ),
        (&[(Conditional, Missing)], Completeness::Incomplete(vec![0])),
        (
            &[(Optional, Missing), (Required, Received)],
            Completeness::Complete,
        ),
    ];
    for (rows, want) in table {
        let ms: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, (r, s))| mat(i as u32, *r, *s))
            .collect();
        assert_eq!(&completeness(&ms), want, "{rows:?}");
    }
}

fn item_id(h: &Hall, code: &str) -> String {
    h.store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response
        .into_iter()
        .find(|i| i.fields.code == code)
        .unwrap()
        .id
}

fn open(h: &Hall, c: &Caller, code: &str, at: Timestamp) -> Application {
    h.store
        .execute(
            c,
            at,
            OpenApplication {
                item_id: item_id(h, code),
                applicant_name: "王𪚥".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: "13800000000".into(),
                ticket_id: None,
            },
        )
        .unwrap()
        .response
}

fn mark(
    h: &Hall,
    c: &Caller,
    id: &str,
    at: Timestamp,
    position: u32,
    state: MaterialState,
    note: &str,
) -> onetrip_core::Result<Application> {
    h.store
        .execute(
            c,
            at,
            MarkMaterial {
                id: id.into(),
                position,
                state,
                note: note.into(),
            },
        )
        .map(|o| o.response)
}

fn decide(
    h: &Hall,
    c: &Caller,
    id: &str,
    at: Timestamp,
    decision: Decision,
) -> onetrip_core::Result<Decided> {
    h.store
        .execute(
            c,
            at,
            DecideApplication {
                id: id.into(),
                decision,
            },
        )
        .map(|o| o.response)
}

fn pdftext(h: &Hall, rel: &str) -> String {
    let path = h.store.data_dir().join(rel);
    assert!(path.exists(), "archive copy {rel}");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn two_missing_materials_one_notice_then_the_supplement_is_accepted() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(5)));
    // 户口迁入: ID, 户口簿, 亲属关系证明, 住所证明, 户主同意入户声明 (conditional).
    let a = open(&h, &c, "HJ-001", t0());
    assert_eq!(a.number, "330106-SQ-2026-000001");
    assert_eq!(
        a.notice_due,
        date(2026, 11, 30),
        "five working days after receipt"
    );
    assert_eq!(a.materials.len(), 5);
    assert!(
        a.materials
            .iter()
            .all(|m| m.state == MaterialState::Pending)
    );
    let id = a.id.clone();
    let at = t0();
    // Deciding before every material is checked is refused.
    let err = decide(&h, &c, &id, at, Decision::Accept).unwrap_err();
    assert_eq!(err.code, ErrorCode::MaterialsUnchecked);
    mark(&h, &c, &id, at, 0, MaterialState::Received, "").unwrap();
    mark(&h, &c, &id, at, 1, MaterialState::Missing, "").unwrap();
    mark(&h, &c, &id, at, 2, MaterialState::Missing, "复印件不清晰").unwrap();
    mark(&h, &c, &id, at, 3, MaterialState::Received, "").unwrap();
    let err = mark(&h, &c, &id, at, 0, MaterialState::NotApplicable, "").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidMaterialState);
    mark(
        &h,
        &c,
        &id,
        at,
        4,
        MaterialState::NotApplicable,
        "投靠本人所有住所",
    )
    .unwrap();
    // Incomplete: acceptance is refused, and nothing changes.
    let dump = h.dump();
    let err = decide(&h, &c, &id, at, Decision::Accept).unwrap_err();
    assert_eq!(err.code, ErrorCode::MaterialsIncomplete);
    assert_eq!(err.params["names"], "户口簿、亲属关系证明");
    assert_eq!(h.dump(), dump);
    let d = decide(
        &h,
        &c,
        &id,
        at,
        Decision::Supplement {
            pending_checks: vec![PendingCheck {
                what: "住所是否在本辖区".into(),
                why: "需向社区核实".into(),
                when: "2026年11月25日".into(),
                how: "电话".into(),
            }],
            supplement_days: None,
        },
    )
    .unwrap();
    assert_eq!(d.application.status, ApplicationStatus::AwaitingSupplement);
    assert_eq!(d.document.kind, "supplement_notice");
    assert_eq!(d.document.number, "330106-WS-2026-000001");
    assert_eq!(
        d.document.archive_path,
        "archive/2026/11/330106-WS-2026-000001.pdf"
    );
    let text = pdftext(&h, &d.document.archive_path);
    for want in [
        "补正材料通知书",
        "王𪚥",
        "户口簿",
        "亲属关系证明",
        "复印件不清晰",
        "迁入地户主户口簿",
        "住所是否在本辖区",
        "2026年12月21日", // 20 working days after 11-23
        "张伟（5号窗口）",
        "330106-WS-2026-000001",
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing from the notice:\n{text}"
        );
    }
    let received_section =
        &text[text.find("已收取的材料").unwrap()..text.find("需补正的材料").unwrap()];
    assert!(
        received_section.contains("申请人身份证明")
            && received_section.contains("合法稳定住所证明")
    );
    assert!(!received_section.contains("户口簿"));
    // The applicant returns on Thursday: only the missing materials are checked again.
    let thu = bj(date(2026, 11, 26), 10, 0);
    let c = h.sign_in_at("zhangwei", Some(5), bj(date(2026, 11, 26), 8, 30));
    let back = h
        .store
        .execute(&c, thu, ReturnWithSupplement { id: id.clone() })
        .unwrap()
        .response;
    assert_eq!(back.visits, 2);
    assert_eq!(back.materials[1].state, MaterialState::Pending);
    assert_eq!(back.materials[0].state, MaterialState::Received);
    let err = mark(&h, &c, &id, thu, 0, MaterialState::Missing, "").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidMaterialState);
    mark(&h, &c, &id, thu, 1, MaterialState::Received, "").unwrap();
    mark(&h, &c, &id, thu, 2, MaterialState::Received, "").unwrap();
    let ok = decide(&h, &c, &id, thu, Decision::Accept).unwrap();
    assert_eq!(ok.application.status, ApplicationStatus::Accepted);
    assert_eq!(ok.application.outcome.as_deref(), Some("after_supplement"));
    assert_eq!(ok.application.visits, 2);
    let case_number = ok.application.case_number.clone().unwrap();
    assert_eq!(case_number, "330106-2026-000001");
    let text = pdftext(&h, &ok.document.archive_path);
    assert!(text.contains("受理通知书") && text.contains(&case_number));
    // The clock starts on the supplement day: 7 working days after Thursday 11-26.
    assert!(text.contains("2026年12月7日"), "{text}");
    // The hall watches trips: this case took two visits for an item that needs one.
    let case_id = ok.application.case_id.clone().unwrap();
    let sup = h.sign_in_at("zhouhong", None, bj(date(2026, 11, 27), 8, 30));
    h.store
        .execute(
            &sup,
            bj(date(2026, 11, 27), 10, 0),
            onetrip_core::cases::ActOnCase {
                id: case_id,
                action: onetrip_core::cases::CaseAction::Decide {
                    outcome: onetrip_core::cases::DecisionOutcome::Approved,
                    note: String::new(),
                },
            },
        )
        .unwrap();
    let stats = h
        .store
        .execute(
            &sup,
            bj(date(2026, 11, 27), 11, 0),
            onetrip_core::reports::case_stats::GetCaseStats {
                from: "2026-11-01".into(),
                to: "2026-11-30".into(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(stats.by_item[0].average_visits, Some(2.0));
    assert_eq!(stats.by_item[0].visits_needed, Some(1));
    // Documents cannot be edited.
    assert!(h.raw_batch("UPDATE documents SET data = '{}'").is_err());
    assert!(h.raw_batch("DELETE FROM documents").is_err());
}

#[test]
fn no_notice_within_five_working_days_means_accepted_from_receipt() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(5)));
    let a = open(&h, &c, "HJ-001", t0());
    // A second application got its notice in time: it is not deemed accepted.
    let b = open(&h, &c, "HJ-004", t0());
    for p in 0..3 {
        mark(&h, &c, &b.id, t0(), p, MaterialState::Missing, "").unwrap();
    }
    decide(
        &h,
        &c,
        &b.id,
        t0(),
        Decision::Supplement {
            pending_checks: vec![],
            supplement_days: Some(10),
        },
    )
    .unwrap();
    let sweep = |t| {
        onetrip_core::app::jobs::sweep_deadlines(&h.store, t)
            .unwrap()
            .0
    };
    assert!(
        sweep(bj(date(2026, 11, 30), 16, 59)).deemed.is_empty(),
        "the fifth working day is not over"
    );
    let r = sweep(bj(date(2026, 11, 30), 17, 30));
    assert_eq!(r.deemed, vec!["330106-SQ-2026-000001 → 330106-2026-000001"]);
    let sup = h.sign_in_at("zhouhong", None, bj(date(2026, 12, 1), 8, 30));
    let app = h
        .store
        .execute(
            &sup,
            bj(date(2026, 12, 1), 9, 0),
            onetrip_core::applications::GetApplication { id: a.id.clone() },
        )
        .unwrap()
        .response;
    assert_eq!(app.outcome.as_deref(), Some("deemed"));
    let case = h
        .store
        .execute(
            &sup,
            bj(date(2026, 12, 1), 9, 0),
            onetrip_core::cases::GetCase {
                id: app.case_id.clone().unwrap(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(
        case.case.deadlines.started_on,
        date(2026, 11, 23),
        "counted from receipt"
    );
    assert_eq!(case.case.deadlines.promised.due_date, date(2026, 12, 2));
    assert!(case.events[0].actor_name.contains("视为受理"));
    assert_eq!(app.documents.len(), 1, "the acceptance notice is issued");
    assert!(
        sweep(bj(date(2026, 12, 1), 10, 0)).deemed.is_empty(),
        "once"
    );
}

#[test]
fn rejection_names_the_reason_the_agency_and_the_right_to_review() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(6)));
    let a = open(&h, &c, "SC-001", t0());
    let err = decide(
        &h,
        &c,
        &a.id,
        t0(),
        Decision::Reject {
            reason: "  ".into(),
            competent_agency: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::Required, Some("reason"))
    );
    let d = decide(
        &h,
        &c,
        &a.id,
        t0(),
        Decision::Reject {
            reason: "申请设立的是有限责任公司，不属于个体工商户登记。".into(),
            competent_agency: "杭州市市场监督管理局".into(),
        },
    )
    .unwrap();
    assert_eq!(d.application.status, ApplicationStatus::Rejected);
    let text = pdftext(&h, &d.document.archive_path);
    for want in [
        "不予受理通知书",
        "有限责任公司",
        "杭州市市场监督管理局",
        "行政复议",
        "行政诉讼",
    ] {
        assert!(text.contains(want), "{want:?}: {text}");
    }
}

#[test]
fn a_broken_template_is_refused_and_the_previous_one_stays() {
    let h = demo_hall();
    let sys = Caller::system("t");
    let before = h.dump();
    let err = h
        .store
        .execute(
            &sys,
            t0(),
            UpdateTemplate {
                kind: "acceptance_notice".into(),
                source: "#let d = json(bytes(sys.inputs.data))\n#d.nope".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TemplateInvalid);
    assert_eq!(err.params["line"], "2");
    assert_eq!(h.dump(), before);
    let list = h
        .store
        .execute(&sys, t0(), ListTemplates {})
        .unwrap()
        .response;
    assert!(list.iter().all(|t| t.version == 0), "still the defaults");
    // A good edit becomes version 1 and is used from then on.
    let mut src = list
        .iter()
        .find(|t| t.kind == "acceptance_notice")
        .unwrap()
        .source
        .clone();
    src = src.replace("[受理通知书]", "[行政许可受理通知书]");
    let t = h
        .store
        .execute(
            &sys,
            t0(),
            UpdateTemplate {
                kind: "acceptance_notice".into(),
                source: src,
            },
        )
        .unwrap()
        .response;
    assert_eq!(t.version, 1);
    let c = h.as_token(&h.sign_in("zhangwei", Some(3)));
    let a = open(&h, &c, "YB-001", t0());
    for m in &a.materials {
        let s = if m.requirement == Requirement::Required {
            MaterialState::Received
        } else {
            MaterialState::NotApplicable
        };
        mark(&h, &c, &a.id, t0(), m.position, s, "").unwrap();
    }
    let d = decide(&h, &c, &a.id, t0(), Decision::Accept).unwrap();
    assert_eq!(d.application.outcome.as_deref(), Some("direct"));
    assert!(pdftext(&h, &d.document.archive_path).contains("行政许可受理通知书"));
}

/// 全部已收 marks every material not yet checked received, leaves a material already marked
/// as it is, and on a supplement visit marks the missing ones; with nothing to mark it says so.
#[test]
fn all_received_in_one_step() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let now = bj(date(2026, 11, 23), 10, 0);
    let a = open(&h, &c, "HJ-001", now);
    assert!(a.materials.len() >= 2, "an item with several materials");
    let first = a.materials[0].position;
    mark(&h, &c, &a.id, now, first, MaterialState::Missing, "").unwrap();
    let all = |h: &Hall| {
        h.store.execute(
            &c,
            now,
            onetrip_core::applications::MarkAllReceived { id: a.id.clone() },
        )
    };
    let after = all(&h).unwrap().response;
    assert_eq!(
        after.materials[0].state,
        MaterialState::Missing,
        "kept its mark"
    );
    assert!(
        after.materials[1..]
            .iter()
            .all(|m| m.state == MaterialState::Received),
        "the rest received"
    );
    let audit = h.raw_text("SELECT summary FROM audit_log ORDER BY seq DESC LIMIT 1");
    assert!(audit.contains("全部已收"), "{audit}");
    let e = all(&h).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTransition, "nothing left to mark");
    // The one-time notice for the missing one, then the applicant comes back with it.
    decide(
        &h,
        &c,
        &a.id,
        now,
        Decision::Supplement {
            pending_checks: vec![],
            supplement_days: None,
        },
    )
    .unwrap();
    h.store
        .execute(&c, now, ReturnWithSupplement { id: a.id.clone() })
        .unwrap();
    let back = all(&h).unwrap().response;
    assert!(
        back.materials
            .iter()
            .all(|m| m.state == MaterialState::Received),
        "the supplement completes it"
    );
    assert_eq!(completeness(&back.materials), Completeness::Complete);
}
