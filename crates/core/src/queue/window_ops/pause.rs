//! A window's pause (暂停服务, with its reason shown on the display) and its resumption.

#[allow(unused_imports)]
use super::*;

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
