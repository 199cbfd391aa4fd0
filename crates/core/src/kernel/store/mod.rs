//! The store: the hall's database — one SQLite file (a desktop, a small hall) or, with the
//! `postgres` feature, a PostgreSQL database shared by several hall servers ([`postgres`]) —
//! opened with the settings a hall's legal records need and migrated by versioned, embedded,
//! append-only migrations, one file per backend.
//!
//! Contract (SQLite):
//! - `journal_mode=WAL`, `foreign_keys=ON`, a busy timeout, and
//!   `synchronous=FULL`: a number that was printed or a handover that was signed survives power
//!   loss, because the transaction that allocated it is durable before the UI shows it.
//! - Group commit: writes queue for the one writer connection; each runs in a savepoint of the
//!   open write transaction, and the transaction commits (one WAL sync) when no other write is
//!   waiting, or after [`BATCH_MAX`] writes. A write returns only after the commit that made it
//!   durable (a refused write returns at once: nothing of it remains). Under a busy hall's load
//!   the sync was half of each write's time on the writer; now a burst shares one.
//! - One writer connection, and a pool of read connections beside it ([`ReadPool`]): a read
//!   runs on its own connection in its own WAL snapshot, so a live screen's read never waits for
//!   the writer and the writer never waits for a read (a board read held open while a ticket is
//!   issued and called does not delay them). Only writes queue behind each other.
//! - The schema version lives in `PRAGMA user_version`; the applied migrations and their
//!   checksums in `schema_migrations`.
//! - A database written by a newer build (`user_version` above ours) is refused with
//!   [`ErrorCode::SchemaTooNew`] and never written: it is inspected through a read-only handle.
//! - Before any migration of an existing database the file is copied with SQLite's online backup
//!   API into `backups/` beside it; the newest [`BACKUPS_KEPT`] copies are kept.
//! - SQL stays in each capability's query functions and goes through [`Tx`], so the same
//!   operations run on both backends; errors are the store's own ([`StoreError`]).

pub mod error;
#[cfg(feature = "postgres")]
pub mod postgres;
mod sql;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use error::{Optional, StoreError, StoreResult};
pub use sql::{Args, Row, Rows, Stmt, Tx, record_statements};

use crate::kernel::error::{CoreError, ErrorCode, Result};

/// A versioned schema change, in each backend's spelling. `version` is its 1-based position.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    /// `migrations/sqlite/NNNN_name.sql`.
    pub sql: &'static str,
    /// `migrations/postgres/NNNN_name.sql`: the same tables, columns, indexes and constraints.
    pub postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("migrations/sqlite/", $file)),
            postgres: include_str!(concat!("migrations/postgres/", $file)),
        }
    };
}

/// Every migration, in order. Append only: a released migration is never edited (a test pins
/// their checksums).
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "foundation", "0001_foundation.sql"),
    migration!(2, "queue", "0002_queue.sql"),
    migration!(
        3,
        "calendar_catalog_cases",
        "0003_calendar_catalog_cases.sql"
    ),
    migration!(4, "applications_notices", "0004_applications_notices.sql"),
    migration!(5, "posts", "0005_posts.sql"),
    migration!(6, "handover", "0006_handover.sql"),
    migration!(7, "devices", "0007_devices.sql"),
    migration!(8, "sign_in_lockout", "0008_sign_in_lockout.sql"),
    migration!(9, "reports", "0009_reports.sql"),
    migration!(10, "retention", "0010_retention.sql"),
    migration!(11, "idle_sign_out", "0011_idle_sign_out.sql"),
    migration!(12, "layers", "0012_layers.sql"),
    migration!(13, "live_reads", "0013_live_reads.sql"),
    migration!(14, "audit_seal", "0014_audit_seal.sql"),
    migration!(15, "ratings", "0015_ratings.sql"),
    migration!(16, "messages", "0016_messages.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// `PRAGMA application_id` of a OneTrip database ("OTRP"), so a stray SQLite file is not
/// mistaken for one.
pub const APPLICATION_ID: i32 = 0x4F54_5250;

/// How many pre-migration backups are kept beside the database.
pub const BACKUPS_KEPT: usize = 5;

/// What [`Store::open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// The file did not exist or had no schema: it was created from scratch.
    pub created: bool,
    pub from_version: u32,
    pub to_version: u32,
    /// The backup made before migrating, if a migration ran on existing data.
    pub backup: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Store {
    backend: Backend,
    path: PathBuf,
    /// This process's id among the servers on one database (tags its NOTIFY payloads).
    instance: String,
    /// What the layers above keep per open store (a capability's caches, the top layer's
    /// wiring): see [`Shared`].
    shared: Shared,
}

/// What runs after every PostgreSQL write transaction committed, whoever wrote it: the audit
/// chain's sealer (`kernel::audit::seal_committed`). The store sits below the audit module and
/// cannot name it, so whoever opens the store plugs it in (`app::wire`).
#[derive(Clone, Copy)]
pub struct AfterCommit(pub fn(&Store));

/// Values kept beside an open store, one per type: a capability's cache (the calendar index of
/// the current version), the top layer's wiring. The kernel stores them without knowing them.
#[derive(Default)]
pub struct Shared(
    Mutex<
        std::collections::HashMap<
            std::any::TypeId,
            std::sync::Arc<dyn std::any::Any + Send + Sync>,
        >,
    >,
);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(..)")
    }
}

