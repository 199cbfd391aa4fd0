//! 好差评 data for a province's platform (国办发〔2019〕51号: halls report every rating, with
//! its channel and what was done about a bad one). One row per rating given in the period, as
//! documented JSON (`docs/haochaping-export.md`, format `onetrip.haochaping/1`) or as an xlsx
//! sheet with the same columns. Ratings taken out of the figures by an upheld dispute are
//! exported too, flagged: the platform keeps the record.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ReportFile, ReportFilter};
use crate::kernel::clock::{from_ms, hall_tz};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::op::{Access, Cx, Operation};
use crate::queue::{RatingChannel, RatingLevel};

/// The format's name and version, first in the JSON document.
pub const FORMAT: &str = "onetrip.haochaping/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingExportFormat {
    Json,
    Xlsx,
}

/// Export the ratings given in a period (by their rating time, Beijing days).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ExportRatings {
    pub from: String,
    pub to: String,
    pub format: RatingExportFormat,
}

/// One rating, as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RatingRow {
    /// 评价渠道: `rater` (窗口评价器), `paper`, `phone`, `qr` (扫码).
    pub channel: String,
    /// When it was given, RFC 3339 with the +08:00 offset.
    pub rated_at: String,
    pub hall_code: String,
    pub hall_name: String,
    pub window_number: Option<u32>,
    pub clerk_name: Option<String>,
    pub ticket_number: String,
    pub item_code: Option<String>,
    pub item_name: Option<String>,
    pub application_number: Option<String>,
    pub case_number: Option<String>,
    /// 5 非常满意 … 1 非常不满意.
    pub level: u8,
    pub level_name: String,
    pub reasons: Vec<String>,
    pub comment: String,
    /// For 不满意 and below: `open`, `verified` (called back), `closed`; `none` otherwise.
    pub rectification: String,
    pub verified_at: Option<String>,
    pub closed_at: Option<String>,
    /// 立行立改 `fixed`, 限期整改 `plan`, 解释说明 `explained`, 申诉成立 `dispute`.
    pub outcome: Option<String>,
    /// An upheld dispute took it out of the figures.
    pub excluded: bool,
}

/// The JSON document.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RatingExport {
    pub format: String,
    pub hall_code: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub rows: Vec<RatingRow>,
}

