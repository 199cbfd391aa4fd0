//! Deadlines (限时办结): a pure function of (the case's event log, the working-day calendar,
//! the item's rules, the hall's settings, now).
//!
//! Rules, with their sources (see `shared/glossary.md`, Time limits):
//! - Periods are working days (行政许可法 art. 82). The acceptance day is not counted by default
//!   (hall setting [`DayCount`]); a deadline is the **end of business** of its last working day.
//! - The clock starts on the acceptance day; for a deemed acceptance (art. 32(4): no supplement
//!   notice within five working days) on the day the materials were received; after a supplement
//!   (补正) on the day the complete supplement arrived.
//! - Two clocks: 承诺 (the hall's promise) and 法定 (the statute, art. 42: 20 working days unless
//!   the item's law says otherwise). The promise drives the warnings; the statute is the hard
//!   line (severe).
//! - Time for hearings, tendering, testing, appraisal and expert review is not counted
//!   (art. 45): while suspended the clock is paused; the working days after the suspension day up
//!   to and including the resumption day are not counted.
//! - An approved extension adds its working days to both clocks (art. 42).
//! - The clocks stop at the decision; the case is early (decided before its promised due date),
//!   on time (by the promised due moment) or late.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub mod events;
pub mod settings;

pub use settings::{DeadlineSettings, SettingsChanged, business_day, load_settings};

use crate::calendar::{DayCount, WorkCalendar};
use crate::kernel::clock::{hall_date, hall_minute, hall_tz};
use crate::kernel::error::{CoreError, Result};
use events::{AcceptBasis, CaseEvent, LoggedEvent};

/// Warning thresholds (hall settings; an item may override each). Glossary defaults: reminder
/// at ≤ 2 working days left, yellow on the due day, red once the promise has passed; severe once
/// the statute has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Thresholds {
    /// Reminder when this many working days or fewer are left.
    pub reminder_days: u32,
    /// Yellow card when this many working days or fewer are left (0: on the due day).
    pub yellow_days: u32,
    /// Red card once the promise is overdue by more than this many working days (0: as soon as
    /// it has passed).
    pub red_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            reminder_days: 2,
            yellow_days: 0,
            red_days: 0,
        }
    }
}

/// The item's time rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRules {
    pub statutory_days: u32,
    pub promised_days: u32,
    pub thresholds: Thresholds,
}

/// The hall's business day: spans in minutes after midnight, Beijing time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessDay {
    pub spans: Vec<(u16, u16)>,
    pub day_count: DayCount,
}

impl BusinessDay {
    /// The end of business ("today 17:00").
    pub fn end(&self) -> u16 {
        self.spans.iter().map(|s| s.1).max().unwrap_or(17 * 60)
    }
    pub fn start(&self) -> u16 {
        self.spans.iter().map(|s| s.0).min().unwrap_or(9 * 60)
    }
    /// Business minutes inside `[from, to)` of one working day.
    fn minutes_between(&self, from: u16, to: u16) -> i64 {
        self.spans
            .iter()
            .map(|&(a, b)| i64::from(b.min(to).saturating_sub(a.max(from))))
            .sum()
    }
    fn day_minutes(&self) -> i64 {
        self.minutes_between(0, 1440)
    }
    pub fn within(&self, minute: u16) -> bool {
        self.spans.iter().any(|&(a, b)| a <= minute && minute < b)
    }
}

/// The warning level of a case.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    TS,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    None,
    Reminder,
    Yellow,
    Red,
    Severe,
}

impl WarningLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::None => "none",
            WarningLevel::Reminder => "reminder",
            WarningLevel::Yellow => "yellow",
            WarningLevel::Red => "red",
            WarningLevel::Severe => "severe",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "reminder" => WarningLevel::Reminder,
            "yellow" => WarningLevel::Yellow,
            "red" => WarningLevel::Red,
            "severe" => WarningLevel::Severe,
            _ => WarningLevel::None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            WarningLevel::None => "正常",
            WarningLevel::Reminder => "提醒",
            WarningLevel::Yellow => "黄牌",
            WarningLevel::Red => "红牌",
            WarningLevel::Severe => "超法定时限",
        }
    }
}

