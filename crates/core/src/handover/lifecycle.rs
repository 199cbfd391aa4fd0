//! A takeover's course after it starts: B acknowledges, A annotates, B reports back, A accepts
//! the hand-back case by case, or the handover is cancelled before it began.

#[allow(unused_imports)]
use super::*;

fn load_for(cx: &Cx<'_>, id: &str, action: &str, label: &str) -> Result<(StaffActor, HandoverRow)> {
    let me = cx.actor.staff()?.clone();
    let id = validate::id("id", "交接单", id)?;
    // Decided on the handover's state, then written: no other writer may change it meanwhile.
    cx.tx.lock_row("handovers", &id)?;
    let h = store::get(cx.tx, &id)?;
    if !may_do(&h, &me).iter().any(|m| m == action) {
        let who = me.staff_id == h.absent_id || me.staff_id == h.taker_id || is_supervisor(&me);
        return Err(if who {
            CoreError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "交接单 {} 当前为“{}”，不能{label}",
                    h.number,
                    h.status.label()
                ),
            )
            .param("from", h.status.as_str())
            .param("event", action)
        } else {
            CoreError::forbidden(format!("您不是交接单 {} 的当事人", h.number))
                .param("op", format!("handover.{action}"))
        });
    }
    Ok((me, h))
}

/// B acknowledges the sheet: the takeover starts now.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AcknowledgeHandover {
    pub id: String,
}

impl Operation for AcknowledgeHandover {
    const NAME: &'static str = "handover.acknowledge";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "acknowledge", "确认接手")?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'active', started_by = ?2, started_at = ?3 WHERE id = ?1",
            params![h.id, me.name, cx.ms()],
        )?;
        let window = post_of(cx.tx, &h.post_id)?.window_id;
        takeover_began(
            cx,
            &h.id,
            (&h.post_id, window.as_deref()),
            &h.absent_id,
            &h.taker_id,
            h.absence_id.as_deref(),
        )?;
        crate::staff::inbox::notify(
            cx.tx,
            &h.absent_id,
            "takeover_started",
            None,
            Some(&h.id),
            &format!(
                "{} 已确认接手岗位“{}”（交接单 {}）",
                me.name, h.post_name, h.number
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "确认接手 {}：{} 代 {} 办理",
                    h.number, me.name, h.absent_name
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// A adds notes to the sheet (before the takeover, or later, after an emergency one).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AnnotateHandover {
    pub id: String,
    #[serde(default)]
    pub cases: Vec<CaseNote>,
    /// A general note (replaces the previous one).
    #[serde(default)]
    pub note: Option<String>,
}

impl Operation for AnnotateHandover {
    const NAME: &'static str = "handover.annotate";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (_, h) = load_for(cx, &self.id, "annotate", "补充说明")?;
        let on_sheet: Vec<String> = store::lines(cx.tx, &h.id)?
            .into_iter()
            .map(|l| l.case_id)
            .collect();
        let notes = check_notes(&self.cases, &on_sheet)?;
        for (case_id, note, at) in &notes {
            cx.tx.execute(
                "UPDATE handover_cases SET note = ?3, materials_at = ?4 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, case_id, note, at],
            )?;
        }
        if let Some(n) = &self.note {
            let n = validate::optional_text("note", "补充说明", n, 300)?;
            cx.tx.execute(
                "UPDATE handovers SET absent_note = ?2 WHERE id = ?1",
                params![h.id, n],
            )?;
        }
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!("补充交接说明 {}：{} 件", h.number, notes.len()),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// B's note on one case of the hand-back report.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BackNote {
    pub case_id: String,
    #[serde(default)]
    pub note: String,
    /// B proposes to keep the case (A decides).
    #[serde(default)]
    pub propose_keep: bool,
}

/// B reports back (A has returned): the takeover ends and B can no longer act on A's cases.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReportHandback {
    pub id: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub cases: Vec<BackNote>,
}

