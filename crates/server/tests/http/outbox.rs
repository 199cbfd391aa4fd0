//! Two hall servers on one PostgreSQL database both run the outbox delivery job: every message
//! reaches the SMS platform (a fake one on 127.0.0.1 checking the signature) exactly once —
//! each is claimed by one server, never by both.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onetrip_core::Caller;
use onetrip_core::messages::{GetMessageSettings, UpdateMessageSettings};
use onetrip_core::outbox::GatewayKind;
use onetrip_gateway::fake;

use crate::common::{second_server, start, t0};

const SECRET: &str = "two-servers-secret-0123";

/// Idempotency key → requests seen with it; and requests with a bad signature.
type Seen = Arc<Mutex<(BTreeMap<String, u32>, u32)>>;

fn platform(seen: Seen) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let Some(req) = fake::Request::read(&stream) else {
                    return;
                };
                let mut s = seen.lock().unwrap();
                if req.signed_by(SECRET) {
                    *s.0.entry(req.key().to_owned()).or_default() += 1;
                } else {
                    s.1 += 1;
                }
                drop(s);
                fake::answer(&stream, "200 OK");
            });
        }
    });
    url
}

#[test]
fn two_servers_deliver_each_message_exactly_once() {
    let s = start();
    if !s.hall.store().is_postgres() {
        eprintln!("SQLite: one server per database; several deliver only on PostgreSQL");
        return;
    }
    let other = second_server(&s);
    let seen: Seen = Arc::default();
    let url = platform(seen.clone());
    let store = s.hall.store();
    let admin = Caller::system("test");
    let mut settings = store
        .execute(&admin, t0(), GetMessageSettings {})
        .unwrap()
        .response;
    settings.gateway = GatewayKind::Http;
    settings.gateway_url = url;
    settings.gateway_secret = SECRET.into();
    store
        .execute(&admin, t0(), UpdateMessageSettings { settings })
        .unwrap();
    const N: usize = 40;
    for i in 0..N {
        store
            .write(|tx| {
                onetrip_core::messages::send(
                    tx,
                    t0(),
                    "case.decided",
                    &format!("1390000{i:04}"),
                    &format!("case.decided:two-{i}"),
                    &[("case", format!("C{i}")), ("item", "户口迁入".into())],
                )
            })
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let pending: i64 = store
            .read(|tx| {
                Ok(tx.query_row(
                    "SELECT count(*) FROM outbox WHERE status <> 'sent'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        if pending == 0 && seen.lock().unwrap().0.len() == N {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} messages not delivered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (keys, bad) = seen.lock().unwrap().clone();
    assert_eq!(bad, 0, "every request signed");
    let twice: Vec<_> = keys.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    drop(other);
}
