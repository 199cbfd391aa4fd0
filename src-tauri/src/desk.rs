//! The Tauri application: the hall this PC opened, the IPC commands (one per core operation,
//! generated from the registry, plus the PC's own: printing, voice, windows), and start-up.
//! Printing is in [`crate::printing`], windows and menu in [`crate::windows`], the periodic
//! jobs in [`crate::jobs`], the command line in [`crate::args`], the log in [`crate::log`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Parser;
use onetrip_core::op::Operation;
use onetrip_core::staff::auth::{self, FirstAdmin};
use onetrip_core::{Caller, Clock, CoreError, DeviceKind, Store, SystemClock, event};
use onetrip_voice::{Announcement, Announcer, ClipSet};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State, WebviewWindow};

use crate::windows::show_window;
use onetrip_print::TicketPrinter;

pub struct Desk {
    pub(crate) store: Arc<Store>,
    pub(crate) clock: Arc<SystemClock>,
    db_path: PathBuf,
    first_admin: Mutex<Option<FirstAdmin>>,
    /// The ticket printer attached to this PC (kiosk), if any.
    pub(crate) printer: Option<TicketPrinter>,
    /// The speaker of this PC (the display's), if voice is on.
    announcer: Option<Announcer>,
    /// The window this PC's clerk signed in at: the rater window (the second monitor facing
    /// the applicant) is that window's rater. Set by [`bind_rater`] from a signed-in session.
    rater_window: Mutex<Option<String>>,
}

impl Desk {
    /// Run one operation for the webview that asked, then publish its events to every window.
    pub(crate) fn run<O: Operation>(
        &self,
        app: &AppHandle,
        window: &WebviewWindow,
        token: Option<String>,
        req: O,
    ) -> Result<O::Response, CoreError> {
        let label = window.label().to_owned();
        let caller = match (token, label.as_str()) {
            (Some(t), _) => Caller::token(t, label),
            (None, "kiosk") => Caller::device(DeviceKind::Kiosk, label),
            (None, "display") => Caller::device(DeviceKind::Display, label),
            (None, "rater") => match self.rater_window.lock().ok().and_then(|w| w.clone()) {
                Some(w) => Caller::device_at(DeviceKind::Rater, w, label),
                None => Caller::device(DeviceKind::Rater, label),
            },
            (None, _) => Caller::anonymous(label),
        };
        let out = self.store.execute(&caller, self.clock.now(), req)?;
        for ev in &out.events {
            // Publishing is best effort: the change is committed whatever happens here.
            let _ = app.emit(event::EVENT_NAME, ev);
        }
        Ok(out.response)
    }
}

macro_rules! commands {
    ($($cmd:ident => $ty:ty),* $(,)?) => {
        $(
            #[tauri::command]
            async fn $cmd(desk: State<'_, Desk>, app: AppHandle, window: WebviewWindow, token: Option<String>, req: $ty) -> Result<<$ty as Operation>::Response, CoreError> {
                desk.run(&app, &window, token, req)
            }
        )*

        fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![
                $($cmd,)*
                crate::windows::open_window,
                bind_rater,
                first_admin_notice,
                app_info,
                announce_call,
                desktop_notify,
                crate::printing::print_ticket,
                crate::printing::print_slip,
                crate::printing::print_notice,
                crate::printing::print_pdf,
                crate::printing::export_catalog,
                crate::printing::save_download,
            ]
        }
    };
}

onetrip_core::for_each_operation!(commands);

/// This PC's clerk signed in at a window (`token`, checked by core): the rater window becomes
/// that window's rater, and opens on the second monitor when there is one (or when `open`).
/// Answers whether it opened. The binding ends with the session's window: a token without a
/// window unbinds it.
#[tauri::command]
async fn bind_rater(
    desk: State<'_, Desk>,
    app: AppHandle,
    token: String,
    open: bool,
) -> Result<bool, CoreError> {
    let me = desk
        .store
        .execute(
            &Caller::token(token, "counter"),
            desk.clock.now(),
            onetrip_core::staff::auth::WhoAmI {},
        )?
        .response;
    let window = me.window.map(|w| w.id);
    let bound = window.is_some();
    *desk
        .rater_window
        .lock()
        .map_err(|_| CoreError::internal("state lock"))? = window;
    if bound && (open || crate::windows::monitors(&app) > 1) {
        show_window(&app, "rater", false)?;
        return Ok(true);
    }
    Ok(false)
}

/// The first admin's one-time password, shown once on the sign-in screen of a brand-new hall.
#[tauri::command]
async fn first_admin_notice(desk: State<'_, Desk>) -> Result<Option<FirstAdmin>, CoreError> {
    Ok(desk
        .first_admin
        .lock()
        .map_err(|_| CoreError::internal("state lock"))?
        .take())
}

/// Announce a call on this PC's speaker ("请A001号到3号窗口办理"), after any still playing.
#[tauri::command]
async fn announce_call(
    desk: State<'_, Desk>,
    number: String,
    window: u32,
    times: u32,
) -> Result<bool, CoreError> {
    match &desk.announcer {
        Some(a) => {
            a.announce(Announcement {
                number,
                window,
                times: times.clamp(1, 5),
            });
            Ok(true)
        }
        None => Ok(false),
    }
}

