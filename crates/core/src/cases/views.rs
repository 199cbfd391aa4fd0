//! What screens read about cases: my cases, one case, the supervisor's board, the figures, and
//! the deadline alerts. Deadlines are computed at read time with the caller's `now`, so a
//! countdown is always current; lists sort by urgency (level, then the promised due moment).

use std::collections::BTreeMap;

use crate::calendar::CalendarOf;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::events::{self, CaseEvent, CaseStatus, LoggedEvent};
use super::{business_day, load_settings, store};
use crate::deadlines::{self, Deadlines, WarningLevel};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;
use crate::staff::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseSummary {
    pub id: String,
    pub number: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub window_number: Option<u32>,
    pub owner_id: String,
    pub owner_name: String,
    pub status: CaseStatus,
    pub accepted_at: Timestamp,
    pub deadlines: Deadlines,
    /// Working days of a request waiting for a supervisor.
    pub pending_extension: Option<u32>,
    /// 代办: the caller handles this case for its owner (AB岗 takeover); the owner's name.
    pub on_behalf_of: Option<String>,
    /// The case's log could not be read as the domain writes it (see [`checked`]): the row is
    /// shown with its stored status and this explanation instead of failing the whole list.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseDetail {
    pub case: CaseSummary,
    /// Masked (110105********002X): the full number is shown only through `case.reveal`, which
    /// is logged.
    pub applicant_id_number: String,
    /// Masked (138****8000), like the ID number.
    pub applicant_phone: String,
    pub events: Vec<LoggedEvent>,
    /// The actions (`CaseAction` kinds) the signed-in staff member may take now.
    pub allowed: Vec<String>,
    /// The signed-in staff member may approve or deny the pending extension.
    pub may_decide_extension: bool,
    /// Working days of extension the item still allows.
    pub extension_left: u32,
}

pub(crate) fn deadlines_of(cx: &Cx<'_>, id: &str, row: &store::CaseRow) -> Result<Deadlines> {
    let settings = load_settings(cx.tx)?;
    let day = business_day(cx.tx, &settings)?;
    let cal = cx.calendar()?;
    deadlines::compute(&store::events(cx.tx, id)?, &cal, &row.rules, &day, cx.now)
}

fn summary_with(
    row: &store::CaseRow,
    state: &events::Replay,
    d: Deadlines,
    problem: Option<String>,
) -> CaseSummary {
    CaseSummary {
        id: row.id.clone(),
        number: row.number.clone(),
        item_id: row.item_id.clone(),
        item_code: row.item_code.clone(),
        item_name: row.item_name.clone(),
        applicant_name: row.applicant_name.clone(),
        applicant_id_masked: validate::mask_id(&row.applicant_id_number),
        window_number: row.window_number,
        owner_id: row.owner_id.clone(),
        owner_name: row.owner_name.clone(),
        status: state.status,
        accepted_at: row.accepted_at,
        deadlines: d,
        pending_extension: state.pending_extension,
        on_behalf_of: None,
        problem,
    }
}

/// A row of a list, never an error: a case whose log the state machine refuses, or whose
/// deadlines cannot be computed, is shown with its stored status, deadlines counted from its
/// acceptance alone, and the reason in `problem`; the refusal is logged. One odd row must not
/// empty a clerk's list or the supervisor's board.
pub(crate) fn checked(
    row: &store::CaseRow,
    log: &[LoggedEvent],
    cal: &crate::calendar::WorkCalendar,
    day: &deadlines::BusinessDay,
    now: Timestamp,
) -> CaseSummary {
    let computed = events::replay(log).and_then(|state| {
        let d = deadlines::compute(log, cal, &row.rules, day, now)?;
        Ok((state, d))
    });
    match computed {
        Ok((state, d)) => summary_with(row, &state, d, None),
        Err(e) => {
            tracing::warn!(case = %row.number, code = ?e.code, error = %e.message, "case log refused by the state machine; shown flagged");
            let state = events::Replay {
                status: row.status,
                pending_extension: None,
                extended_days: 0,
            };
            let accepted = [LoggedEvent {
                seq: 1,
                at: row.accepted_at,
                actor_name: String::new(),
                event: CaseEvent::Accepted {
                    received_at: row.accepted_at,
                    basis: events::AcceptBasis::Direct,
                },
            }];
            let d = deadlines::compute(&accepted, cal, &row.rules, day, now)
                .or_else(|_| deadlines::compute(&accepted, cal, &row.rules, day, row.accepted_at))
                .unwrap_or_else(|_| deadlines::Deadlines::unknown(row.accepted_at, cal.version()));
            summary_with(
                row,
                &state,
                d,
                Some(format!("办件记录异常，请联系系统管理员核查：{}", e.message)),
            )
        }
    }
}

