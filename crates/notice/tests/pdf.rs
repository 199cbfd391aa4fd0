//! Notices as PDF: page size, fonts embedded and subset (`pdffonts`), the Chinese text and a
//! rare-character name extractable (`pdftotext`), PDF/A-2b metadata, one golden rendering
//! compared as PNG with a tolerance, and broken templates refused with their error.

use std::path::{Path, PathBuf};
use std::process::Command;

use onetrip_notice::{Issued, NoticeError, NoticeKind, Paper, check_template, render_pdf};

const AT: Issued = Issued {
    year: 2026,
    month: 11,
    day: 23,
    hour: 2,
    minute: 0,
    second: 0,
};

fn write(dir: &Path, name: &str, pdf: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, pdf).unwrap();
    p
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn render(kind: NoticeKind, paper: Paper) -> Vec<u8> {
    render_pdf(
        kind.default_template(),
        &kind.sample_data(),
        paper,
        "330106-SQ-2026-000001",
        "330106-WS-2026-000001",
        AT,
    )
    .unwrap()
}

#[test]
fn every_default_template_renders_a4_and_a5_with_embedded_subset_fonts() {
    let dir = tempfile::tempdir().unwrap();
    for kind in NoticeKind::ALL {
        for (paper, size) in [
            (Paper::A4, "595.276 x 841.89 pts"),
            (Paper::A5, "419.528 x 595.276 pts"),
        ] {
            let pdf = render(kind, paper);
            let p = write(
                dir.path(),
                &format!("{}-{}.pdf", kind.as_str(), paper.as_str()),
                &pdf,
            );
            let path = p.to_str().unwrap();
            let info = tool("pdfinfo", &[path]);
            assert!(info.contains(size), "{kind:?} {paper:?}: {info}");
            let fonts = tool("pdffonts", &[path]);
            let rows: Vec<&str> = fonts.lines().skip(2).collect();
            assert!(!rows.is_empty(), "{kind:?}: fonts listed");
            for row in rows {
                let cols: Vec<&str> = row.split_whitespace().collect();
                // name type [type] encoding emb sub uni object ID
                let n = cols.len();
                assert_eq!(
                    (cols[n - 5], cols[n - 4]),
                    ("yes", "yes"),
                    "{kind:?}: embedded and subset: {row}"
                );
                assert!(cols[0].contains('+'), "a subset font has a tag: {row}");
            }
            assert!(
                pdf.len() < 400_000,
                "{kind:?} {paper:?}: subset fonts keep it small ({} bytes)",
                pdf.len()
            );
            let xmp = String::from_utf8_lossy(&pdf);
            assert!(
                xmp.contains("pdfaid:part") && xmp.contains("pdfaid:conformance"),
                "PDF/A metadata"
            );
        }
    }
}

#[test]
fn the_text_and_the_rare_name_are_extractable() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = NoticeKind::SupplementNotice.sample_data();
    data["applicant"]["name"] = "王䶮𪚥𠇔".into();
    let pdf = render_pdf(
        NoticeKind::SupplementNotice.default_template(),
        &data,
        Paper::A4,
        "330106-SQ-2026-000001",
        "X",
        AT,
    )
    .unwrap();
    let p = write(dir.path(), "rare.pdf", &pdf);
    // Typst puts a thin space between Chinese and digits; pdftotext shows it as a space.
    let text: String = tool("pdftotext", &[p.to_str().unwrap(), "-"])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for want in [
        "补正材料通知书",
        "一次性告知单",
        "王䶮𪚥𠇔",
        "户口簿",
        "复印件不清晰",
        "已收取的材料",
        "需核实后告知的事项",
        "住所是否在本辖区",
        "2026年12月21日",
        "张伟",
        "行政许可法",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in the extracted text:\n{text}"
        );
    }
}

/// Mean absolute difference per channel between two same-size RGB(A) PNGs, 0–255.
fn png_diff(a: &[u8], b: &[u8]) -> f64 {
    let decode = |bytes: &[u8]| {
        let d = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    };
    let (wa, ha, pa) = decode(a);
    let (wb, hb, pb) = decode(b);
    assert_eq!((wa, ha), (wb, hb), "same page size");
    let sum: u64 = pa
        .iter()
        .zip(&pb)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / pa.len() as f64
}

