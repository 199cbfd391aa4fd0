//! The PDF fallback: one page exactly 58 or 80 mm wide; rendered back by poppler at the printer's
//! resolution, the slip carries ink where the text is and its QR code decodes to the ticket id.

use std::process::Command;

use onetrip_core::queue::TicketSlip;
use onetrip_print::pdf::ticket_pdf;
use onetrip_print::{Paper, font_ref, system_cjk_font};

fn slip() -> TicketSlip {
    TicketSlip {
        ticket_id: "019a0000-0000-7000-8000-00000000b007".into(),
        hall_name: "西湖区政务服务中心".into(),
        category_name: "社保医保".into(),
        number: "B007".into(),
        priority: None,
        ahead: 6,
        estimated_minutes: None,
        issued_at: "2026-11-23 09:05:12".into(),
        qr: "019a0000-0000-7000-8000-00000000b007".into(),
        note: "过号请重新取号".into(),
    }
}

/// Parse a binary PBM (P4) as poppler's `pdftoppm -mono` writes it.
fn pbm(bytes: &[u8]) -> (usize, usize, Vec<bool>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 3 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8(bytes[start..i].to_vec()).unwrap());
    }
    assert_eq!(fields[0], "P4");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = &bytes[i + 1..];
    let stride = w.div_ceil(8);
    let mut px = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            px[y * w + x] = data[y * stride + x / 8] & (0x80 >> (x % 8)) != 0;
        }
    }
    (w, h, px)
}

#[test]
fn the_pdf_slip_is_paper_wide_and_its_qr_reads_back() {
    let (font_bytes, index) = system_cjk_font().expect("fonts-noto-cjk is installed");
    let font = font_ref(&font_bytes, index).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (paper, mm) in [(Paper::Mm58, 58.0), (Paper::Mm80, 80.0)] {
        let (bytes, (w_mm, h_mm)) = ticket_pdf(&slip(), paper, &font).unwrap();
        assert_eq!(w_mm, mm);
        assert!(
            (60.0..200.0).contains(&h_mm),
            "a slip is a few inches long, not {h_mm} mm"
        );
        let path = dir.path().join(format!("slip-{mm}.pdf"));
        std::fs::write(&path, &bytes).unwrap();
        let info = Command::new("pdfinfo")
            .arg(&path)
            .output()
            .expect("poppler-utils installed");
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("Pages:           1"), "{info}");
        let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap();
        let w_pt: f64 = size.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((w_pt - mm * 72.0 / 25.4).abs() < 0.1, "{size}");

        let out = dir.path().join(format!("slip-{mm}"));
        let st = Command::new("pdftoppm")
            .args(["-r", "203", "-mono", "-singlefile"])
            .arg(&path)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        // Kept for looking at: target/print-shots/ticket-slip-58mm.png and -80mm.png.
        let shots =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/print-shots");
        std::fs::create_dir_all(&shots).unwrap();
        let st = Command::new("pdftoppm")
            .args(["-r", "203", "-png", "-singlefile"])
            .arg(&path)
            .arg(shots.join(format!("ticket-slip-{mm}mm")))
            .status()
            .unwrap();
        assert!(st.success());
        let (w, h, px) = pbm(&std::fs::read(out.with_extension("pbm")).unwrap());
        let ink = px.iter().filter(|b| **b).count();
        assert!(ink > w * h / 50, "the page carries the slip's ink");
        let mut img = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| px[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code on the {mm} mm page");
        assert_eq!(grids[0].decode().unwrap().1, slip().ticket_id);
    }
}

#[test]
fn a_cups_ticket_printer_draws_the_slip_without_being_told_to() {
    // `cups:QUEUE` alone, as the README documents it: no raster setting, yet CUPS takes a PDF
    // page, which needs the CJK font.
    let p = onetrip_print::TicketPrinter::new(
        onetrip_print::PrinterTarget::parse("cups:kiosk").unwrap(),
        Paper::Mm80,
        false,
    );
    let bytes = p.render(&slip()).expect("a PDF for CUPS");
    assert!(bytes.starts_with(b"%PDF"), "CUPS gets a PDF page");
    let escpos = onetrip_print::TicketPrinter::new(
        onetrip_print::PrinterTarget::parse("tcp://127.0.0.1:9100").unwrap(),
        Paper::Mm80,
        false,
    );
    assert!(
        escpos.render(&slip()).unwrap().starts_with(&[0x1B, b'@']),
        "a thermal printer gets ESC/POS"
    );
}
