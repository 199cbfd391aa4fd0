//! # Reports and supervision (统计报表与效能监察)
//!
//! The figures a hall's work-style reports name, over a period and filters, and the drill-down
//! from any figure to the tickets or cases behind it. Halls are assessed on these figures
//! (《政务服务“好差评”管理办法》, the local 政务服务中心窗口工作人员考核办法): tickets and waits,
//! 人均日办件, 按时办结率 and 提前办结率, ratings and what was done about bad ones.
//!
//! Contract:
//! - A period is two Beijing civil dates, inclusive. A ticket belongs to the period of its
//!   business day; a case is *accepted* in the period when its acceptance moment lies in it and
//!   *decided* (办结) when its decision event does. Open cases are counted at the level they
//!   have when the report is made (the sweep keeps `cases.level` current).
//! - Filters: a category narrows tickets (the queue they were served in) and cases (their item's
//!   category); a window narrows both (the window that called the ticket, the window that
//!   accepted the case); a clerk narrows tickets (who served) and cases (who answers for them);
//!   an item narrows cases only.
//! - Waiting time is first call − issue; service time is finish − start of served tickets. The
//!   target (default 15 minutes) is a hall setting.
//! - Figures and drill-downs come from the same facts and predicates ([`facts`]): the number of
//!   rows a drill-down lists equals the figure clicked.
//! - Reports are filed on schedule ([`filing`]): the daily summary after closing time on each
//!   working day, the weekly report on its weekday, the monthly analysis on its day; each a PDF
//!   (Typst, the notice machinery) and an xlsx with charts, beside the notice archive.
//!   Operations read; filing writes one audit row per report.

pub mod case_stats;
pub(crate) mod facts;
pub mod figures;
pub mod filing;
pub(crate) mod pdf;
pub mod ratings_export;
pub(crate) mod xlsx;

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::handover::TakeoverFigures;
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{day_start, from_ms, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

pub use figures::{BadRating, CaseRow, QueueRow, RatingFigures};

/// A reporting period, its bounds as stored moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
}

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Period> {
        if to < from {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "结束日期不能早于开始日期").field("to"),
            );
        }
        if to.since(from).map(|s| s.get_days()).unwrap_or(i32::MAX) > 3700 {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "统计区间不能超过十年").field("from"),
            );
        }
        let next = to
            .tomorrow()
            .map_err(|e| CoreError::internal(e.to_string()))?;
        Ok(Period {
            from,
            to,
            start_ms: to_ms(day_start(from)?),
            end_ms: to_ms(day_start(next)?),
        })
    }
    pub(crate) fn contains(&self, ms: i64) -> bool {
        ms >= self.start_ms && ms < self.end_ms
    }
}

/// What a report covers: a period and optional narrowing.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct ReportFilter {
    /// First day (YYYY-MM-DD), inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub window_id: Option<String>,
    /// A clerk: who served the tickets, who answers for the cases.
    #[serde(default)]
    pub staff_id: Option<String>,
    /// A service item (cases only).
    #[serde(default)]
    pub item_id: Option<String>,
}

/// A filter checked against the database: dates parsed, every id known.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub period: Period,
    pub filter: ReportFilter,
}

fn known(
    tx: &Tx<'_>,
    table: &str,
    field: &str,
    what: &str,
    v: &Option<String>,
) -> Result<Option<String>> {
    let Some(v) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let id = validate::id(field, what, v)?;
    let found: Option<i64> = tx
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [&id],
            |r| r.get(0),
        )
        .optional()?;
    match found {
        Some(_) => Ok(Some(id)),
        None => Err(CoreError::not_found(what, v).field(field)),
    }
}

impl ReportFilter {
    pub(crate) fn check(&self, tx: &Tx<'_>) -> Result<Scope> {
        let from = crate::calendar::parse_date("from", &self.from)?;
        let to = crate::calendar::parse_date("to", &self.to)?;
        let period = Period::new(from, to)?;
        let filter = ReportFilter {
            from: from.to_string(),
            to: to.to_string(),
            category_id: known(
                tx,
                "categories",
                "category_id",
                "业务类别",
                &self.category_id,
            )?,
            window_id: known(tx, "windows", "window_id", "窗口", &self.window_id)?,
            staff_id: known(tx, "staff", "staff_id", "工作人员", &self.staff_id)?,
            item_id: known(tx, "service_items", "item_id", "事项", &self.item_id)?,
        };
        Ok(Scope { period, filter })
    }
}

