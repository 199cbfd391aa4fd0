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
