//! The PostgreSQL backend (hall mode in a large hall: several hall servers, one database).
//! Built only with the core's `postgres` feature (the hall server and the CLI); the desktop does
//! not link a PostgreSQL client.
//!
//! Contract:
//! - Same tables and same operations as SQLite. The migrations are PostgreSQL's own files
//!   (`migrations/postgres/`), one per SQLite migration, recorded in the same
//!   `schema_migrations`; a test compares the two schemas. A database migrated by a newer build
//!   is refused, a database of another program too. Migrating is one transaction under a
//!   transaction-scoped advisory lock, so two servers starting together migrate once.
//!   PostgreSQL is backed up with its own tools (`pg_dump`, streaming replication), not by us.
//! - Connections come from an r2d2 pool ([`Pool`]); each keeps its statements prepared.
//! - Writes run in READ COMMITTED and lock only what they must, so two kiosks issuing in
//!   different categories, or two windows calling, proceed side by side:
//!   - a number is allocated by an upsert that returns it (`… DO UPDATE SET value = value + 1
//!     RETURNING value`): the counter's row lock serialises the writers of that one counter,
//!     and the number is never handed out twice nor skipped;
//!   - a window claims a ticket with a conditional update (`… WHERE status = 'waiting'`); a
//!     ticket another window holds is skipped (`FOR UPDATE SKIP LOCKED` in the head query);
//!   - an operation on a case locks the case's row first (`FOR UPDATE`);
//!   - a write appends its audit row unsealed and takes no lock for it; the rows are chained
//!     after the commit by `kernel::audit::seal`, whose sealers alone take one
//!     transaction-scoped advisory lock ([`AUDIT_LOCK`]) — so writes never queue on the chain.
//!
//!   A write PostgreSQL aborts for a serialization failure or a deadlock runs again from the
//!   start (a few times). Reads are `REPEATABLE READ READ ONLY` snapshots.
//! - `synchronous_commit` stays on (the server's default): a COMMIT that returned is durable.
//! - Events cross servers with LISTEN/NOTIFY on [`EVENTS_CHANNEL`]. The notification is sent by
//!   the write transaction itself, so it is delivered if and only if the write committed. It
//!   carries the event's ids only (PostgreSQL limits a payload to about 8 kB); a server that lost
//!   its listening connection tells its clients to reload everything (a notification sent while
//!   disconnected is lost).

pub mod conn;
pub mod placeholders;

use jiff::Timestamp;

use super::error::{StoreError, StoreResult};
use super::{MIGRATIONS, OpenReport, SCHEMA_VERSION, Tx};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use conn::{PgConn, pg_error};

/// The advisory lock the audit chain is sealed under ("OTRA"): sealers take it, writes do not.
pub const AUDIT_LOCK: i64 = 0x4F54_5241;

/// The advisory lock migrations run under ("OTRM").
const MIGRATE_LOCK: i64 = 0x4F54_524D;

/// The LISTEN/NOTIFY channel hall events cross servers on.
pub const EVENTS_CHANNEL: &str = "onetrip_events";

/// Most connections one server opens (PostgreSQL allows 100 by default).
const MAX_CONNECTIONS: u32 = 24;

/// How often a write aborted for a serialization failure or a deadlock is run again.
const RETRIES: u32 = 8;

/// Opens the pool's connections.
#[derive(Debug)]
pub struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = StoreError;

    fn connect(&self) -> StoreResult<PgConn> {
        self.config
            .connect(postgres::NoTls)
            .map(PgConn::new)
            .map_err(|e| StoreError::Connection(e.to_string()))
    }

    fn is_valid(&self, conn: &mut PgConn) -> StoreResult<()> {
        conn.ping()
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.is_broken()
    }
}

/// The connections of one server (r2d2). A clone shares the connections.
#[derive(Clone)]
pub struct Pool {
    config: postgres::Config,
    pool: r2d2::Pool<Manager>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("hosts", &self.config.get_hosts())
            .field("dbname", &self.config.get_dbname())
            .finish()
    }
}

fn unreachable(e: &postgres::Error) -> CoreError {
    CoreError::new(
        ErrorCode::Storage,
        format!("无法连接 PostgreSQL 数据库：{e}"),
    )
}

