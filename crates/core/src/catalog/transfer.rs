//! Catalog import and export, as JSON and as xlsx (the format provincial 办事指南 lists come in).
//!
//! Contract:
//! - Export writes every item; an item names its queue category by prefix (`"category": "A"`),
//!   not by id, so a file moves between halls.
//! - Import validates **every** row first — each problem is reported with its sheet, row, field
//!   and reason — and only a file without problems is applied (items matched by code: updated,
//!   else created) in one transaction. A bad import changes nothing.
//! - xlsx: sheet 事项 (one row per item) and sheet 材料 (one row per material, keyed by the
//!   item's code, in order). Threshold overrides travel in JSON only; an xlsx import keeps an
//!   item's own.

use crate::kernel::store::Tx;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use crate::kernel::store::Optional;
use base64::Engine;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ItemFields, Material, MaterialForm, Medium, Requirement, check, get, list, save};
use crate::kernel::audit::AuditDraft;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferFormat {
    Json,
    Xlsx,
}

pub use crate::kernel::validate::RowError;

const ITEM_HEADERS: [&str; 13] = [
    "编码",
    "名称",
    "实施部门",
    "事项类型",
    "设定依据",
    "法定时限",
    "承诺时限",
    "可延长",
    "收费标准",
    "到现场次数",
    "咨询电话",
    "办理地点",
    "业务类别",
];
const MATERIAL_HEADERS: [&str; 10] = [
    "事项编码",
    "序号",
    "材料名称",
    "形式",
    "份数",
    "载体",
    "类别",
    "适用条件",
    "要求",
    "备注",
];

/// A catalog file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CatalogFile {
    pub format: TransferFormat,
    pub filename: String,
    /// JSON text, or the xlsx bytes in base64.
    pub content: String,
}

fn prefixes(tx: &Tx<'_>) -> Result<BTreeMap<String, String>> {
    let mut stmt = tx.prepare("SELECT id, prefix FROM categories")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<BTreeMap<_, _>>>()?)
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ExportCatalog {
    pub format: TransferFormat,
}

impl Operation for ExportCatalog {
    const NAME: &'static str = "catalog.export";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = CatalogFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<CatalogFile> {
        let items = list(cx.tx)?;
        let by_id = prefixes(cx.tx)?;
        let prefix_of = |id: &Option<String>| id.as_ref().and_then(|i| by_id.get(i)).cloned();
        match self.format {
            TransferFormat::Json => {
                let rows: Vec<serde_json::Value> = items
                    .iter()
                    .map(|i| {
                        let mut v = serde_json::to_value(&i.fields).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("category_id");
                            o.insert("category".into(), prefix_of(&i.fields.category_id).into());
                        }
                        v
                    })
                    .collect();
                Ok(CatalogFile {
                    format: TransferFormat::Json,
                    filename: "catalog.json".into(),
                    content: serde_json::to_string_pretty(&rows)?,
                })
            }
            TransferFormat::Xlsx => {
                let xerr = |e: rust_xlsxwriter::XlsxError| {
                    CoreError::internal(format!("生成 xlsx 失败：{e}"))
                };
                let mut book = rust_xlsxwriter::Workbook::new();
                let sheet = book.add_worksheet();
                sheet.set_name("事项").map_err(xerr)?;
                for (c, h) in ITEM_HEADERS.iter().enumerate() {
                    sheet.write_string(0, c as u16, *h).map_err(xerr)?;
                }
                for (r, i) in items.iter().enumerate() {
                    let f = &i.fields;
                    let row = r as u32 + 1;
                    let texts = [
                        f.code.clone(),
                        f.name.clone(),
                        f.department.clone(),
                        f.kind.clone(),
                        f.legal_basis.clone(),
                    ];
                    for (c, v) in texts.iter().enumerate() {
                        sheet.write_string(row, c as u16, v).map_err(xerr)?;
                    }
                    for (c, v) in [f.statutory_days, f.promised_days, f.extension_days]
                        .iter()
                        .enumerate()
                    {
                        sheet
                            .write_number(row, 5 + c as u16, f64::from(*v))
                            .map_err(xerr)?;
                    }
                    sheet.write_string(row, 8, &f.fees).map_err(xerr)?;
                    sheet
                        .write_number(row, 9, f64::from(f.visits_needed))
                        .map_err(xerr)?;
                    sheet.write_string(row, 10, &f.phone).map_err(xerr)?;
                    sheet.write_string(row, 11, &f.location).map_err(xerr)?;
                    sheet
                        .write_string(row, 12, prefix_of(&f.category_id).unwrap_or_default())
                        .map_err(xerr)?;
                }
                let sheet = book.add_worksheet();
                sheet.set_name("材料").map_err(xerr)?;
                for (c, h) in MATERIAL_HEADERS.iter().enumerate() {
                    sheet.write_string(0, c as u16, *h).map_err(xerr)?;
                }
                let mut row = 1u32;
                for i in &items {
                    for (k, m) in i.fields.materials.iter().enumerate() {
                        sheet.write_string(row, 0, &i.fields.code).map_err(xerr)?;
                        sheet.write_number(row, 1, (k + 1) as f64).map_err(xerr)?;
                        sheet.write_string(row, 2, &m.name).map_err(xerr)?;
                        sheet.write_string(row, 3, m.form.label()).map_err(xerr)?;
                        sheet
                            .write_number(row, 4, f64::from(m.copies))
                            .map_err(xerr)?;
                        sheet.write_string(row, 5, m.medium.label()).map_err(xerr)?;
                        sheet
                            .write_string(row, 6, m.requirement.label())
                            .map_err(xerr)?;
                        sheet.write_string(row, 7, &m.condition).map_err(xerr)?;
                        sheet.write_string(row, 8, &m.standard).map_err(xerr)?;
                        sheet.write_string(row, 9, &m.notes).map_err(xerr)?;
                        row += 1;
                    }
                }
                let bytes = book.save_to_buffer().map_err(xerr)?;
                Ok(CatalogFile {
                    format: TransferFormat::Xlsx,
                    filename: "catalog.xlsx".into(),
                    content: base64::engine::general_purpose::STANDARD.encode(bytes),
                })
            }
        }
    }
}

