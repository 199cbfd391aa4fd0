//! The one SQL surface every query module uses: [`Tx`], a transaction on either backend.
//!
//! Contract:
//! - Query modules write SQL once, in the dialect both backends share (SQLite's, with `?N`
//!   parameters and integers for booleans and milliseconds). On SQLite it runs as written; on
//!   PostgreSQL [`super::dialect::to_postgres`] translates the few spellings that differ and
//!   [`PgValue`] binds each value as the type the server inferred for its parameter.
//! - Results come back through [`Row::get`] with rusqlite's `FromSql`, whichever backend
//!   produced them, so a query module never branches on the backend and the error type stays
//!   `rusqlite::Error` (a PostgreSQL error is carried inside it, message and SQLSTATE kept).
//! - A `Tx` never commits: [`super::Store::write`] / [`super::Store::read`] own the transaction.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use rusqlite::types::{FromSql, ToSql, ToSqlOutput, Value, ValueRef};

/// A transaction on the hall database, SQLite or PostgreSQL.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    kind: TxKind<'a>,
}

#[derive(Clone, Copy)]
enum TxKind<'a> {
    Sqlite(&'a rusqlite::Connection),
    Pg(&'a PgConn),
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
args_for_arrays!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

impl<'a> Tx<'a> {
    pub fn sqlite(conn: &'a rusqlite::Connection) -> Self {
        Tx {
            kind: TxKind::Sqlite(conn),
        }
    }
    pub(crate) fn pg(conn: &'a PgConn) -> Self {
        Tx {
            kind: TxKind::Pg(conn),
        }
    }
    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, TxKind::Pg(_))
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: impl Args) -> rusqlite::Result<usize> {
        match self.kind {
            TxKind::Sqlite(c) => c.prepare_cached(sql)?.execute(args.refs().as_slice()),
            TxKind::Pg(c) => c.execute(sql, args.refs().as_slice()),
        }
    }

    /// The first row of a query (`QueryReturnedNoRows` when there is none).
    pub fn query_row<T>(
        &self,
        sql: &str,
        args: impl Args,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        match self.kind {
            TxKind::Sqlite(c) => c
                .prepare_cached(sql)?
                .query_row(args.refs().as_slice(), |r| f(&Row::Sqlite(r))),
            TxKind::Pg(c) => c.query_first(sql, args.refs().as_slice(), f),
        }
    }

    pub fn prepare(&self, sql: &str) -> rusqlite::Result<Stmt<'a>> {
        self.prepare_cached(sql)
    }

    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<Stmt<'a>> {
        Ok(match self.kind {
            TxKind::Sqlite(c) => Stmt::Sqlite(c.prepare_cached(sql)?),
            TxKind::Pg(c) => Stmt::Pg(c, sql.to_owned()),
        })
    }

    /// Several statements without parameters (SQLite: as one batch).
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        match self.kind {
            TxKind::Sqlite(c) => c.execute_batch(sql),
            TxKind::Pg(c) => c.batch(&super::dialect::to_postgres(sql)),
        }
    }
}

