//! The working-day calendar (工作日历): the State Council's annual holiday arrangements, local
//! overrides, and the questions every deadline asks of them.
//!
//! Contract:
//! - The notices of 2010–2026 ship with the build ([`data::BUNDLED`], holiday-cn format). An
//!   admin imports a newer year's JSON when it is published; the newest import of a year
//!   replaces the bundled file of that year.
//! - A local override (a province's or city's notice) makes one date a working or an off day and
//!   records its reason; it is revoked, never deleted.
//! - Every change (including a new build bringing new bundled data) is a new **version**, logged
//!   in `calendar_changes` and audited; every open case is recomputed in the same transaction and
//!   keeps the version its deadlines were computed on.
//! - A date without a notice is **provisional** ([`work`]); the API says so on every answer.
//! - The index is built once per version and shared: see [`CalendarCache`].

pub mod data;
pub mod work;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use data::{HolidayDay, HolidayYear};
pub use work::{DayCount, DayInfo, WorkCalendar};

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::DomainEvent;
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::validate;

/// The calendar index of the current version, shared by every operation until the next change.
#[derive(Debug, Default)]
pub struct CalendarCache(Mutex<Option<(String, Arc<WorkCalendar>)>>);

/// The working-day calendar as an operation sees it: `cx.calendar()`.
pub trait CalendarOf {
    /// The calendar as of this transaction (built once per version, shared by every operation).
    fn calendar(&self) -> Result<Arc<WorkCalendar>>;
}

impl CalendarOf for Cx<'_> {
    fn calendar(&self) -> Result<Arc<WorkCalendar>> {
        current(self.tx, &self.shared::<CalendarCache>())
    }
}

/// The calendar as of `tx`: from the cache when its stamp matches, else rebuilt.
pub(crate) fn current(tx: &Tx<'_>, cache: &CalendarCache) -> Result<Arc<WorkCalendar>> {
    let (version, stamp): (i64, String) =
        tx.query_row("SELECT version, stamp FROM calendar_state", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if let Ok(guard) = cache.0.lock()
        && let Some((s, cal)) = guard.as_ref()
        && *s == stamp
    {
        return Ok(cal.clone());
    }
    let cal = Arc::new(build(tx, version)?);
    if let Ok(mut guard) = cache.0.lock() {
        *guard = Some((stamp, cal.clone()));
    }
    Ok(cal)
}

fn effective_years(tx: &Tx<'_>) -> Result<Vec<(HolidayYear, Option<i64>)>> {
    let mut years: std::collections::BTreeMap<i16, (HolidayYear, Option<i64>)> =
        data::bundled_years()
            .into_iter()
            .map(|y| (y.year, (y, None)))
            .collect();
    let mut stmt = tx.prepare(
        "SELECT i.json, i.imported_at FROM calendar_imports i
         WHERE i.version = (SELECT max(version) FROM calendar_imports j WHERE j.year = i.year)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (json, at) = row?;
        let y = data::parse_year(&json)?;
        years.insert(y.year, (y, Some(at)));
    }
    Ok(years.into_values().collect())
}

fn active_overrides(tx: &Tx<'_>) -> Result<Vec<Override>> {
    let mut stmt = tx.prepare(
        "SELECT id, date, is_off_day, reason, version, created_at, created_by
         FROM calendar_overrides WHERE revoked_at IS NULL ORDER BY date",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (id, date, off, reason, version, at, by) = row?;
        out.push(Override {
            id,
            date: date
                .parse()
                .map_err(|e| CoreError::internal(format!("日历覆盖日期损坏 {date}：{e}")))?,
            off_day: off,
            reason,
            version,
            created_at: from_ms(at),
            created_by: by,
        });
    }
    Ok(out)
}

fn build(tx: &Tx<'_>, version: i64) -> Result<WorkCalendar> {
    let years: Vec<HolidayYear> = effective_years(tx)?.into_iter().map(|y| y.0).collect();
    let overrides: Vec<data::OverrideDay> = active_overrides(tx)?
        .into_iter()
        .map(|o| data::OverrideDay {
            date: o.date,
            off: o.off_day,
            reason: o.reason,
        })
        .collect();
    Ok(data::merge(version, &years, &overrides))
}

/// Record a new calendar version (the caller has already written the change) and return it.
fn bump(tx: &Tx<'_>, kind: &str, summary: &str, actor: &Actor, now: Timestamp) -> Result<i64> {
    // One statement takes the next version and the state's row lock: two changes at once get
    // two versions, in order.
    let version: i64 = tx.query_row(
        "UPDATE calendar_state SET version = version + 1, stamp = ?1, updated_at = ?2 RETURNING version",
        params![new_id(), to_ms(now)],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO calendar_changes (version, kind, summary, at, actor_id, actor_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![version, kind, summary, to_ms(now), actor.id(), actor.display_name()],
    )?;
    Ok(version)
}

/// The calendar changed (an import, a local override or its revocation, new bundled data): a
/// new version is current. Everything computed on working days follows it (the reactions
/// recompute every open case in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarChanged {
    pub version: i64,
}

impl DomainEvent for CalendarChanged {
    fn name(&self) -> &'static str {
        "calendar.changed"
    }
}

