//! 好差评 on the applicant's side of the window: who may rate, once, 未评价 after the rater's
//! time, bad ratings with reasons, the rectification's working-day clocks and outcomes, the
//! dispute that takes a rating out of the clerk's figures, and the figures worked out by hand.

use crate::common::{Hall, demo_hall, t0};
use jiff::{SignedDuration, Timestamp};
use onetrip_core::face::GetWindowFace;
use onetrip_core::queue::*;
use onetrip_core::reports::{GetFigures, ReportFilter};
use onetrip_core::{Caller, DeviceKind, ErrorCode, Operation};

fn run<O: Operation>(
    h: &Hall,
    who: &Caller,
    now: Timestamp,
    op: O,
) -> onetrip_core::Result<O::Response> {
    h.store.execute(who, now, op).map(|o| o.response)
}

fn category(h: &Hall, prefix: &str) -> String {
    h.board()
        .categories
        .into_iter()
        .find(|c| c.prefix == prefix)
        .unwrap()
        .id
}

/// Window 1 (A) with its clerk signed in at `start`, a kiosk and the window's rater.
struct Counter {
    h: Hall,
    clerk: Caller,
    kiosk: Caller,
    rater: Caller,
    sup: Caller,
    a: String,
}

fn counter_at(start: Timestamp) -> Counter {
    let h = demo_hall();
    let clerk = h.sign_in_at("zhangwei", Some(1), start);
    let sup = h.sign_in_at("zhouhong", None, start);
    let rater = h.rater(1);
    let a = category(&h, "A");
    Counter {
        clerk,
        kiosk: Caller::device(DeviceKind::Kiosk, "kiosk"),
        rater,
        sup,
        a,
        h,
    }
}

