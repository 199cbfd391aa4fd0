//! The Tauri application: state, commands, windows, menu, events.

use std::path::PathBuf;
use std::sync::Mutex;

use onetrip_core::notices::Printable;
use onetrip_core::op::Operation;
use onetrip_core::queue::TicketSlip;
use onetrip_core::queue::ticket::GetTicketSlip;
use onetrip_core::staff::auth::{self, FirstAdmin};
use onetrip_core::{Caller, Clock, CoreError, DeviceKind, ErrorCode, Store, SystemClock, event};
use onetrip_print::{Paper, PrintError, PrinterProfile, PrinterTarget};
use onetrip_voice::{Announcement, Announcer, ClipSet};
use serde::Serialize;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Emitter, Manager, State, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

/// The windows OneTrip has; each has its own capability (see `capabilities/`).
pub const WINDOWS: &[(&str, &str, f64, f64)] = &[
    ("counter", "一次办 · 窗口服务台", 1280.0, 800.0),
    ("display", "一次办 · 叫号屏", 1280.0, 720.0),
    ("kiosk", "一次办 · 取号机", 1024.0, 768.0),
    ("admin", "一次办 · 大厅管理", 1280.0, 800.0),
];

pub struct Desk {
    store: Store,
    clock: SystemClock,
    db_path: PathBuf,
    first_admin: Mutex<Option<FirstAdmin>>,
    /// The ticket printer attached to this PC (kiosk), if any.
    printer: Option<TicketPrinter>,
    /// The speaker of this PC (the display's), if voice is on.
    announcer: Option<Announcer>,
}

/// This PC's ticket printer, from the environment (a per-machine setting: the printer belongs
/// to the PC, not to the hall database):
/// - `ONETRIP_TICKET_PRINTER`: `tcp://HOST:9100`, `file:/dev/usb/lp0`, or `cups:QUEUE` (PDF);
/// - `ONETRIP_TICKET_PAPER`: `58` or `80` (default 80);
/// - `ONETRIP_PRINTER_RASTER=1` for printers without a hanzi font or QR command.
struct TicketPrinter {
    target: PrinterTarget,
    profile: PrinterProfile,
    font: Option<(Vec<u8>, u32)>,
}

impl TicketPrinter {
    fn from_env() -> Result<Option<TicketPrinter>, String> {
        let Ok(target) = std::env::var("ONETRIP_TICKET_PRINTER") else {
            return Ok(None);
        };
        let target = PrinterTarget::parse(&target).map_err(|e| e.to_string())?;
        let paper = match std::env::var("ONETRIP_TICKET_PAPER") {
            Ok(p) => Paper::parse(&p)
                .ok_or_else(|| format!("ONETRIP_TICKET_PAPER 应为 58 或 80，实际为 {p}"))?,
            Err(_) => Paper::Mm80,
        };
        let raster = std::env::var("ONETRIP_PRINTER_RASTER").is_ok_and(|v| v == "1");
        let profile = if raster {
            PrinterProfile::raster_only(paper)
        } else {
            PrinterProfile::full(paper)
        };
        let font = if raster {
            onetrip_print::system_cjk_font()
        } else {
            None
        };
        Ok(Some(TicketPrinter {
            target,
            profile,
            font,
        }))
    }

    fn print(&self, slip: &TicketSlip) -> Result<(), PrintError> {
        let font = match &self.font {
            Some((bytes, index)) => Some(onetrip_print::font_ref(bytes, *index)?),
            None => None,
        };
        let bytes = match (&self.target, &font) {
            (PrinterTarget::Cups(_), Some(f)) => {
                onetrip_print::pdf::ticket_pdf(slip, self.profile.paper, f)?.0
            }
            (PrinterTarget::Cups(_), None) => return Err(PrintError::NoFont),
            _ => onetrip_print::escpos::ticket(slip, &self.profile, font.as_ref())?,
        };
        self.target.send(&bytes)
    }
}

impl Desk {
    /// Run one operation for the webview that asked, then publish its events to every window.
    fn run<O: Operation>(
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
            tauri::generate_handler![$($cmd,)* open_window, first_admin_notice, app_info, print_ticket, print_slip, announce_call, print_notice, print_pdf, export_catalog, save_download, desktop_notify]
        }
    };
}

onetrip_core::for_each_operation!(commands);

