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
//! - **Pairing without a command line.** Registering (or `device.pairing_code` later, for a
//!   replaced tablet) gives an eight-digit code valid for [`PAIRING_MINUTES`] minutes, shown
//!   with a QR code of the pairing page's address. Opening `/pair?code=…` on the device calls
//!   `device.pair`, which gives the device a **fresh** token (the old one stops working) and
//!   forgets the code: a code pairs once. The hall server limits tries per address.

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
    /// A pairing code is waiting to be used until then.
    pub pairing_until: Option<jiff::Timestamp>,
}

/// How long a pairing code works.
pub const PAIRING_MINUTES: i64 = 30;

/// Eight random digits, and when they stop working.
fn pairing_code(now_ms: i64) -> (String, i64) {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    (
        format!("{:08}", u64::from_le_bytes(buf) % 100_000_000),
        now_ms + PAIRING_MINUTES * 60_000,
    )
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

type Raw = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

const COLUMNS: &str = "id, kind, name, created_at, revoked_at, window_id, pairing_expires_at";

fn row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn device(raw: Raw) -> Result<Device> {
    let (id, kind, name, created, revoked, window_id, pairing) = raw;
    Ok(Device {
        id,
        kind: parse_kind(&kind)?,
        name,
        created_at: from_ms(created),
        revoked_at: revoked.map(from_ms),
        window_id,
        pairing_until: pairing.map(from_ms),
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
    /// Or open `/pair?code=…` on the device within [`PAIRING_MINUTES`] minutes.
    pub pairing_code: String,
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
        let (code, until) = pairing_code(cx.ms());
        cx.tx.execute(
            "INSERT INTO devices (id, kind, name, token_hash, created_at, window_id, pairing_hash,
                                  pairing_expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                kind_str(self.kind),
                name,
                sha256_hex(token.as_bytes()),
                cx.ms(),
                window_id,
                sha256_hex(code.as_bytes()),
                until
            ],
        )?;
        let device = get(cx.tx, &id)?;
        let label = self.kind.label();
        cx.record(
            Topic::Hall,
            AuditDraft::new("device", Some(&id), format!("登记{label}：{}", device.name))
                .after(&device),
        )?;
        Ok(RegisteredDevice {
            device,
            token,
            pairing_code: code,
        })
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

/// A new pairing code for a registered device (a replaced tablet, a cleared browser).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NewPairingCode {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PairingCode {
    pub device: Device,
    /// Eight digits; open `/pair?code=…` on the device before `device.pairing_until`.
    pub code: String,
}

impl Operation for NewPairingCode {
    const NAME: &'static str = "device.pairing_code";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = PairingCode;
    fn run(self, cx: &mut Cx<'_>) -> Result<PairingCode> {
        let id = validate::id("id", "设备", &self.id)?;
        let before = get(cx.tx, &id)?;
        if before.revoked_at.is_some() {
            return Err(CoreError::new(ErrorCode::InvalidTransition, "该设备已注销").field("id"));
        }
        let (code, until) = pairing_code(cx.ms());
        cx.tx.execute(
            "UPDATE devices SET pairing_hash = ?2, pairing_expires_at = ?3 WHERE id = ?1",
            params![id, sha256_hex(code.as_bytes()), until],
        )?;
        let device = get(cx.tx, &id)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new("device", Some(&id), format!("生成配对码：{}", device.name))
                .before(&before)
                .after(&device),
        )?;
        Ok(PairingCode { device, code })
    }
}

/// Pair this browser as the device a pairing code names.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PairDevice {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PairedDevice {
    pub device: Device,
    /// The device's new token: the page keeps it and presents it from now on.
    pub token: String,
}

impl Operation for PairDevice {
    const NAME: &'static str = "device.pair";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = true;
    type Response = PairedDevice;
    fn run(self, cx: &mut Cx<'_>) -> Result<PairedDevice> {
        let code = self.code.trim();
        let refused = || {
            CoreError::new(
                ErrorCode::NotFound,
                "配对码不正确或已过期，请管理员重新生成",
            )
            .field("code")
        };
        if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused());
        }
        let id: Option<String> = cx
            .tx
            .query_row(
                "SELECT id FROM devices WHERE pairing_hash = ?1 AND pairing_expires_at > ?2
                   AND revoked_at IS NULL",
                params![sha256_hex(code.as_bytes()), cx.ms()],
                |r| r.get(0),
            )
            .optional()?;
        let id = id.ok_or_else(refused)?;
        let before = get(cx.tx, &id)?;
        let token = new_secret();
        cx.tx.execute(
            "UPDATE devices SET token_hash = ?2, pairing_hash = NULL, pairing_expires_at = NULL
             WHERE id = ?1",
            params![id, sha256_hex(token.as_bytes())],
        )?;
        let device = get(cx.tx, &id)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new("device", Some(&id), format!("设备已配对：{}", device.name))
                .before(&before)
                .after(&device),
        )?;
        Ok(PairedDevice { device, token })
    }
}

/// A QR code (SVG) of a pairing page's address, for the admin screen to show beside the code.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PairingQr {
    /// The address to encode, e.g. `http://192.168.1.10:8720/pair?code=12345678`.
    pub url: String,
}

impl Operation for PairingQr {
    const NAME: &'static str = "device.pairing_qr";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = false;
    type Response = String;
    fn run(self, _cx: &mut Cx<'_>) -> Result<String> {
        let url = self.url.trim();
        if url.len() > 300 || !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "地址须以 http:// 或 https:// 开头",
            )
            .field("url"));
        }
        Ok(onetrip_notice::qr_svg(url))
    }
}
