//! Calling applicants to the window: the next by the hall's order, a specific one out of turn
//! (when the hall allows it, with a reason), again (capped), and a held ticket back.

#[allow(unused_imports)]
use super::*;

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