/// Open (or focus) one of OneTrip's windows.
#[tauri::command]
async fn open_window(app: AppHandle, label: String) -> Result<(), CoreError> {
    show_window(&app, &label, false)
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

#[derive(Serialize)]
struct PrintResult {
    /// False when this PC has no ticket printer configured.
    printed: bool,
    target: Option<String>,
}

/// Print a ticket slip on this PC's ticket printer. The ticket is already committed: a failed
/// print says so (`print_failed`) and loses nothing.
#[tauri::command]
async fn print_ticket(
    desk: State<'_, Desk>,
    app: AppHandle,
    window: WebviewWindow,
    ticket_id: String,
) -> Result<PrintResult, CoreError> {
    let slip = desk.run(&app, &window, None, GetTicketSlip { ticket_id })?;
    print_slip(desk, slip).await
}

/// Hall mode: print a slip the hall server gave this kiosk on this PC's ticket printer.
#[tauri::command]
async fn print_slip(desk: State<'_, Desk>, slip: TicketSlip) -> Result<PrintResult, CoreError> {
    let Some(p) = &desk.printer else {
        return Ok(PrintResult {
            printed: false,
            target: None,
        });
    };
    p.print(&slip).map_err(|e| {
        CoreError::new(
            ErrorCode::PrintFailed,
            format!("号票 {} 打印失败：{e}", slip.number),
        )
        .param("number", &slip.number)
    })?;
    Ok(PrintResult {
        printed: true,
        target: Some(format!("{:?}", p.target)),
    })
}

/// Print an issued notice (`document`: its archive copy) or an item's service card (`card`) on
/// the hall's notice printer (a CUPS queue chosen in settings). The notice is already issued and
/// archived: a failed print says so and loses nothing.
#[tauri::command]
async fn print_notice(
    desk: State<'_, Desk>,
    app: AppHandle,
    window: WebviewWindow,
    token: Option<String>,
    kind: String,
    id: String,
) -> Result<PrintResult, CoreError> {
    use onetrip_core::notices::{GetDocumentFile, ServiceCard};
    let file = match kind.as_str() {
        "document" => desk.run(&app, &window, token, GetDocumentFile { id })?,
        "handover" => {
            desk.run(
                &app,
                &window,
                token,
                onetrip_core::handover::HandoverFile { id },
            )?
            .file
        }
        _ => {
            desk.run(&app, &window, token, ServiceCard { item_id: id })?
                .file
        }
    };
    print_pdf(file).await
}

/// Send a notice's PDF (from this PC's store, or in hall mode from the server) to the hall's
/// notice printer through this PC's CUPS.
#[tauri::command]
async fn print_pdf(file: Printable) -> Result<PrintResult, CoreError> {
    use base64::Engine;
    if file.printer.is_empty() {
        return Ok(PrintResult {
            printed: false,
            target: None,
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&file.pdf_base64)
        .map_err(|e| {
            CoreError::new(
                ErrorCode::PrintFailed,
                format!("文书 {} 内容损坏：{e}", file.number),
            )
            .param("number", &file.number)
        })?;
    PrinterTarget::Cups(file.printer.clone())
        .send(&bytes)
        .map_err(|e| {
            CoreError::new(
                ErrorCode::PrintFailed,
                format!("文书 {} 打印失败：{e}", file.number),
            )
            .param("number", &file.number)
        })?;
    Ok(PrintResult {
        printed: true,
        target: Some(format!("cups:{}", file.printer)),
    })
}

/// Export the catalog to this PC's Downloads folder (or beside the database when there is none)
/// and say where.
#[tauri::command]
async fn export_catalog(
    desk: State<'_, Desk>,
    app: AppHandle,
    window: WebviewWindow,
    token: Option<String>,
    format: onetrip_core::catalog::TransferFormat,
) -> Result<String, CoreError> {
    let file = desk.run(
        &app,
        &window,
        token,
        onetrip_core::catalog::ExportCatalog { format },
    )?;
    let xlsx = matches!(format, onetrip_core::catalog::TransferFormat::Xlsx);
    save_download(desk, file.filename, file.content, xlsx).await
}

/// Save an export on this PC: its Downloads folder (or beside the database when there is none),
/// stamped with the time. In hall mode the content came from the server.
#[tauri::command]
async fn save_download(
    desk: State<'_, Desk>,
    filename: String,
    content: String,
    base64: bool,
) -> Result<String, CoreError> {
    use base64::Engine;
    let bytes = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(|e| CoreError::internal(e.to_string()))?
    } else {
        content.into_bytes()
    };
    // Only a plain file name: never a path from the other side.
    let name: String = filename
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '\0'))
        .collect();
    let dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
        .unwrap_or_else(|| desk.store.data_dir().to_path_buf());
    let stamp = desk.clock.now().strftime("%Y%m%d-%H%M%S").to_string();
    let path = dir.join(format!("onetrip-{stamp}-{name}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&path, bytes)?;
    Ok(path.display().to_string())
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

fn show_window(app: &AppHandle, label: &str, fullscreen: bool) -> Result<(), CoreError> {
    if let Some(w) = app.get_webview_window(label) {
        let _ = w.show();
        let _ = w.set_focus();
        return Ok(());
    }
    let (_, title, w, h) = WINDOWS.iter().find(|(l, ..)| *l == label).ok_or_else(|| {
        CoreError::new(ErrorCode::NotFound, format!("没有名为 {label} 的窗口"))
            .param("what", "窗口")
            .param("id", label)
    })?;
    let mut b = WebviewWindowBuilder::new(app, label, WebviewUrl::App(label.into()))
        .title(*title)
        .inner_size(*w, *h)
        .min_inner_size(800.0, 600.0)
        .fullscreen(fullscreen);
    if label == "counter" || label == "admin" {
        b = b.menu(app_menu(app).map_err(|e| CoreError::internal(e.to_string()))?);
    }
    b.build()
        .map_err(|e| CoreError::internal(format!("无法打开窗口 {label}：{e}")))?;
    Ok(())
}

fn app_menu(app: &AppHandle) -> tauri::Result<Menu<tauri::Wry>> {
    let windows = Submenu::with_items(
        app,
        "窗口(&W)",
        true,
        &[
            &MenuItem::with_id(app, "open:counter", "窗口服务台", true, Some("CmdOrCtrl+1"))?,
            &MenuItem::with_id(
                app,
                "open:display",
                "叫号屏（公共显示）",
                true,
                Some("CmdOrCtrl+2"),
            )?,
            &MenuItem::with_id(app, "open:kiosk", "取号机", true, Some("CmdOrCtrl+3"))?,
            &MenuItem::with_id(app, "open:admin", "大厅管理", true, Some("CmdOrCtrl+4"))?,
            &PredefinedMenuItem::separator(app)?,
            &PredefinedMenuItem::quit(app, Some("退出"))?,
        ],
    )?;
    Menu::with_items(app, &[&windows])
}

struct Args {
    window: String,
    fullscreen: bool,
    db: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        window: "counter".into(),
        fullscreen: false,
        db: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--window" => a.window = it.next().unwrap_or_default(),
            "--fullscreen" => a.fullscreen = true,
            "--db" => a.db = it.next().map(PathBuf::from),
            other => {
                if let Some(v) = other.strip_prefix("--window=") {
                    a.window = v.into();
                } else if let Some(v) = other.strip_prefix("--db=") {
                    a.db = Some(v.into());
                }
            }
        }
    }
    a
}

/// Show a staff notice (a takeover requested or started, a hand-back, an uncovered post) as a
/// desktop notification. The in-app inbox keeps it either way; false when this PC has no
/// notification daemon.
#[tauri::command]
fn desktop_notify(app: AppHandle, title: String, body: String) -> bool {
    use tauri_plugin_notification::NotificationExt;
    app.notification()
        .builder()
        .title(title)
        .body(body)
        .show()
        .is_ok()
}

/// Deadline levels change with time alone: every minute, recompute open cases, raise alerts for
/// rising levels and deliver those whose business hour has come (core decides when; nights and
/// holidays wait). Each delivered alert becomes a desktop notification; the windows reload on
/// the sweep's event and show the in-app banner.
fn start_deadline_sweep(app: AppHandle) {
    use tauri_plugin_notification::NotificationExt;
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        loop {
            let desk = app.state::<Desk>();
            match desk.store.sweep_deadlines(desk.clock.now()) {
                Ok((report, events)) => {
                    for ev in &events {
                        let _ = app.emit(event::EVENT_NAME, ev);
                    }
                    for alert in &report.delivered {
                        let shown = app
                            .notification()
                            .builder()
                            .title(format!("办件预警：{}", alert.level.label()))
                            .body(format!("{} {}", alert.case_number, alert.item_name))
                            .show();
                        if let Err(e) = shown {
                            // No notification daemon (a kiosk PC, a test display): the in-app
                            // banner still shows it.
                            eprintln!("桌面通知不可用：{e}");
                        }
                    }
                }
                Err(e) => eprintln!("限时办结巡检失败 [{}]: {}", e.code, e.message),
            }
            std::thread::sleep(std::time::Duration::from_secs(60));
            // Reports due (daily summary after closing, weekly, monthly) are filed beside the
            // archive; checked a minute after the sweep, so start-up stays quick.
            match desk.store.file_due_reports(desk.clock.now()) {
                Ok((filed, events)) => {
                    for ev in &events {
                        let _ = app.emit(event::EVENT_NAME, ev);
                    }
                    for r in &filed {
                        eprintln!("已归档报表：{}", r.title);
                    }
                }
                Err(e) => eprintln!("报表归档失败 [{}]: {}", e.code, e.message),
            }
        }
    });
}