/// One case with live deadlines, and its log (for the handover sheet).
pub(crate) fn summary_now(cx: &Cx<'_>, id: &str) -> Result<(CaseSummary, Vec<LoggedEvent>)> {
    let settings = load_settings(cx.tx)?;
    let row = store::get(cx.tx, id, settings.thresholds)?;
    let log = store::events(cx.tx, id)?;
    let day = business_day(cx.tx, &settings)?;
    let cal = cx.calendar()?;
    Ok((checked(&row, &log, &cal, &day, cx.now), log))
}

/// Actions the state machine allows now, checked by trying each on the replayed state.
fn allowed_actions(log: &[LoggedEvent]) -> Result<Vec<String>> {
    use super::{DecisionOutcome, SuspendReason};
    let state = events::replay(log)?;
    let candidates = [
        ("start", CaseEvent::Started),
        (
            "suspend",
            CaseEvent::Suspended {
                reason: SuspendReason::Testing,
                expected_days: 1,
                note: String::new(),
            },
        ),
        (
            "resume",
            CaseEvent::Resumed {
                note: String::new(),
            },
        ),
        (
            "request_extension",
            CaseEvent::ExtensionRequested {
                days: 1,
                reason: String::new(),
            },
        ),
        (
            "decide",
            CaseEvent::Decided {
                outcome: DecisionOutcome::Approved,
                note: String::new(),
            },
        ),
        (
            "complete",
            CaseEvent::Completed {
                note: String::new(),
            },
        ),
    ];
    Ok(candidates
        .into_iter()
        .filter(|(_, e)| events::step(Some(state.clone()), e).is_ok())
        .map(|(k, _)| k.to_owned())
        .collect())
}

pub(crate) fn detail(cx: &Cx<'_>, id: &str) -> Result<CaseDetail> {
    let me = cx.actor.staff()?.clone();
    let settings = load_settings(cx.tx)?;
    let row = store::get(cx.tx, id, settings.thresholds)?;
    let is_supervisor = me.role >= Role::Supervisor;
    let owner = row.owner_id == me.staff_id;
    if !owner
        && !is_supervisor
        && !super::delegation::may_read(cx.tx, &me.staff_id, id, &row.owner_id)?
    {
        return Err(
            CoreError::forbidden("只能查看本人承办或顶岗接手的办件").param("op", "case.get")
        );
    }
    // A backup reads a handed-over case for good, but acts on it only during the takeover.
    let takeover = if owner || is_supervisor {
        None
    } else {
        super::delegation::acting_for(cx.tx, &me.staff_id, &row.owner_id)?
    };
    let may_act = owner || is_supervisor || takeover.is_some();
    let log = store::events(cx.tx, id)?;
    let settings_day = business_day(cx.tx, &settings)?;
    let cal = cx.calendar()?;
    let mut case = checked(&row, &log, &cal, &settings_day, cx.now);
    case.on_behalf_of = takeover.map(|t| t.owner_name);
    // A case whose log the state machine refuses is shown, but nothing more can be done to it
    // until it is put right: any new event would be refused as well.
    let state = match case.problem {
        None => Some(events::replay(&log)?),
        Some(_) => None,
    };
    let mut allowed = match &state {
        Some(_) if may_act => allowed_actions(&log)?,
        _ => vec![],
    };
    let extended = state.as_ref().map_or(0, |s| s.extended_days);
    if row.extension_days.saturating_sub(extended) == 0 {
        allowed.retain(|a| a != "request_extension");
    }
    Ok(CaseDetail {
        applicant_id_number: validate::mask_id(&row.applicant_id_number),
        applicant_phone: validate::mask_phone(&row.applicant_phone),
        may_decide_extension: is_supervisor
            && state
                .as_ref()
                .is_some_and(|s| s.pending_extension.is_some()),
        extension_left: row.extension_days.saturating_sub(extended),
        allowed,
        case,
        events: log,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCase {
    pub id: String,
}

impl Operation for GetCase {
    const NAME: &'static str = "case.get";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = CaseDetail;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseDetail> {
        let id = validate::id("id", "办件", &self.id)?;
        detail(cx, &id)
    }
}

/// The applicant's full ID number and phone, for the work that needs them (calling the
/// applicant, checking an original). Only those who may see the case; every view is logged in
/// the audit log (个人信息保护法 art. 51: access control and records of processing).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RevealApplicant {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RevealedApplicant {
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

impl Operation for RevealApplicant {
    const NAME: &'static str = "case.reveal";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = RevealedApplicant;
    fn run(self, cx: &mut Cx<'_>) -> Result<RevealedApplicant> {
        let id = validate::id("id", "办件", &self.id)?;
        // The same rule as reading the case: its owner, a backup it was carried to, supervisors.
        let d = detail(cx, &id)?;
        let settings = load_settings(cx.tx)?;
        let row = store::get(cx.tx, &id, settings.thresholds)?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "case",
                Some(&id),
                format!("查看办件 {} 申请人的完整身份证件号码和电话", d.case.number),
            ),
        )?;
        Ok(RevealedApplicant {
            name: row.applicant_name,
            id_number: row.applicant_id_number,
            phone: row.applicant_phone,
        })
    }
}