fn rfc3339(ms: i64) -> String {
    from_ms(ms)
        .to_zoned(hall_tz())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

pub(crate) fn rows(cx: &Cx<'_>, period: &super::Period) -> Result<Vec<RatingRow>> {
    let (start, end) = (period.start_ms, period.end_ms);
    let hall = crate::hall::load_hall(cx.tx)?;
    // The application a rating belongs to: the one whose trip came with the rated ticket.
    let mut stmt = cx.tx.prepare(
        "SELECT r.channel, r.rated_at, w.number, s.name, t.number, i.code, i.name, a.number, c.number,
                r.level, r.reasons, r.comment, f.status, f.verified_at, f.closed_at, f.outcome_kind,
                r.excluded_at IS NOT NULL
         FROM ratings r
         JOIN tickets t ON t.id = r.ticket_id
         LEFT JOIN windows w ON w.id = r.window_id
         LEFT JOIN staff s ON s.id = r.staff_id
         LEFT JOIN followups f ON f.ticket_id = r.ticket_id
         LEFT JOIN applications a ON a.id = (SELECT v.application_id FROM application_visits v
                                             WHERE v.ticket_id = r.ticket_id ORDER BY v.at DESC LIMIT 1)
         LEFT JOIN service_items i ON i.id = a.item_id
         LEFT JOIN cases c ON c.id = a.case_id
         WHERE r.rated_at >= ?1 AND r.rated_at < ?2
         ORDER BY r.rated_at",
    )?;
    let out = stmt
        .query_map(params![start, end], |r| {
            let level: u8 = r.get(9)?;
            let reasons: String = r.get(10)?;
            let status: Option<String> = r.get(12)?;
            let verified: Option<i64> = r.get(13)?;
            let closed: Option<i64> = r.get(14)?;
            Ok(RatingRow {
                channel: RatingChannel::parse(&r.get::<_, String>(0)?)
                    .as_str()
                    .to_owned(),
                rated_at: rfc3339(r.get(1)?),
                hall_code: hall.code.clone(),
                hall_name: hall.name.clone(),
                window_number: r.get(2)?,
                clerk_name: r.get(3)?,
                ticket_number: r.get(4)?,
                item_code: r.get(5)?,
                item_name: r.get(6)?,
                application_number: r.get(7)?,
                case_number: r.get(8)?,
                level,
                level_name: RatingLevel::from_score(level)
                    .map(|l| l.label().to_owned())
                    .unwrap_or_default(),
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                comment: r.get(11)?,
                rectification: match (status.as_deref(), verified) {
                    (None, _) => "none",
                    (Some("closed"), _) => "closed",
                    (Some(_), Some(_)) => "verified",
                    (Some(_), None) => "open",
                }
                .to_owned(),
                verified_at: verified.map(rfc3339),
                closed_at: closed.map(rfc3339),
                outcome: r.get(15)?,
                excluded: r.get(16)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok(out)
}

impl Operation for ExportRatings {
    const NAME: &'static str = "rating.export";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = ReportFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<ReportFile> {
        let scope = ReportFilter {
            from: self.from.clone(),
            to: self.to.clone(),
            ..Default::default()
        }
        .check(cx.tx)?;
        let (from, to) = (scope.period.from, scope.period.to);
        let rows = rows(cx, &scope.period)?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let (bytes, ext) = match self.format {
            RatingExportFormat::Json => {
                let doc = RatingExport {
                    format: FORMAT.into(),
                    hall_code: hall.code.clone(),
                    from: from.to_string(),
                    to: to.to_string(),
                    generated_at: rfc3339(crate::kernel::clock::to_ms(cx.now)),
                    rows,
                };
                (
                    serde_json::to_vec_pretty(&doc)
                        .map_err(|e| CoreError::internal(e.to_string()))?,
                    "json",
                )
            }
            RatingExportFormat::Xlsx => (xlsx(&rows)?, "xlsx"),
        };
        Ok(ReportFile {
            filename: format!("好差评-{}-{from}-{to}.{ext}", hall.code),
            sha256: crate::kernel::ids::sha256_hex(&bytes),
            content_base64: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &bytes,
            ),
        })
    }
}

/// The column headings of the xlsx sheet, in the JSON fields' order.
pub const HEADINGS: [&str; 20] = [
    "评价渠道",
    "评价时间",
    "大厅编码",
    "大厅名称",
    "窗口",
    "工作人员",
    "号票",
    "事项编码",
    "事项名称",
    "申请编号",
    "办件编号",
    "评价等级",
    "评价",
    "原因",
    "意见",
    "整改状态",
    "回访时间",
    "办结时间",
    "整改结果",
    "不计入统计",
];

fn xlsx(rows: &[RatingRow]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let build = || -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        let head = Format::new().set_bold().set_background_color("F3E5E3");
        let sheet = book.add_worksheet().set_name("好差评")?;
        for (c, h) in HEADINGS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &head)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let row = i as u32 + 1;
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            let cells: [String; 20] = [
                RatingChannel::parse(&r.channel).label().to_owned(),
                r.rated_at.clone(),
                r.hall_code.clone(),
                r.hall_name.clone(),
                r.window_number
                    .map(|n| format!("{n}号窗口"))
                    .unwrap_or_default(),
                opt(&r.clerk_name),
                r.ticket_number.clone(),
                opt(&r.item_code),
                opt(&r.item_name),
                opt(&r.application_number),
                opt(&r.case_number),
                r.level.to_string(),
                r.level_name.clone(),
                r.reasons.join("、"),
                r.comment.clone(),
                r.rectification.clone(),
                opt(&r.verified_at),
                opt(&r.closed_at),
                opt(&r.outcome),
                if r.excluded {
                    "是".into()
                } else {
                    String::new()
                },
            ];
            for (c, v) in cells.iter().enumerate() {
                if c == 11 {
                    sheet.write_number(row, c as u16, f64::from(r.level))?;
                } else {
                    sheet.write_string(row, c as u16, v)?;
                }
            }
        }
        sheet.autofit();
        book.save_to_buffer()
    };
    build().map_err(|e| CoreError::internal(format!("生成 Excel 失败：{e}")))
}

