//! Sign-in, sessions, window occupancy and release, first-admin bootstrap.

use crate::common::{demo_hall, t0};
use onetrip_core::hall::GetHall;
use onetrip_core::staff::auth::{self, ChangePassword, ReleaseWindow, SignOut, WhoAmI};
use onetrip_core::staff::{ListStaff, SetStaffActive};
use onetrip_core::{Caller, ErrorCode};

#[test]
fn correct_password_signs_in_at_a_window() {
    let h = demo_hall();
    let s = h.sign_in("zhangwei", Some(1));
    assert_eq!(s.staff.name, "张伟");
    assert_eq!(s.window.as_ref().unwrap().number, 1);
    assert_eq!(s.token.len(), 64);
    let me = h
        .store
        .execute(&h.as_token(&s), t0(), WhoAmI {})
        .unwrap()
        .response;
    assert_eq!(me.staff.login, "zhangwei");
    let board = h.board();
    let w1 = board.windows.iter().find(|w| w.window.number == 1).unwrap();
    assert_eq!(
        w1.clerk.as_deref(),
        Some("张伟"),
        "the board shows who is at window 1"
    );
    let token_stored: i64 = h
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM sessions WHERE token_hash = ?1",
                [&s.token],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(
        token_stored, 0,
        "the raw token is never stored, only its hash"
    );
}

#[test]
fn wrong_password_and_unknown_login_are_the_same_error() {
    let h = demo_hall();
    let before = h.audit_count();
    let a = h
        .try_sign_in("zhangwei", "wrong-pass1", Some(1))
        .unwrap_err();
    let b = h.try_sign_in("nobody", "wrong-pass1", Some(1)).unwrap_err();
    assert_eq!(a.code, ErrorCode::WrongCredentials);
    assert_eq!(b.code, ErrorCode::WrongCredentials);
    assert_eq!(
        a.message, b.message,
        "the screen must not reveal which logins exist"
    );
    assert_eq!(
        h.audit_count(),
        before + 2,
        "a failed sign-in writes only its failure count (one audit row each), no session"
    );
    assert!(h.board().windows.iter().all(|w| w.clerk.is_none()));
}

#[test]
fn disabled_staff_cannot_sign_in_and_lose_their_session() {
    let h = demo_hall();
    let admin = h.sign_in("admin", None);
    let clerk = h.sign_in("liuyang", Some(2));
    let staff = h
        .store
        .execute(&h.as_token(&admin), t0(), ListStaff::default())
        .unwrap()
        .response;
    let liu = staff.iter().find(|s| s.login == "liuyang").unwrap();
    h.store
        .execute(
            &h.as_token(&admin),
            t0(),
            SetStaffActive {
                id: liu.id.clone(),
                active: false,
            },
        )
        .unwrap();
    assert_eq!(
        h.try_sign_in("liuyang", "demo1234", Some(2))
            .unwrap_err()
            .code,
        ErrorCode::StaffInactive
    );
    let err = h
        .store
        .execute(&h.as_token(&clerk), t0(), WhoAmI {})
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::SessionExpired,
        "deactivation ends the open session"
    );
    assert!(
        h.board()
            .windows
            .iter()
            .find(|w| w.window.number == 2)
            .unwrap()
            .clerk
            .is_none(),
        "window 2 is free again"
    );
}

