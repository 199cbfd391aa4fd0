//! The handover sheet: what a post carries at the moment it is made (open cases with their
//! deadlines and notes, the window's queue duties and held tickets), who may do what with it,
//! and its PDF.

#[allow(unused_imports)]
use super::*;

/// The window duties of a post at the moment the sheet was made.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct QueueDuties {
    pub window_number: Option<u32>,
    /// The categories (业务) the window calls, in its order.
    pub categories: Vec<String>,
    /// Tickets held (挂起) at the window today, waiting to be called back.
    pub held_tickets: Vec<String>,
}

pub(super) fn queue_duties(
    tx: &Tx<'_>,
    window_id: Option<&str>,
    now: Timestamp,
) -> Result<QueueDuties> {
    let Some(w) = window_id else {
        return Ok(QueueDuties::default());
    };
    let window_number: Option<u32> = tx
        .query_row("SELECT number FROM windows WHERE id = ?1", [w], |r| {
            r.get(0)
        })
        .optional()?;
    let categories = tx
        .prepare(
            "SELECT c.prefix || ' ' || c.name FROM window_categories wc JOIN categories c ON c.id = wc.category_id
             WHERE wc.window_id = ?1 ORDER BY wc.rank",
        )?
        .query_map([w], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<String>>>()?;
    let held_tickets = tx
        .prepare("SELECT number FROM tickets WHERE window_id = ?1 AND status = 'held' AND day = ?2 ORDER BY issued_at")?
        .query_map(params![w, hall_date(now).to_string()], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<String>>>()?;
    Ok(QueueDuties {
        window_number,
        categories,
        held_tickets,
    })
}

/// One case on a sheet: the case as it is now, A's notes, and (once reported) B's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverCase {
    pub case: CaseSummary,
    pub note: String,
    /// Where the paper file is (柜号、档案盒).
    pub materials_at: String,
    pub back_note: String,
    pub propose_keep: bool,
    /// `returned` or `kept`, once A acknowledged the report.
    pub disposition: Option<String>,
    /// What happened to the case during the takeover (the report's pre-filled part).
    pub during: Vec<LoggedEvent>,
}

/// A handover sheet, and once B has reported, the hand-back report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverSheet {
    pub id: String,
    pub number: String,
    pub post_id: String,
    pub post_name: String,
    pub absent_id: String,
    pub absent_name: String,
    pub taker_id: String,
    pub taker_name: String,
    pub absence_id: Option<String>,
    pub kind: HandoverKind,
    pub reason: String,
    pub status: HandoverStatus,
    pub queue: QueueDuties,
    pub queue_note: String,
    pub materials_note: String,
    /// Notes A added (after an emergency takeover, for instance).
    pub absent_note: String,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub started_by: Option<String>,
    pub started_at: Option<Timestamp>,
    pub report_note: Option<String>,
    pub reported_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub cases: Vec<HandoverCase>,
    /// What the caller may do now: `acknowledge`, `annotate`, `report`, `accept_return`, `cancel`.
    pub may: Vec<String>,
}

pub(super) fn is_supervisor(me: &StaffActor) -> bool {
    me.role >= Role::Supervisor
}

pub(super) fn may_do(h: &HandoverRow, me: &StaffActor) -> Vec<String> {
    let a = me.staff_id == h.absent_id;
    let b = me.staff_id == h.taker_id;
    let sup = is_supervisor(me);
    let mut out = vec![];
    match h.status {
        HandoverStatus::Prepared => {
            if b {
                out.push("acknowledge");
            }
            if a {
                out.push("annotate");
            }
            if a || sup {
                out.push("cancel");
            }
        }
        HandoverStatus::Active => {
            if a {
                out.push("annotate");
            }
            if b {
                out.push("report");
            }
        }
        HandoverStatus::Reported => {
            if a || sup {
                out.push("accept_return");
            }
        }
        HandoverStatus::Returned | HandoverStatus::Cancelled => {}
    }
    out.into_iter().map(str::to_owned).collect()
}

