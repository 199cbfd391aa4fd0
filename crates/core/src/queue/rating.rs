//! 好差评 at the window (国务院办公厅关于建立政务服务“好差评”制度的意见, 国办发〔2019〕51号:
//! 现场服务“一次一评”, five levels 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意).
//!
//! Contract:
//! - **The applicant rates, nobody else.** A visit is rated on the window's rater (评价器), the
//!   screen that faces the applicant, registered for that window: `rating.submit` answers
//!   `forbidden` to a clerk, a kiosk, a display or a rater of another window (`wrong_window`). A
//!   rating that came in on paper, by phone or through the notice's QR code is *recorded* by a
//!   supervisor with its channel (`rating.record`), audited like every write.
//! - **One rating per visit**, never changed from the counter (`already_rated`).
//! - **No default.** The rater offers the levels from the moment the clerk finishes for the
//!   hall's rating time (60 s unless the hall sets otherwise). After that the visit is 未评价:
//!   derived from the missing rating and the finish time, never stored as satisfied; a late
//!   press on the rater is `rating_closed`.
//! - **A bad rating says why.** 不满意 and 非常不满意 need at least one reason from the hall's
//!   list and open a rectification (差评整改, [`super::followup`]) with the clocks the hall's
//!   settings give at that moment.
//! - A rating belongs to its ticket and, through it, to the application or case the visit opened
//!   (reports join them), its window and its clerk.

use crate::kernel::store::{Optional, Tx};
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::store;
use super::ticket::TicketStatus;
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, DeviceKind, Operation};
use crate::kernel::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingLevel {
    VerySatisfied,
    Satisfied,
    Basic,
    Dissatisfied,
    VeryDissatisfied,
}

impl RatingLevel {
    pub const ALL: [RatingLevel; 5] = [
        Self::VerySatisfied,
        Self::Satisfied,
        Self::Basic,
        Self::Dissatisfied,
        Self::VeryDissatisfied,
    ];
    /// 5 (非常满意) … 1 (非常不满意), as stored.
    pub fn score(self) -> u8 {
        match self {
            Self::VerySatisfied => 5,
            Self::Satisfied => 4,
            Self::Basic => 3,
            Self::Dissatisfied => 2,
            Self::VeryDissatisfied => 1,
        }
    }
    pub fn from_score(n: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.score() == n)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::VerySatisfied => "非常满意",
            Self::Satisfied => "满意",
            Self::Basic => "基本满意",
            Self::Dissatisfied => "不满意",
            Self::VeryDissatisfied => "非常不满意",
        }
    }
    /// A bad rating (差评) that must be followed up.
    pub fn is_bad(self) -> bool {
        self.score() <= 2
    }
}

/// How a rating came in (评价渠道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// 窗口评价器: pressed by the applicant at the window.
    Rater,
    /// 纸质: a paper form, entered by a supervisor.
    Paper,
    /// 电话: by phone, entered by a supervisor.
    Phone,
    /// 扫码: the QR code on a notice.
    Qr,
}

impl RatingChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rater => "rater",
            Self::Paper => "paper",
            Self::Phone => "phone",
            Self::Qr => "qr",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "paper" => Self::Paper,
            "phone" => Self::Phone,
            "qr" => Self::Qr,
            _ => Self::Rater,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Rater => "窗口评价器",
            Self::Paper => "纸质",
            Self::Phone => "电话",
            Self::Qr => "扫码",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings

/// The hall's 好差评 settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RatingSettings {
    /// Seconds the rater offers the levels after the clerk finishes; then the visit is 未评价.
    pub timeout_s: u32,
    /// Working days to verify a bad rating and call the applicant back (回访核实).
    pub verify_days: u32,
    /// Further working days to rectify and answer (整改反馈).
    pub rectify_days: u32,
    /// The reasons an applicant picks from for 不满意 and 非常不满意.
    pub reasons: Vec<String>,
    /// The service promise the rater shows while idle.
    pub promise: String,
    /// The hall server's address as applicants' phones reach it (`http://…`), for the rating
    /// link in the notices' QR codes; empty: the codes carry the case number only.
    #[serde(default)]
    pub public_url: String,
}

