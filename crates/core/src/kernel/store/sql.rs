//! The one SQL surface every query module uses: [`Tx`], a transaction on either backend.
//!
//! Contract:
//! - A query module writes each statement once where both dialects spell it alike (most do:
//!   `?N` parameters, integers for booleans and milliseconds, `coalesce`, `CASE`). Where they
//!   differ it writes both, side by side, and [`Tx::pick`] chooses: an index hint SQLite needs
//!   (`INDEXED BY`, `+col`) and PostgreSQL would refuse, `LIKE` against `ILIKE`, a row lock
//!   (`FOR UPDATE`) SQLite has no use for. Nothing rewrites SQL words behind the author's back;
//!   only `?N` becomes `$N` on PostgreSQL.
//! - Values go in through rusqlite's `ToSql` and come back through its `FromSql`, whichever
//!   backend produced them (PostgreSQL's cells are read as the same `Value`s); every error is the
//!   store's own ([`StoreError`]). Sums and averages are cast in SQL (`CAST(sum(x) AS BIGINT)`),
//!   so no backend's arbitrary-precision type reaches a query module.
//! - A `Tx` never commits: [`super::Store::write`] / [`super::Store::read`] own the transaction.

use rusqlite::ToSql;
use rusqlite::types::{FromSql, Value, ValueRef};

use super::error::{StoreError, StoreResult};
#[cfg(feature = "postgres")]
use super::postgres::conn::PgConn;

