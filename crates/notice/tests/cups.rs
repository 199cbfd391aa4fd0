//! Printing through CUPS: a private `cupsd` on loopback (its own config, spool and port; the
//! system's CUPS is not touched) with a `cups-pdf` queue receives a rendered notice through the
//! same `lp` path the app uses (`cups:QUEUE@HOST:PORT`), and the output file exists with the
//! right page count. cups-pdf writes to the `Out` directory of /etc/cups/cups-pdf.conf
//! (`$HOME/PDF`); the test finds its file there by its job number and removes it.
//!
//! Needs root (cupsd runs the cups-pdf backend as root) and the packages cups, cups-client,
//! printer-driver-cups-pdf; `make test` installs them and runs as root or with sudo.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use onetrip_notice::{Issued, NoticeKind, Paper, render_pdf};
use onetrip_print::PrinterTarget;

struct Cupsd {
    child: Child,
    _dir: tempfile::TempDir,
    server: String,
}

impl Drop for Cupsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_cupsd() -> Cupsd {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["etc", "spool", "tmp", "cache", "state", "log"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // Filters run as `lp`: they need to write the temp and cache directories.
    Command::new("chmod")
        .args(["1777"])
        .arg(root.join("tmp"))
        .arg(root.join("cache"))
        .status()
        .unwrap();
    Command::new("chmod").arg("755").arg(root).status().unwrap();
    let port = free_port();
    std::fs::write(
        root.join("etc/cupsd.conf"),
        format!(
            "Listen 127.0.0.1:{port}\nLogLevel info\nBrowsing No\nWebInterface No\nDefaultAuthType None\n\
             <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
             <Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
        ),
    )
    .unwrap();
    let r = root.display();
    std::fs::write(
        root.join("etc/cups-files.conf"),
        format!(
            "ServerRoot {r}/etc\nRequestRoot {r}/spool\nTempDir {r}/tmp\nCacheDir {r}/cache\nStateDir {r}/state\n\
             ErrorLog {r}/log/error_log\nAccessLog {r}/log/access_log\nPageLog {r}/log/page_log\n\
             ServerBin /usr/lib/cups\nDataDir /usr/share/cups\nUser lp\nGroup lp\nSystemGroup root lpadmin\nSandboxing Relaxed\n"
        ),
    )
    .unwrap();
    let child = Command::new("cupsd")
        .arg("-f")
        .arg("-c")
        .arg(root.join("etc/cupsd.conf"))
        .arg("-s")
        .arg(root.join("etc/cups-files.conf"))
        .spawn()
        .expect("cupsd (apt: cups)");
    let server = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the private cupsd did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Cupsd {
        child,
        _dir: dir,
        server,
    }
}

/// cups-pdf's output directory for the user running the test.
fn cups_pdf_out() -> PathBuf {
    let conf = std::fs::read_to_string("/etc/cups/cups-pdf.conf").unwrap_or_default();
    let out = conf
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Out ").map(str::trim).map(str::to_owned))
        .unwrap_or_else(|| "${HOME}/PDF".into());
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(out.replace("${HOME}", &home))
}

fn pages(pdf: &Path) -> u32 {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .expect("a page count")
}

#[test]
fn a_private_cupsd_with_a_cups_pdf_queue_prints_a_notice() {
    let uid = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    assert_eq!(
        uid.trim(),
        "0",
        "this test runs cupsd, whose cups-pdf backend needs root: run it as root (make test uses sudo)"
    );
    let cups = start_cupsd();
    let queue = format!("ONETRIP_TEST_{}", std::process::id());
    let added = Command::new("lpadmin")
        .args(["-h", &cups.server, "-p", &queue, "-v", "cups-pdf:/", "-E"])
        .args(["-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"])
        .output()
        .expect("lpadmin (apt: cups-client)");
    assert!(
        added.status.success(),
        "lpadmin: {}",
        String::from_utf8_lossy(&added.stderr)
    );

    // A two-page notice (the A5 one-time notice of the sample data runs over one page).
    let kind = NoticeKind::SupplementNotice;
    let pdf = render_pdf(
        kind.default_template(),
        &kind.sample_data(),
        Paper::A5,
        "330106-SQ-2026-000001",
        "330106-WS-2026-000001",
        Issued {
            year: 2026,
            month: 11,
            day: 23,
            hour: 2,
            minute: 0,
            second: 0,
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join("notice.pdf");
    std::fs::write(&sent, &pdf).unwrap();
    let want = pages(&sent);
    assert!(want >= 2, "the sample notice has {want} pages");

    let out_dir = cups_pdf_out();
    let before: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    PrinterTarget::parse(&format!("cups:{queue}@{}", cups.server))
        .unwrap()
        .send(&pdf)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let printed = loop {
        let new: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !before.contains(p) && p.extension().is_some_and(|e| e == "pdf"))
            .collect();
        // cups-pdf writes the file, then closes it: wait until pdfinfo can read it.
        if let Some(p) = new.first()
            && Command::new("pdfinfo")
                .arg(p)
                .output()
                .is_ok_and(|o| o.status.success())
        {
            break p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "cups-pdf wrote nothing to {} within 60 s",
            out_dir.display()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let got = pages(&printed);
    let _ = std::fs::remove_file(&printed);
    assert_eq!(got, want, "the printed PDF has the notice's pages");
}
