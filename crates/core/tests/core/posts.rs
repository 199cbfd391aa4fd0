//! AB posts on a real SQLite file: the demo's posts, the overlap guard with its third-person
//! path, the notice-period override, the emergency path, and the coverage view.

use crate::common::{Hall, demo_hall, t0};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_core::posts::{
    AbsenceKind, AssignPost, DecideAbsence, GetCoverage, ListPosts, NameCover, PostView,
    RequestAbsence,
};
use onetrip_core::{Caller, ErrorCode};

fn bj(d: Date, h: i8) -> Timestamp {
    d.at(h, 0, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

fn posts(h: &Hall) -> Vec<PostView> {
    h.store
        .execute(&Caller::system("t"), t0(), ListPosts {})
        .unwrap()
        .response
}

fn request(
    h: &Hall,
    c: &Caller,
    staff_id: Option<String>,
    kind: AbsenceKind,
    days: (Date, Date),
    notice_override: bool,
) -> onetrip_core::Result<onetrip_core::posts::Absence> {
    h.store
        .execute(
            c,
            t0(),
            RequestAbsence {
                staff_id,
                kind,
                starts_at: bj(days.0, 0),
                ends_at: bj(days.1, 0),
                reason: "年休假".into(),
                notice_override,
            },
        )
        .map(|o| o.response)
}

#[test]
fn the_demo_pairs_back_each_other_up() {
    let h = demo_hall();
    let p = posts(&h);
    assert_eq!(p.len(), 6);
    assert_eq!(p[0].window_number, Some(1));
    assert_eq!(
        (p[0].primary_name.as_deref(), p[0].backup_name.as_deref()),
        (Some("张伟"), Some("刘洋"))
    );
    assert_eq!(
        (p[1].primary_name.as_deref(), p[1].backup_name.as_deref()),
        (Some("刘洋"), Some("张伟"))
    );
}

#[test]
fn a_and_b_are_never_away_together_unless_a_third_person_is_named() {
    let h = demo_hall();
    let zhang = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let liu = h.as_token(&h.sign_in("liuyang", Some(2)));
    let sup = h.as_token(&h.sign_in("zhouhong", None));
    // 张伟 asks for Wed–Fri next week; approved.
    let a = request(
        &h,
        &zhang,
        None,
        AbsenceKind::Leave,
        (date(2026, 12, 2), date(2026, 12, 5)),
        false,
    )
    .unwrap();
    assert_eq!(a.status, "requested");
    h.store
        .execute(
            &sup,
            t0(),
            DecideAbsence {
                id: a.id.clone(),
                approve: true,
            },
        )
        .unwrap();
    // 刘洋 (his B, and A of the post 张伟 backs) asks for Thu–Mon: refused, nothing written.
    let dump = h.dump();
    let err = request(
        &h,
        &liu,
        None,
        AbsenceKind::Training,
        (date(2026, 12, 3), date(2026, 12, 8)),
        false,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::BothAway);
    assert_eq!(err.params["partner"], "张伟");
    assert!(err.message.contains("第三人"), "{}", err.message);
    assert_eq!(h.dump(), dump);
    // Back to back is fine.
    request(
        &h,
        &liu,
        None,
        AbsenceKind::Training,
        (date(2026, 12, 5), date(2026, 12, 8)),
        false,
    )
    .unwrap();
    // The supervisor names 黄敏 for both posts over the overlap; then the overlap is allowed.
    let p = posts(&h);
    let huang = h
        .store
        .execute(
            &Caller::system("t"),
            t0(),
            onetrip_core::staff::ListStaff::default(),
        )
        .unwrap()
        .response
        .into_iter()
        .find(|s| s.login == "huangmin")
        .unwrap()
        .id;
    for post in &p[..2] {
        h.store
            .execute(
                &sup,
                t0(),
                NameCover {
                    post_id: post.id.clone(),
                    staff_id: huang.clone(),
                    starts_at: bj(date(2026, 12, 1), 0),
                    ends_at: bj(date(2026, 12, 5), 0),
                    reason: "A、B 均外出".into(),
                },
            )
            .unwrap();
    }
    request(
        &h,
        &liu,
        None,
        AbsenceKind::Meeting,
        (date(2026, 12, 3), date(2026, 12, 4)),
        false,
    )
    .unwrap();
    // The coverage view: 1号窗口岗 is B's on Wed 12-02, the third person's on Thu 12-03.
    let cov = h
        .store
        .execute(
            &sup,
            t0(),
            GetCoverage {
                from: "2026-12-02".into(),
                days: 2,
            },
        )
        .unwrap()
        .response;
    assert_eq!(cov[0].posts[0].on_duty, "b");
    assert_eq!(cov[0].posts[0].staff_name.as_deref(), Some("刘洋"));
    assert_eq!(cov[1].posts[0].on_duty, "third");
    assert_eq!(cov[1].posts[0].staff_name.as_deref(), Some("黄敏"));
    assert_eq!(cov[1].posts[2].on_duty, "a", "other posts are untouched");
}

#[test]
fn short_notice_needs_a_supervisor_and_emergencies_start_at_once() {
    let h = demo_hall();
    let wang = h.as_token(&h.sign_in("wangfang", Some(3)));
    let sup = h.as_token(&h.sign_in("zhouhong", None));
    // t0 is Monday 11-23: a leave starting today has no working day of notice.
    let today = (date(2026, 11, 23), date(2026, 11, 24));
    let err = request(&h, &wang, None, AbsenceKind::Leave, today, false).unwrap_err();
    assert_eq!(
        (err.code, err.params["need"].as_str()),
        (ErrorCode::NoticePeriod, "1")
    );
    // A clerk cannot override the notice period.
    let err = request(&h, &wang, None, AbsenceKind::Leave, today, true).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    // A supervisor can, and it is recorded.
    let wang_id = posts(&h)[2].primary_id.clone().unwrap();
    let a = request(&h, &sup, Some(wang_id), AbsenceKind::Leave, today, true).unwrap();
    assert!(a.notice_override);
    let audit = h
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT summary FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .unwrap();
    assert!(audit.contains("准许未提前报备"), "{audit}");
    // Tomorrow is one working day ahead: fine without an override.
    request(
        &h,
        &wang,
        None,
        AbsenceKind::Meeting,
        (date(2026, 11, 25), date(2026, 11, 26)),
        false,
    )
    .unwrap();
    // An emergency needs no notice and is in force at once — but the guard still holds: 李娜
    // backs 王芳, who is away today.
    let li = h.as_token(&h.sign_in("lina", Some(4)));
    let err = request(&h, &li, None, AbsenceKind::Emergency, today, false).unwrap_err();
    assert_eq!(err.code, ErrorCode::BothAway);
    let chen = h.as_token(&h.sign_in("chenjing", Some(5)));
    let e = request(&h, &chen, None, AbsenceKind::Emergency, today, false).unwrap();
    assert_eq!(e.status, "approved");
}

#[test]
fn assignments_change_only_with_a_supervisor_and_keep_their_history() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let p = posts(&h);
    let req = |caller: &Caller, b: String| {
        h.store.execute(
            caller,
            t0(),
            AssignPost {
                post_id: p[0].id.clone(),
                primary_id: p[0].primary_id.clone().unwrap(),
                backup_id: b,
                reason: "人员调整".into(),
            },
        )
    };
    assert_eq!(
        req(&clerk, p[2].primary_id.clone().unwrap())
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let sup = h.as_token(&h.sign_in("zhouhong", None));
    assert_eq!(
        req(&sup, p[0].primary_id.clone().unwrap())
            .unwrap_err()
            .field
            .as_deref(),
        Some("backup_id")
    );
    let after = req(&sup, p[2].primary_id.clone().unwrap())
        .unwrap()
        .response;
    assert_eq!(after.backup_name.as_deref(), Some("王芳"));
    let rows: i64 = h
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM post_assignments WHERE post_id = ?1",
                [&p[0].id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(rows, 2, "the old assignment is closed, not overwritten");
}
