//! A fake ESC/POS printer on 127.0.0.1 captures what the kiosk sends; the test decodes the
//! stream back: the GB18030 text, the QR payload (native command, or the raster image read
//! back by a QR decoder), and the cut.

use std::io::Read;
use std::net::TcpListener;

use onetrip_core::queue::{PriorityReason, TicketSlip};
use onetrip_print::escpos::{self, ESC, FS, GS};
use onetrip_print::{Paper, PrinterProfile, PrinterTarget, font_ref, system_cjk_font};

fn slip() -> TicketSlip {
    TicketSlip {
        ticket_id: "019a0000-0000-7000-8000-00000000a001".into(),
        hall_name: "西湖区政务服务中心".into(),
        category_name: "不动产登记".into(),
        number: "A001".into(),
        priority: Some(PriorityReason::Elderly),
        ahead: 2,
        estimated_minutes: Some(12),
        issued_at: "2026-11-23 10:22:00".into(),
        qr: "019a0000-0000-7000-8000-00000000a001".into(),
        note: "过号请重新取号".into(),
    }
}

/// Listen on a free loopback port; the thread returns everything received on one connection.
fn fake_printer() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("tcp://{}", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        buf
    });
    (addr, h)
}

#[derive(Debug, Default)]
struct Decoded {
    text: Vec<String>,
    qr: Vec<String>,
    rasters: Vec<(usize, usize, Vec<u8>)>,
    cut: bool,
    sizes: Vec<u8>,
    high_bytes_in_text: usize,
}

