//! Aggregation of the period's facts into the figures halls report (see the module docs for
//! their definitions). Percentages are rounded to one decimal, minutes to one decimal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Period;
use super::facts::{CaseFact, TicketFact};
use crate::kernel::clock::{from_ms, hall_date};

/// Queue figures for one category, window, clerk or day (or the whole hall).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct QueueRow {
    pub key: String,
    pub name: String,
    pub issued: u32,
    pub served: u32,
    pub no_show: u32,
    /// Neither served nor no-show when the day closed (left, still waiting, on hold).
    pub unserved: u32,
    /// Tickets that were called (the waits below are over these).
    pub called: u32,
    pub avg_wait_minutes: Option<f64>,
    pub max_wait_minutes: Option<f64>,
    /// Called tickets that waited longer than the hall's target.
    pub over_target: u32,
    pub over_target_rate: Option<f64>,
    pub avg_service_minutes: Option<f64>,
    /// Days with at least one ticket served (clerk rows: the days the clerk worked).
    pub days_active: u32,
    /// 人均日办件 (clerk rows) or served per day (other rows): served ÷ days active.
    pub served_per_day: Option<f64>,
    /// 好差评 of these tickets that count (an upheld dispute takes one out).
    pub rated: u32,
    /// 非常满意 and 满意.
    pub satisfied: u32,
    /// 不满意 and 非常不满意.
    pub bad: u32,
    /// 满意率: satisfied ÷ rated, percent.
    pub satisfied_rate: Option<f64>,
    #[serde(skip)]
    #[ts(skip)]
    wait_sum: i64,
    #[serde(skip)]
    #[ts(skip)]
    wait_max: i64,
    #[serde(skip)]
    #[ts(skip)]
    service_sum: i64,
    #[serde(skip)]
    #[ts(skip)]
    service_n: u32,
    #[serde(skip)]
    #[ts(skip)]
    days: std::collections::BTreeSet<String>,
}

pub(crate) fn pct(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0)
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl QueueRow {
    pub(crate) fn new(key: impl Into<String>, name: impl Into<String>) -> Self {
        QueueRow {
            key: key.into(),
            name: name.into(),
            ..Default::default()
        }
    }
    pub(crate) fn add(&mut self, t: &TicketFact, target_secs: i64) {
        self.issued += 1;
        match t.status.as_str() {
            "done" => {
                self.served += 1;
                // A year's tickets fall on a few hundred days: copy a day only the first time.
                if !self.days.contains(&t.day) {
                    self.days.insert(t.day.clone());
                }
            }
            "no_show" => self.no_show += 1,
            _ => self.unserved += 1,
        }
        if let Some(w) = t.wait_secs() {
            self.called += 1;
            self.wait_sum += w;
            self.wait_max = self.wait_max.max(w);
            self.over_target += u32::from(w > target_secs);
        }
        if let Some(s) = t.service_secs() {
            self.service_sum += s;
            self.service_n += 1;
        }
        if let Some(r) = t.rating.as_ref().filter(|r| !r.excluded) {
            self.rated += 1;
            self.satisfied += u32::from(r.level >= 4);
            self.bad += u32::from(r.level <= 2);
        }
    }
    pub(crate) fn finish(mut self) -> Self {
        if self.called > 0 {
            self.avg_wait_minutes = Some(one_decimal(
                self.wait_sum as f64 / 60.0 / f64::from(self.called),
            ));
            self.max_wait_minutes = Some(one_decimal(self.wait_max as f64 / 60.0));
            self.over_target_rate = pct(self.over_target, self.called);
        }
        if self.service_n > 0 {
            self.avg_service_minutes = Some(one_decimal(
                self.service_sum as f64 / 60.0 / f64::from(self.service_n),
            ));
        }
        self.satisfied_rate = pct(self.satisfied, self.rated);
        self.days_active = self.days.len() as u32;
        if self.days_active > 0 {
            self.served_per_day = Some(one_decimal(
                f64::from(self.served) / f64::from(self.days_active),
            ));
        }
        self
    }
}

