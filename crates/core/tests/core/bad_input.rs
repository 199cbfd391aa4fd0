//! Bad input to hall setup gets its coded error, and the database is byte-for-byte unchanged.

use crate::common::{demo_hall, t0};
use onetrip_core::{ErrorCode, execute_json};
use serde_json::json;

#[test]
fn each_bad_setup_input_returns_its_code_and_changes_nothing() {
    let h = demo_hall();
    let admin = h.sign_in("admin", None);
    let a = h.as_token(&admin);
    let board = h.board();
    let cat = board.categories[0].id.clone();
    let w1 = h.window_id(1);
    let unknown = "01900000-0000-7000-8000-000000000000";
    let long_name = "很".repeat(41);
    let post1 = h.post_id(1);
    let long_reason = "很".repeat(101);
    let cases: Vec<(&str, &str, serde_json::Value, ErrorCode, Option<&str>)> = vec![
        (
            "duplicate window number",
            "window.create",
            json!({"number":1,"name":"重复","category_ids":[cat]}),
            ErrorCode::DuplicateWindowNumber,
            Some("number"),
        ),
        (
            "duplicate number on update",
            "window.update",
            json!({"id":w1,"number":2,"name":"x","category_ids":[cat]}),
            ErrorCode::DuplicateWindowNumber,
            Some("number"),
        ),
        (
            "duplicate prefix",
            "category.create",
            json!({"prefix":"A","name":"重复","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::DuplicatePrefix,
            Some("prefix"),
        ),
        (
            "duplicate prefix, lower case",
            "category.create",
            json!({"prefix":"b","name":"重复","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::DuplicatePrefix,
            Some("prefix"),
        ),
        (
            "duplicate login",
            "staff.create",
            json!({"login":"zhangwei","name":"张伟二","role":"clerk","initial_password":"Abcd1234"}),
            ErrorCode::DuplicateLogin,
            Some("login"),
        ),
        (
            "empty window name",
            "window.create",
            json!({"number":20,"name":"   ","category_ids":[cat]}),
            ErrorCode::Required,
            Some("name"),
        ),
        (
            "empty category name",
            "category.create",
            json!({"prefix":"Q","name":"","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::Required,
            Some("name"),
        ),
        (
            "empty staff name",
            "staff.create",
            json!({"login":"someone","name":"","role":"clerk","initial_password":"Abcd1234"}),
            ErrorCode::Required,
            Some("name"),
        ),
        (
            "empty hall name",
            "hall.update",
            json!({"name":"","code":"X","address":"","phone":"","business_hours":[{"start":"09:00","end":"17:00"}]}),
            ErrorCode::Required,
            Some("name"),
        ),
        (
            "over-long hall name",
            "hall.update",
            json!({"name":long_name,"code":"X","address":"","phone":"","business_hours":[{"start":"09:00","end":"17:00"}]}),
            ErrorCode::TooLong,
            Some("name"),
        ),
        (
            "over-long window name",
            "window.create",
            json!({"number":21,"name":"很".repeat(21),"category_ids":[cat]}),
            ErrorCode::TooLong,
            Some("name"),
        ),
        (
            "over-long category name",
            "category.create",
            json!({"prefix":"Q","name":"很".repeat(21),"daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::TooLong,
            Some("name"),
        ),
        (
            "over-long staff name",
            "staff.create",
            json!({"login":"someone","name":"很".repeat(21),"role":"clerk","initial_password":"Abcd1234"}),
            ErrorCode::TooLong,
            Some("name"),
        ),
        (
            "unknown window id",
            "window.update",
            json!({"id":unknown,"number":30,"name":"x","category_ids":[cat]}),
            ErrorCode::NotFound,
            Some("id"),
        ),
        (
            "malformed window id",
            "window.set_active",
            json!({"id":"not-an-id","active":false}),
            ErrorCode::NotFound,
            Some("id"),
        ),
        (
            "unknown category id on a window",
            "window.create",
            json!({"number":31,"name":"x","category_ids":[unknown]}),
            ErrorCode::NotFound,
            Some("category_ids"),
        ),
        (
            "unknown category id",
            "category.update",
            json!({"id":unknown,"prefix":"Q","name":"x","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::NotFound,
            Some("id"),
        ),
        (
            "unknown staff id",
            "staff.set_active",
            json!({"id":unknown,"active":false}),
            ErrorCode::NotFound,
            Some("id"),
        ),
        (
            "unknown window to release",
            "auth.release_window",
            json!({"window_id":unknown,"reason":"x"}),
            ErrorCode::NotFound,
            Some("window_id"),
        ),
        (
            "window number out of range",
            "window.create",
            json!({"number":0,"name":"x","category_ids":[cat]}),
            ErrorCode::OutOfRange,
            Some("number"),
        ),
        (
            "daily cap above 999",
            "category.create",
            json!({"prefix":"Q","name":"x","daily_cap":1000,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::OutOfRange,
            Some("daily_cap"),
        ),
        (
            "bad prefix",
            "category.create",
            json!({"prefix":"甲","name":"x","daily_cap":10,"issue_from":"09:00","issue_until":"10:00"}),
            ErrorCode::InvalidFormat,
            Some("prefix"),
        ),
        (
            "bad issuing hours",
            "category.create",
            json!({"prefix":"Q","name":"x","daily_cap":10,"issue_from":"25:00","issue_until":"10:00"}),
            ErrorCode::InvalidFormat,
            Some("issue_from"),
        ),
        (
            "issuing hours reversed",
            "category.create",
            json!({"prefix":"Q","name":"x","daily_cap":10,"issue_from":"11:00","issue_until":"10:00"}),
            ErrorCode::InvalidFormat,
            Some("issue_until"),
        ),
        (
            "overlapping business hours",
            "hall.update",
            json!({"name":"x","code":"X","address":"","phone":"","business_hours":[{"start":"09:00","end":"12:00"},{"start":"11:00","end":"17:00"}]}),
            ErrorCode::InvalidFormat,
            Some("business_hours"),
        ),
        (
            "control characters in a name",
            "window.create",
            json!({"number":22,"name":"窗口\u{0007}","category_ids":[cat]}),
            ErrorCode::InvalidFormat,
            Some("name"),
        ),
        (
            "window without categories",
            "window.create",
            json!({"number":23,"name":"x","category_ids":[]}),
            ErrorCode::Required,
            Some("category_ids"),
        ),
        (
            "weak initial password",
            "staff.create",
            json!({"login":"someone","name":"某人","role":"clerk","initial_password":"123"}),
            ErrorCode::WeakPassword,
            Some("initial_password"),
        ),
        (
            "bad phone",
            "hall.update",
            json!({"name":"x","code":"X","address":"","phone":"call me","business_hours":[{"start":"09:00","end":"17:00"}]}),
            ErrorCode::InvalidFormat,
            Some("phone"),
        ),
        (
            "handover without a reason",
            "handover.prepare",
            json!({"post_id": post1, "reason": "  "}),
            ErrorCode::Required,
            Some("reason"),
        ),
        (
            "takeover reason too long",
            "handover.emergency",
            json!({"post_id": post1, "reason": long_reason}),
            ErrorCode::TooLong,
            Some("reason"),
        ),
        (
            "handover of an unknown post",
            "handover.emergency",
            json!({"post_id": unknown, "reason": "急病"}),
            ErrorCode::NotFound,
            None,
        ),
        (
            "acknowledging an unknown handover",
            "handover.acknowledge",
            json!({"id": unknown}),
            ErrorCode::NotFound,
            None,
        ),
        (
            "takeover figures over a backwards period",
            "handover.figures",
            json!({"from": "2026-12-01", "to": "2026-11-01"}),
            ErrorCode::OutOfRange,
            Some("to"),
        ),
        (
            "takeover figures with a bad date",
            "handover.figures",
            json!({"from": "2026-13-01", "to": "2026-12-01"}),
            ErrorCode::InvalidFormat,
            Some("from"),
        ),
        (
            "notice period out of range",
            "post.update_settings",
            json!({"settings": {"notice_days": 31, "routing": "to_backup_window"}}),
            ErrorCode::OutOfRange,
            Some("notice_days"),
        ),
        (
            "unknown takeover routing",
            "post.update_settings",
            json!({"settings": {"notice_days": 1, "routing": "anywhere"}}),
            ErrorCode::InvalidFormat,
            None,
        ),
        (
            "request of the wrong shape",
            "window.create",
            json!({"number":"three"}),
            ErrorCode::InvalidFormat,
            None,
        ),
    ];
    let dump = h.dump();
    let bytes = h.fingerprint();
    for (what, op, req, code, field) in cases {
        let err = execute_json(&h.store, &a, t0(), op, req).expect_err(what);
        assert_eq!(err.code, code, "{what}: {}", err.message);
        assert_eq!(
            err.field.as_deref(),
            field,
            "{what}: the error names the field at fault"
        );
        assert!(
            err.message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{what}: Chinese message, got {}",
            err.message
        );
    }
    assert_eq!(h.dump(), dump, "no row changed");
    assert_eq!(
        h.fingerprint(),
        bytes,
        "the database file is byte-for-byte unchanged"
    );
}

#[test]
fn error_codes_serialise_as_stable_snake_case() {
    for code in ErrorCode::ALL {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
    }
    let e = onetrip_core::CoreError::new(ErrorCode::WindowOccupied, "1号窗口已由张伟登录")
        .param("holder", "张伟");
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code":"window_occupied","message":"1号窗口已由张伟登录","params":{"holder":"张伟"}}),
        "the IPC/HTTP error shape is {{code, message, field?, params}}"
    );
}

/// The staff roster importer (issue 8): every bad row is reported with its row and column and
/// nothing changes; a good roster creates the accounts with one-time passwords that must be
/// changed at first sign-in.
#[test]
fn a_bad_staff_roster_reports_every_row_and_changes_nothing_a_good_one_creates_accounts() {
    let h = demo_hall();
    let admin = h.as_token(&h.sign_in("admin", None));
    let bad = "登录名,姓名,角色\n\
               xiaoli,小李,窗口人员\n\
               zhangwei,张伟二,窗口人员\n\
               xiaoli,李重复,clerk\n\
               bad login!,坏登录,clerk\n\
               xiaozhao,,分管领导\n\
               xiaoqian,小钱,主任\n\
               xiaosun,\"小孙\u{7}\",clerk\n\
               xiaozhou,小周\n";
    let before = h.fingerprint();
    let err = execute_json(
        &h.store,
        &admin,
        t0(),
        "staff.import",
        json!({"file_base64": crate::common::b64(bad)}),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ImportInvalid, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(err.params["errors"].as_str()).unwrap();
    let found: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "登录名"), // zhangwei is taken
            (4, "登录名"), // xiaoli twice in the file
            (5, "登录名"), // not a login
            (6, "姓名"),   // empty
            (7, "角色"),   // no such role
            (8, "姓名"),   // a control character
            (9, "行"),     // a cell missing
        ],
        "{rows:#?}"
    );
    assert!(err.message.contains("未导入任何人员"), "{}", err.message);
    assert_eq!(h.fingerprint(), before, "a bad roster changes nothing");

    // A clerk may not import (the file may create admins).
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let good = "\u{feff}姓名,登录名,角色\r\n小李,xiaoli,窗口人员\r\n小赵,xiaozhao,supervisor\r\n";
    let refused = execute_json(
        &h.store,
        &clerk,
        t0(),
        "staff.import",
        json!({"file_base64": crate::common::b64(good)}),
    )
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);

    let audits = h.audit_count();
    let (report, _) = execute_json(
        &h.store,
        &admin,
        t0(),
        "staff.import",
        json!({"file_base64": crate::common::b64(good)}),
    )
    .unwrap();
    let created = report["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["login"], "xiaoli");
    assert_eq!(created[1]["role"], "supervisor");
    assert_eq!(h.audit_count(), audits + 1, "one audit row for the import");
    let password = created[0]["one_time_password"].as_str().unwrap();
    let session = h
        .try_sign_in("xiaoli", password, Some(2))
        .expect("the one-time password signs in");
    assert!(
        session.staff.must_change_password,
        "the one-time password must be changed first"
    );
}
