//! A hall server on 127.0.0.1 with the demo hall on a temporary SQLite file, and a client that
//! checks every request and response against the server's own OpenAPI document.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use jiff::Timestamp;
use onetrip_core::{Caller, FixedClock, Store, demo};
use onetrip_server::Hall;
use serde_json::{Value, json};

/// Monday 2026-11-23 10:00 Beijing time: a working day, issuing hours open.
pub fn t0() -> Timestamp {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

pub struct Server {
    pub base: String,
    pub hall: Arc<Hall>,
    pub clock: Arc<FixedClock>,
    pub dir: tempfile::TempDir,
    /// The SQLite file or PostgreSQL URL.
    pub location: String,
    rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub http: reqwest::blocking::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Wait for the server to wind down (its jobs and its PostgreSQL listener stopped), so
        // a test leaves no connection open behind it.
        if let Some(served) = self.served.take() {
            // A client still holding a live socket would keep a graceful shutdown waiting.
            let _ = self.rt.block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(5), served).await
            });
        }
    }
}

/// A server on a new demo hall: a SQLite file, or a fresh PostgreSQL database when
/// `ONETRIP_TEST_PG` names a server (`make test` runs this suite on both).
pub fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let location = match std::env::var("ONETRIP_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(server) => onetrip_core::store::postgres::create_scratch_database(&server).unwrap(),
        None => dir.path().join("hall.sqlite").display().to_string(),
    };
    let store = open(&location, &dir);
    demo::create(&store, t0()).unwrap();
    serve_store(store, dir, location)
}

fn open(location: &str, dir: &tempfile::TempDir) -> Store {
    onetrip_core::open(location, Some(dir.path()), t0())
        .unwrap_or_else(|e| panic!("open {location}: {e}"))
        .0
}

/// Another server on the same database (several instances behind a balancer).
pub fn second_server(first: &Server) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&first.location, &dir);
    serve_store(store, dir, first.location.clone())
}

fn serve_store(store: Store, dir: tempfile::TempDir, location: String) -> Server {
    let clock = Arc::new(FixedClock::new(t0()));
    let hall = Hall::new(Arc::new(store), clock.clone(), None);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = rt.spawn(onetrip_server::serve(hall.clone(), listener, async move {
        let _ = stopped.await;
    }));
    Server {
        base: format!("http://{addr}"),
        hall,
        clock,
        dir,
        location,
        rt,
        stop: Some(stop),
        served: Some(served),
        http: reqwest::blocking::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap(),
    }
}

/// How a request identifies itself.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Staff(String),
    Device(String),
    Raw(String),
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {:?}", self.body);
        self.body
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// The OpenAPI document as the server publishes it, and a validator per schema name.
pub struct Contract {
    pub doc: Value,
    checked: Mutex<BTreeSet<String>>,
}

pub fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| Contract {
        doc: onetrip_server::openapi::document(),
        checked: Mutex::new(BTreeSet::new()),
    })
}

impl Contract {
    fn schema_at(&self, op: &str, pointer: &str) -> Value {
        let path = format!("/api/op/{op}");
        let node = self.doc["paths"][&path]["post"].pointer(pointer).cloned();
        node.unwrap_or_else(|| panic!("the document has no {pointer} for {op}"))
    }

    /// Validate `value` against the schema at `pointer` of `op`'s path item.
    pub fn check(&self, op: &str, pointer: &str, value: &Value) {
        let schema = self.schema_at(op, pointer);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("the schema for {op} {pointer} compiles: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{op}: the value at {pointer} does not match the OpenAPI document: {errors:?}\nvalue: {value}"
        );
        self.checked.lock().unwrap().insert(op.to_owned());
    }

    pub fn checked_ops(&self) -> BTreeSet<String> {
        self.checked.lock().unwrap().clone()
    }
}

impl Server {
    /// POST an operation; the request and the answer (success or error) are checked against
    /// the OpenAPI document.
    pub fn op(&self, auth: &Auth, name: &str, req: Value) -> Answer {
        let c = contract();
        c.check(name, "/requestBody/content/application~1json/schema", &req);
        let answer = self.raw(auth, name, &req.to_string());
        let status = answer.status.to_string();
        let pointer = format!("/responses/{}/content/application~1json/schema", status);
        c.check(name, &pointer, &answer.body);
        answer
    }