/// An item as read from a file, before validation.
struct Candidate {
    sheet: String,
    row: u32,
    fields: ItemFields,
    category: Option<String>,
    keep_thresholds: bool,
}

fn err(sheet: &str, row: u32, field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        sheet: sheet.into(),
        row,
        field: field.into(),
        reason: reason.into(),
    }
}

type Parsed = (Vec<Candidate>, Vec<RowError>);

/// Parse and check an import file without a database (an import preview, and the fuzz target):
/// how many items it holds, or every bad row with its sheet, row and field. Categories named by
/// prefix are checked against the hall only when importing.
pub fn parse_import(
    format: TransferFormat,
    content: &str,
) -> std::result::Result<usize, Vec<RowError>> {
    let (items, errors) = match format {
        TransferFormat::Json => from_json(content),
        TransferFormat::Xlsx => from_xlsx(content),
    };
    if errors.is_empty() {
        Ok(items.len())
    } else {
        Err(errors)
    }
}

fn from_json(text: &str) -> Parsed {
    let rows: Vec<serde_json::Value> = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return (
                vec![],
                vec![err("json", 0, "", format!("不是有效的 JSON 数组：{e}"))],
            );
        }
    };
    let mut out = vec![];
    let mut errors = vec![];
    for (i, mut v) in rows.into_iter().enumerate() {
        let row = i as u32 + 1;
        let category = v
            .get("category")
            .and_then(|c| c.as_str())
            .map(str::to_owned)
            .filter(|c| !c.is_empty());
        if let Some(o) = v.as_object_mut() {
            o.remove("category");
            o.insert("category_id".into(), serde_json::Value::Null);
        }
        match serde_json::from_value::<ItemFields>(v) {
            Ok(fields) => out.push(Candidate {
                sheet: "json".into(),
                row,
                fields,
                category,
                keep_thresholds: false,
            }),
            Err(e) => errors.push(err("json", row, "", format!("字段缺失或类型不对：{e}"))),
        }
    }
    (out, errors)
}

