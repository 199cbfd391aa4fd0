//! The `onetrip` binary: exit codes and stable output.

use std::process::Command;

fn onetrip(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn version_migrate_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let out = onetrip(&db, &["version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("onetrip "));

    let out = onetrip(&db, &["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("西湖区政务服务中心"));
    assert!(text.contains("zhangwei"));

    let again = onetrip(&db, &["demo"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the demo refuses a database with accounts"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("错误 ["));

    let out = onetrip(&db, &["migrate"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("one-time password"),
        "the demo has documented accounts"
    );
}

#[test]
fn migrate_a_new_database_prints_the_first_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.sqlite");
    let out = onetrip(&db, &["migrate"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("created:"));
    assert!(text.contains("one-time password: "));
    let out = onetrip(&db, &["migrate"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("one-time password"));
}

#[test]
fn env_var_selects_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .env("ONETRIP_DB", &db)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(db.exists());
}

#[test]
fn op_runs_any_operation_by_name_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite");
    assert!(onetrip(&db, &["demo"]).status.success());
    let list = onetrip(&db, &["op", "--list"]);
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(text.contains("ticket.issue"), "{text}");
    assert!(text.contains("queue.call_next"));
    let out = onetrip(&db, &["op", "category.list", "{}"]);
    assert!(out.status.success());
    let cats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cats.as_array().unwrap().len(),
        4,
        "the demo hall's categories"
    );
    let id = cats[0]["id"].as_str().unwrap();
    // A write through the same operation the admin screen uses: open category A all day.
    let req = format!(
        r#"{{"id":"{id}","prefix":"A","name":"不动产登记","daily_cap":300,"issue_from":"00:00","issue_until":"23:59"}}"#
    );
    let out = onetrip(&db, &["op", "category.update", &req]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let board = onetrip(&db, &["op", "queue.board"]);
    let board: serde_json::Value = serde_json::from_slice(&board.stdout).unwrap();
    assert_eq!(board["categories"][0]["issue_until"], "23:59");
    // Errors keep the coded form and a non-zero exit.
    let bad = onetrip(&db, &["op", "no.such_op"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("错误 [not_found]"));
    let bad = onetrip(&db, &["op", "category.list", "{not json"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("错误 [invalid_format]"));
}

#[test]
fn calendar_commands_print_stable_lines_and_refuse_unknown_years() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    // Without a database: the bundled notices, and no file is created.
    let out = onetrip(&db, &["calendar", "check", "2026-02-14"]);
    assert_eq!(text(&out), "2026-02-14 workday\n");
    assert!(!db.exists(), "a calendar query creates no database");
    let out = onetrip(&db, &["calendar", "list", "2026-10-07", "2026-10-10"]);
    assert_eq!(
        text(&out),
        "2026-10-07 offday\n2026-10-08 workday\n2026-10-09 workday\n2026-10-10 workday\n"
    );
    let out = onetrip(&db, &["calendar", "add-workdays", "2026-11-23", "20"]);
    assert_eq!(text(&out), "2026-12-21\n");
    // An unknown year: non-zero exit and a clear message, unless --provisional.
    let out = onetrip(&db, &["calendar", "check", "2027-03-03"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[calendar_provisional]"));
    assert!(text(&out).is_empty());
    let out = onetrip(&db, &["calendar", "check", "2027-03-03", "--provisional"]);
    assert_eq!(text(&out), "2027-03-03 workday provisional\n");
    let out = onetrip(
        &db,
        &[
            "calendar",
            "add-workdays",
            "2026-12-01",
            "30",
            "--provisional",
        ],
    );
    assert_eq!(text(&out), "2027-01-12\n");
    let out = onetrip(&db, &["calendar", "check", "2026-02-30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[invalid_format]"));

    // With a hall database: its overrides and its day-count setting apply.
    assert!(onetrip(&db, &["demo"]).status.success());
    let out = onetrip(
        &db,
        &[
            "op",
            "calendar.add_override",
            r#"{"date":"2026-12-07","off_day":true,"reason":"本市临时停工"}"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onetrip(&db, &["calendar", "check", "2026-12-07"]);
    assert_eq!(text(&out), "2026-12-07 offday\n");
    let out = onetrip(
        &db,
        &[
            "op",
            "deadline.update_settings",
            r#"{"settings":{"day_count":"same_day","thresholds":{"reminder_days":2,"yellow_days":0,"red_days":0}}}"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onetrip(&db, &["calendar", "add-workdays", "2026-11-23", "1"]);
    assert_eq!(
        text(&out),
        "2026-11-23\n",
        "same-day counting counts the start day"
    );
}

/// Run `onetrip` on `db`, expect exit code `code`, return its stdout.
fn stdout_of(db: &std::path::Path, args: &[&str], code: i32) -> String {
    let out = onetrip(db, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn backup_restore_and_audit_verify_print_stable_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    stdout_of(&db, &["demo"], 0);
    let copy = dir.path().join("copy.sqlite");
    let text = stdout_of(&db, &["backup", copy.to_str().unwrap()], 0);
    assert!(
        text.starts_with(&format!("backup: {} (schema ", copy.display())),
        "{text}"
    );

    // A write after the backup, then the restore brings the file back to the copy.
    stdout_of(
        &db,
        &[
            "op",
            "device.register",
            r#"{"kind":"kiosk","name":"取号机"}"#,
        ],
        0,
    );
    let text = stdout_of(&db, &["restore", copy.to_str().unwrap()], 0);
    assert!(
        text.starts_with(&format!(
            "restored: {} from {}",
            db.display(),
            copy.display()
        )),
        "{text}"
    );
    assert!(text.contains("\nprevious: "), "{text}");
    assert_eq!(stdout_of(&db, &["op", "device.list"], 0).trim(), "[]");

    let text = stdout_of(&db, &["audit", "verify"], 0);
    assert!(text.starts_with("audit: OK ("), "{text}");

    // The inspector's export is signed; an edited copy fails the check.
    let csv = dir.path().join("audit.csv");
    let text = stdout_of(&db, &["audit", "export", csv.to_str().unwrap()], 0);
    assert!(
        text.starts_with(&format!("exported: {} (", csv.display())),
        "{text}"
    );
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.starts_with("\u{feff}序号,时间,"));
    assert!(exported.lines().last().unwrap().starts_with("# SHA-256: "));
    let check = ["audit", "check-export", csv.to_str().unwrap()];
    assert!(stdout_of(&db, &check, 0).starts_with("export: OK ("));
    let edited = exported.replacen("\n1,", "\n9,", 1);
    assert_ne!(edited, exported, "the copy was edited");
    std::fs::write(&csv, edited).unwrap();
    assert!(stdout_of(&db, &check, 3).starts_with("export: BROKEN ("));

    // A forged row: the first broken link is named and the exit code is 3.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET summary = '篡改' WHERE seq = 3;",
        )
        .unwrap();
    }
    let text = stdout_of(&db, &["audit", "verify"], 3);
    assert!(text.starts_with("audit: BROKEN at row 3 ("), "{text}");

    // A newer file is refused, with its code.
    let newer = dir.path().join("newer.sqlite");
    std::fs::copy(&copy, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let out = onetrip(&db, &["restore", newer.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[schema_too_new]"));
}
