//! Data safety (issue 8): online backups, the restore drill, refusals that change nothing, and
//! scheduled backups with retention.

use onetrip_core::kernel::backup::{self, scheduled_backups, scheduled_dir};
use onetrip_core::{Caller, ErrorCode, execute_json};
use serde_json::json;

use crate::common::{Hall, demo_hall, file_bytes, t0};

fn issue(h: &Hall, n: usize) {
    let cats = execute_json(
        &h.store,
        &Caller::system("t"),
        t0(),
        "category.list",
        json!({}),
    )
    .unwrap()
    .0;
    let a = cats[0]["id"].clone();
    let kiosk = Caller::device(onetrip_core::DeviceKind::Kiosk, "t");
    for _ in 0..n {
        execute_json(
            &h.store,
            &kiosk,
            t0(),
            "ticket.issue",
            json!({"category_id": a}),
        )
        .unwrap();
    }
}

fn reopen(h: Hall) -> Hall {
    let Hall { dir, store, .. } = h;
    let path = store.path().to_owned();
    drop(store);
    let (store, _) = onetrip_core::open_file(&path, t0()).unwrap();
    Hall::sqlite(dir, store)
}

#[test]
fn restore_drill_back_up_write_more_restore_and_the_state_is_the_backups() {
    let h = demo_hall();
    issue(&h, 3);
    let at_backup = h.dump();
    let copy = h.dir.path().join("copies").join("hall-copy.sqlite");
    let c = h.store.backup(&copy).unwrap();
    assert_eq!(c.path, copy);
    assert!(c.audit_rows > 0);

    // The hall works on: more tickets after the backup.
    issue(&h, 2);
    let after = h.dump();
    assert_ne!(
        after, at_backup,
        "the writes after the backup changed the state"
    );

    let db = h.store.path().to_owned();
    let Hall { dir, store, .. } = h;
    drop(store);
    let report = backup::restore(&db, &copy, t0()).unwrap();
    let previous = report.previous.expect("the live file is kept aside");
    assert!(previous.starts_with(dir.path().join("backups")));

    let h = reopen(Hall::sqlite(
        dir,
        onetrip_core::open_file(&db, t0()).unwrap().0,
    ));
    assert_eq!(
        h.dump(),
        at_backup,
        "the state equals the state at the backup"
    );
    let chain = h.store.read(onetrip_core::audit::verify).unwrap();
    assert!(chain.first_broken.is_none());

    // Nothing is lost for good: the file kept aside holds the later state.
    let (aside, _) = onetrip_core::open_file(&previous, t0()).unwrap();
    let aside = Hall::sqlite(tempfile::tempdir().unwrap(), aside);
    assert_eq!(aside.dump(), after);
}

#[test]
fn restore_refuses_a_newer_schema_a_damaged_file_and_a_broken_chain_changing_nothing() {
    let h = demo_hall();
    issue(&h, 1);
    let db = h.store.path().to_owned();
    let good = h.dir.path().join("good.sqlite");
    h.store.backup(&good).unwrap();
    let Hall { dir, store, .. } = h;
    drop(store);
    let before = file_bytes(&db);

    // From a newer build.
    let newer = dir.path().join("newer.sqlite");
    std::fs::copy(&good, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let e = backup::restore(&db, &newer, t0()).unwrap_err();
    assert_eq!(e.code, ErrorCode::SchemaTooNew);

    // Damaged: half a file.
    let damaged = dir.path().join("damaged.sqlite");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let e = backup::restore(&db, &damaged, t0()).unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Storage | ErrorCode::InvalidFormat),
        "{e:?}"
    );

    // A forged audit row: the chain breaks and the file is refused.
    let forged = dir.path().join("forged.sqlite");
    std::fs::copy(&good, &forged).unwrap();
    {
        let conn = rusqlite::Connection::open(&forged).unwrap();
        let triggers: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
        }
        conn.execute(
            "UPDATE audit_log SET summary = summary || '（篡改）' WHERE seq = 2",
            [],
        )
        .unwrap();
    }
    let e = backup::restore(&db, &forged, t0()).unwrap_err();
    assert_eq!(
        (e.code, e.params.get("seq").map(String::as_str)),
        (ErrorCode::Storage, Some("2"))
    );

    // Not a file at all.
    let e = backup::restore(&db, &dir.path().join("missing.sqlite"), t0()).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    assert_eq!(
        file_bytes(&db),
        before,
        "every refusal left the live file untouched"
    );
    assert!(
        !dir.path().join("backups").exists()
            || std::fs::read_dir(dir.path().join("backups"))
                .unwrap()
                .all(|e| !e
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("before-restore"))
    );
}

#[test]
fn scheduled_backups_keep_the_newest_copies_and_a_backup_is_never_the_database_itself() {
    let h = demo_hall();
    for i in 0..5 {
        let now = t0() + jiff::SignedDuration::from_hours(i);
        h.store.scheduled_backup(now, 3).unwrap();
    }
    let dir = scheduled_dir(h.store.path());
    let kept = scheduled_backups(&dir, "hall").unwrap();
    assert_eq!(kept.len(), 3);
    let names: Vec<String> = kept
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names[0].contains("T040000"),
        "the two oldest were pruned: {names:?}"
    );
    assert!(names[2].contains("T060000"), "{names:?}");
    for p in &kept {
        backup::check_file(p).unwrap();
    }
    // No half-written copy is ever left behind under a backup's name.
    assert!(
        std::fs::read_dir(&dir)
            .unwrap()
            .all(|e| e.unwrap().path().extension().unwrap() == "sqlite")
    );
    let e = h.store.backup(h.store.path()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFormat);
}
