//! What a clerk does at a window: call next, recall, start, no-show, hold and call back,
//! transfer, finish, call a specific ticket, pause and resume. Every action is allowed only
//! from the states listed in [`super`]'s contract and only at the window holding the ticket;
//! anything else is refused with [`ErrorCode::InvalidTransition`] or [`ErrorCode::WrongWindow`]
//! and changes nothing.

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
    Ok(t)
}

/// 叫号: call the next ticket by the rule in [`order`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CallNext {}

impl Operation for CallNext {
    const NAME: &'static str = "queue.call_next";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        ensure_free(cx, &window_id)?;
        let settings = load_settings(cx.tx)?;
        let day = hall_date(cx.now).to_string();
        let heads = store::heads(cx.tx, &window_id, &day)?;
        let streak = store::priority_streak(cx.tx, &window_id, settings.priority_max_in_row)?;
        let Some(next) = order::choose(&heads, streak, cx.ms(), settings.rule()) else {
            return Err(CoreError::new(
                ErrorCode::QueueEmpty,
                "本窗口业务暂无等候的号",
            ));
        };
        let id = next.ticket_id.clone();
        claim(cx, &id, &staff_id, &window_id)?;
        let number: String = store::get(cx.tx, &id)?.number;
        finish_action(
            cx,
            &id,
            "call",
            &staff_id,
            &window_id,
            None,
            format!("{wnum}号窗口叫号 {number}"),
        )
    }
}

/// 越序叫号: call a specific waiting ticket (a hall setting, off by default; audited with its
/// reason).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CallSpecific {
    pub ticket_id: String,
    pub reason: String,
}

impl Operation for CallSpecific {
    const NAME: &'static str = "queue.call_specific";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        if !load_settings(cx.tx)?.allow_call_specific {
            return Err(CoreError::new(
                ErrorCode::SettingDisabled,
                "本大厅未开启越序叫号",
            ));
        }
        let reason = validate::text("reason", "越序叫号原因", &self.reason, 60)?;
        ensure_free(cx, &window_id)?;
        let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
        cx.tx.lock_row("tickets", &id)?;
        let t = store::get(cx.tx, &id)?;
        if t.status != TicketStatus::Waiting || t.day != hall_date(cx.now).to_string() {
            return Err(transition_error(&t, "call_specific", "叫号"));
        }
        let serves: bool = cx.tx.query_row(
            "SELECT count(*) > 0 FROM window_serving WHERE window_id = ?1 AND category_id = ?2",
            params![window_id, t.category.id],
            |r| r.get(0),
        )?;
        let routes = store::routed_from(cx.tx, &window_id)?;
        let targeted_here = t
            .target_window_id
            .as_deref()
            .is_some_and(|w| w == window_id || routes.iter().any(|r| r == w));
        let targeted_elsewhere = t.target_window_id.is_some() && !targeted_here;
        if !(serves || targeted_here) || targeted_elsewhere {
            return Err(CoreError::new(
                ErrorCode::WrongWindow,
                format!("{} 不属于本窗口的业务", t.number),
            )
            .param("number", &t.number));
        }
        claim(cx, &id, &staff_id, &window_id)?;
        finish_action(
            cx,
            &id,
            "call_specific",
            &staff_id,
            &window_id,
            Some(json!({ "reason": reason })),
            format!("{wnum}号窗口越序叫号 {}：{reason}", t.number),
        )
    }
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

impl Operation for Recall {
    const NAME: &'static str = "queue.recall";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "recall",
            "重呼",
            &[TicketStatus::Called],
            &window_id,
        )?;
        let cap = load_settings(cx.tx)?.recall_cap;
        if t.recalls >= cap {
            return Err(CoreError::new(
                ErrorCode::RecallLimit,
                format!("{} 已重呼 {cap} 次，可按过号处理", t.number),
            )
            .param("number", &t.number)
            .param("cap", cap));
        }
        step(
            cx,
            &t.id,
            "recalls = recalls + 1, last_called_at = ?2",
            "recall",
            &staff_id,
            &window_id,
            Some(json!({ "n": t.recalls + 1 })),
            format!("{wnum}号窗口重呼 {}（第 {} 次）", t.number, t.recalls + 1),
        )
    }
}

impl Operation for StartService {
    const NAME: &'static str = "queue.start";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "start",
            "开始办理",
            &[TicketStatus::Called],
            &window_id,
        )?;
        step(
            cx,
            &t.id,
            "status = 'serving', started_at = coalesce(started_at, ?2)",
            "start",
            &staff_id,
            &window_id,
            None,
            format!("{wnum}号窗口开始办理 {}", t.number),
        )
    }
}

