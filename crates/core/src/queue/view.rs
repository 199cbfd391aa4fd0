//! What the public display, the kiosk and the clerk's console show. Read-only; each is one
//! query round so a screen reloads it whole on every queue event.

use crate::kernel::store::Row;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ticket::{Ticket, TicketWindow};
use super::window_ops::WindowPause;
use super::{load_settings, store, wait};
use crate::hall::{CategoryRef, category, load_hall};
use crate::kernel::clock::{from_ms, hall_date, hall_minute, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

/// How many calls the display lists.
pub const RECENT_CALLS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Call,
    Recall,
    CallBack,
    CallSpecific,
}

impl CallKind {
    /// From the ticket event's kind.
    pub fn parse(kind: &str) -> CallKind {
        match kind {
            "recall" => CallKind::Recall,
            "call_back" => CallKind::CallBack,
            "call_specific" => CallKind::CallSpecific,
            _ => CallKind::Call,
        }
    }
}

/// One announcement: "请A001号到3号窗口办理".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CallRecord {
    /// Increases with every call in the hall; the display announces each new one once.
    pub seq: i64,
    pub ticket_id: String,
    pub number: String,
    pub window_number: u32,
    pub window_name: String,
    pub kind: CallKind,
    pub at: Timestamp,
    /// Masked (张*).
    pub applicant: Option<String>,
    /// A green-channel ticket (绿色通道: elderly, disabled, military, pregnant): the display
    /// marks it, so others in the hall see why it came first.
    pub green: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CategoryQueue {
    pub category: CategoryRef,
    pub waiting: u32,
    pub priority_waiting: u32,
    pub issued_today: u32,
    /// Numbers left under the daily cap.
    pub remaining: u32,
    pub issue_from: String,
    pub issue_until: String,
    /// Whether the kiosk can issue now (inside issuing hours and under the cap).
    pub issuing_now: bool,
    /// Why not, when it cannot: the kiosk says "08:30 开始取号", "今日已停止取号" or
    /// "今日号源已取完" by the hall's clock, not the browser's.
    pub closed: Option<IssueClosed>,
    pub windows_open: u32,
    /// For a ticket taken now.
    pub estimated_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssueClosed {
    /// Today is a day off in the hall's calendar ([`QueueBoard::day_off`] says until when).
    DayOff,
    /// Before today's issuing hours.
    NotYet,
    /// After them: 今日已停止取号.
    Stopped,
    /// The daily cap is reached (号源已取完).
    SoldOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CurrentCall {
    pub ticket_id: String,
    pub number: String,
    pub serving: bool,
    pub called_at: Timestamp,
    pub applicant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowQueue {
    pub window: TicketWindow,
    pub categories: Vec<CategoryRef>,
    pub clerk: Option<String>,
    pub paused: Option<String>,
    pub current: Option<CurrentCall>,
    /// During an AB-post takeover this window's queue is called at that window instead.
    pub routed_to: Option<u32>,
}

/// The public display and kiosk's view of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct QueueBoard {
    pub hall_name: String,
    pub now: Timestamp,
    pub day: String,
    pub announce_times: u32,
    pub categories: Vec<CategoryQueue>,
    pub windows: Vec<WindowQueue>,
    /// Today's calls, newest first.
    pub recent_calls: Vec<CallRecord>,
    /// Today is a day off: the kiosk says so and when the hall opens again.
    pub day_off: Option<super::DayOff>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetQueueBoard {}

fn start_of_day_ms(now: Timestamp) -> Result<i64> {
    let z = hall_date(now)
        .to_zoned(hall_tz())
        .map_err(|e| CoreError::internal(format!("北京时间当日零点无法计算：{e}")))?;
    Ok(to_ms(z.timestamp()))
}

pub(crate) fn recent_calls(cx: &Cx<'_>, limit: u32) -> Result<Vec<CallRecord>> {
    let since = start_of_day_ms(cx.now)?;
    // Today's calls through their index: SQLite's planner, blind to the bound day, would walk
    // the event log backwards from its newest row, and before the day's first call that is the
    // whole history.
    let mut stmt = cx.tx.prepare_cached(cx.tx.pick(
        "SELECT e.seq, e.ticket_id, t.number, w.number, w.name, e.kind, e.at, t.applicant_name,
                t.priority IS NOT NULL
         FROM ticket_events e INDEXED BY ticket_events_calls
              JOIN tickets t ON t.id = e.ticket_id JOIN windows w ON w.id = e.window_id
         WHERE e.kind IN ('call', 'recall', 'call_back', 'call_specific') AND e.at >= ?1
         ORDER BY e.seq DESC LIMIT ?2",
        "SELECT e.seq, e.ticket_id, t.number, w.number, w.name, e.kind, e.at, t.applicant_name,
                t.priority IS NOT NULL
         FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id JOIN windows w ON w.id = e.window_id
         WHERE e.kind IN ('call', 'recall', 'call_back', 'call_specific') AND e.at >= ?1
         ORDER BY e.seq DESC LIMIT ?2",
    ))?;
    let rows = stmt.query_map(params![since, limit], call_row)?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// A call as the display lists it, from `e.seq, e.ticket_id, t.number, w.number, w.name,
/// e.kind, e.at, t.applicant_name, t.priority IS NOT NULL`.
pub(crate) fn call_row(r: &Row<'_>) -> crate::kernel::store::StoreResult<CallRecord> {
    Ok(CallRecord {
        seq: r.get(0)?,
        ticket_id: r.get(1)?,
        number: r.get(2)?,
        window_number: r.get(3)?,
        window_name: r.get(4)?,
        kind: CallKind::parse(&r.get::<_, String>(5)?),
        at: from_ms(r.get(6)?),
        applicant: r
            .get::<_, Option<String>>(7)?
            .map(|n| validate::mask_name(&n)),
        green: r.get(8)?,
    })
}

impl Operation for GetQueueBoard {
    const NAME: &'static str = "queue.board";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = false;
    type Response = QueueBoard;
    fn run(self, cx: &mut Cx<'_>) -> Result<QueueBoard> {
        let hall = load_hall(cx.tx)?;
        let settings = load_settings(cx.tx)?;
        let day = hall_date(cx.now).to_string();
        let minute = hall_minute(cx.now);
        let day_off = super::day_off(cx)?;
        let mut categories = Vec::new();
        for c in category::list(cx.tx, false)? {
            let counts = store::waiting_counts(cx.tx, &c.id, &day)?;
            let (waiting, priority_waiting) = (counts.all, counts.priority);
            let issued = store::issued_count(cx.tx, &c.id, &day)?;
            let remaining = c.daily_cap.saturating_sub(issued);
            let before = validate::hhmm("", &c.issue_from).is_ok_and(|f| minute < f);
            let after = validate::hhmm("", &c.issue_until).is_ok_and(|u| u <= minute);
            let closed = if day_off.is_some() {
                Some(IssueClosed::DayOff)
            } else if remaining == 0 {
                Some(IssueClosed::SoldOut)
            } else if before {
                Some(IssueClosed::NotYet)
            } else if after {
                Some(IssueClosed::Stopped)
            } else {
                None
            };
            let windows_open = store::windows_open_for(cx.tx, &c.id, cx.now)?;
            let mean = store::recent_service_ms(cx.tx, &c.id, wait::SAMPLE)?;
            categories.push(CategoryQueue {
                category: CategoryRef {
                    id: c.id.clone(),
                    prefix: c.prefix.clone(),
                    name: c.name.clone(),
                },
                waiting,
                priority_waiting,
                issued_today: issued,
                remaining,
                issue_from: c.issue_from,
                issue_until: c.issue_until,
                issuing_now: closed.is_none(),
                closed,
                windows_open,
                estimated_minutes: wait::estimate_minutes(waiting, windows_open, mean),
            });
        }
        let occupancy = crate::staff::auth::occupancy(cx.tx, cx.now)?;
        let mut windows = Vec::new();
        for w in crate::hall::window::list(cx.tx, false)? {
            let current = super::paint::current_at(cx, &w.id)?;
            windows.push(WindowQueue {
                clerk: occupancy.iter().find(|o| o.0 == w.id).map(|o| o.2.clone()),
                paused: store::open_pause(cx.tx, &w.id)?.map(|p| p.1),
                current,
                routed_to: store::routed_to(cx.tx, &w.id)?,
                categories: w.categories,
                window: TicketWindow {
                    id: w.id,
                    number: w.number,
                    name: w.name,
                },
            });
        }
        Ok(QueueBoard {
            hall_name: hall.name,
            now: cx.now,
            day,
            announce_times: settings.announce_times,
            categories,
            windows,
            recent_calls: recent_calls(cx, RECENT_CALLS)?,
            day_off,
        })
    }
}

/// Today's figures at one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowCounts {
    pub called: u32,
    pub served: u32,
    pub no_show: u32,
    pub held: u32,
    /// Waiting now in the window's queues.
    pub waiting: u32,
    pub avg_wait_seconds: Option<i64>,
    pub avg_service_seconds: Option<i64>,
}

/// The clerk's console at their window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CounterView {
    pub window: TicketWindow,
    pub categories: Vec<CategoryRef>,
    pub paused: Option<WindowPause>,
    /// The ticket being called or served here.
    pub current: Option<Ticket>,
    pub held: Vec<Ticket>,
    /// The next tickets this window may call, green channel and transfers first (names masked).
    pub waiting: Vec<Ticket>,
    pub counts: WindowCounts,
    /// The last visit finished here today and whether the applicant rated it on the rater
    /// (pending, given, 未评价): the clerk sees the state, never the level, and cannot rate.
    pub last_visit: Option<super::rating::VisitRating>,
    pub recall_cap: u32,
    pub allow_call_specific: bool,
    /// Other active windows and categories, for transfers.
    pub transfer_windows: Vec<TicketWindow>,
    pub transfer_categories: Vec<CategoryRef>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCounter {}

/// How many waiting tickets the console lists.
pub const COUNTER_WAITING: u32 = 30;

impl Operation for GetCounter {
    const NAME: &'static str = "queue.counter";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = CounterView;
    fn run(self, cx: &mut Cx<'_>) -> Result<CounterView> {
        let s = cx.actor.staff()?;
        let Some(window_id) = s.window_id.clone() else {
            return Err(CoreError::new(
                ErrorCode::WindowRequired,
                "请在窗口登录后再使用叫号台",
            ));
        };
        let w = crate::hall::window::get(cx.tx, &window_id)?;
        let settings = load_settings(cx.tx)?;
        let day = hall_date(cx.now).to_string();
        let paused = store::open_pause(cx.tx, &window_id)?.map(|(id, reason, since)| WindowPause {
            id,
            window_id: window_id.clone(),
            reason,
            since,
        });
        let current = store::select(
            cx.tx,
            "t.window_id = ?1 AND t.status IN ('called', 'serving')",
            [&window_id],
        )?
        .into_iter()
        .next();
        let held = store::select(
            cx.tx,
            "t.window_id IN (SELECT from_window_id FROM window_routes WHERE window_id = ?1)
             AND t.status = 'held' AND t.day = ?2 ORDER BY t.issued_at",
            params![window_id, day],
        )?;
        let (waiting, waiting_total) = store::waiting_at(cx.tx, &window_id, &day, COUNTER_WAITING)?;
        let counts = cx.tx.query_row(
            "SELECT
                (SELECT count(DISTINCT e.ticket_id) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                  WHERE e.window_id = ?1 AND e.kind IN ('call', 'call_specific') AND e.at >= ?3
                    AND t.day = ?2),
                count(*) FILTER (WHERE status = 'done'),
                count(*) FILTER (WHERE status = 'no_show'),
                count(*) FILTER (WHERE status = 'held'),
                CAST(avg(called_at - issued_at) FILTER (WHERE called_at IS NOT NULL) AS DOUBLE PRECISION),
                CAST(avg(finished_at - started_at) FILTER (WHERE status = 'done') AS DOUBLE PRECISION)
             FROM tickets WHERE window_id = ?1 AND day = ?2",
            params![window_id, day, start_of_day_ms(cx.now)?],
            |r| {
                Ok(WindowCounts {
                    called: r.get(0)?,
                    served: r.get(1)?,
                    no_show: r.get(2)?,
                    held: r.get(3)?,
                    waiting: waiting_total,
                    avg_wait_seconds: r.get::<_, Option<f64>>(4)?.map(|v| (v / 1000.0).round() as i64),
                    avg_service_seconds: r
                        .get::<_, Option<f64>>(5)?
                        .map(|v| (v / 1000.0).round() as i64),
                })
            },
        )?;
        let last_visit = super::rating::last_visit(cx.tx, &window_id, &day, cx.now)?;
        let transfer_windows = crate::hall::window::refs(cx.tx)?
            .into_iter()
            .filter(|x| x.id != window_id)
            .map(|x| TicketWindow {
                id: x.id,
                number: x.number,
                name: x.name,
            })
            .collect();
        let transfer_categories = category::list(cx.tx, false)?
            .into_iter()
            .map(|c| CategoryRef {
                id: c.id,
                prefix: c.prefix,
                name: c.name,
            })
            .collect();
        Ok(CounterView {
            window: TicketWindow {
                id: w.id,
                number: w.number,
                name: w.name,
            },
            categories: w.categories,
            paused,
            current,
            held,
            waiting,
            counts,
            last_visit,
            recall_cap: settings.recall_cap,
            allow_call_specific: settings.allow_call_specific,
            transfer_windows,
            transfer_categories,
        })
    }
}