#[test]
fn the_supplement_notice_matches_its_golden_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = render(NoticeKind::SupplementNotice, Paper::A5);
    let p = write(dir.path(), "golden.pdf", &pdf);
    let prefix = dir.path().join("page");
    tool(
        "pdftoppm",
        &[
            "-r",
            "60",
            "-png",
            "-singlefile",
            p.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let got = std::fs::read(dir.path().join("page.png")).unwrap();
    let golden_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/supplement_notice_a5.png");
    if std::env::var_os("ONETRIP_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
        std::fs::write(&golden_path, &got).unwrap();
    }
    let golden =
        std::fs::read(&golden_path).expect("golden PNG (ONETRIP_UPDATE_GOLDEN=1 to write it)");
    let diff = png_diff(&golden, &got);
    assert!(
        diff < 2.0,
        "the rendering drifted from the golden one: mean difference {diff:.2}/255"
    );
}

#[test]
fn a_broken_template_is_refused_with_its_line_and_message() {
    let broken = "#let d = json(bytes(sys.inputs.data))\n#set page(paper: \"a4\")\n= 标题\n#d.no_such_field\n";
    match check_template(NoticeKind::AcceptanceNotice, broken) {
        Err(NoticeError::Template { line, message, .. }) => {
            assert_eq!(line, 4, "{message}");
            assert!(message.contains("no_such_field"), "{message}");
        }
        other => panic!("expected a template error, got {other:?}"),
    }
    let syntax = "#let d = json(bytes(sys.inputs.data)\n";
    assert!(matches!(
        check_template(NoticeKind::AcceptanceNotice, syntax),
        Err(NoticeError::Template { .. })
    ));
    for kind in NoticeKind::ALL {
        check_template(kind, kind.default_template()).unwrap();
    }
}

/// The startup warm-up renders the shipped acceptance notice (a broken template or missing
/// fonts are reported to the server log, not found by the first clerk who prints).
#[test]
fn warm_up_renders_the_shipped_acceptance_notice() {
    onetrip_notice::warm_up().expect("the warm-up renders the sample notice");
}

#[test]
fn the_supplement_notice_sets_its_sections_flush_and_each_requirement_apart() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "sections.pdf",
        &render(NoticeKind::SupplementNotice, Paper::A4),
    );
    let xml = tool("pdftotext", &["-bbox", p.to_str().unwrap(), "-"]);
    // (xMin, yMin, text) of every word poppler found.
    let words: Vec<(f64, f64, String)> = xml
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let attr = |name: &str| -> Option<f64> {
                let at = l.find(&format!("{name}=\""))? + name.len() + 2;
                l[at..].split('"').next()?.parse().ok()
            };
            let text = l
                .strip_prefix("<word ")?
                .split('>')
                .nth(1)?
                .split('<')
                .next()?;
            Some((attr("xMin")?, attr("yMin")?, text.to_owned()))
        })
        .collect();
    let x_of = |start: &str| {
        words
            .iter()
            .find(|w| w.2.starts_with(start))
            .unwrap_or_else(|| panic!("{start} on the page: {words:?}"))
            .0
    };
    let xs: Vec<f64> = ["一、", "二、", "三、", "四、"]
        .iter()
        .map(|h| x_of(h))
        .collect();
    for x in &xs {
        assert!(
            (x - xs[0]).abs() < 0.5,
            "every section heading starts at the same margin: {xs:?}"
        );
    }
    // A requirement and the clerk's note on it are on separate lines, not run together.
    let note = words
        .iter()
        .find(|w| w.2.starts_with("本次问题"))
        .expect("the sample has a note on a missing material");
    let same_line = words
        .iter()
        .filter(|w| (w.1 - note.1).abs() < 1.0 && w.0 < note.0)
        .filter(|w| w.0 > xs[0] + 150.0)
        .count();
    assert_eq!(
        same_line, 0,
        "the note starts its own line in the requirement cell"
    );
}
