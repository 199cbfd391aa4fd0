//! Shared fixtures: a demo hall on a real SQLite file in a temporary directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use onetrip_core::queue::{GetHallBoard, HallBoard};
use onetrip_core::staff::auth::{SessionInfo, SignIn};
use onetrip_core::{Caller, Store, demo};

/// Monday 2026-11-23 10:00 Beijing time.
pub fn t0() -> Timestamp {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

pub struct Hall {
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// The SQLite file or the PostgreSQL URL.
    pub location: String,
}

impl Hall {
    /// A hall on an already opened SQLite store.
    pub fn sqlite(dir: tempfile::TempDir, store: Store) -> Hall {
        let location = store.path().display().to_string();
        Hall {
            dir,
            store,
            location,
        }
    }
    /// Another handle on the same database (another process, in effect).
    pub fn reopen_at(&self, at: Timestamp) -> Store {
        open_location(&self.location, self.dir.path(), at)
    }
    /// Run `sql` on the database directly, bypassing the store (a tamperer with a SQL tool).
    pub fn raw_batch(&self, sql: &str) -> Result<(), String> {
        if onetrip_core::store::is_url(&self.location) {
            let mut c = postgres::Client::connect(&self.location, postgres::NoTls).unwrap();
            c.batch_execute(sql).map_err(|e| e.to_string())
        } else {
            let c = rusqlite::Connection::open(&self.location).unwrap();
            c.execute_batch(sql).map_err(|e| e.to_string())
        }
    }
    /// One text value read directly from the database.
    pub fn raw_text(&self, sql: &str) -> String {
        if onetrip_core::store::is_url(&self.location) {
            let mut c = postgres::Client::connect(&self.location, postgres::NoTls).unwrap();
            c.query_one(sql, &[]).unwrap().get(0)
        } else {
            let c = rusqlite::Connection::open(&self.location).unwrap();
            c.query_row(sql, [], |r| r.get(0)).unwrap()
        }
    }
    /// What "nothing changed" compares: the bytes on disk (SQLite), or every row (PostgreSQL).
    pub fn fingerprint(&self) -> String {
        if self.store.is_postgres() {
            onetrip_core::ids::sha256_hex(self.dump().as_bytes())
        } else {
            file_bytes(&self.path())
        }
    }
    pub fn path(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }
    pub fn board(&self) -> HallBoard {
        self.store
            .execute(&Caller::anonymous("test"), t0(), GetHallBoard {})
            .unwrap()
            .response
    }
    pub fn window_id(&self, number: u32) -> String {
        self.board()
            .windows
            .into_iter()
            .find(|w| w.window.number == number)
            .expect("window exists")
            .window
            .id
    }
    /// The post (岗位) of a demo window.
    pub fn post_id(&self, window: u32) -> String {
        self.store
            .execute(
                &Caller::system("test"),
                t0(),
                onetrip_core::posts::ListPosts {},
            )
            .unwrap()
            .response
            .into_iter()
            .find(|p| p.window_number == Some(window))
            .expect("the demo window has a post")
            .id
    }
    pub fn sign_in(&self, login: &str, window: Option<u32>) -> SessionInfo {
        self.try_sign_in(login, demo::DEMO_PASSWORD, window)
            .unwrap_or_else(|e| panic!("{login} signs in: {e}"))
    }
    /// Sign in at a given moment (sessions last 12 hours: a test spanning days signs in anew).
    pub fn sign_in_at(&self, login: &str, window: Option<u32>, at: Timestamp) -> Caller {
        let window_id = window.map(|n| self.window_id(n));
        let s = self
            .store
            .execute(
                &Caller::anonymous("test"),
                at,
                SignIn {
                    login: login.into(),
                    password: demo::DEMO_PASSWORD.into(),
                    window_id,
                },
            )
            .unwrap_or_else(|e| panic!("{login} signs in at {at}: {e}"))
            .response;
        Caller::token(s.token, "test")
    }
    pub fn try_sign_in(
        &self,
        login: &str,
        password: &str,
        window: Option<u32>,
    ) -> onetrip_core::Result<SessionInfo> {
        let window_id = window.map(|n| self.window_id(n));
        self.store
            .execute(
                &Caller::anonymous("test"),
                t0(),
                SignIn {
                    login: login.into(),
                    password: password.into(),
                    window_id,
                },
            )
            .map(|o| o.response)
    }
    /// A rater (评价器) registered for window `number` by the system (the CLI's rights), as its
    /// device token presents it.
    pub fn rater(&self, number: u32) -> Caller {
        self.window_device(onetrip_core::DeviceKind::Rater, number)
    }
    pub fn window_device(&self, kind: onetrip_core::DeviceKind, number: u32) -> Caller {
        let r = self
            .store
            .execute(
                &Caller::system("test"),
                t0(),
                onetrip_core::devices::RegisterDevice {
                    kind,
                    name: format!("{kind:?} {number}"),
                    window_id: Some(self.window_id(number)),
                },
            )
            .unwrap_or_else(|e| panic!("register a {kind:?} for window {number}: {e}"))
            .response;
        Caller::device_token(r.token, format!("{kind:?}-{number}"))
    }
    pub fn as_token(&self, s: &SessionInfo) -> Caller {
        Caller::token(s.token.clone(), "test")
    }
    /// Every audit row's summary, oldest first.
    pub fn audit_summaries(&self) -> Vec<String> {
        self.store
            .read(|tx| {
                Ok(tx
                    .prepare("SELECT summary FROM audit_log ORDER BY seq")?
                    .query_map([], |r| r.get(0))?
                    .collect::<onetrip_core::store::StoreResult<_>>()?)
            })
            .unwrap()
    }
    pub fn audit_count(&self) -> i64 {
        self.store
            .read(|tx| Ok(tx.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?))
            .unwrap()
    }
    /// Every row of every table, as text: a logical snapshot. The audit rows of the writes
    /// before are sealed first (PostgreSQL seals them after their commit, beside the next
    /// write: a seal is not a change).
    pub fn dump(&self) -> String {
        onetrip_core::audit::seal_now(&self.store).unwrap();
        self.store
            .read(|tx| {
                let list = if tx.is_postgres() {
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
                } else {
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                };
                let tables: Vec<String> = tx
                    .prepare(list)?
                    .query_map([], |r| r.get(0))?
                    .collect::<onetrip_core::store::StoreResult<_>>()?;
                let mut out = String::new();
                for t in tables {
                    let mut stmt = tx.prepare(&format!("SELECT * FROM {t} ORDER BY 1"))?;
                    let mut rows = stmt.query([])?;
                    while let Some(r) = rows.next()? {
                        let vals: Vec<String> = (0..r.column_count())
                            .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                            .collect();
                        out.push_str(&format!("{t}: {}\n", vals.join(" | ")));
                    }
                }
                Ok(out)
            })
            .unwrap()
    }
}

/// SHA-256 of the database file and its WAL: the bytes on disk.
pub fn file_bytes(path: &Path) -> String {
    let mut all = std::fs::read(path).unwrap();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if wal.exists() {
        all.extend(std::fs::read(wal).unwrap());
    }
    onetrip_core::ids::sha256_hex(&all)
}

/// The demo hall as `demo::create` builds it at `t0`, built once per test run and copied for
/// each test (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL): building it
/// hashes ten passwords and runs a few hundred operations, for each of a hundred tests.
enum DemoTemplate {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

fn demo_template() -> &'static DemoTemplate {
    static TEMPLATE: std::sync::OnceLock<DemoTemplate> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let location = new_location(dir.path());
        {
            let store = open_location(&location, dir.path(), t0());
            demo::create(&store, t0()).unwrap();
        }
        match pg_server() {
            Some(_) => DemoTemplate::Postgres(
                location
                    .rsplit_once('/')
                    .expect("a database URL")
                    .1
                    .to_owned(),
            ),
            None => DemoTemplate::Sqlite(dir),
        }
    })
}