impl Operation for NoShow {
    const NAME: &'static str = "queue.no_show";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "no_show",
            "过号",
            &[TicketStatus::Called],
            &window_id,
        )?;
        let settings = load_settings(cx.tx)?;
        let requeued_before: bool = cx.tx.query_row(
            "SELECT count(*) > 0 FROM ticket_events WHERE ticket_id = ?1 AND kind = 'requeue'",
            [&t.id],
            |r| r.get(0),
        )?;
        if settings.no_show_policy == NoShowPolicy::Requeue && !requeued_before {
            let places = settings.no_show_requeue_places;
            let key = store::key_of(cx.tx, &t.id)?;
            // Behind the `places`-th ticket now waiting in the same queue and class; at the
            // end if fewer wait.
            let nth: Option<i64> = cx
                .tx
                .query_row(
                    "SELECT queue_key FROM tickets
                     WHERE day = ?1 AND category_id = ?2 AND status = 'waiting' AND target_window_id IS NULL
                       AND (priority IS NOT NULL) = ?3
                     ORDER BY queue_key, seq LIMIT 1 OFFSET ?4",
                    params![key.day, key.category_id, key.priority, places - 1],
                    |r| r.get(0),
                )
                .optional()?;
            let last: Option<i64> = cx.tx.query_row(
                "SELECT max(queue_key) FROM tickets
                 WHERE day = ?1 AND category_id = ?2 AND status = 'waiting' AND (priority IS NOT NULL) = ?3",
                params![key.day, key.category_id, key.priority],
                |r| r.get(0),
            )?;
            let new_key = nth.or(last).map_or(cx.ms(), |k| k + 1);
            cx.tx.execute(
                "UPDATE tickets SET status = 'waiting', queue_key = ?2 WHERE id = ?1",
                params![t.id, new_key],
            )?;
            finish_action(
                cx,
                &t.id,
                "requeue",
                &staff_id,
                &window_id,
                Some(json!({ "places": places })),
                format!("{wnum}号窗口过号 {}，顺延 {places} 位", t.number),
            )
        } else {
            step(
                cx,
                &t.id,
                "status = 'no_show', finished_at = ?2",
                "no_show",
                &staff_id,
                &window_id,
                None,
                format!("{wnum}号窗口过号 {}（作废）", t.number),
            )
        }
    }
}

/// 挂起: park the ticket being served (the applicant fetches a document); the window is free
/// to call others and calls it back later.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HoldTicket {
    pub ticket_id: String,
    #[serde(default)]
    pub reason: String,
}

impl Operation for HoldTicket {
    const NAME: &'static str = "queue.hold";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let reason = validate::optional_text("reason", "挂起原因", &self.reason, 60)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "hold",
            "挂起",
            &[TicketStatus::Serving],
            &window_id,
        )?;
        step(
            cx,
            &t.id,
            "status = 'held'",
            "hold",
            &staff_id,
            &window_id,
            Some(json!({ "reason": reason })),
            format!("{wnum}号窗口挂起 {}", t.number),
        )
    }
}

impl Operation for CallBack {
    const NAME: &'static str = "queue.call_back";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        // A ticket held at the window of a post this clerk has taken over (AB岗) is called back
        // here: it moves to this window.
        let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
        let held_at = store::get(cx.tx, &id)?.window.map(|w| w.id);
        let routed = held_at
            .as_deref()
            .filter(|w| *w != window_id)
            .map(|w| -> Result<bool> {
                Ok(store::routed_from(cx.tx, &window_id)?
                    .iter()
                    .any(|r| r == w))
            })
            .transpose()?
            .unwrap_or(false);
        let t = for_action(
            cx,
            &self.ticket_id,
            "call_back",
            "回呼",
            &[TicketStatus::Held],
            if routed {
                held_at.as_deref().unwrap_or(&window_id)
            } else {
                &window_id
            },
        )?;
        ensure_free(cx, &window_id)?;
        if routed {
            cx.tx.execute(
                "UPDATE tickets SET window_id = ?2 WHERE id = ?1",
                params![t.id, window_id],
            )?;
        }
        step(
            cx,
            &t.id,
            "status = 'called', last_called_at = ?2",
            "call_back",
            &staff_id,
            &window_id,
            None,
            format!("{wnum}号窗口回呼 {}", t.number),
        )
    }
}

impl Operation for FinishTicket {
    const NAME: &'static str = "queue.finish";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "finish",
            "办结",
            &[TicketStatus::Serving],
            &window_id,
        )?;
        step(
            cx,
            &t.id,
            "status = 'done', finished_at = ?2",
            "finish",
            &staff_id,
            &window_id,
            None,
            format!("{wnum}号窗口办结 {}", t.number),
        )
    }
}