/// Case figures for one item, clerk or day (or the whole hall).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseRow {
    pub key: String,
    pub name: String,
    pub accepted: u32,
    /// 办结: a decision was made in the period.
    pub decided: u32,
    pub early: u32,
    pub on_time: u32,
    pub late: u32,
    /// 按时办结率: (early + on time) ÷ decided, percent.
    pub on_time_rate: Option<f64>,
    /// 提前办结率: early ÷ decided, percent.
    pub early_rate: Option<f64>,
    /// Open cases (accepted before the period's end) at yellow, red and past-statutory level
    /// when the report was made.
    pub open_yellow: u32,
    pub open_red: u32,
    pub open_severe: u32,
    /// Cases suspended (特别程序) or extended (延期) in the period.
    pub suspended: u32,
    pub extended: u32,
    /// Working days used per decided case.
    pub average_workdays: Option<f64>,
    /// Trips the applicant made per decided case, against the item's "visits needed".
    pub average_visits: Option<f64>,
    pub visits_needed: Option<u32>,
    /// Decided cases whose applicant came more often than the item needs.
    pub over_visits: u32,
    /// Cases acted on by a B post on someone's behalf in the period.
    pub on_behalf: u32,
    #[serde(skip)]
    #[ts(skip)]
    workdays_sum: u64,
    #[serde(skip)]
    #[ts(skip)]
    visits_sum: u64,
}

impl CaseRow {
    pub(crate) fn new(key: impl Into<String>, name: impl Into<String>) -> Self {
        CaseRow {
            key: key.into(),
            name: name.into(),
            ..Default::default()
        }
    }
    fn add_accepted(&mut self, c: &CaseFact, p: &Period) {
        self.accepted += u32::from(c.accepted_in(p));
    }
    fn add_decided(&mut self, c: &CaseFact, p: &Period) {
        if !c.decided_in(p) {
            return;
        }
        self.decided += 1;
        match c.timing.as_deref() {
            Some("early") => self.early += 1,
            Some("on_time") => self.on_time += 1,
            _ => self.late += 1,
        }
        self.workdays_sum += u64::from(c.workdays_used.unwrap_or(0));
        self.visits_sum += u64::from(c.visits);
        self.over_visits += u32::from(c.visits > c.visits_needed);
    }
    fn add_rest(&mut self, c: &CaseFact) {
        if c.is_open() {
            match c.level.as_str() {
                "yellow" => self.open_yellow += 1,
                "red" => self.open_red += 1,
                "severe" => self.open_severe += 1,
                _ => {}
            }
        }
        self.suspended += u32::from(c.suspended > 0);
        self.extended += u32::from(c.extended > 0);
        self.on_behalf += u32::from(c.on_behalf > 0);
    }
    pub(crate) fn add(&mut self, c: &CaseFact, p: &Period) {
        self.add_accepted(c, p);
        self.add_decided(c, p);
        self.add_rest(c);
    }
    pub(crate) fn finish(mut self) -> Self {
        if self.decided > 0 {
            let n = f64::from(self.decided);
            self.on_time_rate = pct(self.early + self.on_time, self.decided);
            self.early_rate = pct(self.early, self.decided);
            self.average_workdays = Some(one_decimal(self.workdays_sum as f64 / n));
            self.average_visits = Some(one_decimal(self.visits_sum as f64 / n));
        }
        self
    }
}

/// Ratings (好差评) of the period's tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RatingFigures {
    /// Ratings that count (an upheld dispute takes one out; see `excluded`).
    pub rated: u32,
    /// Finished visits nobody rated (未评价): never counted as satisfied.
    pub unrated: u32,
    /// 参评率: rated ÷ finished visits, percent.
    pub participation_rate: Option<f64>,
    /// Ratings taken out of the figures by an upheld dispute (kept on record).
    pub excluded: u32,
    /// Count per level, index 0 = level 1 (非常不满意) … index 4 = level 5 (非常满意).
    pub levels: Vec<u32>,
    /// 满意率: levels 4 and 5 ÷ rated, percent.
    pub satisfied_rate: Option<f64>,
    /// Bad ratings (levels 1–2) and their follow-ups.
    pub bad: u32,
    pub bad_open: u32,
    pub bad_closed: u32,
    /// 窗口好差评排名: the windows with ratings, best 满意率 first (then more ratings, fewer
    /// bad ones); a month's filter gives the monthly ranking halls publish.
    pub window_ranking: Vec<RankRow>,
    /// 实名差评回访率: bad ratings called back ÷ bad ratings, percent.
    pub callback_rate: Option<f64>,
    /// 整改按时率: rectifications closed by their due date ÷ closed, percent.
    pub rectified_on_time_rate: Option<f64>,
    pub bad_list: Vec<BadRating>,
}

