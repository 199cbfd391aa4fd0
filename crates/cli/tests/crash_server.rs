//! Crash harness for the hall server (issue 8, short mode in `make test`): the real `onetrip
//! serve` runs a mixed write workload from HTTP clients (kiosks issuing tickets; a window
//! calling, accepting cases and working them), and is killed with SIGKILL at a pseudo-random
//! moment, round after round. After every kill, on the file:
//! - every operation acknowledged (HTTP 200) before the kill is there;
//! - ticket numbers are unique and gap-free per category and day, and the counters agree;
//! - every case's event log replays (`case.get` folds it and refuses a malformed log) and holds
//!   at least the events acknowledged for it;
//! - the audit chain verifies.
//!
//! The server is then restarted on the same file and the clients carry on with their tokens.
//!
//! With `ONETRIP_TEST_PG` (the PostgreSQL pass of `make test`) the same harness runs against a
//! server on a PostgreSQL database: the server process is killed, the database stays up.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onetrip_core::{Caller, audit, execute_json};
use serde_json::{Value, json};

mod common;
use common::{Db, free_port, onetrip, op_cli};

fn start_server(db: &Db, port: u16) -> Child {
    common::start_server(db, port, &[])
}

/// `Ok(body)` on 200, `Err(Some(body))` on a coded refusal, `Err(None)` when the server is gone.
fn post(
    http: &reqwest::blocking::Client,
    base: &str,
    auth: &str,
    name: &str,
    req: &Value,
) -> Result<Value, Option<Value>> {
    let resp = http
        .post(format!("{base}/api/op/{name}"))
        .header("authorization", auth)
        .json(req)
        .send()
        .map_err(|_| None)?;
    let ok = resp.status().is_success();
    let body: Value = resp.json().map_err(|_| None)?;
    if ok { Ok(body) } else { Err(Some(body)) }
}

#[derive(Default)]
struct Acknowledged {
    tickets: BTreeSet<String>,
    called: BTreeSet<String>,
    /// case id → events acknowledged for it (acceptance included).
    case_events: BTreeMap<String, usize>,
}

/// The window's work until the server goes away: call, start, every other ticket a case
/// accepted and started, finish.
fn clerk_loop(
    http: &reqwest::blocking::Client,
    base: &str,
    auth: &str,
    item: &Value,
    ack: &Mutex<Acknowledged>,
    stop: &AtomicBool,
) {
    let mut n = 0usize;
    // A ticket left current by the previous kill is finished first.
    if let Ok(counter) = post(http, base, auth, "queue.counter", &json!({}))
        && let Some(id) = counter["current"]["id"].as_str()
    {
        let _ = post(http, base, auth, "queue.start", &json!({"ticket_id": id}));
        if post(http, base, auth, "queue.finish", &json!({"ticket_id": id})).is_err() {
            return;
        }
    }
    while !stop.load(Ordering::SeqCst) {
        let called = match post(http, base, auth, "queue.call_next", &json!({})) {
            Ok(t) => t,
            Err(Some(e)) if e["code"] == "queue_empty" => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(Some(e)) => panic!("call_next refused: {e}"),
            Err(None) => return,
        };
        let id = called["id"].as_str().unwrap().to_owned();
        ack.lock().unwrap().called.insert(id.clone());
        let step = |name: &str, req: Value| -> Option<Value> {
            match post(http, base, auth, name, &req) {
                Ok(v) => Some(v),
                Err(Some(e)) => panic!("{name} refused: {e}"),
                Err(None) => None,
            }
        };
        if step("queue.start", json!({"ticket_id": id})).is_none() {
            return;
        }
        n += 1;
        if n % 2 == 1 {
            let Some(app) = step(
                "application.open",
                json!({"item_id": item["id"], "ticket_id": id, "applicant_name": "王䶮",
                       "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"}),
            ) else {
                return;
            };
            for m in app["materials"].as_array().unwrap() {
                let state = if m["requirement"] == "required" {
                    "received"
                } else {
                    "not_applicable"
                };
                if step(
                    "application.mark",
                    json!({"id": app["id"], "position": m["position"], "state": state}),
                )
                .is_none()
                {
                    return;
                }
            }
            let Some(decided) = step(
                "application.decide",
                json!({"id": app["id"], "decision": {"kind": "accept"}}),
            ) else {
                return;
            };
            let case_id = decided["application"]["case_id"]
                .as_str()
                .unwrap()
                .to_owned();
            ack.lock().unwrap().case_events.insert(case_id.clone(), 1);
            if step(
                "case.act",
                json!({"id": case_id, "action": {"kind": "start"}}),
            )
            .is_none()
            {
                return;
            }
            *ack.lock().unwrap().case_events.get_mut(&case_id).unwrap() += 1;
        }
        if step("queue.finish", json!({"ticket_id": id})).is_none() {
            return;
        }
    }
}

fn kiosk_loop(
    http: &reqwest::blocking::Client,
    base: &str,
    auth: &str,
    cats: &[String],
    ack: &Mutex<Acknowledged>,
    stop: &AtomicBool,
) {
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        match post(
            http,
            base,
            auth,
            "ticket.issue",
            &json!({"category_id": cats[i % cats.len()]}),
        ) {
            Ok(t) => {
                ack.lock()
                    .unwrap()
                    .tickets
                    .insert(t["ticket"]["id"].as_str().unwrap().to_owned());
            }
            Err(Some(e)) if e["code"] == "daily_cap_reached" => {}
            Err(Some(e)) => panic!("ticket.issue refused: {e}"),
            Err(None) => return,
        }
        i += 1;
    }
}

