//! Serving the applicant at the window: service starts, 过号 when nobody came, 挂起 while they
//! fetch a document, 转移 to another queue or window, 办结.

#[allow(unused_imports)]
use super::*;

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