thread_local! {
    /// The statements run on this thread while [`record_statements`] is recording.
    static RECORDED: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` and return, beside its result, every SQL statement it ran on this thread, in order
/// (the query-plan test reads the plans of what a live screen runs). Costs a thread-local check
/// per statement when not recording.
pub fn record_statements<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    RECORDED.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let out = f();
    let sql = RECORDED.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, sql)
}

fn note(sql: &str) {
    RECORDED.with(|r| {
        if let Some(v) = r.borrow_mut().as_mut() {
            v.push(sql.to_owned());
        }
    });
}

/// A transaction on the hall database, SQLite or PostgreSQL.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    kind: TxKind<'a>,
}

#[derive(Clone, Copy)]
enum TxKind<'a> {
    Sqlite(&'a rusqlite::Connection),
    /// A PostgreSQL connection, and whether the transaction writes (a read-only snapshot takes
    /// no locks).
    #[cfg(feature = "postgres")]
    Pg(&'a PgConn, bool),
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_postgres() {
            "Tx(postgres)"
        } else {
            "Tx(sqlite)"
        })
    }
}

/// Parameters of one statement: `params![…]`, `[]`, `[a, b]`, `&[a, b]` or a slice.
pub trait Args {
    fn refs(&self) -> Vec<&dyn ToSql>;
}
impl Args for [&(dyn ToSql + Send + Sync); 0] {
    fn refs(&self) -> Vec<&dyn ToSql> {
        Vec::new()
    }
}
impl<T: ToSql> Args for &[T] {
    fn refs(&self) -> Vec<&dyn ToSql> {
        self.iter().map(|v| v as &dyn ToSql).collect()
    }
}
macro_rules! args_for_arrays {
    ($($n:literal)+) => {$(
        impl<T: ToSql> Args for [T; $n] {
            fn refs(&self) -> Vec<&dyn ToSql> {
                self.iter().map(|v| v as &dyn ToSql).collect()
            }
        }
        impl<T: ToSql> Args for &[T; $n] {
            fn refs(&self) -> Vec<&dyn ToSql> {
                self.iter().map(|v| v as &dyn ToSql).collect()
            }
        }
    )+};
}
args_for_arrays!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20);

impl<'a> Tx<'a> {
    pub fn sqlite(conn: &'a rusqlite::Connection) -> Self {
        Tx {
            kind: TxKind::Sqlite(conn),
        }
    }
    #[cfg(feature = "postgres")]
    pub(crate) fn pg(conn: &'a PgConn, writes: bool) -> Self {
        Tx {
            kind: TxKind::Pg(conn, writes),
        }
    }

    /// A PostgreSQL write transaction (the only kind that takes row and advisory locks).
    fn pg_write(&self) -> bool {
        match self.kind {
            TxKind::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            TxKind::Pg(_, writes) => writes,
        }
    }
    pub fn is_postgres(&self) -> bool {
        match self.kind {
            TxKind::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            TxKind::Pg(..) => true,
        }
    }

    /// The statement as this backend spells it, where the two differ (see the module docs).
    pub fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        if self.is_postgres() { postgres } else { sqlite }
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: impl Args) -> StoreResult<usize> {
        note(sql);
        match self.kind {
            TxKind::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(args.refs().as_slice())?),
            #[cfg(feature = "postgres")]
            TxKind::Pg(c, _) => c.execute(sql, args.refs().as_slice()),
        }
    }

    /// The first row of a query ([`StoreError::NoRows`] when there is none).
    pub fn query_row<T>(
        &self,
        sql: &str,
        args: impl Args,
        f: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        note(sql);
        match self.kind {
            TxKind::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(args.refs().as_slice())?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)),
                    None => Err(StoreError::NoRows),
                }
            }
            #[cfg(feature = "postgres")]
            TxKind::Pg(c, _) => c.query_first(sql, args.refs().as_slice(), f),
        }
    }

    pub fn prepare(&self, sql: &str) -> StoreResult<Stmt<'a>> {
        self.prepare_cached(sql)
    }

    pub fn prepare_cached(&self, sql: &str) -> StoreResult<Stmt<'a>> {
        note(sql);
        Ok(match self.kind {
            TxKind::Sqlite(c) => Stmt::Sqlite(c.prepare_cached(sql)?),
            #[cfg(feature = "postgres")]
            TxKind::Pg(c, _) => Stmt::Pg(c, sql.to_owned()),
        })
    }

    /// Lock one row of `table` for the rest of this write. A writer that reads a row, decides on
    /// it and writes it must not decide on a row another writer is changing: PostgreSQL runs
    /// writers side by side (`SELECT … FOR UPDATE`); SQLite serialises them already.
    pub fn lock_row(&self, table: &'static str, id: &str) -> StoreResult<()> {
        if self.pg_write() {
            self.query_row(
                &format!("SELECT 1 FROM {table} WHERE id = ?1 FOR UPDATE"),
                [id],
                |_| Ok(()),
            )
            .or_else(|e| match e {
                StoreError::NoRows => Ok(()),
                e => Err(e),
            })?;
        }
        Ok(())
    }

    /// Serialise this write with every other write that names `key` (a job two hall servers
    /// both run, one person's tickets): PostgreSQL takes a transaction-scoped advisory lock on
    /// the key; SQLite serialises writers already.
    pub fn serialize(&self, key: &str) -> StoreResult<()> {
        if self.pg_write() {
            self.query_row("SELECT pg_advisory_xact_lock(hashtext(?1))", [key], |_| {
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The audit chain's lock (see `kernel::audit::seal`): on PostgreSQL a transaction-scoped
    /// advisory lock the sealers take (a write does not).
    pub fn serialize_audit(&self) -> StoreResult<()> {
        #[cfg(feature = "postgres")]
        if self.pg_write() {
            self.query_row(
                "SELECT pg_advisory_xact_lock(?1)",
                [super::postgres::AUDIT_LOCK],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }

    /// Several statements without parameters, as one batch (migrations).
    pub fn execute_batch(&self, sql: &str) -> StoreResult<()> {
        match self.kind {
            TxKind::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            TxKind::Pg(c, _) => c.batch(sql),
        }
    }
}

/// A prepared statement (SQLite: from the connection's cache; PostgreSQL: prepared once per
/// connection when first run).
pub enum Stmt<'a> {
    Sqlite(rusqlite::CachedStatement<'a>),
    #[cfg(feature = "postgres")]
    Pg(&'a PgConn, String),
}

impl<'a> Stmt<'a> {
    /// Every row mapped by `f`, in order (read eagerly: the rows live in memory once).
    pub fn query_map<T>(
        &mut self,
        args: impl Args,
        mut f: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<std::vec::IntoIter<StoreResult<T>>> {
        let out: Vec<StoreResult<T>> = match self {
            Stmt::Sqlite(s) => {
                let mut rows = s.query(args.refs().as_slice())?;
                let mut out = vec![];
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r)));
                }
                out
            }
            #[cfg(feature = "postgres")]
            Stmt::Pg(c, sql) => c
                .query(sql, args.refs().as_slice())?
                .iter()
                .map(|r| f(&Row::Values(r)))
                .collect(),
        };
        Ok(out.into_iter())
    }

    pub fn query_row<T>(
        &mut self,
        args: impl Args,
        f: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match self {
            Stmt::Sqlite(s) => {
                let mut rows = s.query(args.refs().as_slice())?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)),
                    None => Err(StoreError::NoRows),
                }
            }
            #[cfg(feature = "postgres")]
            Stmt::Pg(c, sql) => c.query_first(sql, args.refs().as_slice(), f),
        }
    }

    pub fn execute(&mut self, args: impl Args) -> StoreResult<usize> {
        match self {
            Stmt::Sqlite(s) => Ok(s.execute(args.refs().as_slice())?),
            #[cfg(feature = "postgres")]
            Stmt::Pg(c, sql) => c.execute(sql, args.refs().as_slice()),
        }
    }

    /// The rows one at a time (SQLite: streamed; PostgreSQL: fetched whole).
    pub fn query(&mut self, args: impl Args) -> StoreResult<Rows<'_>> {
        Ok(match self {
            Stmt::Sqlite(s) => Rows::Sqlite(s.query(args.refs().as_slice())?),
            #[cfg(feature = "postgres")]
            Stmt::Pg(c, sql) => Rows::Values(c.query(sql, args.refs().as_slice())?.into(), None),
        })
    }

    /// The raw SQLite statement (the statement-cache test reads its counters).
    pub fn as_sqlite(&self) -> Option<&rusqlite::CachedStatement<'a>> {
        match self {
            Stmt::Sqlite(s) => Some(s),
            #[cfg(feature = "postgres")]
            Stmt::Pg(..) => None,
        }
    }
}

/// Rows of [`Stmt::query`].
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Values(std::collections::VecDeque<Vec<Value>>, Option<Vec<Value>>),
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)] // a fallible lending iterator, like rusqlite's
    pub fn next(&mut self) -> StoreResult<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(r) => Ok(r.next()?.map(Row::Sqlite)),
            Rows::Values(rest, current) => {
                *current = rest.pop_front();
                Ok(current.as_deref().map(Row::Values))
            }
        }
    }
}

/// One result row.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Values(&'r [Value]),
}

/// A column by position (the query modules select by position).
pub trait ColumnIndex {
    fn position(self) -> usize;
}
impl ColumnIndex for usize {
    fn position(self) -> usize {
        self
    }
}

impl Row<'_> {
    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Values(v) => v.len(),
        }
    }

    pub fn get<I: ColumnIndex, T: FromSql>(&self, idx: I) -> StoreResult<T> {
        let idx = idx.position();
        match self {
            Row::Sqlite(r) => Ok(r.get(idx)?),
            Row::Values(v) => {
                let value = v.get(idx).ok_or(StoreError::Decode {
                    column: idx,
                    message: "no such column".into(),
                })?;
                T::column_result(ValueRef::from(value)).map_err(|e| StoreError::Decode {
                    column: idx,
                    message: format!("{e} ({:?})", value.data_type()),
                })
            }
        }
    }
}