/// Whether this build's bundled notices differ from those the database last saw (the start-up
/// job [`sync_bundle`] runs only then, so an unchanged start writes nothing).
pub fn bundle_changed(tx: &Tx<'_>) -> Result<bool> {
    let seen: String = tx.query_row("SELECT bundle FROM calendar_state", [], |r| r.get(0))?;
    Ok(seen != data::bundle_id())
}

/// On open: if this build's bundled notices differ from those the file last saw, that is a
/// calendar change like any other (versioned, audited, open cases recomputed). Runs as a job
/// of the hall's own; appends one audit row when it changed anything.
pub fn sync_bundle(cx: &mut Cx<'_>) -> Result<bool> {
    if !bundle_changed(cx.tx)? {
        return Ok(false);
    }
    let bundle = data::bundle_id();
    let actor = Actor::System("内置节假日数据".into());
    let summary = format!("载入内置节假日安排：{bundle}");
    let version = bump(cx.tx, "bundle", &summary, &actor, cx.now)?;
    cx.tx
        .execute("UPDATE calendar_state SET bundle = ?1", [&bundle])?;
    cx.emit(CalendarChanged { version })?;
    cx.record_as(
        actor,
        Topic::Calendar,
        AuditDraft::new("calendar", None, format!("{summary}（版本 {version}）")),
    )?;
    Ok(true)
}

