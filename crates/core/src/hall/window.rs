//! Service windows (窗口): a numbered counter ("3号窗口") serving business categories in an
//! order of preference. Occupancy (who is signed in) lives in [`crate::staff::auth`].

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::category::{self, CategoryRef};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::from_ms;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

pub const NAME_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowRef {
    pub id: String,
    pub number: u32,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Window {
    pub id: String,
    pub number: u32,
    pub name: String,
    /// In order of preference: the window calls from the first category first.
    pub categories: Vec<CategoryRef>,
    pub active: bool,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowFields {
    pub number: u32,
    pub name: String,
    /// Category ids in order of preference; at least one.
    pub category_ids: Vec<String>,
}

pub(crate) fn window_ref(tx: &Tx<'_>, id: &str) -> Result<WindowRef> {
    tx.query_row(
        "SELECT id, number, name, active FROM windows WHERE id = ?1",
        [id],
        |r| {
            Ok(WindowRef {
                id: r.get(0)?,
                number: r.get(1)?,
                name: r.get(2)?,
                active: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| CoreError::not_found("窗口", id).field("window_id"))
}

fn categories_of(tx: &Tx<'_>, id: &str) -> Result<Vec<CategoryRef>> {
    let mut stmt = tx.prepare(
        "SELECT c.id, c.prefix, c.name FROM window_categories wc JOIN categories c ON c.id = wc.category_id
         WHERE wc.window_id = ?1 ORDER BY wc.rank",
    )?;
    Ok(stmt
        .query_map([id], |r| {
            Ok(CategoryRef {
                id: r.get(0)?,
                prefix: r.get(1)?,
                name: r.get(2)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

pub(crate) fn get(tx: &Tx<'_>, id: &str) -> Result<Window> {
    let (r, created, updated): (WindowRef, i64, i64) = tx
        .query_row(
            "SELECT id, number, name, active, created_at, updated_at FROM windows WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    WindowRef {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        name: r.get(2)?,
                        active: r.get(3)?,
                    },
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("窗口", id).field("id"))?;
    Ok(Window {
        categories: categories_of(tx, &r.id)?,
        id: r.id,
        number: r.number,
        name: r.name,
        active: r.active,
        created_at: from_ms(created),
        updated_at: from_ms(updated),
    })
}

/// Every window with its categories, in two statements whatever the number of windows (the
/// board and the admin screens read it on every change; one statement per window and another
/// for its categories was 113 statements for a hall of 56 windows).
pub(crate) fn list(tx: &Tx<'_>, include_inactive: bool) -> Result<Vec<Window>> {
    let mut windows: Vec<Window> = tx
        .prepare_cached(
            "SELECT id, number, name, active, created_at, updated_at FROM windows
             WHERE active = 1 OR ?1 ORDER BY number",
        )?
        .query_map([include_inactive], |r| {
            Ok(Window {
                id: r.get(0)?,
                number: r.get(1)?,
                name: r.get(2)?,
                active: r.get(3)?,
                created_at: from_ms(r.get(4)?),
                updated_at: from_ms(r.get(5)?),
                categories: Vec::new(),
            })
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let pairs: Vec<(String, CategoryRef)> = tx
        .prepare_cached(
            "SELECT wc.window_id, c.id, c.prefix, c.name
             FROM window_categories wc JOIN categories c ON c.id = wc.category_id
             ORDER BY wc.window_id, wc.rank",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                CategoryRef {
                    id: r.get(1)?,
                    prefix: r.get(2)?,
                    name: r.get(3)?,
                },
            ))
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut by_window: std::collections::HashMap<String, Vec<CategoryRef>> =
        std::collections::HashMap::new();
    for (w, c) in pairs {
        by_window.entry(w).or_default().push(c);
    }
    for w in &mut windows {
        w.categories = by_window.remove(&w.id).unwrap_or_default();
    }
    Ok(windows)
}

/// The active windows, number and name only (the console's transfer targets).
pub(crate) fn refs(tx: &Tx<'_>) -> Result<Vec<WindowRef>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, number, name, active FROM windows WHERE active = 1 ORDER BY number",
        )?
        .query_map([], |r| {
            Ok(WindowRef {
                id: r.get(0)?,
                number: r.get(1)?,
                name: r.get(2)?,
                active: r.get(3)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?)
}

struct Checked {
    number: i64,
    name: String,
    categories: Vec<String>,
}

fn check(tx: &Tx<'_>, f: &WindowFields, except: Option<&str>) -> Result<Checked> {
    let number = validate::range_i64("number", "窗口号", i64::from(f.number), 1, 999)?;
    let name = validate::text("name", "窗口名称", &f.name, NAME_MAX)?;
    if f.category_ids.is_empty() {
        return Err(
            CoreError::new(ErrorCode::Required, "窗口至少要办理一个业务类别").field("category_ids"),
        );
    }
    let mut categories = Vec::new();
    for raw in &f.category_ids {
        let id = validate::id("category_ids", "业务类别", raw)?;
        category::get(tx, &id).map_err(|e| e.field("category_ids"))?;
        if categories.contains(&id) {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "同一业务类别不能重复选择")
                    .field("category_ids"),
            );
        }
        categories.push(id);
    }
    let taken: Option<String> = tx
        .query_row(
            "SELECT name FROM windows WHERE number = ?1 AND id <> coalesce(?2, '')",
            params![number, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(CoreError::new(
            ErrorCode::DuplicateWindowNumber,
            format!("{number}号窗口已存在（{other}）"),
        )
        .field("number")
        .param("number", number)
        .param("holder", other));
    }
    Ok(Checked {
        number,
        name,
        categories,
    })
}

fn write_categories(tx: &Tx<'_>, id: &str, categories: &[String]) -> Result<()> {
    tx.execute("DELETE FROM window_categories WHERE window_id = ?1", [id])?;
    for (rank, c) in categories.iter().enumerate() {
        tx.execute(
            "INSERT INTO window_categories (window_id, category_id, rank) VALUES (?1, ?2, ?3)",
            params![id, c, rank as i64],
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListWindows {
    pub include_inactive: bool,
}

impl Operation for ListWindows {
    const NAME: &'static str = "window.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<Window>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Window>> {
        list(cx.tx, self.include_inactive)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CreateWindow {
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: WindowFields,
}

impl Operation for CreateWindow {
    const NAME: &'static str = "window.create";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Window;
    fn run(self, cx: &mut Cx<'_>) -> Result<Window> {
        let c = check(cx.tx, &self.fields, None)?;
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO windows (id, number, name, active, created_at, updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)",
            params![id, c.number, c.name, cx.ms()],
        )?;
        write_categories(cx.tx, &id, &c.categories)?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Window,
            AuditDraft::new(
                "window",
                Some(&id),
                format!("新建{}号窗口（{}）", after.number, after.name),
            )
            .after(&after),
        )?;
        Ok(after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateWindow {
    pub id: String,
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: WindowFields,
}

impl Operation for UpdateWindow {
    const NAME: &'static str = "window.update";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Window;
    fn run(self, cx: &mut Cx<'_>) -> Result<Window> {
        let id = validate::id("id", "窗口", &self.id)?;
        let before = get(cx.tx, &id)?;
        let c = check(cx.tx, &self.fields, Some(&id))?;
        cx.tx.execute(
            "UPDATE windows SET number = ?2, name = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, c.number, c.name, cx.ms()],
        )?;
        write_categories(cx.tx, &id, &c.categories)?;
        let after = get(cx.tx, &id)?;
        cx.record(
            Topic::Window,
            AuditDraft::new(
                "window",
                Some(&id),
                format!("修改{}号窗口（{}）", after.number, after.name),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// Deactivate (or reactivate) a window. A window with a clerk signed in cannot be deactivated:
/// release it first, so nobody is left working at a window that no longer exists.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetWindowActive {
    pub id: String,
    pub active: bool,
}

/// A window is about to be deactivated (停用): whoever must object (a clerk signed in there)
/// refuses through the reactions, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowClosing {
    pub window_id: String,
    pub number: u32,
}

impl crate::kernel::event::DomainEvent for WindowClosing {
    fn name(&self) -> &'static str {
        "window.closing"
    }
}

impl Operation for SetWindowActive {
    const NAME: &'static str = "window.set_active";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Window;
    fn run(self, cx: &mut Cx<'_>) -> Result<Window> {
        let id = validate::id("id", "窗口", &self.id)?;
        let before = get(cx.tx, &id)?;
        if !self.active && before.active {
            // Someone signed in there must leave first: the staff capability knows (a reaction
            // refuses, and nothing is written).
            cx.emit(WindowClosing {
                window_id: id.clone(),
                number: before.number,
            })?;
        }
        cx.tx.execute(
            "UPDATE windows SET active = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, self.active, cx.ms()],
        )?;
        let after = get(cx.tx, &id)?;
        let verb = if self.active { "启用" } else { "停用" };
        cx.record(
            Topic::Window,
            AuditDraft::new("window", Some(&id), format!("{verb}{}号窗口", after.number))
                .before(serde_json::json!({"active": before.active}))
                .after(serde_json::json!({"active": after.active})),
        )?;
        Ok(after)
    }
}
