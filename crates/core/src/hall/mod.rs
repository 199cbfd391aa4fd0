//! The hall itself (政务服务中心), its windows (窗口) and business categories (业务类别).
//!
//! Contract:
//! - One hall per database, created at bootstrap; its name is what the display shows.
//! - Business hours are one or more non-overlapping `HH:MM` spans in Beijing time (a hall
//!   typically opens 9:00–12:00 and 13:30–17:00); they define "today" and "end of day" for the
//!   queue and deadline rules built on this.
//! - Window numbers and category prefixes are unique ([`ErrorCode::DuplicateWindowNumber`],
//!   [`ErrorCode::DuplicatePrefix`]); a window serves categories in an order of preference.
//! - Records are deactivated, never deleted: tickets and cases keep pointing at them.

pub mod category;
pub mod window;

pub use category::{
    Category, CategoryFields, CategoryRef, CreateCategory, ListCategories, SetCategoryActive,
    UpdateCategory,
};
pub(crate) use window::window_ref;
pub use window::{
    CreateWindow, ListWindows, SetWindowActive, UpdateWindow, Window, WindowFields, WindowRef,
};

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{DomainEvent, Topic};
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::validate;

pub const HALL_NAME_MAX: usize = 40;

/// A span of opening time, `HH:MM`–`HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct TimeSpan {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Hall {
    pub id: String,
    pub name: String,
    /// The hall's own code (e.g. the administrative division code 330106).
    pub code: String,
    pub address: String,
    pub phone: String,
    pub business_hours: Vec<TimeSpan>,
    pub updated_at: Timestamp,
}

/// Validate and normalise business hours: 1–4 spans, each start < end, sorted, not overlapping.
pub fn check_business_hours(spans: &[TimeSpan]) -> Result<Vec<TimeSpan>> {
    if spans.is_empty() || spans.len() > 4 {
        return Err(
            CoreError::new(ErrorCode::OutOfRange, "办公时间应为 1 到 4 个时段")
                .field("business_hours")
                .param("min", 1)
                .param("max", 4),
        );
    }
    let mut parsed = spans
        .iter()
        .map(|s| {
            Ok((
                validate::hhmm("business_hours", &s.start)?,
                validate::hhmm("business_hours", &s.end)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    parsed.sort();
    for (i, (a, b)) in parsed.iter().enumerate() {
        if a >= b {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "办公时段的开始时间须早于结束时间",
            )
            .field("business_hours"));
        }
        if i > 0 && parsed[i - 1].1 > *a {
            return Err(CoreError::new(ErrorCode::InvalidFormat, "办公时段不能重叠")
                .field("business_hours"));
        }
    }
    Ok(parsed
        .into_iter()
        .map(|(a, b)| TimeSpan {
            start: validate::fmt_hhmm(a),
            end: validate::fmt_hhmm(b),
        })
        .collect())
}

/// Is `now` inside the business hours (Beijing time)? The caller also checks the working-day
/// calendar (a holiday has no business hours).
pub fn within_hours(spans: &[TimeSpan], now: Timestamp) -> bool {
    let t = now.to_zoned(hall_tz());
    let minute = (t.hour() as u16) * 60 + t.minute() as u16;
    spans.iter().any(|s| {
        let (a, b) = (
            validate::hhmm("", &s.start).unwrap_or(0),
            validate::hhmm("", &s.end).unwrap_or(0),
        );
        a <= minute && minute < b
    })
}

/// The usual hall day: 9:00–12:00 and 13:30–17:00.
pub fn default_hours() -> Vec<TimeSpan> {
    vec![
        TimeSpan {
            start: "09:00".into(),
            end: "12:00".into(),
        },
        TimeSpan {
            start: "13:30".into(),
            end: "17:00".into(),
        },
    ]
}

pub(crate) fn load_hall(tx: &Tx<'_>) -> Result<Hall> {
    let row = tx
        .query_row(
            "SELECT id, name, code, address, phone, business_hours, updated_at FROM hall",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            },
        )
        .optional()?;
    let (id, name, code, address, phone, hours, updated) = row.ok_or_else(|| {
        CoreError::new(ErrorCode::NotFound, "大厅信息尚未建立")
            .param("what", "大厅")
            .param("id", "-")
    })?;
    Ok(Hall {
        id,
        name,
        code,
        address,
        phone,
        business_hours: serde_json::from_str(&hours)?,
        updated_at: from_ms(updated),
    })
}

/// Create the hall record if missing (bootstrap and demo). Audited by the caller's transaction.
pub(crate) fn ensure_hall(tx: &Tx<'_>, actor: &Actor, now: Timestamp) -> Result<()> {
    let exists: i64 = tx.query_row("SELECT count(*) FROM hall", [], |r| r.get(0))?;
    if exists == 0 {
        let id = new_id();
        tx.execute(
            "INSERT INTO hall (id, name, code, business_hours, updated_at) VALUES (?1, '政务服务中心', 'HALL', ?2, ?3)",
            params![id, serde_json::to_string(&default_hours())?, to_ms(now)],
        )?;
        crate::kernel::audit::append(
            tx,
            actor,
            Some("bootstrap"),
            "hall.create",
            now,
            AuditDraft::new("hall", Some(&id), "建立大厅信息"),
        )?;
    }
    Ok(())
}

/// The hall record. Public: the display and kiosk show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHall {}

impl Operation for GetHall {
    const NAME: &'static str = "hall.get";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = false;
    const BEFORE_PASSWORD_CHANGE: bool = true;
    type Response = Hall;
    fn run(self, cx: &mut Cx<'_>) -> Result<Hall> {
        load_hall(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateHall {
    pub name: String,
    pub code: String,
    pub address: String,
    pub phone: String,
    pub business_hours: Vec<TimeSpan>,
}

impl Operation for UpdateHall {
    const NAME: &'static str = "hall.update";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = Hall;
    fn run(self, cx: &mut Cx<'_>) -> Result<Hall> {
        let name = validate::text("name", "大厅名称", &self.name, HALL_NAME_MAX)?;
        let code = validate::text("code", "大厅编码", &self.code, 20)?;
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "大厅编码只能含字母、数字和 -")
                    .field("code"),
            );
        }
        let address = validate::optional_text("address", "地址", &self.address, 100)?;
        let phone = validate::phone("phone", &self.phone)?;
        let hours = check_business_hours(&self.business_hours)?;
        let before = load_hall(cx.tx)?;
        cx.tx.execute(
            "UPDATE hall SET name = ?1, code = ?2, address = ?3, phone = ?4, business_hours = ?5, updated_at = ?6",
            params![name, code, address, phone, serde_json::to_string(&hours)?, cx.ms()],
        )?;
        let after = load_hall(cx.tx)?;
        // The end of business is every deadline's due hour: open cases follow the new hours.
        if before.business_hours != after.business_hours {
            cx.emit(BusinessHoursChanged)?;
        }
        cx.record(
            Topic::Hall,
            AuditDraft::new(
                "hall",
                Some(&after.id),
                format!("修改大厅信息：{}", after.name),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// The hall's business hours changed: every due moment ends at the new closing time (the
/// reactions recompute the open cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHoursChanged;

impl DomainEvent for BusinessHoursChanged {
    fn name(&self) -> &'static str {
        "hall.business_hours_changed"
    }
}
