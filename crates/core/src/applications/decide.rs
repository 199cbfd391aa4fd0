//! The window's decision on a checked application (accept, the one-time notice, not ours) and
//! the applicant's return with the supplement.

#[allow(unused_imports)]
use super::*;

/// The window's decision.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// Complete: accept (受理通知书).
    Accept,
    /// Incomplete: the one-time notice (补正材料通知书).
    Supplement {
        #[serde(default)]
        pending_checks: Vec<PendingCheck>,
        /// Working days allowed; the hall's setting when absent.
        #[serde(default)]
        supplement_days: Option<u32>,
    },
    /// Not ours or not needed (不予受理通知书).
    Reject {
        reason: String,
        #[serde(default)]
        competent_agency: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DecideApplication {
    pub id: String,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Decided {
    pub application: Application,
    pub document: DocumentRef,
}

fn names(materials: &[AppMaterial], positions: &[u32]) -> String {
    materials
        .iter()
        .filter(|m| positions.contains(&m.position))
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

/// Accept: create the case and issue the acceptance notice (shared with deemed acceptance).
pub(super) fn accept(
    cx: &mut Cx<'_>,
    r: &Row,
    by: &Acceptor,
    basis: AcceptBasis,
) -> Result<(String, DocumentRef)> {
    let (tx, now) = (cx.tx, cx.now);
    let received_at = r.app.received_at;
    let (case_id, case_number, d) = crate::cases::insert(
        cx,
        by,
        &r.app.item_id,
        (
            &r.app.applicant_name,
            &r.applicant_id_number,
            &r.applicant_phone,
        ),
        r.ticket_id.as_deref(),
        received_at,
        basis,
    )?;
    let outcome = match basis {
        AcceptBasis::Direct => "direct",
        AcceptBasis::AfterSupplement => "after_supplement",
        AcceptBasis::Deemed => "deemed",
    };
    tx.execute(
        "UPDATE applications SET status = 'accepted', outcome = ?1, case_id = ?2, updated_at = ?3 WHERE id = ?4",
        params![outcome, case_id, to_ms(now), r.app.id],
    )?;
    let mut data = base_data(tx, r)?;
    let (received, _) = notice_lists(&r.app.materials);
    data["received"] = listed(&received);
    data["case_number"] = case_number.clone().into();
    data["accepted_date"] = cn_date(d.started_on).into();
    data["promised_date"] = cn_date(d.promised.due_date).into();
    data["statutory_date"] = cn_date(d.statutory.due_date).into();
    data["provisional"] = (d.promised.provisional || d.statutory.provisional).into();
    let doc = notices::issue(
        tx,
        cx.data_dir(),
        now,
        NoticeKind::AcceptanceNotice,
        &r.app.id,
        Some(&case_id),
        &case_number,
        data,
        &by.staff_id,
    )?;
    Ok((case_number, doc))
}

impl Operation for DecideApplication {
    const NAME: &'static str = "application.decide";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Decided;
    fn run(self, cx: &mut Cx<'_>) -> Result<Decided> {
        let me = cx.actor.staff()?.clone();
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "作出受理决定")?;
        let state = completeness(&r.app.materials);
        let cal = cx.calendar()?;
        let (summary, document) = match self.decision {
            Decision::Accept => {
                match &state {
                    Completeness::Unchecked(p) => {
                        return Err(unchecked(&r.app.materials, p));
                    }
                    Completeness::Incomplete(p) => {
                        return Err(CoreError::new(
                            ErrorCode::MaterialsIncomplete,
                            format!(
                                "材料不齐全（缺：{}），不能受理，请出具一次性告知单",
                                names(&r.app.materials, p)
                            ),
                        )
                        .param("names", names(&r.app.materials, p)));
                    }
                    Completeness::Complete => {}
                }
                let basis = if r.app.visits > 1 {
                    AcceptBasis::AfterSupplement
                } else {
                    AcceptBasis::Direct
                };
                let (case_number, doc) = accept(cx, &r, &Acceptor::from(&me), basis)?;
                (
                    format!(
                        "受理 {}，办件 {case_number}，出具 {}",
                        r.app.number, doc.number
                    ),
                    doc,
                )
            }
            Decision::Supplement {
                pending_checks,
                supplement_days,
            } => {
                let missing = match &state {
                    Completeness::Unchecked(p) => return Err(unchecked(&r.app.materials, p)),
                    Completeness::Complete => {
                        return Err(CoreError::new(
                            ErrorCode::MaterialsComplete,
                            "材料已齐全，应当受理，不能要求补正",
                        ));
                    }
                    Completeness::Incomplete(p) => p.clone(),
                };
                let settings = notices::load_settings(cx.tx)?;
                let days = validate::range_i64(
                    "supplement_days",
                    "补正期限",
                    supplement_days.unwrap_or(settings.supplement_days).into(),
                    1,
                    180,
                )? as u32;
                let mut checks = vec![];
                for (i, c) in pending_checks.iter().enumerate() {
                    let f = |n: &str, label: &str, v: &str| {
                        validate::text(&format!("pending_checks.{i}.{n}"), label, v, 100)
                    };
                    checks.push(serde_json::json!({
                        "what": f("what", "需核实事项", &c.what)?, "why": f("why", "核实原因", &c.why)?,
                        "when": f("when", "告知时间", &c.when)?, "how": f("how", "告知方式", &c.how)?,
                    }));
                }
                let (until, _) =
                    cal.add_workdays(hall_date(cx.now), days, crate::calendar::DayCount::NextDay)?;
                let (received, missing_list) = notice_lists(&r.app.materials);
                let mut data = base_data(cx.tx, &r)?;
                data["received"] = listed(&received);
                data["missing"] = listed(&missing_list);
                data["pending_checks"] = checks.into();
                data["supplement_until"] = cn_date(until).into();
                cx.tx.execute(
                    "UPDATE applications SET status = 'awaiting_supplement', supplement_until = ?3,
                        updated_at = ?1 WHERE id = ?2",
                    params![cx.ms(), id, until.to_string()],
                )?;
                let doc = notices::issue(
                    cx.tx,
                    cx.data_dir(),
                    cx.now,
                    NoticeKind::SupplementNotice,
                    &id,
                    None,
                    &r.app.number,
                    data,
                    &me.staff_id,
                )?;
                // Told once and in writing, and on the phone too: what is missing, by when.
                crate::messages::send(
                    cx.tx,
                    cx.now,
                    "notice.supplement",
                    &r.applicant_phone,
                    &format!("notice.supplement:{id}:{}", r.app.visits),
                    &[
                        ("item", r.app.item_name.clone()),
                        ("application", r.app.number.clone()),
                        (
                            "missing",
                            names(&r.app.materials, &missing).replace('、', "；"),
                        ),
                        ("until", crate::messages::cn_date(until)),
                    ],
                )?;
                (
                    format!(
                        "一次性告知 {}：缺 {}，出具 {}",
                        r.app.number,
                        names(&r.app.materials, &missing),
                        doc.number
                    ),
                    doc,
                )
            }
            Decision::Reject {
                reason,
                competent_agency,
            } => {
                let reason = validate::text("reason", "不予受理理由", &reason, 500)?;
                let agency =
                    validate::optional_text("competent_agency", "有权机关", &competent_agency, 60)?;
                let settings = notices::load_settings(cx.tx)?;
                let mut data = base_data(cx.tx, &r)?;
                data["reason"] = reason.clone().into();
                data["competent_agency"] = agency.into();
                data["review_body"] = settings.review_body.into();
                data["court"] = settings.court.into();
                cx.tx.execute(
                    "UPDATE applications SET status = 'rejected', outcome = 'rejected', updated_at = ?1 WHERE id = ?2",
                    params![cx.ms(), id],
                )?;
                let doc = notices::issue(
                    cx.tx,
                    cx.data_dir(),
                    cx.now,
                    NoticeKind::RejectionNotice,
                    &id,
                    None,
                    &r.app.number,
                    data,
                    &me.staff_id,
                )?;
                (
                    format!("不予受理 {}：{reason}，出具 {}", r.app.number, doc.number),
                    doc,
                )
            }
        };
        cx.record(
            Topic::Case,
            AuditDraft::new("application", Some(&id), summary),
        )?;
        Ok(Decided {
            application: load(cx.tx, &id)?.app,
            document,
        })
    }
}

fn unchecked(materials: &[AppMaterial], p: &[u32]) -> CoreError {
    CoreError::new(
        ErrorCode::MaterialsUnchecked,
        format!("还有材料未核对：{}", names(materials, p)),
    )
    .param("names", names(materials, p))
}

/// The applicant is back with the supplement: a new visit; only the missing materials are
/// checked again.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReturnWithSupplement {
    pub id: String,
}

impl Operation for ReturnWithSupplement {
    const NAME: &'static str = "application.return";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let me = cx.actor.staff()?.clone();
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::AwaitingSupplement], "登记补正")?;
        let visit = r.app.visits + 1;
        cx.tx.execute(
            "UPDATE application_materials SET state = 'pending' WHERE application_id = ?1 AND state = 'missing'",
            [&id],
        )?;
        cx.tx.execute(
            "UPDATE applications SET status = 'checking', visits = ?1, updated_at = ?2 WHERE id = ?3",
            params![visit, cx.ms(), id],
        )?;
        // The trip came with the ticket being served at this window (if any): its rating
        // belongs to this application too.
        let ticket: Option<String> = match me.window_id.as_deref() {
            Some(w) => cx
                .tx
                .query_row(
                    "SELECT id FROM tickets WHERE window_id = ?1 AND status IN ('called', 'serving')",
                    [w],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        };
        cx.tx.execute(
            "INSERT INTO application_visits (application_id, seq, at, clerk_id, window_id, ticket_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, visit, cx.ms(), me.staff_id, me.window_id, ticket],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!("{} 补正材料（第 {visit} 次到窗口）", r.app.number),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}

/// How far ahead of a supplement deadline the applicant is reminded, in working days.
pub const REMIND_BEFORE: u32 = 2;

/// Remind the applicants whose supplement deadline is [`REMIND_BEFORE`] working days away (or
/// nearer, when the sweep did not run on the day): "补正期限为…，还剩 N 个工作日". Once per notice
/// (the dedupe key names the application and its trip). Run by the deadline sweep; returns how
/// many reminders were queued.
pub fn remind_supplements(cx: &mut Cx<'_>) -> Result<u32> {
    let cal = cx.calendar()?;
    let today = hall_date(cx.now);
    let (horizon, _) =
        cal.add_workdays(today, REMIND_BEFORE, crate::calendar::DayCount::NextDay)?;
    let due: Vec<(String, String, String, u32, String, String)> = cx
        .tx
        .prepare_cached(
            "SELECT a.id, a.number, a.applicant_phone, a.visits, a.supplement_until, i.name
             FROM applications a JOIN service_items i ON i.id = a.item_id
             WHERE a.status = 'awaiting_supplement' AND a.supplement_until > ?1
               AND a.supplement_until <= ?2",
        )?
        .query_map(params![today.to_string(), horizon.to_string()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut queued = 0;
    for (id, number, phone, visits, until, item) in due {
        let until = crate::calendar::parse_date("supplement_until", &until)?;
        let days = cal.count_workdays(today, until)?;
        let sent = crate::messages::send(
            cx.tx,
            cx.now,
            "notice.supplement_due",
            &phone,
            &format!("notice.supplement_due:{id}:{visits}"),
            &[
                ("item", item),
                ("application", number),
                ("until", crate::messages::cn_date(until)),
                ("days", days.to_string()),
            ],
        )?;
        if sent == crate::messages::Sent::Queued {
            queued += 1;
        }
    }
    Ok(queued)
}
