//! Printing on this PC: the kiosk's ticket printer (ESC/POS or CUPS) and the hall's notice
//! printer (a CUPS queue from the hall's settings), and saving exports. A print happens after
//! its record is committed: a failed print says so (`print_failed`) and loses nothing.

use onetrip_core::notices::Printable;
use onetrip_core::queue::TicketSlip;
use onetrip_core::queue::ticket::GetTicketSlip;
use onetrip_core::{Clock, CoreError, ErrorCode};
use onetrip_print::{Paper, PrinterTarget, TicketPrinter};
use serde::Serialize;
use tauri::{AppHandle, State, WebviewWindow};

use crate::desk::Desk;

/// This PC's ticket printer, from the environment (a per-machine setting: the printer belongs
/// to the PC, not to the hall database):
/// - `ONETRIP_TICKET_PRINTER`: `tcp://HOST:9100`, `file:/dev/usb/lp0`, or `cups:QUEUE` (PDF);
/// - `ONETRIP_TICKET_PAPER`: `58` or `80` (default 80);
/// - `ONETRIP_PRINTER_RASTER=1` for ESC/POS printers without a hanzi font or QR command (a CUPS
///   queue always gets the slip drawn as a PDF page).
pub fn ticket_printer_from_env() -> Result<Option<TicketPrinter>, String> {
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
    Ok(Some(TicketPrinter::new(target, paper, raster)))
}

#[derive(Serialize)]
pub struct PrintResult {
    /// False when this PC has no ticket printer configured.
    printed: bool,
    target: Option<String>,
}

/// Print a ticket slip on this PC's ticket printer. The ticket is already committed: a failed
/// print says so (`print_failed`) and loses nothing.
#[tauri::command]
pub async fn print_ticket(
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
pub async fn print_slip(desk: State<'_, Desk>, slip: TicketSlip) -> Result<PrintResult, CoreError> {
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
        target: Some(format!("{:?}", p.target())),
    })
}

/// Print an issued notice (`document`: its archive copy) or an item's service card (`card`) on
/// the hall's notice printer (a CUPS queue chosen in settings). The notice is already issued and
/// archived: a failed print says so and loses nothing.
#[tauri::command]
pub async fn print_notice(
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
pub async fn print_pdf(file: Printable) -> Result<PrintResult, CoreError> {
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
pub async fn export_catalog(
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
pub async fn save_download(
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
