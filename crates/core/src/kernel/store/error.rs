//! The store's own error: what went wrong in the database, on either backend, kept as the
//! backend said it (SQLite's error, PostgreSQL's SQLSTATE and message) — never one backend's
//! error dressed up as the other's. Operations see it as a [`CoreError`] with the code
//! `storage`; the store itself looks at it to retry a transaction PostgreSQL aborted for a
//! serialization failure or a deadlock.

use crate::kernel::error::{CoreError, ErrorCode};

#[derive(Debug)]
pub enum StoreError {
    /// A query that had to return a row returned none (see [`Optional`]).
    NoRows,
    Sqlite(rusqlite::Error),
    /// PostgreSQL's error: its SQLSTATE (when the server sent one), its message, the statement.
    Postgres {
        state: Option<String>,
        message: String,
        sql: String,
    },
    /// A value could not be read as the type asked for.
    Decode {
        column: usize,
        message: String,
    },
    /// No connection could be had (the pool, the network).
    Connection(String),
    /// A statement of the transaction failed earlier: PostgreSQL refuses the rest and would turn
    /// COMMIT into a silent ROLLBACK, so the store refuses the commit instead.
    Aborted,
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

impl StoreError {
    /// A unique, foreign-key or check constraint refused the write.
    pub fn is_constraint(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            StoreError::Postgres { state, .. } => {
                state.as_deref().is_some_and(|s| s.starts_with("23"))
            }
            _ => false,
        }
    }

    /// PostgreSQL aborted the transaction for a serialization failure (40001) or a deadlock
    /// (40P01): running it again from the start is the remedy.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Postgres { state: Some(s), .. } if s == "40001" || s == "40P01"
        )
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NoRows => f.write_str("查询没有返回记录"),
            StoreError::Sqlite(e) => write!(f, "SQLite: {e}"),
            StoreError::Postgres {
                state,
                message,
                sql,
            } => {
                let short: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                let short: String = short.chars().take(300).collect();
                match state {
                    Some(s) => write!(f, "PostgreSQL {s}: {message} (in: {short})"),
                    None => write!(f, "PostgreSQL: {message} (in: {short})"),
                }
            }
            StoreError::Decode { column, message } => write!(f, "第 {column} 列：{message}"),
            StoreError::Connection(e) => write!(f, "无法连接数据库：{e}"),
            StoreError::Aborted => {
                f.write_str("事务中有语句失败，已整体回滚（PostgreSQL 拒绝其后的一切操作）")
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NoRows,
            rusqlite::Error::FromSqlConversionFailure(column, _, e) => StoreError::Decode {
                column,
                message: e.to_string(),
            },
            rusqlite::Error::InvalidColumnType(column, name, ty) => StoreError::Decode {
                column,
                message: format!("{name} is {ty}"),
            },
            rusqlite::Error::IntegralValueOutOfRange(column, v) => StoreError::Decode {
                column,
                message: format!("{v} out of range"),
            },
            other => StoreError::Sqlite(other),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        CoreError::new(ErrorCode::Storage, format!("数据库读写失败：{e}"))
    }
}

/// `query_row(…).optional()`: no row is `None`, not an error.
pub trait Optional<T> {
    fn optional(self) -> StoreResult<Option<T>>;
}

impl<T> Optional<T> for StoreResult<T> {
    fn optional(self) -> StoreResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
