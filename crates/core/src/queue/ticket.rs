//! Tickets (号票) and issuing them (取号).

use crate::kernel::store::Optional;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{load_settings, store, wait};
use crate::hall::{CategoryRef, category, load_hall};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{hall_date, hall_minute, hall_tz};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::{new_id, sha256_hex};
use crate::kernel::op::{Access, Actor, Cx, DeviceKind, Operation};
use crate::kernel::validate;

/// Why a ticket is in the green channel (绿色通道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriorityReason {
    /// 老年人
    Elderly,
    /// 残疾人
    Disabled,
    /// 军人（含退役军人、军属）
    Military,
    /// 孕妇
    Pregnant,
    /// 其他（须注明）
    Other,
}

impl PriorityReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Elderly => "elderly",
            Self::Disabled => "disabled",
            Self::Military => "military",
            Self::Pregnant => "pregnant",
            Self::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Elderly,
            Self::Disabled,
            Self::Military,
            Self::Pregnant,
            Self::Other,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Elderly => "老年人",
            Self::Disabled => "残疾人",
            Self::Military => "军人",
            Self::Pregnant => "孕妇",
            Self::Other => "其他",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Held,
    Done,
    NoShow,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Called => "called",
            Self::Serving => "serving",
            Self::Held => "held",
            Self::Done => "done",
            Self::NoShow => "no_show",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "called" => Self::Called,
            "serving" => Self::Serving,
            "held" => Self::Held,
            "done" => Self::Done,
            "no_show" => Self::NoShow,
            _ => Self::Waiting,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "等候中",
            Self::Called => "已叫号",
            Self::Serving => "办理中",
            Self::Held => "已挂起",
            Self::Done => "已办结",
            Self::NoShow => "过号",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct TicketWindow {
    pub id: String,
    pub number: u32,
    pub name: String,
}

/// A ticket as clients see it. Personal data is masked (name 张*, ID 330106********0018).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Ticket {
    pub id: String,
    /// A001: the number printed and announced, kept on transfer.
    pub number: String,
    /// The business day, `YYYY-MM-DD`.
    pub day: String,
    /// The queue it waits in now.
    pub category: CategoryRef,
    pub target_window_id: Option<String>,
    pub target_window_number: Option<u32>,
    pub priority: Option<PriorityReason>,
    pub priority_note: Option<String>,
    pub applicant: Option<String>,
    pub id_masked: Option<String>,
    pub status: TicketStatus,
    pub issued_at: Timestamp,
    pub called_at: Option<Timestamp>,
    pub last_called_at: Option<Timestamp>,
    pub recalls: u32,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// The window that called it last, and its clerk.
    pub window: Option<TicketWindow>,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    /// From issue to first call.
    pub wait_seconds: Option<i64>,
    /// From service start to finish.
    pub service_seconds: Option<i64>,
}

/// 取号: a kiosk (or a clerk for someone at the counter) takes a ticket for a category.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct IssueTicket {
    pub category_id: String,
    #[serde(default)]
    pub priority: Option<PriorityReason>,
    /// Required for [`PriorityReason::Other`].
    #[serde(default)]
    pub priority_note: String,
    /// Optional resident ID number (from an ID card reader or typed); validated.
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub applicant_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct IssuedTicket {
    pub ticket: Ticket,
    /// People ahead of this ticket in its queue.
    pub ahead: u32,
    /// Minutes, or `None` when no window is open for the category.
    pub estimated_minutes: Option<u32>,
    pub windows_open: u32,
}

