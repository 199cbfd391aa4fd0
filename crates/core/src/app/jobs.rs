//! The hall's periodic work, in one place for both hosts: the desktop in embedded mode and the
//! hall server run the same [`Scheduler`] with the same jobs; they differ only in what they do
//! with a job's result (publish events to their windows or WebSocket clients, show a desktop
//! notification, log).
//!
//! | job | when | what |
//! |---|---|---|
//! | [`sweep_deadlines`] | every minute | art. 32 deemed acceptances, levels that rose with time (alerts), alerts due now, uncovered posts |
//! | [`file_reports`] | every minute | the daily summary after closing, the weekly and monthly reports on their days |
//! | [`scheduled_backup`] | every `backup_every` (SQLite) | an online copy into `backups/scheduled/`, the newest kept |
//! | [`apply_retention`] | once a day, at night | anonymise applicants' data past the hall's retention time (个人信息保护法 art. 19) |
//! | [`deliver_outbox`] | every few seconds | hand queued messages to the gateway, at least once |
//!
//! A job is a function of the store and the moment (no clock read here), so tests call it
//! with an injected time; [`Scheduler::spawn`] only decides when to call which.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::cases::CaseAlert;
use crate::kernel::audit::AuditDraft;
use crate::kernel::backup::FileCheck;
use crate::kernel::clock::{Clock, hall_date, hall_minute};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::event::{HallEvent, Topic};
use crate::kernel::op::Actor;
use crate::kernel::outbox::{self, Delivery, Sink};
use crate::kernel::store::Store;

/// What must happen whenever a hall is opened: this build's bundled holiday notices become a
/// calendar version if they differ from those the database last saw (audited, open cases
/// recomputed). An unchanged start writes nothing.
pub fn on_open(store: &Store, now: Timestamp) -> Result<()> {
    if store.read(crate::calendar::bundle_changed)? {
        store.system_job("内置节假日数据", "calendar.bundle", now, true, |cx| {
            crate::calendar::sync_bundle(cx)
        })?;
    }
    Ok(())
}

/// What a sweep did.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct SweepReport {
    pub recomputed: u32,
    pub raised: u32,
    /// Applications deemed accepted (art. 32(4)): "application → case" numbers.
    pub deemed: Vec<String>,
    /// Alerts delivered now (the shell shows a desktop notification for each).
    pub delivered: Vec<CaseAlert>,
    /// Staff notices added (uncovered posts, levels rising during an absence).
    pub notices: u32,
    /// Supplement-deadline reminders queued for applicants' phones.
    pub reminded: u32,
}

/// The deadline sweep: levels change with time alone. In one write transaction: applications
/// whose art. 32 notice clock lapsed are deemed accepted; every open case is recomputed (a
/// rising level raises an alert, and the reactions tell an absent A); alerts whose business
/// moment has come are delivered; uncovered posts are told to the supervisors. One audit row
/// when anything changed (and one for the deemed acceptances).
pub fn sweep_deadlines(store: &Store, now: Timestamp) -> Result<(SweepReport, Vec<HallEvent>)> {
    store.system_job("限时办结监察", "deadline.sweep", now, true, |cx| {
        // Several hall servers on one database sweep one at a time (no alert raised twice).
        cx.tx.serialize("job:deadline.sweep")?;
        let notices_before = crate::staff::inbox::count(cx.tx)?;
        let deemed = crate::applications::deem_lapsed(cx)?;
        if !deemed.is_empty() {
            crate::kernel::audit::append(
                cx.tx,
                &crate::applications::deemed_actor(),
                Some("sweep"),
                "application.deemed",
                now,
                AuditDraft::new(
                    "application",
                    None,
                    format!(
                        "逾期未出具一次性告知，视为自收到材料之日起受理（行政许可法第三十二条）：{}",
                        deemed
                            .iter()
                            .map(|(a, c)| format!("{a} → {c}"))
                            .collect::<Vec<_>>()
                            .join("，")
                    ),
                ),
            )?;
        }
        // Two working days before a supplement deadline, the applicant's phone is reminded.
        let reminded = crate::applications::remind_supplements(cx)?;
        let (recomputed, raised) = crate::cases::recompute_open(cx)?;
        let delivered = crate::cases::views::deliver_due_alerts(cx.tx, now)?;
        crate::handover::notify_uncovered(cx.tx, now)?;
        let notices = crate::staff::inbox::count(cx.tx)? - notices_before;
        let report = SweepReport {
            recomputed: recomputed as u32,
            raised: raised as u32,
            deemed: deemed.iter().map(|(a, c)| format!("{a} → {c}")).collect(),
            delivered,
            notices: notices as u32,
            reminded,
        };
        if notices > 0 {
            cx.publish(Topic::Staff);
        }
        if report.raised > 0
            || !report.delivered.is_empty()
            || !report.deemed.is_empty()
            || notices > 0
        {
            cx.record_as(
                Actor::System("限时办结监察".into()),
                Topic::Case,
                AuditDraft::new(
                    "case",
                    None,
                    format!(
                        "预警巡检：新预警 {} 条，送达提醒 {} 条，工作通知 {} 条",
                        report.raised,
                        report.delivered.len(),
                        report.notices
                    ),
                ),
            )?;
        }
        Ok(report)
    })
}