fn check(db: &Db, ack: &Acknowledged, round: usize) {
    let now = jiff::Timestamp::now();
    let (store, _) = onetrip_core::open(&db.location, Some(&db.dir), now).unwrap();
    let (tickets, chain) = store
        .read(|tx| {
            let rows: Vec<(String, String, String, u32, String)> = tx
                .prepare("SELECT id, day, issued_category, seq, status FROM tickets")?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<onetrip_core::store::StoreResult<_>>()?;
            Ok((rows, audit::verify(tx)?))
        })
        .unwrap();
    assert!(
        chain.first_broken.is_none(),
        "round {round}: audit chain {chain:?}"
    );
    let stored: BTreeMap<&str, &str> = tickets
        .iter()
        .map(|(id, _, _, _, status)| (id.as_str(), status.as_str()))
        .collect();
    for id in &ack.tickets {
        assert!(
            stored.contains_key(id.as_str()),
            "round {round}: acknowledged ticket {id} lost"
        );
    }
    for id in &ack.called {
        assert_ne!(
            stored.get(id.as_str()),
            Some(&"waiting"),
            "round {round}: acknowledged call of {id} lost"
        );
    }
    let mut seqs: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for (_, day, cat, seq, _) in &tickets {
        seqs.entry((cat.clone(), day.clone()))
            .or_default()
            .push(*seq);
    }
    for ((cat, day), mut v) in seqs {
        v.sort_unstable();
        let n = v.len() as u32;
        assert_eq!(
            v,
            (1..=n).collect::<Vec<_>>(),
            "round {round}: numbers of {cat} {day} repeat or have a gap"
        );
    }
    // A supervisor reads every case (case.get folds the log and refuses a malformed one).
    let signed = execute_json(
        &store,
        &Caller::anonymous("crash-check"),
        now,
        "auth.sign_in",
        json!({"login": "zhouhong", "password": "demo1234"}),
    )
    .unwrap()
    .0;
    let supervisor = Caller::token(signed["token"].as_str().unwrap(), "crash-check");
    let case_ids: Vec<String> = store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id FROM cases")?
                .query_map([], |r| r.get(0))?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap();
    for id in &case_ids {
        let (detail, _) = execute_json(&store, &supervisor, now, "case.get", json!({"id": id}))
            .unwrap_or_else(|e| panic!("round {round}: case {id} does not replay: {e}"));
        let events = detail["events"].as_array().unwrap().len();
        if let Some(acked) = ack.case_events.get(id) {
            assert!(
                events >= *acked,
                "round {round}: case {id} has {events} events, {acked} acknowledged"
            );
        }
    }
    for id in ack.case_events.keys() {
        assert!(
            case_ids.contains(id),
            "round {round}: acknowledged case {id} lost"
        );
    }
}

#[test]
fn sigkill_the_hall_server_under_mixed_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::new(dir.path());
    assert!(onetrip(&db).arg("demo").output().unwrap().status.success());
    // Open every category all day: the harness runs at any hour.
    let cats = op_cli(&db, "category.list", json!({}));
    let mut cat_ids = vec![];
    for c in cats.as_array().unwrap() {
        let mut req = c.clone();
        req["issue_from"] = "00:00".into();
        req["issue_until"] = "23:59".into();
        op_cli(&db, "category.update", req);
        cat_ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let kiosk = op_cli(
        &db,
        "device.register",
        json!({"kind": "kiosk", "name": "取号机"}),
    );
    let kiosk = format!("Device {}", kiosk["token"].as_str().unwrap());
    let items = op_cli(&db, "catalog.list", json!({}));
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category_id"] == cat_ids[0].as_str())
        .unwrap()
        .clone();
    let window = op_cli(&db, "window.list", json!({}))[0]["id"].clone();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let ack = Arc::new(Mutex::new(Acknowledged::default()));
    let mut clerk: Option<String> = None;
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        let mut server = start_server(&db, port);
        let clerk_auth = clerk
            .get_or_insert_with(|| {
                let s = post(
                    &http,
                    &base,
                    "",
                    "auth.sign_in",
                    &json!({"login": "zhangwei", "password": "demo1234", "window_id": window}),
                )
                .expect("sign in");
                format!("Bearer {}", s["token"].as_str().unwrap())
            })
            .clone();
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = vec![];
        for _ in 0..2 {
            let (http, base, kiosk, cats, ack, stop) = (
                http.clone(),
                base.clone(),
                kiosk.clone(),
                cat_ids.clone(),
                ack.clone(),
                stop.clone(),
            );
            workers.push(std::thread::spawn(move || {
                kiosk_loop(&http, &base, &kiosk, &cats, &ack, &stop)
            }));
        }
        {
            let (http, base, item, ack, stop) = (
                http.clone(),
                base.clone(),
                item.clone(),
                ack.clone(),
                stop.clone(),
            );
            workers.push(std::thread::spawn(move || {
                clerk_loop(&http, &base, &clerk_auth, &item, &ack, &stop)
            }));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(1500 + seed % 2000));
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.join().expect("a client thread");
        }
        let ack = ack.lock().unwrap();
        check(&db, &ack, round);
        println!(
            "round {round}: {} tickets, {} calls, {} cases acknowledged and present",
            ack.tickets.len(),
            ack.called.len(),
            ack.case_events.len()
        );
    }
    let ack = ack.lock().unwrap();
    assert!(ack.tickets.len() > 20, "the rounds did real work");
    assert!(!ack.case_events.is_empty(), "cases were accepted");
}
