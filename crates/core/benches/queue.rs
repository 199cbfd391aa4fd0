//! Queue benchmarks on a real SQLite file (WAL, synchronous=FULL), figures for the issue's
//! targets: durable ticket issue (median ≤ 2 ms), call-next with 10,000 waiting tickets over 6
//! windows (≤ 2 ms), and the estimated wait (the kiosk board and a ticket slip).
//!
//! Scale (issue: fast for years with every screen open): the live reads — a clerk's console,
//! the board, a slip — and issuing, at 100 / 1,000 / 10,000 / 100,000 waiting and on the
//! five-year hall (1,000,000 past tickets, 100 waiting); each should stay within 2× of its
//! 100-waiting figure. The waiting tickets are inserted directly (100,000 in one day is past
//! any category's daily cap; the kept counts follow through their triggers).
//!
//! `cargo bench -p onetrip-core --bench queue`

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use onetrip_core::hall::{
    CategoryFields, CreateCategory, UpdateCategory, UpdateWindow, WindowFields,
};
use onetrip_core::queue::ticket::{GetTicketSlip, TicketSlip};
use onetrip_core::queue::{CallNext, GetCounter, GetQueueBoard, IssueTicket, TransferTicket};
use onetrip_core::staff::auth::SignIn;
use onetrip_core::{Caller, DeviceKind, ErrorCode, Store, demo};

fn t0() -> Timestamp {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

fn req(category_id: &str) -> IssueTicket {
    IssueTicket {
        category_id: category_id.to_owned(),
        priority: None,
        priority_note: String::new(),
        id_number: String::new(),
        applicant_name: String::new(),
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    store: Store,
    categories: Vec<String>,
    clerks: Vec<Caller>,
}

/// The demo hall plus seven more categories (11 × 999 numbers a day), every window serving all
/// of them in its own order of preference, and six clerks signed in.
fn hall() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = onetrip_core::open_file(dir.path().join("bench.sqlite"), t0()).unwrap();
    demo::create(&store, t0()).unwrap();
    set_up(dir, store)
}

/// [`hall`] on a copy of the five-year hall (its demo hall and history; today empty).
fn five_year_hall() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.sqlite");
    std::fs::copy(five_years::five_year_file(), &db).unwrap();
    let (store, _) = onetrip_core::open_file(&db, t0()).unwrap();
    set_up(dir, store)
}

fn set_up(dir: tempfile::TempDir, store: Store) -> Bench {
    let admin = Caller::system("bench");
    // The demo's own categories get the full three-digit range too.
    let demo_cats: Vec<(String, String, String)> = store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id, prefix, name FROM categories")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<onetrip_core::store::StoreResult<Vec<_>>>()?)
        })
        .unwrap();
    for (id, prefix, name) in demo_cats {
        store
            .execute(
                &admin,
                t0(),
                UpdateCategory {
                    id,
                    fields: CategoryFields {
                        prefix,
                        name,
                        daily_cap: 999,
                        issue_from: "00:00".into(),
                        issue_until: "23:59".into(),
                    },
                },
            )
            .unwrap();
    }
    for p in ["E", "F", "G", "H", "J", "K", "L"] {
        store
            .execute(
                &admin,
                t0(),
                CreateCategory {
                    fields: CategoryFields {
                        prefix: p.into(),
                        name: format!("业务{p}"),
                        daily_cap: 999,
                        issue_from: "00:00".into(),
                        issue_until: "23:59".into(),
                    },
                },
            )
            .unwrap();
    }
    let categories: Vec<String> = store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id FROM categories ORDER BY prefix")?
                .query_map([], |r| r.get(0))?
                .collect::<onetrip_core::store::StoreResult<Vec<String>>>()?)
        })
        .unwrap();
    let windows: Vec<(String, u32, String)> = store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id, number, name FROM windows ORDER BY number")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<onetrip_core::store::StoreResult<Vec<_>>>()?)
        })
        .unwrap();
    let mut clerks = Vec::new();
    for (i, ((id, number, name), login)) in windows
        .iter()
        .zip([
            "zhangwei",
            "liuyang",
            "wangfang",
            "lina",
            "chenjing",
            "yangqiang",
        ])
        .enumerate()
    {
        let mut order = categories.clone();
        order.rotate_left(i);
        store
            .execute(
                &admin,
                t0(),
                UpdateWindow {
                    id: id.clone(),
                    fields: WindowFields {
                        number: *number,
                        name: name.clone(),
                        category_ids: order,
                    },
                },
            )
            .unwrap();
        let s = store
            .execute(
                &Caller::anonymous("bench"),
                t0(),
                SignIn {
                    login: login.into(),
                    password: demo::DEMO_PASSWORD.into(),
                    window_id: Some(id.clone()),
                },
            )
            .unwrap()
            .response;
        clerks.push(Caller::token(s.token, "bench"));
    }
    Bench {
        _dir: dir,
        store,
        categories,
        clerks,
    }
}