/// One window's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RankRow {
    pub rank: u32,
    /// The window's id (the drill-down's filter).
    pub key: String,
    pub name: String,
    pub rated: u32,
    pub satisfied_rate: Option<f64>,
    pub bad: u32,
}

/// Rank the window rows by 满意率 (ties share a rank).
pub(crate) fn window_ranking(rows: &[QueueRow]) -> Vec<RankRow> {
    let mut ranked: Vec<&QueueRow> = rows.iter().filter(|r| r.rated > 0).collect();
    let rate = |r: &QueueRow| r.satisfied_rate.unwrap_or(0.0);
    ranked.sort_by(|a, b| {
        rate(b)
            .total_cmp(&rate(a))
            .then(b.rated.cmp(&a.rated))
            .then(a.bad.cmp(&b.bad))
            .then(a.key.cmp(&b.key))
    });
    let mut out: Vec<RankRow> = Vec::with_capacity(ranked.len());
    for (i, r) in ranked.iter().enumerate() {
        let rank = match out.last() {
            Some(prev)
                if prev.satisfied_rate == r.satisfied_rate
                    && prev.rated == r.rated
                    && prev.bad == r.bad =>
            {
                prev.rank
            }
            _ => i as u32 + 1,
        };
        out.push(RankRow {
            rank,
            key: r.key.clone(),
            name: r.name.clone(),
            rated: r.rated,
            satisfied_rate: r.satisfied_rate,
            bad: r.bad,
        });
    }
    out
}

/// One bad rating and what was done about it (差评回访): the petition analysis of the monthly
/// report lists these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BadRating {
    pub ticket_id: String,
    pub number: String,
    pub day: String,
    pub level: u8,
    pub comment: String,
    pub rated_at: jiff::Timestamp,
    /// Where the rating was given (the window's pad, a kiosk…).
    pub channel: String,
    pub window_number: Option<u32>,
    pub staff_name: Option<String>,
    /// `open`, `closed`, or `none` (no follow-up recorded).
    pub followup: String,
    /// The reasons the applicant picked.
    pub reasons: Vec<String>,
    /// An upheld dispute took it out of the figures.
    pub excluded: bool,
    pub outcome: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<jiff::Timestamp>,
}

