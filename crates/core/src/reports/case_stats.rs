//! The deadline board's period figures (`case.stats`): 按时办结率, 提前办结率, average working
//! days and trips per item and clerk — one computation with the reports, over the same case
//! facts ([`super::case_figures`]), so the board and the reports never disagree.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::error::Result;
use crate::kernel::op::{Access, Cx, Operation};

/// Completion figures for one item, one clerk, or the whole hall (the deadline board's period
/// figures: the decided cases of the reports, [`super::CaseRow`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct StatsRow {
    pub key: String,
    pub name: String,
    pub decided: u32,
    pub early: u32,
    pub on_time: u32,
    pub late: u32,
    /// 按时办结率: (early + on time) / decided, in percent.
    pub on_time_rate: Option<f64>,
    /// 提前办结率: early / decided, in percent.
    pub early_rate: Option<f64>,
    pub average_workdays: Option<f64>,
    /// Trips the applicants actually made per case (every visit of its application).
    pub average_visits: Option<f64>,
    /// The item's "visits needed" (item rows only).
    pub visits_needed: Option<u32>,
}

impl From<&super::CaseRow> for StatsRow {
    fn from(r: &super::CaseRow) -> Self {
        StatsRow {
            key: r.key.clone(),
            name: r.name.clone(),
            decided: r.decided,
            early: r.early,
            on_time: r.on_time,
            late: r.late,
            on_time_rate: r.on_time_rate,
            early_rate: r.early_rate,
            average_workdays: r.average_workdays,
            average_visits: r.average_visits,
            visits_needed: r.visits_needed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseStats {
    pub from: String,
    pub to: String,
    pub total: StatsRow,
    pub by_item: Vec<StatsRow>,
    pub by_clerk: Vec<StatsRow>,
}

/// Figures over cases decided between `from` and `to` (Beijing dates, inclusive).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCaseStats {
    pub from: String,
    pub to: String,
}

impl Operation for GetCaseStats {
    const NAME: &'static str = "case.stats";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = CaseStats;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseStats> {
        let scope = super::ReportFilter {
            from: self.from,
            to: self.to,
            ..Default::default()
        }
        .check(cx.tx)?;
        let f = super::case_figures(cx.tx, &scope)?;
        // Rows of decided cases only, most decided first.
        let rows = |rows: &[super::CaseRow]| {
            let mut v: Vec<StatsRow> = rows
                .iter()
                .filter(|r| r.decided > 0)
                .map(StatsRow::from)
                .collect();
            v.sort_by(|a, b| b.decided.cmp(&a.decided).then(a.name.cmp(&b.name)));
            v
        };
        Ok(CaseStats {
            from: scope.filter.from.clone(),
            to: scope.filter.to.clone(),
            total: StatsRow::from(&f.total),
            by_item: rows(&f.by_item),
            by_clerk: rows(&f.by_clerk),
        })
    }
}
