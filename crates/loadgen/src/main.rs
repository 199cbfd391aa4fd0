//! `onetrip-load`: a busy day at a hall, against a running hall server (`onetrip serve`).
//!
//! Setup (over HTTP, as the admin of a demo hall): 11 load categories (999 tickets a day each,
//! open all day), `--windows` windows serving all of them, a clerk signed in at each, and one
//! kiosk device per `--kiosks`. Then the day runs, all clients at once:
//! - kiosks issue `--tickets` tickets, at `--issue-rate` per second in total;
//! - every window calls the next ticket, starts and finishes it, pausing `--serve-ms` (the
//!   applicant at the counter, compressed); every `tickets / cases`-th ticket its clerk also
//!   accepts a case (application opened, materials ticked, accepted) and works it (start,
//!   decide, complete), until `--cases` cases are done;
//! - until every ticket is finished.
//!
//! Meanwhile the screens a hall has open run as the UI runs them ([`screens`]): every window's
//! console (`--counters`), `--displays` public displays, the kiosks' own screens, and the six
//! demo clerks' consoles at windows 1–6 (`--demo-consoles`; on a hall with years of history
//! these are the windows that have it). `--no-screens` runs the day without them (saturation).
//!
//! Reported per operation: count, errors, throughput, p50, p99 and max latency as the client
//! saw it (HTTP round trip on loopback included); a screen's refresh is its read
//! (`queue.counter`, `queue.board`). A call-next that found nobody waiting is reported on its
//! own line, `queue.call_next (empty)`. Then the event-to-screen lag per screen kind, and the
//! server's resident memory (`--server-pid`). Speed targets live here, not in tests.

mod screens;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Parser, Debug, Clone)]
#[command(name = "onetrip-load", about = "一次办大厅服务压测：模拟繁忙的一天")]
struct Args {
    /// The hall server, e.g. http://127.0.0.1:8720 (a demo hall: `onetrip demo` first).
    #[arg(long, default_value = "http://127.0.0.1:8720")]
    url: String,
    #[arg(long, default_value_t = 50)]
    windows: u32,
    #[arg(long, default_value_t = 10_000)]
    tickets: usize,
    #[arg(long, default_value_t = 300)]
    cases: usize,
    #[arg(long, default_value_t = 10)]
    kiosks: usize,
    /// Tickets per second over all kiosks (0 = as fast as they can).
    #[arg(long, default_value_t = 100.0)]
    issue_rate: f64,
    /// Milliseconds a window spends with each applicant between start and finish.
    #[arg(long, default_value_t = 50)]
    serve_ms: u64,
    /// Consoles open at the load windows (at most one per window).
    #[arg(long, default_value_t = 50)]
    counters: usize,
    /// Public displays open.
    #[arg(long, default_value_t = 4)]
    displays: usize,
    /// Demo clerks signed in at windows 1–6 with their consoles open (0–6).
    #[arg(long, default_value_t = 6)]
    demo_consoles: usize,
    /// No screens at all: the day's writes alone (saturation).
    #[arg(long)]
    no_screens: bool,
    /// Screens as the UI ran them before they coalesced and painted: a read on every event.
    #[arg(long)]
    old_screens: bool,
    /// The hall server's process id: its resident memory is sampled during the day.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value = "admin")]
    admin: String,
    #[arg(long, default_value = "demo1234")]
    password: String,
}

const PREFIXES: [&str; 11] = ["E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q"];

#[derive(Default)]
struct Samples(BTreeMap<&'static str, (Vec<f64>, usize)>);

impl Samples {
    fn add(&mut self, op: &'static str, ms: f64, ok: bool) {
        let e = self.0.entry(op).or_default();
        if ok {
            e.0.push(ms);
        } else {
            e.1 += 1;
        }
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    pub(crate) base: String,
    samples: Arc<Mutex<Samples>>,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Client {
    pub(crate) async fn op(&self, auth: &str, name: &'static str, req: Value) -> Answer {
        let started = Instant::now();
        let mut rb = self
            .http
            .post(format!("{}/api/op/{name}", self.base))
            .header("x-onetrip-source", "loadgen")
            .json(&req);
        if !auth.is_empty() {
            rb = rb.header("authorization", auth);
        }
        let resp = rb.send().await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, body) = match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({"code": "transport", "message": e.to_string()})),
        };
        // "Nobody waiting" is an answer, not a failure: timed on a line of its own, so the
        // call-next line is the calls that called someone and the errors column stays honest.
        let (key, ok) = if name == "queue.call_next" && body["code"] == "queue_empty" {
            ("queue.call_next (empty)", true)
        } else {
            (name, status == 200)
        };
        self.samples.lock().await.add(key, ms, ok);
        Answer { status, body }
    }

    async fn must(&self, auth: &str, name: &'static str, req: Value) -> Value {
        let a = self.op(auth, name, req).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        a.body
    }
}

