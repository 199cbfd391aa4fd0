//! Notices (文书) as issued records: numbering, rendering through the hall's template, the
//! archive copy, templates and printing settings.
//!
//! Contract:
//! - A notice is issued inside the writing transaction of the decision it documents: its number
//!   (`{hall code}-WS-{year}-{seq:06}`) is allocated there, the PDF/A-2b is rendered from the
//!   exact data and template version stored in `documents`, and the archive copy
//!   `archive/YYYY/MM/<number>.pdf` beside the database is written and synced before the commit.
//!   (A rolled-back decision can leave an orphan file; never a record without its file.)
//! - `documents` rows are never changed (database triggers); a notice can be rendered again
//!   byte for byte from its row.
//! - Templates: the newest saved version of a kind, else the build's default. A template that
//!   does not render its sample data is refused with its line and message; the previous stays.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use base64::Engine;
use jiff::Timestamp;
use onetrip_notice::{Issued, NoticeError, NoticeKind, Paper};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::{new_id, sha256_hex};
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// A Chinese civil date for a notice ("2026年11月23日").
pub fn cn_date(d: jiff::civil::Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

pub fn cn_date_of(t: Timestamp) -> String {
    cn_date(hall_date(t))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NoticeSettings {
    /// `a4` or `a5`.
    pub paper: String,
    /// The CUPS queue notices print on ('' = none set up).
    pub printer: String,
    /// Working days the applicant is given to supplement.
    pub supplement_days: u32,
    /// 行政复议机关, named on rejection notices.
    pub review_body: String,
    /// 行政诉讼管辖法院, named on rejection notices.
    pub court: String,
}

pub(crate) fn load_settings(tx: &Tx<'_>) -> Result<NoticeSettings> {
    Ok(tx.query_row(
        "SELECT paper, printer, supplement_days, review_body, court FROM notice_settings",
        [],
        |r| {
            Ok(NoticeSettings {
                paper: r.get(0)?,
                printer: r.get(1)?,
                supplement_days: r.get(2)?,
                review_body: r.get(3)?,
                court: r.get(4)?,
            })
        },
    )?)
}

pub(crate) fn paper_of(s: &str) -> Paper {
    if s == "a5" { Paper::A5 } else { Paper::A4 }
}

/// The template in force for a kind: (version, source); version 0 is the build's default.
pub(crate) fn template_for(tx: &Tx<'_>, kind: NoticeKind) -> Result<(i64, String)> {
    let row: Option<(i64, String)> = tx
        .query_row(
            "SELECT version, source FROM notice_templates WHERE kind = ?1 ORDER BY version DESC LIMIT 1",
            [kind.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.unwrap_or_else(|| (0, kind.default_template().to_owned())))
}

pub(crate) fn template_version(tx: &Tx<'_>, kind: NoticeKind, version: i64) -> Result<String> {
    if version == 0 {
        return Ok(kind.default_template().to_owned());
    }
    Ok(tx.query_row(
        "SELECT source FROM notice_templates WHERE kind = ?1 AND version = ?2",
        params![kind.as_str(), version],
        |r| r.get(0),
    )?)
}

/// Render one sample notice before the first real one (see [`onetrip_notice::warm_up`]): the
/// hall server and the desktop call this once at startup, off the request path.
pub fn warm_up() -> Result<()> {
    onetrip_notice::warm_up().map_err(notice_error)
}

pub(crate) fn notice_error(e: NoticeError) -> CoreError {
    match e {
        NoticeError::Template {
            line,
            column,
            message,
        } => CoreError::new(
            ErrorCode::TemplateInvalid,
            format!("文书模板第 {line} 行第 {column} 列有误：{message}"),
        )
        .field("source")
        .param("line", line)
        .param("message", message),
        other => CoreError::new(ErrorCode::PrintFailed, other.to_string()),
    }
}

pub(crate) fn issued(t: Timestamp) -> Issued {
    let z = t.to_zoned(jiff::tz::TimeZone::UTC);
    Issued {
        year: i32::from(z.year()),
        month: z.month() as u8,
        day: z.day() as u8,
        hour: z.hour() as u8,
        minute: z.minute() as u8,
        second: z.second() as u8,
    }
}

/// A notice as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DocumentRef {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub title: String,
    pub paper: String,
    pub archive_path: String,
    pub issued_at: Timestamp,
}

const DOC_SELECT: &str = "SELECT id, number, kind, paper, archive_path, issued_at FROM documents";

fn doc_row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<DocumentRef> {
    let kind: String = r.get(2)?;
    Ok(DocumentRef {
        id: r.get(0)?,
        number: r.get(1)?,
        title: NoticeKind::parse(&kind)
            .map_or("", |k| k.title())
            .to_owned(),
        kind,
        paper: r.get(3)?,
        archive_path: r.get(4)?,
        issued_at: from_ms(r.get(5)?),
    })
}

pub(crate) fn documents_of(tx: &Tx<'_>, application_id: &str) -> Result<Vec<DocumentRef>> {
    let mut stmt = tx.prepare_cached(&format!(
        "{DOC_SELECT} WHERE application_id = ?1 ORDER BY issued_at, number"
    ))?;
    Ok(stmt
        .query_map([application_id], doc_row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// Write a file and make it durable before the transaction commits.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Issue a notice: number it, render it, archive it, record it. The caller audits the decision.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue(
    tx: &Tx<'_>,
    data_dir: &Path,
    now: Timestamp,
    kind: NoticeKind,
    application_id: &str,
    case_id: Option<&str>,
    qr: &str,
    mut data: serde_json::Value,
    issued_by: &str,
) -> Result<DocumentRef> {
    let hall = crate::hall::load_hall(tx)?;
    let year = hall_date(now).year();
    let seq = crate::kernel::numbers::next(tx, "document", &year.to_string())?;
    let number = format!("{}-WS-{year}-{seq:06}", hall.code);
    data["number"] = number.clone().into();
    data["issued_date"] = cn_date_of(now).into();
    data["hall"] = serde_json::json!({
        "name": hall.name, "code": hall.code, "address": hall.address, "phone": hall.phone
    });
    // 好差评 by phone (国办发〔2019〕51号: 扫码评价): the one-time and acceptance notices carry a
    // short code; with the hall server's public address set, their QR code links to the rating
    // page with the notice's number and that code.
    let rating_code = matches!(
        kind,
        NoticeKind::SupplementNotice | NoticeKind::AcceptanceNotice
    )
    .then(rating_code);
    let public_url = crate::queue::rating::load_settings(tx)?.public_url;
    let qr = match &rating_code {
        Some(code) if !public_url.is_empty() => {
            format!("{public_url}/rate?n={number}&c={code}")
        }
        _ => qr.to_owned(),
    };
    if let Some(code) = &rating_code {
        data["rating"] = serde_json::json!({ "code": code, "url": qr });
    }
    let qr = qr.as_str();
    let settings = load_settings(tx)?;
    let (version, source) = template_for(tx, kind)?;
    let pdf = onetrip_notice::render_pdf(
        &source,
        &data,
        paper_of(&settings.paper),
        qr,
        &number,
        issued(now),
    )
    .map_err(notice_error)?;
    let z = now.to_zoned(hall_tz());
    let rel = PathBuf::from("archive")
        .join(format!("{:04}", z.year()))
        .join(format!("{:02}", z.month()))
        .join(format!("{number}.pdf"));
    write_synced(&data_dir.join(&rel), &pdf)?;
    let id = new_id();
    tx.execute(
        "INSERT INTO documents (id, number, kind, application_id, case_id, paper, template_version, data,
                                archive_path, sha256, issued_at, issued_by, rating_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            id,
            number,
            kind.as_str(),
            application_id,
            case_id,
            settings.paper,
            version,
            data.to_string(),
            rel.to_string_lossy(),
            sha256_hex(&pdf),
            to_ms(now),
            issued_by,
            rating_code
        ],
    )?;
    Ok(tx.query_row(&format!("{DOC_SELECT} WHERE id = ?1"), [&id], doc_row)?)
}

/// Six random digits: typed from the notice when the QR code cannot be scanned.
fn rating_code() -> String {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    format!("{:06}", u64::from_le_bytes(buf) % 1_000_000)
}

/// The absolute path of a document's archive copy, for printing.
pub fn archive_file(store: &crate::Store, document_id: &str) -> Result<(PathBuf, String)> {
    let (rel, printer): (String, String) = store.read(|tx| {
        let rel: String = tx
            .query_row(
                "SELECT archive_path FROM documents WHERE id = ?1",
                [document_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CoreError::not_found("文书", document_id))?;
        Ok((rel, load_settings(tx)?.printer))
    })?;
    Ok((store.data_dir().join(rel), printer))
}

pub(crate) fn png_url(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetNoticeSettings {}

impl Operation for GetNoticeSettings {
    const NAME: &'static str = "notice.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = NoticeSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<NoticeSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateNoticeSettings {
    pub settings: NoticeSettings,
}

impl Operation for UpdateNoticeSettings {
    const NAME: &'static str = "notice.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = NoticeSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<NoticeSettings> {
        let s = self.settings;
        if s.paper != "a4" && s.paper != "a5" {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "纸张应为 A4 或 A5").field("paper"),
            );
        }
        let printer = validate::optional_text("printer", "打印机", &s.printer, 60)?;
        if printer
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "打印机队列名只能包含字母、数字、- 和 _",
            )
            .field("printer"));
        }
        let days = validate::range_i64(
            "supplement_days",
            "补正期限",
            s.supplement_days.into(),
            1,
            180,
        )?;
        let review = validate::text("review_body", "行政复议机关", &s.review_body, 60)?;
        let court = validate::text("court", "管辖法院", &s.court, 60)?;
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE notice_settings SET paper = ?1, printer = ?2, supplement_days = ?3, review_body = ?4, court = ?5, updated_at = ?6",
            params![s.paper, printer, days, review, court, cx.ms()],
        )?;
        let after = load_settings(cx.tx)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new("notice_settings", None, "修改文书与打印设置")
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NoticeTemplate {
    pub kind: String,
    pub title: String,
    /// 0: the build's default.
    pub version: i64,
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListTemplates {}

impl Operation for ListTemplates {
    const NAME: &'static str = "notice.templates";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = false;
    type Response = Vec<NoticeTemplate>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<NoticeTemplate>> {
        NoticeKind::ALL
            .into_iter()
            .map(|k| {
                let (version, source) = template_for(cx.tx, k)?;
                Ok(NoticeTemplate {
                    kind: k.as_str().into(),
                    title: k.title().into(),
                    version,
                    source,
                })
            })
            .collect()
    }
}

/// Save a new version of a template, after it has rendered its sample data.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateTemplate {
    pub kind: String,
    pub source: String,
}

