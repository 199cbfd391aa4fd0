//! 好差评: the applicant rates a finished service on five levels (国办发〔2019〕51号 sets the
//! five levels 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意 and requires every bad rating to
//! be followed up: "差评必整改"). A rating belongs to its ticket (and, once cases exist, to
//! the case); 不满意 and 非常不满意 open a [`Followup`] for the supervisor.

use crate::kernel::store::Optional;
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
use crate::kernel::op::{Access, Cx, Operation};
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

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RateTicket {
    pub ticket_id: String,
    pub level: RatingLevel,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Rating {
    pub ticket_id: String,
    pub number: String,
    pub level: RatingLevel,
    pub comment: String,
    pub rated_at: Timestamp,
    /// The follow-up a bad rating opened.
    pub followup_id: Option<String>,
}

impl Operation for RateTicket {
    const NAME: &'static str = "rating.submit";
    const ACCESS: Access = Access::Device;
    const WRITES: bool = true;
    type Response = Rating;
    fn run(self, cx: &mut Cx<'_>) -> Result<Rating> {
        let id = validate::id("ticket_id", "号票", &self.ticket_id)?;
        let comment = validate::optional_text("comment", "评价意见", &self.comment, 200)?;
        let t = store::get(cx.tx, &id)?;
        if t.status != TicketStatus::Done {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 尚未办结，不能评价", t.number),
            )
            .param("number", &t.number)
            .param("status", t.status.as_str())
            .param("action", "rate"));
        }
        let rated: bool = cx.tx.query_row(
            "SELECT count(*) > 0 FROM ratings WHERE ticket_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        if rated {
            return Err(
                CoreError::new(ErrorCode::AlreadyRated, format!("{} 已评价过", t.number))
                    .param("number", &t.number),
            );
        }
        cx.tx.execute(
            "INSERT INTO ratings (ticket_id, level, comment, window_id, staff_id, rated_at, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                self.level.score(),
                comment,
                t.window.as_ref().map(|w| &w.id),
                t.staff_id,
                cx.ms(),
                cx.source
            ],
        )?;
        let followup_id = if self.level.is_bad() {
            let fid = new_id();
            cx.tx.execute(
                "INSERT INTO followups (id, ticket_id, status, created_at) VALUES (?1, ?2, 'open', ?3)",
                params![fid, id, cx.ms()],
            )?;
            Some(fid)
        } else {
            None
        };
        store::append_event(
            cx.tx,
            &id,
            "rate",
            t.window.as_ref().map(|w| w.id.as_str()),
            t.staff_id.as_deref(),
            cx.now,
            Some(serde_json::json!({ "level": self.level.score() })),
        )?;
        let rating = Rating {
            ticket_id: id.clone(),
            number: t.number.clone(),
            level: self.level,
            comment,
            rated_at: cx.now,
            followup_id,
        };
        let summary = if self.level.is_bad() {
            format!(
                "{} 评价：{}（已生成整改回访）",
                t.number,
                self.level.label()
            )
        } else {
            format!("{} 评价：{}", t.number, self.level.label())
        };
        cx.record(
            Topic::Queue,
            AuditDraft::new("rating", Some(&id), summary).after(&rating),
        )?;
        // Nothing a board shows moved: screens need not re-read.
        cx.paint(&super::paint::QueuePaint::default())?;
        Ok(rating)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Followup {
    pub id: String,
    pub ticket_id: String,
    pub number: String,
    pub day: String,
    pub level: RatingLevel,
    pub comment: String,
    pub window_number: Option<u32>,
    pub staff_name: Option<String>,
    pub created_at: Timestamp,
    pub closed: bool,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<String>,
    pub outcome: Option<String>,
}

const FOLLOWUP_SELECT: &str = "SELECT f.id, f.ticket_id, t.number, t.day, r.level, r.comment, w.number, s.name,
        f.created_at, f.status = 'closed', f.closed_at, cb.name, f.outcome
    FROM followups f JOIN ratings r ON r.ticket_id = f.ticket_id JOIN tickets t ON t.id = f.ticket_id
    LEFT JOIN windows w ON w.id = r.window_id LEFT JOIN staff s ON s.id = r.staff_id
    LEFT JOIN staff cb ON cb.id = f.closed_by";

fn followup_row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<Followup> {
    Ok(Followup {
        id: r.get(0)?,
        ticket_id: r.get(1)?,
        number: r.get(2)?,
        day: r.get(3)?,
        level: RatingLevel::from_score(r.get(4)?).unwrap_or(RatingLevel::VeryDissatisfied),
        comment: r.get(5)?,
        window_number: r.get(6)?,
        staff_name: r.get(7)?,
        created_at: from_ms(r.get(8)?),
        closed: r.get(9)?,
        closed_at: r.get::<_, Option<i64>>(10)?.map(from_ms),
        closed_by: r.get(11)?,
        outcome: r.get(12)?,
    })
}

/// The supervisor's list of bad-rating follow-ups, open ones first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ListFollowups {
    pub include_closed: bool,
}

impl Operation for ListFollowups {
    const NAME: &'static str = "followup.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<Followup>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Followup>> {
        let mut stmt = cx.tx.prepare(&format!(
            "{FOLLOWUP_SELECT} WHERE f.status = 'open' OR ?1 ORDER BY f.status = 'closed', f.created_at DESC LIMIT 500"
        ))?;
        Ok(stmt
            .query_map([self.include_closed], followup_row)?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
    }
}

/// Close a follow-up with what was done (整改情况 / 回访结果).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CloseFollowup {
    pub id: String,
    pub outcome: String,
}

impl Operation for CloseFollowup {
    const NAME: &'static str = "followup.close";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = Followup;
    fn run(self, cx: &mut Cx<'_>) -> Result<Followup> {
        let id = validate::id("id", "回访", &self.id)?;
        let outcome = validate::text("outcome", "整改及回访情况", &self.outcome, 500)?;
        let get = |cx: &Cx<'_>| -> Result<Followup> {
            cx.tx
                .query_row(
                    &format!("{FOLLOWUP_SELECT} WHERE f.id = ?1"),
                    [&id],
                    followup_row,
                )
                .optional()?
                .ok_or_else(|| CoreError::not_found("回访", &id).field("id"))
        };
        let before = get(cx)?;
        if before.closed {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                format!("{} 的回访已办结", before.number),
            )
            .param("number", &before.number)
            .param("status", "closed")
            .param("action", "close"));
        }
        let staff_id = cx.actor.staff().ok().map(|s| s.staff_id.clone());
        cx.tx.execute(
            "UPDATE followups SET status = 'closed', closed_at = ?2, closed_by = ?3, outcome = ?4 WHERE id = ?1",
            params![id, to_ms(cx.now), staff_id, outcome],
        )?;
        let after = get(cx)?;
        cx.record(
            Topic::Queue,
            AuditDraft::new(
                "followup",
                Some(&id),
                format!("办结 {} 的差评回访", after.number),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}
