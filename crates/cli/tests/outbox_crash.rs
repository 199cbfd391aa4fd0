//! A hall server killed with SIGKILL in the middle of delivering messages: after a restart every
//! message is delivered, and the SMS platform (a fake one on 127.0.0.1 that checks signatures
//! and, like real platforms, keeps the idempotency keys it has seen) sends none twice — the
//! message the dead server had handed over arrives again with the same key and is dropped.
//!
//! With `ONETRIP_TEST_PG` the same runs against a server on a PostgreSQL database.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onetrip_gateway::fake;
use serde_json::json;

const SECRET: &str = "outbox-crash-secret-0123";
const MESSAGES: usize = 6;

mod common;
use common::{Db, free_port, onetrip, op_cli};

fn start_server(db: &Db, port: u16) -> Child {
    common::start_server(db, port, &["--outbox-lease", "2"])
}

/// The fake platform: every request's key in order, the keys it accepted (once each), and a
/// switch that makes it hold the next request without answering (the server dies meanwhile).
#[derive(Default)]
struct Platform {
    requests: Mutex<Vec<String>>,
    accepted: Mutex<BTreeMap<String, String>>,
    hold_next: AtomicBool,
    holding: AtomicBool,
    bad: Mutex<Vec<String>>,
}

fn start_platform(p: Arc<Platform>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let p = p.clone();
            std::thread::spawn(move || {
                let Some(req) = fake::Request::read(&stream) else {
                    return;
                };
                let key = req.key().to_owned();
                if !req.signed_by(SECRET) {
                    p.bad.lock().unwrap().push(key);
                    fake::answer(&stream, "401 Unauthorized");
                    return;
                }
                p.requests.lock().unwrap().push(key.clone());
                let v = req.json();
                // Accepted (and sent to the phone) on arrival; a key seen before is dropped.
                p.accepted
                    .lock()
                    .unwrap()
                    .entry(key)
                    .or_insert_with(|| v["content"].as_str().unwrap_or("").to_owned());
                if p.hold_next.swap(false, Ordering::SeqCst) {
                    // Never answer: the server is killed while it waits.
                    p.holding.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                fake::answer(&stream, "200 OK");
            });
        }
    });
    url
}

fn statuses(db: &Db) -> Vec<String> {
    let (store, _) =
        onetrip_core::open(&db.location, Some(&db.dir), jiff::Timestamp::now()).unwrap();
    store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT status FROM outbox ORDER BY created_at, id")?
                .query_map([], |r| r.get(0))?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap()
}

#[test]
fn a_server_killed_mid_delivery_delivers_every_message_after_restart_and_none_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::new(tmp.path());
    let out = onetrip(&db).arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let platform = Arc::new(Platform::default());
    let url = start_platform(platform.clone());
    let mut settings = op_cli(&db, "message.settings", json!({}));
    settings["gateway"] = json!("http");
    settings["gateway_url"] = json!(url);
    settings["gateway_secret"] = json!(SECRET);
    // No quiet hours: the test runs at any hour of the real clock.
    settings["quiet_from"] = json!("00:00");
    settings["quiet_until"] = json!("00:00");
    op_cli(
        &db,
        "message.update_settings",
        json!({ "settings": settings }),
    );
    // Six results ready for six phones, queued as the cases' decisions queue them.
    {
        let (store, _) =
            onetrip_core::open(&db.location, Some(&db.dir), jiff::Timestamp::now()).unwrap();
        for i in 0..MESSAGES {
            store
                .write(|tx| {
                    onetrip_core::messages::send(
                        tx,
                        jiff::Timestamp::now(),
                        "case.decided",
                        &format!("1380000{i:04}"),
                        &format!("case.decided:crash-{i}"),
                        &[
                            ("case", format!("XH-2026-00000{i}")),
                            ("item", "户口迁入".into()),
                        ],
                    )
                })
                .unwrap();
        }
    }
    // The platform holds the first request it gets; the server is killed while it waits.
    platform.hold_next.store(true, Ordering::SeqCst);
    let port = free_port();
    let mut server = start_server(&db, port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !platform.holding.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the server never delivered");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let first = platform.requests.lock().unwrap()[0].clone();
    // Restarted: every message is delivered once its dead claim has lapsed.
    let mut server = start_server(&db, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while platform.accepted.lock().unwrap().len() < MESSAGES
        || statuses(&db).iter().any(|s| s != "sent")
    {
        assert!(
            Instant::now() < deadline,
            "not every message was delivered: {:?}",
            statuses(&db)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        platform.bad.lock().unwrap().is_empty(),
        "every request signed"
    );
    let requests = platform.requests.lock().unwrap().clone();
    let accepted = platform.accepted.lock().unwrap().clone();
    assert_eq!(
        accepted.len(),
        MESSAGES,
        "each message reached its phone once"
    );
    assert_eq!(
        requests.iter().filter(|k| **k == first).count(),
        2,
        "the message the dead server handed over came again, with its key: {requests:?}"
    );
    for key in accepted.keys().filter(|k| **k != first) {
        assert_eq!(
            requests.iter().filter(|k| *k == key).count(),
            1,
            "{key} was sent once: {requests:?}"
        );
    }
    assert!(accepted.values().all(|t| t.contains("户口迁入")));
}
