//! Sign-in, sessions and window occupancy.
//!
//! Contract:
//! - A clerk signs in **at a window**; a window holds one clerk at a time and a clerk holds one
//!   window at a time. Two partial unique indexes on `sessions` make this true in the database
//!   itself, so two PCs signing in to the same window at once cannot both win.
//! - A sign-in to an occupied window is refused with [`ErrorCode::WindowOccupied`], naming the
//!   holder; a supervisor may release the window ([`ReleaseWindow`]).
//! - Sessions are bearer tokens (only their SHA-256 is stored) that expire after
//!   [`SESSION_HOURS`] and can be ended (sign-out, release, deactivation).
//! - Wrong login and wrong password are one error ([`ErrorCode::WrongCredentials`]) and take the
//!   same time, so the sign-in screen does not reveal which logins exist.

use std::sync::OnceLock;

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use jiff::{Timestamp, ToSpan};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Role, Staff, store};
use crate::hall::{self, WindowRef};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::{new_id, new_secret, sha256_hex};
use crate::kernel::op::{Access, Actor, Cx, Operation, StaffActor};
use crate::kernel::validate;

/// A staff session lasts one long working day.
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal(format!("密码哈希失败：{e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the login is unknown, so both failures cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("not-a-real-password-0").expect("argon2 with default params hashes")
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SignIn {
    pub login: String,
    pub password: String,
    /// Required for clerks; optional for supervisors and admins.
    #[serde(default)]
    #[ts(optional)]
    pub window_id: Option<String>,
}

/// A new session. Keep `token` in memory only; send it with every request.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SessionInfo {
    pub token: String,
    pub staff: Staff,
    pub window: Option<WindowRef>,
    pub expires_at: Timestamp,
    /// The hall's idle sign-out: minutes without input after which the counter signs this
    /// clerk out (0 = never).
    pub idle_minutes: u32,
}

impl Operation for SignIn {
    const NAME: &'static str = "auth.sign_in";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = true;
    type Response = SessionInfo;

    fn run(self, cx: &mut Cx<'_>) -> Result<SessionInfo> {
        let wrong = || CoreError::new(ErrorCode::WrongCredentials, "登录名或密码错误");
        let login = validate::login(&self.login).map_err(|_| wrong())?;
        super::lockout::check_not_locked(cx.tx, &login, cx.ms())?;
        let failed = |cx: &mut Cx<'_>| {
            let login = login.clone();
            cx.on_refusal(move |cx| super::lockout::record_failure(cx, &login));
            wrong()
        };
        let Some((staff, phc)) = store::find_by_login(cx.tx, &login)? else {
            verify_password(&self.password, dummy_hash());
            return Err(failed(cx));
        };
        if !verify_password(&self.password, &phc) {
            return Err(failed(cx));
        }
        super::lockout::clear(cx.tx, &login)?;
        if !staff.active {
            return Err(CoreError::new(
                ErrorCode::StaffInactive,
                "该账号已停用，请联系分管领导",
            ));
        }
        let window = match self.window_id.as_deref().filter(|w| !w.trim().is_empty()) {
            None if staff.role == Role::Clerk => {
                return Err(CoreError::new(
                    ErrorCode::WindowRequired,
                    "窗口人员须选择所在窗口登录",
                )
                .field("window_id"));
            }
            None => None,
            Some(wid) => {
                let wid = validate::id("window_id", "窗口", wid)?;
                let w = hall::window_ref(cx.tx, &wid)?;
                if !w.active {
                    return Err(CoreError::new(
                        ErrorCode::WindowInactive,
                        format!("{}号窗口已停用", w.number),
                    )
                    .field("window_id")
                    .param("window", w.number));
                }
                Some(w)
            }
        };
        let now = cx.ms();
        // The staff member's own open window session (another window, or this one after a
        // restart) ends: a clerk is at one window at a time.
        let mut notes = Vec::new();
        if window.is_some() {
            let moved = tx_end_where(
                cx.tx,
                "staff_id = ?1 AND window_id IS NOT NULL",
                &staff.id,
                "moved",
                now,
            )?;
            if moved > 0 {
                notes.push("结束其在其他窗口的登录".to_owned());
            }
        }
        if let Some(w) = &window {
            if let Some(holder) = window_holder(cx.tx, &w.id, now)? {
                return Err(CoreError::new(
                    ErrorCode::WindowOccupied,
                    format!(
                        "{}号窗口已由{}登录，请先由其退出或由分管领导释放",
                        w.number, holder.name
                    ),
                )
                .field("window_id")
                .param("window", w.number)
                .param("holder", &holder.name));
            }
            // A stale (expired but never ended) session no longer occupies the window.
            tx_end_where(
                cx.tx,
                "window_id = ?1 AND expires_at <= ?3",
                &w.id,
                "expired",
                now,
            )?;
        }
        let token = new_secret();
        let session_id = new_id();
        let expires_at = cx
            .now
            .checked_add(SESSION_HOURS.hours())
            .map_err(|e| CoreError::internal(e.to_string()))?;
        cx.tx.execute(
            "INSERT INTO sessions (id, token_hash, staff_id, window_id, started_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                session_id,
                sha256_hex(token.as_bytes()),
                staff.id,
                window.as_ref().map(|w| &w.id),
                now,
                to_ms(expires_at)
            ],
        )?;
        let actor = Actor::Staff(StaffActor {
            staff_id: staff.id.clone(),
            session_id: session_id.clone(),
            name: staff.name.clone(),
            role: staff.role,
            window_id: window.as_ref().map(|w| w.id.clone()),
            must_change_password: staff.must_change_password,
        });
        let place = window
            .as_ref()
            .map(|w| format!("在{}号窗口", w.number))
            .unwrap_or_default();
        let summary = std::iter::once(format!("{}（{}）{place}登录", staff.name, staff.login))
            .chain(notes)
            .collect::<Vec<_>>()
            .join("；");
        cx.record_as(
            actor,
            Topic::Session,
            AuditDraft::new("session", Some(&session_id), summary)
                .after(serde_json::json!({"window": window.as_ref().map(|w| w.number)})),
        )?;
        let idle_minutes = super::lockout::settings(cx.tx)?.idle_minutes;
        Ok(SessionInfo {
            token,
            staff,
            window,
            expires_at,
            idle_minutes,
        })
    }
}

