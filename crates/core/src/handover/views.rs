//! Reading handovers: one sheet, the lists a clerk and a supervisor see, its PDF, and the
//! takeover figures for the annual assessment.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHandover {
    pub id: String,
}

impl Operation for GetHandover {
    const NAME: &'static str = "handover.get";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        sheet(cx, &validate::id("id", "交接单", &self.id)?)
    }
}

/// A handover as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverRef {
    pub id: String,
    pub number: String,
    pub post_id: String,
    pub post_name: String,
    pub absent_id: String,
    pub absent_name: String,
    pub taker_id: String,
    pub taker_name: String,
    pub kind: HandoverKind,
    pub status: HandoverStatus,
    pub reason: String,
    pub prepared_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub reported_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub cases: u32,
}

/// The caller's handovers (as A or B); every handover for supervisors. Newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListHandovers {
    /// Only those not yet returned or cancelled.
    #[serde(default)]
    pub open_only: bool,
}

impl Operation for ListHandovers {
    const NAME: &'static str = "handover.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<HandoverRef>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<HandoverRef>> {
        let me = cx.actor.staff()?.clone();
        let open = if self.open_only {
            " AND h.status IN ('prepared', 'active', 'reported')"
        } else {
            ""
        };
        let rows = store::select(
            cx.tx,
            &format!("(?1 OR h.absent_id = ?2 OR h.taker_id = ?2){open}"),
            &[&is_supervisor(&me), &me.staff_id],
        )?;
        rows.into_iter()
            .map(|h| {
                let cases: u32 = cx.tx.query_row(
                    "SELECT count(*) FROM handover_cases WHERE handover_id = ?1",
                    [&h.id],
                    |r| r.get(0),
                )?;
                Ok(HandoverRef {
                    id: h.id,
                    number: h.number,
                    post_id: h.post_id,
                    post_name: h.post_name,
                    absent_id: h.absent_id,
                    absent_name: h.absent_name,
                    taker_id: h.taker_id,
                    taker_name: h.taker_name,
                    kind: h.kind,
                    status: h.status,
                    reason: h.reason,
                    prepared_at: h.prepared_at,
                    started_at: h.started_at,
                    reported_at: h.reported_at,
                    returned_at: h.returned_at,
                    cases,
                })
            })
            .collect()
    }
}

/// The sheet (or, once reported, the hand-back report) as a PDF beside the database, with a
/// preview; printed like any notice.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverFile {
    pub id: String,
}

impl Operation for HandoverFile {
    const NAME: &'static str = "handover.file";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = crate::notices::ServiceCardFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<crate::notices::ServiceCardFile> {
        let s = sheet(cx, &validate::id("id", "交接单", &self.id)?)?;
        sheet_file(cx, &s)
    }
}

/// One clerk's AB-post figures over a period (annual assessment).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct TakeoverFigures {
    pub staff_id: String,
    pub name: String,
    /// Takeovers this clerk did (as B), started in the period.
    pub took_over: u32,
    /// Of those, emergencies.
    pub emergencies: u32,
    /// Times this clerk's post was taken over (as A).
    pub handed_over: u32,
    /// Distinct cases this clerk acted on for someone else.
    pub cases_on_behalf: u32,
    /// Actions taken on behalf (case events).
    pub actions_on_behalf: u32,
    /// Cases on this clerk's takeovers that ran past their promised deadline during the
    /// takeover (decided late, or still open and overdue when it ended).
    pub late_during: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHandoverFigures {
    /// First day (YYYY-MM-DD), inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
}

impl Operation for GetHandoverFigures {
    const NAME: &'static str = "handover.figures";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<TakeoverFigures>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<TakeoverFigures>> {
        let from = crate::calendar::parse_date("from", &self.from)?;
        let to = crate::calendar::parse_date("to", &self.to)?;
        if to < from {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "结束日期不能早于开始日期").field("to"),
            );
        }
        let start = to_ms(crate::kernel::clock::day_start(from)?);
        let end = to_ms(crate::kernel::clock::day_start(
            to.tomorrow()
                .map_err(|e| CoreError::internal(e.to_string()))?,
        )?);
        let mut by: std::collections::BTreeMap<String, TakeoverFigures> = Default::default();
        fn fig<'m>(
            by: &'m mut std::collections::BTreeMap<String, TakeoverFigures>,
            id: &str,
            name: &str,
        ) -> &'m mut TakeoverFigures {
            by.entry(id.to_owned()).or_insert_with(|| TakeoverFigures {
                staff_id: id.to_owned(),
                name: name.to_owned(),
                ..Default::default()
            })
        }
        let settings = crate::deadlines::load_settings(cx.tx)?;
        let day = crate::deadlines::business_day(cx.tx, &settings)?;
        let cal = cx.calendar()?;
        let handovers = store::select(
            cx.tx,
            "h.started_at >= ?1 AND h.started_at < ?2",
            &[&start, &end],
        )?;
        for h in &handovers {
            // Late during the takeover: each carried case, replayed up to the moment it ended.
            let until = h.reported_at.unwrap_or(cx.now);
            let mut late = 0;
            for l in store::lines(cx.tx, &h.id)? {
                let row = crate::cases::store::get(cx.tx, &l.case_id, settings.thresholds)?;
                let log: Vec<LoggedEvent> = crate::cases::store::events(cx.tx, &l.case_id)?
                    .into_iter()
                    .filter(|e| e.at <= until)
                    .collect();
                let d = crate::deadlines::compute(&log, &cal, &row.rules, &day, until)?;
                if d.timing == Some(Timing::Late) || (!d.stopped && d.promised.overdue) {
                    late += 1;
                }
            }
            let b = fig(&mut by, &h.taker_id, &h.taker_name);
            b.took_over += 1;
            b.emergencies += u32::from(h.kind == HandoverKind::Emergency);
            b.late_during += late;
            fig(&mut by, &h.absent_id, &h.absent_name).handed_over += 1;
        }
        let mut stmt = cx.tx.prepare(
            "SELECT e.actor_id, s.name, count(DISTINCT e.case_id), count(*) FROM case_events e
             JOIN staff s ON s.id = e.actor_id
             WHERE e.on_behalf_id IS NOT NULL AND e.at >= ?1 AND e.at < ?2 GROUP BY e.actor_id, s.name",
        )?;
        let rows = stmt
            .query_map(params![start, end], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })?
            .collect::<crate::kernel::store::StoreResult<Vec<(String, String, u32, u32)>>>()?;
        for (id, name, cases, actions) in rows {
            let f = fig(&mut by, &id, &name);
            f.cases_on_behalf = cases;
            f.actions_on_behalf = actions;
        }
        let mut out: Vec<TakeoverFigures> = by.into_values().collect();
        out.sort_by(|x, y| {
            (y.took_over, y.handed_over, &x.name).cmp(&(x.took_over, x.handed_over, &y.name))
        });
        Ok(out)
    }
}