impl Operation for IssueTicket {
    const NAME: &'static str = "ticket.issue";
    const ACCESS: Access = Access::Device;
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Kiosk];
    const WRITES: bool = true;
    type Response = IssuedTicket;
    fn run(self, cx: &mut Cx<'_>) -> Result<IssuedTicket> {
        let category_id = validate::id("category_id", "业务类别", &self.category_id)?;
        let cat = category::get(cx.tx, &category_id)?;
        if !cat.active {
            return Err(CoreError::new(
                ErrorCode::CategoryInactive,
                format!("“{}”暂停取号", cat.name),
            )
            .field("category_id")
            .param("category", &cat.name));
        }
        if let Some(off) = super::day_off(cx)? {
            let why = off.name.as_deref().unwrap_or("休息日");
            let message = match &off.next_open {
                Some(next) => format!(
                    "今天（{}，{why}）大厅不办公，不能取号；下一个工作日 {next} {} 起取号",
                    off.day, cat.issue_from
                ),
                None => format!("今天（{}，{why}）大厅不办公，不能取号", off.day),
            };
            let mut e = CoreError::new(ErrorCode::HallClosed, message)
                .param("day", &off.day)
                .param("from", &cat.issue_from);
            if let Some(next) = &off.next_open {
                e = e.param("next_open", next);
            }
            if let Some(name) = &off.name {
                e = e.param("name", name);
            }
            return Err(e);
        }
        let minute = hall_minute(cx.now);
        let from = validate::hhmm("issue_from", &cat.issue_from)?;
        let until = validate::hhmm("issue_until", &cat.issue_until)?;
        if minute < from || minute >= until {
            return Err(CoreError::new(
                ErrorCode::OutsideIssuingHours,
                format!(
                    "“{}”的取号时间为 {}–{}，现在不能取号",
                    cat.name, cat.issue_from, cat.issue_until
                ),
            )
            .param("category", &cat.name)
            .param("from", &cat.issue_from)
            .param("until", &cat.issue_until));
        }
        let priority_note =
            validate::optional_text("priority_note", "优先原因", &self.priority_note, 40)?;
        if self.priority == Some(PriorityReason::Other) && priority_note.is_empty() {
            return Err(
                CoreError::new(ErrorCode::Required, "选择“其他”优先原因时须注明原因")
                    .field("priority_note"),
            );
        }
        let name =
            validate::optional_text("applicant_name", "申请人姓名", &self.applicant_name, 30)?;
        let id_number = if self.id_number.trim().is_empty() {
            None
        } else {
            Some(validate::resident_id("id_number", &self.id_number)?)
        };
        let hall = load_hall(cx.tx)?;
        let id_hash = id_number
            .as_ref()
            .map(|n| sha256_hex(format!("{}:{n}", hall.id).as_bytes()));
        let day = hall_date(cx.now).to_string();
        let settings = load_settings(cx.tx)?;
        if settings.one_waiting_per_person
            && let Some(hash) = &id_hash
        {
            // Two kiosks taking this person's number at once: one waits for the other.
            cx.tx.serialize(&format!("person:{hash}"))?;
            let held: Option<String> = cx
                .tx
                .query_row(
                    "SELECT number FROM tickets WHERE id_hash = ?1 AND category_id = ?2 AND day = ?3
                       AND status IN ('waiting', 'called', 'held')",
                    params![hash, category_id, day],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(number) = held {
                return Err(CoreError::new(
                    ErrorCode::AlreadyWaiting,
                    format!("您已持有“{}”的等候号 {number}，请勿重复取号", cat.name),
                )
                .field("id_number")
                .param("number", number));
            }
        }
        let seq = match store::next_seq(cx.tx, &category_id, &day, cat.daily_cap)? {
            Ok(seq) => seq,
            Err(_) => {
                return Err(CoreError::new(
                    ErrorCode::DailyCapReached,
                    format!("“{}”今日号源已取完（每日 {} 个）", cat.name, cat.daily_cap),
                )
                .param("category", &cat.name)
                .param("cap", cat.daily_cap));
            }
        };
        let number = format!("{}{seq:03}", cat.prefix);
        let id = new_id();
        let issued_by = match &cx.actor {
            Actor::Device(..) => "kiosk",
            Actor::Staff(_) => "counter",
            _ => "system",
        };
        cx.tx
            .prepare_cached(
                "INSERT INTO tickets (id, day, issued_category, seq, number, category_id, priority, priority_note,
                    applicant_name, id_hash, id_masked, status, queue_key, issued_at, issued_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7, ?8, ?9, ?10, 'waiting', ?11, ?11, ?12)",
            )?
            .execute(params![
                id,
                day,
                category_id,
                seq,
                number,
                self.priority.map(PriorityReason::as_str),
                (!priority_note.is_empty()).then_some(&priority_note),
                (!name.is_empty()).then_some(&name),
                id_hash,
                id_number.as_deref().map(validate::mask_id),
                cx.ms(),
                issued_by
            ])?;
        store::append_event(cx.tx, &id, "issue", None, None, cx.now, None)?;
        let ticket = store::get(cx.tx, &id)?;
        let summary = match self.priority {
            Some(p) => format!("取号 {number}（{}，绿色通道：{}）", cat.name, p.label()),
            None => format!("取号 {number}（{}）", cat.name),
        };
        cx.record(
            Topic::Queue,
            AuditDraft::new("ticket", Some(&id), summary).after(&ticket),
        )?;
        // The board's estimate and the slip's read the same two figures.
        let windows_open = store::windows_open_for(cx.tx, &category_id, cx.now)?;
        let mean = store::recent_service_ms(cx.tx, &category_id, wait::SAMPLE)?;
        let counts = super::paint::category_count_with(cx, &category_id, windows_open, mean)?;
        super::paint::ticket_step(cx, &id, Some(counts), None, false)?;
        let ahead = store::ahead_of(cx.tx, &store::key_of(cx.tx, &id)?)?;
        Ok(IssuedTicket {
            ticket,
            ahead,
            estimated_minutes: wait::estimate_minutes(ahead, windows_open, mean),
            windows_open,
        })
    }
}

