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

/// One backend's schema, in terms both share: tables with their columns (name, type class,
/// not-null), indexes (name, unique, partial, key count), foreign keys, how many CHECK
/// constraints each table has, triggers and views.
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    columns: std::collections::BTreeSet<(String, String, String, bool)>,
    indexes: std::collections::BTreeSet<(String, String, bool, bool, usize)>,
    foreign_keys: std::collections::BTreeSet<(String, String, String)>,
    checks: std::collections::BTreeMap<String, usize>,
    triggers: std::collections::BTreeSet<(String, String)>,
    views: std::collections::BTreeSet<String>,
}

fn type_class(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "real"
    } else if t.contains("blob") || t.contains("bytea") {
        "blob"
    } else {
        "other"
    }
    .into()
}

fn sqlite_schema(path: &std::path::Path) -> Schema {
    let c = rusqlite::Connection::open(path).unwrap();
    let names = |kind: &str| -> Vec<(String, String)> {
        c.prepare(&format!(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = '{kind}' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut s = Schema {
        columns: Default::default(),
        indexes: Default::default(),
        foreign_keys: Default::default(),
        checks: Default::default(),
        triggers: Default::default(),
        views: names("view").into_iter().map(|v| v.0).collect(),
    };
    for (table, sql) in names("table") {
        let (mut integer_pk, mut pk_columns) = (0, 0);
        for row in c
            .prepare(&format!(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')"
            ))
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .unwrap()
        {
            let (name, ty, notnull, pk) = row.unwrap();
            if pk > 0 {
                pk_columns += 1;
                integer_pk += i32::from(type_class(&ty) == "integer");
            }
            s.columns
                .insert((table.clone(), name, type_class(&ty), notnull || pk > 0));
        }
        // An INTEGER PRIMARY KEY is SQLite's rowid, with no index of its own; PostgreSQL's
        // primary key has one.
        if pk_columns == 1 && integer_pk == 1 {
            s.indexes
                .insert((table.clone(), "<pk:1>".into(), true, false, 1));
        }
        for row in c
            .prepare(&format!(
                "SELECT \"from\", \"table\" FROM pragma_foreign_key_list('{table}')"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
        {
            let (col, to) = row.unwrap();
            s.foreign_keys.insert((table.clone(), col, to));
        }
        s.checks.insert(table.clone(), sql.matches("CHECK").count());
        for row in c
            .prepare(&format!(
                "SELECT name, \"unique\", partial, origin FROM pragma_index_list('{table}')"
            ))
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .unwrap()
        {
            let (name, unique, partial, origin) = row.unwrap();
            let keys: i64 = c
                .query_row(
                    &format!("SELECT count(*) FROM pragma_index_info('{name}')"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let keys = keys as usize;
            // Indexes SQLite makes for a PRIMARY KEY or UNIQUE clause are named after it;
            // PostgreSQL names them otherwise: compare them by what they cover.
            let name = if origin == "c" {
                name
            } else {
                format!("<{origin}:{}>", keys)
            };
            s.indexes
                .insert((table.clone(), name, unique, partial, keys));
        }
    }
    for (name, sql) in names("trigger") {
        let table = sql
            .split(" ON ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("")
            .to_owned();
        s.triggers.insert((table, name));
    }
    s
}

fn postgres_schema(url: &str) -> Schema {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let rows = |c: &mut postgres::Client, sql: &str| c.query(sql, &[]).unwrap();
    let mut s = Schema {
        columns: Default::default(),
        indexes: Default::default(),
        foreign_keys: Default::default(),
        checks: Default::default(),
        triggers: Default::default(),
        views: rows(&mut c, "SELECT table_name::text FROM information_schema.views WHERE table_schema = current_schema()")
            .iter()
            .map(|r| r.get(0))
            .collect(),
    };
    let tables: Vec<String> = rows(&mut c, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for r in rows(
        &mut c,
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable = 'NO' FROM information_schema.columns c JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' WHERE c.table_schema = current_schema()",
    ) {
        let ty: String = r.get(2);
        s.columns
            .insert((r.get(0), r.get(1), type_class(&ty), r.get(3)));
    }
    for r in rows(
        &mut c,
        "SELECT cl.relname::text, a.attname::text, ft.relname::text FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class ft ON ft.oid = k.confrelid JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] WHERE k.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace",
    ) {
        s.foreign_keys.insert((r.get(0), r.get(1), r.get(2)));
    }
    for t in &tables {
        s.checks.insert(t.clone(), 0);
    }
    for r in rows(
        &mut c,
        "SELECT cl.relname::text, count(*) FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid WHERE k.contype = 'c' AND cl.relnamespace = current_schema()::regnamespace GROUP BY cl.relname",
    ) {
        let n: i64 = r.get(1);
        s.checks.insert(r.get(0), n as usize);
    }
    for r in rows(
        &mut c,
        "SELECT t.relname::text, i.relname::text, x.indisunique, x.indpred IS NOT NULL, x.indnkeyatts::int8, EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid WHERE t.relnamespace = current_schema()::regnamespace",
    ) {
        let (table, name, unique, partial, keys, by_constraint): (
            String,
            String,
            bool,
            bool,
            i64,
            bool,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        let keys = keys as usize;
        let name = if by_constraint {
            format!(
                "<{}:{keys}>",
                if name.ends_with("_pkey") { "pk" } else { "u" }
            )
        } else {
            name
        };
        s.indexes.insert((table, name, unique, partial, keys));
    }
    for r in rows(
        &mut c,
        "SELECT DISTINCT event_object_table::text, trigger_name::text FROM information_schema.triggers WHERE trigger_schema = current_schema()",
    ) {
        s.triggers.insert((r.get(0), r.get(1)));
    }
    s
}

/// The migrations are written once per backend; both must build the same tables, columns,
/// indexes, keys, checks, triggers and views.
#[test]
fn both_backends_build_the_same_schema() {
    let Some(server) = crate::common::pg_server() else {
        eprintln!(
            "both_backends_build_the_same_schema: needs ONETRIP_TEST_PG (make pg-test runs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.sqlite");
    drop(onetrip_core::open_file(&path, t0()).unwrap());
    let url = crate::common::fresh_pg_database(&server);
    drop(onetrip_core::open(&url, Some(dir.path()), t0()).unwrap());
    let (lite, pg) = (sqlite_schema(&path), postgres_schema(&url));
    let diff = |name: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        format!("{name}\n  SQLite:     {a:?}\n  PostgreSQL: {b:?}")
    };
    let only =
        |a: &std::collections::BTreeSet<_>, b: &std::collections::BTreeSet<_>| -> Vec<String> {
            a.difference(b)
                .map(|x: &(String, String, String, bool)| format!("{x:?}"))
                .collect()
        };
    assert_eq!(
        lite.views,
        pg.views,
        "{}",
        diff("views", &lite.views, &pg.views)
    );
    assert!(
        lite.columns == pg.columns,
        "columns only on SQLite: {:?}\ncolumns only on PostgreSQL: {:?}",
        only(&lite.columns, &pg.columns),
        only(&pg.columns, &lite.columns)
    );
    assert_eq!(lite.foreign_keys, pg.foreign_keys, "foreign keys");
    assert_eq!(lite.checks, pg.checks, "CHECK constraints per table");
    assert_eq!(lite.triggers, pg.triggers, "triggers");
    let named = |s: &Schema| {
        s.indexes
            .iter()
            .filter(|i| !i.1.starts_with('<'))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        named(&lite),
        named(&pg),
        "named indexes (name, unique, partial, keys)"
    );
    let implicit = |s: &Schema| {
        s.indexes
            .iter()
            .filter(|i| i.1.starts_with('<'))
            .map(|i| (i.0.clone(), i.2, i.4))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        implicit(&lite),
        implicit(&pg),
        "key and unique-constraint indexes (table, unique, keys)"
    );
}

/// Group commit: writers that arrive while another writes share its transaction and one WAL
/// sync. Each write is whole or not at all, a refused one takes nothing of the others with it,
/// and a write that returned is on disk (another handle on the file, opened after, sees it).
#[test]
fn concurrent_writes_commit_in_groups_each_whole_and_durable_when_it_returns() {
    use onetrip_core::queue::IssueTicket;
    use onetrip_core::{Caller, DeviceKind};
    let h = crate::common::demo_hall();
    if h.store.is_postgres() {
        return; // PostgreSQL commits each write on its own connection
    }
    let cats: Vec<String> = h.board().categories.into_iter().map(|c| c.id).collect();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let before = h.store.write_groups();
    let results: Vec<(bool, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|t| {
                let (h, cats, kiosk) = (&h, &cats, &kiosk);
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            // Every fifth write is refused: a category that does not exist.
                            let refused = (t + i) % 5 == 0;
                            let category_id = if refused {
                                "no-such-category".to_owned()
                            } else {
                                cats[(t + i) % cats.len()].clone()
                            };
                            let r = h.store.execute(
                                kiosk,
                                t0(),
                                IssueTicket {
                                    category_id,
                                    priority: None,
                                    priority_note: String::new(),
                                    id_number: String::new(),
                                    applicant_name: String::new(),
                                },
                            );
                            assert_eq!(r.is_err(), refused, "{r:?}");
                            (refused, r.ok().map(|o| o.response.ticket.id))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let issued: Vec<String> = results.iter().filter_map(|r| r.1.clone()).collect();
    assert_eq!(
        issued.len(),
        16 * 25 - results.iter().filter(|r| r.0).count()
    );
    let groups = h.store.write_groups() - before;
    assert!(
        groups < 16 * 25,
        "writes that arrived together shared a commit: {groups} groups for 400 writes"
    );
    // Another handle, opened now, sees every ticket that was answered: each was durable when
    // its write returned.
    let other = h.reopen_at(t0());
    let on_disk: i64 = other
        .read(|tx| Ok(tx.query_row("SELECT count(*) FROM tickets", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(on_disk as usize, issued.len());
    // Numbers stay gap-free per category, and the audit chain holds.
    let gaps: i64 = other
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM (SELECT issued_category, max(seq) - count(*) AS gap
                 FROM tickets GROUP BY issued_category) WHERE gap <> 0",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(gaps, 0, "no number skipped");
    let chain = other.read(onetrip_core::audit::verify).unwrap();
    assert_eq!(
        chain.first_broken, None,
        "the audit chain holds across groups"
    );
}
