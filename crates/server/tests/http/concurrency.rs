//! The guarantees under concurrency, with 50 clients at once over HTTP (issue 7): no ticket
//! number issued twice, no ticket claimed by two windows, no case (post) taken over twice, no
//! acknowledged write lost. Each client is its own thread with its own connections; they are
//! released together by a barrier.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use crate::common::{Answer, Auth, Server, start};

const CLIENTS: usize = 50;

/// Run `f(i)` on `CLIENTS` threads released at once.
fn at_once<T: Send + 'static>(
    s: &Arc<Server>,
    f: impl Fn(&Server, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let gate = Arc::new(Barrier::new(CLIENTS));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (s, gate, f) = (s.clone(), gate.clone(), f.clone());
            std::thread::spawn(move || {
                gate.wait();
                f(&s, i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("client thread"))
        .collect()
}

fn stored_tickets(s: &Server) -> BTreeMap<String, (String, String)> {
    s.hall
        .store()
        .read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT t.id, c.prefix, t.number FROM tickets t JOIN categories c ON c.id = t.category_id",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))?
                .collect::<onetrip_core::store::StoreResult<BTreeMap<_, _>>>()?;
            Ok(rows)
        })
        .unwrap()
}

#[test]
fn fifty_kiosks_at_once_never_issue_a_number_twice_and_lose_no_acknowledged_ticket() {
    let s = Arc::new(start());
    let kiosks: Vec<Auth> = (0..CLIENTS)
        .map(|i| s.device("kiosk", &format!("取号机{i:02}")))
        .collect();
    let kiosks = Arc::new(kiosks);
    let cats: Arc<Vec<String>> =
        Arc::new(["A", "B", "D"].iter().map(|p| s.category_id(p)).collect());
    const EACH: usize = 4;
    let answers: Vec<Vec<Answer>> = at_once(&s, move |s, i| {
        (0..EACH)
            .map(|k| {
                let cat = &cats[(i + k) % cats.len()];
                s.op(&kiosks[i], "ticket.issue", json!({"category_id": cat}))
            })
            .collect()
    });
    let acknowledged: Vec<Value> = answers.into_iter().flatten().map(Answer::ok).collect();
    assert_eq!(acknowledged.len(), CLIENTS * EACH, "every issue succeeded");
    let stored = stored_tickets(&s);
    let mut numbers = BTreeSet::new();
    for a in &acknowledged {
        let t = &a["ticket"];
        let id = t["id"].as_str().unwrap();
        let (prefix, number) = stored.get(id).expect("an acknowledged ticket is stored");
        assert_eq!(number, t["number"].as_str().unwrap());
        assert!(numbers.insert(number.clone()), "{number} issued twice");
        assert!(number.starts_with(prefix.as_str()));
    }
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "nothing stored that was not acknowledged"
    );
    // Gap-free per category.
    let mut per: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for n in &numbers {
        per.entry(n[..1].to_owned())
            .or_default()
            .push(n[1..].parse().unwrap());
    }
    for (prefix, mut seq) in per {
        seq.sort_unstable();
        let expect: Vec<u32> = (1..=seq.len() as u32).collect();
        assert_eq!(seq, expect, "{prefix} numbers are 1..n without gaps");
    }
}