/// 转移: send the ticket to another category's queue and/or to one window, keeping its number
/// and its place by arrival.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct TransferTicket {
    pub ticket_id: String,
    #[serde(default)]
    pub to_category_id: Option<String>,
    #[serde(default)]
    pub to_window_id: Option<String>,
    #[serde(default)]
    pub reason: String,
}

impl Operation for TransferTicket {
    const NAME: &'static str = "queue.transfer";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Ticket;
    fn run(self, cx: &mut Cx<'_>) -> Result<Ticket> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let reason = validate::optional_text("reason", "转移原因", &self.reason, 60)?;
        let t = for_action(
            cx,
            &self.ticket_id,
            "transfer",
            "转移",
            &[TicketStatus::Called, TicketStatus::Serving],
            &window_id,
        )?;
        if self.to_category_id.is_none() && self.to_window_id.is_none() {
            return Err(
                CoreError::new(ErrorCode::Required, "请选择转往的业务类别或窗口")
                    .field("to_category_id"),
            );
        }
        let mut to = Vec::new();
        let category_id = match &self.to_category_id {
            Some(c) => {
                let c = validate::id("to_category_id", "业务类别", c)?;
                let cat = category::get(cx.tx, &c)?;
                if !cat.active {
                    return Err(CoreError::new(
                        ErrorCode::CategoryInactive,
                        format!("“{}”已停用", cat.name),
                    )
                    .field("to_category_id")
                    .param("category", &cat.name));
                }
                to.push(cat.name.clone());
                cat.id
            }
            None => t.category.id.clone(),
        };
        let target = match &self.to_window_id {
            Some(w) => {
                let w = validate::id("to_window_id", "窗口", w)?;
                let win = crate::hall::window_ref(cx.tx, &w)?;
                if !win.active {
                    return Err(CoreError::new(
                        ErrorCode::WindowInactive,
                        format!("{}号窗口已停用", win.number),
                    )
                    .field("to_window_id"));
                }
                if win.id == window_id {
                    return Err(
                        CoreError::new(ErrorCode::InvalidTransition, "不能转移到本窗口")
                            .field("to_window_id")
                            .param("number", &t.number)
                            .param("status", t.status.as_str())
                            .param("action", "transfer"),
                    );
                }
                to.push(format!("{}号窗口", win.number));
                Some(win.id)
            }
            None => None,
        };
        cx.tx.execute(
            "UPDATE tickets SET status = 'waiting', category_id = ?2, target_window_id = ?3 WHERE id = ?1",
            params![t.id, category_id, target],
        )?;
        finish_action(
            cx,
            &t.id,
            "transfer",
            &staff_id,
            &window_id,
            Some(
                json!({ "from_category": t.category.id, "to_category": category_id, "to_window": target, "reason": reason }),
            ),
            format!("{wnum}号窗口将 {} 转至{}", t.number, to.join("、")),
        )
    }
}

/// A window's pause (暂停服务).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowPause {
    pub id: String,
    pub window_id: String,
    pub reason: String,
    pub since: jiff::Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PauseWindow {
    pub reason: String,
}

impl Operation for PauseWindow {
    const NAME: &'static str = "queue.pause";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = WindowPause;
    fn run(self, cx: &mut Cx<'_>) -> Result<WindowPause> {
        let (staff_id, window_id, wnum) = at_window(cx)?;
        let reason = validate::text("reason", "暂停原因", &self.reason, 40)?;
        if store::open_pause(cx.tx, &window_id)?.is_some() {
            return Err(CoreError::new(
                ErrorCode::WindowPaused,
                "本窗口已处于暂停服务状态",
            ));
        }
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO window_pauses (id, window_id, staff_id, reason, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, window_id, staff_id, reason, cx.ms()],
        )?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "window",
                Some(&window_id),
                format!("{wnum}号窗口暂停服务：{reason}"),
            ),
        )?;
        Ok(WindowPause {
            id,
            window_id,
            reason,
            since: cx.now,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ResumeWindow {}

impl Operation for ResumeWindow {
    const NAME: &'static str = "queue.resume";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = WindowPause;
    fn run(self, cx: &mut Cx<'_>) -> Result<WindowPause> {
        let (_, window_id, wnum) = at_window(cx)?;
        let Some((id, reason, since)) = store::open_pause(cx.tx, &window_id)? else {
            return Err(
                CoreError::new(ErrorCode::InvalidTransition, "本窗口未暂停服务")
                    .param("status", "open")
                    .param("action", "resume"),
            );
        };
        cx.tx.execute(
            "UPDATE window_pauses SET ended_at = ?2 WHERE id = ?1",
            params![id, cx.ms()],
        )?;
        cx.record(
            Topic::Queue,
            AuditDraft::new("window", Some(&window_id), format!("{wnum}号窗口恢复服务")),
        )?;
        Ok(WindowPause {
            id,
            window_id,
            reason,
            since,
        })
    }
}