/// Walk the command stream. Unknown commands fail the test: the printer would print garbage.
fn decode(b: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let mut i = 0;
    let mut text = Vec::new();
    let flush = |text: &mut Vec<u8>, d: &mut Decoded| {
        if !text.is_empty() {
            d.high_bytes_in_text += text.iter().filter(|b| **b >= 0x80).count();
            let (s, _, bad) = encoding_rs::GB18030.decode(text);
            assert!(!bad, "text decodes as GB18030");
            d.text.push(s.into_owned());
            text.clear();
        }
    };
    while i < b.len() {
        match b[i] {
            ESC => match b[i + 1] {
                b'@' => i += 2,
                b'a' | b'E' | b'd' => i += 3,
                c => panic!("unexpected ESC {c:#x} at {i}"),
            },
            FS => {
                assert!(matches!(b[i + 1], b'&' | b'.'), "FS & / FS .");
                i += 2;
            }
            GS => match b[i + 1] {
                b'!' => {
                    d.sizes.push(b[i + 2]);
                    i += 3;
                }
                b'V' => {
                    d.cut = true;
                    i += 4;
                }
                b'(' => {
                    assert_eq!(b[i + 2], b'k');
                    let len = usize::from(b[i + 3]) + 256 * usize::from(b[i + 4]);
                    let body = &b[i + 5..i + 5 + len];
                    assert_eq!(body[0], 49, "QR function group");
                    if body[1] == 80 {
                        d.qr.push(String::from_utf8(body[3..].to_vec()).unwrap());
                    }
                    i += 5 + len;
                }
                b'v' => {
                    assert_eq!(b[i + 2], b'0');
                    let wb = usize::from(b[i + 4]) + 256 * usize::from(b[i + 5]);
                    let h = usize::from(b[i + 6]) + 256 * usize::from(b[i + 7]);
                    let data = b[i + 8..i + 8 + wb * h].to_vec();
                    d.rasters.push((wb * 8, h, data));
                    i += 8 + wb * h;
                }
                c => panic!("unexpected GS {c:#x} at {i}"),
            },
            b'\n' => {
                flush(&mut text, &mut d);
                i += 1;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut text, &mut d);
    d
}

#[test]
fn a_full_printer_gets_gb18030_text_and_the_native_qr_over_tcp_9100_style_raw_port() {
    let bytes = escpos::ticket(&slip(), &PrinterProfile::full(Paper::Mm58), None).unwrap();
    let (addr, printer) = fake_printer();
    PrinterTarget::parse(&addr).unwrap().send(&bytes).unwrap();
    let got = printer.join().unwrap();
    assert_eq!(got, bytes, "the printer received every byte");
    let d = decode(&got);
    assert_eq!(
        d.text,
        [
            "西湖区政务服务中心",
            "不动产登记（绿色通道）",
            "A001",
            "前面还有 2 人等候",
            "预计等候约 12 分钟",
            "取号时间：2026-11-23 10:22:00",
            "请留意叫号屏 · 当日有效",
            "过号请重新取号",
        ]
    );
    assert!(
        d.sizes.contains(&0x22),
        "the number is printed large (3×) on 58 mm"
    );
    assert_eq!(
        d.qr,
        [slip().ticket_id],
        "the QR code carries the ticket id"
    );
    assert!(d.rasters.is_empty());
    assert!(d.cut, "the slip is cut");
    assert!(
        d.high_bytes_in_text > 0,
        "Chinese went out as GB18030 bytes"
    );
}

#[test]
fn a_printer_without_hanzi_or_qr_gets_rasters_that_read_back() {
    let (font_bytes, index) = system_cjk_font().expect("fonts-noto-cjk is installed");
    let font = font_ref(&font_bytes, index).unwrap();
    let bytes = escpos::ticket(
        &slip(),
        &PrinterProfile::raster_only(Paper::Mm80),
        Some(&font),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("lp0");
    PrinterTarget::parse(&format!("file:{}", dev.display()))
        .unwrap()
        .send(&bytes)
        .unwrap();
    let d = decode(&std::fs::read(&dev).unwrap());
    assert_eq!(
        d.high_bytes_in_text, 0,
        "no hanzi bytes reach a printer without a hanzi font"
    );
    assert!(d.qr.is_empty(), "no native QR command");
    assert_eq!(
        d.rasters.len(),
        9,
        "eight text lines and the QR code as images"
    );
    for (w, _, _) in &d.rasters {
        assert_eq!(*w, 576, "80 mm paper is 576 dots wide");
    }
    // The number's line is drawn (ink present), and the QR raster decodes to the ticket id.
    let ink = |data: &Vec<u8>| data.iter().map(|b| b.count_ones()).sum::<u32>();
    assert!(ink(&d.rasters[2].2) > 500, "A001 in large type has ink");
    // Every line is centred on the paper, the issuing time included: as much paper left of the
    // ink as right of it (within 12 dots, 1.5 mm: a full-width bracket sits off-centre in its box).
    let columns = |(w, h, data): &(usize, usize, Vec<u8>)| {
        let inked = |x: usize| (0..*h).any(|y| data[y * (w / 8) + x / 8] & (0x80 >> (x % 8)) != 0);
        let left = (0..*w).find(|x| inked(*x)).expect("the line has ink");
        let right = (0..*w).rev().find(|x| inked(*x)).unwrap();
        (left, w - 1 - right)
    };
    for (i, r) in d.rasters.iter().enumerate().filter(|(i, _)| *i != 7) {
        let (left, right) = columns(r);
        assert!(
            left.abs_diff(right) <= 12,
            "line {i} is centred: {left} dots left of it, {right} right"
        );
    }
    // The number is bold: its strokes fill far more of its box than the hall name's at 1×.
    let fill = |(w, h, data): &(usize, usize, Vec<u8>)| {
        let (left, right) = columns(&(*w, *h, data.clone()));
        let ink = data.iter().map(|b| b.count_ones()).sum::<u32>() as f64;
        ink / ((w - left - right) * h) as f64
    };
    let number = fill(&d.rasters[2]);
    let time = fill(&d.rasters[5]);
    assert!(
        number > 0.22 && number > time * 1.8,
        "the number is printed bold: {number:.2} of its box inked (time line {time:.2})"
    );
    let (w, h, data) = &d.rasters[7];
    let mut img = rqrr::PreparedImage::prepare_from_bitmap(*w, *h, |x, y| {
        data[y * (w / 8) + x / 8] & (0x80 >> (x % 8)) != 0
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, slip().ticket_id);
}

#[test]
fn bad_targets_and_dead_printers_say_so() {
    assert!(PrinterTarget::parse("lpt1").is_err());
    assert!(PrinterTarget::parse("tcp://nohost").is_err());
    // A port nobody listens on (bind then drop).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = PrinterTarget::parse(&format!("tcp://127.0.0.1:{port}"))
        .unwrap()
        .send(b"x")
        .unwrap_err();
    assert!(e.to_string().contains("无法连接打印机"), "{e}");
}