/// The kiosk read a person's ID number (an ID card reader typing it, or the on-screen keypad):
/// who they are to the queue before they take a number — the ID masked, their age, whether the
/// green channel is suggested (老年人, from the hall's age), and the numbers they already hold
/// today (one waiting ticket per person and category). Reads nothing else about them.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct IdentifyPerson {
    pub id_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct KnownPerson {
    /// 330106********0018
    pub id_masked: String,
    /// Whole years on the hall's date, from the birth date in the number.
    pub age: u32,
    /// At or above the hall's age for the green channel (never when the setting is off).
    pub suggest_green: bool,
    /// Numbers this person holds today and still waits (or is called) with.
    pub holding: Vec<HeldTicket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HeldTicket {
    pub category_id: String,
    pub number: String,
}

/// Whole years from the birth date in a valid ID number (`YYYYMMDD` at 6..14) to `on`.
pub fn age_on(id_number: &str, on: jiff::civil::Date) -> Option<u32> {
    let birth = jiff::civil::Date::strptime("%Y%m%d", id_number.get(6..14)?).ok()?;
    let mut years = i32::from(on.year()) - i32::from(birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

impl Operation for IdentifyPerson {
    const NAME: &'static str = "ticket.identify";
    const ACCESS: Access = Access::Device;
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Kiosk];
    const WRITES: bool = false;
    type Response = KnownPerson;
    fn run(self, cx: &mut Cx<'_>) -> Result<KnownPerson> {
        let id_number = validate::resident_id("id_number", &self.id_number)?;
        let today = hall_date(cx.now);
        let age = age_on(&id_number, today).ok_or_else(|| {
            CoreError::new(
                ErrorCode::InvalidIdNumber,
                "身份证号码无效：出生日期晚于今天",
            )
            .field("id_number")
        })?;
        let settings = load_settings(cx.tx)?;
        let hall = load_hall(cx.tx)?;
        let hash = sha256_hex(format!("{}:{id_number}", hall.id).as_bytes());
        let holding = cx
            .tx
            .prepare_cached(
                "SELECT category_id, number FROM tickets WHERE id_hash = ?1 AND day = ?2
                   AND status IN ('waiting', 'called', 'held') ORDER BY number",
            )?
            .query_map(params![hash, today.to_string()], |r| {
                Ok(HeldTicket {
                    category_id: r.get(0)?,
                    number: r.get(1)?,
                })
            })?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
        Ok(KnownPerson {
            id_masked: validate::mask_id(&id_number),
            age,
            suggest_green: settings.elderly_age > 0 && age >= settings.elderly_age,
            holding,
        })
    }
}

/// Everything printed on a ticket slip (kiosk printer, ESC/POS or PDF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct TicketSlip {
    pub ticket_id: String,
    pub hall_name: String,
    pub category_name: String,
    pub number: String,
    pub priority: Option<PriorityReason>,
    /// "前面还有 N 人等候"
    pub ahead: u32,
    pub estimated_minutes: Option<u32>,
    /// Issue time, `YYYY-MM-DD HH:MM:SS` Beijing time.
    pub issued_at: String,
    /// The QR code's payload: the ticket id.
    pub qr: String,
    pub note: String,
}

/// The slip of a ticket, as of now (the count ahead is current).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetTicketSlip {
    pub ticket_id: String,
}

impl Operation for GetTicketSlip {
    const NAME: &'static str = "ticket.slip";
    const ACCESS: Access = Access::Device;
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Kiosk];
    const WRITES: bool = false;
    type Response = TicketSlip;
    fn run(self, cx: &mut Cx<'_>) -> Result<TicketSlip> {
        let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
        let t = store::get(cx.tx, &id)?;
        let hall = load_hall(cx.tx)?;
        let settings = load_settings(cx.tx)?;
        let (ahead, est) = if t.status == TicketStatus::Waiting {
            let ahead = store::ahead_of(cx.tx, &store::key_of(cx.tx, &id)?)?;
            let open = store::windows_open_for(cx.tx, &t.category.id, cx.now)?;
            let mean = store::recent_service_ms(cx.tx, &t.category.id, wait::SAMPLE)?;
            (ahead, wait::estimate_minutes(ahead, open, mean))
        } else {
            (0, None)
        };
        Ok(TicketSlip {
            ticket_id: t.id.clone(),
            hall_name: hall.name,
            category_name: t.category.name.clone(),
            number: t.number.clone(),
            priority: t.priority,
            ahead,
            estimated_minutes: est,
            issued_at: t
                .issued_at
                .to_zoned(hall_tz())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
            qr: t.id,
            note: settings.ticket_note,
        })
    }
}
