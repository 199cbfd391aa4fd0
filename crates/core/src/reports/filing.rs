//! Scheduled reports (定期报表): the daily summary (每日汇总) after closing time on each working
//! day, the weekly report (周报) of the week before on its weekday, the monthly analysis (月度分析)
//! of the month before on its day. Each is filed once, as a PDF and an xlsx under
//! `archive/reports/YYYY/` beside the notice archive, with their SHA-256 in `report_files`.
//!
//! Contract:
//! - What is due is a pure function of the moment, the hall's closing time, the calendar and
//!   the settings ([`due`]); only the latest period of each kind is filed, so a hall that
//!   installs OneTrip over years of history does not file hundreds of reports at once.
//! - The figures are computed in a read transaction, rendered outside any (Typst takes a
//!   moment), and the row and its audit written after (one audit row per report). A report already filed is never filed again.
//! - The sweep (desktop shell and hall server, every minute) calls [`crate::Store::file_due_reports`].

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::{Store, Tx};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Period, ReportFile, ReportFilter, ReportFormat, ReportSettings, Scope};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, hall_minute, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{HallEvent, Topic};
use crate::kernel::ids::{new_id, sha256_hex};
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Daily,
    Weekly,
    Monthly,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
        }
    }
    fn parse(s: &str) -> ReportKind {
        match s {
            "weekly" => ReportKind::Weekly,
            "monthly" => ReportKind::Monthly,
            _ => ReportKind::Daily,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Daily => "每日汇总",
            ReportKind::Weekly => "周报",
            ReportKind::Monthly => "月度分析",
        }
    }
}

/// The title of a report over `p` (`kind` None: an ad-hoc export).
pub fn title_for(hall: &str, kind: Option<ReportKind>, p: &Period) -> String {
    let span = match kind {
        Some(ReportKind::Daily) => {
            format!("{}年{}月{}日", p.from.year(), p.from.month(), p.from.day())
        }
        Some(ReportKind::Monthly) => format!("{}年{}月", p.from.year(), p.from.month()),
        _ => format!("{} 至 {}", p.from, p.to),
    };
    match kind {
        Some(k) => format!("{hall}{span}{}", k.label()),
        None => format!("{hall}统计报表（{span}）"),
    }
}

/// A report that should exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub kind: ReportKind,
    pub from: Date,
    pub to: Date,
}

/// What is due at `today`, `minute` (Beijing): the latest daily summary whose closing time has
/// passed (today after closing, else the working day before), the latest week whose filing
/// weekday has come, the latest month whose filing day has come.
pub fn due(
    today: Date,
    minute: u16,
    closing: u16,
    is_workday: impl Fn(Date) -> bool,
    s: &ReportSettings,
) -> Vec<Due> {
    let mut out = vec![];
    if s.daily_enabled {
        let mut d = today;
        if !(is_workday(d) && minute >= closing) {
            d = d.yesterday().unwrap_or(d);
            let mut tries = 0;
            while !is_workday(d) && tries < 31 {
                d = d.yesterday().unwrap_or(d);
                tries += 1;
            }
        }
        if is_workday(d) {
            out.push(Due {
                kind: ReportKind::Daily,
                from: d,
                to: d,
            });
        }
    }
    let weekday = today.weekday().to_monday_one_offset() as u8;
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(weekday - 1)))
        .unwrap_or(today);
    let back = if weekday >= s.weekly_weekday { 7 } else { 14 };
    if let (Ok(from), Ok(to)) = (
        monday.checked_sub(jiff::Span::new().days(back)),
        monday.checked_sub(jiff::Span::new().days(back - 6)),
    ) {
        debug_assert_eq!(from.weekday(), Weekday::Monday, "a week starts on Monday");
        out.push(Due {
            kind: ReportKind::Weekly,
            from,
            to,
        });
    }
    let first = today.first_of_month();
    let months = if today.day() >= s.monthly_day as i8 {
        1
    } else {
        2
    };
    if let Ok(from) = first.checked_sub(jiff::Span::new().months(months)) {
        out.push(Due {
            kind: ReportKind::Monthly,
            from,
            to: from.last_of_month(),
        });
    }
    out
}

