//! The service-item catalog (政务服务事项 / 办事指南): what can be applied for at this hall, its
//! legal time limits and the materials it needs.
//!
//! Contract:
//! - An item's code is unique ([`ErrorCode::DuplicateItemCode`]). Its promised limit may not
//!   exceed the statutory one ([`ErrorCode::PromiseExceedsStatute`]): the hall's promise is a
//!   shortening of the statute, never a lengthening (行政许可法 art. 42).
//! - The statutory limit and allowed extension are per item: art. 42 sets 20 + 10 working days
//!   unless the item's own law says otherwise; joint handling 45 + 15.
//! - Materials are an ordered list; a conditional one states its condition in words.
//! - An item may override the hall's warning thresholds.
//! - Items are deactivated, never deleted: cases keep pointing at them.

pub mod transfer;

pub use transfer::{
    CatalogFile, ExportCatalog, ImportCatalog, ImportReport, RowError, TransferFormat,
};

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::deadlines::{ItemRules, Thresholds};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::from_ms;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{DomainEvent, Topic};
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// An item's time limits or warning thresholds may have changed (an edit, an import): the
/// open cases of the catalog count on the new rules from now on (the reactions recompute them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesChanged;

impl DomainEvent for RulesChanged {
    fn name(&self) -> &'static str {
        "catalog.rules_changed"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    /// 原件
    Original,
    /// 复印件
    Copy,
    /// 原件及复印件
    OriginalAndCopy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Paper,
    Electronic,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    Required,
    Optional,
    /// Needed only when its condition holds ("已婚的，提交结婚证").
    Conditional,
}

impl MaterialForm {
    /// How notices and spreadsheets write it.
    pub fn label(self) -> &'static str {
        match self {
            MaterialForm::Original => "原件",
            MaterialForm::Copy => "复印件",
            MaterialForm::OriginalAndCopy => "原件及复印件",
        }
    }
}

impl Medium {
    pub fn label(self) -> &'static str {
        match self {
            Medium::Paper => "纸质",
            Medium::Electronic => "电子",
            Medium::Either => "纸质或电子",
        }
    }
}

