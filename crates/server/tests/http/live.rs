//! Live events over WebSocket: a display hears every committed write (none lost under 50
//! concurrent writers), a client without a credential is refused, and a reconnecting client is
//! greeted with the instance id so it knows to reload.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{Auth, start};

fn ws_url(base: &str, query: &str) -> String {
    format!(
        "{}/api/events?{query}",
        base.replacen("http://", "ws://", 1)
    )
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connect a display to the server at `base` and read its `hello`.
fn connect_display(rt: &tokio::runtime::Runtime, base: &str, display: &str) -> (Ws, Value) {
    let (mut ws, _) = rt
        .block_on(tokio_tungstenite::connect_async(ws_url(
            base,
            &format!("device={display}"),
        )))
        .unwrap();
    let hello: Value = match rt.block_on(ws.next()).unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str(&t).unwrap(),
        m => panic!("{m:?}"),
    };
    assert_eq!(hello["kind"], "hello", "{hello}");
    (ws, hello)
}

#[test]
fn a_live_client_hears_every_acknowledged_write_and_strangers_are_refused() {
    let s = Arc::new(start());
    let Auth::Device(display) = s.device("display", "叫号屏") else {
        unreachable!()
    };
    let kiosk = s.device("kiosk", "取号机");
    let cat = s.category_id("D");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // No credential: the upgrade is refused with 401.
    let refused = rt.block_on(tokio_tungstenite::connect_async(ws_url(&s.base, "")));
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }

    let (mut ws, hello) = connect_display(&rt, &s.base, &display);
    let instance = hello["instance"].as_str().unwrap().to_owned();

    // 50 writers at once; every acknowledged issue must reach the live client.
    let writers: Vec<_> = (0..50)
        .map(|_| {
            let (s, kiosk, cat) = (s.clone(), kiosk.clone(), cat.clone());
            std::thread::spawn(move || {
                s.op(&kiosk, "ticket.issue", json!({"category_id": cat}))
                    .ok()["ticket"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    let mut acknowledged: Vec<String> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    let mut heard = Vec::new();
    while heard.len() < acknowledged.len() {
        let next = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), ws.next()).await })
            .expect("an event within 10 s: none may be lost")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = next {
            let m: Value = serde_json::from_str(&t).unwrap();
            assert_eq!(m["kind"], "event", "{m}");
            // The device registrations just before may reach the other server's listener after
            // the display connected (its notifications arrive in the background): they are
            // not what this test waits for.
            if m["event"]["op"] == "device.register" {
                continue;
            }
            assert_eq!(m["event"]["op"], "ticket.issue");
            heard.push(m["event"]["subject_id"].as_str().unwrap().to_owned());
        }
    }
    acknowledged.sort();
    heard.sort();
    assert_eq!(heard, acknowledged);

    // A reconnect is greeted by the same instance: nothing to reload but what it shows.
    drop(ws);
    let (_again, hello) = connect_display(&rt, &s.base, &display);
    assert_eq!(hello["instance"], instance.as_str());
}

/// Several servers on one PostgreSQL database: a ticket issued through one server reaches the
/// display connected to the other (LISTEN/NOTIFY), exactly once.
#[test]
fn a_write_on_one_server_reaches_the_displays_of_another() {
    let s = start();
    if !s.hall.store().is_postgres() {
        eprintln!("SQLite: one server per database; events cross servers on PostgreSQL");
        return;
    }
    let other = crate::common::second_server(&s);
    let Auth::Device(display) = s.device("display", "叫号屏") else {
        unreachable!()
    };
    let kiosk = s.device("kiosk", "取号机");
    let cat = s.category_id("D");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut ws, _) = connect_display(&rt, &other.base, &display);
    // The other server's listener connects in the background: give it a moment, then write.
    std::thread::sleep(Duration::from_millis(800));
    let mut issued = Vec::new();
    for _ in 0..5 {
        issued.push(
            s.op(&kiosk, "ticket.issue", json!({"category_id": cat}))
                .ok()["ticket"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut heard = Vec::new();
    while heard.len() < issued.len() {
        let next = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), ws.next()).await })
            .expect("the other server's write arrives within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = next {
            let m: Value = serde_json::from_str(&t).unwrap();
            assert_eq!(m["kind"], "event", "{m}");
            assert_eq!(m["event"]["op"], "ticket.issue");
            heard.push(m["event"]["subject_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(heard, issued, "each write heard once, in commit order");
    // And nothing more: our own server's writes are not echoed back twice.
    let extra =
        rt.block_on(async { tokio::time::timeout(Duration::from_millis(700), ws.next()).await });
    assert!(extra.is_err(), "no duplicate event: {extra:?}");
}

/// A server whose listening connection to PostgreSQL is cut (a network blip, a database
/// restart) reconnects by itself and tells its clients to resync: notifications sent while it
/// was not listening are lost, so its displays reload everything.
#[test]
fn a_server_that_lost_its_listening_connection_tells_its_clients_to_resync() {
    let s = start();
    if !s.hall.store().is_postgres() {
        eprintln!("SQLite: no listening connection; checked on PostgreSQL");
        return;
    }
    let Auth::Device(display) = s.device("display", "叫号屏") else {
        unreachable!()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut ws, _) = connect_display(&rt, &s.base, &display);
    // Cut this database's LISTEN connection from the server side.
    let mut admin = postgres::Client::connect(&s.location, postgres::NoTls).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let cut = admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap();
        if cut > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never opened its LISTEN connection"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let next = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), ws.next()).await })
        .expect("a resync within 10 s of the reconnection")
        .unwrap()
        .unwrap();
    let Message::Text(t) = next else {
        panic!("{next:?}")
    };
    let m: Value = serde_json::from_str(&t).unwrap();
    assert_eq!(m["kind"], "resync", "{m}");
}

/// A server that stopped leaves no connection to its database open: neither its pool (kept by
/// its listener or its audit sealer) nor its LISTEN connection. Left open, every restart of a
/// hall server in one process would add a pool's worth until PostgreSQL refuses new clients.
#[test]
fn a_stopped_server_leaves_no_connection_open() {
    let s = start();
    if !s.hall.store().is_postgres() {
        eprintln!("SQLite: no connections to count");
        return;
    }
    let kiosk = s.device("kiosk", "取号机");
    let cat = s.category_id("D");
    for _ in 0..3 {
        s.op(&kiosk, "ticket.issue", json!({"category_id": cat}))
            .ok();
    }
    // The listener connects in the background.
    std::thread::sleep(Duration::from_millis(800));
    let location = s.location.clone();
    let mut watcher = postgres::Client::connect(&location, postgres::NoTls).unwrap();
    let open = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
    };
    assert!(
        open(&mut watcher) >= 2,
        "a running server holds its pool and its listener"
    );
    drop(s);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut left = open(&mut watcher);
    while left > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        left = open(&mut watcher);
    }
    assert_eq!(left, 0, "connections left open by a stopped server");
}