/// A local override, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Override {
    pub id: String,
    #[ts(type = "string")]
    pub date: Date,
    pub off_day: bool,
    pub reason: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct YearSource {
    pub year: i16,
    /// `bundled` or `imported`.
    pub source: String,
    pub papers: Vec<String>,
    pub imported_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CalendarChange {
    pub version: i64,
    pub kind: String,
    pub summary: String,
    pub at: Timestamp,
    pub actor_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CalendarStatus {
    pub version: i64,
    pub bundle: String,
    pub years: Vec<YearSource>,
    pub overrides: Vec<Override>,
    /// Newest first, at most 50.
    pub changes: Vec<CalendarChange>,
}

fn status(tx: &Tx<'_>) -> Result<CalendarStatus> {
    let (version, bundle): (i64, String) =
        tx.query_row("SELECT version, bundle FROM calendar_state", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let years = effective_years(tx)?
        .into_iter()
        .map(|(y, at)| YearSource {
            year: y.year,
            source: if at.is_some() { "imported" } else { "bundled" }.into(),
            papers: y.papers,
            imported_at: at.map(from_ms),
        })
        .collect();
    let mut stmt = tx.prepare(
        "SELECT version, kind, summary, at, actor_name FROM calendar_changes ORDER BY version DESC LIMIT 50",
    )?;
    let changes = stmt
        .query_map([], |r| {
            Ok(CalendarChange {
                version: r.get(0)?,
                kind: r.get(1)?,
                summary: r.get(2)?,
                at: from_ms(r.get(3)?),
                actor_name: r.get(4)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok(CalendarStatus {
        version,
        bundle,
        years,
        overrides: active_overrides(tx)?,
        changes,
    })
}

/// Parse an ISO date from a request field.
pub fn parse_date(field: &str, value: &str) -> Result<Date> {
    value.trim().parse::<Date>().map_err(|_| {
        CoreError::new(
            ErrorCode::InvalidFormat,
            format!("日期格式应为 YYYY-MM-DD：{value}"),
        )
        .field(field)
    })
}

/// Refuse a provisional answer unless the caller accepted it (the CLI's `--provisional`).
fn refuse_provisional(
    what: &str,
    provisional: bool,
    allow: bool,
    years: &BTreeSet<i16>,
) -> Result<()> {
    if provisional && !allow {
        let known = match (years.first(), years.last()) {
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "无".into(),
        };
        return Err(CoreError::new(
            ErrorCode::CalendarProvisional,
            format!(
                "{what}涉及尚未发布节假日安排的年份（已载入 {known} 年），结果只按周末推算、可能变动；如确需此结果请加 --provisional"
            ),
        )
        .param("years", known));
    }
    Ok(())
}

/// Every day in `from..=to`; refused with `calendar_provisional` if any is provisional and the
/// caller did not accept that. (The operation and the CLI share it.)
pub fn days_between(
    cal: &WorkCalendar,
    from: Date,
    to: Date,
    allow_provisional: bool,
) -> Result<Vec<DayInfo>> {
    let mut out = vec![];
    let mut d = from;
    while d <= to {
        out.push(cal.day(d)?);
        d = d
            .tomorrow()
            .map_err(|e| CoreError::internal(e.to_string()))?;
    }
    let any = out.iter().any(|d| d.provisional);
    refuse_provisional("所查日期", any, allow_provisional, cal.years())?;
    Ok(out)
}

/// The `days`-th working day after `from` under `rule`, refused when provisional unless allowed.
pub fn add_workdays(
    cal: &WorkCalendar,
    from: Date,
    days: u32,
    rule: DayCount,
    allow_provisional: bool,
) -> Result<WorkdayResult> {
    let (date, provisional) = cal.add_workdays(from, days, rule)?;
    refuse_provisional("推算", provisional, allow_provisional, cal.years())?;
    Ok(WorkdayResult {
        date,
        provisional,
        day_count: rule,
        calendar_version: cal.version(),
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCalendarStatus {}

impl Operation for GetCalendarStatus {
    const NAME: &'static str = "calendar.status";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = CalendarStatus;
    fn run(self, cx: &mut Cx<'_>) -> Result<CalendarStatus> {
        status(cx.tx)
    }
}

/// Days `from..=to` (at most 400), each a working or an off day, provisional where no notice is
/// loaded.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListDays {
    pub from: String,
    pub to: String,
    /// Accept provisional days instead of refusing with `calendar_provisional`.
    #[serde(default)]
    pub allow_provisional: bool,
}

impl Operation for ListDays {
    const NAME: &'static str = "calendar.days";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = false;
    type Response = Vec<DayInfo>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<DayInfo>> {
        let from = parse_date("from", &self.from)?;
        let to = parse_date("to", &self.to)?;
        let span = from.until(to).map(|s| s.get_days()).unwrap_or(-1);
        if !(0..400).contains(&span) {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "日期范围应从早到晚且不超过 400 天")
                    .field("to")
                    .param("max", 400),
            );
        }
        let cal = cx.calendar()?;
        let out = days_between(&cal, from, to, self.allow_provisional)?;
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WorkdayResult {
    #[ts(type = "string")]
    pub date: Date,
    pub provisional: bool,
    pub day_count: DayCount,
    pub calendar_version: i64,
}

/// Import one year's notice (holiday-cn JSON), replacing the bundled or earlier imported data of
/// that year.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ImportYear {
    pub json: String,
}

impl Operation for ImportYear {
    const NAME: &'static str = "calendar.import";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = CalendarStatus;
    fn run(self, cx: &mut Cx<'_>) -> Result<CalendarStatus> {
        if self.json.len() > 200_000 {
            return Err(CoreError::new(ErrorCode::TooLong, "节假日数据文件过大").field("json"));
        }
        let y = data::parse_year(&self.json)?;
        let summary = format!(
            "导入 {} 年节假日安排（{} 项，{}）",
            y.year,
            y.days.len(),
            y.papers.join("；")
        );
        let version = bump(cx.tx, "import", &summary, &cx.actor, cx.now)?;
        cx.tx.execute(
            "INSERT INTO calendar_imports (year, version, json, imported_at) VALUES (?1, ?2, ?3, ?4)",
            params![y.year, version, serde_json::to_string(&y)?, cx.ms()],
        )?;
        changed(cx, "calendar_year", None, summary, &y)
    }
}

/// Make one date a working or an off day locally, with the reason (the local notice).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AddOverride {
    pub date: String,
    pub off_day: bool,
    pub reason: String,
}

impl Operation for AddOverride {
    const NAME: &'static str = "calendar.add_override";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = CalendarStatus;
    fn run(self, cx: &mut Cx<'_>) -> Result<CalendarStatus> {
        let date = parse_date("date", &self.date)?;
        work::WorkCalendar::build(0, BTreeSet::new(), &Default::default()).day(date)?;
        let reason = validate::text("reason", "调整原因", &self.reason, 100)?;
        let taken: Option<String> = cx
            .tx
            .query_row(
                "SELECT reason FROM calendar_overrides WHERE date = ?1 AND revoked_at IS NULL",
                [date.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(existing) = taken {
            return Err(CoreError::new(
                ErrorCode::OverrideExists,
                format!("{date} 已有本地调整（{existing}），请先撤销"),
            )
            .field("date"));
        }
        let summary = format!(
            "本地调整：{date} 设为{}（{reason}）",
            if self.off_day {
                "休息日"
            } else {
                "工作日"
            }
        );
        let version = bump(cx.tx, "override", &summary, &cx.actor, cx.now)?;
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO calendar_overrides (id, date, is_off_day, reason, version, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, date.to_string(), self.off_day, reason, version, cx.ms(), cx.actor.display_name()],
        )?;
        let after = serde_json::json!({"date": date.to_string(), "off_day": self.off_day, "reason": reason});
        changed(cx, "calendar_override", Some(&id), summary, &after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RevokeOverride {
    pub id: String,
}

impl Operation for RevokeOverride {
    const NAME: &'static str = "calendar.revoke_override";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = CalendarStatus;
    fn run(self, cx: &mut Cx<'_>) -> Result<CalendarStatus> {
        let id = validate::id("id", "日历调整", &self.id)?;
        let row: Option<(String, String)> = cx
            .tx
            .query_row(
                "SELECT date, reason FROM calendar_overrides WHERE id = ?1 AND revoked_at IS NULL",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((date, reason)) = row else {
            return Err(CoreError::not_found("日历调整", &id));
        };
        let summary = format!("撤销本地调整：{date}（{reason}）");
        let version = bump(cx.tx, "revoke", &summary, &cx.actor, cx.now)?;
        cx.tx.execute(
            "UPDATE calendar_overrides SET revoked_version = ?1, revoked_at = ?2 WHERE id = ?3",
            params![version, cx.ms(), id],
        )?;
        let before = serde_json::json!({"date": date, "reason": reason});
        changed(cx, "calendar_override", Some(&id), summary, &before)
    }
}

/// After any calendar change: tell the reactions (open cases are recomputed on the new
/// version), then audit.
fn changed(
    cx: &mut Cx<'_>,
    kind: &'static str,
    id: Option<&str>,
    summary: String,
    what: &impl Serialize,
) -> Result<CalendarStatus> {
    let version = cx.calendar()?.version();
    cx.emit(CalendarChanged { version })?;
    cx.record(
        Topic::Calendar,
        AuditDraft::new(kind, id, format!("{summary}（日历版本 {version}）")).after(what),
    )?;
    status(cx.tx)
}