impl Operation for UpdateTemplate {
    const NAME: &'static str = "notice.update_template";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = NoticeTemplate;
    fn run(self, cx: &mut Cx<'_>) -> Result<NoticeTemplate> {
        let kind = NoticeKind::parse(&self.kind).ok_or_else(|| {
            CoreError::new(
                ErrorCode::InvalidFormat,
                format!("未知文书类型 {}", self.kind),
            )
            .field("kind")
        })?;
        if self.source.trim().is_empty() || self.source.len() > 100_000 {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "模板不能为空，且不超过 100 KB")
                    .field("source"),
            );
        }
        onetrip_notice::check_template(kind, &self.source).map_err(notice_error)?;
        let (current, _) = template_for(cx.tx, kind)?;
        let version = current + 1;
        cx.tx.execute(
            "INSERT INTO notice_templates (kind, version, source, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.as_str(), version, self.source, cx.ms(), cx.actor.display_name()],
        )?;
        cx.record(
            Topic::Hall,
            AuditDraft::new(
                "notice_template",
                None,
                format!("修改文书模板：{}（第 {version} 版）", kind.title()),
            ),
        )?;
        Ok(NoticeTemplate {
            kind: kind.as_str().into(),
            title: kind.title().into(),
            version,
            source: self.source,
        })
    }
}