fn bench_issue(c: &mut Criterion) {
    let b = hall();
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let mut day = 0i64;
    let mut i = 0usize;
    c.bench_function("ticket.issue (durable, WAL + synchronous=FULL)", |bench| {
        bench.iter(|| {
            loop {
                let now = t0() + SignedDuration::from_hours(24 * day);
                let cat = &b.categories[i % b.categories.len()];
                i += 1;
                match b.store.execute(&kiosk, now, req(cat)) {
                    Ok(o) => break o.response.ticket.number,
                    Err(e) if e.code == ErrorCode::DailyCapReached => day += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        })
    });
}

/// Fill today with `n` waiting tickets across all categories.
fn fill(b: &Bench, n: usize) {
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    for i in 0..n {
        let cat = &b.categories[i % b.categories.len()];
        b.store
            .execute(
                &kiosk,
                t0() + SignedDuration::from_millis(i as i64),
                req(cat),
            )
            .unwrap();
    }
}

fn bench_call_next(c: &mut Criterion) {
    let b = hall();
    fill(&b, 10_000);
    let now = t0() + SignedDuration::from_mins(30);
    let mut w = 0usize;
    c.bench_function("queue.call_next (10,000 waiting, 6 windows)", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let clerk = &b.clerks[w % b.clerks.len()];
                w += 1;
                let start = Instant::now();
                let t = b.store.execute(clerk, now, CallNext {}).unwrap().response;
                total += start.elapsed();
                // Untimed: put it back, so 10,000 stay waiting.
                b.store
                    .execute(
                        clerk,
                        now,
                        TransferTicket {
                            ticket_id: t.id,
                            to_category_id: Some(t.category.id),
                            to_window_id: None,
                            reason: String::new(),
                        },
                    )
                    .unwrap();
            }
            total
        })
    });
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    c.bench_function(
        "queue.board (estimated wait for 11 categories, 10,000 waiting)",
        |bench| bench.iter(|| b.store.execute(&kiosk, now, GetQueueBoard {}).unwrap()),
    );
    let last: String = b
        .store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT id FROM tickets WHERE status = 'waiting' ORDER BY queue_key DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    c.bench_function(
        "ticket.slip (ahead count + estimate, last of 10,000)",
        |bench| bench.iter(|| slip(&b, &kiosk, now, &last)),
    );
    c.bench_function("wait::estimate_minutes (pure)", |bench| {
        bench.iter(|| {
            onetrip_core::queue::wait::estimate_minutes(std::hint::black_box(913), 6, Some(420_000))
        })
    });
}

/// `n` waiting tickets today, spread over the categories, inserted in one transaction.
fn bulk_waiting(b: &Bench, n: usize) -> String {
    let day = onetrip_core::clock::hall_date(t0()).to_string();
    let base = onetrip_core::clock::to_ms(t0());
    let mut last = String::new();
    b.store
        .write(|tx| {
            for i in 0..n {
                let cat = &b.categories[i % b.categories.len()];
                // Above any number issued by the day's counter (which starts at 1).
                let seq = (1000 + i / b.categories.len()) as i64;
                let id = onetrip_core::ids::new_id();
                tx.execute(
                    "INSERT INTO tickets (id, day, issued_category, seq, number, category_id, status,
                                          queue_key, issued_at, issued_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?3, 'waiting', ?6, ?6, 'kiosk')",
                    rusqlite::params![id, day, cat, seq, format!("X{seq}"), base + i as i64],
                )?;
                last = id;
            }
            Ok(())
        })
        .unwrap();
    last
}

/// The kiosk's slip of ticket `id` (its "ahead" count and estimate).
fn slip(b: &Bench, kiosk: &Caller, now: Timestamp, id: &str) -> onetrip_core::Outcome<TicketSlip> {
    b.store
        .execute(
            kiosk,
            now,
            GetTicketSlip {
                ticket_id: id.to_owned(),
            },
        )
        .unwrap()
}

/// A scale point: its label, how its hall is made, and how many wait today.
type Scale = (&'static str, fn() -> Bench, usize);

fn bench_scale(c: &mut Criterion) {
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let now = t0() + SignedDuration::from_mins(30);
    let mut g = c.benchmark_group("scale");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    let halls: [Scale; 5] = [
        ("100 waiting", hall, 100),
        ("1,000 waiting", hall, 1_000),
        ("10,000 waiting", hall, 10_000),
        ("100,000 waiting", hall, 100_000),
        ("5-year hall, 100 waiting", five_year_hall, 100),
    ];
    for (label, make, n) in halls {
        let b = make();
        let last = bulk_waiting(&b, n);
        let clerk = &b.clerks[0];
        g.bench_function(format!("queue.counter ({label})"), |bench| {
            bench.iter(|| b.store.execute(clerk, now, GetCounter {}).unwrap())
        });
        g.bench_function(format!("queue.board ({label})"), |bench| {
            bench.iter(|| b.store.execute(&kiosk, now, GetQueueBoard {}).unwrap())
        });
        g.bench_function(format!("ticket.slip ({label}, the last)"), |bench| {
            bench.iter(|| slip(&b, &kiosk, now, &last))
        });
        let mut i = 0usize;
        g.bench_function(format!("ticket.issue ({label})"), |bench| {
            bench.iter(|| {
                let cat = &b.categories[i % b.categories.len()];
                i += 1;
                b.store.execute(&kiosk, now, req(cat)).unwrap()
            })
        });
    }
    g.finish();
}

#[path = "common/five_years.rs"]
mod five_years;

criterion_group! {
    name = queue;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(8));
    targets = bench_issue, bench_call_next, bench_scale
}
criterion_main!(queue);