/// File the reports that are due (see [`crate::reports::filing`]).
pub fn file_reports(
    store: &Store,
    now: Timestamp,
) -> Result<(Vec<crate::reports::filing::FiledReport>, Vec<HallEvent>)> {
    crate::reports::filing::file_due(store, now)
}

/// An online copy of a SQLite hall into `backups/scheduled/`, keeping the newest `keep`. A
/// PostgreSQL hall is backed up by PostgreSQL's tools: nothing to do.
pub fn scheduled_backup(store: &Store, now: Timestamp, keep: usize) -> Result<Option<FileCheck>> {
    if store.is_postgres() {
        return Ok(None);
    }
    store.scheduled_backup(now, keep).map(Some)
}

/// Anonymise the personal data the hall's retention time no longer allows it to keep
/// (个人信息保护法 art. 19: no longer than necessary); the figures stay. Nothing is written
/// when nothing is due.
pub fn apply_retention(
    store: &Store,
    now: Timestamp,
) -> Result<(Option<crate::privacy::PurgeReport>, Vec<HallEvent>)> {
    if !store.read(|tx| crate::privacy::purge_due(tx, now))? {
        return Ok((None, vec![]));
    }
    let (report, events) =
        store.system_job("保存期限", "privacy.retention", now, true, |cx| {
            cx.tx.serialize("job:privacy.retention")?;
            crate::privacy::purge_expired(cx)
        })?;
    Ok((Some(report), events))
}

/// Hand the outbox's due messages to `sink`, at least once, as `worker` (one per process),
/// through the hall's gateway and outside its quiet hours (see [`crate::kernel::outbox`] and
/// [`crate::messages`]).
pub fn deliver_outbox(
    store: &Store,
    now: Timestamp,
    worker: &outbox::Worker,
    sink: &dyn Sink,
) -> Result<Delivery> {
    let (gateway, quiet) = store.read(crate::messages::delivery)?;
    outbox::deliver(store, now, worker, &gateway, quiet, sink)
}

/// How often a host runs each job.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub sweep_every: Duration,
    pub filing_every: Duration,
    /// Scheduled online backups of a SQLite hall: (every, copies kept); `None` = off.
    pub backups: Option<(Duration, usize)>,
    /// The retention job runs once a day at this minute of the hall's night (02:00).
    pub retention_minute: u16,
    pub outbox_every: Duration,
    /// How long this host's claim on a message it is delivering lasts (see
    /// [`crate::kernel::outbox::LEASE`]).
    pub outbox_lease: Duration,
    /// Wait this long after start before the first sweep (start-up stays quick).
    pub first_delay: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            sweep_every: Duration::from_secs(60),
            filing_every: Duration::from_secs(60),
            backups: None,
            retention_minute: 2 * 60,
            outbox_every: Duration::from_secs(5),
            outbox_lease: Duration::from_secs(60),
            first_delay: Duration::from_secs(2),
        }
    }
}