/// A prepared statement (SQLite: from the connection's cache).
pub enum Stmt<'a> {
    Sqlite(rusqlite::CachedStatement<'a>),
    Pg(&'a PgConn, String),
}

impl<'a> Stmt<'a> {
    /// Every row mapped by `f`, in order (read eagerly: the rows live in memory once).
    pub fn query_map<T>(
        &mut self,
        args: impl Args,
        mut f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<std::vec::IntoIter<rusqlite::Result<T>>> {
        let out: Vec<rusqlite::Result<T>> = match self {
            Stmt::Sqlite(s) => s
                .query_map(args.refs().as_slice(), |r| f(&Row::Sqlite(r)))?
                .collect(),
            Stmt::Pg(c, sql) => c
                .query(sql, args.refs().as_slice())?
                .rows
                .iter()
                .map(|r| f(&Row::Values(r)))
                .collect(),
        };
        Ok(out.into_iter())
    }

    pub fn query_row<T>(
        &mut self,
        args: impl Args,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        match self {
            Stmt::Sqlite(s) => s.query_row(args.refs().as_slice(), |r| f(&Row::Sqlite(r))),
            Stmt::Pg(c, sql) => c.query_first(sql, args.refs().as_slice(), f),
        }
    }

    pub fn execute(&mut self, args: impl Args) -> rusqlite::Result<usize> {
        match self {
            Stmt::Sqlite(s) => s.execute(args.refs().as_slice()),
            Stmt::Pg(c, sql) => c.execute(sql, args.refs().as_slice()),
        }
    }

    /// The rows one at a time (SQLite: streamed; PostgreSQL: fetched whole).
    pub fn query(&mut self, args: impl Args) -> rusqlite::Result<Rows<'_>> {
        Ok(match self {
            Stmt::Sqlite(s) => Rows::Sqlite(s.query(args.refs().as_slice())?),
            Stmt::Pg(c, sql) => {
                Rows::Values(c.query(sql, args.refs().as_slice())?.rows.into(), None)
            }
        })
    }
}

/// Rows of [`Stmt::query`].
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Values(VecDeque<Vec<Value>>, Option<Vec<Value>>),
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)] // a fallible lending iterator, like rusqlite's
    pub fn next(&mut self) -> rusqlite::Result<Option<Row<'_>>> {
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

    pub fn get<I: ColumnIndex, T: FromSql>(&self, idx: I) -> rusqlite::Result<T> {
        let idx = idx.position();
        match self {
            Row::Sqlite(r) => r.get(idx),
            Row::Values(v) => {
                let value = v.get(idx).ok_or(rusqlite::Error::InvalidColumnIndex(idx))?;
                T::column_result(ValueRef::from(value)).map_err(|e| match e {
                    rusqlite::types::FromSqlError::InvalidType => {
                        rusqlite::Error::InvalidColumnType(
                            idx,
                            format!("column {idx}"),
                            value.data_type(),
                        )
                    }
                    rusqlite::types::FromSqlError::OutOfRange(i) => {
                        rusqlite::Error::IntegralValueOutOfRange(idx, i)
                    }
                    other => rusqlite::Error::FromSqlConversionFailure(
                        idx,
                        value.data_type(),
                        Box::new(other),
                    ),
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// One PostgreSQL connection of the store's pool, with its translated and prepared statements.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    prepared: RefCell<HashMap<String, postgres::Statement>>,
    broken: std::cell::Cell<bool>,
    /// A statement of the open transaction failed: PostgreSQL refuses everything after it and
    /// would turn COMMIT into a silent ROLLBACK, so [`PgConn::commit`] refuses instead.
    aborted: std::cell::Cell<bool>,
}

pub(crate) struct PgRows {
    pub rows: Vec<Vec<Value>>,
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> Self {
        PgConn {
            client: RefCell::new(client),
            prepared: RefCell::new(HashMap::new()),
            broken: std::cell::Cell::new(false),
            aborted: std::cell::Cell::new(false),
        }
    }

    pub(crate) fn begin(&self, sql: &str) -> rusqlite::Result<()> {
        self.aborted.set(false);
        self.batch(sql)
    }

    /// COMMIT, unless a statement failed inside the transaction (then ROLLBACK and an error).
    pub(crate) fn commit(&self) -> rusqlite::Result<()> {
        if self.aborted.get() {
            let _ = self.batch("ROLLBACK");
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("PostgreSQL: a statement failed inside the transaction; rolled back".into()),
            ));
        }
        self.batch("COMMIT")
    }

    /// The connection failed below SQL (closed, reset): the pool drops it.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.get() || self.client.borrow().is_closed()
    }

    fn statement(&self, sql: &str) -> rusqlite::Result<postgres::Statement> {
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        let translated = super::dialect::to_postgres(sql);
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&translated)
            .map_err(|e| self.error(e, &translated))?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn bind(args: &[&dyn ToSql]) -> rusqlite::Result<Vec<PgValue>> {
        args.iter()
            .map(|a| {
                Ok(PgValue(match a.to_sql()? {
                    ToSqlOutput::Borrowed(v) => owned(v),
                    ToSqlOutput::Owned(v) => v,
                    _ => {
                        return Err(rusqlite::Error::ToSqlConversionFailure(
                            "unsupported parameter kind for PostgreSQL".into(),
                        ));
                    }
                }))
            })
            .collect()
    }

    /// Prepare (once per connection), bind and run one statement.
    fn run<T>(
        &self,
        sql: &str,
        args: &[&dyn ToSql],
        f: impl FnOnce(
            &mut postgres::Client,
            &postgres::Statement,
            &[&(dyn postgres::types::ToSql + Sync)],
        ) -> Result<T, postgres::Error>,
    ) -> rusqlite::Result<T> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(args)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let out = f(&mut self.client.borrow_mut(), &stmt, &refs);
        out.map_err(|e| self.error(e, sql))
    }

    pub(crate) fn execute(&self, sql: &str, args: &[&dyn ToSql]) -> rusqlite::Result<usize> {
        let n = self.run(sql, args, |c, stmt, refs| c.execute(stmt, refs))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn query(&self, sql: &str, args: &[&dyn ToSql]) -> rusqlite::Result<PgRows> {
        let rows = self.run(sql, args, |c, stmt, refs| c.query(stmt, refs))?;
        let rows = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<_, PgCell>(i)
                            .map(|c| c.0)
                            .map_err(|e| self.error(e, sql))
                    })
                    .collect::<rusqlite::Result<Vec<Value>>>()
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(PgRows { rows })
    }

    /// The first row mapped by `f` (`QueryReturnedNoRows` when there is none).
    pub(crate) fn query_first<T>(
        &self,
        sql: &str,
        args: &[&dyn ToSql],
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let first = self
            .query(sql, args)?
            .rows
            .into_iter()
            .next()
            .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        f(&Row::Values(&first))
    }

    pub(crate) fn batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| self.error(e, sql))
    }

    /// A PostgreSQL error as the `rusqlite::Error` the query modules handle: SQLSTATE class 23
    /// (integrity) as a constraint failure, everything else as a generic error; the server's
    /// message and SQLSTATE are kept in the text.
    pub(crate) fn error(&self, e: postgres::Error, sql: &str) -> rusqlite::Error {
        self.aborted.set(true);
        if e.is_closed() || e.as_db_error().is_none() && e.code().is_none() {
            self.broken.set(true);
        }
        pg_error(&e, sql)
    }
}