/// Which cases a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseScope {
    /// The signed-in clerk's own cases.
    Mine,
    /// Every case in the hall (supervisors).
    Hall,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListCases {
    pub scope: CaseScope,
    /// Only cases whose clocks still run (accepted, in progress, suspended).
    pub open_only: bool,
    #[serde(default)]
    pub level: Option<WarningLevel>,
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    /// Case number or applicant name contains this.
    #[serde(default)]
    pub query: Option<String>,
}

/// Cases with live deadlines, most urgent first.
fn list(cx: &Cx<'_>, req: &ListCases) -> Result<Vec<CaseSummary>> {
    let me = cx.actor.staff()?.clone();
    if req.scope == CaseScope::Hall && me.role < Role::Supervisor {
        return Err(CoreError::forbidden("查看全厅办件需要分管领导权限").param("op", "case.list"));
    }
    let settings = load_settings(cx.tx)?;
    let day = business_day(cx.tx, &settings)?;
    let cal = cx.calendar()?;
    let mut sql = format!("{} WHERE 1 = 1", store::CASE_SELECT);
    let mut args: Vec<String> = vec![];
    // Mine: my own cases, and those of clerks I stand in for (代办).
    let standing_in = super::delegation::owners_of(cx.tx, &me.staff_id)?;
    if req.scope == CaseScope::Mine {
        args.push(me.staff_id.clone());
        let mut owners = vec![format!("?{}", args.len())];
        for a in &standing_in {
            args.push(a.clone());
            owners.push(format!("?{}", args.len()));
        }
        sql.push_str(&format!(" AND c.owner_id IN ({})", owners.join(", ")));
    }
    if req.open_only {
        sql.push_str(" AND c.status IN ('accepted', 'in_progress', 'suspended')");
    }
    if let Some(item) = req.item_id.as_deref().filter(|s| !s.is_empty()) {
        args.push(validate::id("item_id", "事项", item)?);
        sql.push_str(&format!(" AND c.item_id = ?{}", args.len()));
    }
    if let Some(owner) = req.owner_id.as_deref().filter(|s| !s.is_empty()) {
        args.push(validate::id("owner_id", "承办人", owner)?);
        sql.push_str(&format!(" AND c.owner_id = ?{}", args.len()));
    }
    if let Some(q) = req
        .query
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let q = validate::text("query", "查询", q, 40)?;
        args.push(format!("%{q}%"));
        // Case-insensitive on both: SQLite's LIKE, PostgreSQL's ILIKE.
        sql.push_str(&format!(
            " AND (c.number {like} ?{n} OR c.applicant_name {like} ?{n})",
            like = cx.tx.pick("LIKE", "ILIKE"),
            n = args.len()
        ));
    }
    sql.push_str(" ORDER BY c.accepted_at DESC LIMIT 2000");
    let mut stmt = cx.tx.prepare(&sql)?;
    let rows = stmt
        .query_map(args.as_slice(), |r| store::case_row(r, settings.thresholds))?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    let mut out = vec![];
    for row in rows {
        let log = store::events(cx.tx, &row.id)?;
        let mut c = checked(&row, &log, &cal, &day, cx.now);
        if req.level.is_some_and(|l| l != c.deadlines.level) {
            continue;
        }
        if standing_in.contains(&c.owner_id) {
            c.on_behalf_of = Some(c.owner_name.clone());
        }
        out.push(c);
    }
    out.sort_by(|a, b| {
        let open = |c: &CaseSummary| !c.status.is_open();
        (
            open(a),
            std::cmp::Reverse(a.deadlines.level),
            a.deadlines.promised.due_at,
        )
            .cmp(&(
                open(b),
                std::cmp::Reverse(b.deadlines.level),
                b.deadlines.promised.due_at,
            ))
    });
    Ok(out)
}

