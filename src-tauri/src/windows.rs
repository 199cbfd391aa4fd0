//! OneTrip's windows and the menu that opens them. Each window has its own capability (see
//! `capabilities/`): the kiosk and the display reach only public operations.

use onetrip_core::{CoreError, ErrorCode};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

/// The windows OneTrip has: (label, title, width, height).
pub const WINDOWS: &[(&str, &str, f64, f64)] = &[
    ("counter", "一次办 · 窗口服务台", 1280.0, 800.0),
    ("display", "一次办 · 叫号屏", 1280.0, 720.0),
    ("kiosk", "一次办 · 取号机", 1024.0, 768.0),
    ("admin", "一次办 · 大厅管理", 1280.0, 800.0),
    ("rater", "一次办 · 服务评价", 1280.0, 800.0),
];

/// How many monitors this PC has (1 when it cannot tell).
pub fn monitors(app: &AppHandle) -> usize {
    app.available_monitors()
        .map(|m| m.len())
        .unwrap_or(1)
        .max(1)
}

/// Where the rater window was last (logical position and size), kept beside the app's config.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy)]
struct Placement {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

fn placement_file(app: &AppHandle) -> Option<std::path::PathBuf> {
    app.path()
        .app_config_dir()
        .ok()
        .map(|d| d.join("rater-window.json"))
}

fn saved_placement(app: &AppHandle) -> Option<Placement> {
    serde_json::from_str(&std::fs::read_to_string(placement_file(app)?).ok()?).ok()
}

fn save_placement(window: &tauri::WebviewWindow) {
    let (Ok(pos), Ok(size), Ok(scale)) = (
        window.outer_position(),
        window.inner_size(),
        window.scale_factor(),
    ) else {
        return;
    };
    let p = Placement {
        x: f64::from(pos.x) / scale,
        y: f64::from(pos.y) / scale,
        w: f64::from(size.width) / scale,
        h: f64::from(size.height) / scale,
    };
    if let (Some(file), Ok(text)) = (
        placement_file(window.app_handle()),
        serde_json::to_string(&p),
    ) {
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(file, text);
    }
}

/// The rater's place: where it was last; else the first monitor that is not the primary one
/// (the screen facing the applicant), filled; else beside the counter on the one screen.
fn rater_placement(app: &AppHandle) -> Option<(Placement, bool)> {
    if let Some(p) = saved_placement(app) {
        return Some((p, false));
    }
    let primary = app.primary_monitor().ok().flatten()?;
    let other = app
        .available_monitors()
        .ok()?
        .into_iter()
        .find(|m| m.position() != primary.position())?;
    let scale = other.scale_factor();
    Some((
        Placement {
            x: f64::from(other.position().x) / scale,
            y: f64::from(other.position().y) / scale,
            w: f64::from(other.size().width) / scale,
            h: f64::from(other.size().height) / scale,
        },
        true,
    ))
}

/// Open (or focus) one of OneTrip's windows.
#[tauri::command]
pub async fn open_window(app: AppHandle, label: String) -> Result<(), CoreError> {
    show_window(&app, &label, false)
}

pub fn show_window(app: &AppHandle, label: &str, fullscreen: bool) -> Result<(), CoreError> {
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
    if label == "rater"
        && let Some((p, fill)) = rater_placement(app)
    {
        b = b.position(p.x, p.y).inner_size(p.w, p.h).maximized(fill);
    }
    let window = b
        .build()
        .map_err(|e| CoreError::internal(format!("无法打开窗口 {label}：{e}")))?;
    if label == "rater" {
        let w = window.clone();
        window.on_window_event(move |e| {
            if matches!(
                e,
                tauri::WindowEvent::Moved(_)
                    | tauri::WindowEvent::Resized(_)
                    | tauri::WindowEvent::CloseRequested { .. }
            ) {
                save_placement(&w);
            }
        });
    }
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
