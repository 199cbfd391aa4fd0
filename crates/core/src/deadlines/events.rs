//! A case's event log and the state machine it drives.
//!
//! The log is append-only (the database refuses updates and deletes): the case's status, its
//! deadlines and its timing are all derived from it, so a history can always be replayed and
//! checked. States: `accepted → in_progress ⇄ suspended → decided → completed`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::error::{CoreError, ErrorCode, Result};

/// How the application became a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcceptBasis {
    /// Materials complete at the window: accepted on the spot.
    Direct,
    /// Accepted when the complete supplement arrived (补正后受理): the clock starts that day.
    AfterSupplement,
    /// No supplement notice within five working days of receipt (行政许可法 art. 32(4)): the
    /// application counts as accepted from the day the materials were received.
    Deemed,
}

/// Why the clock stops (行政许可法 art. 45: time needed for these is not counted). A closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuspendReason {
    /// 听证
    Hearing,
    /// 招标、拍卖
    Tendering,
    /// 检验、检测、检疫
    Testing,
    /// 鉴定
    Appraisal,
    /// 专家评审
    ExpertReview,
}

impl SuspendReason {
    /// As the applicant is told it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hearing => "听证",
            Self::Tendering => "招标、拍卖",
            Self::Testing => "检验、检测、检疫",
            Self::Appraisal => "鉴定",
            Self::ExpertReview => "专家评审",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// 准予许可 / 办理
    Approved,
    /// 不予许可
    Denied,
}

/// One event's own fields. Who and when are in [`LoggedEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseEvent {
    Accepted {
        /// When the materials were received (the same moment for a direct acceptance).
        received_at: Timestamp,
        basis: AcceptBasis,
    },
    /// The clerk starts the review (受理 → 审查中).
    Started,
    Suspended {
        reason: SuspendReason,
        /// What the applicant was told, in working days.
        expected_days: u32,
        note: String,
    },
    Resumed {
        note: String,
    },
    ExtensionRequested {
        days: u32,
        reason: String,
    },
    ExtensionDenied {
        note: String,
    },
    /// Approved by a supervisor (art. 42: extended by the agency head, applicant told why).
    Extended {
        days: u32,
        reason: String,
        applicant_told: bool,
    },
    Decided {
        outcome: DecisionOutcome,
        note: String,
    },
    /// The decision was delivered (送达): the case is finished.
    Completed {
        note: String,
    },
    /// The case changed hands (AB岗 hand-back: B keeps a case A handed over). The clocks keep
    /// running; only who answers for the case changes.
    Reassigned {
        from_name: String,
        to_name: String,
        reason: String,
    },
}

impl CaseEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            CaseEvent::Accepted { .. } => "accepted",
            CaseEvent::Started => "started",
            CaseEvent::Suspended { .. } => "suspended",
            CaseEvent::Resumed { .. } => "resumed",
            CaseEvent::ExtensionRequested { .. } => "extension_requested",
            CaseEvent::ExtensionDenied { .. } => "extension_denied",
            CaseEvent::Extended { .. } => "extended",
            CaseEvent::Decided { .. } => "decided",
            CaseEvent::Completed { .. } => "completed",
            CaseEvent::Reassigned { .. } => "reassigned",
        }
    }
}

/// An event as logged: what, when, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct LoggedEvent {
    pub seq: u32,
    pub at: Timestamp,
    pub actor_name: String,
    pub event: CaseEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Accepted,
    InProgress,
    Suspended,
    Decided,
    Completed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Accepted => "accepted",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Suspended => "suspended",
            CaseStatus::Decided => "decided",
            CaseStatus::Completed => "completed",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "accepted" => CaseStatus::Accepted,
            "in_progress" => CaseStatus::InProgress,
            "suspended" => CaseStatus::Suspended,
            "decided" => CaseStatus::Decided,
            "completed" => CaseStatus::Completed,
            other => return Err(CoreError::internal(format!("未知的办件状态 {other}"))),
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Accepted => "已受理",
            CaseStatus::InProgress => "审查中",
            CaseStatus::Suspended => "已暂停计时",
            CaseStatus::Decided => "已作出决定",
            CaseStatus::Completed => "已办结",
        }
    }
    /// The clock still runs (or is paused) in these states.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseStatus::Accepted | CaseStatus::InProgress | CaseStatus::Suspended
        )
    }
}

