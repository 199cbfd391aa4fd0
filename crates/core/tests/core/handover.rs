//! Handover and takeover on a real SQLite file: the sheet, acknowledgement, permissions before,
//! during and after a takeover, "B on behalf of A" in the case log and the audit log, queue
//! routing during the takeover, the emergency path, hand-back with cases returned and kept,
//! notifications and the assessment figures.
//!
//! Demo posts: window 1 is 张伟's (A) with 刘洋 as B; window 2 is 刘洋's with 张伟 as B.

use jiff::{Timestamp, ToSpan};
use onetrip_core::cases::{
    AcceptCase, ActOnCase, CaseAction, CaseDetail, CaseScope, DecisionOutcome, GetCase, ListCases,
};
use onetrip_core::catalog::ListItems;
use onetrip_core::hall::{UpdateWindow, WindowFields};
use onetrip_core::handover::{
    AcceptHandback, AcknowledgeHandover, AnnotateHandover, BackNote, CaseNote, GetHandover,
    GetHandoverFigures, HandoverFile, HandoverSheet, HandoverStatus, ListHandovers,
    PrepareHandover, ReportHandback, StartEmergencyTakeover,
};
use onetrip_core::posts::{
    AbsenceKind, GetCoverage, GetPostSettings, PostSettings, RequestAbsence, TakeoverRouting,
    UpdatePostSettings,
};
use onetrip_core::queue::{
    CallBack, CallNext, FinishTicket, GetCounter, GetQueueBoard, HoldTicket, IssueTicket,
    StartService,
};
use onetrip_core::staff::auth::SignOut;
use onetrip_core::staff::inbox::{ListNotices, MarkNoticesRead};
use onetrip_core::{Caller, DeviceKind, ErrorCode, Operation};

use crate::common::{Hall, demo_hall, t0};

struct Two {
    h: Hall,
    /// 张伟, A of window 1's post.
    a: Caller,
    /// 刘洋, B of it (and A of window 2's).
    b: Caller,
    sup: Caller,
    post_id: String,
}

impl Two {
    fn new() -> Self {
        let h = demo_hall();
        let a = h.sign_in_at("zhangwei", Some(1), t0());
        let b = h.sign_in_at("liuyang", Some(2), t0());
        let sup = h.sign_in_at("zhouhong", None, t0());
        let post_id = h.post_id(1);
        Two {
            h,
            a,
            b,
            sup,
            post_id,
        }
    }
    fn run<O: Operation>(
        &self,
        c: &Caller,
        at: Timestamp,
        op: O,
    ) -> onetrip_core::Result<O::Response> {
        self.h.store.execute(c, at, op).map(|o| o.response)
    }
    fn accept(&self, c: &Caller, code: &str) -> CaseDetail {
        let item = self
            .run(&Caller::system("t"), t0(), ListItems {})
            .unwrap()
            .into_iter()
            .find(|i| i.fields.code == code)
            .unwrap();
        self.run(
            c,
            t0(),
            AcceptCase {
                item_id: item.id,
                applicant_name: "王𠇔".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: "13800000000".into(),
                ticket_id: None,
            },
        )
        .unwrap()
    }
    fn prepare(&self, notes: Vec<CaseNote>) -> HandoverSheet {
        self.run(
            &self.a,
            t0(),
            PrepareHandover {
                post_id: None,
                absence_id: None,
                reason: "参加业务培训".into(),
                cases: notes,
                queue_note: "A 类挂起号请回呼".into(),
                materials_note: "卷宗在 1 号柜".into(),
            },
        )
        .unwrap()
    }
    fn act(
        &self,
        c: &Caller,
        at: Timestamp,
        id: &str,
        action: CaseAction,
    ) -> onetrip_core::Result<CaseDetail> {
        self.run(
            c,
            at,
            ActOnCase {
                id: id.into(),
                action,
            },
        )
    }
    fn mine(&self, c: &Caller, at: Timestamp) -> Vec<onetrip_core::cases::CaseSummary> {
        self.run(
            c,
            at,
            ListCases {
                scope: CaseScope::Mine,
                open_only: true,
                level: None,
                item_id: None,
                owner_id: None,
                query: None,
            },
        )
        .unwrap()
    }
    fn notices(&self, c: &Caller, at: Timestamp) -> Vec<String> {
        self.run(c, at, ListNotices { unread_only: true })
            .unwrap()
            .into_iter()
            .map(|n| n.text)
            .collect()
    }
}

