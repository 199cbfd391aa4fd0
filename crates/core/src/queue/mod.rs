//! The queue (排队叫号): tickets from the kiosk, calling at windows, the public display, ratings.
//!
//! Contract:
//! - **Numbers.** A ticket number is the category prefix plus a three-digit daily sequence
//!   (A001). The sequence is per category and per business day (the civil date in Asia/Shanghai),
//!   allocated in the transaction that inserts the ticket, from a counter that only grows: a
//!   number is durable (synchronous=FULL) before it is printed and is never reused that day,
//!   even after a crash. A ticket keeps its number when transferred.
//! - **Limits.** A category issues only on the hall's working days (the calendar with its local
//!   overrides: a 调休 Saturday issues, a holiday does not), inside its issuing hours and up to
//!   its daily cap.
//!   With an ID number (validated against GB 11643), one person holds at most one waiting
//!   ticket per category when the hall's `one_waiting_per_person` setting is on.
//! - **States.** `waiting → called → serving → done`; `called → no_show` (void) or back to
//!   `waiting` (requeued N places back, once); `serving → held → called` (call back);
//!   `called|serving → waiting` by transfer to another category or window. Each step appends to
//!   the ticket's event log and records who, where and when; waiting and service times derive
//!   from the recorded times.
//! - **Calling** follows [`order`]; a claim is a conditional update inside the single writer
//!   transaction, so a ticket is claimed by one window only, and the database itself allows one
//!   called-or-serving ticket per window.
//! - **Ratings** (好差评, 国务院办公厅关于建立政务服务“好差评”制度的意见, 国办发〔2019〕51号):
//!   five levels, given by the applicant on the window's rater ([`rating`]); 不满意 and
//!   非常不满意 open a rectification with working-day clocks ([`followup`]). What the window
//!   shows the public (rater, window screen) is `crate::face`, above the applications.

pub mod followup;
pub mod hall_board;
pub mod order;
pub mod paint;
pub mod past;
pub mod rating;
pub(crate) mod store;
pub mod ticket;
pub mod view;
pub mod wait;
pub mod window_ops;

pub use followup::{
    CloseFollowup, DecideDispute, DisputeRating, Followup, FollowupOutcome, ListFollowups,
    MyFollowups, VerifyFollowup,
};
pub use hall_board::{BoardWindow, GetHallBoard, HallBoard};
pub use rating::{
    GetRatingSettings, RateTicket, RatingChannel, RatingLevel, RatingSettings, RatingState,
    RecordRating, UpdateRatingSettings, VisitRating,
};
pub use ticket::{
    HeldTicket, IdentifyPerson, IssueTicket, IssuedTicket, KnownPerson, PriorityReason, Ticket,
    TicketSlip, TicketStatus,
};
pub use view::{CounterView, GetCounter, GetQueueBoard, IssueClosed, QueueBoard};
pub use window_ops::{
    CallBack, CallNext, CallSpecific, FinishTicket, HoldTicket, NoShow, PauseWindow, Recall,
    ResumeWindow, StartService, TransferTicket,
};

use crate::kernel::store::Tx;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::error::Result;
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// What a no-show (过号) does to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoShowPolicy {
    /// 过号作废: the applicant takes a new ticket.
    Void,
    /// 过号顺延: the ticket goes back into the queue N places behind the head (once; a second
    /// no-show voids it).
    Requeue,
}

/// The hall's queue rules (admin settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct QueueSettings {
    /// One waiting ticket per person and category, when an ID number is given.
    pub one_waiting_per_person: bool,
    /// At most this many green-channel tickets in a row while a normal ticket has aged.
    pub priority_max_in_row: u32,
    /// A ticket waiting this long has "aged" (see [`order`]).
    pub aging_minutes: u32,
    pub recall_cap: u32,
    pub no_show_policy: NoShowPolicy,
    pub no_show_requeue_places: u32,
    /// Calling a specific ticket out of order (off by default; audited when used).
    pub allow_call_specific: bool,
    /// How often the voice announces a call.
    pub announce_times: u32,
    /// The note printed at the foot of a ticket.
    pub ticket_note: String,
    /// 节假日不打烊: the hall serves on days off of the working-day calendar (weekends and
    /// holidays) and issues tickets then. Off by default. The legal clocks still count working
    /// days only.
    #[serde(default)]
    pub serve_days_off: bool,
    /// From this age the kiosk suggests the green channel to a person whose ID it read (老年人
    /// 优先); 0: never.
    #[serde(default = "default_elderly_age")]
    pub elderly_age: u32,
}

fn default_elderly_age() -> u32 {
    70
}

impl QueueSettings {
    pub(crate) fn rule(&self) -> order::OrderRule {
        order::OrderRule {
            priority_max_in_row: self.priority_max_in_row,
            aging_ms: i64::from(self.aging_minutes) * 60_000,
        }
    }
}

/// Today is a day off in the hall's working-day calendar (weekend, public holiday, or a local
/// override): its name, and the next working day, when issuing opens again. Nobody is given a
/// number for a day the hall does not work (国务院办公厅 holiday notice; the hall's overrides).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DayOff {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// 国庆节, 春节… (`None`: an ordinary weekend).
    pub name: Option<String>,
    /// The next working day, `YYYY-MM-DD` (`None` beyond the calendar's range).
    pub next_open: Option<String>,
}

/// See [`DayOff`]: `None` on a working day.
pub(crate) fn day_off(cx: &Cx<'_>) -> Result<Option<DayOff>> {
    use crate::calendar::CalendarOf;
    let cal = cx.calendar()?;
    let today = crate::kernel::clock::hall_date(cx.now);
    let info = cal.day(today)?;
    if info.workday || load_settings(cx.tx)?.serve_days_off {
        return Ok(None);
    }
    let next_open = cal
        .add_workdays(today, 1, crate::calendar::DayCount::NextDay)
        .ok()
        .map(|(d, _)| d.to_string());
    Ok(Some(DayOff {
        day: today.to_string(),
        name: info.name,
        next_open,
    }))
}