impl Counter {
    /// Issue, call, serve and finish one A ticket at `at`; its id.
    fn visit(&self, at: Timestamp) -> String {
        run(
            &self.h,
            &self.kiosk,
            at,
            IssueTicket {
                category_id: self.a.clone(),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        )
        .unwrap();
        let t = run(&self.h, &self.clerk, at, CallNext {}).unwrap();
        run(
            &self.h,
            &self.clerk,
            at,
            StartService {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        run(
            &self.h,
            &self.clerk,
            at,
            FinishTicket {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        t.id
    }
    fn rate(
        &self,
        who: &Caller,
        at: Timestamp,
        id: &str,
        level: RatingLevel,
        reasons: &[&str],
    ) -> onetrip_core::Result<rating::Rating> {
        run(
            &self.h,
            who,
            at,
            RateTicket {
                ticket_id: id.into(),
                level,
                reasons: reasons.iter().map(|r| r.to_string()).collect(),
                comment: String::new(),
            },
        )
    }
}

fn secs(t: Timestamp, s: i64) -> Timestamp {
    t + SignedDuration::from_secs(s)
}

#[test]
fn only_the_windows_rater_rates_and_only_once() {
    let c = counter_at(t0());
    let id = c.visit(t0());
    let rater2 = c.h.rater(2);
    let screen = c.h.window_device(DeviceKind::WindowScreen, 1);
    let before = c.h.dump();
    // The clerk, a supervisor, the kiosk, the window screen and a rater of another window are
    // refused.
    for (who, code) in [
        (&c.clerk, ErrorCode::Forbidden),
        (&c.sup, ErrorCode::Forbidden),
        (&c.kiosk, ErrorCode::Forbidden),
        (&rater2, ErrorCode::WrongWindow),
        (&screen, ErrorCode::Forbidden),
    ] {
        let e = c
            .rate(who, secs(t0(), 5), &id, RatingLevel::VerySatisfied, &[])
            .unwrap_err();
        assert_eq!(e.code, code, "{e}");
    }
    assert_eq!(c.h.dump(), before, "refused ratings change nothing");
    // The applicant's press on the rater counts, once.
    let r = c
        .rate(&c.rater, secs(t0(), 5), &id, RatingLevel::Satisfied, &[])
        .unwrap();
    assert_eq!(
        (r.level, r.channel),
        (RatingLevel::Satisfied, RatingChannel::Rater)
    );
    let after = c.h.dump();
    let e = c
        .rate(
            &c.rater,
            secs(t0(), 6),
            &id,
            RatingLevel::VeryDissatisfied,
            &["态度不好"],
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyRated);
    assert_eq!(c.h.dump(), after, "a second rating changes nothing");
    // The clerk's console shows that it was given, never the level or the buttons.
    let view = run(&c.h, &c.clerk, secs(t0(), 7), GetCounter {}).unwrap();
    let last = view.last_visit.unwrap();
    assert_eq!(
        (last.ticket_id.as_str(), last.state),
        (id.as_str(), RatingState::Given)
    );
}

#[test]
fn nobody_rating_within_the_halls_time_is_unrated_never_satisfied() {
    let c = counter_at(t0());
    let id = c.visit(t0());
    let view = run(&c.h, &c.clerk, secs(t0(), 30), GetCounter {}).unwrap();
    let last = view.last_visit.unwrap();
    assert_eq!(last.state, RatingState::Pending);
    assert_eq!(last.until, Some(secs(t0(), 60)), "60 s by default");
    let face = run(&c.h, &c.rater, secs(t0(), 30), GetWindowFace::default()).unwrap();
    assert_eq!(face.rating.unwrap().state, RatingState::Pending);
    assert_eq!(face.window_number, 1);
    assert_eq!(
        face.clerk.unwrap().staff_number,
        "XH001",
        "the demo numbers its staff"
    );

    let view = run(&c.h, &c.clerk, secs(t0(), 61), GetCounter {}).unwrap();
    assert_eq!(view.last_visit.unwrap().state, RatingState::Unrated);
    let before = c.h.dump();
    let e = c
        .rate(
            &c.rater,
            secs(t0(), 61),
            &id,
            RatingLevel::VerySatisfied,
            &[],
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RatingClosed, "{e}");
    assert_eq!(c.h.dump(), before);

    // The figures count it as unrated, not satisfied.
    let f = run(
        &c.h,
        &c.sup,
        secs(t0(), 120),
        GetFigures {
            filter: ReportFilter {
                from: "2026-11-23".into(),
                to: "2026-11-23".into(),
                ..Default::default()
            },
        },
    )
    .unwrap();
    assert_eq!(
        (
            f.ratings.rated,
            f.ratings.unrated,
            f.ratings.satisfied_rate,
            f.ratings.participation_rate
        ),
        (0, 1, None, Some(0.0))
    );
    // A paper form that comes in later is recorded by a supervisor, with its channel.
    let e = run(
        &c.h,
        &c.clerk,
        secs(t0(), 200),
        RecordRating {
            ticket_id: id.clone(),
            day: String::new(),
            number: String::new(),
            level: RatingLevel::Satisfied,
            channel: RatingChannel::Paper,
            reasons: vec![],
            comment: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = run(
        &c.h,
        &c.sup,
        secs(t0(), 200),
        RecordRating {
            ticket_id: id.clone(),
            day: String::new(),
            number: String::new(),
            level: RatingLevel::Satisfied,
            channel: RatingChannel::Rater,
            reasons: vec![],
            comment: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::InvalidFormat, Some("channel"))
    );
    let e = run(
        &c.h,
        &c.sup,
        secs(t0(), 200),
        RecordRating {
            ticket_id: String::new(),
            day: "2026-11-23".into(),
            number: "A999".into(),
            level: RatingLevel::Satisfied,
            channel: RatingChannel::Paper,
            reasons: vec![],
            comment: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::NotFound, Some("number"))
    );
    // As the paper form names it: the day and the number.
    let r = run(
        &c.h,
        &c.sup,
        secs(t0(), 200),
        RecordRating {
            ticket_id: String::new(),
            day: "2026-11-23".into(),
            number: "a001".into(),
            level: RatingLevel::Satisfied,
            channel: RatingChannel::Paper,
            reasons: vec![],
            comment: "纸质评价表".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (r.channel, r.ticket_id.as_str()),
        (RatingChannel::Paper, id.as_str())
    );
}

#[test]
fn a_bad_rating_needs_a_reason_from_the_halls_list() {
    let c = counter_at(t0());
    let id = c.visit(t0());
    let before = c.h.dump();
    let e = c
        .rate(&c.rater, secs(t0(), 5), &id, RatingLevel::Dissatisfied, &[])
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Required, Some("reasons"))
    );
    let e = c
        .rate(
            &c.rater,
            secs(t0(), 5),
            &id,
            RatingLevel::Dissatisfied,
            &["太冷了"],
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::InvalidFormat, Some("reasons"))
    );
    assert_eq!(c.h.dump(), before, "refused ratings change nothing");
    let r = c
        .rate(
            &c.rater,
            secs(t0(), 5),
            &id,
            RatingLevel::Dissatisfied,
            &["多次跑腿", "一次性告知不清", "多次跑腿"],
        )
        .unwrap();
    assert_eq!(r.reasons, vec!["多次跑腿", "一次性告知不清"]);
    assert!(r.followup_id.is_some());
}

/// Wednesday 2026-09-30, 10:00 Beijing: the day before the National Day holiday (10-01 to
/// 10-07 off, Saturday 10-10 a working day).
fn before_national_day() -> Timestamp {
    "2026-09-30T02:00:00Z".parse().unwrap()
}

#[test]
fn the_rectification_clocks_run_on_working_days_across_a_holiday() {
    let c = counter_at(before_national_day());
    let t = before_national_day();
    let id = c.visit(t);
    let fid = c
        .rate(
            &c.rater,
            secs(t, 10),
            &id,
            RatingLevel::VeryDissatisfied,
            &["态度不好"],
        )
        .unwrap()
        .followup_id
        .unwrap();
    let list = run(&c.h, &c.sup, secs(t, 60), ListFollowups::default()).unwrap();
    let f = list.iter().find(|f| f.id == fid).unwrap();
    // 回访核实: one working day after 09-30, the holiday skipped: Thursday 10-08.
    assert_eq!(f.verify.due_date.to_string(), "2026-10-08");
    // 整改反馈: six working days: 10-08, 10-09, 10-10 (the Saturday worked), 10-12, 10-13, 10-14.
    assert_eq!(f.rectify.due_date.to_string(), "2026-10-14");
    assert_eq!(f.warning, onetrip_core::deadlines::WarningLevel::None);
    assert_eq!(f.reasons, vec!["态度不好"]);
    // On 10-08 the first clock is yellow; on 10-09 red.
    let on = |d: &str| -> Timestamp { format!("{d}T02:00:00Z").parse().unwrap() };
    let sup_due = c.h.sign_in_at("zhouhong", None, on("2026-10-08"));
    let l = run(&c.h, &sup_due, on("2026-10-08"), ListFollowups::default()).unwrap();
    assert_eq!(
        l[0].verify.level,
        onetrip_core::deadlines::WarningLevel::Yellow
    );
    let sup_late = c.h.sign_in_at("zhouhong", None, on("2026-10-09"));
    let l = run(&c.h, &sup_late, on("2026-10-09"), ListFollowups::default()).unwrap();
    assert_eq!(
        l[0].verify.level,
        onetrip_core::deadlines::WarningLevel::Red
    );
    assert_eq!(l[0].warning, onetrip_core::deadlines::WarningLevel::Red);
    // Called back late; then closed on 10-14, the last day: on time.
    run(
        &c.h,
        &sup_late,
        on("2026-10-09"),
        VerifyFollowup {
            id: fid.clone(),
            note: "已电话联系申请人".into(),
        },
    )
    .unwrap();
    let sup_end = c.h.sign_in_at("zhouhong", None, on("2026-10-14"));
    let closed = run(
        &c.h,
        &sup_end,
        on("2026-10-14"),
        CloseFollowup {
            id: fid,
            outcome_kind: FollowupOutcome::Fixed,
            outcome: "已批评教育，当面致歉".into(),
            plan_date: None,
            applicant_satisfied: Some(true),
        },
    )
    .unwrap();
    assert_eq!(
        closed.verify.on_time,
        Some(false),
        "called back on 10-09, due 10-08"
    );
    assert_eq!(closed.rectify.on_time, Some(true));
    assert_eq!(closed.outcome_kind, Some(FollowupOutcome::Fixed));
}

#[test]
fn each_outcome_and_the_order_of_steps() {
    let c = counter_at(t0());
    let mut items = vec![];
    for i in 0..3 {
        let id = c.visit(secs(t0(), i * 120));
        items.push(
            c.rate(
                &c.rater,
                secs(t0(), i * 120 + 5),
                &id,
                RatingLevel::Dissatisfied,
                &["其他"],
            )
            .unwrap()
            .followup_id
            .unwrap(),
        );
    }
    let now = secs(t0(), 600);
    let close = |id: &str, kind, plan: Option<&str>| {
        run(
            &c.h,
            &c.sup,
            now,
            CloseFollowup {
                id: id.into(),
                outcome_kind: kind,
                outcome: "处理情况".into(),
                plan_date: plan.map(str::to_owned),
                applicant_satisfied: None,
            },
        )
    };
    // Not before the call back.
    let before = c.h.dump();
    assert_eq!(
        close(&items[0], FollowupOutcome::Fixed, None)
            .unwrap_err()
            .code,
        ErrorCode::InvalidTransition
    );
    assert_eq!(c.h.dump(), before);
    for id in &items {
        run(
            &c.h,
            &c.sup,
            now,
            VerifyFollowup {
                id: id.clone(),
                note: "核实".into(),
            },
        )
        .unwrap();
    }
    // A plan needs its date, not in the past; a dispute cannot be chosen here.
    let e = close(&items[1], FollowupOutcome::Plan, None).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Required, Some("plan_date"))
    );
    let e = close(&items[1], FollowupOutcome::Plan, Some("2026-11-01")).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("plan_date"))
    );
    let e = close(&items[1], FollowupOutcome::Dispute, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFormat);
    let fixed = close(&items[0], FollowupOutcome::Fixed, None).unwrap();
    let plan = close(&items[1], FollowupOutcome::Plan, Some("2026-12-15")).unwrap();
    let explained = close(&items[2], FollowupOutcome::Explained, None).unwrap();
    assert_eq!(fixed.outcome_kind, Some(FollowupOutcome::Fixed));
    assert_eq!(
        plan.plan_date.map(|d| d.to_string()).as_deref(),
        Some("2026-12-15")
    );
    assert_eq!(explained.outcome_kind, Some(FollowupOutcome::Explained));
    assert!(explained.closed && explained.verified_by.as_deref() == Some("周红"));
    assert_eq!(
        close(&items[0], FollowupOutcome::Fixed, None)
            .unwrap_err()
            .code,
        ErrorCode::InvalidTransition,
        "closed once"
    );
}

#[test]
fn an_upheld_dispute_takes_the_rating_out_of_the_clerks_figures() {
    let c = counter_at(t0());
    let good = c.visit(t0());
    c.rate(
        &c.rater,
        secs(t0(), 5),
        &good,
        RatingLevel::VerySatisfied,
        &[],
    )
    .unwrap();
    let bad1 = c.visit(secs(t0(), 120));
    let f1 = c
        .rate(
            &c.rater,
            secs(t0(), 125),
            &bad1,
            RatingLevel::VeryDissatisfied,
            &["态度不好"],
        )
        .unwrap()
        .followup_id
        .unwrap();
    let bad2 = c.visit(secs(t0(), 240));
    let f2 = c
        .rate(
            &c.rater,
            secs(t0(), 245),
            &bad2,
            RatingLevel::Dissatisfied,
            &["超时办理"],
        )
        .unwrap()
        .followup_id
        .unwrap();
    let now = secs(t0(), 600);
    // The clerk sees their own bad ratings at the counter; another clerk sees none of them.
    let mine = run(&c.h, &c.clerk, now, MyFollowups {}).unwrap();
    assert_eq!(mine.len(), 2);
    // Only the rated clerk disputes; once.
    let other = c.h.sign_in_at("liuyang", Some(2), t0());
    let e = run(
        &c.h,
        &other,
        now,
        DisputeRating {
            id: f1.clone(),
            reason: "不是我".into(),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(run(&c.h, &other, now, MyFollowups {}).unwrap().is_empty());
    for f in [&f1, &f2] {
        run(
            &c.h,
            &c.clerk,
            now,
            DisputeRating {
                id: f.clone(),
                reason: "申请人误按，监控可证".into(),
            },
        )
        .unwrap();
    }
    assert_eq!(
        run(
            &c.h,
            &c.clerk,
            now,
            DisputeRating {
                id: f1.clone(),
                reason: "再次申诉".into(),
            },
        )
        .unwrap_err()
        .code,
        ErrorCode::InvalidTransition
    );
    // While the dispute waits, the item cannot be closed; clerks cannot decide.
    assert_eq!(
        run(
            &c.h,
            &c.clerk,
            now,
            DecideDispute {
                id: f1.clone(),
                upheld: true,
                note: "x".into(),
            },
        )
        .unwrap_err()
        .code,
        ErrorCode::Forbidden
    );
    let upheld = run(
        &c.h,
        &c.sup,
        now,
        DecideDispute {
            id: f1.clone(),
            upheld: true,
            note: "经调阅监控，系误按".into(),
        },
    )
    .unwrap();
    assert!(upheld.closed && upheld.excluded);
    assert_eq!(upheld.outcome_kind, Some(FollowupOutcome::Dispute));
    let rejected = run(
        &c.h,
        &c.sup,
        now,
        DecideDispute {
            id: f2.clone(),
            upheld: false,
            note: "确有超时".into(),
        },
    )
    .unwrap();
    assert!(!rejected.closed && !rejected.excluded);
    assert_eq!(rejected.dispute.unwrap().upheld, Some(false));

    // By hand: three visits; the upheld one is out: rated 2 (非常满意, 不满意), satisfied
    // 1 of 2 = 50 %; bad ratings 2 (both on record), 0 called back; none closed in time
    // counts (the upheld item is closed by the decision, not by a rectification).
    let f = run(
        &c.h,
        &c.sup,
        secs(t0(), 900),
        GetFigures {
            filter: ReportFilter {
                from: "2026-11-23".into(),
                to: "2026-11-23".into(),
                staff_id: Some(staff_id(&c.h, "zhangwei")),
                ..Default::default()
            },
        },
    )
    .unwrap();
    let r = &f.ratings;
    assert_eq!(
        (r.rated, r.excluded, r.levels.clone(), r.satisfied_rate),
        (2, 1, vec![0, 1, 0, 0, 1], Some(50.0))
    );
    assert_eq!(
        (r.bad, r.callback_rate, r.rectified_on_time_rate),
        (2, Some(0.0), None)
    );
    assert!(r.bad_list.iter().any(|b| b.excluded), "kept on record");
}

fn staff_id(h: &Hall, login: &str) -> String {
    h.store
        .read(|tx| {
            Ok(
                tx.query_row("SELECT id FROM staff WHERE login = ?1", [login], |r| {
                    r.get(0)
                })?,
            )
        })
        .unwrap()
}

/// One application, two trips: the first ends with the one-time notice (a material missing),
/// the second brings it and is accepted. The rater shows the materials as the clerk ticks them
/// and the notice issued; each trip's rating belongs to the case, with its own level.
#[test]
fn each_visit_of_a_case_is_rated_and_the_case_shows_them_all() {
    use onetrip_core::execute_json;
    use serde_json::{Value, json};
    let c = counter_at(t0());
    let op = |who: &Caller, at: Timestamp, name: &str, req: Value| -> Value {
        execute_json(&c.h.store, who, at, name, req)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .0
    };
    let item = op(&c.clerk, t0(), "catalog.list", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["category_id"] == c.a.as_str()
                && i["materials"].as_array().is_some_and(|m| m.len() >= 2)
        })
        .expect("an A item with materials")
        .clone();
    let serve = |at: Timestamp| -> String {
        run(
            &c.h,
            &c.kiosk,
            at,
            IssueTicket {
                category_id: c.a.clone(),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        )
        .unwrap();
        let t = run(&c.h, &c.clerk, at, CallNext {}).unwrap();
        run(
            &c.h,
            &c.clerk,
            at,
            StartService {
                ticket_id: t.id.clone(),
            },
        )
        .unwrap();
        t.id
    };
    // Trip 1: opened, the first material missing, the one-time notice.
    let t1 = serve(t0());
    let app = op(
        &c.clerk,
        t0(),
        "application.open",
        json!({"item_id": item["id"], "ticket_id": t1, "applicant_name": "王䶮",
               "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"}),
    );
    let app_id = app["id"].as_str().unwrap().to_owned();
    let materials = app["materials"].as_array().unwrap().clone();
    for m in &materials {
        let state = if m["position"] == 0 {
            "missing"
        } else {
            "received"
        };
        op(
            &c.clerk,
            t0(),
            "application.mark",
            json!({"id": app_id, "position": m["position"], "state": state, "note": ""}),
        );
    }
    // The applicant sees, on the rater, what the clerk ticked.
    let face = run(&c.h, &c.rater, secs(t0(), 30), GetWindowFace::default()).unwrap();
    let shown = face
        .application
        .expect("the visit's application is on the rater");
    assert_eq!(shown.number, app["number"].as_str().unwrap());
    assert_eq!(shown.materials.len(), materials.len());
    assert_eq!(shown.materials[0].state, "missing");
    assert!(shown.materials[1..].iter().all(|m| m.state == "received"));
    assert!(shown.notices.is_empty());
    let notice = op(
        &c.clerk,
        secs(t0(), 60),
        "application.decide",
        json!({"id": app_id, "decision": {"kind": "supplement"}}),
    );
    let face = run(&c.h, &c.rater, secs(t0(), 61), GetWindowFace::default()).unwrap();
    let shown = face.application.unwrap();
    assert_eq!(shown.notices.len(), 1);
    assert_eq!(shown.notices[0].kind, "supplement_notice");
    assert!(
        shown.notices[0].supplement_until.is_some(),
        "the date to come back with the missing material"
    );
    assert_eq!(
        shown.notices[0].number,
        notice["document"]["number"].as_str().unwrap()
    );
    run(
        &c.h,
        &c.clerk,
        secs(t0(), 90),
        FinishTicket {
            ticket_id: t1.clone(),
        },
    )
    .unwrap();
    c.rate(
        &c.rater,
        secs(t0(), 100),
        &t1,
        RatingLevel::Dissatisfied,
        &["多次跑腿"],
    )
    .unwrap();

    // Trip 2, the same day: the material brought, accepted.
    let t2_at = secs(t0(), 3600);
    let t2 = serve(t2_at);
    op(&c.clerk, t2_at, "application.return", json!({"id": app_id}));
    op(
        &c.clerk,
        t2_at,
        "application.mark",
        json!({"id": app_id, "position": 0, "state": "received", "note": ""}),
    );
    let accepted = op(
        &c.clerk,
        t2_at,
        "application.decide",
        json!({"id": app_id, "decision": {"kind": "accept"}}),
    );
    let case_id = accepted["application"]["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let face = run(&c.h, &c.rater, secs(t2_at, 10), GetWindowFace::default()).unwrap();
    let shown = face.application.unwrap();
    assert!(shown.materials.iter().all(|m| m.state == "received"));
    assert_eq!(
        shown
            .notices
            .iter()
            .map(|n| n.kind.as_str())
            .collect::<Vec<_>>(),
        vec!["acceptance_notice"],
        "only this trip's notices"
    );
    assert!(
        shown.notices[0].promised_date.is_some(),
        "the date to come back"
    );
    run(
        &c.h,
        &c.clerk,
        secs(t2_at, 60),
        FinishTicket {
            ticket_id: t2.clone(),
        },
    )
    .unwrap();
    c.rate(
        &c.rater,
        secs(t2_at, 70),
        &t2,
        RatingLevel::VerySatisfied,
        &[],
    )
    .unwrap();

    let ratings = run(
        &c.h,
        &c.clerk,
        secs(t2_at, 120),
        onetrip_core::face::CaseRatings { case_id },
    )
    .unwrap();
    assert_eq!(
        ratings
            .iter()
            .map(|r| (r.ticket_id.as_str(), r.level))
            .collect::<Vec<_>>(),
        vec![
            (t1.as_str(), RatingLevel::Dissatisfied),
            (t2.as_str(), RatingLevel::VerySatisfied)
        ]
    );
    assert!(
        ratings
            .iter()
            .all(|r| r.application_number == app["number"].as_str().unwrap())
    );
    assert_eq!(ratings[0].reasons, vec!["多次跑腿"]);
    assert_eq!(ratings[0].staff_name.as_deref(), Some("张伟"));

    // The export a province's platform is fed from: one row per rating, in the documented
    // format (docs/haochaping-export.md), and the same rows as an xlsx sheet.
    use onetrip_core::reports::ratings_export::{ExportRatings, RatingExportFormat};
    let export = |format| {
        let f = run(
            &c.h,
            &c.sup,
            secs(t2_at, 200),
            ExportRatings {
                from: "2026-11-23".into(),
                to: "2026-11-23".into(),
                format,
            },
        )
        .unwrap();
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &f.content_base64,
        )
        .unwrap()
    };
    let doc: Value = serde_json::from_slice(&export(RatingExportFormat::Json)).unwrap();
    assert_eq!(doc["format"], "onetrip.haochaping/1");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(first["channel"], "rater");
    assert_eq!(first["level"], 2);
    assert_eq!(first["level_name"], "不满意");
    assert_eq!(first["reasons"], json!(["多次跑腿"]));
    assert_eq!(first["window_number"], 1);
    assert_eq!(first["clerk_name"], "张伟");
    assert_eq!(first["item_code"], item["code"]);
    assert_eq!(first["application_number"], app["number"]);
    assert_eq!(first["case_number"], accepted["application"]["case_number"]);
    assert_eq!(first["rectification"], "open");
    assert!(first["rated_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(rows[1]["rectification"], "none");
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(export(RatingExportFormat::Xlsx))).unwrap();
    let sheet = book.worksheet_range("好差评").unwrap();
    assert_eq!(sheet.height(), 3, "a heading and two ratings");
    assert_eq!(sheet.get((0, 11)), Some(&Data::String("评价等级".into())));
    assert_eq!(sheet.get((1, 11)), Some(&Data::Float(2.0)));
    assert_eq!(sheet.get((1, 0)), Some(&Data::String("窗口评价器".into())));

    // 满意率 per service item, and its drill-down to exactly the two rated visits.
    use onetrip_core::reports::ratings_export::RatingsByItem;
    use onetrip_core::reports::{DrillDown, Measure};
    let day = ReportFilter {
        from: "2026-11-23".into(),
        to: "2026-11-23".into(),
        ..Default::default()
    };
    let items = run(
        &c.h,
        &c.sup,
        secs(t2_at, 300),
        RatingsByItem {
            filter: day.clone(),
        },
    )
    .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0].code.as_str(),
            items[0].rated,
            items[0].bad,
            items[0].satisfied_rate
        ),
        (item["code"].as_str().unwrap(), 2, 1, Some(50.0))
    );
    let drill = run(
        &c.h,
        &c.sup,
        secs(t2_at, 300),
        DrillDown {
            filter: ReportFilter {
                item_id: Some(items[0].key.clone()),
                ..day
            },
            measure: Measure::ItemRated,
            day: None,
        },
    )
    .unwrap();
    let mut ids: Vec<&str> = drill.tickets.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    let mut want = vec![t1.as_str(), t2.as_str()];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn a_clerks_staff_number_and_photo_show_on_the_rater() {
    let c = counter_at(t0());
    let id = staff_id(&c.h, "zhangwei");
    let set = |number: &str, photo: Option<&str>| {
        run(
            &c.h,
            &c.sup,
            t0(),
            onetrip_core::staff::SetStaffFace {
                id: id.clone(),
                staff_number: number.into(),
                photo: photo.map(str::to_owned),
            },
        )
    };
    let before = c.h.dump();
    for (number, photo, field) in [
        ("X 1", None, "staff_number"),
        ("A1", Some("data:image/gif;base64,R0lGODlh"), "photo"),
        ("A1", Some("data:image/png;base64,/9j/4AAQ"), "photo"),
        ("A1", Some("data:image/jpeg;base64,***"), "photo"),
    ] {
        let e = set(number, photo).unwrap_err();
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
    }
    assert_eq!(c.h.dump(), before, "refused changes nothing");
    let jpeg = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==";
    let s = set("XH0101", Some(jpeg)).unwrap();
    assert!(s.has_photo && s.staff_number == "XH0101");
    let face = run(&c.h, &c.rater, t0(), GetWindowFace::default()).unwrap();
    let clerk = face.clerk.unwrap();
    assert_eq!(
        (clerk.staff_number.as_str(), clerk.photo.as_deref()),
        ("XH0101", Some(jpeg))
    );
    // Absent keeps the photo; empty removes it.
    assert!(set("XH0102", None).unwrap().has_photo);
    assert!(!set("XH0102", Some("")).unwrap().has_photo);
    let face = run(&c.h, &c.rater, t0(), GetWindowFace::default()).unwrap();
    assert_eq!(face.clerk.unwrap().photo, None);
}

/// 扫码评价: the acceptance notice carries a six-digit code and, with the hall server's address
/// set, a QR link to the phone page. The visit nobody rated at the window (未评价) is rated
/// later by that key, once; a wrong code is refused like an unknown number.
#[test]
fn a_notice_carries_a_code_to_rate_its_visit_from_a_phone_once() {
    use onetrip_core::execute_json;
    use onetrip_core::face::{GetNoticeVisit, NoticeKey, RateByNotice};
    use serde_json::{Value, json};
    let c = counter_at(t0());
    let mut settings = run(&c.h, &c.sup, t0(), GetRatingSettings {}).unwrap();
    settings.public_url = "ftp://x".into();
    let e = run(
        &c.h,
        &c.sup,
        t0(),
        UpdateRatingSettings {
            settings: settings.clone(),
        },
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("public_url"));
    settings.public_url = "http://192.168.1.10:8720/".into();
    let saved = run(&c.h, &c.sup, t0(), UpdateRatingSettings { settings }).unwrap();
    assert_eq!(saved.public_url, "http://192.168.1.10:8720");

    let op = |at: Timestamp, name: &str, req: Value| -> Value {
        execute_json(&c.h.store, &c.clerk, at, name, req)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .0
    };
    run(
        &c.h,
        &c.kiosk,
        t0(),
        IssueTicket {
            category_id: c.a.clone(),
            priority: None,
            priority_note: String::new(),
            id_number: String::new(),
            applicant_name: String::new(),
        },
    )
    .unwrap();
    let t = run(&c.h, &c.clerk, t0(), CallNext {}).unwrap();
    run(
        &c.h,
        &c.clerk,
        t0(),
        StartService {
            ticket_id: t.id.clone(),
        },
    )
    .unwrap();
    let item = op(t0(), "catalog.list", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category_id"] == c.a.as_str())
        .unwrap()
        .clone();
    let app = op(
        t0(),
        "application.open",
        json!({"item_id": item["id"], "ticket_id": t.id, "applicant_name": "王䶮",
               "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"}),
    );
    op(
        t0(),
        "application.mark_all_received",
        json!({"id": app["id"]}),
    );
    let decided = op(
        t0(),
        "application.decide",
        json!({"id": app["id"], "decision": {"kind": "accept"}}),
    );
    let number = decided["document"]["number"].as_str().unwrap().to_owned();
    run(
        &c.h,
        &c.clerk,
        secs(t0(), 30),
        FinishTicket {
            ticket_id: t.id.clone(),
        },
    )
    .unwrap();
    let code = c.h.raw_text(&format!(
        "SELECT rating_code FROM documents WHERE number = '{number}'"
    ));
    assert_eq!(code.len(), 6);
    let data: Value = serde_json::from_str(&c.h.raw_text(&format!(
        "SELECT data FROM documents WHERE number = '{number}'"
    )))
    .unwrap();
    assert_eq!(
        data["rating"]["url"],
        format!("http://192.168.1.10:8720/rate?n={number}&c={code}"),
        "the QR code links to the phone page"
    );
    // The printed notice carries the code under its QR code, to type when it cannot be scanned.
    let rel = c.h.raw_text(&format!(
        "SELECT archive_path FROM documents WHERE number = '{number}'"
    ));
    let text = std::process::Command::new("pdftotext")
        .arg(c.h.store.data_dir().join(rel))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("评价码 {code}")), "{text}");

    // Nobody rated at the window; an hour later, the phone.
    let later = secs(t0(), 3600);
    let anon = Caller::anonymous("phone");
    let key = |code: &str| NoticeKey {
        number: number.clone(),
        code: code.into(),
    };
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for k in [
        key(wrong),
        NoticeKey {
            number: "XH-WS-2026-999999".into(),
            code: code.clone(),
        },
    ] {
        let e = run(&c.h, &anon, later, GetNoticeVisit { key: k }).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::NotFound, Some("code"))
        );
    }
    let visit = run(&c.h, &anon, later, GetNoticeVisit { key: key(&code) }).unwrap();
    assert!(!visit.rated);
    assert_eq!(
        (visit.kind.as_str(), visit.window_number),
        ("acceptance_notice", Some(1))
    );
    let before = c.h.dump();
    let e = run(
        &c.h,
        &anon,
        later,
        RateByNotice {
            key: key(wrong),
            level: RatingLevel::Satisfied,
            reasons: vec![],
            comment: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(c.h.dump(), before, "a wrong code changes nothing");
    let r = run(
        &c.h,
        &anon,
        later,
        RateByNotice {
            key: key(&code),
            level: RatingLevel::Satisfied,
            reasons: vec![],
            comment: "办得快".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (r.ticket_id.as_str(), r.channel),
        (t.id.as_str(), RatingChannel::Qr)
    );
    let e = run(
        &c.h,
        &anon,
        later,
        RateByNotice {
            key: key(&code),
            level: RatingLevel::VeryDissatisfied,
            reasons: vec!["其他".into()],
            comment: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyRated, "one rating per visit");
    assert!(
        run(&c.h, &anon, later, GetNoticeVisit { key: key(&code) })
            .unwrap()
            .rated
    );
}

/// Pairing a tablet as window 1's rater without a command line: the code registering gave (or
/// a new one) pairs once, within 30 minutes, and gives a fresh token; the old one stops.
#[test]
fn a_rater_is_paired_with_a_one_time_code() {
    use onetrip_core::devices::{NewPairingCode, PairDevice, RegisterDevice};
    let h = demo_hall();
    let admin = Caller::system("test");
    let r = run(
        &h,
        &admin,
        t0(),
        RegisterDevice {
            kind: DeviceKind::Rater,
            name: "1号窗口评价器".into(),
            window_id: Some(h.window_id(1)),
        },
    )
    .unwrap();
    assert!(r.device.pairing_until.is_some());
    let anon = Caller::anonymous("tablet");
    let pair = |code: &str, at: Timestamp| run(&h, &anon, at, PairDevice { code: code.into() });
    let wrong = if r.pairing_code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    assert_eq!(pair(wrong, t0()).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(pair("12ab", t0()).unwrap_err().code, ErrorCode::NotFound);
    let paired = pair(&r.pairing_code, secs(t0(), 60)).unwrap();
    assert!(paired.device.pairing_until.is_none());
    assert_eq!(
        pair(&r.pairing_code, secs(t0(), 61)).unwrap_err().code,
        ErrorCode::NotFound,
        "a code pairs once"
    );
    let old = Caller::device_token(r.token.clone(), "old");
    assert_eq!(
        run(&h, &old, secs(t0(), 62), GetWindowFace::default())
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated,
        "the registration's token stops when the device pairs"
    );
    let tablet = Caller::device_token(paired.token.clone(), "tablet");
    let face = run(&h, &tablet, secs(t0(), 62), GetWindowFace::default()).unwrap();
    assert_eq!(face.window_number, 1);

    // A replaced tablet: a new code, which expires after 30 minutes.
    let again = run(
        &h,
        &admin,
        secs(t0(), 100),
        NewPairingCode {
            id: r.device.id.clone(),
        },
    )
    .unwrap();
    assert_eq!(
        pair(&again.code, secs(t0(), 100 + 31 * 60))
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "expired"
    );
    let fresh = run(
        &h,
        &admin,
        secs(t0(), 3000),
        NewPairingCode { id: r.device.id },
    )
    .unwrap();
    let repaired = pair(&fresh.code, secs(t0(), 3010)).unwrap();
    assert_ne!(repaired.token, paired.token);
}

/// 满意率 per window and clerk and the window ranking, worked out by hand: window 3 has two
/// 非常满意 (100 %, 2 ratings), window 2 one 满意 (100 %, 1), window 1 a 非常满意 and a 不满意
/// (50 %) — and an upheld dispute would not change window 1's place here, since none is upheld.
#[test]
fn the_window_ranking_orders_windows_by_their_satisfied_rate() {
    let h = demo_hall();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let sup = h.sign_in_at("zhouhong", None, t0());
    let mut minute = 0;
    let mut serve_and_rate = |window: u32, login: &str, prefix: &str, levels: &[RatingLevel]| {
        let clerk = h.sign_in_at(login, Some(window), t0());
        let rater = h.rater(window);
        for level in levels {
            minute += 1;
            let at = secs(t0(), minute * 60);
            run(
                &h,
                &kiosk,
                at,
                IssueTicket {
                    category_id: category(&h, prefix),
                    priority: None,
                    priority_note: String::new(),
                    id_number: String::new(),
                    applicant_name: String::new(),
                },
            )
            .unwrap();
            let t = run(&h, &clerk, at, CallNext {}).unwrap();
            run(
                &h,
                &clerk,
                at,
                StartService {
                    ticket_id: t.id.clone(),
                },
            )
            .unwrap();
            run(
                &h,
                &clerk,
                at,
                FinishTicket {
                    ticket_id: t.id.clone(),
                },
            )
            .unwrap();
            let reasons = if level.is_bad() {
                vec!["其他".to_owned()]
            } else {
                vec![]
            };
            run(
                &h,
                &rater,
                secs(at, 5),
                RateTicket {
                    ticket_id: t.id,
                    level: *level,
                    reasons,
                    comment: String::new(),
                },
            )
            .unwrap();
        }
    };
    use RatingLevel::*;
    serve_and_rate(1, "zhangwei", "A", &[VerySatisfied, Dissatisfied]);
    serve_and_rate(2, "liuyang", "A", &[Satisfied]);
    serve_and_rate(3, "wangfang", "B", &[VerySatisfied, VerySatisfied]);
    let f = run(
        &h,
        &sup,
        secs(t0(), 3600),
        GetFigures {
            filter: ReportFilter {
                from: "2026-11-23".into(),
                to: "2026-11-23".into(),
                ..Default::default()
            },
        },
    )
    .unwrap();
    let ranking: Vec<(u32, &str, u32, Option<f64>)> = f
        .ratings
        .window_ranking
        .iter()
        .map(|r| (r.rank, r.name.as_str(), r.rated, r.satisfied_rate))
        .collect();
    assert_eq!(
        ranking,
        vec![
            (1, "3号窗口", 2, Some(100.0)),
            (2, "2号窗口", 1, Some(100.0)),
            (3, "1号窗口", 2, Some(50.0)),
        ]
    );
    let zhangwei = f.queue.by_clerk.iter().find(|r| r.name == "张伟").unwrap();
    assert_eq!(
        (
            zhangwei.rated,
            zhangwei.satisfied,
            zhangwei.bad,
            zhangwei.satisfied_rate
        ),
        (2, 1, 1, Some(50.0))
    );
}