impl Shared {
    /// The value of type `T`, created with `T::default()` the first time.
    pub fn get_or_default<T: Default + Send + Sync + 'static>(&self) -> std::sync::Arc<T> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| std::sync::Arc::new(T::default()));
        entry
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("keyed by its own type id"))
    }
    /// The value of type `T`, if one was provided.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<std::sync::Arc<T>> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&std::any::TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }
    /// Keep `value` (replacing an earlier one of its type).
    pub fn provide<T: Send + Sync + 'static>(&self, value: T) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(std::any::TypeId::of::<T>(), std::sync::Arc::new(value));
    }
}

/// Where the hall's records live: one SQLite file (a desktop, a small hall) or a PostgreSQL
/// database shared by several hall servers (a city centre). The operations are the same.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per open store: its size does not matter
enum Backend {
    Sqlite {
        writer: Mutex<Writer>,
        batches: Batches,
        readers: ReadPool,
    },
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Pool>),
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Open (creating if needed) and migrate the database at `path`. `now` names the backup.
    pub fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<(Store, OpenReport)> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let existing = path.exists() && std::fs::metadata(&path)?.len() > 0;
        let (from_version, has_schema) = if existing {
            inspect(&path)?
        } else {
            (0, false)
        };
        if from_version > SCHEMA_VERSION {
            return Err(schema_too_new(&path, from_version));
        }
        let backup = if has_schema && from_version < SCHEMA_VERSION {
            Some(backup_before_migration(&path, from_version, now)?)
        } else {
            None
        };
        let conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate(&conn, from_version, now)?;
        let report = OpenReport {
            created: !has_schema,
            from_version,
            to_version: SCHEMA_VERSION,
            backup,
        };
        Ok((
            Store {
                backend: Backend::Sqlite {
                    writer: Mutex::new(Writer { conn, open: None }),
                    batches: Batches::default(),
                    readers: ReadPool::new(&path),
                },
                path,
                instance: crate::kernel::ids::new_id(),
                shared: Shared::default(),
            },
            report,
        ))
    }

    /// Values kept beside this store by the layers above (see [`Shared`]).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Open (creating the schema if needed) and migrate the PostgreSQL database at `url`
    /// (`postgres://user@host:port/db`). `data_dir` holds the archive copies of printed notices
    /// and filed reports (shared storage when several servers use one database).
    #[cfg(feature = "postgres")]
    pub fn open_postgres(
        url: &str,
        data_dir: impl AsRef<Path>,
        now: Timestamp,
    ) -> Result<(Store, OpenReport)> {
        let data_dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&data_dir)?;
        let pool = postgres::Pool::connect(url)?;
        let report = pool.migrate(now)?;
        Ok((
            Store {
                backend: Backend::Postgres(Box::new(pool)),
                path: data_dir,
                instance: crate::kernel::ids::new_id(),
                shared: Shared::default(),
            },
            report,
        ))
    }

    /// Open whichever backend `location` names: a `postgres://` URL (with `data_dir`), or a
    /// SQLite file path.
    pub fn open_location(
        location: &str,
        data_dir: Option<&Path>,
        now: Timestamp,
    ) -> Result<(Store, OpenReport)> {
        if !is_url(location) {
            return Store::open(location, now);
        }
        #[cfg(feature = "postgres")]
        {
            let dir = data_dir.ok_or_else(|| {
                CoreError::new(
                    ErrorCode::Required,
                    "使用 PostgreSQL 时须用 --data-dir 指定存放通知书与报表存档的目录",
                )
            })?;
            Store::open_postgres(location, dir, now)
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = data_dir;
            Err(CoreError::new(
                ErrorCode::SettingDisabled,
                "本程序（桌面版）不带 PostgreSQL 客户端：大厅服务器（onetrip serve）才连接 PostgreSQL",
            ))
        }
    }

    /// The SQLite file; on PostgreSQL, the data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This process's id among the hall servers sharing one database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn is_postgres(&self) -> bool {
        match self.backend {
            Backend::Sqlite { .. } => false,
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => true,
        }
    }

    /// The PostgreSQL pool (hall mode), for LISTEN/NOTIFY.
    #[cfg(feature = "postgres")]
    pub fn postgres(&self) -> Option<&postgres::Pool> {
        match &self.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sqlite { .. } => None,
        }
    }

    /// The folder of the database file (archive copies of notices live below it).
    pub fn data_dir(&self) -> &Path {
        if self.is_postgres() {
            return &self.path;
        }
        self.path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// Run `f` in one write transaction; commit on `Ok`, roll back on `Err`. SQLite serialises
    /// writers (IMMEDIATE: the write lock up front, so two writers never deadlock upgrading);
    /// PostgreSQL runs them side by side, each locking only what it must (see [`postgres`]), and
    /// runs `f` again when it aborted the transaction for a serialization failure or a deadlock
    /// — so `f` may run more than once, and must do nothing outside the transaction.
    pub fn write<T>(&self, f: impl FnMut(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite {
                writer, batches, ..
            } => group_write(writer, batches, f),
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => {
                let out = pool.transaction(true, f);
                if out.is_ok()
                    && let Some(after) = self.shared.get::<AfterCommit>()
                {
                    (after.0)(self);
                }
                out
            }
        }
    }

    /// Run `f` in one read transaction (a consistent snapshot); never commits anything. On
    /// SQLite it runs on a read connection of the pool, beside the writer (see the module docs).
    pub fn read<T>(&self, mut f: impl FnMut(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite { readers, .. } => {
                let mut conn = readers.take()?;
                let out = (|| {
                    let tx = conn
                        .transaction_with_behavior(TransactionBehavior::Deferred)
                        .map_err(StoreError::from)?;
                    let out = f(&Tx::sqlite(&tx));
                    tx.rollback().map_err(StoreError::from)?;
                    out
                })();
                readers.give_back(conn);
                out
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => pool.transaction(false, f),
        }
    }

    /// Copy the live database to `dest` with the online backup API (safe while in use).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let conn = self.lock()?;
        backup_connection(&conn, dest)
    }

    /// How many write groups (transactions) SQLite has begun on this store; each holds one or
    /// more writes (see the module docs). 0 on PostgreSQL.
    pub fn write_groups(&self) -> u64 {
        match &self.backend {
            Backend::Sqlite { batches, .. } => {
                batches.next.load(std::sync::atomic::Ordering::SeqCst)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => 0,
        }
    }

    /// The SQLite writer connection with no write transaction open (a pending group is committed
    /// first); on PostgreSQL a coded refusal (file backups are SQLite's: a PostgreSQL hall backs
    /// up with its own tools, `pg_dump` or streaming replication).
    pub(crate) fn lock(&self) -> Result<WriterGuard<'_>> {
        match &self.backend {
            Backend::Sqlite {
                writer, batches, ..
            } => {
                let mut w = writer
                    .lock()
                    .map_err(|_| CoreError::internal("数据库连接锁已损坏（此前有操作异常中止）"))?;
                if w.open.is_some() {
                    w.commit(batches);
                }
                Ok(WriterGuard(w))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => Err(CoreError::new(
                ErrorCode::SettingDisabled,
                "PostgreSQL 数据库的备份与恢复由数据库自身完成（pg_dump / 流复制），本程序只备份 SQLite 文件",
            )),
        }
    }
}

/// The writer connection, and the write transaction left open for the next write of a group.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Connection,
    open: Option<Group>,
}