/// The tickets of a period whose trip belongs to an application of `item` (drill-downs by item).
pub(crate) fn tickets_of_item(
    cx: &Cx<'_>,
    item: &str,
    period: &super::Period,
) -> Result<std::collections::HashSet<String>> {
    let mut stmt = cx.tx.prepare(
        "SELECT DISTINCT v.ticket_id FROM application_visits v
         JOIN applications a ON a.id = v.application_id
         WHERE a.item_id = ?1 AND v.ticket_id IS NOT NULL AND v.at >= ?2 AND v.at < ?3",
    )?;
    let ids = stmt
        .query_map(params![item, period.start_ms, period.end_ms], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    Ok(ids)
}

/// 满意率 per service item: the ratings of the visits that opened, supplemented or accepted an
/// application of the item. A read of its own (the ratings of the period, not every ticket), so
/// the period's figures do not pay for it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RatingsByItem {
    pub filter: ReportFilter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ItemRatingRow {
    /// The item's id (the drill-down's filter).
    pub key: String,
    pub code: String,
    pub name: String,
    pub rated: u32,
    pub satisfied: u32,
    pub bad: u32,
    pub satisfied_rate: Option<f64>,
}

impl Operation for RatingsByItem {
    const NAME: &'static str = "report.ratings_by_item";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<ItemRatingRow>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<ItemRatingRow>> {
        let scope = self.filter.check(cx.tx)?;
        let f = &scope.filter;
        let mut stmt = cx.tx.prepare(
            "SELECT i.id, i.code, i.name, r.level, r.window_id, r.staff_id, t.category_id
             FROM ratings r
             JOIN tickets t ON t.id = r.ticket_id
             JOIN applications a ON a.id = (SELECT v.application_id FROM application_visits v
                                            WHERE v.ticket_id = r.ticket_id ORDER BY v.at DESC LIMIT 1)
             JOIN service_items i ON i.id = a.item_id
             WHERE t.day >= ?1 AND t.day <= ?2 AND r.excluded_at IS NULL",
        )?;
        type Found = (
            String,
            String,
            String,
            u8,
            Option<String>,
            Option<String>,
            String,
        );
        let found: Vec<Found> = stmt
            .query_map(
                params![scope.period.from.to_string(), scope.period.to.to_string()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )?
            .collect::<crate::kernel::store::StoreResult<_>>()?;
        let mut by: std::collections::BTreeMap<String, ItemRatingRow> = Default::default();
        for (id, code, name, level, window, staff, category) in found {
            // The narrowing the other figures take applies to the visit.
            if f.item_id.as_ref().is_some_and(|i| *i != id)
                || f.window_id
                    .as_ref()
                    .is_some_and(|w| Some(w) != window.as_ref())
                || f.staff_id
                    .as_ref()
                    .is_some_and(|s| Some(s) != staff.as_ref())
                || f.category_id.as_ref().is_some_and(|c| *c != category)
            {
                continue;
            }
            let row = by.entry(id.clone()).or_insert_with(|| ItemRatingRow {
                key: id,
                code,
                name,
                rated: 0,
                satisfied: 0,
                bad: 0,
                satisfied_rate: None,
            });
            row.rated += 1;
            row.satisfied += u32::from(level >= 4);
            row.bad += u32::from(level <= 2);
        }
        let mut out: Vec<ItemRatingRow> = by
            .into_values()
            .map(|mut r| {
                r.satisfied_rate = super::figures::pct(r.satisfied, r.rated);
                r
            })
            .collect();
        out.sort_by(|a, b| b.rated.cmp(&a.rated).then(a.code.cmp(&b.code)));
        Ok(out)
    }
}
