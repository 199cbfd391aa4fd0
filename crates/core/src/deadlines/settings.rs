//! The hall's deadline settings (限时办结设置): how days are counted (the acceptance day or
//! the next), when a case warns, and the hall's business day that every due moment ends with.
//!
//! Contract:
//! - One row (`deadline_settings`), written only here; a change is a domain event
//!   ([`SettingsChanged`]) on which every open case is recomputed (the reactions).
//! - The business day is the hall's business hours (the hall capability) under these settings.

use std::sync::Arc;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{BusinessDay, Thresholds};
use crate::calendar::{
    self, CalendarCache, CalendarOf, DayCount, WorkCalendar, WorkdayResult, add_workdays,
    parse_date,
};
use crate::kernel::audit::AuditDraft;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{DomainEvent, Topic};
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::store::{Store, Tx};
use crate::kernel::validate;

/// The deadline settings changed: every open case's levels and due moments follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChanged;

impl DomainEvent for SettingsChanged {
    fn name(&self) -> &'static str {
        "deadline.settings_changed"
    }
}

/// How deadlines are counted and when they warn (admin settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DeadlineSettings {
    pub day_count: DayCount,
    pub thresholds: Thresholds,
}

pub fn load_settings(tx: &Tx<'_>) -> Result<DeadlineSettings> {
    Ok(tx.query_row(
        "SELECT day_count, reminder_days, yellow_days, red_days FROM deadline_settings",
        [],
        |r| {
            Ok(DeadlineSettings {
                day_count: if r.get::<_, String>(0)? == "same_day" {
                    DayCount::SameDay
                } else {
                    DayCount::NextDay
                },
                thresholds: Thresholds {
                    reminder_days: r.get(1)?,
                    yellow_days: r.get(2)?,
                    red_days: r.get(3)?,
                },
            })
        },
    )?)
}

/// The hall's business day (from its business hours) under the deadline settings.
pub fn business_day(tx: &Tx<'_>, s: &DeadlineSettings) -> Result<BusinessDay> {
    let hours: Option<String> = crate::kernel::store::Optional::optional(tx.query_row(
        "SELECT business_hours FROM hall",
        [],
        |r| r.get(0),
    ))?;
    let spans: Vec<crate::hall::TimeSpan> = match hours {
        Some(h) => serde_json::from_str(&h)?,
        None => crate::hall::default_hours(),
    };
    Ok(BusinessDay {
        spans: spans
            .iter()
            .map(|s| {
                Ok((
                    validate::hhmm("business_hours", &s.start)?,
                    validate::hhmm("business_hours", &s.end)?,
                ))
            })
            .collect::<Result<_>>()?,
        day_count: s.day_count,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetDeadlineSettings {}

impl Operation for GetDeadlineSettings {
    const NAME: &'static str = "deadline.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = DeadlineSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<DeadlineSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateDeadlineSettings {
    pub settings: DeadlineSettings,
}

impl Operation for UpdateDeadlineSettings {
    const NAME: &'static str = "deadline.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = DeadlineSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<DeadlineSettings> {
        let s = self.settings;
        let t = s.thresholds;
        for (field, label, v) in [
            ("thresholds.reminder_days", "提醒阈值", t.reminder_days),
            ("thresholds.yellow_days", "黄牌阈值", t.yellow_days),
            ("thresholds.red_days", "红牌阈值", t.red_days),
        ] {
            validate::range_i64(field, label, v.into(), 0, 30)?;
        }
        if t.yellow_days > t.reminder_days {
            return Err(CoreError::new(
                ErrorCode::OutOfRange,
                "黄牌阈值不能大于提醒阈值（黄牌比提醒更紧迫）",
            )
            .field("thresholds.yellow_days")
            .param("max", t.reminder_days));
        }
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE deadline_settings SET day_count = ?1, reminder_days = ?2, yellow_days = ?3, red_days = ?4, updated_at = ?5",
            params![
                match s.day_count {
                    DayCount::NextDay => "next_day",
                    DayCount::SameDay => "same_day",
                },
                t.reminder_days,
                t.yellow_days,
                t.red_days,
                cx.ms()
            ],
        )?;
        cx.emit(SettingsChanged)?;
        cx.record(
            Topic::Calendar,
            AuditDraft::new("deadline_settings", None, "修改限时办结设置")
                .before(before)
                .after(s),
        )?;
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AddWorkdays {
    pub date: String,
    pub days: u32,
    #[serde(default)]
    pub allow_provisional: bool,
}

impl Operation for AddWorkdays {
    const NAME: &'static str = "calendar.add_workdays";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = WorkdayResult;
    fn run(self, cx: &mut Cx<'_>) -> Result<WorkdayResult> {
        let from = parse_date("date", &self.date)?;
        validate::range_i64("days", "工作日数", self.days.into(), 0, 3650)?;
        let cal = cx.calendar()?;
        let rule = load_settings(cx.tx)?.day_count;
        add_workdays(&cal, from, self.days, rule, self.allow_provisional)
    }
}

/// The hall's current calendar and day-count rule (the CLI's `calendar` commands).
pub fn calendar_and_rule(store: &Store) -> Result<(Arc<WorkCalendar>, DayCount)> {
    store.read(|tx| {
        Ok((
            calendar::current(tx, &store.shared().get_or_default::<CalendarCache>())?,
            load_settings(tx)?.day_count,
        ))
    })
}