/// Embedded mode keeps the hall's only copy on this PC: back it up online every
/// `ONETRIP_BACKUP_EVERY` minutes (default 60, 0 = off) into `backups/scheduled/`, keeping
/// `ONETRIP_BACKUP_KEEP` copies (default 48).
fn start_scheduled_backups(app: AppHandle) {
    let minutes: u64 = std::env::var("ONETRIP_BACKUP_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let keep: usize = std::env::var("ONETRIP_BACKUP_KEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    if minutes == 0 {
        return;
    }
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(minutes * 60));
            let desk = app.state::<Desk>();
            if let Err(e) = desk.store.scheduled_backup(desk.clock.now(), keep) {
                eprintln!("定时备份失败 [{}]: {}", e.code, e.message);
            }
        }
    });
}

pub fn run() {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "错误：没有图形显示（DISPLAY 未设置）。请在桌面环境中运行，或在 Xvfb 下运行（xvfb-run）。"
        );
        std::process::exit(2);
    }
    let args = parse_args();
    if !WINDOWS.iter().any(|(l, ..)| *l == args.window) {
        eprintln!(
            "错误：未知窗口 {}（可选 counter、display、kiosk、admin）",
            args.window
        );
        std::process::exit(2);
    }
    let db_path = args
        .db
        .clone()
        .or_else(|| std::env::var_os("ONETRIP_DB").map(PathBuf::from))
        .unwrap_or_else(onetrip_core::store::default_path);
    let clock = SystemClock;
    let (store, report) = match Store::open(&db_path, clock.now()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("错误 [{}]: {}", e.code, e.message);
            std::process::exit(2);
        }
    };
    if let Some(b) = &report.backup {
        eprintln!("已在迁移前备份数据库：{}", b.display());
    }
    let first_admin = match auth::bootstrap(&store, clock.now()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("错误 [{}]: {}", e.code, e.message);
            std::process::exit(2);
        }
    };
    if let Some(f) = &first_admin {
        eprintln!(
            "新数据库：首个系统管理员 {}，一次性密码 {}（首次登录须修改）",
            f.login, f.one_time_password
        );
    }
    let printer = match TicketPrinter::from_env() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("错误：号票打印机设置无效：{e}");
            std::process::exit(2);
        }
    };
    let announcer = if std::env::var("ONETRIP_VOICE").is_ok_and(|v| v == "off") {
        None
    } else {
        let dir = std::env::var_os("ONETRIP_VOICE_DIR").map(PathBuf::from);
        match ClipSet::load(dir.as_deref())
            .and_then(|set| Announcer::start(set, |e| eprintln!("语音播报失败：{e}")))
        {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("语音播报不可用：{e}");
                None
            }
        }
    };
    let desk = Desk {
        store,
        clock,
        db_path,
        first_admin: Mutex::new(first_admin),
        printer,
        announcer,
    };
    let start = args.window.clone();
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
            show_window(app.handle(), &start, fullscreen)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            start_deadline_sweep(app.handle().clone());
            start_scheduled_backups(app.handle().clone());
            // The first notice of the day would otherwise load the fonts inside its write.
            std::thread::spawn(|| {
                if let Err(e) = onetrip_core::notices::warm_up() {
                    eprintln!("通知书排版预热失败 [{}]: {}", e.code, e.message);
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
        for (label, ..) in super::WINDOWS {
            assert!(
                seen.contains_key(*label),
                "window {label} has no capability"
            );
        }
        for public in ["kiosk", "display"] {
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