impl Operation for ReportHandback {
    const NAME: &'static str = "handover.report";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "report", "交回")?;
        let on_sheet: Vec<String> = store::lines(cx.tx, &h.id)?
            .into_iter()
            .map(|l| l.case_id)
            .collect();
        for (i, n) in self.cases.iter().enumerate() {
            let case_id = validate::id(&format!("cases[{i}].case_id"), "办件", &n.case_id)?;
            if !on_sheet.contains(&case_id) {
                return Err(
                    CoreError::new(ErrorCode::InvalidFormat, "该办件不在交接单上")
                        .field(format!("cases[{i}].case_id")),
                );
            }
            let note =
                validate::optional_text(&format!("cases[{i}].note"), "交回说明", &n.note, 200)?;
            cx.tx.execute(
                "UPDATE handover_cases SET back_note = ?3, propose_keep = ?4 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, case_id, note, n.propose_keep],
            )?;
        }
        let note = validate::optional_text("note", "交回说明", &self.note, 500)?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'reported', report_note = ?2, reported_at = ?3 WHERE id = ?1",
            params![h.id, note, cx.ms()],
        )?;
        takeover_ended(cx, &h.id)?;
        crate::staff::inbox::notify(
            cx.tx,
            &h.absent_id,
            "handback_reported",
            None,
            Some(&h.id),
            &format!("{} 已提交交回报告 {}，请查看并确认", me.name, h.number),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "提交交回报告 {}：{} 交回 {} 的岗位",
                    h.number, me.name, h.absent_name
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// A acknowledges the hand-back; each case goes back to A unless listed in `keep`, which stay
/// with B (the case's owner changes, as a `reassigned` event).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AcceptHandback {
    pub id: String,
    #[serde(default)]
    pub keep: Vec<String>,
}

impl Operation for AcceptHandback {
    const NAME: &'static str = "handover.accept_return";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "accept_return", "确认交回")?;
        let lines = store::lines(cx.tx, &h.id)?;
        let thresholds = crate::deadlines::load_settings(cx.tx)?.thresholds;
        let mut kept = vec![];
        for (i, k) in self.keep.iter().enumerate() {
            let id = validate::id(&format!("keep[{i}]"), "办件", k)?;
            if !lines.iter().any(|l| l.case_id == id) {
                return Err(
                    CoreError::new(ErrorCode::InvalidFormat, "该办件不在交接单上")
                        .field(format!("keep[{i}]")),
                );
            }
            let row = crate::cases::store::get(cx.tx, &id, thresholds)?;
            if !row.status.is_open() && row.status != crate::cases::CaseStatus::Decided {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    format!("办件 {} 已办结，无需移交", row.number),
                )
                .field(format!("keep[{i}]")));
            }
            kept.push(row);
        }
        for l in &lines {
            let keep = kept.iter().any(|r| r.id == l.case_id);
            cx.tx.execute(
                "UPDATE handover_cases SET disposition = ?3 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, l.case_id, if keep { "kept" } else { "returned" }],
            )?;
        }
        for row in &kept {
            crate::cases::reassign(
                cx,
                &row.id,
                (&h.taker_id, &h.taker_name),
                &format!("交接单 {} 交回时留由 B 岗继续办理", h.number),
                (&me.staff_id, &me.name),
            )?;
        }
        cx.tx.execute(
            "UPDATE handovers SET status = 'returned', returned_at = ?2 WHERE id = ?1",
            params![h.id, cx.ms()],
        )?;
        if !kept.is_empty() {
            crate::staff::inbox::notify(
                cx.tx,
                &h.taker_id,
                "cases_kept",
                None,
                Some(&h.id),
                &format!(
                    "{} 确认交回 {}：{} 件留由您继续办理（{}）",
                    me.name,
                    h.number,
                    kept.len(),
                    kept.iter()
                        .map(|r| r.number.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                cx.now,
            )?;
        }
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "确认交回 {}：交回 {} 件，留由 {} 办理 {} 件",
                    h.number,
                    lines.len() - kept.len(),
                    h.taker_name,
                    kept.len()
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// Withdraw a sheet B has not acknowledged yet.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CancelHandover {
    pub id: String,
}

impl Operation for CancelHandover {
    const NAME: &'static str = "handover.cancel";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (_, h) = load_for(cx, &self.id, "cancel", "撤回")?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'cancelled' WHERE id = ?1",
            [&h.id],
        )?;
        crate::cases::delegation::withdraw(cx.tx, &h.id, cx.now)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new("handover", Some(&h.id), format!("撤回交接单 {}", h.number)),
        )?;
        sheet(cx, &h.id)
    }
}
