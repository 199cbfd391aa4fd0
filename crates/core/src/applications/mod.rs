//! Applications at the window (收件 → 一次性告知 → 受理): the applicant's materials checked against
//! the item's list, and one of three outcomes, each with its printed notice.
//!
//! Rules (行政许可法 art. 32; see `shared/glossary.md`):
//! - Each material is received, missing, or — for a conditional one whose condition does not
//!   hold — not applicable; a required material is never "not applicable". Optional materials
//!   never block acceptance.
//! - **Complete** → accepted: a case is created (its clock starts that day) and the 受理通知书 is
//!   issued. **Incomplete** → the 补正材料通知书 (一次性告知单) lists, once and in writing, what is
//!   complete, what is missing with the standard it must meet, what must be checked first (why,
//!   when and how the applicant will be told), the time allowed and the clerk; the application
//!   waits as "awaiting supplement". **Not ours / not needed** → the 不予受理通知书 with the reason,
//!   the competent agency where there is one, and the right to review or litigation.
//! - **Five-day clock (art. 32(4)).** From receipt, in working days. If no notice has been issued
//!   by the end of the fifth working day, the application counts as accepted from the day of
//!   receipt: the sweep creates the case with [`AcceptBasis::Deemed`] and records it.
//! - **Supplement.** When the applicant returns, only the missing materials are checked again;
//!   acceptance then starts the case clock on that day. Every visit is counted.

pub mod preview;

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::cases::{AcceptBasis, Acceptor};
use crate::catalog::{Requirement, enum_str};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::validate;
use crate::notices::{self, DocumentRef, cn_date, cn_date_of};
use onetrip_notice::NoticeKind;

mod materials;
pub use materials::*;
mod check;
pub use check::*;
mod decide;
pub use decide::*;
mod views;
pub use views::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Checking,
    AwaitingSupplement,
    Accepted,
    Rejected,
}

/// Something that must be checked before it can be said (一次性告知单 section 三).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PendingCheck {
    pub what: String,
    pub why: String,
    /// When the applicant will be told (a date in words or ISO).
    pub when: String,
    /// How: 电话 / 短信 / 书面.
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Application {
    pub id: String,
    pub number: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub status: ApplicationStatus,
    /// `direct`, `after_supplement`, `deemed` or `rejected` once it has ended.
    pub outcome: Option<String>,
    pub received_at: Timestamp,
    /// Last day to issue the one-time notice (art. 32(4)).
    #[ts(type = "string")]
    pub notice_due: jiff::civil::Date,
    /// Working days left to issue the notice while the materials are being checked on the first
    /// visit (0: due today; negative: lapsed); `None` once it no longer applies.
    pub notice_days_left: Option<i32>,
    pub visits: u32,
    pub visits_needed: u32,
    pub materials: Vec<AppMaterial>,
    pub documents: Vec<DocumentRef>,
    pub case_id: Option<String>,
    pub case_number: Option<String>,
}

fn form_label(form: &str) -> &'static str {
    serde_json::from_value::<crate::catalog::MaterialForm>(form.into())
        .map_or("原件及复印件", crate::catalog::MaterialForm::label)
}

fn materials_of(tx: &Tx<'_>, id: &str) -> Result<Vec<AppMaterial>> {
    let mut stmt = tx.prepare_cached(
        "SELECT position, name, form, copies, requirement, condition, standard, state, note
         FROM application_materials WHERE application_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u32>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (position, name, form, copies, req, condition, standard, state, note) = row?;
        out.push(AppMaterial {
            position,
            name,
            form,
            copies,
            requirement: serde_json::from_value(serde_json::Value::String(req))?,
            condition,
            standard,
            state: MaterialState::parse(&state),
            note,
        });
    }
    Ok(out)
}

struct Row {
    app: Application,
    applicant_id_number: String,
    applicant_phone: String,
    ticket_id: Option<String>,
    clerk_id: String,
    clerk_name: String,
    window_id: Option<String>,
    window_number: Option<u32>,
}