/// A job's result, for the host to publish, show or log.
#[derive(Debug)]
pub enum Done {
    Sweep(SweepReport, Vec<HallEvent>),
    Filing(Vec<crate::reports::filing::FiledReport>, Vec<HallEvent>),
    Backup(FileCheck),
    Retention(crate::privacy::PurgeReport, Vec<HallEvent>),
    Outbox(Delivery),
}

/// A job that failed; the next period tries again.
#[derive(Debug)]
pub struct Failed {
    pub job: &'static str,
    pub error: CoreError,
}

/// The jobs of one host, on a thread of their own (the store is synchronous).
pub struct Scheduler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scheduler")
    }
}

impl Scheduler {
    /// Run `schedule`'s jobs on `store` until stopped, handing each result to `report`.
    pub fn spawn(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        schedule: Schedule,
        sink: Arc<dyn Sink>,
        report: impl Fn(std::result::Result<Done, Failed>) + Send + 'static,
    ) -> Scheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("onetrip-jobs".into())
            .spawn(move || {
                let tick = Duration::from_millis(250);
                let started = std::time::Instant::now();
                let mut next_sweep = started + schedule.first_delay;
                let mut next_filing = next_sweep + schedule.filing_every;
                let mut next_backup = schedule.backups.map(|(every, _)| started + every);
                let mut next_outbox = started + schedule.first_delay;
                let mut retention_done: Option<jiff::civil::Date> = None;
                // This process's name on the outbox messages it claims.
                let worker = outbox::Worker {
                    name: crate::kernel::ids::new_id(),
                    lease: jiff::SignedDuration::try_from(schedule.outbox_lease)
                        .unwrap_or(outbox::LEASE),
                };
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    let at = std::time::Instant::now();
                    let s: &Store = &store;
                    let run = |job: &'static str, r: Result<Done>| {
                        report(r.map_err(|error| Failed { job, error }))
                    };
                    if at >= next_sweep {
                        next_sweep = at + schedule.sweep_every;
                        run(
                            "deadline sweep",
                            sweep_deadlines(s, clock.now()).map(|(r, e)| Done::Sweep(r, e)),
                        );
                    }
                    if at >= next_filing {
                        next_filing = at + schedule.filing_every;
                        run(
                            "report filing",
                            file_reports(s, clock.now()).map(|(r, e)| Done::Filing(r, e)),
                        );
                    }
                    if let (Some(next), Some((every, keep))) = (next_backup, schedule.backups)
                        && at >= next
                    {
                        next_backup = Some(at + every);
                        match scheduled_backup(s, clock.now(), keep) {
                            Ok(Some(c)) => report(Ok(Done::Backup(c))),
                            Ok(None) => {}
                            Err(error) => report(Err(Failed {
                                job: "scheduled backup",
                                error,
                            })),
                        }
                    }
                    let now = clock.now();
                    let today = hall_date(now);
                    if retention_done != Some(today)
                        && hall_minute(now) >= schedule.retention_minute
                    {
                        retention_done = Some(today);
                        match apply_retention(s, now) {
                            Ok((Some(r), e)) => report(Ok(Done::Retention(r, e))),
                            Ok((None, _)) => {}
                            Err(error) => report(Err(Failed {
                                job: "retention",
                                error,
                            })),
                        }
                    }
                    if at >= next_outbox {
                        next_outbox = at + schedule.outbox_every;
                        match deliver_outbox(s, clock.now(), &worker, sink.as_ref()) {
                            Ok(d) if d.attempted == 0 => {}
                            Ok(d) => report(Ok(Done::Outbox(d))),
                            Err(error) => report(Err(Failed {
                                job: "outbox",
                                error,
                            })),
                        }
                    }
                }
            })
            .expect("spawn the jobs thread");
        Scheduler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop after the job running now (if any) and wait for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
