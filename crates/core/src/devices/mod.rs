//! Public devices in hall mode (大厅模式的取号机、叫号屏).
//!
//! Contract:
//! - On one PC the kiosk and display are windows of the desktop app, and the shell vouches for
//!   them. On the LAN a browser kiosk or display has no person signed in, so it presents a
//!   **device token** that an admin registered here (`device.register`). The token is shown once;
//!   only its SHA-256 is stored, like a staff session's.
//! - A device token is **scoped**: it resolves to [`Actor::Device`] of its kind, which reaches
//!   only operations open to devices, and among those only the ones its kind may call
//!   ([`Operation::DEVICES`]: a display cannot issue tickets). Staff operations answer
//!   `forbidden`, not `unauthenticated`: the device is known, the operation is not its.
//! - Revoking a device ends its token at once: the next request is `unauthenticated`.
//! - A rater (评价器) and a window screen (窗口屏) are registered **for one window**; the actor
//!   carries that window, so a rater rates only the visits served at its own window.

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::{new_id, new_secret, sha256_hex};
use crate::kernel::op::{Access, Cx, DeviceKind, Operation};
use crate::kernel::validate;

pub const NAME_MAX: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    /// Where it stands, e.g. "一楼大厅东侧取号机".
    pub name: String,
    pub created_at: jiff::Timestamp,
    pub revoked_at: Option<jiff::Timestamp>,
    /// The window a rater or window screen is bound to.
    pub window_id: Option<String>,
}

fn kind_str(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Kiosk => "kiosk",
        DeviceKind::Display => "display",
        DeviceKind::Rater => "rater",
        DeviceKind::WindowScreen => "window_screen",
    }
}

fn parse_kind(s: &str) -> Result<DeviceKind> {
    match s {
        "kiosk" => Ok(DeviceKind::Kiosk),
        "display" => Ok(DeviceKind::Display),
        "rater" => Ok(DeviceKind::Rater),
        "window_screen" => Ok(DeviceKind::WindowScreen),
        other => Err(CoreError::internal(format!("未知的设备类型：{other}"))),
    }
}

type Raw = (String, String, String, i64, Option<i64>, Option<String>);

const COLUMNS: &str = "id, kind, name, created_at, revoked_at, window_id";

fn row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn device(raw: Raw) -> Result<Device> {
    let (id, kind, name, created, revoked, window_id) = raw;
    Ok(Device {
        id,
        kind: parse_kind(&kind)?,
        name,
        created_at: from_ms(created),
        revoked_at: revoked.map(from_ms),
        window_id,
    })
}

fn get(tx: &Tx<'_>, id: &str) -> Result<Device> {
    let raw = tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM devices WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("设备", id).field("id"))?;
    device(raw)
}

/// The device a token names (its kind and the window it is bound to), if it is registered and
/// not revoked.
pub(crate) fn resolve(tx: &Tx<'_>, token: &str) -> Result<Option<(DeviceKind, Option<String>)>> {
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT kind, window_id FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
            [sha256_hex(token.as_bytes())],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    found.map(|(k, w)| Ok((parse_kind(&k)?, w))).transpose()
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RegisterDevice {
    pub kind: DeviceKind,
    pub name: String,
    /// Required for a rater or a window screen (the window it serves); refused for the others.
    #[serde(default)]
    pub window_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RegisteredDevice {
    pub device: Device,
    /// Shown once: put it into the device's address (`/kiosk?device=…`) or settings.
    pub token: String,
}

impl Operation for RegisterDevice {
    const NAME: &'static str = "device.register";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = RegisteredDevice;
    fn run(self, cx: &mut Cx<'_>) -> Result<RegisteredDevice> {
        let name = validate::text("name", "设备名称", &self.name, NAME_MAX)?;
        let window_id = match (self.kind.is_window_bound(), self.window_id.as_deref()) {
            (true, None | Some("")) => {
                return Err(CoreError::new(
                    ErrorCode::Required,
                    format!("{}须绑定一个窗口", self.kind.label()),
                )
                .field("window_id"));
            }
            (true, Some(w)) => {
                let w = validate::id("window_id", "窗口", w)?;
                let active: Option<bool> = cx
                    .tx
                    .query_row("SELECT active FROM windows WHERE id = ?1", [&w], |r| {
                        r.get(0)
                    })
                    .optional()?;
                match active {
                    None => return Err(CoreError::not_found("窗口", &w).field("window_id")),
                    Some(false) => {
                        return Err(CoreError::new(ErrorCode::WindowInactive, "该窗口已停用")
                            .field("window_id"));
                    }
                    Some(true) => Some(w),
                }
            }
            (false, Some(w)) if !w.is_empty() => {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    format!("{}服务整个大厅，不绑定窗口", self.kind.label()),
                )
                .field("window_id"));
            }
            (false, _) => None,
        };
        let taken: Option<String> = cx
            .tx
            .query_row(
                "SELECT id FROM devices WHERE name = ?1 AND revoked_at IS NULL",
                [&name],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(CoreError::new(
                ErrorCode::DuplicateDevice,
                format!("已有同名设备：{name}"),
            )
            .field("name")
            .param("name", name));
        }
        let id = new_id();
        let token = new_secret();
        cx.tx.execute(
            "INSERT INTO devices (id, kind, name, token_hash, created_at, window_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                kind_str(self.kind),
                name,
                sha256_hex(token.as_bytes()),
                cx.ms(),
                window_id
            ],
        )?;
        let device = get(cx.tx, &id)?;
        let label = self.kind.label();
        cx.record(
            Topic::Hall,
            AuditDraft::new("device", Some(&id), format!("登记{label}：{}", device.name))
                .after(&device),
        )?;
        Ok(RegisteredDevice { device, token })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListDevices {
    pub include_revoked: bool,
}

impl Operation for ListDevices {
    const NAME: &'static str = "device.list";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = false;
    type Response = Vec<Device>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Device>> {
        let mut stmt = cx.tx.prepare(&format!(
            "SELECT {COLUMNS} FROM devices WHERE revoked_at IS NULL OR ?1 ORDER BY kind, name"
        ))?;
        let rows = stmt
            .query_map([self.include_revoked], row)?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
        rows.into_iter().map(device).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RevokeDevice {
    pub id: String,
}

impl Operation for RevokeDevice {
    const NAME: &'static str = "device.revoke";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = Device;
    fn run(self, cx: &mut Cx<'_>) -> Result<Device> {
        let id = validate::id("id", "设备", &self.id)?;
        let before = get(cx.tx, &id)?;
        if before.revoked_at.is_some() {
            return Err(CoreError::new(ErrorCode::InvalidTransition, "该设备已注销").field("id"));
        }
        cx.tx.execute(
            "UPDATE devices SET revoked_at = ?2 WHERE id = ?1",
            params![id, to_ms(cx.now)],
        )?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new("device", Some(&id), format!("注销设备：{}", after.name))
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}
