//! Starting a takeover: the handover A prepares before a planned absence, and the emergency
//! takeover B or the supervisor starts when A left without one.

#[allow(unused_imports)]
use super::*;

pub(super) fn post_of(tx: &Tx<'_>, post_id: &str) -> Result<PostView> {
    list_posts(tx)?
        .into_iter()
        .find(|p| p.id == post_id)
        .ok_or_else(|| CoreError::not_found("岗位", post_id))
}

/// One open handover per post (the partial unique index `handovers_one_open_per_post` backs
/// it). Decided here, then written: on PostgreSQL two takeovers of one post would both see none
/// open under READ COMMITTED, so the post's key is locked first and the check reads after it.
fn ensure_no_open(tx: &Tx<'_>, post: &PostView) -> Result<()> {
    tx.serialize(&format!("handover.post:{}", post.id))?;
    if let Some(open) = store::open_of_post(tx, &post.id)? {
        return Err(CoreError::new(
            ErrorCode::HandoverOpen,
            format!(
                "岗位“{}”已有未结束的交接单 {}（{}）",
                post.name,
                open.number,
                open.status.label()
            ),
        )
        .param("number", open.number)
        .param("status", open.status.as_str()));
    }
    Ok(())
}

fn next_number(tx: &Tx<'_>, now: Timestamp) -> Result<String> {
    let hall = crate::hall::load_hall(tx)?;
    let year = hall_date(now).year();
    let seq = crate::kernel::numbers::next(tx, "handover", &year.to_string())?;
    Ok(format!("{}-JJ-{year}-{seq:04}", hall.code))
}

/// A's note on one case of the sheet.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseNote {
    pub case_id: String,
    pub note: String,
    /// Where the paper materials are.
    #[serde(default)]
    pub materials_at: String,
}

pub(super) fn check_notes(
    notes: &[CaseNote],
    on_sheet: &[String],
) -> Result<Vec<(String, String, String)>> {
    notes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = validate::id(&format!("cases[{i}].case_id"), "办件", &n.case_id)?;
            if !on_sheet.contains(&id) {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    "该办件不在交接单上（只能交接本岗位在办的办件）",
                )
                .field(format!("cases[{i}].case_id")));
            }
            Ok((
                id,
                validate::optional_text(&format!("cases[{i}].note"), "交接说明", &n.note, 200)?,
                validate::optional_text(
                    &format!("cases[{i}].materials_at"),
                    "纸质材料存放位置",
                    &n.materials_at,
                    60,
                )?,
            ))
        })
        .collect()
}

/// Create the sheet with every open case of A, notes where given.
#[allow(clippy::too_many_arguments)]
fn create(
    cx: &mut Cx<'_>,
    post: &PostView,
    absent_id: &str,
    taker_id: &str,
    absence_id: Option<&str>,
    kind: HandoverKind,
    reason: &str,
    notes: &[CaseNote],
    queue_note: &str,
    materials_note: &str,
) -> Result<String> {
    ensure_no_open(cx.tx, post)?;
    let open = store::open_cases_of(cx.tx, absent_id)?;
    let notes = check_notes(notes, &open)?;
    let duties = queue_duties(cx.tx, post.window_id.as_deref(), cx.now)?;
    let number = next_number(cx.tx, cx.now)?;
    let status = match kind {
        HandoverKind::Planned => HandoverStatus::Prepared,
        HandoverKind::Emergency => HandoverStatus::Active,
    };
    let by = cx.actor.display_name();
    let id = store::insert(
        cx.tx,
        &store::NewHandover {
            number: &number,
            post_id: &post.id,
            absent_id,
            taker_id,
            absence_id,
            kind,
            reason,
            status,
            queue_duties: &serde_json::to_string(&duties)?,
            queue_note,
            materials_note,
            by: &by,
            now: cx.now,
        },
    )?;
    for (i, case_id) in open.iter().enumerate() {
        let (note, at) = notes
            .iter()
            .find(|n| &n.0 == case_id)
            .map(|n| (n.1.as_str(), n.2.as_str()))
            .unwrap_or(("", ""));
        store::add_line(cx.tx, &id, i + 1, case_id, note, at)?;
    }
    crate::cases::delegation::offer(cx.tx, &id, absent_id, taker_id, &open, cx.now)?;
    if status == HandoverStatus::Active {
        takeover_began(
            cx,
            &id,
            (&post.id, post.window_id.as_deref()),
            absent_id,
            taker_id,
            absence_id,
        )?;
    }
    Ok(id)
}

/// A prepares the handover sheet of their post before a planned absence (a supervisor may
/// prepare it for A). B is asked to acknowledge it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PrepareHandover {
    /// The post; when absent, the one the caller holds as A.
    #[serde(default)]
    pub post_id: Option<String>,
    /// The absence this handover is for, if it was requested in the app.
    #[serde(default)]
    pub absence_id: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub cases: Vec<CaseNote>,
    /// Queue duties: what B should know about the window (挂起的号、预约、专项业务).
    #[serde(default)]
    pub queue_note: String,
    /// Where the post's paper materials are in general.
    #[serde(default)]
    pub materials_note: String,
}