impl Pool {
    /// Parse `url` and open the pool (one connection, to check it).
    pub fn connect(url: &str) -> Result<Pool> {
        let config: postgres::Config = url.parse().map_err(|e| {
            CoreError::new(
                ErrorCode::InvalidFormat,
                format!("PostgreSQL 连接串无效：{e}"),
            )
            .field("database")
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(Manager {
                config: config.clone(),
            })
            .map_err(|e| {
                CoreError::new(
                    ErrorCode::Storage,
                    format!("无法连接 PostgreSQL 数据库：{e}"),
                )
            })?;
        Ok(Pool { config, pool })
    }

    /// A new connection outside the pool (a LISTEN connection lives on its own).
    pub fn dedicated(&self) -> Result<postgres::Client> {
        self.config
            .connect(postgres::NoTls)
            .map_err(|e| unreachable(&e))
    }

    /// One transaction: a write (READ COMMITTED, committed on `Ok`, run again when PostgreSQL
    /// aborted it for a serialization failure or a deadlock) or a read (a read-only snapshot,
    /// always rolled back).
    pub(crate) fn transaction<T>(
        &self,
        write: bool,
        mut f: impl FnMut(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            let conn = self
                .pool
                .get()
                .map_err(|e| CoreError::from(StoreError::Connection(e.to_string())))?;
            let begin = if write {
                "BEGIN ISOLATION LEVEL READ COMMITTED"
            } else {
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            };
            conn.begin(begin)?;
            let out = f(&Tx::pg(&conn, write));
            let done = match out {
                Ok(v) if write => conn.commit().map(|()| v),
                Ok(v) => {
                    conn.rollback();
                    Ok(v)
                }
                Err(e) => {
                    conn.rollback();
                    return Err(e);
                }
            };
            match done {
                Err(e) if e.is_retryable() && attempt < RETRIES => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "write aborted by PostgreSQL; running it again");
                }
                other => return other.map_err(CoreError::from),
            }
        }
    }

    /// Bring the schema up to [`SCHEMA_VERSION`] (see the module docs).
    pub(crate) fn migrate(&self, now: Timestamp) -> Result<OpenReport> {
        self.transaction(true, |tx| migrate_locked(tx, now))
    }
}

fn migrate_locked(tx: &Tx<'_>, now: Timestamp) -> Result<OpenReport> {
    tx.query_row("SELECT pg_advisory_xact_lock(?1)", [MIGRATE_LOCK], |_| {
        Ok(())
    })?;
    let has_schema: i64 = tx.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    let tables: i64 = tx.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        [],
        |r| r.get(0),
    )?;
    if has_schema == 0 && tables > 0 {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "该 PostgreSQL 数据库已有其他程序的表，不是一次办的数据库，未做任何改动",
        ));
    }
    let from: i64 = if has_schema > 0 {
        tx.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?
    } else {
        0
    };
    let from = u32::try_from(from).unwrap_or(u32::MAX);
    if from > SCHEMA_VERSION {
        return Err(CoreError::new(
            ErrorCode::SchemaTooNew,
            format!(
                "PostgreSQL 数据库由更新版本的一次办写入（结构版本 {from}，本程序支持到 {SCHEMA_VERSION}），为保护数据未做任何改动。请升级本程序。"
            ),
        )
        .param("found", from)
        .param("supported", SCHEMA_VERSION));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        super::apply_migration(tx, m.version, m.name, m.postgres, now)?;
    }
    Ok(OpenReport {
        created: from == 0,
        from_version: from,
        to_version: SCHEMA_VERSION,
        backup: None,
    })
}

/// Send `payload` on [`EVENTS_CHANNEL`] from inside a write transaction: delivered to every
/// listening server when (and only when) the transaction commits.
pub(crate) fn notify_in(tx: &Tx<'_>, payload: &str) -> Result<()> {
    tx.query_row(
        "SELECT pg_notify('onetrip_events', ?1)",
        rusqlite::params![payload],
        |_| Ok(()),
    )?;
    Ok(())
}

/// What one notification on [`EVENTS_CHANNEL`] says: which server committed, and the events
/// (topics and ids; the records themselves are read from the database). Too many events for a
/// payload become `resync`: every client reloads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub instance: String,
    #[serde(default)]
    pub events: Vec<crate::kernel::event::HallEvent>,
    #[serde(default)]
    pub resync: bool,
}