#[derive(Serialize)]
struct AppInfo {
    version: &'static str,
    db_path: String,
    window: String,
}

#[tauri::command]
async fn app_info(desk: State<'_, Desk>, window: WebviewWindow) -> Result<AppInfo, CoreError> {
    Ok(AppInfo {
        version: onetrip_core::VERSION,
        db_path: desk.db_path.display().to_string(),
        window: window.label().to_owned(),
    })
}

/// Show a staff notice (a takeover requested or started, a hand-back, an uncovered post) as a
/// desktop notification. The in-app inbox keeps it either way; false when this PC has no
/// notification daemon.
#[tauri::command]
fn desktop_notify(app: AppHandle, title: String, body: String) -> bool {
    crate::jobs::notify(&app, title, body)
}

/// Exit with a message on stderr (before the log exists) — the desktop cannot start.
fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}

pub fn run() {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        fail(
            "错误：没有图形显示（DISPLAY 未设置）。请在桌面环境中运行，或在 Xvfb 下运行（xvfb-run）。",
        );
    }
    let args = crate::args::Args::parse();
    let db_path = args
        .db
        .clone()
        .unwrap_or_else(onetrip_core::store::default_path);
    let data_dir = db_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let _log = crate::log::init(&data_dir);
    let clock = Arc::new(SystemClock);
    let (store, report) = match onetrip_core::open_file(&db_path, clock.now()) {
        Ok(s) => s,
        Err(e) => fail(format!("错误 [{}]: {}", e.code, e.message)),
    };
    tracing::info!(db = %db_path.display(), version = onetrip_core::VERSION, "一次办桌面程序启动");
    if let Some(b) = &report.backup {
        tracing::warn!("已在迁移前备份数据库：{}", b.display());
    }
    let first_admin = match auth::bootstrap(&store, clock.now()) {
        Ok(f) => f,
        Err(e) => fail(format!("错误 [{}]: {}", e.code, e.message)),
    };
    if let Some(f) = &first_admin {
        tracing::warn!(
            "新数据库：首个系统管理员 {}，一次性密码 {}（首次登录须修改）",
            f.login,
            f.one_time_password
        );
    }
    let printer = match crate::printing::ticket_printer_from_env() {
        Ok(p) => p,
        Err(e) => fail(format!("错误：号票打印机设置无效：{e}")),
    };
    let announcer = if std::env::var("ONETRIP_VOICE").is_ok_and(|v| v == "off") {
        None
    } else {
        let dir = std::env::var_os("ONETRIP_VOICE_DIR").map(PathBuf::from);
        match ClipSet::load(dir.as_deref())
            .and_then(|set| Announcer::start(set, |e| tracing::warn!("语音播报失败：{e}")))
        {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("语音播报不可用：{e}");
                None
            }
        }
    };
    let store = Arc::new(store);
    let desk = Desk {
        store: store.clone(),
        clock: clock.clone(),
        db_path,
        first_admin: Mutex::new(first_admin),
        printer,
        announcer,
        rater_window: Mutex::new(None),
    };
    let start = args.window.label();
    let fullscreen = args.fullscreen;
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(desk)
        .invoke_handler(handler())
        .on_menu_event(|app, ev| {
            if let Some(label) = ev.id().as_ref().strip_prefix("open:") {
                let _ = show_window(app, label, false);
            }
        })
        .setup(move |app| {
            show_window(app.handle(), start, fullscreen)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            // Kept in the app's state for its whole life: the jobs stop when it exits.
            let jobs = crate::jobs::start(app.handle().clone(), store, clock);
            tauri::Manager::manage(app, jobs);
            // The first notice of the day would otherwise load the fonts inside its write.
            std::thread::spawn(|| {
                if let Err(e) = onetrip_core::notices::warm_up() {
                    tracing::warn!("通知书排版预热失败 [{}]: {}", e.code, e.message);
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the OneTrip window starts");
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_window_has_exactly_one_capability() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
        let mut seen = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap())
                    .unwrap();
            let perms: Vec<String> = v["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect();
            for w in v["windows"].as_array().unwrap() {
                assert!(
                    seen.insert(w.as_str().unwrap().to_owned(), perms.clone())
                        .is_none(),
                    "{w} in two capabilities"
                );
            }
        }
        for (label, ..) in crate::windows::WINDOWS {
            assert!(
                seen.contains_key(*label),
                "window {label} has no capability"
            );
        }
        for public in ["kiosk", "display", "rater"] {
            assert!(seen[public].contains(&"public-ops".to_owned()));
            assert!(
                !seen[public]
                    .iter()
                    .any(|p| p == "staff-ops" || p == "core:default"),
                "{public} must not reach staff operations"
            );
        }
    }

    #[test]
    fn public_permission_set_holds_only_public_and_device_operations() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("permissions/operations.toml"),
        )
        .unwrap();
        let public_line = text
            .split("[[set]]")
            .find(|s| s.contains("\"public-ops\""))
            .unwrap();
        for op in onetrip_core::OPERATIONS {
            let perm = format!("\"allow-{}\"", op.command().replace('_', "-"));
            let open = op.access <= onetrip_core::Access::Device;
            assert_eq!(
                public_line.contains(&perm),
                open,
                "{} (access {:?})",
                op.name,
                op.access
            );
        }
    }
}
