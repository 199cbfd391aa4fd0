//! Printing at the kiosk and the counter. Tauri-free: the desktop shell decides *when* to print
//! and where the printer is; this crate turns a document into bytes and delivers them.
//!
//! - [`escpos`]: ticket slips for thermal printers.
//! - [`pdf`]: the same slip as a PDF page 58/80 mm wide, for printers behind CUPS.
//! - [`PrinterTarget`]: where the bytes go: a network printer (`tcp://HOST:9100`, the raw port
//!   every thermal printer offers), a device file (`file:/dev/usb/lp0`), or a CUPS queue
//!   (`cups:QUEUE`, which takes the PDF through `lp`).

pub mod escpos;
pub mod pdf;

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use escpos::{Paper, PrinterProfile};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("打印机地址无效：{0}（应为 tcp://主机:端口、file:/设备路径 或 cups:队列名）")]
    BadTarget(String),
    #[error("无法连接打印机 {target}：{why}")]
    Unreachable { target: String, why: String },
    #[error("发送到打印机失败：{0}")]
    Io(String),
    #[error("打印内容含有打印机无法编码的字符：{0}")]
    Encoding(String),
    #[error("找不到中文字体（需要 fonts-noto-cjk），无法以图像方式打印中文")]
    NoFont,
}

/// Where a printer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    Tcp(String),
    File(PathBuf),
    Cups(String),
}

pub use onetrip_core::validate::cups_queue as valid_queue;

impl PrinterTarget {
    pub fn parse(s: &str) -> Result<PrinterTarget, PrintError> {
        let s = s.trim();
        if let Some(addr) = s.strip_prefix("tcp://") {
            if addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            {
                return Ok(PrinterTarget::Tcp(addr.to_owned()));
            }
        } else if let Some(queue) = s.strip_prefix("cups:")
            && valid_queue(queue)
        {
            return Ok(PrinterTarget::Cups(queue.to_owned()));
        } else if let Some(path) = s.strip_prefix("file:")
            && !path.is_empty()
        {
            return Ok(PrinterTarget::File(PathBuf::from(path)));
        }
        Err(PrintError::BadTarget(s.to_owned()))
    }

    /// Deliver raw bytes. A network printer gets 5 s to accept and take them.
    pub fn send(&self, bytes: &[u8]) -> Result<(), PrintError> {
        match self {
            PrinterTarget::Tcp(addr) => {
                let unreachable = |why: String| PrintError::Unreachable {
                    target: addr.clone(),
                    why,
                };
                let sock = addr
                    .to_socket_addrs()
                    .map_err(|e| unreachable(e.to_string()))?
                    .next()
                    .ok_or_else(|| unreachable("地址无法解析".into()))?;
                let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(5))
                    .map_err(|e| unreachable(e.to_string()))?;
                s.set_write_timeout(Some(Duration::from_secs(5)))
                    .map_err(|e| PrintError::Io(e.to_string()))?;
                s.write_all(bytes)
                    .and_then(|()| s.flush())
                    .map_err(|e| PrintError::Io(e.to_string()))?;
                s.shutdown(std::net::Shutdown::Write)
                    .map_err(|e| PrintError::Io(e.to_string()))
            }
            PrinterTarget::Cups(queue) => {
                // `lp` reads the document from stdin; CUPS converts the PDF for the printer.
                let mut cmd = std::process::Command::new("lp");
                match queue.split_once('@') {
                    Some((q, server)) => cmd.args(["-h", server, "-d", q]),
                    None => cmd.args(["-d", queue]),
                };
                let mut child = cmd
                    .args(["-t", "OneTrip", "-"])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| PrintError::Unreachable {
                        target: format!("cups:{queue}"),
                        why: format!("无法运行 lp：{e}"),
                    })?;
                if let Some(mut stdin) = child.stdin.take() {
                    stdin
                        .write_all(bytes)
                        .map_err(|e| PrintError::Io(e.to_string()))?;
                }
                let out = child
                    .wait_with_output()
                    .map_err(|e| PrintError::Io(e.to_string()))?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(PrintError::Unreachable {
                        target: format!("cups:{queue}"),
                        why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    })
                }
            }
            PrinterTarget::File(path) => std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .and_then(|mut f| f.write_all(bytes))
                .map_err(|e| PrintError::Io(format!("{}：{e}", path.display()))),
        }
    }
}

/// A kiosk's ticket printer: where it is, its paper and what it can do, and the CJK font when
/// the slip has to be drawn (a printer without a hanzi font, or any CUPS queue, which takes
/// the slip as a PDF page and so always needs the font, whatever the raster setting says).
pub struct TicketPrinter {
    target: PrinterTarget,
    profile: PrinterProfile,
    font: Option<(Vec<u8>, u32)>,
}

impl TicketPrinter {
    /// `raster`: the printer has no hanzi font or QR command (ESC/POS targets only).
    pub fn new(target: PrinterTarget, paper: Paper, raster: bool) -> TicketPrinter {
        let profile = if raster {
            PrinterProfile::raster_only(paper)
        } else {
            PrinterProfile::full(paper)
        };
        let draws = raster || matches!(target, PrinterTarget::Cups(_));
        TicketPrinter {
            target,
            profile,
            font: if draws { system_cjk_font() } else { None },
        }
    }

    /// The bytes for this printer: ESC/POS, or a PDF page for CUPS.
    pub fn render(&self, slip: &onetrip_core::queue::TicketSlip) -> Result<Vec<u8>, PrintError> {
        let font = match &self.font {
            Some((bytes, index)) => Some(font_ref(bytes, *index)?),
            None => None,
        };
        match (&self.target, &font) {
            (PrinterTarget::Cups(_), Some(f)) => {
                Ok(pdf::ticket_pdf(slip, self.profile.paper, f)?.0)
            }
            (PrinterTarget::Cups(_), None) => Err(PrintError::NoFont),
            _ => escpos::ticket(slip, &self.profile, font.as_ref()),
        }
    }

    pub fn print(&self, slip: &onetrip_core::queue::TicketSlip) -> Result<(), PrintError> {
        self.target.send(&self.render(slip)?)
    }

    pub fn target(&self) -> &PrinterTarget {
        &self.target
    }
}

/// Where Debian (fonts-noto-cjk) keeps the CJK font; face 2 of the collection is Simplified
/// Chinese.
pub const CJK_FONT_PATHS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
];

/// The bytes and face index of the system's CJK font, if installed.
pub fn system_cjk_font() -> Option<(Vec<u8>, u32)> {
    CJK_FONT_PATHS
        .iter()
        .find_map(|(p, i)| std::fs::read(Path::new(p)).ok().map(|b| (b, *i)))
}

/// Parse a font for [`escpos::ticket`]'s raster fallback.
pub fn font_ref(bytes: &[u8], index: u32) -> Result<ab_glyph::FontRef<'_>, PrintError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, index).map_err(|_| PrintError::NoFont)
}