#[test]
fn clerk_needs_a_window_and_a_window_holds_one_clerk() {
    let h = demo_hall();
    assert_eq!(
        h.try_sign_in("zhangwei", "demo1234", None)
            .unwrap_err()
            .code,
        ErrorCode::WindowRequired
    );
    h.sign_in("zhangwei", Some(1));
    let err = h.try_sign_in("liuyang", "demo1234", Some(1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::WindowOccupied);
    assert_eq!(
        err.params["holder"], "张伟",
        "the refusal names who holds the window"
    );
    assert_eq!(err.params["window"], "1");
    assert!(err.message.contains("张伟"));
    // Moving: zhangwei signs in at window 2; window 1 is freed.
    h.sign_in("zhangwei", Some(2));
    let board = h.board();
    assert!(
        board
            .windows
            .iter()
            .find(|w| w.window.number == 1)
            .unwrap()
            .clerk
            .is_none()
    );
    assert_eq!(
        board
            .windows
            .iter()
            .find(|w| w.window.number == 2)
            .unwrap()
            .clerk
            .as_deref(),
        Some("张伟")
    );
    h.sign_in("liuyang", Some(1));
}

#[test]
fn supervisor_releases_an_occupied_window_and_the_old_session_dies() {
    let h = demo_hall();
    let clerk = h.sign_in("wangfang", Some(3));
    let sup = h.sign_in("zhouhong", None);
    let w3 = h.window_id(3);
    let released = h
        .store
        .execute(
            &h.as_token(&sup),
            t0(),
            ReleaseWindow {
                window_id: w3.clone(),
                reason: "王芳临时离开未退出".into(),
            },
        )
        .unwrap();
    assert_eq!(released.response.number, 3);
    assert_eq!(
        h.store
            .execute(&h.as_token(&clerk), t0(), WhoAmI {})
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    h.sign_in("lina", Some(3));
    // Releasing a free window is a clear error.
    let w4 = h.window_id(4);
    let err = h
        .store
        .execute(
            &h.as_token(&sup),
            t0(),
            ReleaseWindow {
                window_id: w4,
                reason: "x".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    // A clerk may not release.
    let other = h.sign_in("chenjing", Some(5));
    let err = h
        .store
        .execute(
            &h.as_token(&other),
            t0(),
            ReleaseWindow {
                window_id: w3,
                reason: "x".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
}

/// Signing out when the clerk leaves the window (issue 8): the hall sets how many idle minutes
/// a counter allows (10 by default, 0 = never, at most 240); the counter then signs its clerk
/// out with reason `idle`, which frees the window and is recorded as such.
#[test]
fn a_clerk_who_left_the_window_is_signed_out_and_the_window_is_free() {
    use onetrip_core::staff::auth::SignOutReason;
    use onetrip_core::staff::lockout::{
        GetSecuritySettings, SecuritySettings, UpdateSecuritySettings,
    };
    let h = demo_hall();
    let admin = h.as_token(&h.sign_in("admin", None));
    let s = h
        .store
        .execute(&admin, t0(), GetSecuritySettings {})
        .unwrap()
        .response;
    assert_eq!(s.idle_minutes, 10, "on by default");
    for (idle, ok) in [(0, true), (240, true), (241, false)] {
        let r = h.store.execute(
            &admin,
            t0(),
            UpdateSecuritySettings {
                settings: SecuritySettings {
                    idle_minutes: idle,
                    ..s.clone()
                },
            },
        );
        assert_eq!(r.is_ok(), ok, "idle_minutes {idle}");
        if !ok {
            assert_eq!(r.unwrap_err().field.as_deref(), Some("idle_minutes"));
        }
    }
    h.store
        .execute(
            &admin,
            t0(),
            UpdateSecuritySettings {
                settings: SecuritySettings {
                    idle_minutes: 5,
                    ..s
                },
            },
        )
        .unwrap();
    let clerk = h.sign_in("zhaolei", Some(6));
    h.store
        .execute(
            &h.as_token(&clerk),
            t0(),
            SignOut {
                reason: Some(SignOutReason::Idle),
            },
        )
        .unwrap();
    assert_eq!(
        h.store
            .execute(&h.as_token(&clerk), t0(), WhoAmI {})
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    let summary = h.raw_text(
        "SELECT summary FROM audit_log WHERE op = 'auth.sign_out' ORDER BY seq DESC LIMIT 1",
    );
    assert!(
        summary.contains("6号窗口") && summary.contains("5 分钟无操作"),
        "{summary}"
    );
    assert_eq!(
        h.raw_text("SELECT ended_reason FROM sessions WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT 1"),
        "idle"
    );
    // The window is free: the backup clerk signs in at it.
    h.sign_in("liuyang", Some(6));
}

#[test]
fn sign_out_frees_the_window_and_expired_sessions_do_not_block() {
    let h = demo_hall();
    let s = h.sign_in("zhaolei", Some(6));
    h.store
        .execute(&h.as_token(&s), t0(), SignOut::default())
        .unwrap();
    assert_eq!(
        h.store
            .execute(&h.as_token(&s), t0(), WhoAmI {})
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    h.sign_in("huangmin", Some(6));
    // 13 hours later the session has expired: another clerk may take the window.
    let later = t0()
        .checked_add(jiff::SignedDuration::from_hours(auth::SESSION_HOURS + 1))
        .unwrap();
    let err = h
        .store
        .execute(
            &Caller::token(h.sign_in("zhangwei", Some(1)).token, "t"),
            later,
            WhoAmI {},
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionExpired);
    let w6 = h.window_id(6);
    let s2 = h
        .store
        .execute(
            &Caller::anonymous("t"),
            later,
            auth::SignIn {
                login: "zhaolei".into(),
                password: "demo1234".into(),
                window_id: Some(w6),
            },
        )
        .unwrap();
    assert_eq!(s2.response.window.unwrap().number, 6);
}

#[test]
fn first_admin_gets_a_one_time_password_and_must_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, report) = onetrip_core::open_file(dir.path().join("new.sqlite"), t0()).unwrap();
    assert!(report.created);
    let first = auth::bootstrap(&store, t0())
        .unwrap()
        .expect("a brand-new database gets a first admin");
    assert_eq!(first.login, "admin");
    assert!(first.one_time_password.len() >= 12);
    assert!(
        auth::bootstrap(&store, t0()).unwrap().is_none(),
        "only once"
    );
    let anon = Caller::anonymous("t");
    let s = store
        .execute(
            &anon,
            t0(),
            auth::SignIn {
                login: "admin".into(),
                password: first.one_time_password.clone(),
                window_id: None,
            },
        )
        .unwrap()
        .response;
    assert!(s.staff.must_change_password);
    let me = Caller::token(s.token.clone(), "t");
    let err = store.execute(&me, t0(), ListStaff::default()).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::PasswordChangeRequired,
        "nothing but the password change before it"
    );
    store.execute(&me, t0(), GetHall {}).unwrap();
    let weak = store
        .execute(
            &me,
            t0(),
            ChangePassword {
                old_password: first.one_time_password.clone(),
                new_password: "short".into(),
            },
        )
        .unwrap_err();
    assert_eq!(weak.code, ErrorCode::WeakPassword);
    let wrong = store
        .execute(
            &me,
            t0(),
            ChangePassword {
                old_password: "not-it-123".into(),
                new_password: "NewPass2026".into(),
            },
        )
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::WrongCredentials);
    let changed = store
        .execute(
            &me,
            t0(),
            ChangePassword {
                old_password: first.one_time_password,
                new_password: "NewPass2026".into(),
            },
        )
        .unwrap()
        .response;
    assert!(!changed.must_change_password);
    assert_eq!(
        store
            .execute(&me, t0(), ListStaff::default())
            .unwrap()
            .response
            .len(),
        1
    );
}

#[test]
fn concurrent_sign_ins_to_one_window_leave_exactly_one_holder() {
    let h = demo_hall();
    let w = h.window_id(4);
    let logins = [
        "zhangwei",
        "liuyang",
        "wangfang",
        "lina",
        "chenjing",
        "yangqiang",
    ];
    let handles: Vec<_> = logins
        .iter()
        .map(|login| {
            let (w, login) = (w.clone(), login.to_string());
            let store = h.reopen_at(t0());
            std::thread::spawn(move || {
                store.execute(
                    &Caller::anonymous("t"),
                    t0(),
                    auth::SignIn {
                        login,
                        password: "demo1234".into(),
                        window_id: Some(w),
                    },
                )
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "exactly one clerk gets window 4: {results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code, ErrorCode::WindowOccupied);
    }
}

#[test]
fn repeated_failures_lock_the_login_until_the_time_runs_out_or_a_supervisor_unlocks_it() {
    use onetrip_core::staff::auth::SignIn;
    use onetrip_core::staff::lockout::{SecuritySettings, UnlockSignIn, UpdateSecuritySettings};
    let h = demo_hall();
    let at = |minutes: i64, login: &str, password: &str| {
        h.store
            .execute(
                &Caller::anonymous("test"),
                t0() + jiff::SignedDuration::from_mins(minutes),
                SignIn {
                    login: login.into(),
                    password: password.into(),
                    window_id: None,
                },
            )
            .map(|o| o.response)
    };
    let audits = h.audit_count();
    // Four failures: each is the same refusal, and each is counted with its own audit row
    // although the sign-in itself rolled back.
    for _ in 0..4 {
        assert_eq!(
            at(0, "zhouhong", "guess").unwrap_err().code,
            ErrorCode::WrongCredentials
        );
    }
    assert_eq!(h.audit_count(), audits + 4);
    // A success clears the count.
    at(0, "zhouhong", "demo1234").unwrap();
    for _ in 0..4 {
        at(1, "zhouhong", "guess").unwrap_err();
    }
    at(1, "zhouhong", "demo1234").expect("four failures after a success do not lock");
    // Five in a row lock it: even the right password is refused, without being checked.
    for _ in 0..5 {
        assert_eq!(
            at(2, "zhouhong", "guess").unwrap_err().code,
            ErrorCode::WrongCredentials
        );
    }
    let e = at(3, "zhouhong", "demo1234").unwrap_err();
    assert_eq!(
        (e.code, e.params["until"].as_str()),
        (ErrorCode::AccountLocked, "10:17")
    );
    assert!(e.message.contains("锁定至 10:17"), "{}", e.message);
    // Unknown logins lock the same way: a lock reveals nothing.
    for _ in 0..5 {
        at(2, "nobody", "guess").unwrap_err();
    }
    assert_eq!(
        at(3, "nobody", "guess").unwrap_err().code,
        ErrorCode::AccountLocked
    );
    // The lock runs out after 15 minutes.
    at(17, "zhouhong", "demo1234").expect("the lock ran out");

    // Locked again; a clerk may not unlock, a supervisor may.
    for _ in 0..5 {
        at(20, "zhangwei", "guess").unwrap_err();
    }
    assert_eq!(
        at(21, "zhangwei", "demo1234").unwrap_err().code,
        ErrorCode::AccountLocked
    );
    let clerk = h.sign_in_at("liuyang", Some(2), t0());
    let e = h
        .store
        .execute(
            &clerk,
            t0(),
            UnlockSignIn {
                login: "zhangwei".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let boss = h.sign_in_at("zhouhong", None, t0() + jiff::SignedDuration::from_mins(21));
    h.store
        .execute(
            &boss,
            t0() + jiff::SignedDuration::from_mins(21),
            UnlockSignIn {
                login: "zhangwei".into(),
            },
        )
        .unwrap();
    h.store
        .execute(
            &Caller::anonymous("test"),
            t0() + jiff::SignedDuration::from_mins(22),
            SignIn {
                login: "zhangwei".into(),
                password: "demo1234".into(),
                window_id: Some(h.window_id(1)),
            },
        )
        .expect("unlocked by the supervisor");

    // The limits are settings, checked.
    let admin = h.sign_in("admin", None);
    let admin = h.as_token(&admin);
    let e = h
        .store
        .execute(
            &admin,
            t0(),
            UpdateSecuritySettings {
                settings: SecuritySettings {
                    max_failures: 2,
                    lock_minutes: 15,
                    idle_minutes: 10,
                },
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("max_failures"))
    );
    h.store
        .execute(
            &admin,
            t0(),
            UpdateSecuritySettings {
                settings: SecuritySettings {
                    max_failures: 3,
                    lock_minutes: 60,
                    idle_minutes: 10,
                },
            },
        )
        .unwrap();
    for _ in 0..3 {
        at(30, "wangfang", "guess").unwrap_err();
    }
    let e = at(31, "wangfang", "demo1234").unwrap_err();
    assert_eq!(
        (e.code, e.params["until"].as_str()),
        (ErrorCode::AccountLocked, "11:30")
    );
}