impl Scope {
    fn wants_ticket(&self, t: &facts::TicketFact) -> bool {
        let f = &self.filter;
        f.category_id.as_ref().is_none_or(|c| *c == t.category_id)
            && f.window_id
                .as_ref()
                .is_none_or(|w| t.window_id.as_ref() == Some(w))
            && f.staff_id
                .as_ref()
                .is_none_or(|s| t.staff_id.as_ref() == Some(s))
    }
    fn wants_case(&self, c: &facts::CaseFact) -> bool {
        let f = &self.filter;
        f.category_id
            .as_ref()
            .is_none_or(|x| c.category_id.as_ref() == Some(x))
            && f.window_id
                .as_ref()
                .is_none_or(|w| c.window_id.as_ref() == Some(w))
            && f.staff_id.as_ref().is_none_or(|s| *s == c.owner_id)
            && f.item_id.as_ref().is_none_or(|i| *i == c.item_id)
    }
}

/// The report settings (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReportSettings {
    /// Waits longer than this count as "over target" (default 15 minutes).
    pub wait_target_minutes: u32,
    /// File the daily summary after closing time on each working day.
    pub daily_enabled: bool,
    /// The weekday the weekly report (of the week before) is filed: 1 = Monday … 7 = Sunday.
    pub weekly_weekday: u8,
    /// The day of the month the monthly analysis (of the month before) is filed: 1–28.
    pub monthly_day: u8,
}

pub(crate) fn load_settings(tx: &Tx<'_>) -> Result<ReportSettings> {
    Ok(tx.query_row(
        "SELECT wait_target_minutes, daily_enabled, weekly_weekday, monthly_day FROM report_settings",
        [],
        |r| {
            Ok(ReportSettings {
                wait_target_minutes: r.get(0)?,
                daily_enabled: r.get(1)?,
                weekly_weekday: r.get(2)?,
                monthly_day: r.get(3)?,
            })
        },
    )?)
}

/// Queue figures of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct QueueFigures {
    pub total: QueueRow,
    pub by_category: Vec<QueueRow>,
    pub by_window: Vec<QueueRow>,
    pub by_clerk: Vec<QueueRow>,
    pub by_day: Vec<QueueRow>,
}

/// Case figures of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseFigures {
    pub total: CaseRow,
    pub by_item: Vec<CaseRow>,
    pub by_clerk: Vec<CaseRow>,
    /// Accepted and decided per day (the trend chart).
    pub by_day: Vec<CaseRow>,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Figures {
    /// The filter as applied (dates normalised).
    pub filter: ReportFilter,
    pub generated_at: Timestamp,
    /// Working days in the period (null when the calendar does not cover it).
    pub workdays: Option<u32>,
    pub wait_target_minutes: u32,
    pub queue: QueueFigures,
    pub ratings: RatingFigures,
    pub cases: CaseFigures,
    /// AB posts: takeovers and cases handled on behalf, per clerk.
    pub ab: Vec<TakeoverFigures>,
}

pub(crate) fn compute(cx: &mut Cx<'_>, scope: &Scope) -> Result<Figures> {
    let settings = load_settings(cx.tx)?;
    let target = i64::from(settings.wait_target_minutes) * 60;
    let p = &scope.period;
    let tickets = facts::tickets(cx.tx, p)?;
    let tickets: Vec<&facts::TicketFact> =
        tickets.iter().filter(|t| scope.wants_ticket(t)).collect();

    let mut total = QueueRow::new("all", "全厅");
    for t in &tickets {
        total.add(t, target);
    }
    let queue = QueueFigures {
        total: total.finish(),
        by_category: figures::queue_rows(
            &tickets,
            target,
            |t| Some(t.category_id.as_str()),
            |t| t.category_name.clone(),
        ),
        by_window: figures::queue_rows(
            &tickets,
            target,
            |t| t.window_id.as_deref(),
            |t| {
                t.window_number
                    .map(|n| format!("{n}号窗口"))
                    .unwrap_or_default()
            },
        ),
        by_clerk: figures::queue_rows(
            &tickets,
            target,
            |t| t.staff_id.as_deref(),
            |t| t.staff_name.clone().unwrap_or_default(),
        ),
        by_day: figures::queue_rows(
            &tickets,
            target,
            |t| Some(t.day.as_str()),
            |t| t.day.clone(),
        ),
    };
    let case_figures = case_figures(cx.tx, scope)?;
    let mut ab = crate::handover::GetHandoverFigures {
        from: scope.filter.from.clone(),
        to: scope.filter.to.clone(),
    }
    .run(cx)?;
    if let Some(s) = &scope.filter.staff_id {
        ab.retain(|f| f.staff_id == *s);
    }
    let cal = cx.calendar().ok();
    let workdays = cal.as_ref().and_then(|cal| {
        let before = p.from.yesterday().ok()?;
        cal.count_workdays(before, p.to).ok()
    });
    let ratings = figures::RatingFigures {
        window_ranking: figures::window_ranking(&queue.by_window),
        ..figures::ratings(&tickets, cal.as_deref())
    };
    Ok(Figures {
        filter: scope.filter.clone(),
        generated_at: cx.now,
        workdays,
        wait_target_minutes: settings.wait_target_minutes,
        queue,
        ratings,
        cases: case_figures,
        ab,
    })
}