/// Early, on time or late, fixed at the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    Early,
    OnTime,
    Late,
}

impl Timing {
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Early => "early",
            Timing::OnTime => "on_time",
            Timing::Late => "late",
        }
    }
}

/// One clock (承诺 or 法定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ClockView {
    /// Working days allowed, extensions included.
    pub limit_days: u32,
    #[ts(type = "string")]
    pub due_date: Date,
    /// End of business on the due date. While paused: the due moment if resumed today.
    pub due_at: Timestamp,
    /// Working days after today up to the due date; negative once overdue by whole days.
    pub working_days_left: i32,
    /// Business minutes from now to the due moment; negative once overdue.
    pub working_minutes_left: i64,
    pub overdue: bool,
    /// The count passes a date with no published notice: the due date may move.
    pub provisional: bool,
}

/// Both clocks and what they mean now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Deadlines {
    #[ts(type = "string")]
    pub started_on: Date,
    pub promised: ClockView,
    pub statutory: ClockView,
    /// Suspended: the clocks do not run.
    pub paused: bool,
    /// Decided: the clocks have stopped.
    pub stopped: bool,
    pub level: WarningLevel,
    pub timing: Option<Timing>,
    pub workdays_used: Option<u32>,
    pub calendar_version: i64,
}

impl Deadlines {
    /// What a list shows for a case whose clocks cannot be computed at all: nothing counted,
    /// no level. Only for flagged rows (`cases::views::checked`), never for a sound case.
    pub fn unknown(accepted_at: Timestamp, calendar_version: i64) -> Deadlines {
        let clock = ClockView {
            limit_days: 0,
            due_date: hall_date(accepted_at),
            due_at: accepted_at,
            working_days_left: 0,
            working_minutes_left: 0,
            overdue: false,
            provisional: true,
        };
        Deadlines {
            started_on: hall_date(accepted_at),
            promised: clock.clone(),
            statutory: clock,
            paused: false,
            stopped: false,
            level: WarningLevel::None,
            timing: None,
            workdays_used: None,
            calendar_version,
        }
    }
}

/// The art. 32(4) five-day clock: the last day to issue a supplement notice for materials
/// received on `received`, always counted from the next day.
pub fn notice_deadline(cal: &WorkCalendar, received: Date) -> Result<(Date, bool)> {
    cal.add_workdays(received, 5, DayCount::NextDay)
}

fn due_moment(date: Date, day: &BusinessDay) -> Result<Timestamp> {
    let end = day.end();
    let dt = date.at((end / 60) as i8, (end % 60) as i8, 0, 0);
    Ok(dt
        .to_zoned(hall_tz())
        .map_err(|e| CoreError::internal(format!("无法换算到期时间：{e}")))?
        .timestamp())
}

/// Business minutes from `a` to `b` (negative when `b` is before `a`).
fn business_minutes(
    cal: &WorkCalendar,
    day: &BusinessDay,
    a: Timestamp,
    b: Timestamp,
) -> Result<i64> {
    if b < a {
        return Ok(-business_minutes(cal, day, b, a)?);
    }
    let (da, db) = (hall_date(a), hall_date(b));
    let (ma, mb) = (hall_minute(a), hall_minute(b));
    if da == db {
        return Ok(if cal.is_workday(da)? {
            day.minutes_between(ma, mb)
        } else {
            0
        });
    }
    let first = if cal.is_workday(da)? {
        day.minutes_between(ma, 1440)
    } else {
        0
    };
    let last = if cal.is_workday(db)? {
        day.minutes_between(0, mb)
    } else {
        0
    };
    let between = i64::from(cal.count_workdays(da, db)?) - i64::from(cal.is_workday(db)?);
    Ok(first + last + between * day.day_minutes())
}