pub(crate) fn sheet(cx: &Cx<'_>, id: &str) -> Result<HandoverSheet> {
    let me = cx.actor.staff()?.clone();
    let h = store::get(cx.tx, id)?;
    if me.staff_id != h.absent_id && me.staff_id != h.taker_id && !is_supervisor(&me) {
        return Err(CoreError::forbidden("只有交接双方和分管领导可以查看交接单")
            .param("op", "handover.get"));
    }
    let end = h.reported_at.unwrap_or(cx.now);
    let mut cases = vec![];
    for l in store::lines(cx.tx, &h.id)? {
        let (case, log) = crate::cases::views::summary_now(cx, &l.case_id)?;
        let during = match h.started_at {
            Some(start) => log
                .into_iter()
                .filter(|e| e.at >= start && e.at <= end)
                .collect(),
            None => vec![],
        };
        cases.push(HandoverCase {
            case,
            note: l.note,
            materials_at: l.materials_at,
            back_note: l.back_note,
            propose_keep: l.propose_keep,
            disposition: l.disposition,
            during,
        });
    }
    Ok(HandoverSheet {
        may: may_do(&h, &me),
        queue: serde_json::from_str(&h.queue_duties).unwrap_or_default(),
        id: h.id,
        number: h.number,
        post_id: h.post_id,
        post_name: h.post_name,
        absent_id: h.absent_id,
        absent_name: h.absent_name,
        taker_id: h.taker_id,
        taker_name: h.taker_name,
        absence_id: h.absence_id,
        kind: h.kind,
        reason: h.reason,
        status: h.status,
        queue_note: h.queue_note,
        materials_note: h.materials_note,
        absent_note: h.absent_note,
        prepared_by: h.prepared_by,
        prepared_at: h.prepared_at,
        started_by: h.started_by,
        started_at: h.started_at,
        report_note: h.report_note,
        reported_at: h.reported_at,
        returned_at: h.returned_at,
        cases,
    })
}

/// The handover sheet (and, once reported, the hand-back report) as a PDF:
/// `handovers/<number>-<status>.pdf` beside the database, one file per stage, with a preview.
pub(crate) fn sheet_file(
    cx: &Cx<'_>,
    s: &HandoverSheet,
) -> Result<crate::notices::ServiceCardFile> {
    let hall = crate::hall::load_hall(cx.tx)?;
    let when = |t: Option<Timestamp>, who: Option<&str>| match t {
        Some(t) => format!(
            "{} {}",
            who.unwrap_or(""),
            t.to_zoned(crate::kernel::clock::hall_tz())
                .strftime("%Y年%-m月%-d日 %H:%M")
        ),
        None => "—".into(),
    };
    let status = s.status.label();
    let cases: Vec<serde_json::Value> = s
        .cases
        .iter()
        .map(|c| {
            let d = &c.case.deadlines;
            let left = if c.case.status.is_open() {
                if d.promised.overdue {
                    "已超期".to_owned()
                } else {
                    format!("剩 {} 个工作日", d.promised.working_days_left)
                }
            } else {
                String::new()
            };
            serde_json::json!({
                "number": c.case.number, "item": c.case.item_name,
                "applicant": validate::mask_name(&c.case.applicant_name),
                "due": crate::notices::cn_date(d.promised.due_date), "left": left,
                "state": c.case.status.label(), "level": d.level.label(),
                "note": c.note, "materials_at": c.materials_at, "back_note": c.back_note,
                "disposition": match c.disposition.as_deref() {
                    Some("kept") => "留 B 岗办理", Some("returned") => "交回 A 岗", _ => "" },
                "during": c.during.iter().map(|e| format!(
                    "{} {} {}",
                    e.at.to_zoned(crate::kernel::clock::hall_tz()).strftime("%m-%d %H:%M"),
                    crate::deadlines::events::event_label(&e.event),
                    e.actor_name)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let data = serde_json::json!({
        "hall": {"name": hall.name, "code": hall.code, "address": hall.address, "phone": hall.phone},
        "number": s.number,
        "kind": match s.kind { HandoverKind::Planned => "计划离岗", HandoverKind::Emergency => "紧急顶岗" },
        "status": status, "post": s.post_name, "reason": s.reason,
        "absent": s.absent_name, "taker": s.taker_name,
        "prepared": when(Some(s.prepared_at), Some(&s.prepared_by)),
        "started": when(s.started_at, s.started_by.as_deref()),
        "queue": {
            "window": s.queue.window_number.map(|n| format!("{n}号窗口：")).unwrap_or_default(),
            "categories": s.queue.categories.join("、"),
            "held": if s.queue.held_tickets.is_empty() { "无".to_owned() } else { s.queue.held_tickets.join("、") },
        },
        "queue_note": s.queue_note, "materials_note": s.materials_note, "absent_note": s.absent_note,
        "cases": cases,
        "report": s.reported_at.map(|t| serde_json::json!({
            "at": when(Some(t), None).trim().to_owned(),
            "note": s.report_note.clone().unwrap_or_default(),
        })),
    });
    let path =
        cx.data_dir()
            .join("handovers")
            .join(format!("{}-{}.pdf", s.number, s.status.as_str()));
    crate::notices::render_file(
        cx,
        onetrip_notice::NoticeKind::HandoverSheet,
        &data,
        &s.number,
        &path,
    )
}