/// An open group: its number, and how many writes it holds.
#[derive(Debug, Clone, Copy)]
struct Group {
    id: u64,
    writes: usize,
}

/// Writes in one group at most: a steady stream of writes still commits regularly.
pub const BATCH_MAX: usize = 32;

/// Which groups have ended, and how; the writers waiting for theirs.
#[derive(Debug, Default)]
struct Batches {
    /// Writers waiting for the writer connection.
    waiting: std::sync::atomic::AtomicUsize,
    next: std::sync::atomic::AtomicU64,
    ended: Mutex<Ended>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Ended {
    /// Every group up to this number has ended (groups end in order).
    upto: u64,
    /// Recent groups whose commit failed, with why.
    failed: std::collections::VecDeque<(u64, String)>,
}

impl Batches {
    fn end(&self, id: u64, failure: Option<String>) {
        let mut e = self
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        e.upto = e.upto.max(id);
        if let Some(why) = failure {
            e.failed.push_back((id, why));
            while e.failed.len() > 64 {
                e.failed.pop_front();
            }
        }
        self.changed.notify_all();
    }

    /// Wait until group `id` has ended; why it failed, if it did.
    fn wait_for(&self, id: u64) -> Option<String> {
        let mut e = self
            .ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while e.upto < id {
            e = self
                .changed
                .wait(e)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        e.failed
            .iter()
            .find(|(g, _)| *g == id)
            .map(|(_, why)| why.clone())
    }
}

impl Writer {
    /// Commit the open group and tell its writers.
    fn commit(&mut self, batches: &Batches) -> Option<String> {
        let group = self.open.take()?;
        let failure = self.conn.execute_batch("COMMIT").err().map(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        batches.end(group.id, failure.clone());
        failure
    }
}

/// The writer connection held, with no write transaction open.
pub(crate) struct WriterGuard<'a>(std::sync::MutexGuard<'a, Writer>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

/// One write on SQLite, in the open group (see the module docs).
fn group_write<T>(
    writer: &Mutex<Writer>,
    batches: &Batches,
    mut f: impl FnMut(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    use std::sync::atomic::Ordering;
    batches.waiting.fetch_add(1, Ordering::SeqCst);
    let locked = writer.lock();
    batches.waiting.fetch_sub(1, Ordering::SeqCst);
    let mut w =
        locked.map_err(|_| CoreError::internal("数据库连接锁已损坏（此前有操作异常中止）"))?;
    if w.open.is_none() {
        w.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::from)?;
        let id = batches.next.fetch_add(1, Ordering::SeqCst) + 1;
        w.open = Some(Group { id, writes: 0 });
    }
    let group = w.open.map(|g| g.id).unwrap_or_default();
    let out = match w.conn.execute_batch("SAVEPOINT write") {
        Ok(()) => {
            let out = f(&Tx::sqlite(&w.conn));
            let end = if out.is_ok() {
                "RELEASE write"
            } else {
                "ROLLBACK TO write; RELEASE write"
            };
            match w.conn.execute_batch(end) {
                Ok(()) => out,
                Err(e) => Err(StoreError::from(e).into()),
            }
        }
        Err(e) => Err(StoreError::from(e).into()),
    };
    if w.conn.is_autocommit() {
        // SQLite ended the transaction itself (an I/O error, a full disk): every write of the
        // group is gone.
        w.open = None;
        let why = "写入组被数据库中止".to_owned();
        batches.end(group, Some(why.clone()));
        return Err(write_failed(&why));
    }
    if let Some(g) = w.open.as_mut() {
        g.writes += 1;
    }
    let full = w.open.is_some_and(|g| g.writes >= BATCH_MAX);
    if batches.waiting.load(Ordering::SeqCst) > 0 && !full {
        // Another write is waiting: it joins this group and commits it (or passes it on).
        drop(w);
        let value = out?; // refused: nothing of it to make durable
        return match batches.wait_for(group) {
            None => Ok(value),
            Some(why) => Err(write_failed(&why)),
        };
    }
    match w.commit(batches) {
        None => out,
        Some(why) => Err(write_failed(&why)),
    }
}

/// The error of every write of a group that did not commit.
fn write_failed(why: &str) -> CoreError {
    CoreError::new(ErrorCode::Storage, format!("数据写入失败：{why}"))
}

/// The read connections of a SQLite store: opened on first need and kept, at most [`READERS`]
/// of them; a read that finds all of them busy waits for one rather than opening another (a
/// connection costs its schema parse and its own page cache, and a burst of reads opening and
/// closing connections spent a tenth of a busy server's CPU zeroing memory). Each is
/// `query_only`: a read can never write, even by mistake.
#[derive(Debug)]
pub struct ReadPool {
    path: PathBuf,
    /// Idle connections, and how many are open in all.
    idle: Mutex<(Vec<Connection>, usize)>,
    returned: std::sync::Condvar,
}

/// Read connections per store: more reads than this at once wait for one. A hall server's
/// reads are short (a board, a counter: a millisecond or two); a few connections keep both
/// cores busy while a slow read (a year's report) holds one.
pub const READERS: usize = 6;

impl ReadPool {
    fn new(path: &Path) -> Self {
        ReadPool {
            path: path.to_owned(),
            idle: Mutex::new((Vec::new(), 0)),
            returned: std::sync::Condvar::new(),
        }
    }

