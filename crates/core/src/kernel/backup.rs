//! Backups and restore (数据安全). A hall's records are legal evidence, so a copy must be
//! complete and a restore must never leave a half-written database behind.
//!
//! Contract:
//! - [`Store::backup`] copies the live database with SQLite's online backup API (the hall keeps
//!   working), into a temporary file that is checked (`PRAGMA integrity_check`), fsynced and
//!   only then renamed to its name: a backup either exists whole or not at all.
//! - [`Store::scheduled_backup`] does the same into `backups/scheduled/` beside the database and
//!   keeps the newest `keep` copies (the interval and retention are the caller's settings).
//! - [`restore`] first checks the file (a OneTrip database, intact, not from a newer build, its
//!   audit chain verified), copies it next to the live file, moves the live file (and its WAL)
//!   aside into `backups/`, then renames the copy into place. The app or server must be stopped.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::kernel::error::{CoreError, ErrorCode, Result};
pub use crate::kernel::store::backups_of as scheduled_backups;
use crate::kernel::store::{
    SCHEMA_VERSION, Store, Tx, backup_connection, backup_dir, backup_stamp, inspect, prune_backups,
    schema_too_new, stem_of,
};

/// What a database file holds, checked without writing to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    pub path: PathBuf,
    pub schema: u32,
    pub audit_rows: i64,
}

/// Check a file: a OneTrip database, `integrity_check` ok, not newer than this build, and an
/// audit chain that verifies. Nothing is written.
pub fn check_file(path: &Path) -> Result<FileCheck> {
    if !path.is_file() {
        return Err(CoreError::not_found("备份文件", path.display().to_string()));
    }
    let (schema, has_schema) = inspect(path)?;
    if !has_schema {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            format!("{} 是空数据库，不能用于恢复", path.display()),
        ));
    }
    if schema > SCHEMA_VERSION {
        return Err(schema_too_new(path, schema));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(CoreError::new(
            ErrorCode::Storage,
            format!("{} 已损坏（integrity_check：{integrity}）", path.display()),
        ));
    }
    let tx = conn.unchecked_transaction()?;
    let chain = crate::kernel::audit::verify(&Tx::sqlite(&tx))?;
    if let Some(b) = chain.first_broken {
        return Err(CoreError::new(
            ErrorCode::Storage,
            format!(
                "{} 的审计链在第 {} 条（{}）处断开，拒绝恢复",
                path.display(),
                b.seq,
                b.at
            ),
        )
        .param("seq", b.seq));
    }
    Ok(FileCheck {
        path: path.to_owned(),
        schema,
        audit_rows: chain.rows,
    })
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes the rename durable; not every platform allows opening a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Copy `conn`'s database to `dest` whole or not at all.
fn atomic_copy(conn: &Connection, dest: &Path) -> Result<FileCheck> {
    let dir = parent_of(dest);
    std::fs::create_dir_all(dir)?;
    let tmp = dest.with_extension("sqlite.partial");
    let _ = std::fs::remove_file(&tmp);
    backup_connection(conn, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    let checked = check_file(&tmp);
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dest)?;
    sync_dir(dir);
    Ok(FileCheck {
        path: dest.to_owned(),
        ..checked?
    })
}

impl Store {
    /// An online backup of the live database to `dest` (see the module docs).
    pub fn backup(&self, dest: &Path) -> Result<FileCheck> {
        if dest == self.path() {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "备份文件不能是数据库本身",
            ));
        }
        let conn = self.lock()?;
        atomic_copy(&conn, dest)
    }

    /// A scheduled backup into `backups/scheduled/<stem>-<time>.sqlite`; keeps the newest `keep`.
    pub fn scheduled_backup(&self, now: Timestamp, keep: usize) -> Result<FileCheck> {
        let dir = scheduled_dir(self.path());
        let stem = stem_of(self.path());
        let out = self.backup(&dir.join(format!("{stem}-{}.sqlite", backup_stamp(now))))?;
        prune_backups(&dir, &stem, keep.max(1))?;
        Ok(out)
    }
}

/// Where scheduled backups of the database at `db` go.
pub fn scheduled_dir(db: &Path) -> PathBuf {
    backup_dir(db).join("scheduled")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub restored: FileCheck,
    /// Where the file that was live before the restore now is (`None` when there was none).
    pub previous: Option<PathBuf>,
}

/// Replace the database at `db` by the backup `from` (see the module docs). Run it with the app
/// and server stopped; the next open migrates an older backup as usual.
pub fn restore(db: &Path, from: &Path, now: Timestamp) -> Result<RestoreReport> {
    let checked = check_file(from)?;
    let dir = parent_of(db);
    std::fs::create_dir_all(dir)?;
    let staged = db.with_extension("sqlite.restoring");
    {
        let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let _ = std::fs::remove_file(&staged);
        backup_connection(&src, &staged)?;
        std::fs::File::open(&staged)?.sync_all()?;
    }
    check_file(&staged).inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })?;
    let previous = if db.exists() {
        // Fold the WAL into the main file so the copy kept aside is complete on its own.
        {
            let live = Connection::open(db)?;
            live.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        let aside_dir = backup_dir(db);
        std::fs::create_dir_all(&aside_dir)?;
        let aside = aside_dir.join(format!(
            "{}-{}-before-restore.sqlite",
            stem_of(db),
            backup_stamp(now)
        ));
        std::fs::rename(db, &aside)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = db.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                std::fs::remove_file(side)?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staged, db)?;
    sync_dir(dir);
    Ok(RestoreReport {
        restored: FileCheck {
            path: db.to_owned(),
            ..checked
        },
        previous,
    })
}