pub(crate) fn load_settings(tx: &Tx<'_>) -> Result<QueueSettings> {
    Ok(tx.query_row(
        "SELECT one_waiting_per_person, priority_max_in_row, aging_minutes, recall_cap, no_show_policy,
                no_show_requeue_places, allow_call_specific, announce_times, ticket_note, serve_days_off,
                elderly_age
         FROM queue_settings",
        [],
        |r| {
            Ok(QueueSettings {
                one_waiting_per_person: r.get(0)?,
                priority_max_in_row: r.get(1)?,
                aging_minutes: r.get(2)?,
                recall_cap: r.get(3)?,
                no_show_policy: if r.get::<_, String>(4)? == "requeue" {
                    NoShowPolicy::Requeue
                } else {
                    NoShowPolicy::Void
                },
                no_show_requeue_places: r.get(5)?,
                allow_call_specific: r.get(6)?,
                announce_times: r.get(7)?,
                ticket_note: r.get(8)?,
                serve_days_off: r.get(9)?,
                elderly_age: r.get(10)?,
            })
        },
    )?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetQueueSettings {}

impl Operation for GetQueueSettings {
    const NAME: &'static str = "queue.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = QueueSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<QueueSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateQueueSettings {
    pub settings: QueueSettings,
}

impl Operation for UpdateQueueSettings {
    const NAME: &'static str = "queue.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = QueueSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<QueueSettings> {
        let s = self.settings;
        let streak = validate::range_i64(
            "priority_max_in_row",
            "绿色通道连续叫号上限",
            s.priority_max_in_row.into(),
            1,
            20,
        )?;
        let aging = validate::range_i64(
            "aging_minutes",
            "等候超时分钟数",
            s.aging_minutes.into(),
            1,
            600,
        )?;
        let recall = validate::range_i64("recall_cap", "重呼次数上限", s.recall_cap.into(), 0, 10)?;
        let places = validate::range_i64(
            "no_show_requeue_places",
            "过号顺延位数",
            s.no_show_requeue_places.into(),
            1,
            50,
        )?;
        let times = validate::range_i64(
            "announce_times",
            "语音播报次数",
            s.announce_times.into(),
            1,
            5,
        )?;
        let note = validate::text("ticket_note", "号票提示语", &s.ticket_note, 40)?;
        let elderly = if s.elderly_age == 0 {
            0
        } else {
            validate::range_i64(
                "elderly_age",
                "绿色通道提示年龄",
                s.elderly_age.into(),
                60,
                100,
            )?
        };
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE queue_settings SET one_waiting_per_person = ?1, priority_max_in_row = ?2, aging_minutes = ?3,
                    recall_cap = ?4, no_show_policy = ?5, no_show_requeue_places = ?6, allow_call_specific = ?7,
                    announce_times = ?8, ticket_note = ?9, updated_at = ?10, serve_days_off = ?11,
                    elderly_age = ?12",
            params![
                s.one_waiting_per_person,
                streak,
                aging,
                recall,
                match s.no_show_policy {
                    NoShowPolicy::Void => "void",
                    NoShowPolicy::Requeue => "requeue",
                },
                places,
                s.allow_call_specific,
                times,
                note,
                cx.ms(),
                s.serve_days_off,
                elderly
            ],
        )?;
        let after = load_settings(cx.tx)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new("queue_settings", None, "修改排队叫号设置")
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

/// Forget who held these tickets (name, ID hash). Asked by the privacy capability.
pub fn anonymise_tickets(tx: &Tx<'_>, ids: &[String]) -> Result<u32> {
    let mut n = 0;
    for t in ids {
        n += tx.execute(
            "UPDATE tickets SET applicant_name = NULL, id_hash = NULL
             WHERE id = ?1 AND (applicant_name IS NOT NULL OR id_hash IS NOT NULL)",
            [t],
        )? as u32;
    }
    Ok(n)
}

/// Forget who held every ticket of a day before `day` (YYYY-MM-DD).
pub fn anonymise_days_before(tx: &Tx<'_>, day: &str) -> Result<u32> {
    Ok(tx.execute(
        "UPDATE tickets SET applicant_name = NULL, id_hash = NULL
         WHERE day < ?1 AND (applicant_name IS NOT NULL OR id_hash IS NOT NULL)",
        [day],
    )? as u32)
}

/// Whether any ticket of a day before `day` still names its holder.
pub fn identified_tickets_before(tx: &Tx<'_>, day: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT count(*) > 0 FROM (SELECT 1 FROM tickets WHERE day < ?1
            AND (applicant_name IS NOT NULL OR id_hash IS NOT NULL) LIMIT 1) AS t",
        [day],
        |r| r.get(0),
    )?)
}

/// Call `from_window_id`'s queue wherever `to_staff_id` is signed in (an AB-post takeover
/// routed to B's window). `id` names the grant (the handover); the views `window_routes` and
/// `window_serving` read the routes, so calling, the counter and the kiosk follow at once.
pub fn route(
    tx: &Tx<'_>,
    id: &str,
    from_window_id: &str,
    to_staff_id: &str,
    now: jiff::Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO queue_routes (id, from_window_id, to_staff_id, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO NOTHING",
        params![id, from_window_id, to_staff_id, crate::kernel::clock::to_ms(now)],
    )?;
    Ok(())
}

/// End the route granted as `id` (the takeover ended, or the hall stopped routing).
pub fn unroute(tx: &Tx<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM queue_routes WHERE id = ?1", [id])?;
    Ok(())
}