    fn take(&self) -> Result<Connection> {
        let mut guard = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(conn) = guard.0.pop() {
                return Ok(conn);
            }
            if guard.1 < READERS {
                guard.1 += 1;
                drop(guard);
                let opened = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(CoreError::from)
                .and_then(|conn| configure_reader(&conn).map(|()| conn));
                if opened.is_err() {
                    self.forget();
                }
                return opened;
            }
            guard = self
                .returned
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn give_back(&self, conn: Connection) {
        if !conn.is_autocommit() {
            // Left inside a transaction by a failure: not reused.
            drop(conn);
            self.forget();
            return;
        }
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .push(conn);
        self.returned.notify_one();
    }

    /// A connection was closed: another may be opened in its place.
    fn forget(&self) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1 -= 1;
        self.returned.notify_one();
    }
}

/// A file written by a newer build: refused and left untouched (opening, restoring).
pub(crate) fn schema_too_new(path: &Path, found: u32) -> CoreError {
    CoreError::new(
        ErrorCode::SchemaTooNew,
        format!(
            "数据库 {} 由更新版本的一次办写入（结构版本 {found}，本程序支持到 {SCHEMA_VERSION}），为保护数据未做任何改动。请升级本程序。",
            path.display()
        ),
    )
    .param("found", found)
    .param("supported", SCHEMA_VERSION)
}

/// Read the schema version of an existing file without writing to it.
pub(crate) fn inspect(path: &Path) -> Result<(u32, bool)> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            CoreError::new(
                ErrorCode::Storage,
                format!("无法打开数据库 {}：{e}", path.display()),
            )
        })?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| {
            CoreError::new(
                ErrorCode::Storage,
                format!("{} 不是可读的 SQLite 数据库：{e}", path.display()),
            )
        })?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            format!(
                "{} 不是一次办的数据库（application_id={app_id:#x}），未做任何改动",
                path.display()
            ),
        ));
    }
    if app_id == 0 && tables > 0 {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            format!(
                "{} 是其他程序的 SQLite 数据库，未做任何改动",
                path.display()
            ),
        ));
    }
    Ok((u32::try_from(version).unwrap_or(u32::MAX), tables > 0))
}

