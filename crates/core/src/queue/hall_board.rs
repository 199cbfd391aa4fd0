//! The hall board (`hall.board`): what the public display, the kiosk and the sign-in screen
//! show of the hall — its windows with who is on duty and where a takeover routes their queue,
//! its categories, and whether it is open now (business hours on a working day, or on any day
//! when the hall serves on days off). It reads the
//! hall, the staff on duty, the calendar and the queue's routes, so it lives with the queue,
//! above all of them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::calendar::CalendarOf;
use crate::hall::{
    Category, CategoryRef, Hall, WindowRef, category, load_hall, window, within_hours,
};
use crate::kernel::error::Result;
use crate::kernel::op::{Access, Cx, Operation};

/// What the public display, the kiosk and the sign-in screen show: the hall, its windows with
/// who is on duty, and its categories. Public.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHallBoard {}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BoardWindow {
    pub window: WindowRef,
    pub categories: Vec<CategoryRef>,
    /// The clerk signed in here, if any.
    pub clerk: Option<String>,
    pub clerk_id: Option<String>,
    pub since: Option<Timestamp>,
    /// During an AB-post takeover this window's queue is called at that window instead.
    pub routed_to: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HallBoard {
    pub hall: Hall,
    pub windows: Vec<BoardWindow>,
    pub categories: Vec<Category>,
    /// Whether `now` is within business hours.
    pub open_now: bool,
    pub now: Timestamp,
}

impl Operation for GetHallBoard {
    const NAME: &'static str = "hall.board";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = false;
    const BEFORE_PASSWORD_CHANGE: bool = true;
    type Response = HallBoard;
    fn run(self, cx: &mut Cx<'_>) -> Result<HallBoard> {
        let hall = load_hall(cx.tx)?;
        let occupancy = crate::staff::auth::occupancy(cx.tx, cx.now)?;
        let windows = window::list(cx.tx, false)?
            .into_iter()
            .map(|w| {
                let occ = occupancy.iter().find(|o| o.0 == w.id);
                Ok(BoardWindow {
                    routed_to: crate::queue::store::routed_to(cx.tx, &w.id)?,
                    window: WindowRef {
                        id: w.id.clone(),
                        number: w.number,
                        name: w.name.clone(),
                        active: w.active,
                    },
                    categories: w.categories,
                    clerk: occ.map(|o| o.2.clone()),
                    clerk_id: occ.map(|o| o.1.clone()),
                    since: occ.map(|o| o.3),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let categories = category::list(cx.tx, false)?;
        // Open now: inside business hours on a working day of the hall's calendar.
        // (or on a day off, when the hall serves then: 节假日不打烊).
        let open_now = within_hours(&hall.business_hours, cx.now)
            && (cx
                .calendar()?
                .is_workday(crate::kernel::clock::hall_date(cx.now))
                .unwrap_or(true)
                || super::load_settings(cx.tx)?.serve_days_off);
        Ok(HallBoard {
            hall,
            windows,
            categories,
            open_now,
            now: cx.now,
        })
    }
}