#[derive(Debug, Clone)]
struct Holder {
    name: String,
}

/// Who holds window `window_id` right now (an unexpired, unended session).
fn window_holder(tx: &Tx<'_>, window_id: &str, now: i64) -> Result<Option<Holder>> {
    Ok(tx
        .query_row(
            "SELECT st.name FROM sessions s JOIN staff st ON st.id = s.staff_id
             WHERE s.window_id = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2",
            params![window_id, now],
            |r| Ok(Holder { name: r.get(0)? }),
        )
        .optional()?)
}

/// End open sessions matching `cond` (with `?1` = key, `?2` = reason, `?3` = now).
fn tx_end_where(tx: &Tx<'_>, cond: &str, key: &str, reason: &str, now: i64) -> Result<usize> {
    Ok(tx.execute(
        &format!(
            "UPDATE sessions SET ended_at = ?3, ended_reason = ?2 WHERE ended_at IS NULL AND {cond}"
        ),
        params![key, reason, now],
    )?)
}

pub(crate) fn end_sessions_of(
    tx: &Tx<'_>,
    staff_id: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    tx_end_where(tx, "staff_id = ?1", staff_id, reason, now)
}

/// End this session. The window becomes free.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SignOut {
    /// Why: the clerk signed out, or the counter saw no input for the hall's `idle_minutes`
    /// (the clerk left the window).
    #[serde(default)]
    #[ts(optional)]
    pub reason: Option<SignOutReason>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SignOutReason {
    #[default]
    Clerk,
    Idle,
}

