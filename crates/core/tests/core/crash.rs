//! Crash test for ticket numbers: a child process issues tickets in a loop and reports each
//! number after its transaction committed; the parent kills it with SIGKILL at a random moment,
//! several times. After every kill the database must hold every acknowledged number, no number
//! twice, no gap in any category's daily sequence, and an intact audit chain.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::t0;
use jiff::SignedDuration;
use onetrip_core::queue::IssueTicket;
use onetrip_core::{Caller, DeviceKind, ErrorCode, audit, demo};

const CHILD_ENV: &str = "ONETRIP_CRASH_CHILD_DB";

/// The child: issue tickets round-robin over the demo categories until killed, printing
/// `NUMBER DAY` after each commit. A category that reaches its cap moves on to the next day.
#[test]
fn crash_child_issues_tickets_until_killed() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        // Only meaningful as the child of `sigkill_while_issuing_loses_no_committed_number`.
        return;
    };
    let (store, _) = onetrip_core::open_file(&path, t0()).unwrap();
    let cats: Vec<String> = store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id FROM categories ORDER BY prefix")?
                .query_map([], |r| r.get(0))?
                .collect::<onetrip_core::store::StoreResult<Vec<String>>>()?)
        })
        .unwrap();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let mut day = 0i64;
    let mut i = 0usize;
    loop {
        let now =
            t0() + SignedDuration::from_hours(24 * day) + SignedDuration::from_millis(i as i64);
        let req = IssueTicket {
            category_id: cats[i % cats.len()].clone(),
            priority: None,
            priority_note: String::new(),
            id_number: String::new(),
            applicant_name: String::new(),
        };
        match store.execute(&kiosk, now, req) {
            Ok(o) => {
                println!("{} {}", o.response.ticket.number, o.response.ticket.day);
            }
            Err(e) if e.code == ErrorCode::DailyCapReached => day += 1,
            Err(e) => panic!("issue failed: {e}"),
        }
        i += 1;
    }
}

#[test]
fn sigkill_while_issuing_loses_no_committed_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    {
        let (s, _) = onetrip_core::open_file(&path, t0()).unwrap();
        demo::create(&s, t0()).unwrap();
    }
    let mut acknowledged: BTreeSet<(String, String)> = BTreeSet::new();
    let mut seed = 0x9E37_79B9_u64;
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash::crash_child_issues_tickets_until_killed",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A pseudo-random moment, 150–650 ms after the first committed ticket.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_millis(150 + seed % 500);
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the child issues tickets");
        let mut lines = vec![first];
        let start = Instant::now();
        while start.elapsed() < wait {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(5)) {
                lines.push(l);
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for l in lines {
            // Lines from the test harness itself ("running 1 test") are not tickets.
            if let Some((number, day)) = l.split_once(' ')
                && number.len() == 4
                && day.len() == 10
            {
                acknowledged.insert((number.to_owned(), day.to_owned()));
            }
        }

        let (store, _) = onetrip_core::open_file(&path, t0()).unwrap();
        let (rows, chain) = store
            .read(|tx| {
                let rows: Vec<(String, String, String, u32)> = tx
                    .prepare("SELECT number, day, issued_category, seq FROM tickets")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<onetrip_core::store::StoreResult<_>>()?;
                Ok((rows, audit::verify(tx)?))
            })
            .unwrap();
        assert!(
            chain.first_broken.is_none(),
            "round {round}: audit chain {chain:?}"
        );
        let stored: BTreeSet<(String, String)> = rows
            .iter()
            .map(|(n, d, _, _)| (n.clone(), d.clone()))
            .collect();
        assert_eq!(
            stored.len(),
            rows.len(),
            "round {round}: a number was issued twice"
        );
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged but lost: {lost:?}"
        );
        // Per category and day the sequence runs 1..=n without gaps, and the counter agrees.
        let mut seqs: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
        for (_, d, c, s) in &rows {
            seqs.entry((c.clone(), d.clone())).or_default().push(*s);
        }
        for ((c, d), mut v) in seqs {
            v.sort_unstable();
            let n = v.len() as u32;
            assert_eq!(
                v,
                (1..=n).collect::<Vec<_>>(),
                "round {round}: gap in {c} {d}"
            );
            let counter: u32 = store
                .read(|tx| {
                    Ok(tx.query_row(
                        "SELECT last_seq FROM ticket_counters WHERE category_id = ?1 AND day = ?2",
                        [&c, &d],
                        |r| r.get(0),
                    )?)
                })
                .unwrap();
            assert_eq!(counter, n, "round {round}: the counter matches the tickets");
        }
        println!(
            "round {round}: {} tickets stored, {} acknowledged",
            rows.len(),
            acknowledged.len()
        );
    }
    assert!(
        acknowledged.len() > 50,
        "the rounds issued a meaningful number of tickets"
    );
}
