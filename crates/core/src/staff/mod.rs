//! Staff accounts (窗口人员, 分管领导, 系统管理员) and their management.
//!
//! Contract:
//! - Roles are ordered clerk < supervisor < admin; access checks in [`crate::kernel::op`] use that order.
//! - Passwords are stored only as Argon2id PHC strings. A password set by someone else (a new
//!   account, a reset, the first admin's one-time password) must be changed at next sign-in.
//! - Supervisors manage clerks and supervisors; only an admin creates, edits or promotes an
//!   admin. The hall always keeps at least one active admin ([`ErrorCode::LastAdmin`]).

pub mod auth;
pub mod import;
pub mod inbox;
pub mod lockout;
pub(crate) mod store;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::validate;

pub const NAME_MAX: usize = 20;

pub use crate::kernel::op::Role;

/// A staff member as every client sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Staff {
    pub id: String,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    /// 工号, shown to applicants on the window's rater (empty: not set).
    pub staff_number: String,
    /// Whether a photo for the rater is on file (the photo itself is not listed).
    pub has_photo: bool,
}

/// List staff accounts (supervisors and admins).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListStaff {
    pub include_inactive: bool,
}

impl Operation for ListStaff {
    const NAME: &'static str = "staff.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<Staff>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Staff>> {
        store::list(cx.tx, self.include_inactive)
    }
}

/// Create an account. The initial password must be changed at first sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CreateStaff {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub initial_password: String,
}

/// Only an admin may touch admin accounts or hand out the admin role.
fn guard_admin_rights(actor: &Actor, target_roles: &[Role]) -> Result<()> {
    let is_admin = matches!(actor, Actor::System(_))
        || matches!(actor, Actor::Staff(s) if s.role == Role::Admin);
    if target_roles.contains(&Role::Admin) && !is_admin {
        return Err(CoreError::forbidden("只有系统管理员可以管理管理员账号"));
    }
    Ok(())
}

impl Operation for CreateStaff {
    const NAME: &'static str = "staff.create";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let login = validate::login(&self.login)?;
        let name = validate::text("name", "姓名", &self.name, NAME_MAX)?;
        validate::password("initial_password", &self.initial_password)?;
        guard_admin_rights(&cx.actor, &[self.role])?;
        if store::find_by_login(cx.tx, &login)?.is_some() {
            return Err(CoreError::new(
                ErrorCode::DuplicateLogin,
                format!("登录名“{login}”已被使用"),
            )
            .field("login")
            .param("login", &login));
        }
        let id = new_id();
        let hash = auth::hash_password(&self.initial_password)?;
        store::insert(cx.tx, &id, &login, &name, self.role, &hash, true, cx.ms())?;
        let staff = store::get(cx.tx, &id)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&id),
                format!("新建账号 {login}（{name}，{}）", self.role.label()),
            )
            .after(&staff),
        )?;
        Ok(staff)
    }
}

/// Change a staff member's name or role.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateStaff {
    pub id: String,
    pub name: String,
    pub role: Role,
}

impl Operation for UpdateStaff {
    const NAME: &'static str = "staff.update";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let id = validate::id("id", "人员", &self.id)?;
        let name = validate::text("name", "姓名", &self.name, NAME_MAX)?;
        let before = store::get(cx.tx, &id)?;
        guard_admin_rights(&cx.actor, &[before.role, self.role])?;
        if before.role == Role::Admin && self.role != Role::Admin && before.active {
            store::ensure_another_admin(cx.tx, &id)?;
        }
        store::update(cx.tx, &id, &name, self.role, cx.ms())?;
        let after = store::get(cx.tx, &id)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&id),
                format!(
                    "修改账号 {}：{}→{}，{}→{}",
                    before.login,
                    before.name,
                    after.name,
                    before.role.label(),
                    after.role.label()
                ),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// The largest photo accepted (the data URL's length): a passport photo as JPEG is ~30 KB.
pub const PHOTO_MAX: usize = 400 * 1024;

/// Set what the applicant sees of a clerk on the window's rater: the staff number (工号) and a
/// photo (a JPEG or PNG data URL). `photo`: absent keeps the one on file, empty removes it (the
/// rater then draws a silhouette).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetStaffFace {
    pub id: String,
    pub staff_number: String,
    #[serde(default)]
    pub photo: Option<String>,
}