impl Operation for SignOut {
    const NAME: &'static str = "auth.sign_out";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    const BEFORE_PASSWORD_CHANGE: bool = true;
    type Response = ();
    fn run(self, cx: &mut Cx<'_>) -> Result<()> {
        let me = cx.actor.staff()?.clone();
        let reason = self.reason.unwrap_or_default();
        let (ended, why) = match reason {
            SignOutReason::Clerk => ("signed_out", String::new()),
            SignOutReason::Idle => (
                "idle",
                format!(
                    "（离开窗口：{} 分钟无操作，自动退出）",
                    super::lockout::settings(cx.tx)?.idle_minutes
                ),
            ),
        };
        tx_end_where(cx.tx, "id = ?1", &me.session_id, ended, cx.ms())?;
        let place = match &me.window_id {
            Some(w) => format!("从{}号窗口", hall::window_ref(cx.tx, w)?.number),
            None => String::new(),
        };
        cx.record(
            Topic::Session,
            AuditDraft::new(
                "session",
                Some(&me.session_id),
                format!("{}{place}退出登录{why}", me.name),
            ),
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

impl Operation for ChangePassword {
    const NAME: &'static str = "auth.change_password";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    const BEFORE_PASSWORD_CHANGE: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let me = cx.actor.staff()?.clone();
        if !verify_password(
            &self.old_password,
            &store::password_hash(cx.tx, &me.staff_id)?,
        ) {
            return Err(
                CoreError::new(ErrorCode::WrongCredentials, "原密码不正确").field("old_password")
            );
        }
        validate::password("new_password", &self.new_password)?;
        if self.new_password == self.old_password {
            return Err(
                CoreError::new(ErrorCode::WeakPassword, "新密码不能与原密码相同")
                    .field("new_password"),
            );
        }
        store::set_password(
            cx.tx,
            &me.staff_id,
            &hash_password(&self.new_password)?,
            false,
            cx.ms(),
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&me.staff_id),
                format!("{}修改了自己的密码", me.name),
            ),
        )?;
        store::get(cx.tx, &me.staff_id)
    }
}

/// The signed-in staff member and their window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WhoAmI {}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Me {
    pub staff: Staff,
    pub window: Option<WindowRef>,
}

impl Operation for WhoAmI {
    const NAME: &'static str = "auth.whoami";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    const BEFORE_PASSWORD_CHANGE: bool = true;
    type Response = Me;
    fn run(self, cx: &mut Cx<'_>) -> Result<Me> {
        let me = cx.actor.staff()?.clone();
        let window = me
            .window_id
            .as_deref()
            .map(|w| hall::window_ref(cx.tx, w))
            .transpose()?;
        Ok(Me {
            staff: store::get(cx.tx, &me.staff_id)?,
            window,
        })
    }
}

/// A supervisor frees a window whose clerk left without signing out.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReleaseWindow {
    pub window_id: String,
    pub reason: String,
}

impl Operation for ReleaseWindow {
    const NAME: &'static str = "auth.release_window";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = WindowRef;
    fn run(self, cx: &mut Cx<'_>) -> Result<WindowRef> {
        let wid = validate::id("window_id", "窗口", &self.window_id)?;
        let reason = validate::text("reason", "释放原因", &self.reason, 100)?;
        let w = hall::window_ref(cx.tx, &wid)?;
        let holder = window_holder(cx.tx, &wid, cx.ms())?;
        let n = tx_end_where(cx.tx, "window_id = ?1", &wid, "released", cx.ms())?;
        if n == 0 {
            return Err(CoreError::new(
                ErrorCode::NotFound,
                format!("{}号窗口当前无人登录，无需释放", w.number),
            )
            .field("window_id")
            .param("what", "窗口登录")
            .param("id", w.number));
        }
        let who = holder
            .map(|h| h.name)
            .unwrap_or_else(|| "（已超时的登录）".into());
        cx.record(
            Topic::Session,
            AuditDraft::new(
                "window",
                Some(&wid),
                format!("释放{}号窗口（原登录：{who}），原因：{reason}", w.number),
            ),
        )?;
        Ok(w)
    }
}

/// Open sessions at windows (for the hall board): window id → (staff name, since).
pub(crate) fn occupancy(
    tx: &Tx<'_>,
    now: Timestamp,
) -> Result<Vec<(String, String, String, Timestamp)>> {
    let mut stmt = tx.prepare(
        "SELECT s.window_id, st.id, st.name, s.started_at FROM sessions s JOIN staff st ON st.id = s.staff_id
         WHERE s.window_id IS NOT NULL AND s.ended_at IS NULL AND s.expires_at > ?1",
    )?;
    let rows = stmt.query_map([to_ms(now)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, from_ms(r.get(3)?)))
    })?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// On a brand-new database: create the hall record and the first admin with a random one-time