pub fn demo_hall() -> Hall {
    let dir = tempfile::tempdir().unwrap();
    let location = match demo_template() {
        DemoTemplate::Sqlite(template) => {
            let dest = dir.path().join("hall.sqlite");
            std::fs::copy(template.path().join("hall.sqlite"), &dest).unwrap();
            // A WAL left behind by the template's store holds part of it.
            let wal = template.path().join("hall.sqlite-wal");
            if wal.exists() {
                std::fs::copy(wal, dir.path().join("hall.sqlite-wal")).unwrap();
            }
            dest.display().to_string()
        }
        DemoTemplate::Postgres(name) => {
            let server = pg_server().expect("a PostgreSQL template needs the server");
            onetrip_core::store::postgres::create_scratch_database_from(&server, Some(name))
                .unwrap_or_else(|e| panic!("copy the demo hall on {server}: {e}"))
        }
    };
    let store = open_location(&location, dir.path(), t0());
    Hall {
        dir,
        store,
        location,
    }
}

/// The operation suites' database: a SQLite file in `dir`, or, when `ONETRIP_TEST_PG` names a
/// PostgreSQL server (`make test` starts one), a fresh database of its own on that server. The
/// same tests then run on both backends.
pub fn new_location(dir: &Path) -> String {
    match pg_server() {
        Some(url) => fresh_pg_database(&url),
        None => dir.join("hall.sqlite").display().to_string(),
    }
}

pub fn open_location(location: &str, dir: &Path, at: Timestamp) -> Store {
    onetrip_core::open(location, Some(dir), at)
        .unwrap_or_else(|e| panic!("open {location}: {e}"))
        .0
}

/// The PostgreSQL server the suites run on, if any.
pub fn pg_server() -> Option<String> {
    std::env::var("ONETRIP_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Create an empty database on the server at `url`; its URL.
pub fn fresh_pg_database(url: &str) -> String {
    onetrip_core::store::postgres::create_scratch_database(url)
        .unwrap_or_else(|e| panic!("create a test database on {url}: {e}"))
}

/// A file's bytes as an operation takes them (base64).
pub fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
