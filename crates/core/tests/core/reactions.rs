//! Reactions, the outbox and the jobs (the top layer): a domain event's reactions run in its
//! transaction and roll back with it; a message exists in the outbox if and only if its cause
//! committed, and is delivered at least once, retried with back-off, dead after the last
//! attempt; the scheduler runs the same jobs for both hosts.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use jiff::SignedDuration;
use onetrip_core::app::jobs::{self, Done, Schedule, Scheduler};
use onetrip_core::app::reactions::REACTIONS;
use onetrip_core::cases::AcceptCase;
use onetrip_core::catalog::ListItems;
use onetrip_core::outbox::{self, Gateway, LogSink, MAX_ATTEMPTS, Message, Sink};
use onetrip_core::{Caller, ErrorCode, FixedClock};

use crate::common::*;

fn item_id(h: &Hall) -> String {
    h.store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response[0]
        .id
        .clone()
}

fn accept(h: &Hall, clerk: &Caller, phone: &str) -> onetrip_core::Result<String> {
    h.store
        .execute(
            clerk,
            t0(),
            AcceptCase {
                item_id: item_id(h),
                applicant_name: "王建国".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: phone.into(),
                ticket_id: None,
            },
        )
        .map(|o| o.response.case.id)
}

fn outbox_rows(h: &Hall) -> Vec<(String, String, String, i64)> {
    h.store
        .read(|tx| {
            Ok(tx
                .prepare(
                    "SELECT kind, dedupe, status, attempts FROM outbox ORDER BY created_at, id",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap()
}

#[test]
fn the_reactions_table_names_each_event_once_per_effect() {
    let mut seen = std::collections::BTreeSet::new();
    for r in REACTIONS {
        assert!(seen.insert((r.event, r.effect)), "{} listed twice", r.event);
    }
    for event in [
        "calendar.changed",
        "hall.business_hours_changed",
        "catalog.rules_changed",
        "deadline.settings_changed",
        "case.level_rose",
        "post.routing_changed",
        "case.accepted",
        "window.closing",
    ] {
        assert!(
            REACTIONS.iter().any(|r| r.event == event),
            "{event} has its reaction"
        );
    }
}

#[test]
fn an_accepted_case_queues_its_message_in_the_same_transaction_and_a_refused_one_none() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let id = accept(&h, &clerk, "13800000000").unwrap();
    let rows = outbox_rows(&h);
    assert_eq!(rows.len(), 1, "one message for one acceptance");
    assert_eq!(rows[0].0, "case.accepted");
    assert_eq!(rows[0].1, format!("case.accepted:{id}"));
    assert_eq!(rows[0].2, "pending");
    // Refused (a bad phone number): the operation rolled back, and so did its message.
    let before = h.fingerprint();
    let e = accept(&h, &clerk, "12").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFormat);
    assert_eq!(outbox_rows(&h).len(), 1, "no message without its cause");
    assert_eq!(h.fingerprint(), before, "nothing changed");
}

/// A gateway that fails its first `failures` deliveries, then accepts; it records every key.
struct Flaky {
    failures: AtomicU32,
    seen: Mutex<Vec<String>>,
}

impl Sink for Flaky {
    fn deliver(&self, _: &Gateway, m: &Message) -> Result<(), String> {
        self.seen.lock().unwrap().push(m.dedupe.clone());
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err("网关返回 503".into());
        }
        Ok(())
    }
}

#[test]
fn delivery_retries_with_back_off_and_delivers_once() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    accept(&h, &clerk, "13800000000").unwrap();
    let gateway = Flaky {
        failures: AtomicU32::new(2),
        seen: Mutex::new(vec![]),
    };
    let mut now = t0();
    let d = jobs::deliver_outbox(
        &h.store,
        now,
        &onetrip_core::outbox::Worker::new("w"),
        &gateway,
    )
    .unwrap();
    assert_eq!((d.attempted, d.failed), (1, 1));
    // Not due again before its back-off: nothing is attempted.
    let d = jobs::deliver_outbox(
        &h.store,
        now + SignedDuration::from_secs(10),
        &onetrip_core::outbox::Worker::new("w"),
        &gateway,
    )
    .unwrap();
    assert_eq!(d.attempted, 0, "waits 30 s after the first failure");
    now += outbox::backoff(1);
    assert_eq!(
        jobs::deliver_outbox(
            &h.store,
            now,
            &onetrip_core::outbox::Worker::new("w"),
            &gateway
        )
        .unwrap()
        .failed,
        1
    );
    now += outbox::backoff(2);
    let d = jobs::deliver_outbox(
        &h.store,
        now,
        &onetrip_core::outbox::Worker::new("w"),
        &gateway,
    )
    .unwrap();
    assert_eq!((d.attempted, d.sent), (1, 1));
    assert_eq!(outbox_rows(&h)[0].2, "sent");
    assert_eq!(outbox_rows(&h)[0].3, 3, "three attempts recorded");
    let keys = gateway.seen.lock().unwrap().clone();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "every attempt carries the same key"
    );
    // Sent is sent: a later run delivers nothing again.
    let d = jobs::deliver_outbox(
        &h.store,
        now + SignedDuration::from_hours(1),
        &onetrip_core::outbox::Worker::new("w"),
        &gateway,
    )
    .unwrap();
    assert_eq!(d.attempted, 0);
}

