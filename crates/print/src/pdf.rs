//! The PDF fallback for a ticket slip: one page 58 or 80 mm wide holding the slip as a 203 dpi
//! image (the same drawing as the raster ESC/POS path), for printers reached through CUPS.
//! An image keeps the layout independent of the printer's fonts; the page is as long as the
//! slip.

use ab_glyph::FontRef;
use onetrip_core::queue::TicketSlip;

use crate::PrintError;
use crate::escpos::{Paper, slip_bitmap};

const DPI: f64 = 203.0;

impl Paper {
    /// Paper width in millimetres.
    pub fn mm(self) -> f64 {
        match self {
            Paper::Mm58 => 58.0,
            Paper::Mm80 => 80.0,
        }
    }
}

/// A one-page PDF of the slip; returns the bytes and the page size in millimetres.
pub fn ticket_pdf(
    slip: &TicketSlip,
    paper: Paper,
    font: &FontRef<'_>,
) -> Result<(Vec<u8>, (f64, f64)), PrintError> {
    let (w, h, bits) = slip_bitmap(slip, paper, font)?;
    let pt = |mm: f64| mm * 72.0 / 25.4;
    let margin_mm = 4.0;
    let img_w = f64::from(w) / DPI * 72.0;
    let img_h = f64::from(h) / DPI * 72.0;
    let page_w = pt(paper.mm());
    let page_h = img_h + 2.0 * pt(margin_mm);
    let x = (page_w - img_w) / 2.0;
    let y = pt(margin_mm);
    // 1 bit per pixel, rows padded to bytes (w is a multiple of 8), 1 = black via /Decode.
    let mut data = Vec::with_capacity((w / 8 * h) as usize);
    for row in bits.chunks(w as usize) {
        for byte in row.chunks(8) {
            data.push(
                byte.iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, b)| if *b { acc | (0x80 >> i) } else { acc }),
            );
        }
    }
    let content = format!("q {img_w:.3} 0 0 {img_h:.3} {x:.3} {y:.3} cm /Slip Do Q\n");
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w:.3} {page_h:.3}] /Resources << /XObject << /Slip 5 0 R >> >> /Contents 4 0 R >>"
        )
        .as_bytes(),
    );
    obj(
        &mut out,
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        )
        .as_bytes(),
    );
    let mut img = format!(
        "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0] /Length {} >>\nstream\n",
        data.len()
    )
    .into_bytes();
    img.extend_from_slice(&data);
    img.extend_from_slice(b"\nendstream");
    obj(&mut out, &img);
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    Ok((out, (paper.mm(), page_h * 25.4 / 72.0)))
}