pub(crate) fn load_settings(tx: &Tx<'_>) -> Result<RatingSettings> {
    #[allow(clippy::type_complexity)]
    let (timeout_s, verify_days, rectify_days, reasons, promise, public_url): (
        i64,
        i64,
        i64,
        String,
        String,
        String,
    ) = tx
        .prepare_cached(
            "SELECT timeout_s, verify_days, rectify_days, reasons, promise, public_url
             FROM rating_settings WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    Ok(RatingSettings {
        timeout_s: timeout_s as u32,
        verify_days: verify_days as u32,
        rectify_days: rectify_days as u32,
        reasons: serde_json::from_str(&reasons)
            .map_err(|e| CoreError::internal(format!("评价原因列表损坏：{e}")))?,
        promise,
        public_url,
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetRatingSettings {}

impl Operation for GetRatingSettings {
    const NAME: &'static str = "rating.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = RatingSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<RatingSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateRatingSettings {
    pub settings: RatingSettings,
}

/// A reason's longest text.
pub const REASON_MAX: usize = 20;

impl Operation for UpdateRatingSettings {
    const NAME: &'static str = "rating.update_settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = RatingSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<RatingSettings> {
        let s = self.settings;
        validate::range_i64(
            "timeout_s",
            "评价等待时间（秒）",
            s.timeout_s.into(),
            15,
            600,
        )?;
        validate::range_i64(
            "verify_days",
            "回访核实时限（工作日）",
            s.verify_days.into(),
            1,
            10,
        )?;
        validate::range_i64(
            "rectify_days",
            "整改反馈时限（工作日）",
            s.rectify_days.into(),
            1,
            30,
        )?;
        let promise = validate::text("promise", "服务承诺", &s.promise, 60)?;
        let public_url = s.public_url.trim().trim_end_matches('/').to_owned();
        if !public_url.is_empty()
            && (public_url.len() > 200
                || !(public_url.starts_with("http://") || public_url.starts_with("https://"))
                || public_url.contains(char::is_whitespace))
        {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "大厅服务器地址须以 http:// 或 https:// 开头，例如 http://192.168.1.10:8720",
            )
            .field("public_url"));
        }
        let mut reasons: Vec<String> = Vec::new();
        for r in &s.reasons {
            let r = validate::text("reasons", "差评原因", r, REASON_MAX)?;
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
        if reasons.is_empty() || reasons.len() > 12 {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "差评原因须有 1 至 12 项")
                    .field("reasons")
                    .param("min", 1)
                    .param("max", 12),
            );
        }
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE rating_settings SET timeout_s = ?1, verify_days = ?2, rectify_days = ?3,
                    reasons = ?4, promise = ?5, public_url = ?6 WHERE id = 1",
            params![
                i64::from(s.timeout_s),
                i64::from(s.verify_days),
                i64::from(s.rectify_days),
                serde_json::to_string(&reasons).map_err(|e| CoreError::internal(e.to_string()))?,
                promise,
                public_url
            ],
        )?;
        let after = load_settings(cx.tx)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new("rating_settings", None, "修改好差评设置")
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

// ---------------------------------------------------------------------------------------------
// Ratings

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Rating {
    pub ticket_id: String,
    pub number: String,
    pub level: RatingLevel,
    pub reasons: Vec<String>,
    pub comment: String,
    pub channel: RatingChannel,
    pub rated_at: Timestamp,
    /// The rectification a bad rating opened.
    pub followup_id: Option<String>,
}

/// The applicant's rating, pressed on the rater of the window that served the visit.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RateTicket {
    pub ticket_id: String,
    pub level: RatingLevel,
    /// For 不满意 and 非常不满意: one or more reasons from the hall's list.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

impl Operation for RateTicket {
    const NAME: &'static str = "rating.submit";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = true;
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Rater];
    type Response = Rating;
    fn run(self, cx: &mut Cx<'_>) -> Result<Rating> {
        // Staff reach every device operation; this one is the applicant's alone.
        let rater_window = match &cx.actor {
            Actor::Device(DeviceKind::Rater, Some(w)) => w.clone(),
            Actor::Device(DeviceKind::Rater, None) => {
                return Err(CoreError::forbidden(
                    "评价器尚未绑定窗口，请管理员在设备管理中登记",
                ));
            }
            _ => {
                return Err(CoreError::forbidden(
                    "评价须由申请人在窗口评价器上作出，工作人员不能代为评价",
                )
                .param("op", Self::NAME));
            }
        };
        let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
        let t = store::get(cx.tx, &id)?;
        require_done(&t)?;
        if t.window.as_ref().map(|w| w.id.as_str()) != Some(rater_window.as_str()) {
            return Err(CoreError::new(
                ErrorCode::WrongWindow,
                format!("{} 不是本窗口办理的业务，不能在此评价", t.number),
            )
            .param("number", &t.number));
        }
        let settings = load_settings(cx.tx)?;
        if let Some(finished) = t.finished_at
            && to_ms(cx.now) > to_ms(finished) + i64::from(settings.timeout_s) * 1000
        {
            return Err(CoreError::new(
                ErrorCode::RatingClosed,
                format!("{} 的评价时间已过，已记为未评价", t.number),
            )
            .param("number", &t.number)
            .param("seconds", settings.timeout_s));
        }
        insert(
            cx,
            &t,
            self.level,
            RatingChannel::Rater,
            &self.reasons,
            &self.comment,
            &settings,
        )
    }
}