/// The case figures of a scope (also the deadline board's period figures, `case.stats`).
pub(crate) fn case_figures(tx: &Tx<'_>, scope: &Scope) -> Result<CaseFigures> {
    let p = &scope.period;
    let cases = facts::cases(tx, p)?;
    let cases: Vec<&facts::CaseFact> = cases.iter().filter(|c| scope.wants_case(c)).collect();
    let mut total = CaseRow::new("all", "全厅");
    for c in &cases {
        total.add(c, p);
    }
    let by_item = figures::case_rows(&cases, p, |c| c.item_id.as_str(), |c| c.item_name.clone());
    let mut by_clerk =
        figures::case_rows(&cases, p, |c| c.owner_id.as_str(), |c| c.owner_name.clone());
    for r in &mut by_clerk {
        r.visits_needed = None;
    }
    Ok(CaseFigures {
        total: total.finish(),
        by_item,
        by_clerk,
        by_day: figures::case_days(&cases, p),
    })
}

/// The figures of a period (the supervisor's dashboard).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetFigures {
    pub filter: ReportFilter,
}

impl Operation for GetFigures {
    const NAME: &'static str = "report.figures";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Figures;
    fn run(self, cx: &mut Cx<'_>) -> Result<Figures> {
        let scope = self.filter.check(cx.tx)?;
        compute(cx, &scope)
    }
}

/// A figure that can be drilled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Issued,
    Served,
    NoShow,
    Unserved,
    OverTarget,
    Rated,
    BadRating,
    /// The rated visits of the filter's service item (满意率 per item): tickets have no item, so
    /// the other ticket measures ignore an item filter; this one narrows to the visits whose
    /// trip belongs to an application of the item.
    ItemRated,
    Accepted,
    Decided,
    Early,
    OnTime,
    Late,
    OpenYellow,
    OpenRed,
    OpenSevere,
    Suspended,
    Extended,
    OverVisits,
    OnBehalf,
}

