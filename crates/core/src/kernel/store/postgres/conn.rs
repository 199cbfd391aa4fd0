//! One PostgreSQL connection of the pool: its statements prepared once each, values bound as
//! the types the server inferred, rows read back as the same values SQLite gives, errors kept as
//! PostgreSQL said them.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

use super::placeholders::numbered;
use crate::kernel::store::error::{StoreError, StoreResult};
use crate::kernel::store::sql::Row;

/// One connection, with its prepared statements.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    prepared: RefCell<HashMap<String, postgres::Statement>>,
    broken: Cell<bool>,
    /// A statement of the open transaction failed: PostgreSQL refuses everything after it and
    /// would turn COMMIT into a silent ROLLBACK, so [`PgConn::commit`] refuses instead.
    aborted: Cell<bool>,
    /// The SQLSTATE of the failure that aborted it (40001, 40P01: worth running again).
    aborted_by: RefCell<Option<StoreError>>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgConn")
    }
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> Self {
        PgConn {
            client: RefCell::new(client),
            prepared: RefCell::new(HashMap::new()),
            broken: Cell::new(false),
            aborted: Cell::new(false),
            aborted_by: RefCell::new(None),
        }
    }

    pub(crate) fn begin(&self, sql: &str) -> StoreResult<()> {
        self.aborted.set(false);
        self.aborted_by.replace(None);
        self.batch(sql)
    }

    /// COMMIT, unless a statement failed inside the transaction (then ROLLBACK, and the error
    /// that aborted it).
    pub(crate) fn commit(&self) -> StoreResult<()> {
        if self.aborted.get() {
            let _ = self.batch("ROLLBACK");
            return Err(self.aborted_by.take().unwrap_or(StoreError::Aborted));
        }
        self.batch("COMMIT")
    }

    pub(crate) fn rollback(&self) {
        let _ = self.batch("ROLLBACK");
    }

    /// The connection failed below SQL (closed, reset): the pool drops it.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.get() || self.client.borrow().is_closed()
    }

    pub(crate) fn ping(&self) -> StoreResult<()> {
        self.batch("")
    }

    fn statement(&self, sql: &str) -> StoreResult<postgres::Statement> {
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        let text = numbered(sql);
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&text)
            .map_err(|e| self.error(e, &text))?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn bind(args: &[&dyn ToSql]) -> StoreResult<Vec<PgValue>> {
        args.iter()
            .map(|a| {
                Ok(PgValue(match a.to_sql()? {
                    ToSqlOutput::Borrowed(v) => owned(v),
                    ToSqlOutput::Owned(v) => v,
                    _ => {
                        return Err(StoreError::Decode {
                            column: 0,
                            message: "unsupported parameter kind for PostgreSQL".into(),
                        });
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
    ) -> StoreResult<T> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(args)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let out = f(&mut self.client.borrow_mut(), &stmt, &refs);
        out.map_err(|e| self.error(e, sql))
    }

    pub(crate) fn execute(&self, sql: &str, args: &[&dyn ToSql]) -> StoreResult<usize> {
        let n = self.run(sql, args, |c, stmt, refs| c.execute(stmt, refs))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn query(&self, sql: &str, args: &[&dyn ToSql]) -> StoreResult<Vec<Vec<Value>>> {
        let rows = self.run(sql, args, |c, stmt, refs| c.query(stmt, refs))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<_, PgCell>(i)
                            .map(|c| c.0)
                            .map_err(|e| StoreError::Decode {
                                column: i,
                                message: e.to_string(),
                            })
                    })
                    .collect::<StoreResult<Vec<Value>>>()
            })
            .collect()
    }

    /// The first row mapped by `f` ([`StoreError::NoRows`] when there is none).
    pub(crate) fn query_first<T>(
        &self,
        sql: &str,
        args: &[&dyn ToSql],
        f: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let first = self
            .query(sql, args)?
            .into_iter()
            .next()
            .ok_or(StoreError::NoRows)?;
        f(&Row::Values(&first))
    }

    pub(crate) fn batch(&self, sql: &str) -> StoreResult<()> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| self.error(e, sql))
    }

    /// The driver's error as the store's: the transaction is now aborted (PostgreSQL refuses
    /// the rest of it), and a failure below SQL breaks the connection.
    pub(crate) fn error(&self, e: postgres::Error, sql: &str) -> StoreError {
        self.aborted.set(true);
        if e.is_closed() || e.as_db_error().is_none() && e.code().is_none() {
            self.broken.set(true);
        }
        let err = pg_error(&e, sql);
        if self.aborted_by.borrow().is_none() {
            self.aborted_by.replace(Some(pg_error(&e, sql)));
        }
        err
    }
}

/// A driver error as the store's, SQLSTATE and message kept.
pub(crate) fn pg_error(e: &postgres::Error, sql: &str) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres {
            state: Some(db.code().code().to_owned()),
            message: db.message().to_owned(),
            sql: sql.to_owned(),
        },
        None => StoreError::Postgres {
            state: e.code().map(|c| c.code().to_owned()),
            message: e.to_string(),
            sql: sql.to_owned(),
        },
    }
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

/// A value bound to a PostgreSQL parameter as the type the server inferred for it (an integer
/// into a BIGINT or a BOOLEAN parameter, a text into TEXT).
#[derive(Debug)]
struct PgValue(Value);

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
                Type::NUMERIC => {
                    Err("a NUMERIC parameter: cast it in the statement (CAST(?1 AS BIGINT))".into())
                }
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

/// One PostgreSQL result cell as the value SQLite would give: integers (and booleans, as 0/1),
/// floats, text, bytes. An arbitrary-precision NUMERIC is refused: a statement that sums or
/// averages casts the result itself (`CAST(sum(x) AS BIGINT)`).
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
            Type::NUMERIC => {
                return Err(
                    "a NUMERIC column: cast sums and averages in the statement (CAST(sum(x) AS BIGINT), CAST(avg(x) AS DOUBLE PRECISION))"
                        .into(),
                );
            }
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::VOID => Value::Null,
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
