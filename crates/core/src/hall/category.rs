//! Business categories (业务类别): each is its own queue, with a ticket prefix (A, B, …), a daily
//! cap (the printed sequence has three digits, so at most 999) and issuing hours.

use crate::kernel::store::Optional;
use crate::kernel::store::{Row, Tx};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::from_ms;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

pub const NAME_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Category {
    pub id: String,
    pub prefix: String,
    pub name: String,
    pub daily_cap: u32,
    /// `HH:MM`, Beijing time.
    pub issue_from: String,
    pub issue_until: String,
    pub active: bool,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CategoryRef {
    pub id: String,
    pub prefix: String,
    pub name: String,
}

/// The editable fields, shared by create and update.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CategoryFields {
    pub prefix: String,
    pub name: String,
    pub daily_cap: u32,
    pub issue_from: String,
    pub issue_until: String,
}

struct Checked {
    prefix: String,
    name: String,
    cap: i64,
    from: u16,
    until: u16,
}

fn check(f: &CategoryFields) -> Result<Checked> {
    let prefix = validate::prefix(&f.prefix)?;
    let name = validate::text("name", "类别名称", &f.name, NAME_MAX)?;
    let cap = validate::range_i64("daily_cap", "每日取号上限", i64::from(f.daily_cap), 1, 999)?;
    let from = validate::hhmm("issue_from", &f.issue_from)?;
    let until = validate::hhmm("issue_until", &f.issue_until)?;
    if from >= until {
        return Err(
            CoreError::new(ErrorCode::InvalidFormat, "取号开始时间须早于结束时间")
                .field("issue_until"),
        );
    }
    Ok(Checked {
        prefix,
        name,
        cap,
        from,
        until,
    })
}

fn ensure_prefix_free(tx: &Tx<'_>, prefix: &str, except: Option<&str>) -> Result<()> {
    let other: Option<String> = tx
        .query_row(
            "SELECT name FROM categories WHERE prefix = ?1 AND id <> coalesce(?2, '')",
            params![prefix, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(name) = other {
        return Err(CoreError::new(
            ErrorCode::DuplicatePrefix,
            format!("号码前缀 {prefix} 已被“{name}”使用"),
        )
        .field("prefix")
        .param("prefix", prefix)
        .param("holder", name));
    }
    Ok(())
}

const COLS: &str =
    "id, prefix, name, daily_cap, issue_from, issue_until, active, created_at, updated_at";

fn row(r: &Row<'_>) -> crate::kernel::store::StoreResult<Category> {
    Ok(Category {
        id: r.get(0)?,
        prefix: r.get(1)?,
        name: r.get(2)?,
        daily_cap: r.get(3)?,
        issue_from: validate::fmt_hhmm(r.get(4)?),
        issue_until: validate::fmt_hhmm(r.get(5)?),
        active: r.get(6)?,
        created_at: from_ms(r.get(7)?),
        updated_at: from_ms(r.get(8)?),
    })
}

pub(crate) fn get(tx: &Tx<'_>, id: &str) -> Result<Category> {
    tx.query_row(
        &format!("SELECT {COLS} FROM categories WHERE id = ?1"),
        [id],
        row,
    )
    .optional()?
    .ok_or_else(|| CoreError::not_found("业务类别", id).field("id"))
}

pub(crate) fn list(tx: &Tx<'_>, include_inactive: bool) -> Result<Vec<Category>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLS} FROM categories WHERE active = 1 OR ?1 ORDER BY prefix"
    ))?;
    Ok(stmt
        .query_map([include_inactive], row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListCategories {
    pub include_inactive: bool,
}

impl Operation for ListCategories {
    const NAME: &'static str = "category.list";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = false;
    type Response = Vec<Category>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Category>> {
        list(cx.tx, self.include_inactive)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CreateCategory {
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: CategoryFields,
}

impl Operation for CreateCategory {
    const NAME: &'static str = "category.create";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Category;
    fn run(self, cx: &mut Cx<'_>) -> Result<Category> {
        let c = check(&self.fields)?;
        ensure_prefix_free(cx.tx, &c.prefix, None)?;
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO categories (id, prefix, name, daily_cap, issue_from, issue_until, active, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
            params![id, c.prefix, c.name, c.cap, c.from, c.until, cx.ms()],
        )?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Category,
            AuditDraft::new(
                "category",
                Some(&id),
                format!("新建业务类别 {} {}", after.prefix, after.name),
            )
            .after(&after),
        )?;
        Ok(after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateCategory {
    pub id: String,
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: CategoryFields,
}

impl Operation for UpdateCategory {
    const NAME: &'static str = "category.update";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Category;
    fn run(self, cx: &mut Cx<'_>) -> Result<Category> {
        let id = validate::id("id", "业务类别", &self.id)?;
        let c = check(&self.fields)?;
        let before = get(cx.tx, &id)?;
        ensure_prefix_free(cx.tx, &c.prefix, Some(&id))?;
        cx.tx.execute(
            "UPDATE categories SET prefix = ?2, name = ?3, daily_cap = ?4, issue_from = ?5, issue_until = ?6, updated_at = ?7 WHERE id = ?1",
            params![id, c.prefix, c.name, c.cap, c.from, c.until, cx.ms()],
        )?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Category,
            AuditDraft::new(
                "category",
                Some(&id),
                format!("修改业务类别 {} {}", after.prefix, after.name),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetCategoryActive {
    pub id: String,
    pub active: bool,
}

impl Operation for SetCategoryActive {
    const NAME: &'static str = "category.set_active";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Category;
    fn run(self, cx: &mut Cx<'_>) -> Result<Category> {
        let id = validate::id("id", "业务类别", &self.id)?;
        let before = get(cx.tx, &id)?;
        cx.tx.execute(
            "UPDATE categories SET active = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, self.active, cx.ms()],
        )?;
        let after = get(cx.tx, &id)?;
        let verb = if self.active { "启用" } else { "停用" };
        cx.record(
            Topic::Category,
            AuditDraft::new(
                "category",
                Some(&id),
                format!("{verb}业务类别 {} {}", after.prefix, after.name),
            )
            .before(serde_json::json!({"active": before.active}))
            .after(serde_json::json!({"active": after.active})),
        )?;
        Ok(after)
    }
}