/// Distinct statements kept prepared: every query module goes through the cache, and an
/// operation mix touches a few hundred statements; a smaller cache re-prepares hot ones.
const STATEMENT_CACHE: usize = 512;

/// What every connection of the store is opened with, the writer's and the readers'.
fn configure_connection(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query planner stability guarantee: a statement's plan never depends on the values bound
    // to it. Without it, the bundled SQLite (STAT4 enabled) marks the parameters of most joins
    // and of every `LIMIT ?n` as "may change the plan", and re-prepares the statement on every
    // bind: measured under the load generator, re-parsing was a quarter of the server's CPU and
    // the cached statements saved nothing. Our plans do not need the values: partial indexes
    // are matched against literals written in the SQL, and the hot queries name their index.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

fn configure(conn: &Connection) -> Result<()> {
    configure_connection(conn)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CoreError::new(
            ErrorCode::Storage,
            format!("无法启用 WAL 日志模式（当前 {mode}）"),
        ));
    }
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;")?;
    Ok(())
}

fn configure_reader(conn: &Connection) -> Result<()> {
    configure_connection(conn)?;
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA query_only=1;")?;
    Ok(())
}

/// Apply one migration's `sql` (this backend's file) in `tx` and record it with its checksum.
pub(crate) fn apply_migration(
    tx: &Tx<'_>,
    version: u32,
    name: &str,
    sql: &str,
    now: Timestamp,
) -> Result<()> {
    tx.execute_batch(sql).map_err(|e| {
        CoreError::new(
            ErrorCode::Storage,
            format!("迁移 {version} ({name}) 失败：{e}"),
        )
    })?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![version, name, crate::kernel::ids::sha256_hex(sql.as_bytes()), crate::kernel::clock::to_ms(now)],
    )?;
    Ok(())
}