fn bearer(v: &Value) -> String {
    format!("Bearer {}", v["token"].as_str().expect("a session token"))
}

/// What the day runs with.
struct Setup {
    /// Per load window: the clerk's `Authorization` header.
    clerks: Vec<String>,
    kiosks: Vec<String>,
    item: Value,
    cats: Vec<String>,
    /// Every screen: its kind, `Authorization` header and events query.
    screens: Vec<(screens::Kind, String, String)>,
}

fn token_of(header: &str) -> String {
    header
        .split_once(' ')
        .map(|(_, t)| t)
        .unwrap_or("")
        .to_owned()
}

/// Setup over HTTP as the admin: categories, windows and clerks, kiosks, displays, screens.
async fn setup(c: &Client, args: &Args) -> Setup {
    let admin = bearer(
        &c.must(
            "",
            "auth.sign_in",
            json!({"login": args.admin, "password": args.password}),
        )
        .await,
    );
    let existing = c.must(&admin, "category.list", json!({})).await;
    let mut cats = Vec::new();
    for (i, p) in PREFIXES.iter().enumerate() {
        let found = existing
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["prefix"] == *p)
            .cloned();
        let cat = match found {
            Some(c) => c,
            None => {
                c.must(
                    &admin,
                    "category.create",
                    json!({"prefix": p, "name": format!("压测业务{i}"), "daily_cap": 999, "issue_from": "00:00", "issue_until": "23:59"}),
                )
                .await
            }
        };
        cats.push(cat["id"].as_str().unwrap().to_owned());
    }
    let run = std::process::id();
    let mut clerks = Vec::new();
    for w in 0..args.windows {
        let win = c
            .must(
                &admin,
                "window.create",
                json!({"number": 300 + (run % 500) + w, "name": format!("压测{w}"), "category_ids": cats}),
            )
            .await;
        let login = format!("ld{run}x{w}");
        c.must(
            &admin,
            "staff.create",
            json!({"login": login, "name": format!("压测员{w}"), "role": "clerk", "initial_password": "Start2026a"}),
        )
        .await;
        let s = c
            .must(
                "",
                "auth.sign_in",
                json!({"login": login, "password": "Start2026a", "window_id": win["id"]}),
            )
            .await;
        let auth = bearer(&s);
        c.must(
            &auth,
            "auth.change_password",
            json!({"old_password": "Start2026a", "new_password": "Load2026b"}),
        )
        .await;
        clerks.push(auth);
    }
    let mut kiosks = Vec::new();
    for k in 0..args.kiosks {
        let d = c
            .must(
                &admin,
                "device.register",
                json!({"kind": "kiosk", "name": format!("压测取号机{run}-{k}")}),
            )
            .await;
        kiosks.push(format!("Device {}", d["token"].as_str().unwrap()));
    }
    let mut screens = Vec::new();
    if !args.no_screens {
        for clerk in clerks.iter().take(args.counters) {
            screens.push((
                screens::Kind::Counter,
                clerk.clone(),
                format!("token={}", token_of(clerk)),
            ));
        }
        for k in &kiosks {
            screens.push((
                screens::Kind::Kiosk,
                k.clone(),
                format!("device={}", token_of(k)),
            ));
        }
        for d in 0..args.displays {
            let dev = c
                .must(
                    &admin,
                    "device.register",
                    json!({"kind": "display", "name": format!("压测叫号屏{run}-{d}")}),
                )
                .await;
            let token = dev["token"].as_str().unwrap().to_owned();
            screens.push((
                screens::Kind::Display,
                format!("Device {token}"),
                format!("device={token}"),
            ));
        }
        // The demo clerks at their windows (1–6): on a hall with history, the windows that
        // have it.
        let windows = c.must(&admin, "window.list", json!({})).await;
        for (n, login) in [
            "zhangwei",
            "liuyang",
            "wangfang",
            "lina",
            "chenjing",
            "yangqiang",
        ]
        .iter()
        .enumerate()
        .take(args.demo_consoles)
        {
            let Some(w) = windows
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["number"] == n + 1)
            else {
                continue;
            };
            let s = c
                .op(
                    "",
                    "auth.sign_in",
                    json!({"login": login, "password": args.password, "window_id": w["id"]}),
                )
                .await;
            if s.status == 200 {
                let auth = bearer(&s.body);
                screens.push((
                    screens::Kind::Counter,
                    auth.clone(),
                    format!("token={}", token_of(&auth)),
                ));
            } else {
                eprintln!("demo clerk {login} could not sign in: {}", s.body);
            }
        }
    }
    let items = c.must(&admin, "catalog.list", json!({})).await;
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["materials"].as_array().is_some_and(|m| !m.is_empty()))
        .expect("a catalog item with materials")
        .clone();
    // Clear the samples: setup is not the day.
    c.samples.lock().await.0.clear();
    Setup {
        clerks,
        kiosks,
        item,
        cats,
        screens,
    }
}