impl Operation for ListCases {
    const NAME: &'static str = "case.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<CaseSummary>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<CaseSummary>> {
        list(cx, &self)
    }
}

/// Open cases counted by level, for one clerk or one item.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct LevelCounts {
    pub key: String,
    pub name: String,
    pub open: u32,
    pub reminder: u32,
    pub yellow: u32,
    pub red: u32,
    pub severe: u32,
    pub paused: u32,
    pub pending_extensions: u32,
}

impl LevelCounts {
    fn add(&mut self, c: &CaseSummary) {
        self.open += 1;
        match c.deadlines.level {
            WarningLevel::Reminder => self.reminder += 1,
            WarningLevel::Yellow => self.yellow += 1,
            WarningLevel::Red => self.red += 1,
            WarningLevel::Severe => self.severe += 1,
            WarningLevel::None => {}
        }
        self.paused += u32::from(c.deadlines.paused);
        self.pending_extensions += u32::from(c.pending_extension.is_some());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseBoard {
    /// Every open case, red and yellow first.
    pub cases: Vec<CaseSummary>,
    pub total: LevelCounts,
    pub by_clerk: Vec<LevelCounts>,
    pub by_item: Vec<LevelCounts>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCaseBoard {}

impl Operation for GetCaseBoard {
    const NAME: &'static str = "case.board";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = CaseBoard;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseBoard> {
        let cases = list(
            cx,
            &ListCases {
                scope: CaseScope::Hall,
                open_only: true,
                level: None,
                item_id: None,
                owner_id: None,
                query: None,
            },
        )?;
        let mut total = LevelCounts {
            key: "all".into(),
            name: "全厅".into(),
            ..Default::default()
        };
        let mut by_clerk: BTreeMap<String, LevelCounts> = BTreeMap::new();
        let mut by_item: BTreeMap<String, LevelCounts> = BTreeMap::new();
        for c in &cases {
            total.add(c);
            by_clerk
                .entry(c.owner_id.clone())
                .or_insert_with(|| LevelCounts {
                    key: c.owner_id.clone(),
                    name: c.owner_name.clone(),
                    ..Default::default()
                })
                .add(c);
            by_item
                .entry(c.item_id.clone())
                .or_insert_with(|| LevelCounts {
                    key: c.item_id.clone(),
                    name: c.item_name.clone(),
                    ..Default::default()
                })
                .add(c);
        }
        let rank = |v: BTreeMap<String, LevelCounts>| {
            let mut v: Vec<_> = v.into_values().collect();
            v.sort_by_key(|c| {
                (
                    std::cmp::Reverse((c.severe, c.red, c.yellow, c.reminder)),
                    c.name.clone(),
                )
            });
            v
        };
        Ok(CaseBoard {
            cases,
            total,
            by_clerk: rank(by_clerk),
            by_item: rank(by_item),
        })
    }
}

/// A delivered deadline alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseAlert {
    pub id: String,
    pub case_id: String,
    pub case_number: String,
    pub item_name: String,
    pub owner_id: String,
    pub level: WarningLevel,
    pub raised_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

const ALERT_SELECT: &str =
    "SELECT a.id, a.case_id, c.number, i.name, c.owner_id, a.level, a.raised_at, a.delivered_at
    FROM case_alerts a JOIN cases c ON c.id = a.case_id JOIN service_items i ON i.id = c.item_id";

fn alert_row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<CaseAlert> {
    Ok(CaseAlert {
        id: r.get(0)?,
        case_id: r.get(1)?,
        case_number: r.get(2)?,
        item_name: r.get(3)?,
        owner_id: r.get(4)?,
        level: WarningLevel::parse(&r.get::<_, String>(5)?),
        raised_at: from_ms(r.get(6)?),
        delivered_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
    })
}

/// Mark alerts whose business moment has come as delivered, and return them (closed cases'
/// alerts are dropped silently: nothing is left to warn about).
pub fn deliver_due_alerts(tx: &Tx<'_>, now: Timestamp) -> Result<Vec<CaseAlert>> {
    let mut stmt = tx.prepare(&format!(
        "{ALERT_SELECT} WHERE a.delivered_at IS NULL AND a.deliver_at <= ?1 ORDER BY a.raised_at"
    ))?;
    let due = stmt
        .query_map([to_ms(now)], alert_row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    tx.execute(
        "UPDATE case_alerts SET delivered_at = ?1 WHERE delivered_at IS NULL AND deliver_at <= ?1",
        [to_ms(now)],
    )?;
    let open: Vec<String> = {
        let mut s = tx.prepare(
            "SELECT id FROM cases WHERE status IN ('accepted', 'in_progress', 'suspended')",
        )?;
        s.query_map([], |r| r.get(0))?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?
    };
    Ok(due
        .into_iter()
        .filter(|a| open.contains(&a.case_id))
        .map(|mut a| {
            a.delivered_at = Some(now);
            a
        })
        .collect())
}

/// Delivered, not yet dismissed alerts: a clerk's own cases; every case for a supervisor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListAlerts {}

impl Operation for ListAlerts {
    const NAME: &'static str = "case.alerts";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<CaseAlert>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<CaseAlert>> {
        let me = cx.actor.staff()?.clone();
        let mut stmt = cx.tx.prepare(&format!(
            "{ALERT_SELECT} WHERE a.delivered_at IS NOT NULL AND a.dismissed_at IS NULL
               AND c.status IN ('accepted', 'in_progress', 'suspended')
               AND (?1 OR c.owner_id = ?2 OR c.owner_id IN
                    (SELECT owner_id FROM case_delegations WHERE status = 'acting' AND delegate_id = ?2))
             ORDER BY a.raised_at DESC LIMIT 50"
        ))?;
        Ok(stmt
            .query_map(params![me.role >= Role::Supervisor, me.staff_id], alert_row)?
            .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DismissAlert {
    pub id: String,
}

impl Operation for DismissAlert {
    const NAME: &'static str = "case.dismiss_alert";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = ();
    fn run(self, cx: &mut Cx<'_>) -> Result<()> {
        let me = cx.actor.staff()?.clone();
        let id = validate::id("id", "预警", &self.id)?;
        let alert = cx
            .tx
            .query_row(&format!("{ALERT_SELECT} WHERE a.id = ?1"), [&id], alert_row)
            .map_err(|_| CoreError::not_found("预警", &id))?;
        if alert.owner_id != me.staff_id
            && me.role < Role::Supervisor
            && super::delegation::acting_for(cx.tx, &me.staff_id, &alert.owner_id)?.is_none()
        {
            return Err(
                CoreError::forbidden("只能处理本人办件的预警").param("op", "case.dismiss_alert")
            );
        }
        cx.tx.execute(
            "UPDATE case_alerts SET dismissed_at = ?1, dismissed_by = ?2 WHERE id = ?3 AND dismissed_at IS NULL",
            params![cx.ms(), me.staff_id, id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "case_alert",
                Some(&id),
                format!("已阅预警：{} {}", alert.case_number, alert.level.label()),
            ),
        )?;
        Ok(())
    }
}