/// PostgreSQL refuses payloads of 8000 bytes and more.
pub const MAX_PAYLOAD: usize = 7900;

impl Notification {
    pub fn payload(instance: &str, events: &[crate::kernel::event::HallEvent]) -> String {
        let full = Notification {
            instance: instance.to_owned(),
            events: events.to_vec(),
            resync: false,
        };
        let text = serde_json::to_string(&full).unwrap_or_default();
        if text.len() < MAX_PAYLOAD {
            return text;
        }
        serde_json::to_string(&Notification {
            instance: instance.to_owned(),
            events: vec![],
            resync: true,
        })
        .unwrap_or_default()
    }

    pub fn parse(payload: &str) -> Option<Notification> {
        serde_json::from_str(payload).ok()
    }
}

/// What [`crate::Store::listen_to_other_servers`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Another server committed these.
    Events(Vec<crate::kernel::event::HallEvent>),
    /// Events may have been missed: every client should reload.
    Resync,
}

impl super::Store {
    /// Block, passing every other server's committed events to `on`, until `stop` is set
    /// (checked twice a second). Our own notifications are skipped: their events were
    /// published when they committed. A lost listening connection is reopened every second and
    /// then `on(Heard::Resync)`: a notification sent while nobody listened is gone. Returns at
    /// once on SQLite.
    pub fn listen_to_other_servers(
        &self,
        stop: &std::sync::atomic::AtomicBool,
        mut on: impl FnMut(Heard),
    ) {
        use postgres::fallible_iterator::FallibleIterator;
        use std::sync::atomic::Ordering;
        let Some(pool) = self.postgres() else {
            return;
        };
        let own = self.instance().to_owned();
        let mut connected_before = false;
        while !stop.load(Ordering::Relaxed) {
            let mut client = match pool.dedicated() {
                Ok(c) => c,
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    continue;
                }
            };
            if client
                .batch_execute(&format!("LISTEN {EVENTS_CHANNEL}"))
                .is_err()
            {
                std::thread::sleep(std::time::Duration::from_secs(1));
                continue;
            }
            if connected_before {
                on(Heard::Resync);
            }
            connected_before = true;
            while !stop.load(Ordering::Relaxed) {
                let next = {
                    let mut notes = client.notifications();
                    let mut heard = notes.timeout_iter(std::time::Duration::from_millis(500));
                    heard.next().map(|n| n.map(|n| n.payload().to_owned()))
                };
                match next {
                    Ok(Some(payload)) => match Notification::parse(&payload) {
                        Some(n) if n.instance == own => {}
                        Some(n) if n.resync => on(Heard::Resync),
                        Some(n) => on(Heard::Events(n.events)),
                        None => on(Heard::Resync),
                    },
                    Ok(None) => {
                        if client.is_closed() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }
}

/// Create a new, empty database named `t_<uuid>` on the server at `server_url` and return its
/// URL (the test suites run each hall in a database of its own).
pub fn create_scratch_database(server_url: &str) -> Result<String> {
    create_scratch_database_from(server_url, None)
}

/// [`create_scratch_database`] as a copy of `template` (a database on the same server that no
/// session is connected to): the test suites copy one migrated demo hall instead of building it
/// for every test.
pub fn create_scratch_database_from(server_url: &str, template: Option<&str>) -> Result<String> {
    let config: postgres::Config = server_url.parse().map_err(|e| {
        CoreError::new(
            ErrorCode::InvalidFormat,
            format!("PostgreSQL 连接串无效：{e}"),
        )
    })?;
    let mut admin = config
        .connect(postgres::NoTls)
        .map_err(|e| unreachable(&e))?;
    let name = format!("t_{}", crate::kernel::ids::new_id().replace('-', ""));
    let sql = match template {
        Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
        None => format!("CREATE DATABASE {name}"),
    };
    // Two copies of one template started at the same instant may find it busy: try again.
    let mut tries = 0;
    loop {
        match admin.batch_execute(&sql) {
            Ok(()) => break,
            Err(e) if tries < 50 && e.to_string().contains("being accessed by other users") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(storage_error(&e)),
        }
    }
    let base = server_url.rsplit_once('/').map_or(server_url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// Turn a driver error met outside a query module into a coded error.
pub fn storage_error(e: &postgres::Error) -> CoreError {
    CoreError::from(pg_error(e, ""))
}
