//! What a window shows the public: the rater (评价器) facing the applicant and the window
//! screen (窗口屏) above the window. One live read of the window's state today — its clerk, the
//! ticket at the window, a pause or a takeover, the visit waiting for its rating — costing a
//! handful of indexed rows whatever the history.
//!
//! A rater or window screen reads its own window (the one it is registered for); staff may
//! read any window's face (the admin's preview, the e2e tests).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::rating::{RatingState, last_visit, load_settings};
use super::store;
use crate::hall::category::CategoryRef;
use crate::kernel::clock::hall_date;
use crate::kernel::error::{CoreError, Result};
use crate::kernel::op::{Access, Actor, Cx, DeviceKind, Operation};
use crate::kernel::validate;

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct GetWindowFace {
    /// Staff only: which window to show. A window-bound device always reads its own.
    pub window_id: Option<String>,
}

/// The clerk on duty, as the applicant sees them (name and staff number, 工号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceClerk {
    pub name: String,
    pub staff_number: String,
}

/// The ticket at the window now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceTicket {
    pub id: String,
    pub number: String,
    /// `called` or `serving`.
    pub status: String,
}

/// The visit the rater is asking about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceRating {
    pub ticket_id: String,
    pub number: String,
    pub state: RatingState,
    /// While pending: when the levels go away and the visit counts as 未评价.
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct WindowFace {
    pub hall_name: String,
    pub window_id: String,
    pub window_number: u32,
    pub window_name: String,
    /// The businesses this window handles.
    pub categories: Vec<CategoryRef>,
    pub clerk: Option<FaceClerk>,
    pub current: Option<FaceTicket>,
    /// 暂停服务 and why.
    pub paused: Option<String>,
    /// Taken over: "请到 N 号窗口办理".
    pub routed_to: Option<u32>,
    /// The last visit finished here today and where its rating stands.
    pub rating: Option<FaceRating>,
    /// What an applicant may pick for 不满意 and 非常不满意.
    pub reasons: Vec<String>,
    pub promise: String,
    pub now: Timestamp,
}

impl Operation for GetWindowFace {
    const NAME: &'static str = "window.face";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = false;
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Rater, DeviceKind::WindowScreen];
    type Response = WindowFace;
    fn run(self, cx: &mut Cx<'_>) -> Result<WindowFace> {
        let window_id = match (&cx.actor, self.window_id.as_deref()) {
            (Actor::Device(_, Some(own)), _) => own.clone(),
            (Actor::Device(kind, None), _) => {
                return Err(CoreError::forbidden(format!(
                    "{}尚未绑定窗口，请管理员在设备管理中登记",
                    kind.label()
                )));
            }
            (_, Some(w)) => validate::id("window_id", "窗口", w)?,
            (_, None) => match cx.actor.staff().ok().and_then(|s| s.window_id.clone()) {
                Some(w) => w,
                None => {
                    return Err(CoreError::new(
                        crate::kernel::error::ErrorCode::Required,
                        "请选择窗口",
                    )
                    .field("window_id"));
                }
            },
        };
        let window = crate::hall::window::list(cx.tx, true)?
            .into_iter()
            .find(|w| w.id == window_id)
            .ok_or_else(|| CoreError::not_found("窗口", &window_id).field("window_id"))?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let clerk: Option<(String, String)> = cx
            .tx
            .prepare_cached(
                "SELECT st.name, st.login FROM sessions s JOIN staff st ON st.id = s.staff_id
                 WHERE s.window_id = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
                 ORDER BY s.started_at DESC LIMIT 1",
            )?
            .query_row(
                rusqlite::params![window_id, crate::kernel::clock::to_ms(cx.now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let current = store::select(
            cx.tx,
            "t.window_id = ?1 AND t.status IN ('called', 'serving') LIMIT 1",
            [&window_id],
        )?
        .into_iter()
        .next()
        .map(|t| FaceTicket {
            id: t.id,
            number: t.number,
            status: t.status.as_str().to_owned(),
        });
        let paused = store::open_pause(cx.tx, &window_id)?.map(|p| p.1);
        let routed_to = store::routed_to(cx.tx, &window_id)?;
        let day = hall_date(cx.now).to_string();
        let rating = last_visit(cx.tx, &window_id, &day, cx.now)?.map(|v| FaceRating {
            ticket_id: v.ticket_id,
            number: v.number,
            state: v.state,
            until: v.until,
        });
        let settings = load_settings(cx.tx)?;
        Ok(WindowFace {
            hall_name: hall.name,
            window_id,
            window_number: window.number,
            window_name: window.name,
            categories: window.categories,
            clerk: clerk.map(|(name, staff_number)| FaceClerk { name, staff_number }),
            current,
            paused,
            routed_to,
            rating,
            reasons: settings.reasons,
            promise: settings.promise,
            now: cx.now,
        })
    }
}
