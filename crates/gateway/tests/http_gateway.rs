//! The HTTP gateway against a fake SMS platform on 127.0.0.1 that checks every request's
//! signature and timestamp and drops a key it has seen (as real platforms do with an
//! idempotency key): a gateway that fails three times then succeeds receives the message once,
//! correctly signed, with the hall's field names; a wrong secret is refused by the platform and
//! the outbox keeps retrying; the phone never appears in an error.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use onetrip_core::app::jobs;
use onetrip_core::messages::{GetMessageSettings, UpdateMessageSettings};
use onetrip_core::outbox::{self, GatewayKind};
use onetrip_core::{Caller, Store};
use onetrip_gateway::{HallGateway, fake};

const SECRET: &str = "hall-secret-0123456789";

/// What the fake platform accepted: (idempotency key, phone, text).
#[derive(Default)]
struct Platform {
    accepted: Mutex<Vec<(String, String, String)>>,
    /// Requests answered, whatever the answer.
    requests: AtomicU32,
    /// Answer 503 to this many requests first.
    fail_first: AtomicU32,
    bad_signatures: AtomicU32,
}

fn start_platform(p: Arc<Platform>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms/send", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Some(req) = fake::Request::read(&stream) else {
                continue;
            };
            p.requests.fetch_add(1, Ordering::SeqCst);
            let now = Timestamp::now().as_second();
            let status = if (now - req.timestamp()).abs() > 300 || !req.signed_by(SECRET) {
                p.bad_signatures.fetch_add(1, Ordering::SeqCst);
                "401 Unauthorized"
            } else if p
                .fail_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                "503 Service Unavailable"
            } else {
                let v = req.json();
                let key = req.key().to_owned();
                assert_eq!(v["idempotency_key"], key.as_str());
                let mut acc = p.accepted.lock().unwrap();
                if !acc.iter().any(|a| a.0 == key) {
                    acc.push((
                        key,
                        v["mobile"].as_str().unwrap().to_owned(),
                        v["text"].as_str().unwrap().to_owned(),
                    ));
                }
                "200 OK"
            };
            fake::answer(&stream, status);
        }
    });
    url
}

/// 10:00 on a Monday, outside the quiet hours.
fn t0() -> Timestamp {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

fn hall(url: &str, secret: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = onetrip_core::open_file(dir.path().join("hall.sqlite"), t0()).unwrap();
    onetrip_core::demo::create(&store, t0()).unwrap();
    let admin = Caller::system("test");
    let mut s = store
        .execute(&admin, t0(), GetMessageSettings {})
        .unwrap()
        .response;
    s.gateway = GatewayKind::Http;
    s.gateway_url = url.into();
    s.gateway_secret = secret.into();
    s.phone_field = "mobile".into();
    s.text_field = "text".into();
    store
        .execute(&admin, t0(), UpdateMessageSettings { settings: s })
        .unwrap();
    (dir, store)
}

fn queue_one(store: &Store, phone: &str, cause: &str) {
    store
        .write(|tx| {
            onetrip_core::messages::send(
                tx,
                t0(),
                "case.decided",
                phone,
                &format!("case.decided:{cause}"),
                &[
                    ("case", "XH-2026-000001".into()),
                    ("item", "户口迁入".into()),
                ],
            )
        })
        .unwrap();
}

fn statuses(store: &Store) -> Vec<(String, u32, Option<String>)> {
    store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT status, attempts, last_error FROM outbox ORDER BY created_at")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap()
}

#[test]
fn a_gateway_that_fails_three_times_then_succeeds_receives_the_message_once_signed() {
    let platform = Arc::new(Platform::default());
    platform.fail_first.store(3, Ordering::SeqCst);
    let url = start_platform(platform.clone());
    let (_dir, store) = hall(&url, SECRET);
    queue_one(&store, "138 0000 5678", "a");
    let gateway = HallGateway::new();
    let mut now = t0();
    for attempt in 1..=4u32 {
        let d = jobs::deliver_outbox(
            &store,
            now,
            &onetrip_core::outbox::Worker::new("w"),
            &gateway,
        )
        .unwrap();
        assert_eq!(d.attempted, 1, "attempt {attempt}");
        now += outbox::backoff(attempt);
    }
    assert_eq!(platform.requests.load(Ordering::SeqCst), 4);
    assert_eq!(platform.bad_signatures.load(Ordering::SeqCst), 0);
    let acc = platform.accepted.lock().unwrap().clone();
    assert_eq!(acc.len(), 1, "delivered once");
    assert_eq!(acc[0].0, "case.decided:a");
    assert_eq!(acc[0].1, "13800005678");
    assert!(acc[0].2.contains("XH-2026-000001") && acc[0].2.contains("户口迁入"));
    let s = statuses(&store);
    assert_eq!((s[0].0.as_str(), s[0].1), ("sent", 4));
    // Sent is sent: nothing more reaches the platform.
    jobs::deliver_outbox(
        &store,
        now + SignedDuration::from_hours(2),
        &onetrip_core::outbox::Worker::new("w"),
        &gateway,
    )
    .unwrap();
    assert_eq!(platform.requests.load(Ordering::SeqCst), 4);
}

#[test]
fn a_wrong_secret_is_refused_by_the_platform_and_the_error_never_names_the_phone() {
    let platform = Arc::new(Platform::default());
    let url = start_platform(platform.clone());
    let (_dir, store) = hall(&url, "not-the-platforms-secret");
    queue_one(&store, "13900001111", "b");
    let d = jobs::deliver_outbox(
        &store,
        t0(),
        &onetrip_core::outbox::Worker::new("w"),
        &HallGateway::new(),
    )
    .unwrap();
    assert_eq!(d.failed, 1);
    assert_eq!(platform.bad_signatures.load(Ordering::SeqCst), 1);
    assert!(platform.accepted.lock().unwrap().is_empty());
    let s = statuses(&store);
    assert_eq!(s[0].0, "pending", "retried later");
    let error = s[0].2.clone().unwrap();
    assert!(error.starts_with("网关返回 401"), "{error}");
    assert!(!error.contains("13900001111"));
}

#[test]
fn a_gateway_that_cannot_be_reached_is_a_failure_to_retry_not_a_crash() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, store) = hall(&format!("http://127.0.0.1:{port}/sms"), SECRET);
    queue_one(&store, "13900002222", "c");
    let d = jobs::deliver_outbox(
        &store,
        t0(),
        &onetrip_core::outbox::Worker::new("w"),
        &HallGateway::new(),
    )
    .unwrap();
    assert_eq!(d.failed, 1);
    let error = statuses(&store)[0].2.clone().unwrap();
    assert!(error.starts_with("网关无法连接"), "{error}");
}