fn migrate(conn: &Connection, from: u32, now: Timestamp) -> Result<()> {
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        let tx = conn.unchecked_transaction()?;
        apply_migration(&Tx::sqlite(&tx), m.version, m.name, m.sql, now)?;
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID};",
            m.version
        ))?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn backup_connection(conn: &Connection, dest: &Path) -> Result<()> {
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = Connection::open(dest)?;
    {
        let backup = rusqlite::backup::Backup::new(conn, &mut out)?;
        backup.run_to_completion(256, std::time::Duration::from_millis(0), None)?;
    }
    // A copy is one standalone file: no WAL beside it (opening it later leaves nothing behind).
    out.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
    Ok(())
}

/// Where the hall database lives unless `--db` / `ONETRIP_DB` say otherwise: the platform data
/// directory (`~/.local/share/onetrip/onetrip.sqlite` on Linux).
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("cn", "onetrip", "onetrip")
        .map(|d| d.data_dir().join("onetrip.sqlite"))
        .unwrap_or_else(|| PathBuf::from("onetrip.sqlite"))
}

/// The directory holding pre-migration backups of the database at `db`.
pub fn backup_dir(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join("backups")
}

fn backup_before_migration(db: &Path, from_version: u32, now: Timestamp) -> Result<PathBuf> {
    let dir = backup_dir(db);
    let stem = stem_of(db);
    let dest = dir.join(format!(
        "{stem}-{}-v{from_version}.sqlite",
        backup_stamp(now)
    ));
    let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    backup_connection(&src, &dest)?;
    prune_backups(&dir, &stem, BACKUPS_KEPT)?;
    Ok(dest)
}

/// The file name stem backups of the database at `db` start with.
pub(crate) fn stem_of(db: &Path) -> String {
    db.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("onetrip")
        .to_owned()
}

/// The time in a backup's name: names sort by time.
pub(crate) fn backup_stamp(now: Timestamp) -> String {
    now.strftime("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// The backups of `stem` in `dir` (`<stem>-….sqlite`), oldest first; none when `dir` is missing.
pub fn backups_of(dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let prefix = format!("{stem}-");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".sqlite"))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => return Err(e.into()),
    };
    files.sort();
    Ok(files)
}

/// Keep the newest `keep` backups of `stem` in `dir`.
pub(crate) fn prune_backups(dir: &Path, stem: &str, keep: usize) -> Result<()> {
    let mut files = backups_of(dir, stem)?;
    while files.len() > keep {
        std::fs::remove_file(files.remove(0))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statements that join, or take `LIMIT ?n`, are the ones SQLite re-prepared on every bind
    /// before the planner was told to ignore bound values; a cached statement must stay
    /// prepared however often it is rebound.
    #[test]
    fn cached_statements_are_not_reprepared_when_rebound() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
        let (store, _) = Store::open(dir.path().join("hall.sqlite"), now).unwrap();
        let joins = [
            "SELECT s.id FROM sessions s JOIN staff st ON st.id = s.staff_id WHERE s.token_hash = ?1",
            "SELECT c.id FROM window_categories wc JOIN categories c ON c.id = wc.category_id
             WHERE wc.window_id = ?1 ORDER BY wc.rank",
            "SELECT t.id FROM tickets t JOIN categories c ON c.id = t.category_id
             LEFT JOIN windows w ON w.id = t.window_id WHERE t.id = ?1",
            "SELECT t.priority IS NOT NULL FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
             WHERE e.window_id = ?1 AND e.kind IN ('call', 'call_specific') ORDER BY e.seq DESC LIMIT 3",
            "SELECT seq FROM ticket_events WHERE window_id = ?1 ORDER BY seq DESC LIMIT ?2",
        ];
        for sql in joins {
            let reprepared: i32 = (0..5)
                .map(|i| {
                    store
                        .read(|tx| {
                            let mut stmt = tx.prepare_cached(sql)?;
                            let value = format!("value-{i}");
                            if sql.contains("?2") {
                                stmt.query_map(rusqlite::params![value, 3], |_| Ok(()))?
                                    .for_each(drop);
                            } else {
                                stmt.query_map([value], |_| Ok(()))?.for_each(drop);
                            }
                            let Stmt::Sqlite(s) = &stmt else {
                                unreachable!("a SQLite store prepares SQLite statements")
                            };
                            Ok(s.reset_status(rusqlite::StatementStatus::RePrepare))
                        })
                        .unwrap()
                })
                .sum();
            assert_eq!(
                reprepared, 0,
                "re-binding must not re-prepare (the plan may not depend on bound values): {sql}"
            );
        }
    }
}
