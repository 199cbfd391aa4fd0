//! SQL for the `staff` table.

use crate::kernel::store::Optional;
use crate::kernel::store::{Row, Tx};
use rusqlite::params;

use super::{Role, Staff};
use crate::kernel::clock::from_ms;
use crate::kernel::error::{CoreError, ErrorCode, Result};

const COLS: &str = "id, login, name, role, active, must_change_password, created_at, updated_at,
    staff_number, photo IS NOT NULL";

fn row(r: &Row<'_>) -> crate::kernel::store::StoreResult<(Staff, String)> {
    let role: String = r.get(3)?;
    Ok((
        Staff {
            id: r.get(0)?,
            login: r.get(1)?,
            name: r.get(2)?,
            role: Role::Clerk,
            active: r.get(4)?,
            must_change_password: r.get(5)?,
            created_at: from_ms(r.get(6)?),
            updated_at: from_ms(r.get(7)?),
            staff_number: r.get(8)?,
            has_photo: r.get(9)?,
        },
        role,
    ))
}

fn finish((mut s, role): (Staff, String)) -> Result<Staff> {
    s.role = Role::parse(&role)?;
    Ok(s)
}

pub fn get(tx: &Tx<'_>, id: &str) -> Result<Staff> {
    let found = tx
        .query_row(
            &format!("SELECT {COLS} FROM staff WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?;
    finish(found.ok_or_else(|| CoreError::not_found("人员", id).field("id"))?)
}

pub fn find_by_login(tx: &Tx<'_>, login: &str) -> Result<Option<(Staff, String)>> {
    let found = tx
        .query_row(
            &format!("SELECT {COLS}, password_hash FROM staff WHERE login = ?1"),
            [login],
            |r| Ok((row(r)?, r.get::<_, String>(10)?)),
        )
        .optional()?;
    found.map(|(s, hash)| Ok((finish(s)?, hash))).transpose()
}

pub fn password_hash(tx: &Tx<'_>, id: &str) -> Result<String> {
    Ok(
        tx.query_row("SELECT password_hash FROM staff WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

pub fn list(tx: &Tx<'_>, include_inactive: bool) -> Result<Vec<Staff>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLS} FROM staff WHERE active = 1 OR ?1 ORDER BY CASE role WHEN 'admin' THEN 2 WHEN 'supervisor' THEN 1 ELSE 0 END, login"
    ))?;
    let rows = stmt
        .query_map([include_inactive], row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    rows.into_iter().map(finish).collect()
}

pub fn count(tx: &Tx<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))?)
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    tx: &Tx<'_>,
    id: &str,
    login: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    must_change: bool,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO staff (id, login, name, role, active, password_hash, must_change_password, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?7)",
        params![id, login, name, role.as_str(), password_hash, must_change, now],
    )?;
    Ok(())
}

pub fn update(tx: &Tx<'_>, id: &str, name: &str, role: Role, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE staff SET name = ?2, role = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, name, role.as_str(), now],
    )?;
    Ok(())
}

pub fn set_active(tx: &Tx<'_>, id: &str, active: bool, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE staff SET active = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, active, now],
    )?;
    Ok(())
}

pub fn set_password(tx: &Tx<'_>, id: &str, hash: &str, must_change: bool, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE staff SET password_hash = ?2, must_change_password = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, hash, must_change, now],
    )?;
    Ok(())
}

/// Refuse a change that would leave no active admin other than `id`.
pub fn ensure_another_admin(tx: &Tx<'_>, id: &str) -> Result<()> {
    let others: i64 = tx.query_row(
        "SELECT count(*) FROM staff WHERE role = 'admin' AND active = 1 AND id <> ?1",
        [id],
        |r| r.get(0),
    )?;
    if others == 0 {
        return Err(CoreError::new(
            ErrorCode::LastAdmin,
            "这是最后一个启用的系统管理员账号，不能停用或降级",
        ));
    }
    Ok(())
}

/// The demo hall's documented accounts: nobody must change the published password.
pub fn waive_password_change_for_all(tx: &Tx<'_>) -> Result<()> {
    tx.execute("UPDATE staff SET must_change_password = 0", [])?;
    Ok(())
}

/// Set the staff number and photo the window's rater shows (`photo`: `None` keeps it, empty
/// removes it).
pub fn set_face(
    tx: &Tx<'_>,
    id: &str,
    staff_number: &str,
    photo: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    match photo {
        None => tx.execute(
            "UPDATE staff SET staff_number = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, staff_number, now_ms],
        )?,
        Some(p) => tx.execute(
            "UPDATE staff SET staff_number = ?2, photo = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, staff_number, (!p.is_empty()).then_some(p), now_ms],
        )?,
    };
    Ok(())
}
