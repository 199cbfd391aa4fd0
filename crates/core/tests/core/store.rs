//! Storage: migrations, refusing newer databases, backups before migrating, pragmas.

use crate::common::{file_bytes, t0};
use onetrip_core::ErrorCode;
use onetrip_core::store::{self, MIGRATIONS, SCHEMA_VERSION};

fn schema_of(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Apply the first `n` migrations the way an older build would have.
fn older_build_database(path: &std::path::Path, n: usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL;").unwrap();
    for m in &MIGRATIONS[..n] {
        conn.execute_batch(m.sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![m.version, m.name, onetrip_core::ids::sha256_hex(m.sql.as_bytes())],
        )
        .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {};",
            m.version,
            store::APPLICATION_ID
        ))
        .unwrap();
    }
}

#[test]
fn fresh_schema_equals_migrated_schema_from_every_older_version() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.sqlite");
    let (_s, report) = onetrip_core::open_file(&fresh, t0()).unwrap();
    assert!(report.created);
    assert_eq!(report.to_version, SCHEMA_VERSION);
    let want = schema_of(&fresh);
    assert!(
        want.iter().any(|(_, n, _)| n == "audit_log"),
        "the schema has the audit log"
    );
    for n in 0..MIGRATIONS.len() {
        let old = dir.path().join(format!("old{n}.sqlite"));
        older_build_database(&old, n);
        let (_s, report) = onetrip_core::open_file(&old, t0()).unwrap();
        assert_eq!(report.from_version, n as u32);
        assert_eq!(
            schema_of(&old),
            want,
            "migrating from v{n} must give exactly the fresh schema"
        );
    }
}

#[test]
fn released_migrations_are_append_only() {
    // Checksums of released migrations. Editing a released migration breaks every hall that
    // already applied it: add a new migration instead. Append a line here when you add one.
    let released = [(1, "foundation")];
    assert!(MIGRATIONS.len() >= released.len());
    for (m, (v, name)) in MIGRATIONS.iter().zip(released) {
        assert_eq!((m.version, m.name), (v, name));
    }
    let pinned = include_str!("migrations.sha256");
    for (m, line) in MIGRATIONS.iter().zip(pinned.lines()) {
        assert_eq!(
            onetrip_core::ids::sha256_hex(m.sql.as_bytes()),
            line.split_whitespace().next().unwrap(),
            "migration {} ({}) was edited after release",
            m.version,
            m.name
        );
    }
    assert_eq!(
        pinned.lines().count(),
        MIGRATIONS.len(),
        "pin the checksum of every new migration in tests/core/migrations.sha256"
    );
}

#[test]
fn newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.sqlite");
    {
        let (_s, _) = onetrip_core::open_file(&path, t0()).unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1))
            .unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let before = file_bytes(&path);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let err = onetrip_core::open_file(&path, t0()).unwrap_err();
    assert_eq!(err.code, ErrorCode::SchemaTooNew);
    assert!(
        err.message.contains("更新版本"),
        "the message says why in Chinese: {}",
        err.message
    );
    assert_eq!(
        file_bytes(&path),
        before,
        "a newer database must not be written to"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert!(
        !store::backup_dir(&path).exists(),
        "no backup or migration attempt on a refused file"
    );
}

#[test]
fn foreign_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = file_bytes(&path);
    let err = onetrip_core::open_file(&path, t0()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidFormat);
    assert_eq!(file_bytes(&path), before);
}

#[test]
fn existing_database_is_backed_up_before_migrating_and_only_five_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.sqlite");
    // Seven times an older build's database meets this build: each is backed up first.
    for round in 0..7 {
        // Each round an older build's file, with some content so the backup is meaningful.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        older_build_database(&path, MIGRATIONS.len() - 1);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS legacy_marker (x TEXT); INSERT INTO legacy_marker VALUES ('old data');",
        )
        .unwrap();
        drop(conn);
        let at = t0()
            .checked_add(jiff::SignedDuration::from_secs(round * 60))
            .unwrap();
        let (s, report) = onetrip_core::open_file(&path, at).unwrap();
        let backup = report
            .backup
            .clone()
            .expect("an existing database is backed up before migration");
        assert!(backup.exists());
        let conn = rusqlite::Connection::open(&backup).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            v,
            i64::from(SCHEMA_VERSION) - 1,
            "the backup holds the pre-migration state"
        );
        let marker: String = conn
            .query_row("SELECT x FROM legacy_marker", [], |r| r.get(0))
            .unwrap();
        assert_eq!(marker, "old data");
        drop(s);
    }
    let kept = std::fs::read_dir(store::backup_dir(&path)).unwrap().count();
    assert_eq!(
        kept,
        store::BACKUPS_KEPT,
        "only the newest backups are kept"
    );
}

/// Undo what the last migration created (for re-running it in the backup test).
#[test]
fn pragmas_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = onetrip_core::open_file(dir.path().join("p.sqlite"), t0()).unwrap();
    s.read(|tx| {
        let mode: String = tx.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let fk: i64 = tx.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        let sync: i64 = tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        let busy: i64 = tx.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
        assert_eq!(sync, 2, "synchronous=FULL");
        assert!(busy >= 1000);
        Ok(())
    })
    .unwrap();
}
