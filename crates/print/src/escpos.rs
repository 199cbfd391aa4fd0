//! ESC/POS for kiosk ticket printers (58 or 80 mm thermal).
//!
//! Contract:
//! - Text is GB18030 in Chinese character mode (`FS &`), the encoding Chinese thermal printers
//!   read; the QR code uses the printer's own command (`GS ( k`, model 2, level M).
//! - A [`PrinterProfile`] says what the printer can do. Cheap printers lack a hanzi font or the
//!   QR command: then the text is drawn into a raster image (`GS v 0`) with a CJK font from the
//!   system, and the QR code is drawn as a raster too. Nothing depends on what the printer has
//!   that the profile did not promise.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use onetrip_core::queue::TicketSlip;

use crate::PrintError;

/// Paper width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Mm58,
    Mm80,
}

impl Paper {
    /// Printable width in dots at 203 dpi.
    pub fn dots(self) -> u32 {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }
    pub fn parse(s: &str) -> Option<Paper> {
        match s.trim() {
            "58" | "58mm" => Some(Paper::Mm58),
            "80" | "80mm" => Some(Paper::Mm80),
            _ => None,
        }
    }
}

/// What one printer can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterProfile {
    pub paper: Paper,
    /// Has a built-in GB18030 hanzi font.
    pub hanzi: bool,
    /// Understands `GS ( k` QR codes.
    pub native_qr: bool,
}

impl PrinterProfile {
    pub fn full(paper: Paper) -> Self {
        Self {
            paper,
            hanzi: true,
            native_qr: true,
        }
    }
    pub fn raster_only(paper: Paper) -> Self {
        Self {
            paper,
            hanzi: false,
            native_qr: false,
        }
    }
}

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;

/// `ESC a 1`: every line of a slip is centred (a slip read at a glance has one axis).
const CENTRE: u8 = 1;

/// One line of the slip.
struct Line {
    text: String,
    /// Magnification 1–4 (width and height).
    mag: u8,
    bold: bool,
}

fn line(text: impl Into<String>, mag: u8, bold: bool) -> Line {
    Line {
        text: text.into(),
        mag,
        bold,
    }
}

/// Printed on every slip: where the call will show, and that the number is for today only.
pub const SLIP_REMINDER: &str = "请留意叫号屏 · 当日有效";

/// The lines of a ticket slip, top to bottom; the QR code goes before the last (the note).
fn slip_lines(slip: &TicketSlip, paper: Paper) -> Vec<Line> {
    let big = match paper {
        Paper::Mm58 => 3,
        Paper::Mm80 => 4,
    };
    let mut category = slip.category_name.clone();
    if slip.priority.is_some() {
        category.push_str("（绿色通道）");
    }
    let wait = match slip.estimated_minutes {
        Some(m) => format!("预计等候约 {m} 分钟"),
        None => "窗口暂未开放".to_owned(),
    };
    vec![
        line(&slip.hall_name, 1, true),
        line(category, 1, false),
        line(&slip.number, big, true),
        line(format!("前面还有 {} 人等候", slip.ahead), 1, false),
        line(wait, 1, false),
        line(format!("取号时间：{}", slip.issued_at), 1, false),
        line(SLIP_REMINDER, 1, false),
        line(&slip.note, 1, false),
    ]
}

/// The ESC/POS bytes of a ticket slip. `font` (a CJK font) is needed only when the profile has
/// no hanzi font.
pub fn ticket(
    slip: &TicketSlip,
    profile: &PrinterProfile,
    font: Option<&FontRef<'_>>,
) -> Result<Vec<u8>, PrintError> {
    let mut out = vec![ESC, b'@'];
    let lines = slip_lines(slip, profile.paper);
    let (body, note) = lines.split_at(lines.len() - 1);
    let font = if profile.hanzi {
        None
    } else {
        Some(font.ok_or(PrintError::NoFont)?)
    };
    let emit = |out: &mut Vec<u8>, l: &Line| -> Result<(), PrintError> {
        match font {
            None => text_line(out, l),
            Some(f) => {
                raster_text_line(out, l, f, profile.paper);
                Ok(())
            }
        }
    };
    if profile.hanzi {
        out.extend([FS, b'&']);
    }
    for l in body {
        emit(&mut out, l)?;
    }
    out.extend([ESC, b'a', CENTRE]);
    if profile.native_qr {
        native_qr(&mut out, &slip.qr)?;
    } else {
        raster_qr(&mut out, &slip.qr, profile.paper)?;
    }
    out.push(b'\n');
    for l in note {
        emit(&mut out, l)?;
    }
    // Feed past the cutter and cut (partial cut with feed).
    out.extend([ESC, b'd', 4, GS, b'V', 66, 0]);
    Ok(out)
}

fn text_line(out: &mut Vec<u8>, l: &Line) -> Result<(), PrintError> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&l.text);
    if unmappable {
        return Err(PrintError::Encoding(l.text.clone()));
    }
    let size = ((l.mag - 1) << 4) | (l.mag - 1);
    out.extend([
        ESC,
        b'a',
        CENTRE,
        GS,
        b'!',
        size,
        ESC,
        b'E',
        u8::from(l.bold),
    ]);
    out.extend_from_slice(&bytes);
    out.push(b'\n');
    out.extend([GS, b'!', 0, ESC, b'E', 0]);
    Ok(())
}

