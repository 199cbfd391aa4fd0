//! Sign-in throttling and lock-out (登录失败锁定).
//!
//! Contract:
//! - Every failed sign-in (wrong password, unknown login) counts for the login name typed,
//!   known or not, so a lock says nothing about which accounts exist. The count is written
//!   even though the sign-in itself is refused and rolled back ([`crate::kernel::op::Cx::on_refusal`]),
//!   with its own audit row.
//! - After `max_failures` consecutive failures the login is locked for `lock_minutes`: sign-in
//!   answers `account_locked` (with the time it ends) without checking the password. A
//!   successful sign-in clears the count; a supervisor may unlock early (`auth.unlock`).
//! - Both limits are hall settings (`security.settings`, admins change them).
//! - So is `idle_minutes`: a counter left without input that long signs its clerk out
//!   (`auth.sign_out` with reason `idle`), so nobody acts under the name of a clerk who left the
//!   window (AB岗: the window is then free for the backup clerk). 0 turns it off.

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_minute};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SecuritySettings {
    /// Consecutive failed sign-ins that lock a login (3–20).
    pub max_failures: u32,
    /// How long the lock lasts, in minutes (1–1440).
    pub lock_minutes: u32,
    /// Minutes without input after which a counter signs its clerk out (0 = never, up to 240).
    pub idle_minutes: u32,
}

pub(crate) fn settings(tx: &Tx<'_>) -> Result<SecuritySettings> {
    Ok(tx.query_row(
        "SELECT max_failures, lock_minutes, idle_minutes FROM security_settings WHERE id = 1",
        [],
        |r| {
            Ok(SecuritySettings {
                max_failures: r.get(0)?,
                lock_minutes: r.get(1)?,
                idle_minutes: r.get(2)?,
            })
        },
    )?)
}

fn hhmm(ms: i64) -> String {
    validate::fmt_hhmm(hall_minute(from_ms(ms)))
}

/// Refuse at once when `login` is locked now.
pub(crate) fn check_not_locked(tx: &Tx<'_>, login: &str, now_ms: i64) -> Result<()> {
    let until: Option<i64> = tx
        .query_row(
            "SELECT locked_until FROM sign_in_failures WHERE login = ?1",
            [login],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    match until {
        Some(until) if until > now_ms => Err(CoreError::new(
            ErrorCode::AccountLocked,
            format!("登录失败次数过多，账号已锁定至 {}", hhmm(until)),
        )
        .param("until", hhmm(until))),
        _ => Ok(()),
    }
}

/// A successful sign-in clears the count.
pub(crate) fn clear(tx: &Tx<'_>, login: &str) -> Result<()> {
    tx.execute("DELETE FROM sign_in_failures WHERE login = ?1", [login])?;
    Ok(())
}

/// Count one failure for `login` (run after the refused sign-in rolled back).
pub(crate) fn record_failure(cx: &mut Cx<'_>, login: &str) -> Result<()> {
    let s = settings(cx.tx)?;
    let now = cx.ms();
    let before: Option<(u32, Option<i64>)> = cx
        .tx
        .query_row(
            "SELECT failures, locked_until FROM sign_in_failures WHERE login = ?1",
            [login],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    // A lock that has run out starts a fresh count.
    let failures = match before {
        Some((_, Some(until))) if until <= now => 1,
        Some((n, _)) => n + 1,
        None => 1,
    };
    let locked_until =
        (failures >= s.max_failures).then(|| now + i64::from(s.lock_minutes) * 60_000);
    cx.tx.execute(
        "INSERT INTO sign_in_failures (login, failures, last_at, locked_until) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(login) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at,
                                          locked_until = excluded.locked_until",
        params![login, failures, now, locked_until],
    )?;
    let summary = match locked_until {
        Some(until) => format!(
            "登录名 {login} 连续 {failures} 次登录失败，锁定至 {}",
            hhmm(until)
        ),
        None => format!("登录名 {login} 登录失败（连续第 {failures} 次）"),
    };
    cx.record(
        Topic::Session,
        AuditDraft::new("login", Some(login), summary).after(serde_json::json!({
            "failures": failures, "locked_until": locked_until.map(from_ms)
        })),
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetSecuritySettings {}

impl Operation for GetSecuritySettings {
    const NAME: &'static str = "security.settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = SecuritySettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<SecuritySettings> {
        settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateSecuritySettings {
    pub settings: SecuritySettings,
}

impl Operation for UpdateSecuritySettings {
    const NAME: &'static str = "security.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = SecuritySettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<SecuritySettings> {
        let before = settings(cx.tx)?;
        let s = &self.settings;
        let max = validate::range_i64(
            "max_failures",
            "连续失败次数",
            i64::from(s.max_failures),
            3,
            20,
        )?;
        let minutes = validate::range_i64(
            "lock_minutes",
            "锁定时长（分钟）",
            i64::from(s.lock_minutes),
            1,
            1440,
        )?;
        let idle = validate::range_i64(
            "idle_minutes",
            "无操作自动退出（分钟）",
            i64::from(s.idle_minutes),
            0,
            240,
        )?;
        cx.tx.execute(
            "UPDATE security_settings SET max_failures = ?1, lock_minutes = ?2, idle_minutes = ?3, updated_at = ?4 WHERE id = 1",
            params![max, minutes, idle, cx.ms()],
        )?;
        let after = settings(cx.tx)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "security_settings",
                None,
                format!(
                    "登录安全设置：连续失败 {} 次锁定 {} 分钟；窗口无操作 {} 分钟自动退出",
                    after.max_failures,
                    after.lock_minutes,
                    if after.idle_minutes == 0 {
                        "不".to_owned()
                    } else {
                        after.idle_minutes.to_string()
                    }
                ),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// A supervisor lifts a lock before it runs out (the clerk is at the counter, identity checked).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UnlockSignIn {
    pub login: String,
}

impl Operation for UnlockSignIn {
    const NAME: &'static str = "auth.unlock";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = crate::kernel::op::Empty;
    fn run(self, cx: &mut Cx<'_>) -> Result<crate::kernel::op::Empty> {
        let login = validate::login(&self.login)?;
        let n = cx
            .tx
            .execute("DELETE FROM sign_in_failures WHERE login = ?1", [&login])?;
        if n == 0 {
            return Err(CoreError::not_found("登录失败记录", &login).field("login"));
        }
        cx.record(
            Topic::Session,
            AuditDraft::new(
                "login",
                Some(&login),
                format!("解除登录名 {login} 的登录锁定"),
            ),
        )?;
        Ok(crate::kernel::op::Empty {})
    }
}