#[test]
fn fifty_windows_calling_at_once_never_claim_a_ticket_twice() {
    let s = Arc::new(start());
    let clerks = Arc::new(s.windows_with_clerks(CLIENTS as u32, "A"));
    let a = s.category_id("A");
    let kiosk = s.device("kiosk", "取号机");
    const TICKETS: usize = 250;
    let issued: BTreeSet<String> = (0..TICKETS)
        .map(|_| {
            s.op(&kiosk, "ticket.issue", json!({"category_id": a})).ok()["ticket"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let claims: Vec<Vec<String>> = at_once(&s, move |s, i| {
        let me = &clerks[i];
        let mut mine = Vec::new();
        loop {
            let r = s.op(me, "queue.call_next", json!({}));
            match (r.status, r.code()) {
                (200, _) => {
                    let id = r.body["id"].as_str().unwrap().to_owned();
                    s.op(me, "queue.start", json!({"ticket_id": id})).ok();
                    s.op(me, "queue.finish", json!({"ticket_id": id})).ok();
                    mine.push(id);
                }
                (409, "queue_empty") => return mine,
                other => panic!("window {i}: unexpected answer {other:?} {:?}", r.body),
            }
        }
    });
    let busy = claims.iter().filter(|c| !c.is_empty()).count();
    let all: Vec<String> = claims.into_iter().flatten().collect();
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(
        all.len(),
        unique.len(),
        "a ticket was claimed by two windows"
    );
    assert_eq!(unique, issued, "every ticket was called exactly once");
    assert!(
        busy > 1,
        "the calls were spread over windows ({busy} windows called)"
    );
    // The database agrees: each ticket finished once, at one window.
    let finished: i64 = s
        .hall
        .store()
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM tickets WHERE status = 'done'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(finished as usize, TICKETS);
}

#[test]
fn fifty_clients_racing_to_take_over_one_post_start_exactly_one_takeover() {
    let s = Arc::new(start());
    let posts = s.system("post.list", json!({}));
    let post = posts
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["window_number"] == 1)
        .expect("window 1 has a post")
        .clone();
    let post_id = post["id"].as_str().unwrap().to_owned();
    // The post's B and many supervisor sessions all press "emergency takeover" at once.
    let mut racers: Vec<Auth> = vec![];
    let b_login = s
        .system("staff.list", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["id"] == post["backup_id"])
        .expect("the post has a B")["login"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_window = posts
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primary_id"] == post["backup_id"])
        .and_then(|p| p["window_number"].as_u64())
        .map(|n| n as u32);
    racers.push(s.sign_in(&b_login, b_window));
    while racers.len() < CLIENTS {
        racers.push(s.sign_in("zhouhong", None));
    }
    let racers = Arc::new(racers);
    let pid = post_id.clone();
    let answers = at_once(&s, move |s, i| {
        s.op(
            &racers[i],
            "handover.emergency",
            json!({"post_id": pid, "reason": "张伟突发疾病送医"}),
        )
    });
    let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one takeover starts: {:?}",
        answers
            .iter()
            .map(|a| (a.status, a.code().to_owned()))
            .collect::<Vec<_>>()
    );
    for a in answers.iter().filter(|a| a.status != 200) {
        assert_eq!((a.status, a.code()), (409, "handover_open"), "{:?}", a.body);
    }
    let active: i64 = s
        .hall
        .store()
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM handovers WHERE post_id = ?1",
                [&post_id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(active, 1, "one handover row for the post");
}

/// Several servers on one PostgreSQL database (a city centre behind a balancer): 50 clients
/// split over two servers issue and call as if there were one. SQLite halls run one server.
#[test]
fn two_servers_on_one_postgres_database_number_and_call_as_one() {
    let s = Arc::new(start());
    if !s.hall.store().is_postgres() {
        eprintln!("SQLite: one server per database; this guarantee is checked on PostgreSQL");
        return;
    }
    let other = Arc::new(crate::common::second_server(&s));
    let kiosk = s.device("kiosk", "取号机");
    let a = s.category_id("A");
    let servers = Arc::new([s.clone(), other.clone()]);
    // Issue: half the kiosks on each server.
    let (srv, k, cat) = (servers.clone(), kiosk.clone(), a.clone());
    let issued: Vec<String> = at_once(&s, move |_, i| {
        let r = srv[i % 2].op(&k, "ticket.issue", json!({"category_id": cat}));
        r.ok()["ticket"]["number"].as_str().unwrap().to_owned()
    });
    let unique: BTreeSet<&String> = issued.iter().collect();
    assert_eq!(
        unique.len(),
        CLIENTS,
        "no number issued twice across servers"
    );
    let mut seq: Vec<u32> = issued.iter().map(|n| n[1..].parse().unwrap()).collect();
    seq.sort_unstable();
    assert_eq!(seq, (1..=CLIENTS as u32).collect::<Vec<_>>(), "gap-free");
    // Call: windows on both servers race for the same queue.
    let clerks = Arc::new(s.windows_with_clerks(10, "A"));
    let srv = servers.clone();
    let claims: Vec<Vec<String>> = at_once(&s, move |_, i| {
        let mut mine = Vec::new();
        if i >= 10 {
            return mine;
        }
        loop {
            let r = srv[i % 2].op(&clerks[i], "queue.call_next", json!({}));
            match (r.status, r.code()) {
                (200, _) => {
                    let id = r.body["id"].as_str().unwrap().to_owned();
                    srv[i % 2]
                        .op(&clerks[i], "queue.start", json!({"ticket_id": id}))
                        .ok();
                    srv[i % 2]
                        .op(&clerks[i], "queue.finish", json!({"ticket_id": id}))
                        .ok();
                    mine.push(id);
                }
                (409, "queue_empty") => return mine,
                other => panic!("window {i}: {other:?} {:?}", r.body),
            }
        }
    });
    let all: Vec<String> = claims.into_iter().flatten().collect();
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), CLIENTS, "every ticket called once");
    assert_eq!(unique.len(), CLIENTS, "no ticket claimed by two windows");
}
