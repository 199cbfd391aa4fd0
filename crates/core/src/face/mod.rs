//! The applicant's side of the window: what the rater (评价器, the screen facing the applicant)
//! and the window screen (窗口屏, above the window) show, and the ratings a case collected.
//!
//! Contract:
//! - One live read of one window's state today — its clerk (name, staff number, photo), the
//!   ticket at the window, a pause or a takeover, the application the visit opened or
//!   supplemented with its materials as the clerk ticks them (已收 / 缺 / 不适用), the notices
//!   issued in this visit, and the visit waiting for its rating. It costs a handful of indexed
//!   rows whatever the history (the window's open ticket, one application, its materials).
//! - A rater or window screen reads its own window, the one it is registered for; staff may
//!   read any window's face (the admin's preview).
//! - It sits above the applications because it shows their materials and notices; it writes
//!   nothing.
//! - A rating belongs to its visit and, through the visit's trip (`application_visits`), to the
//!   application and case that trip opened, supplemented or accepted (`rating.of_case`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::hall::category::CategoryRef;
use crate::kernel::clock::{from_ms, hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::op::{Access, Actor, Cx, DeviceKind, Operation};
use crate::kernel::store::Optional;
use crate::kernel::validate;
use crate::queue::rating::{RatingState, last_visit, load_settings};
use crate::queue::{RatingChannel, RatingLevel};

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct GetWindowFace {
    /// Staff only: which window to show. A window-bound device always reads its own.
    pub window_id: Option<String>,
}

/// The clerk on duty, as the applicant sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceClerk {
    pub name: String,
    /// 工号 (the login when the hall has not set one).
    pub staff_number: String,
    /// A data URL, uploaded in staff admin; `None`: the screen draws a silhouette.
    pub photo: Option<String>,
}

/// The ticket at the window now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceTicket {
    pub id: String,
    pub number: String,
    /// `called` or `serving`.
    pub status: String,
}

/// One material of the visit's application, as the clerk marked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceMaterial {
    pub name: String,
    pub copies: u32,
    /// `pending`, `received`, `missing`, `not_applicable`.
    pub state: String,
    pub note: String,
}

/// A notice issued during this visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceNotice {
    pub number: String,
    /// `supplement_notice`, `acceptance_notice`, `rejection_notice`.
    pub kind: String,
    /// For an acceptance notice: the promised completion date as printed on it.
    pub promised_date: Option<String>,
    /// For a one-time notice: the date to come back with the missing materials, as printed.
    pub supplement_until: Option<String>,
}

/// The application the visit at the window opened or supplemented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct FaceApplication {
    pub number: String,
    pub item_name: String,
    pub materials: Vec<FaceMaterial>,
    pub notices: Vec<FaceNotice>,
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
    /// The application of the ticket at the window, while it is there.
    pub application: Option<FaceApplication>,
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
                    return Err(
                        CoreError::new(ErrorCode::Required, "请选择窗口").field("window_id")
                    );
                }
            },
        };
        let window = crate::hall::window::list(cx.tx, true)?
            .into_iter()
            .find(|w| w.id == window_id)
            .ok_or_else(|| CoreError::not_found("窗口", &window_id).field("window_id"))?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let clerk = cx
            .tx
            .prepare_cached(
                "SELECT st.name, st.staff_number, st.login, st.photo FROM sessions s
                 JOIN staff st ON st.id = s.staff_id
                 WHERE s.window_id = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
                 ORDER BY s.started_at DESC LIMIT 1",
            )?
            .query_row(rusqlite::params![window_id, to_ms(cx.now)], |r| {
                let number: String = r.get(1)?;
                Ok(FaceClerk {
                    name: r.get(0)?,
                    staff_number: if number.is_empty() { r.get(2)? } else { number },
                    photo: r.get(3)?,
                })
            })
            .optional()?;
        let current: Option<(String, String, String, Option<i64>)> = cx
            .tx
            .prepare_cached(
                "SELECT id, number, status, called_at FROM tickets
                 WHERE window_id = ?1 AND status IN ('called', 'serving')",
            )?
            .query_row([&window_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let application = match &current {
            Some((id, ..)) => visit_application(cx, id)?,
            None => None,
        };
        let paused = crate::queue::store::open_pause(cx.tx, &window_id)?.map(|p| p.1);
        let routed_to = crate::queue::store::routed_to(cx.tx, &window_id)?;
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
            clerk,
            current: current.map(|(id, number, status, _)| FaceTicket { id, number, status }),
            application,
            paused,
            routed_to,
            rating,
            reasons: settings.reasons,
            promise: settings.promise,
            now: cx.now,
        })
    }
}