impl Requirement {
    pub fn label(self) -> &'static str {
        match self {
            Requirement::Required => "必交",
            Requirement::Optional => "选交",
            Requirement::Conditional => "条件性",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Material {
    pub name: String,
    pub form: MaterialForm,
    pub copies: u32,
    pub medium: Medium,
    pub requirement: Requirement,
    /// The condition in words (conditional materials only).
    pub condition: String,
    /// The standard it must meet ("加盖公章", "原件核验后退回").
    pub standard: String,
    pub notes: String,
}

/// What an admin edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ItemFields {
    pub code: String,
    pub name: String,
    pub department: String,
    /// 行政许可 / 行政确认 / 行政给付 / 公共服务 / 其他行政权力 …
    pub kind: String,
    pub legal_basis: String,
    pub statutory_days: u32,
    pub promised_days: u32,
    pub extension_days: u32,
    pub fees: String,
    pub visits_needed: u32,
    pub phone: String,
    pub location: String,
    /// The queue category whose tickets suggest this item at the window.
    #[serde(default)]
    pub category_id: Option<String>,
    /// Overrides of the hall's warning thresholds (`None`: the hall's).
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
    pub materials: Vec<Material>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ServiceItem {
    pub id: String,
    #[serde(flatten)]
    pub fields: ItemFields,
    pub active: bool,
    pub updated_at: Timestamp,
    /// The name's pinyin initials, lower case ("不动产登记" → "bdcdj"): a clerk finds the item by
    /// typing them, as Chinese clerks do.
    pub initials: String,
}

/// Lower-case pinyin initials of a name: one letter per Chinese character (its most common
/// reading), letters and digits kept, everything else dropped.
pub fn initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.plain().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

impl ServiceItem {
    /// The item's time rules, with the hall's thresholds where it has none of its own.
    pub fn rules(&self, hall: Thresholds) -> ItemRules {
        ItemRules {
            statutory_days: self.fields.statutory_days,
            promised_days: self.fields.promised_days,
            thresholds: self.fields.thresholds.unwrap_or(hall),
        }
    }
}

/// Check and normalise an item. Each refusal names its field (materials as `materials.N.field`).
pub fn check(f: &ItemFields) -> Result<ItemFields> {
    let code = validate::text("code", "事项编码", &f.code, 40)?;
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "事项编码只能包含字母、数字和 - _ .",
        )
        .field("code"));
    }
    let days = |field: &str, label: &str, v: u32| -> Result<u32> {
        Ok(validate::range_i64(field, label, v.into(), 0, 365)? as u32)
    };
    let statutory = days("statutory_days", "法定办结时限", f.statutory_days)?;
    let promised = days("promised_days", "承诺办结时限", f.promised_days)?;
    let extension = days("extension_days", "可延长时限", f.extension_days)?;
    if promised > statutory {
        return Err(CoreError::new(
            ErrorCode::PromiseExceedsStatute,
            format!("承诺时限（{promised} 个工作日）不能超过法定时限（{statutory} 个工作日）"),
        )
        .field("promised_days")
        .param("statutory", statutory)
        .param("promised", promised));
    }
    if let Some(t) = f.thresholds {
        for (field, v) in [
            ("thresholds.reminder_days", t.reminder_days),
            ("thresholds.yellow_days", t.yellow_days),
            ("thresholds.red_days", t.red_days),
        ] {
            validate::range_i64(field, "预警阈值", v.into(), 0, 30)?;
        }
    }
    if f.materials.len() > 60 {
        return Err(CoreError::new(ErrorCode::OutOfRange, "申请材料最多 60 项")
            .field("materials")
            .param("max", 60));
    }
    let mut materials = Vec::with_capacity(f.materials.len());
    for (i, m) in f.materials.iter().enumerate() {
        let at = |name: &str| format!("materials.{i}.{name}");
        let name = validate::text(&at("name"), "材料名称", &m.name, 80)?;
        let condition = validate::optional_text(&at("condition"), "适用条件", &m.condition, 200)?;
        if m.requirement == Requirement::Conditional && condition.is_empty() {
            return Err(CoreError::new(
                ErrorCode::Required,
                format!(
                    "第 {} 项材料“{name}”为容缺/条件性材料，须写明适用条件",
                    i + 1
                ),
            )
            .field(at("condition")));
        }
        let copies = validate::range_i64(&at("copies"), "份数", m.copies.into(), 1, 99)? as u32;
        materials.push(Material {
            name,
            form: m.form,
            copies,
            medium: m.medium,
            requirement: m.requirement,
            condition,
            standard: validate::optional_text(&at("standard"), "材料要求", &m.standard, 300)?,
            notes: validate::optional_text(&at("notes"), "备注", &m.notes, 300)?,
        });
    }
    Ok(ItemFields {
        code,
        name: validate::text("name", "事项名称", &f.name, 60)?,
        department: validate::text("department", "实施部门", &f.department, 40)?,
        kind: validate::text("kind", "事项类型", &f.kind, 20)?,
        legal_basis: validate::text("legal_basis", "设定依据", &f.legal_basis, 1000)?,
        statutory_days: statutory,
        promised_days: promised,
        extension_days: extension,
        fees: validate::text("fees", "收费标准", &f.fees, 200)?,
        visits_needed: validate::range_i64(
            "visits_needed",
            "到现场次数",
            f.visits_needed.into(),
            0,
            9,
        )? as u32,
        phone: validate::phone("phone", &f.phone)?,
        location: validate::text("location", "办理地点", &f.location, 100)?,
        category_id: match &f.category_id {
            Some(id) if !id.trim().is_empty() => Some(validate::id("category_id", "业务类别", id)?),
            _ => None,
        },
        thresholds: f.thresholds,
        materials,
    })
}

const ITEM_COLUMNS: &str =
    "id, code, name, department, kind, legal_basis, statutory_days, promised_days,
    extension_days, fees, visits_needed, phone, location, category_id, reminder_days, yellow_days,
    red_days, active, updated_at";

