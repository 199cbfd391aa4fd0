//! What the crash suites share: the hall database (a SQLite file, or a PostgreSQL database with
//! `ONETRIP_TEST_PG`), the `onetrip` binary on it, and a real `onetrip serve` on a port.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The hall database: a SQLite file, or a PostgreSQL database with its data folder.
pub struct Db {
    pub location: String,
    pub dir: std::path::PathBuf,
}

impl Db {
    pub fn new(dir: &std::path::Path) -> Db {
        let location = match std::env::var("ONETRIP_TEST_PG")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(server) => {
                onetrip_core::store::postgres::create_scratch_database(&server).unwrap()
            }
            None => dir.join("hall.sqlite").display().to_string(),
        };
        Db {
            location,
            dir: dir.to_owned(),
        }
    }
}

pub fn onetrip(db: &Db) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_onetrip"));
    if onetrip_core::store::is_url(&db.location) {
        c.arg("--database")
            .arg(&db.location)
            .arg("--data-dir")
            .arg(&db.dir);
    } else {
        c.arg("--db").arg(&db.location);
    }
    c
}

pub fn op_cli(db: &Db, name: &str, req: Value) -> Value {
    let out = onetrip(db)
        .args(["op", name, &req.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `onetrip serve` on 127.0.0.1:`port` (no scheduled backups, `extra` arguments after), once it
/// accepts connections.
pub fn start_server(db: &Db, port: u16, extra: &[&str]) -> Child {
    let child = onetrip(db)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--backup-every",
            "0",
        ])
        .args(extra)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}