#[test]
fn the_sheet_lists_every_open_case_with_notes_and_the_queue_duties() {
    let t = Two::new();
    let c1 = t.accept(&t.a, "BDC-001");
    let c2 = t.accept(&t.a, "BDC-002");
    let other = t.accept(&t.b, "BDC-001");
    let s = t.prepare(vec![CaseNote {
        case_id: c1.case.id.clone(),
        note: "已核实，待出具决定".into(),
        materials_at: "1号柜二层".into(),
    }]);
    assert_eq!(s.status, HandoverStatus::Prepared);
    assert!(s.number.ends_with("-JJ-2026-0001"), "{}", s.number);
    assert_eq!(
        (s.absent_name.as_str(), s.taker_name.as_str()),
        ("张伟", "刘洋")
    );
    let ids: Vec<&str> = s.cases.iter().map(|c| c.case.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        2,
        "both of A's open cases and none of B's: {ids:?}"
    );
    assert!(ids.contains(&c1.case.id.as_str()) && ids.contains(&c2.case.id.as_str()));
    assert!(!ids.contains(&other.case.id.as_str()));
    let line = s.cases.iter().find(|c| c.case.id == c1.case.id).unwrap();
    assert_eq!(
        (line.note.as_str(), line.materials_at.as_str()),
        ("已核实，待出具决定", "1号柜二层")
    );
    assert!(
        line.case.deadlines.promised.working_days_left > 0,
        "the countdown is on the sheet"
    );
    assert_eq!(s.queue.window_number, Some(1));
    assert_eq!(s.queue.categories, vec!["A 不动产登记".to_owned()]);
    assert_eq!(
        s.may,
        vec!["annotate".to_owned(), "cancel".to_owned()],
        "A may annotate or cancel"
    );

    // A note on a case that is not A's is refused with its field; nothing is written.
    let err = t
        .run(
            &t.a,
            t0(),
            AnnotateHandover {
                id: s.id.clone(),
                cases: vec![CaseNote {
                    case_id: other.case.id.clone(),
                    note: "x".into(),
                    materials_at: String::new(),
                }],
                note: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidFormat);
    assert_eq!(err.field.as_deref(), Some("cases[0].case_id"));

    // One open handover per post.
    let again = t
        .run(
            &t.a,
            t0(),
            PrepareHandover {
                post_id: None,
                absence_id: None,
                reason: "再次".into(),
                cases: vec![],
                queue_note: String::new(),
                materials_note: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::HandoverOpen);

    // B was asked; the PDF renders with the case on it.
    assert!(
        t.notices(&t.b, t0())
            .iter()
            .any(|n| n.contains("请您顶岗") && n.contains(&s.number))
    );
    let file = t
        .run(&t.a, t0(), HandoverFile { id: s.id.clone() })
        .unwrap();
    let pdf = std::fs::read(&file.file.path).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF file");
    assert!(file.png_data_url.starts_with("data:image/png;base64,"));
}

#[test]
fn permissions_before_during_and_after_a_takeover_and_actions_are_on_behalf() {
    let t = Two::new();
    let c = t.accept(&t.a, "BDC-001");
    let id = c.case.id.clone();
    let s = t.prepare(vec![]);

    // Before B acknowledges: B may read the sheet's case but not act; it is not in B's list.
    let before = t.run(&t.b, t0(), GetCase { id: id.clone() }).unwrap();
    assert!(before.allowed.is_empty(), "read only before the takeover");
    let e = t.act(&t.b, t0(), &id, CaseAction::Start).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(t.mine(&t.b, t0()).iter().all(|x| x.id != id));
    // Only B acknowledges.
    let e = t
        .run(&t.a, t0(), AcknowledgeHandover { id: s.id.clone() })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTransition);
    let stranger = t.h.sign_in_at("wangfang", Some(3), t0());
    let e = t
        .run(&stranger, t0(), AcknowledgeHandover { id: s.id.clone() })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    // During: B sees the case marked 代办, acts on it, and the deadline keeps running.
    let at = t0() + 1.hour();
    let s = t
        .run(&t.b, at, AcknowledgeHandover { id: s.id.clone() })
        .unwrap();
    assert_eq!(s.status, HandoverStatus::Active);
    let listed = t.mine(&t.b, at);
    let row = listed
        .iter()
        .find(|x| x.id == id)
        .expect("A's case in B's list");
    assert_eq!(row.on_behalf_of.as_deref(), Some("张伟"));
    assert_eq!(
        row.deadlines.promised.due_at, c.case.deadlines.promised.due_at,
        "deadlines keep running"
    );
    let d = t.act(&t.b, at, &id, CaseAction::Start).unwrap();
    assert_eq!(d.case.on_behalf_of.as_deref(), Some("张伟"));
    let last = d.events.last().unwrap();
    assert_eq!(last.actor_name, "刘洋（代张伟）", "the case log names both");
    let audit = t.h.raw_text(
        "SELECT actor_name FROM audit_log WHERE op = 'case.act' ORDER BY seq DESC LIMIT 1",
    );
    assert_eq!(audit, "刘洋（代张伟）", "the audit log names both");
    // A third clerk still may not act.
    assert_eq!(
        t.act(
            &stranger,
            at,
            &id,
            CaseAction::Suspend {
                reason: onetrip_core::cases::SuspendReason::Testing,
                expected_days: 1,
                note: String::new(),
            }
        )
        .unwrap_err()
        .code,
        ErrorCode::Forbidden
    );

    // After B reports back: B reads but may no longer act; the case has left B's list.
    let later = at + 24.hours();
    let b = t.h.sign_in_at("liuyang", Some(2), later);
    t.run(
        &b,
        later,
        ReportHandback {
            id: s.id.clone(),
            note: "期间无投诉".into(),
            cases: vec![],
        },
    )
    .unwrap();
    let after = t.run(&b, later, GetCase { id: id.clone() }).unwrap();
    assert!(after.allowed.is_empty(), "read only after the takeover");
    assert_eq!(after.case.on_behalf_of, None);
    let e = t
        .act(
            &b,
            later,
            &id,
            CaseAction::Decide {
                outcome: DecisionOutcome::Approved,
                note: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(t.mine(&b, later).iter().all(|x| x.id != id));
}

#[test]
fn hand_back_prefills_the_report_and_returns_or_keeps_each_case() {
    let t = Two::new();
    let c1 = t.accept(&t.a, "BDC-001");
    let c2 = t.accept(&t.a, "BDC-002");
    let s = t.prepare(vec![CaseNote {
        case_id: c1.case.id.clone(),
        note: "待出具决定".into(),
        materials_at: "1号柜".into(),
    }]);
    let at = t0() + 30.minutes();
    t.run(&t.b, at, AcknowledgeHandover { id: s.id.clone() })
        .unwrap();
    // B takes c1 to completion and starts c2.
    for action in [
        CaseAction::Start,
        CaseAction::Decide {
            outcome: DecisionOutcome::Approved,
            note: "准予".into(),
        },
        CaseAction::Complete {
            note: "已送达".into(),
        },
    ] {
        t.act(&t.b, at, &c1.case.id, action).unwrap();
    }
    t.act(&t.b, at, &c2.case.id, CaseAction::Start).unwrap();
    // A adds a note while away (allowed during the takeover).
    t.run(
        &t.a,
        at,
        AnnotateHandover {
            id: s.id.clone(),
            cases: vec![],
            note: Some("C2 申请人下午来电".into()),
        },
    )
    .unwrap();

    let back = t0() + 2.hours();
    let r = t
        .run(
            &t.b,
            back,
            ReportHandback {
                id: s.id.clone(),
                note: "期间无投诉".into(),
                cases: vec![
                    BackNote {
                        case_id: c1.case.id.clone(),
                        note: "已办结".into(),
                        propose_keep: false,
                    },
                    BackNote {
                        case_id: c2.case.id.clone(),
                        note: "已与申请人约定补充说明".into(),
                        propose_keep: true,
                    },
                ],
            },
        )
        .unwrap();
    assert_eq!(r.status, HandoverStatus::Reported);
    let l1 = r.cases.iter().find(|c| c.case.id == c1.case.id).unwrap();
    let kinds: Vec<&str> = l1.during.iter().map(|e| e.event.kind()).collect();
    assert_eq!(
        kinds,
        vec!["started", "decided", "completed"],
        "pre-filled from the takeover's events"
    );
    assert!(l1.during.iter().all(|e| e.actor_name == "刘洋（代张伟）"));
    assert_eq!(r.absent_note, "C2 申请人下午来电");
    assert!(t.notices(&t.a, back).iter().any(|n| n.contains("交回报告")));

    // A keeps c2 with B; c1 (completed) goes back. A completed case cannot be "kept".
    let e = t
        .run(
            &t.a,
            back,
            AcceptHandback {
                id: s.id.clone(),
                keep: vec![c1.case.id.clone()],
            },
        )
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("keep[0]"));
    let done = t
        .run(
            &t.a,
            back,
            AcceptHandback {
                id: s.id.clone(),
                keep: vec![c2.case.id.clone()],
            },
        )
        .unwrap();
    assert_eq!(done.status, HandoverStatus::Returned);
    let disp = |id: &str| {
        done.cases
            .iter()
            .find(|c| c.case.id == id)
            .unwrap()
            .disposition
            .clone()
    };
    assert_eq!(disp(&c1.case.id).as_deref(), Some("returned"));
    assert_eq!(disp(&c2.case.id).as_deref(), Some("kept"));
    // c2 now belongs to B, with the change in its log; B acts on it as owner, not on behalf.
    let c2now = t
        .run(
            &t.b,
            back,
            GetCase {
                id: c2.case.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(c2now.case.owner_name, "刘洋");
    assert_eq!(c2now.events.last().unwrap().event.kind(), "reassigned");
    assert!(!c2now.allowed.is_empty());
    assert!(t.mine(&t.a, back).iter().all(|x| x.id != c2.case.id));
    assert!(
        t.notices(&t.b, back)
            .iter()
            .any(|n| n.contains("留由您继续办理"))
    );

    // Figures for the assessment.
    let f = t
        .run(
            &t.sup,
            back,
            GetHandoverFigures {
                from: "2026-11-01".into(),
                to: "2026-11-30".into(),
            },
        )
        .unwrap();
    let liu = f.iter().find(|x| x.name == "刘洋").unwrap();
    assert_eq!(
        (
            liu.took_over,
            liu.cases_on_behalf,
            liu.actions_on_behalf,
            liu.late_during
        ),
        (1, 2, 4, 0)
    );
    let zhang = f.iter().find(|x| x.name == "张伟").unwrap();
    assert_eq!((zhang.handed_over, zhang.took_over), (1, 0));
    let e = t
        .run(
            &t.a,
            back,
            GetHandoverFigures {
                from: "2026-11-01".into(),
                to: "2026-11-30".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // The hand-back report prints.
    let file = t
        .run(&t.a, back, HandoverFile { id: s.id.clone() })
        .unwrap();
    assert!(
        file.file.path.ends_with("-returned.pdf"),
        "{}",
        file.file.path
    );
}

#[test]
fn a_case_running_late_during_the_takeover_counts_against_it_and_a_is_told_of_level_changes() {
    let t = Two::new();
    let c = t.accept(&t.a, "BDC-001");
    let s = t.prepare(vec![]);
    t.run(&t.b, t0(), AcknowledgeHandover { id: s.id.clone() })
        .unwrap();
    // Weeks pass: the sweep raises the level while A is away, and A is told.
    let late = t0() + (40 * 24).hours();
    onetrip_core::app::jobs::sweep_deadlines(&t.h.store, late).unwrap();
    assert!(
        t.notices(&t.a, t0())
            .iter()
            .any(|n| n.contains(&c.case.number) && n.contains("离岗期间")),
        "A hears of the level change"
    );
    let b = t.h.sign_in_at("liuyang", Some(2), late);
    t.run(
        &b,
        late,
        ReportHandback {
            id: s.id.clone(),
            note: String::new(),
            cases: vec![],
        },
    )
    .unwrap();
    let f = t
        .run(
            &t.sup,
            t0(),
            GetHandoverFigures {
                from: "2026-11-23".into(),
                to: "2026-11-23".into(),
            },
        )
        .unwrap();
    assert_eq!(f.iter().find(|x| x.name == "刘洋").unwrap().late_during, 1);
}

#[test]
fn emergency_takeover_by_b_or_by_a_supervisor_and_a_adds_notes_later() {
    let t = Two::new();
    let c = t.accept(&t.a, "BDC-001");
    // A third clerk may not start it; B may, for themselves only.
    let stranger = t.h.sign_in_at("wangfang", Some(3), t0());
    let e = t
        .run(
            &stranger,
            t0(),
            StartEmergencyTakeover {
                post_id: t.post_id.clone(),
                taker_id: None,
                reason: "张伟突发疾病".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = t
        .run(
            &t.b,
            t0(),
            StartEmergencyTakeover {
                post_id: t.post_id.clone(),
                taker_id: None,
                reason: " ".into(),
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Required, Some("reason"))
    );
    let s = t
        .run(
            &t.b,
            t0(),
            StartEmergencyTakeover {
                post_id: t.post_id.clone(),
                taker_id: None,
                reason: "张伟突发疾病".into(),
            },
        )
        .unwrap();
    assert_eq!(
        s.status,
        HandoverStatus::Active,
        "an emergency takeover is in force at once"
    );
    assert_eq!(
        s.cases.len(),
        1,
        "the sheet is generated from the system's state"
    );
    assert_eq!(s.cases[0].case.id, c.case.id);
    assert!(t.act(&t.b, t0(), &c.case.id, CaseAction::Start).is_ok());
    // A and B are never away together: while B covers, B's own absence is refused (posts 1 and
    // 2 both have 张伟 and 刘洋 as their A and B).
    let e = t
        .run(
            &t.b,
            t0(),
            RequestAbsence {
                staff_id: None,
                kind: AbsenceKind::Emergency,
                starts_at: t0() + 2.hours(),
                ends_at: t0() + 4.hours(),
                reason: "家中急事".into(),
                notice_override: false,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BothAway);
    // The coverage view shows B on A's post from the takeover on, though no absence was filed.
    let cov = t
        .run(
            &t.sup,
            t0(),
            GetCoverage {
                from: "2026-11-23".into(),
                days: 2,
            },
        )
        .unwrap();
    for day in &cov {
        let cell = day.posts.iter().find(|p| p.post_id == t.post_id).unwrap();
        assert_eq!(
            (cell.on_duty.as_str(), cell.staff_name.as_deref()),
            ("b", Some("刘洋")),
            "{}",
            day.date
        );
    }
    // A adds notes afterwards.
    let s = t
        .run(
            &t.a,
            t0() + 1.hour(),
            AnnotateHandover {
                id: s.id.clone(),
                cases: vec![CaseNote {
                    case_id: c.case.id.clone(),
                    note: "原件在抽屉".into(),
                    materials_at: "1号窗口抽屉".into(),
                }],
                note: Some("申请人电话已留".into()),
            },
        )
        .unwrap();
    assert_eq!(s.cases[0].note, "原件在抽屉");
    assert!(t.notices(&t.a, t0()).iter().any(|n| n.contains("紧急顶岗")));

    // A supervisor assigns one for window 3's post (王芳 A, 李娜 B): 李娜 is told it started.
    let post3 = t.h.post_id(3);
    let s3 = t
        .run(
            &t.sup,
            t0(),
            StartEmergencyTakeover {
                post_id: post3,
                taker_id: None,
                reason: "王芳家中急事".into(),
            },
        )
        .unwrap();
    assert_eq!(s3.taker_name, "李娜");
    let lina = t.h.sign_in_at("lina", Some(4), t0());
    assert!(
        t.notices(&lina, t0())
            .iter()
            .any(|n| n.contains("周红 指定您紧急顶岗"))
    );
    let read = t.run(&lina, t0(), MarkNoticesRead { id: None }).unwrap();
    assert!(read >= 1);
    assert!(t.notices(&lina, t0()).is_empty());
    // Supervisors see every handover; a clerk only theirs.
    assert_eq!(
        t.run(&t.sup, t0(), ListHandovers { open_only: true })
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        t.run(&t.b, t0(), ListHandovers { open_only: true })
            .unwrap()
            .len(),
        1
    );
    let zhao = t.h.sign_in_at("zhaolei", Some(6), t0());
    let e = t
        .run(&zhao, t0(), GetHandover { id: s3.id.clone() })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
}

#[test]
fn the_supervisor_is_told_of_an_uncovered_post() {
    let t = Two::new();
    // 张伟 is away today (emergency absence, in force at once) and nobody has taken over.
    t.run(
        &t.a,
        t0(),
        RequestAbsence {
            staff_id: None,
            kind: AbsenceKind::Emergency,
            starts_at: t0(),
            ends_at: t0() + 24.hours(),
            reason: "急病".into(),
            notice_override: false,
        },
    )
    .unwrap();
    let (r, events) =
        onetrip_core::app::jobs::sweep_deadlines(&t.h.store, t0() + 5.minutes()).unwrap();
    assert!(r.notices >= 1, "{r:?}");
    assert!(!events.is_empty());
    let n = t.notices(&t.sup, t0());
    assert_eq!(
        n.iter().filter(|x| x.contains("尚未确认顶岗")).count(),
        1,
        "{n:?}"
    );
    // Once per post and day, however often the sweep runs.
    onetrip_core::app::jobs::sweep_deadlines(&t.h.store, t0() + 10.minutes()).unwrap();
    assert_eq!(t.notices(&t.sup, t0()).len(), n.len());
    // Covered once B takes over: no further notice the next day.
    t.run(
        &t.b,
        t0(),
        StartEmergencyTakeover {
            post_id: t.post_id.clone(),
            taker_id: None,
            reason: "张伟急病".into(),
        },
    )
    .unwrap();
    let (r, _) =
        onetrip_core::app::jobs::sweep_deadlines(&t.h.store, t0() + 24.hours() - 1.hour()).unwrap();
    assert_eq!(r.notices, 0);
}

#[test]
fn queue_routing_during_the_takeover_follows_the_hall_setting() {
    let t = Two::new();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let cat = |prefix: &str| {
        t.h.board()
            .categories
            .into_iter()
            .find(|c| c.prefix == prefix)
            .unwrap()
            .id
    };
    let issue = |prefix: &str| {
        t.run(
            &kiosk,
            t0(),
            IssueTicket {
                category_id: cat(prefix),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        )
        .unwrap()
        .ticket
    };
    // Window 2 (刘洋, B of window 1) serves only D here, so category A reaches it only by routing.
    t.run(
        &t.sup,
        t0(),
        UpdateWindow {
            id: t.h.window_id(2),
            fields: WindowFields {
                number: 2,
                name: "综合".into(),
                category_ids: vec![cat("D")],
            },
        },
    )
    .unwrap();
    // 张伟 holds a ticket at window 1, prepares the handover and signs out.
    let held = issue("A");
    t.run(&t.a, t0(), CallNext {}).unwrap();
    t.run(
        &t.a,
        t0(),
        StartService {
            ticket_id: held.id.clone(),
        },
    )
    .unwrap();
    t.run(
        &t.a,
        t0(),
        HoldTicket {
            ticket_id: held.id.clone(),
            reason: "补复印件".into(),
        },
    )
    .unwrap();
    let s = t.prepare(vec![]);
    assert_eq!(
        s.queue.held_tickets,
        vec![held.number.clone()],
        "held tickets are on the sheet"
    );
    t.run(&t.a, t0(), SignOut::default()).unwrap();
    let waiting = issue("A");

    // Before B acknowledges, window 2 calls nothing of window 1's.
    assert_eq!(
        t.run(&t.b, t0(), CallNext {}).unwrap_err().code,
        ErrorCode::QueueEmpty
    );

    // Hall setting "B works at A's window": nothing is routed to window 2.
    t.run(
        &t.sup,
        t0(),
        UpdatePostSettings {
            settings: PostSettings {
                notice_days: 1,
                routing: TakeoverRouting::BackupAtAWindow,
            },
        },
    )
    .unwrap();
    assert_eq!(
        t.run(&t.b, t0(), GetPostSettings {}).unwrap().routing,
        TakeoverRouting::BackupAtAWindow
    );
    t.run(&t.b, t0(), AcknowledgeHandover { id: s.id.clone() })
        .unwrap();
    let counter = |c: &Caller| t.run(c, t0(), GetCounter {}).unwrap();
    assert!(
        counter(&t.b).held.iter().all(|x| x.id != held.id),
        "not routed"
    );
    let qb = t.run(&kiosk, t0(), GetQueueBoard {}).unwrap();
    assert!(qb.windows.iter().all(|w| w.routed_to.is_none()));
    assert_eq!(
        t.run(&t.b, t0(), CallNext {}).unwrap_err().code,
        ErrorCode::QueueEmpty
    );
    assert_eq!(
        t.run(
            &t.b,
            t0(),
            CallBack {
                ticket_id: held.id.clone()
            }
        )
        .unwrap_err()
        .code,
        ErrorCode::WrongWindow
    );

    // Hall setting "A's window to B's window": window 1's queue and held ticket come to window 2.
    t.run(
        &t.sup,
        t0(),
        UpdatePostSettings {
            settings: PostSettings {
                notice_days: 1,
                routing: TakeoverRouting::ToBackupWindow,
            },
        },
    )
    .unwrap();
    let c = counter(&t.b);
    assert!(
        c.held.iter().any(|x| x.id == held.id),
        "A's held ticket at B's counter"
    );
    // The display and the hall board send window 1's applicants to window 2.
    let qb = t.run(&kiosk, t0(), GetQueueBoard {}).unwrap();
    let w1 = qb.windows.iter().find(|w| w.window.number == 1).unwrap();
    assert_eq!((w1.clerk.as_deref(), w1.routed_to), (None, Some(2)));
    let hb = t.h.board();
    assert_eq!(
        hb.windows
            .iter()
            .find(|w| w.window.number == 1)
            .unwrap()
            .routed_to,
        Some(2)
    );
    assert!(
        hb.windows
            .iter()
            .filter(|w| w.window.number != 1)
            .all(|w| w.routed_to.is_none())
    );
    assert!(
        c.waiting.iter().any(|x| x.id == waiting.id),
        "A's queue at B's counter"
    );
    let called = t
        .run(
            &t.b,
            t0(),
            CallBack {
                ticket_id: held.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(
        called.window.as_ref().map(|w| w.number),
        Some(2),
        "called back at B's window"
    );
    t.run(
        &t.b,
        t0(),
        StartService {
            ticket_id: held.id.clone(),
        },
    )
    .unwrap();
    t.run(
        &t.b,
        t0(),
        FinishTicket {
            ticket_id: held.id.clone(),
        },
    )
    .unwrap();
    let next = t.run(&t.b, t0(), CallNext {}).unwrap();
    assert_eq!(
        next.id, waiting.id,
        "window 2 calls category A during the takeover"
    );
    assert_eq!(next.window.as_ref().map(|w| w.number), Some(2));

    // Other windows get nothing of it: 王芳's window 3 serves B only.
    let wang = t.h.sign_in_at("wangfang", Some(3), t0());
    issue("A");
    assert_eq!(
        t.run(&wang, t0(), CallNext {}).unwrap_err().code,
        ErrorCode::QueueEmpty
    );

    // After the hand-back report, routing stops.
    t.run(
        &t.b,
        t0(),
        StartService {
            ticket_id: next.id.clone(),
        },
    )
    .unwrap();
    t.run(
        &t.b,
        t0(),
        FinishTicket {
            ticket_id: next.id.clone(),
        },
    )
    .unwrap();
    t.run(
        &t.b,
        t0(),
        ReportHandback {
            id: s.id.clone(),
            note: String::new(),
            cases: vec![],
        },
    )
    .unwrap();
    assert_eq!(
        t.run(&t.b, t0(), CallNext {}).unwrap_err().code,
        ErrorCode::QueueEmpty
    );
}