/// A rating that came in on paper, by phone or by the notice's QR code, entered by a supervisor
/// (any time after the visit; the timeout is the rater's only).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RecordRating {
    /// The visit's ticket; or empty, and the ticket named by `day` and `number` as on the
    /// paper form (A001 on 2026-11-23).
    #[serde(default)]
    pub ticket_id: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub number: String,
    pub level: RatingLevel,
    pub channel: RatingChannel,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

impl Operation for RecordRating {
    const NAME: &'static str = "rating.record";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Rating;
    fn run(self, cx: &mut Cx<'_>) -> Result<Rating> {
        if self.channel == RatingChannel::Rater {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "窗口评价器的评价只能由申请人在评价器上作出；补录请选择纸质、电话或扫码",
            )
            .field("channel"));
        }
        let t = if self.ticket_id.trim().is_empty() {
            let day = crate::calendar::parse_date("day", &self.day)?.to_string();
            let number = validate::text("number", "号码", &self.number, 8)?.to_uppercase();
            store::select(cx.tx, "t.day = ?1 AND t.number = ?2", [&day, &number])?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    CoreError::not_found("号票", format!("{day} {number}")).field("number")
                })?
        } else {
            let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
            store::get(cx.tx, &id)?
        };
        require_done(&t)?;
        let settings = load_settings(cx.tx)?;
        insert(
            cx,
            &t,
            self.level,
            self.channel,
            &self.reasons,
            &self.comment,
            &settings,
        )
    }
}

/// A rating from the QR code of a notice issued in the visit `ticket_id` (the public phone
/// page: the caller has checked the notice's number and code). Any time after the visit; once.
pub(crate) fn record_from_notice(
    cx: &mut Cx<'_>,
    ticket_id: &str,
    level: RatingLevel,
    reasons: &[String],
    comment: &str,
) -> Result<Rating> {
    let t = store::get(cx.tx, ticket_id)?;
    require_done(&t)?;
    let settings = load_settings(cx.tx)?;
    insert(
        cx,
        &t,
        level,
        RatingChannel::Qr,
        reasons,
        comment,
        &settings,
    )
}

/// Only a finished visit is rated.
fn require_done(t: &super::Ticket) -> Result<()> {
    if t.status != TicketStatus::Done {
        return Err(CoreError::new(
            ErrorCode::InvalidTransition,
            format!("{} 尚未办结，不能评价", t.number),
        )
        .param("number", &t.number)
        .param("status", t.status.as_str())
        .param("action", "rate"));
    }
    Ok(())
}