#[test]
fn a_message_that_keeps_failing_is_dead_after_the_last_attempt() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    accept(&h, &clerk, "13800000000").unwrap();
    let gateway = Flaky {
        failures: AtomicU32::new(u32::MAX),
        seen: Mutex::new(vec![]),
    };
    let mut now = t0();
    for attempt in 1..=MAX_ATTEMPTS {
        let d = jobs::deliver_outbox(
            &h.store,
            now,
            &onetrip_core::outbox::Worker::new("w"),
            &gateway,
        )
        .unwrap();
        assert_eq!(d.attempted, 1, "attempt {attempt}");
        if attempt == MAX_ATTEMPTS {
            assert_eq!(d.dead, 1);
        }
        now += outbox::backoff(attempt);
    }
    assert_eq!(outbox_rows(&h)[0].2, "dead");
    assert_eq!(
        jobs::deliver_outbox(
            &h.store,
            now + SignedDuration::from_hours(24),
            &onetrip_core::outbox::Worker::new("w"),
            &gateway
        )
        .unwrap()
        .attempted,
        0,
        "a dead message waits for a supervisor"
    );
}

#[test]
fn the_scheduler_runs_the_hosts_jobs_and_stops() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    accept(&h, &clerk, "13800000000").unwrap();
    let store = std::sync::Arc::new(h.reopen_at(t0()));
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let scheduler = Scheduler::spawn(
        store,
        std::sync::Arc::new(FixedClock::new(t0())),
        Schedule {
            first_delay: std::time::Duration::ZERO,
            sweep_every: std::time::Duration::from_millis(200),
            filing_every: std::time::Duration::from_secs(3600),
            outbox_every: std::time::Duration::from_millis(200),
            ..Schedule::default()
        },
        std::sync::Arc::new(LogSink),
        move |done| {
            let _ = tx.lock().unwrap().send(match done {
                Ok(Done::Sweep(..)) => "sweep",
                Ok(Done::Outbox(d)) if d.sent == 1 => "outbox",
                Ok(_) => "other",
                Err(_) => "failed",
            });
        },
    );
    let mut seen = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(what) = rx.recv_timeout(std::time::Duration::from_secs(1)) {
            assert_ne!(what, "failed", "no job fails on the demo hall");
            if what != "other" {
                seen.insert(what);
            }
        }
    }
    scheduler.stop();
    assert!(seen.contains("sweep"), "the sweep ran");
    assert!(
        seen.contains("outbox"),
        "the acceptance message was delivered"
    );
    assert_eq!(outbox_rows(&h)[0].2, "sent");
    // A job run by hand with an injected time is the same function.
    let (report, _) = jobs::sweep_deadlines(&h.store, t0()).unwrap();
    assert_eq!(report.deemed.len(), 0);
}