/// What the log says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub status: CaseStatus,
    /// An extension request waits for a supervisor.
    pub pending_extension: Option<u32>,
    /// Working days of extension granted so far.
    pub extended_days: u32,
}

/// Replay a log, refusing any event its state does not allow. The first event must be
/// `Accepted`, and only the first.
pub fn replay(events: &[LoggedEvent]) -> Result<Replay> {
    let mut state: Option<Replay> = None;
    for e in events {
        state = Some(step(state, &e.event)?);
    }
    state.ok_or_else(|| CoreError::internal("办件没有任何事件"))
}

/// Apply one event to a state (`None`: nothing logged yet).
pub fn step(state: Option<Replay>, event: &CaseEvent) -> Result<Replay> {
    use CaseStatus as S;
    let Some(mut s) = state else {
        return match event {
            CaseEvent::Accepted { .. } => Ok(Replay {
                status: S::Accepted,
                pending_extension: None,
                extended_days: 0,
            }),
            _ => Err(refuse(None, event)),
        };
    };
    let open_work = matches!(s.status, S::Accepted | S::InProgress);
    match event {
        CaseEvent::Accepted { .. } => return Err(refuse(Some(s.status), event)),
        CaseEvent::Started if s.status == S::Accepted => s.status = S::InProgress,
        CaseEvent::Suspended { .. } if open_work => s.status = S::Suspended,
        CaseEvent::Resumed { .. } if s.status == S::Suspended => s.status = S::InProgress,
        CaseEvent::ExtensionRequested { days, .. }
            if s.status.is_open() && s.pending_extension.is_none() =>
        {
            s.pending_extension = Some(*days)
        }
        CaseEvent::ExtensionDenied { .. } if s.pending_extension.is_some() => {
            s.pending_extension = None
        }
        CaseEvent::Extended { days, .. } if s.pending_extension.is_some() => {
            s.pending_extension = None;
            s.extended_days += days;
        }
        CaseEvent::Decided { .. } if open_work => {
            s.status = S::Decided;
            s.pending_extension = None;
        }
        CaseEvent::Completed { .. } if s.status == S::Decided => s.status = S::Completed,
        CaseEvent::Reassigned { .. } if s.status != S::Completed => {}
        _ => return Err(refuse(Some(s.status), event)),
    }
    Ok(s)
}

fn refuse(status: Option<CaseStatus>, event: &CaseEvent) -> CoreError {
    let from = status.map_or("（无）", CaseStatus::label);
    let extra = match event {
        CaseEvent::Extended { .. } | CaseEvent::ExtensionDenied { .. } => "：没有待审批的延期申请",
        CaseEvent::ExtensionRequested { .. } if status.is_some_and(CaseStatus::is_open) => {
            "：已有一项延期申请待审批"
        }
        _ => "",
    };
    CoreError::new(
        ErrorCode::InvalidTransition,
        format!(
            "办件当前状态为“{from}”，不能执行“{}”{extra}",
            event_label(event)
        ),
    )
    .param("from", status.map_or("none", CaseStatus::as_str))
    .param("event", event.kind())
}

pub fn event_label(event: &CaseEvent) -> &'static str {
    match event {
        CaseEvent::Accepted { .. } => "受理",
        CaseEvent::Started => "开始审查",
        CaseEvent::Suspended { .. } => "暂停计时",
        CaseEvent::Resumed { .. } => "恢复计时",
        CaseEvent::ExtensionRequested { .. } => "申请延期",
        CaseEvent::ExtensionDenied { .. } => "驳回延期",
        CaseEvent::Extended { .. } => "批准延期",
        CaseEvent::Decided { .. } => "作出决定",
        CaseEvent::Completed { .. } => "办结送达",
        CaseEvent::Reassigned { .. } => "移交承办",
    }
}