/// The checks and the write both ways of rating share (the visit is done).
fn insert(
    cx: &mut Cx<'_>,
    t: &super::Ticket,
    level: RatingLevel,
    channel: RatingChannel,
    reasons: &[String],
    comment: &str,
    settings: &RatingSettings,
) -> Result<Rating> {
    let comment = validate::optional_text("comment", "评价意见", comment, 200)?;
    let mut picked: Vec<String> = Vec::new();
    for r in reasons {
        let r = r.trim();
        if !settings.reasons.iter().any(|known| known == r) {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("“{r}”不在本厅的差评原因中"),
            )
            .field("reasons")
            .param("reason", r));
        }
        if !picked.iter().any(|p| p == r) {
            picked.push(r.to_owned());
        }
    }
    if level.is_bad() && picked.is_empty() {
        return Err(
            CoreError::new(ErrorCode::Required, "请选择不满意的原因（可多选）").field("reasons"),
        );
    }
    if !level.is_bad() {
        picked.clear();
    }
    let rated: bool = cx
        .tx
        .prepare_cached("SELECT count(*) > 0 FROM ratings WHERE ticket_id = ?1")?
        .query_row([&t.id], |r| r.get(0))?;
    if rated {
        return Err(
            CoreError::new(ErrorCode::AlreadyRated, format!("{} 已评价过", t.number))
                .param("number", &t.number),
        );
    }
    let recorded_by = cx.actor.staff().ok().map(|s| s.staff_id.clone());
    let reasons_json =
        serde_json::to_string(&picked).map_err(|e| CoreError::internal(e.to_string()))?;
    cx.tx.execute(
        "INSERT INTO ratings (ticket_id, level, comment, window_id, staff_id, rated_at, source,
                              channel, reasons, recorded_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            t.id,
            level.score(),
            comment,
            t.window.as_ref().map(|w| &w.id),
            t.staff_id,
            cx.ms(),
            cx.source,
            channel.as_str(),
            reasons_json,
            recorded_by
        ],
    )?;
    let followup_id = if level.is_bad() {
        let fid = new_id();
        cx.tx.execute(
            "INSERT INTO followups (id, ticket_id, status, created_at, verify_days, rectify_days)
             VALUES (?1, ?2, 'open', ?3, ?4, ?5)",
            params![
                fid,
                t.id,
                cx.ms(),
                i64::from(settings.verify_days),
                i64::from(settings.rectify_days)
            ],
        )?;
        Some(fid)
    } else {
        None
    };
    store::append_event(
        cx.tx,
        &t.id,
        "rate",
        t.window.as_ref().map(|w| w.id.as_str()),
        t.staff_id.as_deref(),
        cx.now,
        Some(serde_json::json!({ "level": level.score(), "channel": channel.as_str() })),
    )?;
    let rating = Rating {
        ticket_id: t.id.clone(),
        number: t.number.clone(),
        level,
        reasons: picked,
        comment,
        channel,
        rated_at: cx.now,
        followup_id,
    };
    let via = if channel == RatingChannel::Rater {
        String::new()
    } else {
        format!("（{}补录）", channel.label())
    };
    let summary = if level.is_bad() {
        format!(
            "{} 评价：{}{via}（已生成差评整改）",
            t.number,
            level.label()
        )
    } else {
        format!("{} 评价：{}{via}", t.number, level.label())
    };
    cx.record(
        Topic::Queue,
        AuditDraft::new("rating", Some(&t.id), summary).after(&rating),
    )?;
    // Nothing a board shows moved: screens need not re-read.
    cx.paint(&super::paint::QueuePaint::default())?;
    Ok(rating)
}

/// Where the last visit finished at a window stands with its rating, as the clerk's console
/// shows it: pending, given or 未评价 — never the level, and never buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct VisitRating {
    pub ticket_id: String,
    pub number: String,
    pub state: RatingState,
    /// While pending: when the rater stops offering the levels.
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingState {
    /// 待评价: the rater is offering the levels.
    Pending,
    /// 已评价.
    Given,
    /// 未评价: nobody rated within the hall's time.
    Unrated,
}

/// The last visit finished at `window_id` today (business day `day`), with its rating state.
pub(crate) fn last_visit(
    tx: &Tx<'_>,
    window_id: &str,
    day: &str,
    now: Timestamp,
) -> Result<Option<VisitRating>> {
    let last: Option<(String, String, i64, bool)> = tx
        .prepare_cached(
            "SELECT t.id, t.number, t.finished_at,
                    EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id)
             FROM tickets t
             WHERE t.window_id = ?1 AND t.day = ?2 AND t.status = 'done' AND t.finished_at IS NOT NULL
             ORDER BY t.finished_at DESC LIMIT 1",
        )?
        .query_row(params![window_id, day], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((ticket_id, number, finished, rated)) = last else {
        return Ok(None);
    };
    let settings = load_settings(tx)?;
    let until_ms = finished + i64::from(settings.timeout_s) * 1000;
    let (state, until) = if rated {
        (RatingState::Given, None)
    } else if to_ms(now) <= until_ms {
        (RatingState::Pending, Some(from_ms(until_ms)))
    } else {
        (RatingState::Unrated, None)
    };
    Ok(Some(VisitRating {
        ticket_id,
        number,
        state,
        until,
    }))
}
