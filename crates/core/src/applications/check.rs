//! At the window: receive the applicant's materials for an item (the five-day clock of
//! 行政许可法 art. 32 starts) and mark them one by one or all received at once.

#[allow(unused_imports)]
use super::*;

/// Receive an applicant's materials for an item: the check starts, and so does the five-day
/// clock.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct OpenApplication {
    pub item_id: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    #[serde(default)]
    pub ticket_id: Option<String>,
}

impl Operation for OpenApplication {
    const NAME: &'static str = "application.open";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let me = cx.actor.staff()?.clone();
        if me.window_id.is_none() {
            return Err(CoreError::new(
                ErrorCode::WindowRequired,
                "请先在窗口登录再收件",
            ));
        }
        let item_id = validate::id("item_id", "事项", &self.item_id)?;
        let (name, id_number, phone, ticket) = validate::applicant(
            &self.applicant_name,
            &self.applicant_id_number,
            &self.applicant_phone,
            self.ticket_id.as_deref(),
        )?;
        let item = crate::catalog::get(cx.tx, &item_id)?;
        if !item.active {
            return Err(CoreError::new(
                ErrorCode::ItemInactive,
                format!("事项“{}”已停用", item.fields.name),
            )
            .field("item_id"));
        }
        let cal = cx.calendar()?;
        let (due, _) = crate::deadlines::notice_deadline(&cal, hall_date(cx.now))?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let year = hall_date(cx.now).year();
        let seq = crate::kernel::numbers::next(cx.tx, "application", &year.to_string())?;
        let number = format!("{}-SQ-{year}-{seq:06}", hall.code);
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO applications (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
                ticket_id, window_id, clerk_id, received_at, notice_due, status, visits, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'checking', 1, ?10, ?10)",
            params![id, number, item.id, name, id_number, phone, ticket, me.window_id, me.staff_id, cx.ms(), due.to_string()],
        )?;
        for (i, m) in item.fields.materials.iter().enumerate() {
            cx.tx.execute(
                "INSERT INTO application_materials (application_id, position, name, form, copies, requirement, condition, standard, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
                params![id, i as u32, m.name, enum_str(m.form), m.copies, enum_str(m.requirement), m.condition, m.standard],
            )?;
        }
        cx.tx.execute(
            "INSERT INTO application_visits (application_id, seq, at, clerk_id, window_id, ticket_id)
             VALUES (?1, 1, ?2, ?3, ?4, ?5)",
            params![id, cx.ms(), me.staff_id, me.window_id, ticket],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!(
                    "收件 {number}：{}，申请人 {}，告知期限 {due}",
                    item.fields.name,
                    validate::mask_name(&name)
                ),
            ),
        )?;
        with_countdown(cx, load(cx.tx, &id)?.app)
    }
}

/// Mark one material received, missing or not applicable, with a note ("复印件不清晰").
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MarkMaterial {
    pub id: String,
    pub position: u32,
    pub state: MaterialState,
    #[serde(default)]
    pub note: String,
}

impl Operation for MarkMaterial {
    const NAME: &'static str = "application.mark";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "核对材料")?;
        let m = r
            .app
            .materials
            .iter()
            .find(|m| m.position == self.position)
            .ok_or_else(|| CoreError::not_found("材料", self.position).field("position"))?;
        let supplementing = r.app.visits > 1;
        check_mark(m, self.state, supplementing)?;
        let note = validate::optional_text("note", "材料说明", &self.note, 100)?;
        cx.tx.execute(
            "UPDATE application_materials SET state = ?1, note = ?2 WHERE application_id = ?3 AND position = ?4",
            params![self.state.as_str(), note, id, self.position],
        )?;
        cx.tx.execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            params![cx.ms(), id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!("{}：{}，{}", r.app.number, m.name, self.state.label()),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}

/// 全部已收: every material not yet checked is received, in one step — the applicant brought
/// everything, and the clerk confirms it with one key. A material already marked missing or not
/// applicable keeps its mark; on a supplement visit only the missing ones are checked again, so
/// they are the ones marked received.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MarkAllReceived {
    pub id: String,
}

impl Operation for MarkAllReceived {
    const NAME: &'static str = "application.mark_all_received";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "核对材料")?;
        let supplementing = r.app.visits > 1;
        let todo: Vec<&AppMaterial> = r
            .app
            .materials
            .iter()
            .filter(|m| {
                m.state == MaterialState::Pending
                    || (supplementing && m.state == MaterialState::Missing)
            })
            .collect();
        if todo.is_empty() {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                "没有待核对的材料（已标记的材料请逐项修改）",
            )
            .param("event", "mark_all_received"));
        }
        for m in &todo {
            check_mark(m, MaterialState::Received, supplementing)?;
            cx.tx.execute(
                "UPDATE application_materials SET state = 'received' WHERE application_id = ?1 AND position = ?2",
                params![id, m.position],
            )?;
        }
        cx.tx.execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            params![cx.ms(), id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!(
                    "{}：全部已收（{} 项：{}）",
                    r.app.number,
                    todo.len(),
                    todo.iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}