/// The application whose latest trip came with `ticket_id`, its materials and the notices
/// issued since that trip began.
fn visit_application(cx: &Cx<'_>, ticket_id: &str) -> Result<Option<FaceApplication>> {
    let found: Option<(String, String, String, i64)> = cx
        .tx
        .prepare_cached(
            "SELECT a.id, a.number, i.name, v.at FROM application_visits v
             JOIN applications a ON a.id = v.application_id
             JOIN service_items i ON i.id = a.item_id
             WHERE v.ticket_id = ?1 ORDER BY v.at DESC LIMIT 1",
        )?
        .query_row([ticket_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((id, number, item_name, since)) = found else {
        return Ok(None);
    };
    let materials = cx
        .tx
        .prepare_cached(
            "SELECT name, copies, state, note FROM application_materials
             WHERE application_id = ?1 ORDER BY position",
        )?
        .query_map([&id], |r| {
            Ok(FaceMaterial {
                name: r.get(0)?,
                copies: r.get(1)?,
                state: r.get(2)?,
                note: r.get(3)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    let notices = cx
        .tx
        .prepare_cached(
            "SELECT number, kind, data FROM documents
             WHERE application_id = ?1 AND issued_at >= ?2 ORDER BY issued_at",
        )?
        .query_map(rusqlite::params![id, since], |r| {
            let data: String = r.get(2)?;
            let data = serde_json::from_str::<serde_json::Value>(&data).unwrap_or_default();
            let field = |k: &str| data[k].as_str().map(str::to_owned);
            Ok(FaceNotice {
                number: r.get(0)?,
                kind: r.get(1)?,
                promised_date: field("promised_date"),
                supplement_until: field("supplement_until"),
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok(Some(FaceApplication {
        number,
        item_name,
        materials,
        notices,
    }))
}

/// The ratings of every visit of a case: the visits its applications' trips came with.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseRatings {
    pub case_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseRating {
    pub ticket_id: String,
    pub ticket_number: String,
    pub application_number: String,
    pub level: RatingLevel,
    pub channel: RatingChannel,
    pub reasons: Vec<String>,
    pub rated_at: Timestamp,
    pub window_number: Option<u32>,
    pub staff_name: Option<String>,
    /// Taken out of the figures by an upheld dispute.
    pub excluded: bool,
}

impl Operation for CaseRatings {
    const NAME: &'static str = "rating.of_case";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<CaseRating>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<CaseRating>> {
        let id = validate::id("case_id", "办件", &self.case_id)?;
        let exists: bool =
            cx.tx
                .query_row("SELECT count(*) > 0 FROM cases WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })?;
        if !exists {
            return Err(CoreError::not_found("办件", &id).field("case_id"));
        }
        let mut stmt = cx.tx.prepare(
            "SELECT DISTINCT r.ticket_id, t.number, a.number, r.level, r.channel, r.reasons, r.rated_at,
                    w.number, s.name, r.excluded_at IS NOT NULL
             FROM applications a
             JOIN application_visits v ON v.application_id = a.id
             JOIN ratings r ON r.ticket_id = v.ticket_id
             JOIN tickets t ON t.id = r.ticket_id
             LEFT JOIN windows w ON w.id = r.window_id
             LEFT JOIN staff s ON s.id = r.staff_id
             WHERE a.case_id = ?1
             ORDER BY r.rated_at",
        )?;
        let rows = stmt
            .query_map([&id], |r| {
                let reasons: String = r.get(5)?;
                Ok(CaseRating {
                    ticket_id: r.get(0)?,
                    ticket_number: r.get(1)?,
                    application_number: r.get(2)?,
                    level: RatingLevel::from_score(r.get(3)?)
                        .unwrap_or(RatingLevel::VeryDissatisfied),
                    channel: RatingChannel::parse(&r.get::<_, String>(4)?),
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    rated_at: from_ms(r.get(6)?),
                    window_number: r.get(7)?,
                    staff_name: r.get(8)?,
                    excluded: r.get(9)?,
                })
            })?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
        Ok(rows)
    }
}

/// The key printed on a one-time or acceptance notice: its number and six-digit code.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NoticeKey {
    /// The notice's number (文书编号).
    pub number: String,
    /// The six-digit rating code printed beside the QR code.
    pub code: String,
}

/// The visit a notice's key names: (document kind, the ticket, its business day, the window
/// number, the item's name). The same refusal whether the number is unknown or the code wrong:
/// the public page does not tell which notices exist.
fn visit_of_notice(
    cx: &Cx<'_>,
    key: &NoticeKey,
) -> Result<(String, String, String, Option<u32>, String)> {
    let number = key.number.trim();
    let code = key.code.trim();
    let wrong = || {
        CoreError::new(
            ErrorCode::NotFound,
            "文书编号或评价码不正确，请核对通知书上的编号与评价码",
        )
        .field("code")
    };
    if number.is_empty()
        || number.len() > 40
        || code.len() != 6
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(wrong());
    }
    let doc: Option<(String, String, i64, Option<String>, String)> = cx
        .tx
        .prepare_cached(
            "SELECT d.application_id, d.kind, d.issued_at, d.rating_code, i.name FROM documents d
             JOIN applications a ON a.id = d.application_id
             JOIN service_items i ON i.id = a.item_id
             WHERE d.number = ?1",
        )?
        .query_row([number], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((application_id, kind, issued_at, Some(stored), item_name)) = doc else {
        return Err(wrong());
    };
    if stored != code {
        return Err(wrong());
    }
    let visit: Option<(String, String, Option<u32>)> = cx
        .tx
        .prepare_cached(
            "SELECT t.id, t.day, w.number FROM application_visits v
             JOIN tickets t ON t.id = v.ticket_id
             LEFT JOIN windows w ON w.id = t.window_id
             WHERE v.application_id = ?1 AND v.at <= ?2
             ORDER BY v.seq DESC LIMIT 1",
        )?
        .query_row(rusqlite::params![application_id, issued_at], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((ticket_id, day, window_number)) = visit else {
        return Err(CoreError::new(
            ErrorCode::NotFound,
            "该通知书没有对应的窗口取号记录，无法扫码评价",
        )
        .field("number"));
    };
    Ok((kind, ticket_id, day, window_number, item_name))
}

/// What the phone page shows before the applicant rates: which visit, and whether it is rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct NoticeVisit {
    pub hall_name: String,
    /// `supplement_notice` or `acceptance_notice`.
    pub kind: String,
    pub item_name: String,
    pub day: String,
    pub window_number: Option<u32>,
    /// Already rated (at the window or by this code): the page says thank you instead.
    pub rated: bool,
    pub reasons: Vec<String>,
}

/// Look a notice's visit up by its key (the public phone page).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetNoticeVisit {
    #[serde(flatten)]
    pub key: NoticeKey,
}

impl Operation for GetNoticeVisit {
    const NAME: &'static str = "rating.notice_visit";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = false;
    type Response = NoticeVisit;
    fn run(self, cx: &mut Cx<'_>) -> Result<NoticeVisit> {
        let (kind, ticket_id, day, window_number, item_name) = visit_of_notice(cx, &self.key)?;
        let rated: bool = cx.tx.query_row(
            "SELECT count(*) > 0 FROM ratings WHERE ticket_id = ?1",
            [&ticket_id],
            |r| r.get(0),
        )?;
        Ok(NoticeVisit {
            hall_name: crate::hall::load_hall(cx.tx)?.name,
            kind,
            item_name,
            day,
            window_number,
            rated,
            reasons: load_settings(cx.tx)?.reasons,
        })
    }
}

/// 扫码评价: rate the visit a notice was issued in, from a phone, with the notice's number and
/// code (no sign-in). One rating per visit: `already_rated` if it was rated at the window or by
/// this code before. The hall server limits how often one address may try (HTTP 429).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RateByNotice {
    #[serde(flatten)]
    pub key: NoticeKey,
    pub level: RatingLevel,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

impl Operation for RateByNotice {
    const NAME: &'static str = "rating.by_notice";
    const ACCESS: Access = Access::Public;
    const WRITES: bool = true;
    type Response = crate::queue::rating::Rating;
    fn run(self, cx: &mut Cx<'_>) -> Result<crate::queue::rating::Rating> {
        let (_, ticket_id, ..) = visit_of_notice(cx, &self.key)?;
        crate::queue::rating::record_from_notice(
            cx,
            &ticket_id,
            self.level,
            &self.reasons,
            &self.comment,
        )
    }
}