/// The tickets or cases behind one figure.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DrillDown {
    pub filter: ReportFilter,
    pub measure: Measure,
    /// Only this day (a point on a trend chart), within the filter's period.
    #[serde(default)]
    pub day: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DrillTicket {
    pub id: String,
    pub number: String,
    pub day: String,
    pub category: String,
    pub status: String,
    pub window_number: Option<u32>,
    pub staff_name: Option<String>,
    pub issued_at: Timestamp,
    pub wait_minutes: Option<f64>,
    pub service_minutes: Option<f64>,
    pub rating: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DrillCase {
    pub id: String,
    pub number: String,
    pub item_name: String,
    pub owner_name: String,
    pub accepted_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub status: String,
    pub level: String,
    pub timing: Option<String>,
    pub workdays_used: Option<u32>,
    pub visits: u32,
}

/// At most this many rows are listed; `total` still counts all.
pub const DRILL_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Drill {
    pub measure: Measure,
    pub total: u32,
    pub tickets: Vec<DrillTicket>,
    pub cases: Vec<DrillCase>,
}

impl Operation for DrillDown {
    const NAME: &'static str = "report.drill";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Drill;
    fn run(self, cx: &mut Cx<'_>) -> Result<Drill> {
        let mut filter = self.filter.clone();
        if let Some(day) = self.day.as_deref().filter(|d| !d.is_empty()) {
            let d = crate::calendar::parse_date("day", day)?;
            let outer = self.filter.check(cx.tx)?.period;
            if d < outer.from || d > outer.to {
                return Err(
                    CoreError::new(ErrorCode::OutOfRange, "所选日期不在统计区间内").field("day"),
                );
            }
            filter.from = d.to_string();
            filter.to = d.to_string();
        }
        let scope = filter.check(cx.tx)?;
        let p = scope.period;
        let mut out = Drill {
            measure: self.measure,
            total: 0,
            tickets: vec![],
            cases: vec![],
        };
        let minutes = |s: Option<i64>| s.map(|s| (s as f64 / 6.0).round() / 10.0);
        if self.measure.is_ticket_measure() {
            let target = i64::from(load_settings(cx.tx)?.wait_target_minutes) * 60;
            // Tickets have no item: the queue's figures ignore an item filter. A rating belongs
            // to the item of the application its visit's trip opened, supplemented or accepted;
            // `ItemRated` (满意率 per item) narrows to those visits.
            let of_item = match (&scope.filter.item_id, self.measure) {
                (Some(item), Measure::ItemRated) => {
                    Some(ratings_export::tickets_of_item(cx, item, &p)?)
                }
                (None, Measure::ItemRated) => {
                    return Err(CoreError::new(ErrorCode::Required, "请选择事项").field("item_id"));
                }
                _ => None,
            };
            let mut rows: Vec<_> = facts::tickets(cx.tx, &p)?
                .into_iter()
                .filter(|t| {
                    scope.wants_ticket(t)
                        && self.measure.holds_ticket(t, target)
                        && of_item.as_ref().is_none_or(|ids| ids.contains(&t.id))
                })
                .collect();
            rows.sort_by(|a, b| (&a.day, a.issued_at).cmp(&(&b.day, b.issued_at)));
            out.total = rows.len() as u32;
            out.tickets = rows
                .into_iter()
                .take(DRILL_LIMIT)
                .map(|t| DrillTicket {
                    wait_minutes: minutes(t.wait_secs()),
                    service_minutes: minutes(t.service_secs()),
                    rating: t.rating.as_ref().map(|r| r.level),
                    id: t.id,
                    number: t.number,
                    day: t.day,
                    category: t.category_name,
                    status: t.status,
                    window_number: t.window_number,
                    staff_name: t.staff_name,
                    issued_at: from_ms(t.issued_at),
                })
                .collect();
        } else {
            let mut rows: Vec<_> = facts::cases(cx.tx, &p)?
                .into_iter()
                .filter(|c| scope.wants_case(c) && self.measure.holds_case(c, &p))
                .collect();
            rows.sort_by(|a, b| a.number.cmp(&b.number));
            out.total = rows.len() as u32;
            out.cases = rows
                .into_iter()
                .take(DRILL_LIMIT)
                .map(|c| DrillCase {
                    id: c.id,
                    number: c.number,
                    item_name: c.item_name,
                    owner_name: c.owner_name,
                    accepted_at: from_ms(c.accepted_at),
                    decided_at: c.decided_at.map(from_ms),
                    status: c.status,
                    level: c.level,
                    timing: c.timing,
                    workdays_used: c.workdays_used,
                    visits: c.visits,
                })
                .collect();
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetReportSettings {}

impl Operation for GetReportSettings {
    const NAME: &'static str = "report.settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = ReportSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<ReportSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateReportSettings {
    pub settings: ReportSettings,
}

impl Operation for UpdateReportSettings {
    const NAME: &'static str = "report.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = ReportSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<ReportSettings> {
        let s = self.settings;
        validate::range_i64(
            "wait_target_minutes",
            "候时目标",
            i64::from(s.wait_target_minutes),
            1,
            240,
        )?;
        validate::range_i64(
            "weekly_weekday",
            "周报生成日",
            i64::from(s.weekly_weekday),
            1,
            7,
        )?;
        validate::range_i64("monthly_day", "月报生成日", i64::from(s.monthly_day), 1, 28)?;
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE report_settings SET wait_target_minutes = ?1, daily_enabled = ?2,
                weekly_weekday = ?3, monthly_day = ?4, updated_at = ?5",
            params![
                s.wait_target_minutes,
                s.daily_enabled,
                s.weekly_weekday,
                s.monthly_day,
                to_ms(cx.now)
            ],
        )?;
        let after = load_settings(cx.tx)?;
        cx.record(
            Topic::Report,
            AuditDraft::new("report_settings", None, "修改报表设置")
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

/// A report file for download (xlsx or PDF), base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReportFile {
    pub filename: String,
    pub content_base64: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Xlsx,
    Pdf,
}

/// Export the figures of a period: an xlsx workbook with charts, or the PDF report.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ExportReport {
    pub filter: ReportFilter,
    pub format: ReportFormat,
}

impl Operation for ExportReport {
    const NAME: &'static str = "report.export";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = ReportFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<ReportFile> {
        let scope = self.filter.check(cx.tx)?;
        let figures = compute(cx, &scope)?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let title = filing::title_for(&hall.name, None, &scope.period);
        let (bytes, ext) = match self.format {
            ReportFormat::Xlsx => (xlsx::workbook(&title, &figures)?, "xlsx"),
            ReportFormat::Pdf => (pdf::render(&hall, &title, &figures, cx.now)?, "pdf"),
        };
        Ok(ReportFile {
            filename: format!("统计报表-{}-{}.{ext}", scope.filter.from, scope.filter.to),
            sha256: crate::kernel::ids::sha256_hex(&bytes),
            content_base64: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &bytes,
            ),
        })
    }
}