/// `GS ( k`: model 2, module size, error correction M, store, print.
fn native_qr(out: &mut Vec<u8>, data: &str) -> Result<(), PrintError> {
    let d = data.as_bytes();
    let len = d.len() + 3;
    if len > 7089 {
        return Err(PrintError::Encoding(data.to_owned()));
    }
    out.extend([GS, b'(', b'k', 4, 0, 49, 65, 50, 0]); // fn 65: model 2
    out.extend([GS, b'(', b'k', 3, 0, 49, 67, 6]); // fn 67: module 6 dots
    out.extend([GS, b'(', b'k', 3, 0, 49, 69, 49]); // fn 69: level M
    out.extend([
        GS,
        b'(',
        b'k',
        (len % 256) as u8,
        (len / 256) as u8,
        49,
        80,
        48,
    ]); // fn 80: store
    out.extend_from_slice(d);
    out.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]); // fn 81: print
    Ok(())
}

/// A 1-bit image, row-major, `width` a multiple of 8.
struct Bitmap {
    width: u32,
    height: u32,
    bits: Vec<bool>,
}

impl Bitmap {
    fn new(width: u32, height: u32) -> Self {
        let width = width.div_ceil(8) * 8;
        Self {
            width,
            height,
            bits: vec![false; (width * height) as usize],
        }
    }
    fn set(&mut self, x: u32, y: u32) {
        if x < self.width && y < self.height {
            self.bits[(y * self.width + x) as usize] = true;
        }
    }
    /// `GS v 0`: raster bit image, normal density.
    fn write(&self, out: &mut Vec<u8>) {
        let wb = self.width / 8;
        out.extend([
            GS,
            b'v',
            b'0',
            0,
            (wb % 256) as u8,
            (wb / 256) as u8,
            (self.height % 256) as u8,
            (self.height / 256) as u8,
        ]);
        for y in 0..self.height {
            for bx in 0..wb {
                let mut byte = 0u8;
                for bit in 0..8 {
                    if self.bits[(y * self.width + bx * 8 + bit) as usize] {
                        byte |= 0x80 >> bit;
                    }
                }
                out.push(byte);
            }
        }
    }
}

fn raster_qr(out: &mut Vec<u8>, data: &str, paper: Paper) -> Result<(), PrintError> {
    qr_bitmap(data, paper)?.write(out);
    Ok(())
}

fn qr_bitmap(data: &str, paper: Paper) -> Result<Bitmap, PrintError> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M)
        .map_err(|e| PrintError::Encoding(format!("{data}: {e}")))?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let scale = 6;
    let quiet = 4 * scale;
    let size = modules * scale + 2 * quiet;
    let mut bmp = Bitmap::new(paper.dots(), size);
    let left = (paper.dots() - size) / 2 + quiet;
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % modules, i as u32 / modules);
            for dy in 0..scale {
                for dx in 0..scale {
                    bmp.set(left + mx * scale + dx, quiet + my * scale + dy);
                }
            }
        }
    }
    Ok(bmp)
}

/// Draw one line of text into a raster image the width of the paper.
fn raster_text_line(out: &mut Vec<u8>, l: &Line, font: &FontRef<'_>, paper: Paper) {
    out.extend([ESC, b'a', 0]);
    text_bitmap(l, font, paper).write(out);
}

fn text_bitmap(l: &Line, font: &FontRef<'_>, paper: Paper) -> Bitmap {
    let px = 24.0 * f32::from(l.mag);
    let scaled = font.as_scaled(PxScale::from(px));
    let width: f32 = l
        .text
        .chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum();
    let height = (scaled.ascent() - scaled.descent()).ceil() as u32 + 4;
    let mut bmp = Bitmap::new(paper.dots(), height);
    let mut x = ((paper.dots() as f32 - width) / 2.0).max(0.0);
    let baseline = scaled.ascent() + 2.0;
    for c in l.text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(x, baseline));
        x += scaled.h_advance(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            // Bold text is the outline drawn again one dot further right and down per size
            // step: a thermal head's dots are coarse, and a number read from a metre away
            // needs strokes several dots wide, not a lower coverage threshold.
            let spread = if l.bold { i32::from(l.mag.max(1)) } else { 0 };
            outline.draw(|gx, gy, cov| {
                if cov > 0.5 {
                    let (px_, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                    for dx in 0..=spread {
                        for dy in 0..=spread / 2 {
                            let (x, y) = (px_ + dx, py + dy);
                            if x >= 0 && y >= 0 {
                                bmp.set(x as u32, y as u32);
                            }
                        }
                    }
                }
            });
        }
    }
    bmp
}

/// The whole slip as one image the width of the paper's printable area (203 dpi): for the PDF
/// fallback, where the layout must not depend on the printer's fonts.
pub(crate) fn slip_bitmap(
    slip: &TicketSlip,
    paper: Paper,
    font: &FontRef<'_>,
) -> Result<(u32, u32, Vec<bool>), PrintError> {
    let lines = slip_lines(slip, paper);
    let (body, note) = lines.split_at(lines.len() - 1);
    let mut parts: Vec<Bitmap> = body.iter().map(|l| text_bitmap(l, font, paper)).collect();
    parts.push(qr_bitmap(&slip.qr, paper)?);
    parts.extend(note.iter().map(|l| text_bitmap(l, font, paper)));
    let width = parts[0].width;
    let height = parts.iter().map(|b| b.height).sum();
    let mut bits = Vec::with_capacity((width * height) as usize);
    for b in parts {
        bits.extend(b.bits);
    }
    Ok((width, height, bits))
}
