//! A generated history for a hall (the reports benchmark, the figure tests, the lively demo
//! of `make run`): years of tickets, ratings, follow-ups, cases with their event logs and
//! applications, in one transaction. Each capability's rows are written by that capability's
//! own functions (`queue::past`, `cases::store::insert_past`, `applications::insert_past`), and
//! every case event goes through the case state machine, its derived columns through the
//! deadline function: the history is one the operations could have written. It runs on a database that already holds a hall (the
//! demo hall), uses its categories, windows, clerks and items, and follows the working-day
//! calendar. Deterministic for a seed.
//!
//! It returns what it generated ([`Generated`]) so that tests can compute the figures they
//! expect independently of the report code. Ticket step logs (`ticket_events`) are not
//! generated: no report reads them.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::applications::PastApplication;
use crate::calendar::CalendarOf;
use crate::calendar::DayCount;
use crate::cases::store::PastCase;
use crate::deadlines::events::{
    self, AcceptBasis, CaseEvent, DecisionOutcome, LoggedEvent, SuspendReason,
};
use crate::deadlines::{self, ItemRules, Thresholds};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{day_start, to_ms};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::numbers;
use crate::kernel::store::Store;
use crate::queue::past::{PastRating, PastTicket};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct HistorySpec {
    /// The first and last day (inclusive); only working days get tickets and cases.
    pub from: Date,
    pub to: Date,
    pub tickets: u64,
    pub cases: u64,
    pub seed: u64,
    /// Keep the generated records in [`Generated`] (tests); off for millions of rows.
    pub keep: bool,
}

#[derive(Debug, Clone)]
pub struct GenTicket {
    pub day: Date,
    pub category_id: String,
    pub window_id: Option<String>,
    pub staff_id: Option<String>,
    /// `done`, `no_show` or `waiting` (left without being called).
    pub status: &'static str,
    pub wait_secs: Option<i64>,
    pub service_secs: Option<i64>,
    pub rating: Option<u8>,
    /// For bad ratings: whether the follow-up was closed.
    pub followup_closed: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct GenCase {
    pub id: String,
    pub item_id: String,
    pub owner_id: String,
    pub accepted_day: Date,
    pub decided_day: Option<Date>,
    /// `early`, `on_time`, `late` (decided cases).
    pub timing: Option<&'static str>,
    /// Working days the case took (decided cases), as the deadline function counts them.
    pub workdays: u32,
    pub visits: u32,
    pub visits_needed: u32,
    pub suspended_day: Option<Date>,
    pub extended_day: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub tickets: u64,
    pub cases: u64,
    pub ticket_rows: Vec<GenTicket>,
    pub case_rows: Vec<GenCase>,
}

/// SplitMix64: small, fast and good enough to spread synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// A value in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Item {
    id: String,
    name: String,
    promised: u32,
    visits_needed: u32,
    rules: ItemRules,
    extension_days: u32,
}

const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["建国", "秀英", "伟", "芳", "娜", "敏", "静", "磊"];

fn id_number(rng: &mut Rng) -> String {
    let first17 = format!(
        "330106{:04}{:02}{:02}{:03}",
        1950 + rng.below(50),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(1000)
    );
    let check = crate::kernel::validate::gb11643_check(&first17);
    format!("{first17}{check}")
}

/// A case's log as it is generated: each event is checked by the case state machine
/// ([`events::step`]) before it is kept, exactly as `cases::store::append` checks an operation's.
#[derive(Default)]
struct CaseLog {
    events: Vec<LoggedEvent>,
    actors: Vec<String>,
    state: Option<events::Replay>,
}

impl CaseLog {
    fn push(
        &mut self,
        event: CaseEvent,
        at: Timestamp,
        (actor_id, actor_name): (&str, &str),
    ) -> Result<()> {
        let next = events::step(self.state.take(), &event).map_err(|e| {
            CoreError::internal(format!("历史数据生成了不合规的办件记录：{}", e.message))
        })?;
        self.state = Some(next);
        self.events.push(LoggedEvent {
            seq: self.events.len() as u32 + 1,
            at,
            actor_name: actor_name.to_owned(),
            event,
        });
        self.actors.push(actor_id.to_owned());
        Ok(())
    }

    fn status(&self) -> Result<events::CaseStatus> {
        self.state
            .as_ref()
            .map(|s| s.status)
            .ok_or_else(|| CoreError::internal("办件没有任何事件"))
    }
}