fn item_row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<ServiceItem> {
    let reminder: Option<u32> = r.get(14)?;
    let yellow: Option<u32> = r.get(15)?;
    let red: Option<u32> = r.get(16)?;
    let name: String = r.get(2)?;
    Ok(ServiceItem {
        id: r.get(0)?,
        initials: initials(&name),
        fields: ItemFields {
            code: r.get(1)?,
            name,
            department: r.get(3)?,
            kind: r.get(4)?,
            legal_basis: r.get(5)?,
            statutory_days: r.get(6)?,
            promised_days: r.get(7)?,
            extension_days: r.get(8)?,
            fees: r.get(9)?,
            visits_needed: r.get(10)?,
            phone: r.get(11)?,
            location: r.get(12)?,
            category_id: r.get(13)?,
            thresholds: match (reminder, yellow, red) {
                (Some(reminder_days), Some(yellow_days), Some(red_days)) => Some(Thresholds {
                    reminder_days,
                    yellow_days,
                    red_days,
                }),
                _ => None,
            },
            materials: vec![],
        },
        active: r.get(17)?,
        updated_at: from_ms(r.get(18)?),
    })
}

fn materials_of(tx: &Tx<'_>, item_id: &str) -> Result<Vec<Material>> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, form, copies, medium, requirement, condition, standard, notes
         FROM materials WHERE item_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (name, form, copies, medium, req, condition, standard, notes) = row?;
        out.push(Material {
            name,
            form: serde_json::from_value(serde_json::Value::String(form))?,
            copies,
            medium: serde_json::from_value(serde_json::Value::String(medium))?,
            requirement: serde_json::from_value(serde_json::Value::String(req))?,
            condition,
            standard,
            notes,
        });
    }
    Ok(out)
}

/// One item with its materials.
pub(crate) fn get(tx: &Tx<'_>, id: &str) -> Result<ServiceItem> {
    let mut item = tx
        .query_row(
            &format!("SELECT {ITEM_COLUMNS} FROM service_items WHERE id = ?1"),
            [id],
            item_row,
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("事项", id))?;
    item.fields.materials = materials_of(tx, id)?;
    Ok(item)
}

pub(crate) fn list(tx: &Tx<'_>) -> Result<Vec<ServiceItem>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {ITEM_COLUMNS} FROM service_items ORDER BY active DESC, code"
    ))?;
    let mut items = stmt
        .query_map([], item_row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    for it in &mut items {
        it.fields.materials = materials_of(tx, &it.id)?;
    }
    Ok(items)
}

/// The serde (snake_case) name of a unit enum value, as stored in the database.
pub(crate) fn enum_str<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Write an item's row and its materials (replacing the old list).
pub(crate) fn save(tx: &Tx<'_>, id: &str, f: &ItemFields, now_ms: i64, insert: bool) -> Result<()> {
    let dup: Option<String> = tx
        .query_row(
            "SELECT id FROM service_items WHERE code = ?1 AND id <> ?2",
            params![f.code, id],
            |r| r.get(0),
        )
        .optional()?;
    if dup.is_some() {
        return Err(CoreError::new(
            ErrorCode::DuplicateItemCode,
            format!("事项编码 {} 已被其他事项使用", f.code),
        )
        .field("code")
        .param("code", &f.code));
    }
    if let Some(cat) = &f.category_id {
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM categories WHERE id = ?1",
            [cat],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(CoreError::not_found("业务类别", cat).field("category_id"));
        }
    }
    let t = f.thresholds;
    let p = params![
        id,
        f.code,
        f.name,
        f.department,
        f.kind,
        f.legal_basis,
        f.statutory_days,
        f.promised_days,
        f.extension_days,
        f.fees,
        f.visits_needed,
        f.phone,
        f.location,
        f.category_id,
        t.map(|t| t.reminder_days),
        t.map(|t| t.yellow_days),
        t.map(|t| t.red_days),
        now_ms
    ];
    if insert {
        tx.execute(
            "INSERT INTO service_items (id, code, name, department, kind, legal_basis, statutory_days,
                promised_days, extension_days, fees, visits_needed, phone, location, category_id,
                reminder_days, yellow_days, red_days, active, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1, ?18, ?18)",
            p,
        )?;
    } else {
        tx.execute(
            "UPDATE service_items SET code = ?2, name = ?3, department = ?4, kind = ?5, legal_basis = ?6,
                statutory_days = ?7, promised_days = ?8, extension_days = ?9, fees = ?10,
                visits_needed = ?11, phone = ?12, location = ?13, category_id = ?14,
                reminder_days = ?15, yellow_days = ?16, red_days = ?17, updated_at = ?18
             WHERE id = ?1",
            p,
        )?;
        tx.execute("DELETE FROM materials WHERE item_id = ?1", [id])?;
    }
    for (i, m) in f.materials.iter().enumerate() {
        tx.execute(
            "INSERT INTO materials (id, item_id, position, name, form, copies, medium, requirement, condition, standard, notes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                new_id(),
                id,
                i as i64,
                m.name,
                enum_str(m.form),
                m.copies,
                enum_str(m.medium),
                enum_str(m.requirement),
                m.condition,
                m.standard,
                m.notes
            ],
        )?;
    }
    Ok(())
}