fn cell(row: &[calamine::Data], c: usize) -> String {
    match row.get(c) {
        Some(calamine::Data::String(s)) => s.trim().to_owned(),
        Some(calamine::Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(calamine::Data::Float(f)) => f.to_string(),
        Some(calamine::Data::Int(i)) => i.to_string(),
        Some(calamine::Data::Empty) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn from_xlsx(b64: &str) -> Parsed {
    match read_xlsx(b64) {
        Ok(p) => p,
        Err(e) => (vec![], e),
    }
}

fn read_xlsx(b64: &str) -> std::result::Result<Parsed, Vec<RowError>> {
    use calamine::Reader;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| vec![err("xlsx", 0, "", format!("文件内容不是 base64：{e}"))])?;
    let mut book = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| vec![err("xlsx", 0, "", format!("不是有效的 xlsx 文件：{e}"))])?;
    let mut sheet = |name: &str| {
        book.worksheet_range(name)
            .map_err(|_| vec![err(name, 0, "", format!("缺少工作表“{name}”"))])
    };
    let items = sheet("事项")?;
    let materials = sheet("材料")?;
    let mut errors = vec![];
    let num = |errors: &mut Vec<RowError>, sheet: &str, row: u32, field: &str, v: &str| -> u32 {
        v.parse::<u32>().unwrap_or_else(|_| {
            errors.push(err(sheet, row, field, format!("应为非负整数，实际为“{v}”")));
            0
        })
    };
    let mut by_code: BTreeMap<String, Vec<Material>> = BTreeMap::new();
    for (i, r) in materials.rows().enumerate().skip(1) {
        let row = i as u32 + 1;
        if r.iter().all(|c| matches!(c, calamine::Data::Empty)) {
            continue;
        }
        let parse_enum =
            |errors: &mut Vec<RowError>, field: &str, v: &str, opts: &[(&str, &str)]| {
                opts.iter()
                    .find(|(cn, _)| *cn == v)
                    .map(|(_, en)| (*en).to_owned())
                    .unwrap_or_else(|| {
                        let allowed: Vec<_> = opts.iter().map(|o| o.0).collect();
                        errors.push(err(
                            "材料",
                            row,
                            field,
                            format!("应为 {} 之一，实际为“{v}”", allowed.join("/")),
                        ));
                        opts[0].1.to_owned()
                    })
            };
        let form = parse_enum(
            &mut errors,
            "形式",
            &cell(r, 3),
            &[
                ("原件", "original"),
                ("复印件", "copy"),
                ("原件及复印件", "original_and_copy"),
            ],
        );
        let medium = parse_enum(
            &mut errors,
            "载体",
            &cell(r, 5),
            &[
                ("纸质", "paper"),
                ("电子", "electronic"),
                ("纸质或电子", "either"),
            ],
        );
        let req = parse_enum(
            &mut errors,
            "类别",
            &cell(r, 6),
            &[
                ("必交", "required"),
                ("选交", "optional"),
                ("条件性", "conditional"),
            ],
        );
        let m = Material {
            name: cell(r, 2),
            form: serde_json::from_value(form.into()).unwrap_or(MaterialForm::Copy),
            copies: num(&mut errors, "材料", row, "份数", &cell(r, 4)),
            medium: serde_json::from_value(medium.into()).unwrap_or(Medium::Paper),
            requirement: serde_json::from_value(req.into()).unwrap_or(Requirement::Required),
            condition: cell(r, 7),
            standard: cell(r, 8),
            notes: cell(r, 9),
        };
        by_code.entry(cell(r, 0)).or_default().push(m);
    }
    let mut out = vec![];
    for (i, r) in items.rows().enumerate().skip(1) {
        let row = i as u32 + 1;
        if r.iter().all(|c| matches!(c, calamine::Data::Empty)) {
            continue;
        }
        let code = cell(r, 0);
        let fields = ItemFields {
            materials: by_code.remove(&code).unwrap_or_default(),
            code,
            name: cell(r, 1),
            department: cell(r, 2),
            kind: cell(r, 3),
            legal_basis: cell(r, 4),
            statutory_days: num(&mut errors, "事项", row, "法定时限", &cell(r, 5)),
            promised_days: num(&mut errors, "事项", row, "承诺时限", &cell(r, 6)),
            extension_days: num(&mut errors, "事项", row, "可延长", &cell(r, 7)),
            fees: cell(r, 8),
            visits_needed: num(&mut errors, "事项", row, "到现场次数", &cell(r, 9)),
            phone: cell(r, 10),
            location: cell(r, 11),
            category_id: None,
            thresholds: None,
        };
        let category = Some(cell(r, 12)).filter(|c| !c.is_empty());
        out.push(Candidate {
            sheet: "事项".into(),
            row,
            fields,
            category,
            keep_thresholds: true,
        });
    }
    for code in by_code.keys() {
        errors.push(err(
            "材料",
            0,
            "事项编码",
            format!("材料表中的事项编码 {code} 在事项表中不存在"),
        ));
    }
    Ok((out, errors))
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ImportCatalog {
    pub format: TransferFormat,
    /// JSON text, or the xlsx bytes in base64.
    pub content: String,
}

/// The Chinese label of a field named by [`check`], for the report.
fn field_label(field: &str) -> String {
    let (base, rest) = match field.split_once('.') {
        Some(("materials", rest)) => ("materials", Some(rest)),
        _ => (field, None),
    };
    match (base, rest) {
        ("materials", Some(rest)) => {
            let (i, f) = rest.split_once('.').unwrap_or((rest, ""));
            let n = i.parse::<usize>().map_or(0, |n| n + 1);
            format!("材料第 {n} 项 {f}")
        }
        _ => field.to_owned(),
    }
}

impl Operation for ImportCatalog {
    const NAME: &'static str = "catalog.import";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = ImportReport;
    fn run(self, cx: &mut Cx<'_>) -> Result<ImportReport> {
        if self.content.len() > 20_000_000 {
            return Err(
                CoreError::new(ErrorCode::TooLong, "导入文件过大（上限 15 MB）").field("content"),
            );
        }
        let (candidates, mut errors) = match self.format {
            TransferFormat::Json => from_json(&self.content),
            TransferFormat::Xlsx => from_xlsx(&self.content),
        };
        let by_prefix: BTreeMap<String, String> = prefixes(cx.tx)?
            .into_iter()
            .map(|(id, p)| (p, id))
            .collect();
        let mut seen = BTreeSet::new();
        let mut ready = vec![];
        for c in candidates {
            let mut fields = c.fields;
            if let Some(p) = &c.category {
                match by_prefix.get(&p.to_uppercase()) {
                    Some(id) => fields.category_id = Some(id.clone()),
                    None => errors.push(err(
                        &c.sheet,
                        c.row,
                        "业务类别",
                        format!("没有前缀为 {p} 的业务类别"),
                    )),
                }
            }
            match check(&fields) {
                Ok(f) => {
                    if !seen.insert(f.code.clone()) {
                        errors.push(err(
                            &c.sheet,
                            c.row,
                            "编码",
                            format!("事项编码 {} 在文件中重复", f.code),
                        ));
                    }
                    ready.push((f, c.keep_thresholds));
                }
                Err(e) => errors.push(err(
                    &c.sheet,
                    c.row,
                    &field_label(e.field.as_deref().unwrap_or("")),
                    e.message,
                )),
            }
        }
        if !errors.is_empty() {
            let first: Vec<String> = errors
                .iter()
                .take(5)
                .map(|e| format!("{} 第 {} 行 {}：{}", e.sheet, e.row, e.field, e.reason))
                .collect();
            return Err(CoreError::new(
                ErrorCode::ImportInvalid,
                format!(
                    "导入文件有 {} 处问题，未导入任何内容：{}",
                    errors.len(),
                    first.join("；")
                ),
            )
            .param("count", errors.len())
            .param("errors", serde_json::to_string(&errors)?));
        }
        let (mut created, mut updated) = (0, 0);
        for (mut f, keep) in ready {
            let existing: Option<String> = cx
                .tx
                .query_row(
                    "SELECT id FROM service_items WHERE code = ?1",
                    [&f.code],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(id) => {
                    if keep {
                        f.thresholds = get(cx.tx, &id)?.fields.thresholds;
                    }
                    save(cx.tx, &id, &f, cx.ms(), false)?;
                    updated += 1;
                }
                None => {
                    save(cx.tx, &new_id(), &f, cx.ms(), true)?;
                    created += 1;
                }
            }
        }
        cx.emit(super::RulesChanged)?;
        let report = ImportReport { created, updated };
        cx.record(
            Topic::Catalog,
            AuditDraft::new(
                "service_item",
                None,
                format!("导入事项目录：新增 {created} 项，更新 {updated} 项"),
            )
            .after(&report),
        )?;
        Ok(report)
    }
}