struct Walk {
    start: Date,
    /// Suspensions as (suspended on, resumed on); `None` while still suspended.
    pauses: Vec<(Date, Option<Date>)>,
    extended: u32,
    decided: Option<Timestamp>,
}

fn walk(events: &[LoggedEvent]) -> Result<Walk> {
    let mut w = Walk {
        start: Date::default(),
        pauses: vec![],
        extended: 0,
        decided: None,
    };
    let mut accepted = false;
    for e in events {
        match &e.event {
            CaseEvent::Accepted { received_at, basis } => {
                accepted = true;
                w.start = match basis {
                    AcceptBasis::Deemed => hall_date(*received_at),
                    AcceptBasis::Direct | AcceptBasis::AfterSupplement => hall_date(e.at),
                };
            }
            CaseEvent::Suspended { .. } => w.pauses.push((hall_date(e.at), None)),
            CaseEvent::Resumed { .. } => {
                if let Some(last) = w.pauses.last_mut() {
                    last.1 = Some(hall_date(e.at));
                }
            }
            CaseEvent::Extended { days, .. } => w.extended += days,
            CaseEvent::Decided { .. } => w.decided = Some(e.at),
            _ => {}
        }
    }
    if !accepted {
        return Err(CoreError::internal("办件事件中没有受理记录"));
    }
    Ok(w)
}

/// Where `n` counted working days end, skipping paused spans. `Err` days remain when the case is
/// still paused: `(remaining, paused_on)`.
fn count_through(
    cal: &WorkCalendar,
    w: &Walk,
    n: u32,
    rule: DayCount,
) -> Result<std::result::Result<(Date, bool), (u32, Date)>> {
    let mut remaining = n;
    let mut cursor = w.start;
    let mut first = true;
    let mut provisional = false;
    for &(on, resumed) in &w.pauses {
        if on >= cursor {
            let avail = match (first, rule) {
                (true, DayCount::SameDay) => {
                    cal.count_workdays(cursor, on)? + u32::from(cal.is_workday(cursor)?)
                }
                _ => cal.count_workdays(cursor, on)?,
            };
            if remaining <= avail {
                break;
            }
            remaining -= avail;
            provisional |= cal.any_provisional(cursor, on)?;
        }
        match resumed {
            Some(r) => {
                cursor = cursor.max(r);
                first = false;
            }
            None => return Ok(Err((remaining, on))),
        }
    }
    let rule = if first { rule } else { DayCount::NextDay };
    let (due, p) = cal.add_workdays(cursor, remaining, rule)?;
    Ok(Ok((due, provisional || p)))
}

fn clock(
    cal: &WorkCalendar,
    day: &BusinessDay,
    w: &Walk,
    limit_days: u32,
    now: Timestamp,
) -> Result<(ClockView, bool)> {
    let today = hall_date(now);
    let (due_date, provisional, paused_left) =
        match count_through(cal, w, limit_days, day.day_count)? {
            Ok((d, p)) => (d, p, None),
            Err((remaining, _on)) => {
                // Paused: where it would land if the clock ran again from today.
                let (d, p) = cal.add_workdays(today, remaining, DayCount::NextDay)?;
                (d, p, Some(remaining))
            }
        };
    let paused = paused_left.is_some();
    let due_at = due_moment(due_date, day)?;
    let reference = w.decided.unwrap_or(now);
    let overdue = !paused && reference > due_at;
    let ref_date = hall_date(reference);
    let working_days_left = if let Some(remaining) = paused_left {
        remaining as i32
    } else if ref_date <= due_date {
        cal.count_workdays(ref_date, due_date)? as i32
    } else {
        -(cal.count_workdays(due_date, ref_date)? as i32)
    };
    let working_minutes_left = if paused {
        i64::from(working_days_left) * day.day_minutes()
    } else {
        business_minutes(cal, day, reference, due_at)?
    };
    Ok((
        ClockView {
            limit_days,
            due_date,
            due_at,
            working_days_left,
            working_minutes_left,
            overdue,
            provisional,
        },
        paused,
    ))
}