/// password, which is returned once (to be shown to whoever installs the hall) and must be
/// changed at first sign-in. Does nothing (returns `None`) when any staff account exists.
pub fn bootstrap(s: &crate::Store, now: Timestamp) -> Result<Option<FirstAdmin>> {
    s.write(|tx| {
        if store::count(tx)? > 0 {
            return Ok(None);
        }
        let actor = Actor::System("bootstrap".into());
        hall::ensure_hall(tx, &actor, now)?;
        let password = one_time_password();
        let id = new_id();
        store::insert(
            tx,
            &id,
            "admin",
            "系统管理员",
            Role::Admin,
            &hash_password(&password)?,
            true,
            to_ms(now),
        )?;
        crate::kernel::audit::append(
            tx,
            &actor,
            Some("bootstrap"),
            "staff.bootstrap_admin",
            now,
            AuditDraft::new(
                "staff",
                Some(&id),
                "新建首个系统管理员 admin（一次性密码，首次登录须修改）",
            ),
        )?;
        Ok(Some(FirstAdmin {
            login: "admin".into(),
            one_time_password: password,
        }))
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FirstAdmin {
    pub login: String,
    pub one_time_password: String,
}

/// 12 characters from an alphabet without look-alikes (no 0/O, 1/l/I), with letters and digits.
pub(crate) fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    loop {
        let mut buf = [0u8; 12];
        getrandom::fill(&mut buf).expect("the OS random source is available");
        let pw: String = buf
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        if validate::password("p", &pw).is_ok() {
            return pw;
        }
    }
}

/// The staff actor behind a session token, looked up in the operation's own transaction (a
/// session revoked a moment ago cannot slip through). The kernel calls this through the wiring.
pub(crate) fn resolve_session(tx: &Tx<'_>, token: &str, now: Timestamp) -> Result<Actor> {
    let row = tx
        .query_row(
            "SELECT s.id, s.staff_id, s.window_id, s.expires_at, s.ended_at,
                    st.name, st.role, st.active, st.must_change_password
             FROM sessions s JOIN staff st ON st.id = s.staff_id
             WHERE s.token_hash = ?1",
            [sha256_hex(token.as_bytes())],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, bool>(8)?,
                ))
            },
        )
        .optional()?;
    let Some((
        session_id,
        staff_id,
        window_id,
        expires_at,
        ended_at,
        name,
        role,
        active,
        must_change,
    )) = row
    else {
        return Err(CoreError::new(
            ErrorCode::Unauthenticated,
            "登录凭证无效，请重新登录",
        ));
    };
    if ended_at.is_some() || expires_at <= to_ms(now) {
        return Err(CoreError::new(
            ErrorCode::SessionExpired,
            "登录已失效（已退出、超时或被释放），请重新登录",
        ));
    }
    if !active {
        return Err(CoreError::new(ErrorCode::StaffInactive, "该账号已停用"));
    }
    Ok(Actor::Staff(StaffActor {
        staff_id,
        session_id,
        name,
        role: Role::parse(&role)?,
        window_id,
        must_change_password: must_change,
    }))
}

/// A window may not be deactivated while a clerk is signed in at it (they must sign out, or a
/// supervisor releases the window first). Run by the reactions on `window.closing`.
pub fn refuse_if_occupied(tx: &Tx<'_>, window_id: &str, number: u32, now: Timestamp) -> Result<()> {
    let holder: Option<String> = tx
        .query_row(
            "SELECT st.name FROM sessions s JOIN staff st ON st.id = s.staff_id
             WHERE s.window_id = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2",
            params![window_id, to_ms(now)],
            |r| r.get(0),
        )
        .optional()?;
    match holder {
        Some(h) => Err(CoreError::new(
            ErrorCode::WindowOccupied,
            format!("{number}号窗口当前由{h}登录，请先退出或释放后再停用"),
        )
        .param("window", number)
        .param("holder", h)),
        None => Ok(()),
    }
}