fn at(day: Date, minute: i64) -> Result<Timestamp> {
    Ok(day_start(day)? + SignedDuration::from_mins(minute))
}

/// Generate a history (see the module docs). Appends one audit row.
pub fn generate(store: &Store, spec: HistorySpec, now: Timestamp) -> Result<Generated> {
    let (out, _) = store.system_job(
        "历史数据生成",
        "report.generate_history",
        now,
        true,
        |cx| generate_in(cx, spec),
    )?;
    Ok(out)
}

fn generate_in(cx: &mut crate::kernel::op::Cx<'_>, spec: HistorySpec) -> Result<Generated> {
    let tx = cx.tx;
    let cal = cx.calendar()?;
    let mut rng = Rng(spec.seed);
    let hall = crate::hall::load_hall(tx)?;

    let categories: Vec<(String, String)> = tx
        .prepare("SELECT id, prefix FROM categories WHERE active = 1 ORDER BY prefix")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let staff: Vec<(String, String)> = tx
        .prepare("SELECT id, name FROM staff WHERE role = 'clerk' AND active = 1 ORDER BY created_at, id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let clerks: Vec<String> = staff.iter().map(|(id, _)| id.clone()).collect();
    let supervisor: Option<(String, String)> = tx
        .prepare("SELECT id, name FROM staff WHERE role IN ('supervisor', 'admin') ORDER BY role DESC, login LIMIT 1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .next()
        .transpose()?;
    let windows: Vec<String> = tx
        .prepare("SELECT id FROM windows WHERE active = 1 ORDER BY number")?
        .query_map([], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut serving: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    {
        let mut stmt = tx.prepare(
            "SELECT wc.category_id, wc.window_id FROM window_categories wc JOIN windows w ON w.id = wc.window_id
             WHERE w.active = 1 ORDER BY w.number",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (cat, win) = row?;
            let i = windows.iter().position(|w| *w == win).unwrap_or(0);
            let clerk = clerks[i % clerks.len().max(1)].clone();
            serving.entry(cat).or_default().push((win, clerk));
        }
    }
    let settings = crate::deadlines::load_settings(tx)?;
    let business_day = crate::deadlines::business_day(tx, &settings)?;
    let items: Vec<Item> = tx
        .prepare(
            "SELECT id, promised_days, visits_needed, statutory_days, reminder_days, yellow_days,
                    red_days, extension_days, name
             FROM service_items WHERE active = 1 ORDER BY code",
        )?
        .query_map([], |r| {
            let own: (Option<u32>, Option<u32>, Option<u32>) = (r.get(4)?, r.get(5)?, r.get(6)?);
            let thresholds = match own {
                (Some(reminder_days), Some(yellow_days), Some(red_days)) => Thresholds {
                    reminder_days,
                    yellow_days,
                    red_days,
                },
                _ => settings.thresholds,
            };
            Ok(Item {
                id: r.get(0)?,
                name: r.get(8)?,
                promised: r.get(1)?,
                visits_needed: r.get(2)?,
                rules: ItemRules {
                    statutory_days: r.get(3)?,
                    promised_days: r.get(1)?,
                    thresholds,
                },
                extension_days: r.get(7)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    if categories.is_empty() || clerks.is_empty() || items.is_empty() || windows.is_empty() {
        return Err(CoreError::internal(
            "生成历史数据需要已有业务类别、窗口、工作人员和事项（先建演示大厅）",
        ));
    }

    let mut days = vec![];
    let mut d = spec.from;
    while d <= spec.to {
        if cal.is_workday(d)? {
            days.push(d);
        }
        d = d
            .tomorrow()
            .map_err(|e| CoreError::internal(e.to_string()))?;
    }
    if days.is_empty() {
        return Err(CoreError::internal("所选区间没有工作日"));
    }
    let mut out = Generated::default();
    let n_days = days.len() as u64;

    for (di, day) in days.iter().enumerate() {
        let n = spec.tickets / n_days + u64::from((di as u64) < spec.tickets % n_days);
        let mut seqs: BTreeMap<usize, u32> = BTreeMap::new();
        let day_s = day.to_string();
        for _ in 0..n {
            let ci = rng.below(categories.len() as u64) as usize;
            let (cat, prefix) = &categories[ci];
            let seq = seqs.entry(ci).or_insert(0);
            *seq += 1;
            let issued = at(*day, 9 * 60 + rng.below(450) as i64)?
                + SignedDuration::from_secs(rng.below(60) as i64);
            let roll = rng.unit();
            let status = if roll < 0.91 {
                "done"
            } else if roll < 0.97 {
                "no_show"
            } else {
                "waiting"
            };
            let slot = serving
                .get(cat)
                .and_then(|v| v.get(rng.below(v.len() as u64) as usize).cloned());
            let (wait, service) = match status {
                "waiting" => (None, None),
                _ => {
                    let u = rng.unit();
                    let wait = (u * u * 45.0 * 60.0) as i64;
                    let service = if status == "done" {
                        Some(180 + rng.below(17 * 60) as i64)
                    } else {
                        None
                    };
                    (Some(wait), service)
                }
            };
            let called = wait.map(|w| issued + SignedDuration::from_secs(w));
            let started = service
                .and(called)
                .map(|c| c + SignedDuration::from_secs(30));
            let finished =
                service.and_then(|s| started.map(|st| st + SignedDuration::from_secs(s)));
            let (win, clerk) = match (&slot, called) {
                (Some((w, c)), Some(_)) => (Some(w.clone()), Some(c.clone())),
                _ => (None, None),
            };
            let id = new_id();
            crate::queue::past::insert_ticket(
                tx,
                &PastTicket {
                    id: &id,
                    day: &day_s,
                    category_id: cat,
                    seq: *seq,
                    number: &format!("{prefix}{:03}", *seq),
                    status,
                    issued_at: to_ms(issued),
                    called_at: called.map(to_ms),
                    started_at: started.map(to_ms),
                    finished_at: finished.map(to_ms),
                    window_id: win.as_deref(),
                    staff_id: clerk.as_deref(),
                },
            )?;
            let mut rating = None;
            let mut followup_closed = None;
            if status == "done" && rng.unit() < 0.4 {
                let r = rng.unit();
                let level: u8 = if r < 0.02 {
                    1
                } else if r < 0.05 {
                    2
                } else if r < 0.15 {
                    3
                } else if r < 0.5 {
                    4
                } else {
                    5
                };
                let rated = finished.unwrap_or(issued) + SignedDuration::from_secs(20);
                crate::queue::past::insert_rating(
                    tx,
                    &PastRating {
                        ticket_id: &id,
                        level,
                        comment: if level <= 2 { "等候时间较长" } else { "" },
                        window_id: win.as_deref(),
                        staff_id: clerk.as_deref(),
                        rated_at: to_ms(rated),
                    },
                )?;
                if level <= 2 {
                    // A hall that has run a while has followed up its old bad ratings; the
                    // last two weeks' are partly still open (some overdue).
                    let recent = days.len() - di <= 10;
                    let draw = rng.unit();
                    let closed = !recent || draw < 0.6;
                    crate::queue::past::insert_followup(
                        tx,
                        &id,
                        to_ms(rated),
                        closed.then(|| {
                            (
                                to_ms(rated + SignedDuration::from_hours(26)),
                                supervisor.as_ref().map(|s| s.0.as_str()),
                                "已电话回访，说明高峰时段情况并致歉",
                            )
                        }),
                    )?;
                    followup_closed = Some(closed);
                }
                rating = Some(level);
            }
            out.tickets += 1;
            if spec.keep {
                out.ticket_rows.push(GenTicket {
                    day: *day,
                    category_id: cat.clone(),
                    window_id: win,
                    staff_id: clerk,
                    status,
                    wait_secs: wait,
                    service_secs: service,
                    rating,
                    followup_closed,
                });
            }
        }
    }

    let templates = crate::messages::PastTemplates::load(tx)?;
    let mut counters: BTreeMap<(&'static str, i16), i64> = BTreeMap::new();
    let mut next = |scope: &'static str, year: i16| {
        let v = counters.entry((scope, year)).or_insert(0);
        *v += 1;
        *v
    };
    // Continue after numbers already handed out (a hall with real cases).
    let base = |scope: &str, year: i16| numbers::current(tx, scope, &year.to_string());
    let mut bases: BTreeMap<(&'static str, i16), i64> = BTreeMap::new();
    for (di, day) in days.iter().enumerate() {
        let n = spec.cases / n_days + u64::from((di as u64) < spec.cases % n_days);
        for _ in 0..n {
            let item = &items[rng.below(items.len() as u64) as usize];
            let (owner, owner_name) = &staff[rng.below(staff.len() as u64) as usize];
            let window = &windows[rng.below(windows.len() as u64) as usize];
            let accepted = at(*day, 9 * 60 + rng.below(450) as i64)?;
            let r = rng.unit();
            let workdays = if item.promised == 0 {
                0
            } else if r < 0.7 {
                rng.below(u64::from(item.promised)) as u32
            } else if r < 0.95 {
                item.promised
            } else {
                item.promised + 1 + rng.below(3) as u32
            };
            let (decided_day, _) = cal.add_workdays(*day, workdays, DayCount::NextDay)?;
            let decided = (decided_day <= spec.to).then_some(decided_day);
            let year = day.year();
            let b = match bases.get(&("case", year)) {
                Some(b) => *b,
                None => {
                    let b = base("case", year)?;
                    bases.insert(("case", year), b);
                    b
                }
            };
            let number = format!("{}-{year}-{:06}", hall.code, b + next("case", year));
            let name = format!(
                "{}{}",
                SURNAMES[rng.below(8) as usize],
                GIVEN[rng.below(8) as usize]
            );
            let idn = id_number(&mut rng);
            let phone = format!("139{:08}", rng.below(100_000_000));
            let id = new_id();

            // The log, built through the same state machine as the operations: an event the
            // domain would refuse is a bug of the generator, not data.
            let mut log = CaseLog::default();
            let clerk = (owner.as_str(), owner_name.as_str());
            log.push(
                CaseEvent::Accepted {
                    received_at: accepted,
                    basis: AcceptBasis::Direct,
                },
                accepted,
                clerk,
            )?;
            log.push(
                CaseEvent::Started,
                accepted + SignedDuration::from_mins(5),
                clerk,
            )?;
            let mut suspended_day = None;
            let mut extended_day = None;
            let last = decided.unwrap_or(spec.to);
            if rng.unit() < 0.05 && last > *day {
                let t = accepted + SignedDuration::from_mins(30);
                log.push(
                    CaseEvent::Suspended {
                        reason: SuspendReason::ExpertReview,
                        expected_days: 3,
                        note: "组织专家评审".into(),
                    },
                    t,
                    clerk,
                )?;
                log.push(
                    CaseEvent::Resumed {
                        note: "评审完成".into(),
                    },
                    t + SignedDuration::from_mins(60),
                    clerk,
                )?;
                suspended_day = Some(*day);
            }
            // An extension is requested by the clerk and approved by a supervisor (行政许可法
            // art. 42), never more than the item allows.
            let extend = item.extension_days.min(5);
            if rng.unit() < 0.03
                && last > *day
                && extend > 0
                && let Some((sup_id, sup_name)) = &supervisor
            {
                let t = accepted + SignedDuration::from_mins(120);
                log.push(
                    CaseEvent::ExtensionRequested {
                        days: extend,
                        reason: "需现场核查".into(),
                    },
                    t,
                    clerk,
                )?;
                log.push(
                    CaseEvent::Extended {
                        days: extend,
                        reason: "需现场核查".into(),
                        applicant_told: true,
                    },
                    t + SignedDuration::from_mins(60),
                    (sup_id.as_str(), sup_name.as_str()),
                )?;
                extended_day = Some(*day);
            }
            if let Some(dd) = decided {
                let t = at(dd, 15 * 60)?.max(accepted + SignedDuration::from_mins(180));
                log.push(
                    CaseEvent::Decided {
                        outcome: DecisionOutcome::Approved,
                        note: String::new(),
                    },
                    t,
                    clerk,
                )?;
                log.push(
                    CaseEvent::Completed {
                        note: "已送达".into(),
                    },
                    t + SignedDuration::from_mins(10),
                    clerk,
                )?;
            }
            // The cached columns are what the deadline function says of the log, as
            // `cases::refresh_with` stores them for a case worked through the operations.
            let d = deadlines::compute(&log.events, &cal, &item.rules, &business_day, cx.now)?;
            let status = log.status()?;
            let logged: Vec<(LoggedEvent, String)> = log
                .events
                .iter()
                .cloned()
                .zip(log.actors.iter().cloned())
                .collect();
            crate::cases::store::insert_past(
                tx,
                &PastCase {
                    id: &id,
                    number: &number,
                    item_id: &item.id,
                    applicant: (&name, &idn, &phone),
                    window_id: window,
                    owner_id: owner,
                    accepted_at: accepted,
                    status,
                    derived: &d,
                },
                &logged,
            )?;
            // The messages its applicant was sent, as the operations queue them; on the
            // second-last working day the SMS platform was down and a few failed for good, for a
            // supervisor to send again (no draw of the generator: the rest of the history is
            // unchanged).
            let item_vars = [("case", number.clone()), ("item", item.name.clone())];
            let down_day = days.len().checked_sub(2).map(|i| days[i]);
            let sent = |m: i64,
                        at: Timestamp|
             -> std::result::Result<SignedDuration, &'static str> {
                if Some(crate::kernel::clock::hall_date(at)) == down_day && number.ends_with('7') {
                    Err("网关返回 503：短信平台维护中")
                } else {
                    Ok(SignedDuration::from_secs(3 + m))
                }
            };
            for (seq, e) in log.events.iter().enumerate() {
                let (kind, extra): (&str, Vec<(&str, String)>) = match &e.event {
                    // The promised date as it stood at acceptance (before any extension).
                    CaseEvent::Accepted { .. } => (
                        "case.accepted",
                        vec![(
                            "promised",
                            deadlines::compute(
                                &log.events[..1],
                                &cal,
                                &item.rules,
                                &business_day,
                                accepted,
                            )
                            .map(|a| crate::messages::cn_date(a.promised.due_date))
                            .unwrap_or_default(),
                        )],
                    ),
                    CaseEvent::Suspended {
                        reason,
                        expected_days,
                        ..
                    } => (
                        "case.suspended",
                        vec![
                            ("reason", reason.label().to_owned()),
                            ("days", expected_days.to_string()),
                        ],
                    ),
                    CaseEvent::Extended { days, reason, .. } => (
                        "case.extended",
                        vec![("days", days.to_string()), ("reason", reason.clone())],
                    ),
                    CaseEvent::Decided { .. } => ("case.decided", vec![]),
                    _ => continue,
                };
                let mut vars = item_vars.to_vec();
                vars.extend(extra);
                let cause = if kind == "case.accepted" {
                    id.clone()
                } else {
                    format!("{id}:{}", seq + 1)
                };
                crate::messages::past(
                    tx,
                    &templates,
                    kind,
                    &phone,
                    &format!("{kind}:{cause}"),
                    &vars,
                    (e.at, sent(seq as i64, e.at)),
                )?;
            }
            let r = rng.unit();
            let visits = if r < 0.8 {
                1
            } else if r < 0.97 {
                2
            } else {
                3
            };
            let ab = match bases.get(&("application", year)) {
                Some(b) => *b,
                None => {
                    let b = base("application", year)?;
                    bases.insert(("application", year), b);
                    b
                }
            };
            crate::applications::insert_past(
                tx,
                &PastApplication {
                    number: &format!(
                        "{}-SQ-{year}-{:06}",
                        hall.code,
                        ab + next("application", year)
                    ),
                    item_id: &item.id,
                    applicant: (&name, &idn, &phone),
                    window_id: window,
                    clerk_id: owner,
                    received_at: accepted,
                    notice_due: &day.to_string(),
                    outcome: if visits > 1 {
                        "after_supplement"
                    } else {
                        "direct"
                    },
                    case_id: &id,
                    visits,
                },
            )?;
            out.cases += 1;
            if spec.keep {
                out.case_rows.push(GenCase {
                    id,
                    item_id: item.id.clone(),
                    owner_id: owner.clone(),
                    accepted_day: *day,
                    decided_day: decided,
                    timing: d.timing.map(|t| t.as_str()),
                    workdays: d.workdays_used.unwrap_or(0),
                    visits,
                    visits_needed: item.visits_needed,
                    suspended_day,
                    extended_day,
                });
            }
        }
    }
    for ((scope, year), used) in counters {
        let b = bases.get(&(scope, year)).copied().unwrap_or(0);
        numbers::raise_to(tx, scope, &year.to_string(), b + used)?;
    }
    cx.record(
        Topic::Hall,
        AuditDraft::new(
            "hall",
            None,
            format!(
                "生成历史数据：{} 至 {}，取号 {} 个，办件 {} 件（种子 {}）",
                spec.from, spec.to, out.tickets, out.cases, spec.seed
            ),
        ),
    )?;
    Ok(out)
}
