//! Harness for the desktop end-to-end suites: a temporary demo hall, `tauri-driver` on a free
//! port, a WebDriver session on the real built `onetrip-desk`, screenshots saved under
//! `target/e2e-shots/`.
//!
//! Needs a display (run under `xvfb-run`), `tauri-driver` on PATH, `WebKitWebDriver`, and the
//! binaries named by `ONETRIP_DESK_BIN` / `ONETRIP_CLI_BIN` (the Makefile builds them once with
//! `tauri build --debug --no-bundle` and passes them in).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

pub fn shots_dir() -> PathBuf {
    let d = workspace_root().join("target/e2e-shots");
    std::fs::create_dir_all(&d).expect("create target/e2e-shots");
    d
}

fn bin(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(default));
    assert!(
        p.exists(),
        "{} does not exist: build the app first (make e2e does) or set {var}",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

/// The CLI (`onetrip`) built for this run.
pub fn cli() -> Command {
    Command::new(bin("ONETRIP_CLI_BIN", "target/debug/onetrip"))
}

/// Create the demo hall at `db` (its categories issue at any hour, so the suites run at any
/// hour too), as `make run` does.
pub fn demo_db(db: &std::path::Path) {
    let out = cli().arg("--db").arg(db).arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "demo hall: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The hall `make run` opens: the demo hall and 90 days of history before today (thousands of
/// tickets, a thousand cases in every state, alerts, handovers). Every flow runs on it: a hall
/// that has lived a while, not a fresh one.
pub fn lived_in_db(db: &std::path::Path) {
    demo_db(db);
    let out = cli()
        .arg("--db")
        .arg(db)
        .args(["history", "--days", "90"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "history: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run an operation on `db` as the local administrator and return its JSON answer.
pub fn op(db: &std::path::Path, name: &str, req: serde_json::Value) -> serde_json::Value {
    let out = cli()
        .arg("--db")
        .arg(db)
        .args(["op", name, &req.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON answer")
}

pub fn free_tcp_port() -> u16 {
    free_port()
}

pub struct App {
    pub client: Client,
    driver: Child,
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl App {
    /// The lived-in demo hall ([`lived_in_db`], as `make run` builds it) and the real app
    /// opened on it (first window: `window`).
    pub async fn start(window: &str) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the e2e suite under xvfb-run (make e2e)"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hall.sqlite");
        lived_in_db(&db);

        let (port, native) = (free_port(), free_port());
        let driver =
            Command::new(std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into()))
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .env("ONETRIP_DB", &db)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                // Its own process group: WebKitWebDriver and the app go with it (see Drop).
                .process_group(0)
                .spawn()
                .expect("tauri-driver on PATH (cargo install tauri-driver --locked)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let desk = bin("ONETRIP_DESK_BIN", "target/debug/onetrip-desk");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({"application": desk, "args": ["--window", window]}),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session on the app");
        // Each suite starts embedded: forget a hall server a previous run switched to (the
        // webview's storage outlives the process).
        let was_hall = client
            .execute(
                "const had = localStorage.getItem('onetrip.hallServer') !== null;
                 localStorage.removeItem('onetrip.hallServer');
                 if (had) location.reload();
                 return had;",
                vec![],
            )
            .await
            .expect("reset the connection mode");
        if was_hall.as_bool() == Some(true) {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        App {
            client,
            driver,
            _dir: dir,
            db,
        }
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
    }

    /// Wait until the element's text contains `want`.
    pub async fn wait_text(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
                && text.contains(want)
            {
                return text;
            }
            if Instant::now() >= deadline {
                // What the screen showed instead, for whoever reads the failure.
                if let Ok(png) = self.client.screenshot().await {
                    let _ = std::fs::write(shots_dir().join("failed-wait.png"), png);
                }
                let shown = match self.client.find(Locator::Css(css)).await {
                    Ok(el) => el.text().await.unwrap_or_default(),
                    Err(_) => "(not on the page)".into(),
                };
                panic!(
                    "{css} never showed {want:?}; it shows {shown:?} (target/e2e-shots/failed-wait.png)"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Save a screenshot of the current window as `target/e2e-shots/<name>.png`.
    pub async fn shot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let png = tokio::time::timeout(Duration::from_secs(30), self.client.screenshot())
            .await
            .expect("screenshot within 30 s")
            .expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// Click something that opens another app window and switch to that window.
    pub async fn open_and_switch(&self, button_css: &str) -> fantoccini::wd::WindowHandle {
        let before = self.client.windows().await.unwrap();
        self.wait_for(button_css).await.click().await.unwrap();
        self.switch_to_new(before, button_css).await
    }

    /// Open an app window the way the app's menu does (the `open_window` command; native menus
    /// are out of WebDriver's reach) and switch to it.
    pub async fn open_window(&self, label: &str) -> fantoccini::wd::WindowHandle {
        let before = self.client.windows().await.unwrap();
        self.client
            .execute(
                "return window.__TAURI_INTERNALS__.invoke('open_window', { label: arguments[0] });",
                vec![label.into()],
            )
            .await
            .unwrap();
        self.switch_to_new(before, label).await
    }

    async fn switch_to_new(
        &self,
        before: Vec<fantoccini::wd::WindowHandle>,
        button_css: &str,
    ) -> fantoccini::wd::WindowHandle {
        let deadline = Instant::now() + Duration::from_secs(20);
        let handle = loop {
            let now = self.client.windows().await.unwrap();
            if let Some(h) = now.into_iter().find(|h| !before.contains(h)) {
                break h;
            }
            assert!(
                Instant::now() < deadline,
                "no new window after clicking {button_css}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        self.client.switch_to_window(handle.clone()).await.unwrap();
        handle
    }

    /// Scroll the element to the middle of the window (before a screenshot of it).
    pub async fn scroll_to(&self, css: &str) {
        self.wait_for(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
                vec![css.into()],
            )
            .await
            .unwrap();
    }

    /// Press keys together, as a person does (`&[Key::Alt.into(), '2']` is Alt+2): each goes
    /// down in order and up in reverse, on whatever has the focus.
    pub async fn chord(&self, keys: &[char]) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut seq = KeyActions::new("keyboard".into());
        for k in keys {
            seq = seq.then(KeyAction::Down { value: *k });
        }
        for k in keys.iter().rev() {
            seq = seq.then(KeyAction::Up { value: *k });
        }
        self.client.perform_actions(seq).await.unwrap();
    }

    /// Type text key by key into whatever has the focus.
    pub async fn keys(&self, text: &str) {
        for c in text.chars() {
            self.chord(&[c]).await;
        }
    }

    /// The text of every visible error on the page (`.error`, alerts); empty when none.
    pub async fn visible_errors(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [...document.querySelectorAll('.error, [role=alert]')]
                   .filter(e => e.offsetParent !== null && e.textContent.trim() !== '')
                   .map(e => e.textContent.trim());",
                vec![],
            )
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Size this window as a screen of `width`×`height` would show it (the window filling the
    /// screen, the app's menu bar inside it), for a screenshot named by flow and size.
    pub async fn size(&self, width: u32, height: u32) {
        self.client
            .set_window_rect(0, 0, width, height)
            .await
            .unwrap_or_else(|e| panic!("resize to {width}×{height}: {e}"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Dropping kills the driver's process group.
    }
}

impl Drop for App {
    /// tauri-driver starts WebKitWebDriver, which starts the app: killing tauri-driver alone
    /// would leave both running (holding the test's output open). Kill the whole group, also
    /// when a test panicked.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub async fn choose_window(app: &App, number: u32) {
    // Pick the option by its visible label, the way a clerk does.
    let js = format!(
        "const s = document.querySelector('[data-testid=signin-window]');
         const o = [...s.options].find(o => o.text.startsWith('{number}号窗口'));
         s.value = o.value; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return o.text;"
    );
    let label = app.client.execute(&js, vec![]).await.unwrap();
    assert!(label.as_str().unwrap().contains(&format!("{number}号窗口")));
}

pub async fn type_into(app: &App, css: &str, text: &str) {
    let el = app.wait_for(css).await;
    // Clear through an input event so the page's bound state sees it, then type for real.
    let js = "const e = document.querySelector(arguments[0]); e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true }));";
    app.client.execute(js, vec![css.into()]).await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Mark material `position` of the open application as `state` at the checklist and wait until
/// the list shows it; a refusal shown on the screen is reported.
pub async fn mark_material(app: &App, position: u32, state: &str) {
    app.click(&format!(
        "[data-testid=app-material][data-position='{position}'] [data-testid=mark-{state}]"
    ))
    .await;
    let done = format!("[data-testid=app-material][data-position='{position}'].st-{state}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.client.find(Locator::Css(&done)).await.is_err() {
        if Instant::now() > deadline {
            let shown = match app.client.find(Locator::Css("p.error")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            panic!("material {position} never showed {state} (error on screen: {shown:?})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The number of the case open on screen (`330106-2026-001201`: the lived-in hall's cases
/// came first).
pub async fn case_number(app: &App) -> String {
    let text = app.wait_text("[data-testid=case-number]", "330106-").await;
    let number = text
        .split_whitespace()
        .find(|w| w.starts_with("330106-"))
        .unwrap_or_else(|| panic!("a case number in {text:?}"))
        .to_owned();
    assert!(
        number.len() == "330106-2026-000001".len(),
        "a case number: {number}"
    );
    number
}

/// Sign in at the counter's sign-in form.
pub async fn sign_in_at_window(app: &App, login: &str, window: u32) {
    app.wait_for("[data-testid=signin-form]").await;
    app.wait_text("[data-testid=signin-window]", &format!("{window}号窗口"))
        .await;
    choose_window(app, window).await;
    type_into(app, "[data-testid=signin-login]", login).await;
    type_into(app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.wait_text("[data-testid=counter-window]", &format!("{window}号窗口"))
        .await;
}

/// Find a service item in the picker by typing (its code, name or pinyin initials) and choose
/// the option with `code`. Returns whether the picker marked it as the ticket's own business.
pub async fn choose_item(app: &App, typed: &str, code: &str) -> bool {
    type_into(app, "[data-testid=app-item-search]", typed).await;
    let option = format!("[data-testid=app-item-option][data-code=\"{code}\"]");
    let el = app.wait_for(&option).await;
    let suggested = el.text().await.unwrap().contains("当前号的业务");
    el.click().await.unwrap();
    app.wait_text("[data-testid=app-item-chosen]", code).await;
    suggested
}

pub async fn select_option(app: &App, css: &str, starts_with: &str) -> Option<String> {
    let js = "const s = document.querySelector(arguments[0]);
         const o = [...s.options].find(o => o.text.startsWith(arguments[1]));
         s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true }));
         return [o.text, o.parentElement.label ?? null];";
    let v = app
        .client
        .execute(js, vec![css.into(), starts_with.into()])
        .await
        .unwrap();
    assert!(v[0].as_str().unwrap().starts_with(starts_with));
    v[1].as_str().map(str::to_owned)
}