pub(crate) fn pg_error(e: &postgres::Error, sql: &str) -> rusqlite::Error {
    let (code, text) = match e.as_db_error() {
        Some(db) => {
            let state = db.code().code();
            let code = if state.starts_with("23") {
                rusqlite::ffi::SQLITE_CONSTRAINT
            } else {
                rusqlite::ffi::SQLITE_ERROR
            };
            (code, format!("PostgreSQL {state}: {}", db.message()))
        }
        None => (rusqlite::ffi::SQLITE_IOERR, format!("PostgreSQL: {e}")),
    };
    let short: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = short.chars().take(400).collect();
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some(format!("{text} (in: {short})")),
    )
}

fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// A value bound to a PostgreSQL parameter as whatever type the server inferred for it: SQLite
/// spellings carry integers for booleans and numbers in text columns, PostgreSQL wants types.
#[derive(Debug)]
pub(crate) struct PgValue(pub Value);

type PgOut = Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>;

fn put<T: postgres::types::ToSql>(
    v: T,
    ty: &postgres::types::Type,
    out: &mut postgres::types::private::BytesMut,
) -> PgOut {
    postgres::types::ToSql::to_sql(&v, ty, out)
}

impl postgres::types::ToSql for PgValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> PgOut {
        use postgres::types::{IsNull, Type};
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => put(*i, ty, out),
                Type::INT4 => put(i32::try_from(*i)?, ty, out),
                Type::INT2 => put(i16::try_from(*i)?, ty, out),
                Type::BOOL => put(*i != 0, ty, out),
                Type::FLOAT8 => put(*i as f64, ty, out),
                Type::FLOAT4 => put(*i as f32, ty, out),
                Type::NUMERIC => numeric_from_i64(*i, out),
                _ => put(i.to_string(), &Type::TEXT, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => put(*f as f32, ty, out),
                Type::FLOAT8 => put(*f, ty, out),
                Type::NUMERIC | Type::INT8 | Type::INT4 | Type::INT2 => {
                    Err(format!("a fraction ({f}) bound to an integer parameter").into())
                }
                _ => put(f.to_string(), &Type::TEXT, out),
            },
            Value::Text(s) => match *ty {
                Type::INT8 => put(s.parse::<i64>()?, ty, out),
                Type::INT4 => put(s.parse::<i32>()?, ty, out),
                Type::FLOAT8 => put(s.parse::<f64>()?, ty, out),
                Type::BYTEA => put(s.as_bytes(), ty, out),
                _ => put(s.as_str(), &Type::TEXT, out),
            },
            Value::Blob(b) => put(b.as_slice(), &Type::BYTEA, out),
        }
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn numeric_from_i64(
    i: i64,
    out: &mut postgres::types::private::BytesMut,
) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
    // NUMERIC binary form: ndigits, weight, sign, dscale, then base-10000 digits, most
    // significant first.
    let mut digits = Vec::new();
    let mut n = i.unsigned_abs();
    while n > 0 {
        digits.push((n % 10_000) as i16);
        n /= 10_000;
    }
    digits.reverse();
    let weight = digits.len() as i16 - 1;
    let sign: u16 = if i < 0 { 0x4000 } else { 0 };
    let mut push = |v: u16| out.extend_from_slice(&v.to_be_bytes());
    push(digits.len() as u16);
    push(weight.max(0) as u16);
    push(sign);
    push(0);
    for d in digits {
        push(d as u16);
    }
    Ok(postgres::types::IsNull::No)
}