/// Working days counted from the start to `end` (inclusive), skipping paused spans.
fn used(cal: &WorkCalendar, w: &Walk, end: Date, rule: DayCount) -> Result<u32> {
    let mut total = 0;
    let mut cursor = w.start;
    let mut first = true;
    for &(on, resumed) in &w.pauses {
        let stop = on.min(end);
        if stop >= cursor {
            total += cal.count_workdays(cursor, stop)?;
            if first && rule == DayCount::SameDay {
                total += u32::from(cal.is_workday(cursor)?);
            }
        }
        first = false;
        match resumed {
            Some(r) if r < end => cursor = cursor.max(r),
            _ => return Ok(total),
        }
    }
    total += cal.count_workdays(cursor, end)?;
    if first && rule == DayCount::SameDay && end >= cursor {
        total += u32::from(cal.is_workday(cursor)?);
    }
    Ok(total)
}

/// The level a running clock shows.
pub fn level_of(promised: &ClockView, statutory: &ClockView, t: Thresholds) -> WarningLevel {
    if statutory.overdue {
        WarningLevel::Severe
    } else if promised.overdue {
        let past = (-promised.working_days_left).max(0) as u32;
        if past >= t.red_days {
            WarningLevel::Red
        } else {
            WarningLevel::Yellow
        }
    } else if promised.working_days_left <= t.yellow_days as i32 {
        WarningLevel::Yellow
    } else if promised.working_days_left <= t.reminder_days as i32 {
        WarningLevel::Reminder
    } else {
        WarningLevel::None
    }
}

/// The pure deadline function.
pub fn compute(
    events: &[LoggedEvent],
    cal: &WorkCalendar,
    rules: &ItemRules,
    day: &BusinessDay,
    now: Timestamp,
) -> Result<Deadlines> {
    let w = walk(events)?;
    let (promised, paused) = clock(cal, day, &w, rules.promised_days + w.extended, now)?;
    let (statutory, _) = clock(cal, day, &w, rules.statutory_days + w.extended, now)?;
    let stopped = w.decided.is_some();
    let (timing, workdays_used) = match w.decided {
        Some(at) => {
            let d = hall_date(at);
            let timing = if d < promised.due_date {
                Timing::Early
            } else if at <= promised.due_at {
                Timing::OnTime
            } else {
                Timing::Late
            };
            (Some(timing), Some(used(cal, &w, d, day.day_count)?))
        }
        None => (None, None),
    };
    let level = if stopped {
        WarningLevel::None
    } else {
        level_of(&promised, &statutory, rules.thresholds)
    };
    Ok(Deadlines {
        started_on: w.start,
        promised,
        statutory,
        paused,
        stopped,
        level,
        timing,
        workdays_used,
        calendar_version: cal.version(),
    })
}

/// The first moment at or after `now` that is inside business hours on a working day: alerts
/// raised at night or on a holiday wait for it.
pub fn next_business_moment(
    cal: &WorkCalendar,
    day: &BusinessDay,
    now: Timestamp,
) -> Result<Timestamp> {
    let today = hall_date(now);
    let minute = hall_minute(now);
    if cal.is_workday(today)? {
        if day.within(minute) {
            return Ok(now);
        }
        if let Some(&(a, _)) = day.spans.iter().find(|&&(a, _)| a > minute) {
            return at_minute(today, a);
        }
    }
    let next = cal.workday_on_or_after(
        today
            .tomorrow()
            .map_err(|e| CoreError::internal(e.to_string()))?,
    )?;
    at_minute(next, day.start())
}

fn at_minute(d: Date, m: u16) -> Result<Timestamp> {
    Ok(d.at((m / 60) as i8, (m % 60) as i8, 0, 0)
        .to_zoned(hall_tz())
        .map_err(|e| CoreError::internal(e.to_string()))?
        .timestamp())
}
