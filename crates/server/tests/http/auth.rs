//! 401 when the caller is not known; 403 when it is known but the operation is not its.

use serde_json::json;

use crate::common::{Auth, start};

#[test]
fn no_token_is_401_and_the_wrong_scope_is_403() {
    let s = start();
    let a = s.category_id("A");
    // No credential: staff and device operations are 401; public ones answer.
    for (op, req) in [
        ("case.list", json!({"scope": "mine", "open_only": true})),
        ("ticket.issue", json!({"category_id": a})),
        ("staff.list", json!({})),
    ] {
        let r = s.op(&Auth::None, op, req);
        assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{op}");
    }
    s.op(&Auth::None, "hall.board", json!({})).ok();
    // A dead credential on a public operation is still 401: the caller learns its token died.
    let r = s.op(
        &Auth::Staff("expired-or-revoked".into()),
        "hall.board",
        json!({}),
    );
    assert_eq!((r.status, r.code()), (401, "unauthenticated"));
    // Malformed or unknown credentials are 401 too.
    for auth in [
        Auth::Raw("Bearer".into()),
        Auth::Raw("Basic dXNlcjpwYXNz".into()),
        Auth::Staff("not-a-session".into()),
        Auth::Device("not-a-device".into()),
    ] {
        let r = s.op(&auth, "queue.board", json!({}));
        assert_eq!(r.status, 401, "{auth:?}: {:?}", r.body);
    }

    // A kiosk token reaches kiosk operations only.
    let kiosk = s.device("kiosk", "一楼取号机");
    let display = s.device("display", "一楼叫号屏");
    let issued = s.op(&kiosk, "ticket.issue", json!({"category_id": a})).ok();
    assert_eq!(issued["ticket"]["number"], "A001");
    s.op(&display, "queue.board", json!({})).ok();
    for (auth, op, req) in [
        (&display, "ticket.issue", json!({"category_id": a})),
        (
            &kiosk,
            "case.list",
            json!({"scope": "mine", "open_only": true}),
        ),
        (&kiosk, "queue.call_next", json!({})),
        (&display, "staff.list", json!({})),
        (
            &display,
            "device.register",
            json!({"kind": "kiosk", "name": "x"}),
        ),
    ] {
        let r = s.op(auth, op, req);
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{auth:?} {op}");
    }

    // A clerk is 403 on supervisor and admin operations.
    let clerk = s.sign_in("zhangwei", Some(1));
    for (op, req) in [
        ("device.list", json!({})),
        (
            "staff.create",
            json!({"login": "x1", "name": "某某", "role": "clerk", "initial_password": "Start2026a"}),
        ),
        (
            "queue.update_settings",
            json!({"settings": s.system("queue.settings", json!({}))}),
        ),
    ] {
        let r = s.op(&clerk, op, req);
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{op}");
    }
    s.op(&clerk, "queue.call_next", json!({})).ok();
}

#[test]
fn staff_tokens_expire_and_are_revoked_and_device_tokens_are_revoked() {
    let s = start();
    let clerk = s.sign_in("zhangwei", Some(1));
    s.op(
        &clerk,
        "case.list",
        json!({"scope": "mine", "open_only": true}),
    )
    .ok();
    // Signing out revokes the token.
    s.op(&clerk, "auth.sign_out", json!({})).ok();
    let r = s.op(
        &clerk,
        "case.list",
        json!({"scope": "mine", "open_only": true}),
    );
    assert_eq!((r.status, r.code()), (401, "session_expired"));

    // A supervisor's release of the window revokes the clerk's token.
    let clerk = s.sign_in("zhangwei", Some(1));
    let boss = s.sign_in("zhouhong", None);
    s.op(
        &boss,
        "auth.release_window",
        json!({"window_id": s.window_id(1), "reason": "窗口卡住"}),
    )
    .ok();
    let r = s.op(
        &clerk,
        "case.list",
        json!({"scope": "mine", "open_only": true}),
    );
    assert_eq!(r.status, 401, "{:?}", r.body);

    // Tokens expire with time.
    let clerk = s.sign_in("liuyang", Some(2));
    s.clock
        .set(crate::common::t0() + jiff::SignedDuration::from_hours(24));
    let r = s.op(
        &clerk,
        "case.list",
        json!({"scope": "mine", "open_only": true}),
    );
    assert_eq!((r.status, r.code()), (401, "session_expired"));
    s.clock.set(crate::common::t0());

    // A revoked device is 401 at once.
    let kiosk = s.device("kiosk", "二楼取号机");
    s.op(&kiosk, "queue.board", json!({})).ok();
    let list = s.system("device.list", json!({}));
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let admin = s.sign_in("admin", None);
    s.op(&admin, "device.revoke", json!({"id": id})).ok();
    let r = s.op(&kiosk, "queue.board", json!({}));
    assert_eq!((r.status, r.code()), (401, "unauthenticated"));
}

#[test]
fn bad_bodies_are_coded_errors_not_crashes() {
    let s = start();
    let kiosk = s.device("kiosk", "取号机");
    let r = s.raw(&kiosk, "ticket.issue", "{not json");
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("invalid_format"))
    );
    let r = s.raw(&kiosk, "ticket.issue", r#"{"category_id": 5}"#);
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (422, Some("invalid_format"))
    );
    let r = s.raw(&kiosk, "no.such_op", "{}");
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("not_found"))
    );
    let r = s.op(&kiosk, "ticket.issue", json!({"category_id": "nope"}));
    assert!(r.status == 422 || r.status == 404, "{:?}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| c > '\u{4e00}'),
        "Chinese message"
    );
}

#[test]
fn repeated_failed_sign_ins_are_429_with_the_time_the_lock_ends() {
    let s = start();
    for _ in 0..5 {
        let r = s.op(
            &Auth::None,
            "auth.sign_in",
            json!({"login": "zhangwei", "password": "guess"}),
        );
        assert_eq!((r.status, r.code()), (401, "wrong_credentials"));
    }
    let r = s.op(
        &Auth::None,
        "auth.sign_in",
        json!({"login": "zhangwei", "password": "demo1234", "window_id": s.window_id(1)}),
    );
    assert_eq!((r.status, r.code()), (429, "account_locked"));
    assert_eq!(r.body["params"]["until"], "10:15");
}