/// CPU seconds `pid` used so far, user and system (Linux `/proc`, 100 ticks a second).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) end with ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The resident memory of `pid` in MB (Linux `/proc`).
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn accept_and_work(c: &Client, clerk: &str, ticket_id: &str, item: &Value, n: usize) {
    let app = c
        .must(
            clerk,
            "application.open",
            json!({
                "item_id": item["id"], "ticket_id": ticket_id,
                "applicant_name": format!("申请人{n}"), "applicant_id_number": "11010519491231002X",
                "applicant_phone": "13800138000"
            }),
        )
        .await;
    for m in app["materials"].as_array().unwrap() {
        let state = if m["requirement"] == "required" {
            "received"
        } else {
            "not_applicable"
        };
        c.must(
            clerk,
            "application.mark",
            json!({"id": app["id"], "position": m["position"], "state": state}),
        )
        .await;
    }
    let decided = c
        .must(
            clerk,
            "application.decide",
            json!({"id": app["id"], "decision": {"kind": "accept"}}),
        )
        .await;
    let case_id = decided["application"]["case_id"].clone();
    for action in [
        json!({"kind": "start"}),
        json!({"kind": "decide", "outcome": "approved", "note": "符合条件"}),
        json!({"kind": "complete", "note": "已送达"}),
    ] {
        c.must(clerk, "case.act", json!({"id": case_id, "action": action}))
            .await;
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let c = Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("an HTTP client"),
        base: args.url.trim_end_matches('/').to_owned(),
        samples: Arc::new(Mutex::new(Samples::default())),
    };
    eprintln!("setup: {} windows, {} kiosks …", args.windows, args.kiosks);
    let Setup {
        clerks,
        kiosks,
        item,
        cats,
        screens: screen_list,
    } = setup(&c, &args).await;
    eprintln!(
        "day: {} tickets, {} cases, {} clients, {} screens",
        args.tickets,
        args.cases,
        clerks.len() + kiosks.len(),
        screen_list.len()
    );
    let lags = Arc::new(std::sync::Mutex::new(screens::Lags::default()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut screen_tasks = Vec::new();
    for (kind, header, query) in screen_list {
        screen_tasks.push(tokio::spawn(screens::run(
            c.clone(),
            kind,
            args.old_screens,
            header,
            query,
            lags.clone(),
            stopped.clone(),
        )));
    }
    let rss = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    if let Some(pid) = args.server_pid {
        let (rss, mut stopped) = (rss.clone(), stopped.clone());
        screen_tasks.push(tokio::spawn(async move {
            loop {
                if let Some(mb) = rss_mb(pid) {
                    rss.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(mb);
                }
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        }));
    }
    // The screens have read once; now the day starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.samples.lock().await.0.clear();
    let server_cpu0 = args.server_pid.and_then(|p| cpu_secs(&p.to_string()));
    let own_cpu0 = cpu_secs("self");
    let started = Instant::now();
    let issued = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let cases = Arc::new(AtomicUsize::new(0));
    let case_every = (args.tickets / args.cases.max(1)).max(1);
    let mut tasks = Vec::new();
    let per_kiosk_gap = if args.issue_rate > 0.0 {
        Duration::from_secs_f64(kiosks.len() as f64 / args.issue_rate)
    } else {
        Duration::ZERO
    };
    let kiosk_count = kiosks.len().max(1) as u32;
    for (k, kiosk) in kiosks.into_iter().enumerate() {
        let (c, issued, cats, total) = (c.clone(), issued.clone(), cats.clone(), args.tickets);
        tasks.push(tokio::spawn(async move {
            // Applicants reach the kiosks one after another, not ten at the same instant: each
            // kiosk starts a fraction of its gap after the previous one.
            tokio::time::sleep(per_kiosk_gap * k as u32 / kiosk_count).await;
            let mut tick = tokio::time::interval(per_kiosk_gap.max(Duration::from_micros(1)));
            let mut n = k;
            loop {
                if issued.fetch_add(1, Ordering::SeqCst) >= total {
                    issued.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
                tick.tick().await;
                let cat = &cats[n % cats.len()];
                n += 1;
                let a = c
                    .op(&kiosk, "ticket.issue", json!({"category_id": cat}))
                    .await;
                assert_eq!(a.status, 200, "ticket.issue: {}", a.body);
            }
        }));
    }
    for (w, clerk) in clerks.into_iter().enumerate() {
        let (c, finished, cases, item) = (c.clone(), finished.clone(), cases.clone(), item.clone());
        let (total, case_total, serve) = (
            args.tickets,
            args.cases,
            Duration::from_millis(args.serve_ms),
        );
        tasks.push(tokio::spawn(async move {
            let mut idle = 0usize;
            while finished.load(Ordering::SeqCst) < total {
                let a = c.op(&clerk, "queue.call_next", json!({})).await;
                if a.status != 200 {
                    assert_eq!(a.body["code"], "queue_empty", "queue.call_next: {}", a.body);
                    // Nobody waiting: the clerk looks up again a moment later (250–750 ms).
                    idle += 1;
                    let jitter = (idle * 7919 + w * 104_729) % 500;
                    tokio::time::sleep(Duration::from_millis(250 + jitter as u64)).await;
                    continue;
                }
                let id = a.body["id"].as_str().unwrap().to_owned();
                c.must(&clerk, "queue.start", json!({"ticket_id": id}))
                    .await;
                tokio::time::sleep(serve).await;
                let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                if done % case_every == 0 && cases.fetch_add(1, Ordering::SeqCst) < case_total {
                    accept_and_work(&c, &clerk, &id, &item, done).await;
                }
                c.must(&clerk, "queue.finish", json!({"ticket_id": id}))
                    .await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("a client task");
    }
    let secs = started.elapsed().as_secs_f64();
    let server_cpu = args
        .server_pid
        .and_then(|p| cpu_secs(&p.to_string()))
        .zip(server_cpu0)
        .map(|(b, a)| (b - a) / secs);
    let own_cpu = cpu_secs("self").zip(own_cpu0).map(|(b, a)| (b - a) / secs);
    // The last events reach the screens.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    for t in screen_tasks {
        t.await.expect("a screen task");
    }
    let samples = c.samples.lock().await;
    println!(
        "busy day: {} tickets finished, {} cases, in {secs:.1} s",
        finished.load(Ordering::SeqCst),
        cases.load(Ordering::SeqCst).min(args.cases)
    );
    println!(
        "{:<22} {:>7} {:>6} {:>9} {:>8} {:>8} {:>8}",
        "operation", "count", "errors", "per sec", "p50 ms", "p99 ms", "max ms"
    );
    for (op, (lat, errors)) in &samples.0 {
        let mut sorted = lat.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "{:<22} {:>7} {:>6} {:>9.1} {:>8.2} {:>8.2} {:>8.2}",
            op,
            sorted.len(),
            errors,
            sorted.len() as f64 / secs,
            pct(&sorted, 0.5),
            pct(&sorted, 0.99),
            sorted.last().copied().unwrap_or(f64::NAN)
        );
    }
    let lags = lags
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !lags.0.is_empty() {
        println!();
        println!(
            "{:<22} {:>7} {:>8} {:>8} {:>8}",
            "event → screen lag", "events", "p50 ms", "p99 ms", "max ms"
        );
        for (kind, lat) in &lags.0 {
            let mut sorted = lat.clone();
            sorted.sort_by(f64::total_cmp);
            println!(
                "{:<22} {:>7} {:>8.2} {:>8.2} {:>8.2}",
                kind,
                sorted.len(),
                pct(&sorted, 0.5),
                pct(&sorted, 0.99),
                sorted.last().copied().unwrap_or(f64::NAN)
            );
        }
    }
    let rss = rss
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        let peak = rss.iter().copied().fold(0.0, f64::max);
        println!();
        println!(
            "server memory (RSS): {first:.0} MB at the start, peak {peak:.0} MB, {last:.0} MB at the end"
        );
    }
    if let Some(cores) = server_cpu {
        println!("server CPU: {cores:.2} cores over the day");
    }
    if let Some(cores) = own_cpu {
        println!("load generator CPU (its clients and screens): {cores:.2} cores");
    }
}