impl Operation for PrepareHandover {
    const NAME: &'static str = "handover.prepare";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let me = cx.actor.staff()?.clone();
        let post = match self.post_id.as_deref().filter(|s| !s.is_empty()) {
            Some(p) => post_of(cx.tx, &validate::id("post_id", "岗位", p)?)?,
            // The post the caller holds as A; one with a window first.
            None => list_posts(cx.tx)?
                .into_iter()
                .filter(|p| p.primary_id.as_deref() == Some(me.staff_id.as_str()))
                .min_by_key(|p| p.window_id.is_none())
                .ok_or_else(|| {
                    CoreError::new(ErrorCode::Required, "您不是任何岗位的 A 岗，请选择岗位")
                        .field("post_id")
                })?,
        };
        let (Some(a), Some(b)) = (post.primary_id.clone(), post.backup_id.clone()) else {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("岗位“{}”尚未设置 A、B 岗", post.name),
            )
            .field("post_id"));
        };
        if a != me.staff_id && !is_supervisor(&me) {
            return Err(
                CoreError::forbidden("只有本岗位的 A 岗或分管领导可以填写交接单")
                    .param("op", Self::NAME),
            );
        }
        let reason = validate::text("reason", "离岗事由", &self.reason, 100)?;
        let absence = match self.absence_id.as_deref().filter(|s| !s.is_empty()) {
            Some(x) => {
                let ab = crate::posts::absence(cx.tx, &validate::id("absence_id", "离岗申请", x)?)?;
                if ab.staff_id != a || !matches!(ab.status.as_str(), "requested" | "approved") {
                    return Err(CoreError::new(
                        ErrorCode::InvalidFormat,
                        "该离岗申请不属于本岗位 A 岗，或已被驳回、撤销",
                    )
                    .field("absence_id"));
                }
                Some(ab.id)
            }
            None => None,
        };
        let queue_note = validate::optional_text("queue_note", "叫号事项", &self.queue_note, 300)?;
        let materials_note =
            validate::optional_text("materials_note", "材料存放", &self.materials_note, 200)?;
        let id = create(
            cx,
            &post,
            &a,
            &b,
            absence.as_deref(),
            HandoverKind::Planned,
            &reason,
            &self.cases,
            &queue_note,
            &materials_note,
        )?;
        let s = sheet(cx, &id)?;
        crate::staff::inbox::notify(
            cx.tx,
            &b,
            "takeover_requested",
            None,
            Some(&id),
            &format!(
                "{} 请您顶岗“{}”：交接单 {}，共 {} 件在办，请确认接手",
                s.absent_name,
                s.post_name,
                s.number,
                s.cases.len()
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&id),
                format!(
                    "填写交接单 {}：{} → {}，{} 件在办（{reason}）",
                    s.number,
                    s.absent_name,
                    s.taker_name,
                    s.cases.len()
                ),
            ),
        )?;
        Ok(s)
    }
}

/// Emergency takeover (主动顶岗): A left without a handover. B starts it for themselves, or a
/// supervisor assigns it (to the post's B unless another taker is named). Active at once.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct StartEmergencyTakeover {
    pub post_id: String,
    /// Who takes over; the caller (B) when absent, the post's B when a supervisor leaves it out.
    #[serde(default)]
    pub taker_id: Option<String>,
    pub reason: String,
}

impl Operation for StartEmergencyTakeover {
    const NAME: &'static str = "handover.emergency";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let me = cx.actor.staff()?.clone();
        let post = post_of(cx.tx, &validate::id("post_id", "岗位", &self.post_id)?)?;
        let (Some(a), Some(b)) = (post.primary_id.clone(), post.backup_id.clone()) else {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("岗位“{}”尚未设置 A、B 岗", post.name),
            )
            .field("post_id"));
        };
        let reason = validate::text("reason", "顶岗原因", &self.reason, 100)?;
        let named = match self.taker_id.as_deref().filter(|s| !s.is_empty()) {
            Some(t) => Some(validate::id("taker_id", "顶岗人员", t)?),
            None => None,
        };
        let taker = if is_supervisor(&me) {
            named.unwrap_or(b.clone())
        } else {
            // A clerk starts a takeover only for themselves, as the post's B or as the third
            // person a supervisor named for it now.
            let third: bool = cx.tx.query_row(
                "SELECT count(*) > 0 FROM post_covers WHERE post_id = ?1 AND staff_id = ?2
                   AND starts_at <= ?3 AND ends_at > ?3",
                params![post.id, me.staff_id, cx.ms()],
                |r| r.get(0),
            )?;
            if (me.staff_id != b && !third) || named.as_deref().is_some_and(|n| n != me.staff_id) {
                return Err(CoreError::forbidden(
                    "只有本岗位的 B 岗（或分管领导指定的第三人）可以主动顶岗",
                )
                .param("op", Self::NAME));
            }
            me.staff_id.clone()
        };
        if taker == a {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "顶岗人员不能是离岗的 A 岗本人")
                    .field("taker_id"),
            );
        }
        let taker_name = staff_name(cx.tx, &taker)?;
        let id = create(
            cx,
            &post,
            &a,
            &taker,
            None,
            HandoverKind::Emergency,
            &reason,
            &[],
            "",
            "",
        )?;
        let s = sheet(cx, &id)?;
        if taker != me.staff_id {
            crate::staff::inbox::notify(
                cx.tx,
                &taker,
                "takeover_started",
                None,
                Some(&id),
                &format!(
                    "{} 指定您紧急顶岗“{}”（{reason}），{} 件在办已转入您的办件列表",
                    me.name,
                    s.post_name,
                    s.cases.len()
                ),
                cx.now,
            )?;
        }
        crate::staff::inbox::notify(
            cx.tx,
            &a,
            "takeover_started",
            None,
            Some(&id),
            &format!(
                "您的岗位“{}”已由 {taker_name} 紧急顶岗（{reason}），可在交接单 {} 上补充说明",
                s.post_name, s.number
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&id),
                format!(
                    "紧急顶岗 {}：{taker_name} 接手 {} 的岗位“{}”，{} 件在办（{reason}）",
                    s.number,
                    s.absent_name,
                    s.post_name,
                    s.cases.len()
                ),
            ),
        )?;
        Ok(s)
    }
}