/// Create an item without the operation runner (the demo hall).
pub(crate) fn insert(tx: &Tx<'_>, f: &ItemFields, now_ms: i64) -> Result<String> {
    let f = check(f)?;
    let id = new_id();
    save(tx, &id, &f, now_ms, true)?;
    Ok(id)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListItems {}

impl Operation for ListItems {
    const NAME: &'static str = "catalog.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<ServiceItem>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<ServiceItem>> {
        list(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CreateItem {
    pub fields: ItemFields,
}

impl Operation for CreateItem {
    const NAME: &'static str = "catalog.create";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = ServiceItem;
    fn run(self, cx: &mut Cx<'_>) -> Result<ServiceItem> {
        let id = insert(cx.tx, &self.fields, cx.ms())?;
        let item = get(cx.tx, &id)?;
        cx.record(
            Topic::Catalog,
            AuditDraft::new(
                "service_item",
                Some(&id),
                format!("新增事项 {} {}", item.fields.code, item.fields.name),
            )
            .after(&item),
        )?;
        Ok(item)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateItem {
    pub id: String,
    pub fields: ItemFields,
}

impl Operation for UpdateItem {
    const NAME: &'static str = "catalog.update";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = ServiceItem;
    fn run(self, cx: &mut Cx<'_>) -> Result<ServiceItem> {
        let id = validate::id("id", "事项", &self.id)?;
        let before = get(cx.tx, &id)?;
        let f = check(&self.fields)?;
        save(cx.tx, &id, &f, cx.ms(), false)?;
        let after = get(cx.tx, &id)?;
        // Open cases of this item count on its new limits from now on.
        cx.emit(RulesChanged)?;
        cx.record(
            Topic::Catalog,
            AuditDraft::new(
                "service_item",
                Some(&id),
                format!("修改事项 {} {}", after.fields.code, after.fields.name),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetItemActive {
    pub id: String,
    pub active: bool,
}

impl Operation for SetItemActive {
    const NAME: &'static str = "catalog.set_active";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = ServiceItem;
    fn run(self, cx: &mut Cx<'_>) -> Result<ServiceItem> {
        let id = validate::id("id", "事项", &self.id)?;
        let before = get(cx.tx, &id)?;
        cx.tx.execute(
            "UPDATE service_items SET active = ?1, updated_at = ?2 WHERE id = ?3",
            params![self.active, cx.ms(), id],
        )?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Catalog,
            AuditDraft::new(
                "service_item",
                Some(&id),
                format!(
                    "{}事项 {}",
                    if self.active { "启用" } else { "停用" },
                    after.fields.name
                ),
            )
            .before(before.active)
            .after(after.active),
        )?;
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_of_item_names() {
        assert_eq!(super::initials("不动产登记"), "bdcdj");
        assert_eq!(super::initials("社保医保"), "sbyb");
        assert_eq!(super::initials("户口迁入（投靠）"), "hkqrtk");
        assert_eq!(super::initials("ICP 备案 2"), "icpba2");
    }
}
