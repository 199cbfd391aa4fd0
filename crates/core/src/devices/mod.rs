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
}

fn kind_str(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Kiosk => "kiosk",
        DeviceKind::Display => "display",
    }
}

fn parse_kind(s: &str) -> Result<DeviceKind> {
    match s {
        "kiosk" => Ok(DeviceKind::Kiosk),
        "display" => Ok(DeviceKind::Display),
        other => Err(CoreError::internal(format!("未知的设备类型：{other}"))),
    }
}

fn row(
    r: &crate::kernel::store::Row<'_>,
) -> crate::kernel::store::StoreResult<(String, String, String, i64, Option<i64>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn device(raw: (String, String, String, i64, Option<i64>)) -> Result<Device> {
    let (id, kind, name, created, revoked) = raw;
    Ok(Device {
        id,
        kind: parse_kind(&kind)?,
        name,
        created_at: from_ms(created),
        revoked_at: revoked.map(from_ms),
    })
}

fn get(tx: &Tx<'_>, id: &str) -> Result<Device> {
    let raw = tx
        .query_row(
            "SELECT id, kind, name, created_at, revoked_at FROM devices WHERE id = ?1",
            [id],
            row,
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("设备", id).field("id"))?;
    device(raw)
}

/// The device a token names, if it is registered and not revoked.
pub(crate) fn resolve(tx: &Tx<'_>, token: &str) -> Result<Option<DeviceKind>> {
    let kind: Option<String> = tx
        .query_row(
            "SELECT kind FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
            [sha256_hex(token.as_bytes())],
            |r| r.get(0),
        )
        .optional()?;
    kind.map(|k| parse_kind(&k)).transpose()
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RegisterDevice {
    pub kind: DeviceKind,
    pub name: String,
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
            "INSERT INTO devices (id, kind, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, kind_str(self.kind), name, sha256_hex(token.as_bytes()), cx.ms()],
        )?;
        let device = get(cx.tx, &id)?;
        let label = match self.kind {
            DeviceKind::Kiosk => "取号机",
            DeviceKind::Display => "叫号屏",
        };
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
        let mut stmt = cx.tx.prepare(
            "SELECT id, kind, name, created_at, revoked_at FROM devices
             WHERE revoked_at IS NULL OR ?1 ORDER BY kind, name",
        )?;
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
