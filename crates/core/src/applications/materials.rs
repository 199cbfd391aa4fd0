//! The materials of an application and the rules for marking them: what may be marked how
//! (on a supplement visit only what was missing), where the check stands, and what a notice lists.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialState {
    Pending,
    Received,
    Missing,
    NotApplicable,
}

impl MaterialState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            MaterialState::Pending => "pending",
            MaterialState::Received => "received",
            MaterialState::Missing => "missing",
            MaterialState::NotApplicable => "not_applicable",
        }
    }
    /// As the audit log and the notices say it.
    pub fn label(self) -> &'static str {
        match self {
            MaterialState::Pending => "未核对",
            MaterialState::Received => "已收",
            MaterialState::Missing => "缺",
            MaterialState::NotApplicable => "不适用",
        }
    }
    pub(super) fn parse(s: &str) -> Self {
        match s {
            "received" => MaterialState::Received,
            "missing" => MaterialState::Missing,
            "not_applicable" => MaterialState::NotApplicable,
            _ => MaterialState::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AppMaterial {
    pub position: u32,
    pub name: String,
    /// 原件 / 复印件 / 原件及复印件
    pub form: String,
    pub copies: u32,
    pub requirement: Requirement,
    pub condition: String,
    pub standard: String,
    pub state: MaterialState,
    pub note: String,
}

/// May `m` be marked `to`? `supplementing`: after a notice, only what was missing is checked
/// again.
pub fn check_mark(m: &AppMaterial, to: MaterialState, supplementing: bool) -> Result<()> {
    if to == MaterialState::NotApplicable && m.requirement == Requirement::Required {
        return Err(CoreError::new(
            ErrorCode::InvalidMaterialState,
            format!("“{}”为必交材料，不能标为“不适用”", m.name),
        )
        .field("state"));
    }
    if supplementing && m.state == MaterialState::Received {
        return Err(CoreError::new(
            ErrorCode::InvalidMaterialState,
            format!("“{}”已收取，补正时只核对缺少的材料", m.name),
        )
        .field("position"));
    }
    Ok(())
}

/// Where the check stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Required or conditional materials not looked at yet (their positions).
    Unchecked(Vec<u32>),
    /// Missing materials (their positions).
    Incomplete(Vec<u32>),
    Complete,
}

pub fn completeness(materials: &[AppMaterial]) -> Completeness {
    let blocking = |m: &&AppMaterial| m.requirement != Requirement::Optional;
    let pending: Vec<u32> = materials
        .iter()
        .filter(blocking)
        .filter(|m| m.state == MaterialState::Pending)
        .map(|m| m.position)
        .collect();
    if !pending.is_empty() {
        return Completeness::Unchecked(pending);
    }
    let missing: Vec<u32> = materials
        .iter()
        .filter(blocking)
        .filter(|m| m.state == MaterialState::Missing)
        .map(|m| m.position)
        .collect();
    if missing.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Incomplete(missing)
    }
}

/// The materials a notice lists as received, and as missing (with their standards).
pub fn notice_lists(materials: &[AppMaterial]) -> (Vec<&AppMaterial>, Vec<&AppMaterial>) {
    let received = materials
        .iter()
        .filter(|m| m.state == MaterialState::Received)
        .collect();
    let missing = materials
        .iter()
        .filter(|m| m.requirement != Requirement::Optional && m.state == MaterialState::Missing)
        .collect();
    (received, missing)
}