/// Queue rows per key (a category, window, clerk or day). `key` borrows the fact's key; `name`
/// is asked once per row. A year of a large hall is some 200,000 tickets grouped four ways, so
/// the grouping copies no string per ticket.
pub(crate) fn queue_rows<'f, K, N>(
    facts: &[&'f TicketFact],
    target_secs: i64,
    key: K,
    name: N,
) -> Vec<QueueRow>
where
    K: Fn(&'f TicketFact) -> Option<&'f str>,
    N: Fn(&TicketFact) -> String,
{
    let mut by: std::collections::HashMap<&str, QueueRow> = std::collections::HashMap::new();
    for t in facts {
        if let Some(k) = key(t) {
            by.entry(k)
                .or_insert_with(|| QueueRow::new(k, name(t)))
                .add(t, target_secs);
        }
    }
    let mut rows: Vec<QueueRow> = by.into_values().map(QueueRow::finish).collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// Case rows per key (a service item or a clerk), like [`queue_rows`].
pub(crate) fn case_rows<'f, K, N>(
    facts: &[&'f CaseFact],
    p: &Period,
    key: K,
    name: N,
) -> Vec<CaseRow>
where
    K: Fn(&'f CaseFact) -> &'f str,
    N: Fn(&CaseFact) -> String,
{
    let mut by: std::collections::HashMap<&str, CaseRow> = std::collections::HashMap::new();
    for c in facts {
        let k = key(c);
        let row = by.entry(k).or_insert_with(|| CaseRow::new(k, name(c)));
        row.add(c, p);
        row.visits_needed = Some(c.visits_needed);
    }
    let mut rows: Vec<CaseRow> = by.into_values().map(CaseRow::finish).collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// Cases per day: accepted on the day they were accepted, decided on the day of decision.
pub(crate) fn case_days(facts: &[&CaseFact], p: &Period) -> Vec<CaseRow> {
    // The hall's civil day of an instant, read from the time zone once per distinct UTC hour
    // (a year's 100,000 cases fall in a few thousand hours; the day of an instant depends only
    // on its hour wherever the offset is whole hours, as it is in Asia/Shanghai).
    let mut day_of_hour: std::collections::HashMap<i64, String> = Default::default();
    let mut day_of = |ms: i64| -> String {
        day_of_hour
            .entry(ms.div_euclid(3_600_000))
            .or_insert_with(|| hall_date(from_ms(ms)).to_string())
            .clone()
    };
    let mut out: BTreeMap<String, CaseRow> = BTreeMap::new();
    for c in facts {
        if c.accepted_in(p) {
            let d = day_of(c.accepted_at);
            out.entry(d.clone())
                .or_insert_with(|| CaseRow::new(d.clone(), d))
                .add_accepted(c, p);
        }
        if let Some(at) = c.decided_at.filter(|_| c.decided_in(p)) {
            let d = day_of(at);
            out.entry(d.clone())
                .or_insert_with(|| CaseRow::new(d.clone(), d))
                .add_decided(c, p);
        }
    }
    out.into_values().map(CaseRow::finish).collect()
}

pub(crate) fn ratings(
    facts: &[&TicketFact],
    cal: Option<&crate::calendar::WorkCalendar>,
) -> RatingFigures {
    let mut f = RatingFigures {
        levels: vec![0; 5],
        ..Default::default()
    };
    let (mut done, mut called_back, mut closed, mut closed_on_time) = (0u32, 0u32, 0u32, 0u32);
    for t in facts {
        if t.status == "done" {
            done += 1;
        }
        let Some(r) = &t.rating else {
            if t.status == "done" {
                f.unrated += 1;
            }
            continue;
        };
        if r.excluded {
            f.excluded += 1;
        } else {
            f.rated += 1;
            f.levels[usize::from(r.level - 1)] += 1;
        }
        if r.level <= 2 {
            f.bad += 1;
            let status = r.followup_status.clone().unwrap_or_else(|| "none".into());
            match status.as_str() {
                "open" => f.bad_open += 1,
                "closed" => f.bad_closed += 1,
                _ => {}
            }
            if r.verified_at.is_some() {
                called_back += 1;
            }
            if let (Some(c), Some(v), Some(d), Some(cal)) =
                (r.closed_at, r.verify_days, r.rectify_days, cal)
                && !r.excluded
            {
                let opened = crate::kernel::clock::hall_date(from_ms(r.at));
                if let Ok((due, _)) =
                    cal.add_workdays(opened, (v + d) as u32, crate::calendar::DayCount::NextDay)
                {
                    closed += 1;
                    if crate::kernel::clock::hall_date(from_ms(c)) <= due {
                        closed_on_time += 1;
                    }
                }
            }
            f.bad_list.push(BadRating {
                ticket_id: t.id.clone(),
                number: t.number.clone(),
                day: t.day.clone(),
                level: r.level,
                comment: r.comment.clone(),
                rated_at: from_ms(r.at),
                channel: crate::queue::RatingChannel::parse(&r.channel)
                    .label()
                    .to_owned(),
                window_number: t.window_number,
                staff_name: t.staff_name.clone(),
                followup: status,
                reasons: serde_json::from_str(&r.reasons).unwrap_or_default(),
                excluded: r.excluded,
                outcome: r.outcome.clone(),
                closed_by: r.closed_by.clone(),
                closed_at: r.closed_at.map(from_ms),
            });
        }
    }
    f.participation_rate = pct(f.rated + f.excluded, done);
    f.callback_rate = pct(called_back, f.bad);
    f.rectified_on_time_rate = pct(closed_on_time, closed);
    f.satisfied_rate = pct(f.levels[3] + f.levels[4], f.rated);
    f.bad_list.sort_by_key(|b| b.rated_at);
    f
}