fn load(tx: &Tx<'_>, id: &str) -> Result<Row> {
    // Every write decides on the application's state: lock it (a no-op in a read, and on
    // SQLite, whose writers are serialised).
    tx.lock_row("applications", id)?;
    let row = tx
        .query_row(
            "SELECT a.id, a.number, a.item_id, i.code, i.name, a.applicant_name, a.applicant_id_number,
                    a.applicant_phone, a.status, a.outcome, a.received_at, a.notice_due, a.visits,
                    i.visits_needed, a.case_id, c.number, a.ticket_id, a.clerk_id, s.name, a.window_id, w.number
             FROM applications a JOIN service_items i ON i.id = a.item_id JOIN staff s ON s.id = a.clerk_id
             LEFT JOIN cases c ON c.id = a.case_id LEFT JOIN windows w ON w.id = a.window_id
             WHERE a.id = ?1",
            [id],
            |r| {
                let status: String = r.get(8)?;
                let due: String = r.get(11)?;
                Ok(Row {
                    app: Application {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        item_id: r.get(2)?,
                        item_code: r.get(3)?,
                        item_name: r.get(4)?,
                        applicant_name: r.get(5)?,
                        applicant_id_masked: validate::mask_id(&r.get::<_, String>(6)?),
                        status: match status.as_str() {
                            "awaiting_supplement" => ApplicationStatus::AwaitingSupplement,
                            "accepted" => ApplicationStatus::Accepted,
                            "rejected" => ApplicationStatus::Rejected,
                            _ => ApplicationStatus::Checking,
                        },
                        outcome: r.get(9)?,
                        received_at: from_ms(r.get(10)?),
                        notice_due: due.parse().unwrap_or_default(),
                        notice_days_left: None,
                        visits: r.get(12)?,
                        visits_needed: r.get(13)?,
                        materials: vec![],
                        documents: vec![],
                        case_id: r.get(14)?,
                        case_number: r.get(15)?,
                    },
                    applicant_id_number: r.get(6)?,
                    applicant_phone: r.get(7)?,
                    ticket_id: r.get(16)?,
                    clerk_id: r.get(17)?,
                    clerk_name: r.get(18)?,
                    window_id: r.get(19)?,
                    window_number: r.get(20)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("申请", id))?;
    let mut row = row;
    row.app.materials = materials_of(tx, id)?;
    row.app.documents = notices::documents_of(tx, id)?;
    Ok(row)
}

/// Fill in the five-day countdown (the warning before it lapses), on this calendar at `now`.
fn with_countdown(cx: &Cx<'_>, mut app: Application) -> Result<Application> {
    if app.status == ApplicationStatus::Checking && app.visits == 1 {
        let cal = cx.calendar()?;
        let today = hall_date(cx.now);
        app.notice_days_left = Some(if today <= app.notice_due {
            cal.count_workdays(today, app.notice_due)? as i32
        } else {
            -(cal.count_workdays(app.notice_due, today)? as i32)
        });
    }
    Ok(app)
}

fn ensure_status(app: &Application, allowed: &[ApplicationStatus], action: &str) -> Result<()> {
    if allowed.contains(&app.status) {
        return Ok(());
    }
    Err(CoreError::new(
        ErrorCode::InvalidTransition,
        format!("申请 {} 当前状态不能{action}", app.number),
    )
    .param("status", enum_str(app.status))
    .param("action", action))
}

/// The facts every notice about this application prints.
fn base_data(tx: &Tx<'_>, r: &Row) -> Result<serde_json::Value> {
    let item = crate::catalog::get(tx, &r.app.item_id)?;
    let f = &item.fields;
    let window = r
        .window_number
        .map(|n| format!("{n}号窗口"))
        .unwrap_or_default();
    Ok(serde_json::json!({
        "application_number": r.app.number,
        "applicant": {"name": r.app.applicant_name, "id_masked": r.app.applicant_id_masked, "phone": r.applicant_phone},
        "item": {"code": f.code, "name": f.name, "department": f.department, "kind": f.kind,
                  "legal_basis": f.legal_basis, "promised_days": f.promised_days, "statutory_days": f.statutory_days,
                  "fees": f.fees, "phone": f.phone, "location": f.location, "visits_needed": f.visits_needed},
        "clerk": {"name": r.clerk_name, "window": window},
        "received_date": cn_date_of(r.app.received_at),
    }))
}

fn listed(ms: &[&AppMaterial]) -> serde_json::Value {
    ms.iter()
        .map(|m| {
            serde_json::json!({"name": m.name, "form": form_label(&m.form), "copies": m.copies,
                               "standard": m.standard, "note": m.note})
        })
        .collect()
}

/// Art. 32(4): applications still being checked with no notice by the end of their fifth working
/// day count as accepted from the day of receipt. Run by the sweep; returns (application,
/// case) numbers.
pub fn deem_lapsed(cx: &mut Cx<'_>) -> Result<Vec<(String, String)>> {
    let (tx, now) = (cx.tx, cx.now);
    let today = hall_date(now);
    let settings = crate::deadlines::load_settings(tx)?;
    let day = crate::deadlines::business_day(tx, &settings)?;
    let mut stmt = tx.prepare(
        "SELECT id, notice_due FROM applications WHERE status = 'checking' AND visits = 1",
    )?;
    let due: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut out = vec![];
    for (id, notice_due) in due {
        let date: jiff::civil::Date = notice_due
            .parse()
            .map_err(|_| CoreError::internal("告知期限损坏"))?;
        let lapsed =
            date < today || (date == today && crate::kernel::clock::hall_minute(now) >= day.end());
        if !lapsed {
            continue;
        }
        let r = load(tx, &id)?;
        let by = Acceptor {
            staff_id: r.clerk_id.clone(),
            name: format!("{}（逾期未告知，视为受理）", r.clerk_name),
            window_id: r.window_id.clone(),
        };
        let (case_number, _) = accept(cx, &r, &by, AcceptBasis::Deemed)?;
        out.push((r.app.number.clone(), case_number));
    }
    Ok(out)
}

/// The actor name the sweep records deemed acceptances under.
pub fn deemed_actor() -> Actor {
    Actor::System("受理期限监察".into())
}

/// Replace the applicant data of a case's applications by its masked form; (how many, the
/// tickets they came from). Asked by the privacy capability.
pub fn anonymise_of_case(
    tx: &Tx<'_>,
    case_id: &str,
    (name, number, phone): (&str, &str, &str),
    now: Timestamp,
) -> Result<(u32, Vec<String>)> {
    let apps: Vec<(String, Option<String>)> = tx
        .prepare(
            "SELECT id, ticket_id FROM applications WHERE case_id = ?1 AND anonymised_at IS NULL",
        )?
        .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let (mut n, mut tickets) = (0, vec![]);
    for (app, ticket) in apps {
        n += tx.execute(
            "UPDATE applications SET applicant_name = ?2, applicant_id_number = ?3,
                applicant_phone = ?4, anonymised_at = ?5 WHERE id = ?1",
            params![app, name, number, phone, to_ms(now)],
        )? as u32;
        tickets.extend(ticket);
    }
    Ok((n, tickets))
}

/// An application of the past written as a record (a generated history, an import): accepted
/// into `case_id` after `visits` visits.
#[derive(Debug, Clone)]
pub struct PastApplication<'a> {
    pub number: &'a str,
    pub item_id: &'a str,
    pub applicant: (&'a str, &'a str, &'a str),
    pub window_id: &'a str,
    pub clerk_id: &'a str,
    pub received_at: Timestamp,
    pub notice_due: &'a str,
    /// `direct` or `after_supplement`.
    pub outcome: &'a str,
    pub case_id: &'a str,
    pub visits: u32,
}

pub fn insert_past(tx: &Tx<'_>, a: &PastApplication<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO applications (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
            window_id, clerk_id, received_at, notice_due, status, outcome, case_id, visits, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'accepted', ?11, ?12, ?13, ?9, ?9)",
        params![
            new_id(),
            a.number,
            a.item_id,
            a.applicant.0,
            a.applicant.1,
            a.applicant.2,
            a.window_id,
            a.clerk_id,
            to_ms(a.received_at),
            a.notice_due,
            a.outcome,
            a.case_id,
            a.visits
        ],
    )?;
    Ok(())
}