/// One PostgreSQL result cell as the SQLite value the query modules expect: integers (and
/// booleans, as 0/1), floats, exact NUMERIC sums (as an integer when whole), text, bytes.
struct PgCell(Value);

impl<'a> postgres::types::FromSql<'a> for PgCell {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        Ok(PgCell(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric_value(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::VOID => Value::Null,
            Type::JSONB => Value::Text(String::from_utf8(raw.get(1..).unwrap_or(&[]).to_vec())?),
            _ => Value::Text(String::from_utf8(raw.to_vec())?),
        }))
    }
    fn from_sql_null(
        _: &postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgCell(Value::Null))
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

/// Decode PostgreSQL's binary NUMERIC (sums and averages of integers come back as NUMERIC).
fn numeric_value(raw: &[u8]) -> Result<Value, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> Result<u16, Box<dyn std::error::Error + Sync + Send>> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated NUMERIC".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = word(1)? as i16;
    let sign = word(2)?;
    let dscale = word(3)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut value = 0f64;
    let mut whole: Option<i128> = Some(0);
    for k in 0..ndigits {
        let d = word(4 + k)?;
        let power = i32::from(weight) - k as i32;
        value += f64::from(d) * 10_000f64.powi(power);
        whole = match whole {
            Some(w) if power >= 0 => 10_000i128
                .checked_pow(power as u32)
                .and_then(|p| p.checked_mul(i128::from(d)))
                .and_then(|x| w.checked_add(x)),
            Some(w) if d == 0 => Some(w),
            _ => None,
        };
    }
    let negative = sign == 0x4000;
    if dscale == 0
        && let Some(w) = whole
        && let Ok(i) = i64::try_from(if negative { -w } else { w })
    {
        return Ok(Value::Integer(i));
    }
    Ok(Value::Real(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(i: i64) -> Vec<u8> {
        let mut out = postgres::types::private::BytesMut::new();
        numeric_from_i64(i, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn numeric_round_trips_whole_numbers_as_integers() {
        for i in [
            0i64,
            1,
            -1,
            9_999,
            10_000,
            123_456_789,
            -98_765_432_100,
            i64::MAX,
        ] {
            assert_eq!(
                numeric_value(&numeric_bytes(i)).unwrap(),
                Value::Integer(i),
                "{i} read back from NUMERIC"
            );
        }
    }

    #[test]
    fn a_fractional_numeric_reads_as_real() {
        // 12.5: ndigits 2, weight 0, sign +, dscale 1, digits [12, 5000]
        let raw: Vec<u8> = [2u16, 0, 0, 1, 12, 5000]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(numeric_value(&raw).unwrap(), Value::Real(12.5));
    }
}
