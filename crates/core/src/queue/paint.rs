//! What a queue event carries so a live screen paints the change without a read
//! ([`crate::kernel::event::HallEvent::paint`]).
//!
//! Contract: every queue write that moves a count, a window's current ticket or announces a call
//! attaches a [`QueuePaint`]: the public display shows the call and the counts from the event
//! alone (a hall's displays add no reads per call), the kiosk its counts. A screen re-reads only
//! what the paint does not say (a pause, a window's clerk) and coalesces those reads. A write
//! that changes nothing a board shows (a rating) attaches an empty paint: nothing to re-read.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::view::{CallRecord, CurrentCall};
use super::{store, wait};
use crate::hall::category;
use crate::kernel::clock::{from_ms, hall_date};
use crate::kernel::error::Result;
use crate::kernel::op::Cx;
use crate::kernel::store::Optional;
use crate::kernel::validate;

/// The change to paint (see the module docs).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct QueuePaint {
    /// A call to announce: "请A001号到3号窗口办理".
    pub call: Option<CallRecord>,
    /// The categories whose counts moved, as they are now.
    pub counts: Vec<CategoryCount>,
    /// The window whose current ticket changed, and what it shows now.
    pub window: Option<WindowNow>,
}

/// One category's counts as the board shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CategoryCount {
    pub category_id: String,
    pub waiting: u32,
    pub priority_waiting: u32,
    pub issued_today: u32,
    pub remaining: u32,
    pub estimated_minutes: Option<u32>,
}

/// A window's current ticket after the change (`None`: nobody called there now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowNow {
    pub window_id: String,
    pub current: Option<CurrentCall>,
}

/// The counts of `category_id` today, as the board computes them.
pub(crate) fn category_count(cx: &Cx<'_>, category_id: &str) -> Result<CategoryCount> {
    let open = store::windows_open_for(cx.tx, category_id, cx.now)?;
    let mean = store::recent_service_ms(cx.tx, category_id, wait::SAMPLE)?;
    category_count_with(cx, category_id, open, mean)
}

/// [`category_count`] with the windows open and the mean service time already read (the
/// issuing kiosk's slip needs them too).
pub(crate) fn category_count_with(
    cx: &Cx<'_>,
    category_id: &str,
    open: u32,
    mean_service_ms: Option<i64>,
) -> Result<CategoryCount> {
    let day = hall_date(cx.now).to_string();
    let counts = store::waiting_counts(cx.tx, category_id, &day)?;
    let issued = store::issued_count(cx.tx, category_id, &day)?;
    let cap = category::get(cx.tx, category_id)?.daily_cap;
    Ok(CategoryCount {
        category_id: category_id.to_owned(),
        waiting: counts.all,
        priority_waiting: counts.priority,
        issued_today: issued,
        remaining: cap.saturating_sub(issued),
        estimated_minutes: wait::estimate_minutes(counts.all, open, mean_service_ms),
    })
}

/// The ticket being called or served at `window_id`, as the board shows it.
pub(crate) fn current_at(cx: &Cx<'_>, window_id: &str) -> Result<Option<CurrentCall>> {
    Ok(cx
        .tx
        .prepare_cached(
            "SELECT id, number, status = 'serving', last_called_at, applicant_name FROM tickets
             WHERE window_id = ?1 AND status IN ('called', 'serving')",
        )?
        .query_row([window_id], |r| {
            Ok(CurrentCall {
                ticket_id: r.get(0)?,
                number: r.get(1)?,
                serving: r.get(2)?,
                called_at: from_ms(r.get(3)?),
                applicant: r
                    .get::<_, Option<String>>(4)?
                    .map(|n| validate::mask_name(&n)),
            })
        })
        .optional()?)
}

/// The newest call of `ticket_id` (just appended by the operation), as the display lists it.
fn last_call(cx: &Cx<'_>, ticket_id: &str) -> Result<Option<CallRecord>> {
    Ok(cx
        .tx
        .prepare_cached(
            "SELECT e.seq, e.ticket_id, t.number, w.number, w.name, e.kind, e.at, t.applicant_name,
                    t.priority IS NOT NULL
             FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id JOIN windows w ON w.id = e.window_id
             WHERE e.ticket_id = ?1 AND e.kind IN ('call', 'recall', 'call_back', 'call_specific')
             ORDER BY e.seq DESC LIMIT 1",
        )?
        .query_row(params![ticket_id], super::view::call_row)
        .optional()?)
}

/// Attach the paint of a ticket's step: its category's counts when the step moved them (`None`
/// for a start, a recall or a finish: the board's counts stand, and its estimate moves at the
/// category's next count change — four reads fewer per step, one of them over every window),
/// the acting window's current ticket, and the call when the step announced one.
pub(crate) fn ticket_step(
    cx: &mut Cx<'_>,
    ticket_id: &str,
    counts: Option<CategoryCount>,
    window_id: Option<&str>,
    announced: bool,
) -> Result<()> {
    let paint = QueuePaint {
        call: if announced {
            last_call(cx, ticket_id)?
        } else {
            None
        },
        counts: counts.into_iter().collect(),
        window: match window_id {
            Some(w) => Some(WindowNow {
                window_id: w.to_owned(),
                current: current_at(cx, w)?,
            }),
            None => None,
        },
    };
    cx.paint(&paint)
}