/// A photo as uploaded: a `data:image/jpeg|png;base64,` URL whose bytes are that image.
fn check_photo(photo: &str) -> Result<()> {
    use base64::Engine;
    let bad =
        || CoreError::new(ErrorCode::InvalidFormat, "照片须为 JPEG 或 PNG 图片").field("photo");
    if photo.len() > PHOTO_MAX {
        return Err(CoreError::new(
            ErrorCode::TooLong,
            format!("照片过大（不超过 {} KB）", PHOTO_MAX / 1024),
        )
        .field("photo")
        .param("max", PHOTO_MAX));
    }
    let (magic, data): (&[u8], &str) =
        if let Some(d) = photo.strip_prefix("data:image/jpeg;base64,") {
            (&[0xFF, 0xD8, 0xFF], d)
        } else if let Some(d) = photo.strip_prefix("data:image/png;base64,") {
            (&[0x89, b'P', b'N', b'G'], d)
        } else {
            return Err(bad());
        };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| bad())?;
    if !bytes.starts_with(magic) {
        return Err(bad());
    }
    Ok(())
}

impl Operation for SetStaffFace {
    const NAME: &'static str = "staff.set_face";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let id = validate::id("id", "人员", &self.id)?;
        let number = self.staff_number.trim();
        if number.chars().count() > 20
            || !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "工号只能由字母、数字和“-”组成，不超过 20 位",
            )
            .field("staff_number"));
        }
        if let Some(p) = self.photo.as_deref().filter(|p| !p.is_empty()) {
            check_photo(p)?;
        }
        let before = store::get(cx.tx, &id)?;
        store::set_face(cx.tx, &id, number, self.photo.as_deref(), cx.ms())?;
        let after = store::get(cx.tx, &id)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&id),
                format!(
                    "设置 {} 的工号{}与照片",
                    after.name,
                    if number.is_empty() {
                        String::new()
                    } else {
                        format!(" {number} ")
                    }
                ),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// Deactivate (or reactivate) an account. Deactivating ends its sessions and frees its window.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetStaffActive {
    pub id: String,
    pub active: bool,
}

impl Operation for SetStaffActive {
    const NAME: &'static str = "staff.set_active";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let id = validate::id("id", "人员", &self.id)?;
        let before = store::get(cx.tx, &id)?;
        guard_admin_rights(&cx.actor, &[before.role])?;
        if let Actor::Staff(me) = &cx.actor
            && me.staff_id == id
            && !self.active
        {
            return Err(CoreError::forbidden("不能停用自己的账号"));
        }
        if before.role == Role::Admin && !self.active {
            store::ensure_another_admin(cx.tx, &id)?;
        }
        store::set_active(cx.tx, &id, self.active, cx.ms())?;
        let ended = if self.active {
            0
        } else {
            auth::end_sessions_of(cx.tx, &id, "deactivated", cx.ms())?
        };
        let after = store::get(cx.tx, &id)?;
        let verb = if self.active { "启用" } else { "停用" };
        let extra = if ended > 0 {
            format!("，结束其 {ended} 个登录")
        } else {
            String::new()
        };
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&id),
                format!("{verb}账号 {}（{}）{extra}", before.login, before.name),
            )
            .before(serde_json::json!({"active": before.active}))
            .after(serde_json::json!({"active": after.active})),
        )?;
        Ok(after)
    }
}

/// Set a new password for someone who forgot theirs; they must change it at next sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ResetStaffPassword {
    pub id: String,
    pub new_password: String,
}

impl Operation for ResetStaffPassword {
    const NAME: &'static str = "staff.reset_password";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Staff;
    fn run(self, cx: &mut Cx<'_>) -> Result<Staff> {
        let id = validate::id("id", "人员", &self.id)?;
        validate::password("new_password", &self.new_password)?;
        let before = store::get(cx.tx, &id)?;
        guard_admin_rights(&cx.actor, &[before.role])?;
        store::set_password(
            cx.tx,
            &id,
            &auth::hash_password(&self.new_password)?,
            true,
            cx.ms(),
        )?;
        let after = store::get(cx.tx, &id)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                Some(&id),
                format!(
                    "重置 {}（{}）的密码，下次登录须修改",
                    before.login, before.name
                ),
            ),
        )?;
        Ok(after)
    }
}
