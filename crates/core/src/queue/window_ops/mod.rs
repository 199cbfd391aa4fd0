//! What a clerk does at a window: call next, recall, start, no-show, hold and call back,
//! transfer, finish, call a specific ticket, pause and resume. Every action is allowed only
//! from the states listed in [`super`]'s contract and only at the window holding the ticket;
//! anything else is refused with [`ErrorCode::InvalidTransition`] or [`ErrorCode::WrongWindow`]
//! and changes nothing.
//!
//! This module holds what every action shares (the clerk's window, the state check, the claim,
//! the event and audit rows); [`calling`], [`service`] and [`pause`] hold the operations.

use crate::kernel::store::Optional;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::order;
use super::ticket::{Ticket, TicketStatus};
use super::{NoShowPolicy, load_settings, store};
use crate::hall::category;
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::hall_date;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

mod calling;
pub use calling::*;
mod service;
pub use service::*;
mod pause;
pub use pause::*;

/// The signed-in clerk's (staff id, window id, window number).
fn at_window(cx: &Cx<'_>) -> Result<(String, String, u32)> {
    let s = cx.actor.staff()?;
    let Some(window_id) = s.window_id.clone() else {
        return Err(CoreError::new(
            ErrorCode::WindowRequired,
            "请在窗口登录后再叫号",
        ));
    };
    let number: u32 = cx.tx.query_row(
        "SELECT number FROM windows WHERE id = ?1",
        [&window_id],
        |r| r.get(0),
    )?;
    Ok((s.staff_id.clone(), window_id, number))
}

fn transition_error(t: &Ticket, action: &str, label: &str) -> CoreError {
    CoreError::new(
        ErrorCode::InvalidTransition,
        format!("{} 当前为“{}”，不能{label}", t.number, t.status.label()),
    )
    .param("number", &t.number)
    .param("status", t.status.as_str())
    .param("action", action)
}

/// Load a ticket for an action at this window, checking its state and owner.
fn for_action(
    cx: &Cx<'_>,
    ticket_id: &str,
    action: &str,
    label: &str,
    allowed: &[TicketStatus],
    window_id: &str,
) -> Result<Ticket> {
    let id = validate::id("ticket_id", "号票", ticket_id)?;
    // The step is decided on the ticket's state: lock it first (PostgreSQL; SQLite's writers
    // are serialised).
    cx.tx.lock_row("tickets", &id)?;
    let t = store::get(cx.tx, &id)?;
    if !allowed.contains(&t.status) {
        return Err(transition_error(&t, action, label));
    }
    if t.window.as_ref().map(|w| w.id.as_str()) != Some(window_id) {
        return Err(CoreError::new(
            ErrorCode::WrongWindow,
            format!("{} 不在本窗口办理", t.number),
        )
        .param("number", &t.number));
    }
    Ok(t)
}

fn ensure_free(cx: &Cx<'_>, window_id: &str) -> Result<()> {
    if let Some((_, reason, _)) = store::open_pause(cx.tx, window_id)? {
        return Err(CoreError::new(
            ErrorCode::WindowPaused,
            format!("本窗口已暂停服务（{reason}），请先恢复服务"),
        )
        .param("reason", reason));
    }
    if let Some((_, number)) = store::active_at(cx.tx, window_id)? {
        return Err(CoreError::new(
            ErrorCode::TicketActive,
            format!("请先处理当前号 {number}（开始办理、过号、挂起、转移或办结）"),
        )
        .param("number", number));
    }
    Ok(())
}

/// Claim a waiting ticket for this window. Inside the single writer transaction the
/// conditional update cannot lose a race; the check says so if it ever did.
fn claim(cx: &Cx<'_>, id: &str, staff_id: &str, window_id: &str) -> Result<()> {
    let n = cx.tx.execute(
        "UPDATE tickets SET status = 'called', called_at = coalesce(called_at, ?2), last_called_at = ?2,
                window_id = ?3, staff_id = ?4, target_window_id = NULL
         WHERE id = ?1 AND status = 'waiting'",
        params![id, cx.ms(), window_id, staff_id],
    )?;
    if n != 1 {
        return Err(CoreError::internal(format!(
            "号票 {id} 已被其他窗口叫走（写事务内不应发生）"
        )));
    }
    Ok(())
}

/// One step of a ticket at this window: apply `set` to its row (`?2` stands for now), then
/// log it through [`finish_action`].
#[allow(clippy::too_many_arguments)]
fn step(
    cx: &mut Cx<'_>,
    id: &str,
    set: &str,
    kind: &str,
    staff_id: &str,
    window_id: &str,
    detail: Option<serde_json::Value>,
    summary: String,
) -> Result<Ticket> {
    let sql = format!("UPDATE tickets SET {set} WHERE id = ?1");
    if set.contains("?2") {
        cx.tx.execute(&sql, params![id, cx.ms()])?;
    } else {
        cx.tx.execute(&sql, [id])?;
    }
    finish_action(cx, id, kind, staff_id, window_id, detail, summary)
}

/// Append the ticket's event and the operation's audit row; return the ticket as it is now.
fn finish_action(
    cx: &mut Cx<'_>,
    id: &str,
    kind: &str,
    staff_id: &str,
    window_id: &str,
    detail: Option<serde_json::Value>,
    summary: String,
) -> Result<Ticket> {
    store::append_event(
        cx.tx,
        id,
        kind,
        Some(window_id),
        Some(staff_id),
        cx.now,
        detail,
    )?;
    let t = store::get(cx.tx, id)?;
    cx.record(
        Topic::Queue,
        AuditDraft::new("ticket", Some(id), summary).after(&t),
    )?;
    let announced = matches!(kind, "call" | "recall" | "call_back" | "call_specific");
    // Starting, recalling and finishing a called ticket move no waiting count.
    let counts = match kind {
        "start" | "recall" | "finish" => None,
        _ => Some(super::paint::category_count(cx, &t.category.id)?),
    };
    super::paint::ticket_step(cx, id, counts, Some(window_id), announced)?;
    Ok(t)
}

macro_rules! ticket_action {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
        pub struct $ty {
            pub ticket_id: String,
        }
    };
}

ticket_action!(
    /// 重呼: announce the called ticket again (capped by the hall's `recall_cap`).
    Recall
);
ticket_action!(
    /// The applicant is at the counter: service starts (its time is recorded).
    StartService
);
ticket_action!(
    /// 过号: the called applicant did not come. Voided or requeued per the hall's setting.
    NoShow
);
ticket_action!(
    /// 回呼: call a held ticket back to this window.
    CallBack
);
ticket_action!(
    /// 办结: service finished.
    FinishTicket
);