/// A filed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FiledReport {
    pub id: String,
    pub kind: ReportKind,
    pub from: String,
    pub to: String,
    pub title: String,
    pub filed_at: Timestamp,
    pub pdf_sha256: String,
    pub xlsx_sha256: String,
}

const FILED_SELECT: &str =
    "SELECT id, kind, period_from, period_to, title, filed_at, pdf_sha256, xlsx_sha256,
    pdf_path, xlsx_path FROM report_files";

fn filed_row(
    r: &crate::kernel::store::Row<'_>,
) -> crate::kernel::store::StoreResult<(FiledReport, String, String)> {
    Ok((
        FiledReport {
            id: r.get(0)?,
            kind: ReportKind::parse(&r.get::<_, String>(1)?),
            from: r.get(2)?,
            to: r.get(3)?,
            title: r.get(4)?,
            filed_at: from_ms(r.get(5)?),
            pdf_sha256: r.get(6)?,
            xlsx_sha256: r.get(7)?,
        },
        r.get(8)?,
        r.get(9)?,
    ))
}

/// A report rendered and ready to file.
struct Rendered {
    due: Due,
    title: String,
    pdf: Vec<u8>,
    xlsx: Vec<u8>,
}

/// A due report's figures, computed in the read transaction; rendered after it ends, so the
/// store is not held while Typst lays out pages.
struct Computed {
    due: Due,
    title: String,
    hall: crate::hall::Hall,
    figures: super::Figures,
    at: Timestamp,
}

/// Whether the report `d` stands for is already filed.
fn is_filed(tx: &Tx<'_>, d: &Due) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM report_files WHERE kind = ?1 AND period_from = ?2",
            params![d.kind.as_str(), d.from.to_string()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .is_some())
}

fn closing_minute(tx: &Tx<'_>) -> Result<u16> {
    let hall = crate::hall::load_hall(tx)?;
    let mut closing = 17 * 60;
    if let Some(last) = hall.business_hours.last() {
        closing = validate::hhmm("business_hours", &last.end)?;
    }
    Ok(closing)
}