/// A notice to print: its archive copy and this hall's notice printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Printable {
    pub number: String,
    /// Absolute path of the PDF (on the machine that holds the database).
    pub path: String,
    /// CUPS queue ('' = none set up).
    pub printer: String,
    /// The PDF itself, base64: in hall mode the desktop that owns the printer is not the
    /// machine that holds the file.
    pub pdf_base64: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetDocumentFile {
    pub id: String,
}

impl Operation for GetDocumentFile {
    const NAME: &'static str = "document.file";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Printable;
    fn run(self, cx: &mut Cx<'_>) -> Result<Printable> {
        let id = validate::id("id", "文书", &self.id)?;
        let (number, rel): (String, String) = cx
            .tx
            .query_row(
                "SELECT number, archive_path FROM documents WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| CoreError::not_found("文书", &id))?;
        let path = cx.data_dir().join(rel);
        let pdf = std::fs::read(&path).map_err(|e| {
            CoreError::new(
                ErrorCode::Storage,
                format!("读取文书存档 {} 失败：{e}", path.display()),
            )
        })?;
        Ok(Printable {
            number,
            path: path.to_string_lossy().into_owned(),
            printer: load_settings(cx.tx)?.printer,
            pdf_base64: base64::engine::general_purpose::STANDARD.encode(pdf),
        })
    }
}

/// The service card (便民卡) of an item, printable without any case: rendered to
/// `cards/<code>.pdf` beside the database, with a preview.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ServiceCard {
    pub item_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ServiceCardFile {
    pub file: Printable,
    pub png_data_url: String,
}

impl Operation for ServiceCard {
    const NAME: &'static str = "catalog.service_card";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = ServiceCardFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<ServiceCardFile> {
        let id = validate::id("item_id", "事项", &self.item_id)?;
        let item = crate::catalog::get(cx.tx, &id)?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let f = &item.fields;
        let data = serde_json::json!({
            "hall": {"name": hall.name, "code": hall.code, "address": hall.address, "phone": hall.phone},
            "number": f.code,
            "item": {"code": f.code, "name": f.name, "department": f.department, "kind": f.kind,
                      "legal_basis": f.legal_basis, "promised_days": f.promised_days, "statutory_days": f.statutory_days,
                      "fees": f.fees, "phone": f.phone, "location": f.location, "visits_needed": f.visits_needed},
            "materials": f.materials.iter().map(|m| serde_json::json!({
                "name": m.name, "form": m.form.label(), "copies": m.copies, "requirement": m.requirement.label(),
                "condition": m.condition, "standard": m.standard})).collect::<Vec<_>>(),
        });
        let path = cx.data_dir().join("cards").join(format!("{}.pdf", f.code));
        render_file(cx, NoticeKind::ServiceCard, &data, &f.code, &path)
    }
}

/// Render a record that is not an issued notice (a service card, a handover sheet) with the
/// hall's template in force: the PDF written and fsynced to `path`, and a preview.
pub(crate) fn render_file(
    cx: &Cx<'_>,
    kind: NoticeKind,
    data: &serde_json::Value,
    number: &str,
    path: &Path,
) -> Result<ServiceCardFile> {
    let settings = load_settings(cx.tx)?;
    let (_, source) = template_for(cx.tx, kind)?;
    let paper = paper_of(&settings.paper);
    let pdf = onetrip_notice::render_pdf(&source, data, paper, number, number, issued(cx.now))
        .map_err(notice_error)?;
    let png =
        onetrip_notice::render_png(&source, data, paper, number, 1.5).map_err(notice_error)?;
    write_synced(path, &pdf)?;
    Ok(ServiceCardFile {
        file: Printable {
            number: number.to_owned(),
            path: path.to_string_lossy().into_owned(),
            printer: settings.printer,
            pdf_base64: base64::engine::general_purpose::STANDARD.encode(&pdf),
        },
        png_data_url: png_url(&png),
    })
}
