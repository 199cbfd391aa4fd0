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
];

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