/// File every report that is due at `now` and not yet filed (the sweep calls this every
/// minute; nothing is done when nothing is due).
pub fn file_due(store: &Store, now: Timestamp) -> Result<(Vec<FiledReport>, Vec<HallEvent>)> {
    let (rendered, _) = store.system_job("定期报表", "report.file_due", now, false, |cx| {
        let settings = super::load_settings(cx.tx)?;
        let closing = closing_minute(cx.tx)?;
        let cal = cx.calendar()?;
        let mut todo = vec![];
        for d in due(
            hall_date(now),
            hall_minute(now),
            closing,
            |d| cal.is_workday(d).unwrap_or(false),
            &settings,
        ) {
            if !is_filed(cx.tx, &d)? {
                todo.push(compute(cx, d)?);
            }
        }
        Ok(todo)
    })?;
    if rendered.is_empty() {
        return Ok((vec![], vec![]));
    }
    let rendered = rendered
        .into_iter()
        .map(|c| {
            Ok(Rendered {
                pdf: super::pdf::render(&c.hall, &c.title, &c.figures, c.at)?,
                xlsx: super::xlsx::workbook(&c.title, &c.figures)?,
                due: c.due,
                title: c.title,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let data_dir = store.data_dir().to_path_buf();
    store.system_job("定期报表", "report.file_due", now, true, |cx| {
        // Two hall servers filing at once: one files, the other finds it filed.
        cx.tx.serialize("job:report.file_due")?;
        let mut filed = vec![];
        for r in &rendered {
            let dir = std::path::PathBuf::from("archive")
                .join("reports")
                .join(format!("{:04}", r.due.from.year()));
            let stem = format!("{}-{}", r.due.kind.as_str(), r.due.from);
            let pdf_rel = dir.join(format!("{stem}.pdf"));
            let xlsx_rel = dir.join(format!("{stem}.xlsx"));
            if is_filed(cx.tx, &r.due)? {
                continue; // another instance filed it meanwhile
            }
            crate::notices::write_synced(&data_dir.join(&pdf_rel), &r.pdf)?;
            crate::notices::write_synced(&data_dir.join(&xlsx_rel), &r.xlsx)?;
            let id = new_id();
            cx.tx.execute(
                "INSERT INTO report_files (id, kind, period_from, period_to, title, pdf_path,
                    xlsx_path, pdf_sha256, xlsx_sha256, filed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    r.due.kind.as_str(),
                    r.due.from.to_string(),
                    r.due.to.to_string(),
                    r.title,
                    pdf_rel.to_string_lossy(),
                    xlsx_rel.to_string_lossy(),
                    sha256_hex(&r.pdf),
                    sha256_hex(&r.xlsx),
                    to_ms(cx.now)
                ],
            )?;
            cx.record(
                Topic::Report,
                AuditDraft::new("report", Some(&id), format!("归档{}", r.title)),
            )?;
            let (row, _, _) =
                cx.tx
                    .query_row(&format!("{FILED_SELECT} WHERE id = ?1"), [&id], filed_row)?;
            filed.push(row);
        }
        Ok(filed)
    })
}

fn compute(cx: &mut Cx<'_>, d: Due) -> Result<Computed> {
    let period = Period::new(d.from, d.to)?;
    let scope = Scope {
        period,
        filter: ReportFilter {
            from: d.from.to_string(),
            to: d.to.to_string(),
            ..Default::default()
        },
    };
    let figures = super::compute(cx, &scope)?;
    let hall = crate::hall::load_hall(cx.tx)?;
    Ok(Computed {
        due: d,
        title: title_for(&hall.name, Some(d.kind), &period),
        hall,
        figures,
        at: cx.now,
    })
}

/// The reports filed so far, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListFiledReports {}

impl Operation for ListFiledReports {
    const NAME: &'static str = "report.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<FiledReport>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<FiledReport>> {
        let mut stmt = cx.tx.prepare(&format!(
            "{FILED_SELECT} ORDER BY period_from DESC, kind LIMIT 500"
        ))?;
        let rows = stmt.query_map([], filed_row)?;
        Ok(rows
            .map(|r| r.map(|(f, _, _)| f))
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
    }
}

/// One filed report's PDF or xlsx, checked against the SHA-256 recorded when it was filed.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetFiledReport {
    pub id: String,
    pub format: ReportFormat,
}

impl Operation for GetFiledReport {
    const NAME: &'static str = "report.filed_file";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = ReportFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<ReportFile> {
        let id = validate::id("id", "报表", &self.id)?;
        let (row, pdf, xlsx) = cx
            .tx
            .query_row(&format!("{FILED_SELECT} WHERE id = ?1"), [&id], filed_row)
            .optional()?
            .ok_or_else(|| CoreError::not_found("报表", &id).field("id"))?;
        let (rel, sha, ext) = match self.format {
            ReportFormat::Pdf => (pdf, row.pdf_sha256, "pdf"),
            ReportFormat::Xlsx => (xlsx, row.xlsx_sha256, "xlsx"),
        };
        let bytes = std::fs::read(cx.data_dir().join(&rel)).map_err(|e| {
            CoreError::new(
                ErrorCode::ArchiveAltered,
                format!("存档文件无法读取：{rel}（{e}）"),
            )
        })?;
        let actual = sha256_hex(&bytes);
        if actual != sha {
            return Err(CoreError::new(
                ErrorCode::ArchiveAltered,
                format!("存档文件与归档时登记的校验值不符：{rel}"),
            ));
        }
        Ok(ReportFile {
            filename: format!("{}.{ext}", row.title),
            content_base64: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &bytes,
            ),
            sha256: actual,
        })
    }
}
