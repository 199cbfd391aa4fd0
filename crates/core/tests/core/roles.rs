//! Roles are enforced inside the core operations: a forbidden call changes nothing.

use crate::common::{demo_hall, t0};
use onetrip_core::{Access, Caller, DeviceKind, ErrorCode, OPERATIONS, execute_json};
use serde_json::json;

#[test]
fn a_clerk_calling_admin_and_supervisor_operations_gets_forbidden_and_nothing_changes() {
    let h = demo_hall();
    let clerk = h.sign_in("zhangwei", Some(1));
    let c = h.as_token(&clerk);
    let cat = h.board().categories[0].id.clone();
    let staff_id = h.board().windows[0].clerk_id.clone().unwrap();
    let attempts = [
        (
            "hall.update",
            json!({"name":"x","code":"x","address":"","phone":"","business_hours":[{"start":"09:00","end":"17:00"}]}),
        ),
        (
            "category.create",
            json!({"prefix":"Z","name":"x","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
        ),
        (
            "window.create",
            json!({"number":50,"name":"x","category_ids":[cat]}),
        ),
        (
            "staff.create",
            json!({"login":"sneaky","name":"x","role":"admin","initial_password":"Sneaky2026"}),
        ),
        (
            "staff.update",
            json!({"id":staff_id,"name":"张伟","role":"admin"}),
        ),
        (
            "auth.release_window",
            json!({"window_id":h.window_id(1),"reason":"x"}),
        ),
        ("audit.list", json!({})),
        ("staff.list", json!({})),
    ];
    let dump = h.dump();
    let bytes = h.fingerprint();
    for (name, req) in attempts {
        let err = execute_json(&h.store, &c, t0(), name, req).unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden, "{name}");
        assert!(err.message.contains("无权"), "{name}: {}", err.message);
    }
    assert_eq!(h.dump(), dump, "no row changed");
    assert_eq!(h.fingerprint(), bytes, "no byte changed");
}

#[test]
fn a_supervisor_cannot_create_or_promote_admins() {
    let h = demo_hall();
    let sup = h.sign_in("zhouhong", None);
    let c = h.as_token(&sup);
    let err = execute_json(
        &h.store,
        &c,
        t0(),
        "staff.create",
        json!({"login":"boss","name":"x","role":"admin","initial_password":"Boss2026a"}),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    // But may create a clerk.
    execute_json(
        &h.store,
        &c,
        t0(),
        "staff.create",
        json!({"login":"newbie","name":"新人","role":"clerk","initial_password":"Newbie2026"}),
    )
    .unwrap();
}

#[test]
fn the_last_admin_cannot_be_deactivated_or_demoted() {
    let h = demo_hall();
    let admin = h.sign_in("admin", None);
    let sup = h.sign_in("zhouhong", None);
    let id = admin.staff.id.clone();
    let err = execute_json(
        &h.store,
        &h.as_token(&admin),
        t0(),
        "staff.update",
        json!({"id":id,"name":"管理员","role":"clerk"}),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::LastAdmin);
    let err = execute_json(
        &h.store,
        &h.as_token(&sup),
        t0(),
        "staff.set_active",
        json!({"id":id,"active":false}),
    )
    .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Forbidden,
        "a supervisor cannot touch an admin account"
    );
}

#[test]
fn devices_and_anonymous_callers_reach_only_what_they_may() {
    let h = demo_hall();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let anon = Caller::anonymous("counter");
    for op in OPERATIONS {
        let res = execute_json(&h.store, &kiosk, t0(), op.name, json!({}));
        if op.access > Access::Device {
            let code = res.unwrap_err().code;
            assert_eq!(
                code,
                ErrorCode::Forbidden,
                "{} must be closed to the kiosk",
                op.name
            );
        }
        let res = execute_json(&h.store, &anon, t0(), op.name, json!({}));
        if op.access > Access::Public {
            assert_eq!(
                res.unwrap_err().code,
                ErrorCode::Unauthenticated,
                "{} needs a sign-in",
                op.name
            );
        }
    }
    // The display may read the board and the categories.
    let display = Caller::device(DeviceKind::Display, "display");
    execute_json(&h.store, &display, t0(), "hall.board", json!({})).unwrap();
    execute_json(&h.store, &display, t0(), "category.list", json!({})).unwrap();
}