    /// POST a body as is, without contract checks.
    pub fn raw(&self, auth: &Auth, name: &str, body: &str) -> Answer {
        let mut rb = self
            .http
            .post(format!("{}/api/op/{name}", self.base))
            .header("content-type", "application/json")
            .header("x-onetrip-source", "test")
            .body(body.to_owned());
        rb = match auth {
            Auth::None => rb,
            Auth::Staff(t) => rb.header("authorization", format!("Bearer {t}")),
            Auth::Device(t) => rb.header("authorization", format!("Device {t}")),
            Auth::Raw(v) => rb.header("authorization", v.clone()),
        };
        let resp = rb.send().expect("the server answers");
        let status = resp.status().as_u16();
        let body: Value = resp.json().expect("every answer is JSON");
        Answer { status, body }
    }

    /// Run an operation as the local administrator (setup, bypassing HTTP).
    pub fn system(&self, name: &str, req: Value) -> Value {
        onetrip_core::execute_json(
            self.hall.store(),
            &Caller::system("test"),
            self.clock.now_ts(),
            name,
            req,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .0
    }

    pub fn sign_in(&self, login: &str, window: Option<u32>) -> Auth {
        let window_id = window.map(|n| self.window_id(n));
        let s = self
            .op(
                &Auth::None,
                "auth.sign_in",
                json!({"login": login, "password": demo::DEMO_PASSWORD, "window_id": window_id}),
            )
            .ok();
        Auth::Staff(s["token"].as_str().unwrap().to_owned())
    }

    pub fn window_id(&self, number: u32) -> String {
        let windows = self.system("window.list", json!({}));
        windows
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["number"] == number)
            .unwrap_or_else(|| panic!("window {number} exists"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn category_id(&self, prefix: &str) -> String {
        let cats = self.system("category.list", json!({}));
        cats.as_array()
            .unwrap()
            .iter()
            .find(|c| c["prefix"] == prefix)
            .unwrap_or_else(|| panic!("category {prefix} exists"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A rater or window screen registered for window `number`.
    pub fn window_device(&self, kind: &str, name: &str, number: u32) -> Auth {
        let r = self.system(
            "device.register",
            json!({"kind": kind, "name": name, "window_id": self.window_id(number)}),
        );
        Auth::Device(r["token"].as_str().unwrap().to_owned())
    }
    pub fn device(&self, kind: &str, name: &str) -> Auth {
        let r = self.system("device.register", json!({"kind": kind, "name": name}));
        Auth::Device(r["token"].as_str().unwrap().to_owned())
    }

    /// Create `n` windows serving `prefix` and a clerk signed in at each (password changed).
    pub fn windows_with_clerks(&self, n: u32, prefix: &str) -> Vec<Auth> {
        let cat = self.category_id(prefix);
        (0..n)
            .map(|i| {
                let w = self.system(
                    "window.create",
                    json!({"number": 100 + i, "name": format!("并发{i}"), "category_ids": [cat]}),
                );
                let login = format!("load{i:02}");
                self.system(
                    "staff.create",
                    json!({"login": login, "name": format!("压测{i}"), "role": "clerk", "initial_password": "Start2026a"}),
                );
                let s = self
                    .op(
                        &Auth::None,
                        "auth.sign_in",
                        json!({"login": login, "password": "Start2026a", "window_id": w["id"]}),
                    )
                    .ok();
                let auth = Auth::Staff(s["token"].as_str().unwrap().to_owned());
                self.op(
                    &auth,
                    "auth.change_password",
                    json!({"old_password": "Start2026a", "new_password": "Mine2026b"}),
                )
                .ok();
                auth
            })
            .collect()
    }
}

pub trait NowTs {
    fn now_ts(&self) -> Timestamp;
}
impl NowTs for FixedClock {
    fn now_ts(&self) -> Timestamp {
        onetrip_core::Clock::now(self)
    }
}
