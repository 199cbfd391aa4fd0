//! Hall mode end to end: the hall server (`onetrip serve`, the built CLI) with browser clients
//! driven by Playwright (Debian's chromium: a kiosk page and a display page, each with its own
//! device token) and the real desktop window connected to the server.
//!
//! A browser kiosk issues A001 → the desktop counter (hall mode) calls it → the browser display
//! shows it. Then the server is SIGKILLed: both clients show the connection banner and the
//! counter's next action says it failed. The server is restarted on the same file: the banners
//! go, the display shows the committed call again, the kiosk issues A002 (numbering continued,
//! nothing lost) and the counter calls it. `#[ignore]`d; `make e2e` runs it under Xvfb.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use onetrip_e2e::{App, cli, demo_db, free_tcp_port, op, shots_dir, sign_in_at_window};

struct HallServer {
    child: Child,
    db: PathBuf,
    port: u16,
}

impl HallServer {
    fn start(db: &Path, port: u16) -> HallServer {
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
        let child = cli()
            .arg("--db")
            .arg(db)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--ui"])
            .arg(&ui)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("onetrip serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the hall server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        HallServer {
            child,
            db: db.to_owned(),
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no graceful shutdown, as when the server PC loses power.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn restart(&mut self) {
        *self = HallServer::start(&self.db.clone(), self.port);
    }
}

impl Drop for HallServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/browser/clients.mjs`, steered line by line.
struct Browsers {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Browsers {
    fn start(url: &str, kiosk: &str, display: &str) -> Browsers {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../browser/clients.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("HALL_URL", url)
            .env("KIOSK_TOKEN", kiosk)
            .env("DISPLAY_TOKEN", display)
            .env("SHOTS", shots_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node and playwright-core (make ui-deps)");
        let stdin = child.stdin.take().unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let b = Browsers {
            child,
            stdin,
            lines,
        };
        assert_eq!(b.next(), "ready");
        b
    }

    fn next(&self) -> String {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the browser clients answer within 60 s");
        assert!(!line.starts_with("error"), "browser clients: {line}");
        line
    }

    fn ask(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
        self.next()
    }
}

impl Drop for Browsers {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, chromium, node and the built app: run `make e2e`"]
async fn browser_kiosk_desktop_counter_browser_display_through_a_server_that_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    demo_db(&db);
    let kiosk = op(
        &db,
        "device.register",
        serde_json::json!({"kind": "kiosk", "name": "一楼取号机"}),
    );
    let display = op(
        &db,
        "device.register",
        serde_json::json!({"kind": "display", "name": "一楼叫号屏"}),
    );
    let mut server = HallServer::start(&db, free_tcp_port());
    let mut browsers = Browsers::start(
        &server.url(),
        kiosk["token"].as_str().unwrap(),
        display["token"].as_str().unwrap(),
    );

    // The browser kiosk issues a ticket.
    assert_eq!(browsers.ask("kiosk A"), "issued A001");
    assert_eq!(browsers.ask("shot kiosk hall-kiosk-issue"), "shot");

    // The real desktop window, switched to hall mode, signs in at window 1 on the server.
    let app = App::start("counter").await;
    let c = &app.client;
    app.wait_for("[data-testid=signin-form]").await;
    app.click("[data-testid=connection-settings] summary").await;
    app.click("[data-testid=conn-mode-hall]").await;
    onetrip_e2e::type_into(&app, "[data-testid=conn-url]", &server.url()).await;
    app.shot("hall-connection-settings").await;
    app.click("[data-testid=conn-save]").await;
    app.wait_text("[data-testid=connection-settings] summary", "大厅服务器")
        .await;
    sign_in_at_window(&app, "zhangwei", 1).await;
    app.wait_text("[data-testid=counter-waiting]", "A001").await;
    app.click("[data-testid=counter-call-next]").await;
    app.wait_text("[data-testid=counter-current-number]", "A001")
        .await;
    app.shot("hall-counter-call").await;

    // The browser display shows the call.
    assert_eq!(browsers.ask("expect-call A001 1"), "shown");
    assert_eq!(browsers.ask("shot display hall-display-call"), "shot");

    // The server dies. Both clients say so; the counter's action fails out loud.
    server.kill();
    assert_eq!(browsers.ask("expect-banner on"), "banner");
    assert_eq!(browsers.ask("shot display hall-display-lost"), "shot");
    app.click("[data-testid=counter-start]").await;
    app.wait_text("[data-testid=counter-error]", "无法连接大厅服务器")
        .await;
    app.wait_for("[data-testid=connection-lost]").await;
    app.shot("hall-counter-lost").await;

    // It comes back on the same file: the clients reconnect by themselves and resync.
    server.restart();
    assert_eq!(browsers.ask("expect-banner off"), "banner");
    assert_eq!(browsers.ask("expect-call A001 1"), "shown");
    let deadline = Instant::now() + Duration::from_secs(20);
    while c
        .find(fantoccini::Locator::Css("[data-testid=connection-lost]"))
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the counter's banner did not go away"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.wait_text("[data-testid=counter-current-number]", "A001")
        .await;
    app.click("[data-testid=counter-start]").await;
    app.wait_text("[data-testid=counter-current-status]", "办理中")
        .await;
    app.click("[data-testid=counter-finish]").await;
    app.click("[data-testid=rate-satisfied]").await;

    // Nothing committed was lost: numbering continues at A002.
    assert_eq!(browsers.ask("kiosk A"), "issued A002");
    app.wait_text("[data-testid=counter-waiting]", "A002").await;
    app.click("[data-testid=counter-call-next]").await;
    app.wait_text("[data-testid=counter-current-number]", "A002")
        .await;
    assert_eq!(browsers.ask("expect-call A002 1"), "shown");
    assert_eq!(
        browsers.ask("shot display hall-display-after-restart"),
        "shot"
    );
    app.shot("hall-counter-after-restart").await;
    drop(browsers);
    app.close().await;
}
