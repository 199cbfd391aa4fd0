//! Printed notices (文书): the one-time notice of missing materials (一次性告知单 /
//! 补正材料通知书, 行政许可法 art. 32(4)), the acceptance notice (受理通知书), the rejection notice
//! (不予受理通知书, art. 32(1)–(2) and art. 38: the right to review or litigation) and the
//! service card (便民卡) for the leaflet rack.
//!
//! Contract:
//! - A notice is a Typst template (editable by the hall admin; safe defaults in `templates/`)
//!   rendered with one JSON value, given to the template as `sys.inputs.data`, and a QR code
//!   (SVG, `sys.inputs.qr`). Typst is used as a library: no files are read but the fonts, no
//!   network, no packages.
//! - Output is PDF/A-2b with the CJK fonts embedded and subset (Typst does both), A4 or A5.
//!   Chinese line breaking and tables are Typst's own.
//! - A template that does not compile is refused with its first error (line, column, message);
//!   [`check_template`] renders it with sample data before anyone may save it.
//! - Fonts: Noto Serif/Sans CJK SC from `fonts-noto-cjk`, then HanaMin A/B from `fonts-hanazono`
//!   for what Noto lacks (CJK Extension B in full: 𪚥 is not in Noto, 䶮 and 𠇔 are), plus any
//!   `*.ttf|*.otf|*.ttc` in `ONETRIP_FONT_DIR`. A character no font has is an error, never a
//!   blank box (PDF/A forbids it).

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Dict, Duration, Smart, Str, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// What kind of notice a template renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    SupplementNotice,
    AcceptanceNotice,
    RejectionNotice,
    ServiceCard,
    /// 岗位交接单 (with the hand-back report once B has reported): an internal record of the hall.
    HandoverSheet,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 5] = [
        NoticeKind::SupplementNotice,
        NoticeKind::AcceptanceNotice,
        NoticeKind::RejectionNotice,
        NoticeKind::ServiceCard,
        NoticeKind::HandoverSheet,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::SupplementNotice => "supplement_notice",
            NoticeKind::AcceptanceNotice => "acceptance_notice",
            NoticeKind::RejectionNotice => "rejection_notice",
            NoticeKind::ServiceCard => "service_card",
            NoticeKind::HandoverSheet => "handover_sheet",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn title(self) -> &'static str {
        match self {
            NoticeKind::SupplementNotice => "补正材料通知书（一次性告知单）",
            NoticeKind::AcceptanceNotice => "受理通知书",
            NoticeKind::RejectionNotice => "不予受理通知书",
            NoticeKind::ServiceCard => "便民服务卡",
            NoticeKind::HandoverSheet => "岗位交接单",
        }
    }
    /// The template shipped with this build.
    pub fn default_template(self) -> &'static str {
        match self {
            NoticeKind::SupplementNotice => include_str!("../templates/supplement_notice.typ"),
            NoticeKind::AcceptanceNotice => include_str!("../templates/acceptance_notice.typ"),
            NoticeKind::RejectionNotice => include_str!("../templates/rejection_notice.typ"),
            NoticeKind::ServiceCard => include_str!("../templates/service_card.typ"),
            NoticeKind::HandoverSheet => include_str!("../templates/handover_sheet.typ"),
        }
    }
    /// Data a template is checked against before it may be saved.
    pub fn sample_data(self) -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../templates/sample.json")).expect("sample.json");
        all[self.as_str()].clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    A4,
    A5,
}

impl Paper {
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::A5 => "a5",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// The template does not compile (or fails on this data).
    #[error("模板第 {line} 行第 {column} 列：{message}")]
    Template {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("没有可用的中文字体（请安装 fonts-noto-cjk）")]
    NoFont,
    #[error("生成 PDF 失败：{0}")]
    Pdf(String),
}

/// Where the CJK fonts are looked for (Debian's fonts-noto-cjk).
pub const FONT_FILES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    // fonts-hanazono: CJK Extension A and B in full, for rare characters in names (𪚥).
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
];

/// The fonts Typst may use: their metadata (the book) read once, and each face loaded only
/// when a document first uses it. The six CJK files hold about 140 MB; a hall's notices use
/// the Noto Serif faces, the Hanazono ones only for rare characters in a name, so a server no
/// longer keeps all of them in memory from the first print on.
struct Fonts {
    book: LazyHash<FontBook>,
    /// Per face, in the book's order: its file and index in the file.
    faces: Vec<(usize, u32)>,
    /// Per file: its path, and its bytes once a face of it was used.
    files: Vec<(std::path::PathBuf, OnceLock<Option<Bytes>>)>,
    /// Per face: the loaded font.
    loaded: Vec<OnceLock<Option<Font>>>,
}

impl Fonts {
    fn font(&self, index: usize) -> Option<Font> {
        let &(file, face) = self.faces.get(index)?;
        self.loaded[index]
            .get_or_init(|| {
                let (path, bytes) = &self.files[file];
                let bytes = bytes
                    .get_or_init(|| std::fs::read(path).ok().map(Bytes::new))
                    .clone()?;
                Font::new(bytes, face)
            })
            .clone()
    }
}

fn fonts() -> Result<&'static Fonts, NoticeError> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut paths: Vec<std::path::PathBuf> =
                FONT_FILES.iter().map(std::path::PathBuf::from).collect();
            if let Some(dir) = std::env::var_os("ONETRIP_FONT_DIR")
                && let Ok(entries) = std::fs::read_dir(dir)
            {
                paths.extend(
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            p.extension()
                                .and_then(|e| e.to_str())
                                .is_some_and(|e| ["ttf", "otf", "ttc"].contains(&e))
                        }),
                );
            }
            let mut book = FontBook::new();
            let mut faces = vec![];
            let mut files = vec![];
            for p in paths {
                // Read to learn the faces, then let the bytes go: they are read again when a
                // face is used.
                let Ok(data) = std::fs::read(Path::new(&p)) else {
                    continue;
                };
                let file = files.len();
                // A collection's faces by their index in it (0, 1, … until there is none).
                let mut index = 0;
                while let Some(info) = FontInfo::new(&data, index) {
                    book.push(info);
                    faces.push((file, index));
                    index += 1;
                }
                files.push((p, OnceLock::new()));
            }
            if faces.is_empty() {
                return None;
            }
            Some(Fonts {
                book: LazyHash::new(book),
                loaded: faces.iter().map(|_| OnceLock::new()).collect(),
                faces,
                files,
            })
        })
        .as_ref()
        .ok_or(NoticeError::NoFont)
}

struct NoticeWorld {
    library: LazyHash<Library>,
    main: Source,
    fonts: &'static Fonts,
}

impl World for NoticeWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Notices print the dates they are given; "today" inside a template would make a
        // re-rendered archive copy differ from the original.
        None
    }
}

/// A QR code as SVG (dark modules as one path), for `sys.inputs.qr`.
pub fn qr_svg(payload: &str) -> String {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .or_else(|_| qrcode::QrCode::new(b"-"))
        .expect("a QR code for a short payload");
    let w = code.width();
    let colors = code.to_colors();
    let quiet = 2;
    let size = w + 2 * quiet;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % w + quiet, i / w + quiet);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

fn compile(
    template: &str,
    data: &serde_json::Value,
    paper: Paper,
    qr: &str,
) -> Result<PagedDocument, NoticeError> {
    let fonts = fonts()?;
    let mut data = data.clone();
    if let Some(obj) = data.as_object_mut() {
        obj.insert("paper".into(), paper.as_str().into());
    }
    let mut inputs = Dict::new();
    inputs.insert(Str::from("data"), Value::Str(data.to_string().into()));
    inputs.insert(Str::from("qr"), Value::Str(qr_svg(qr).into()));
    let id = RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new("/notice.typ").expect("a valid virtual path"),
    )
    .intern();
    let world = NoticeWorld {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        main: Source::new(id, template.to_owned()),
        fonts,
    };
    let out = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|errors| first_error(&world, errors.as_slice()));
    // Typst memoises layout across compiles and keeps every entry until told otherwise: a hall
    // server renders thousands of notices, each with its own data, and its memory grew by a
    // few hundred MB a busy day. Entries unused for the last few compiles go (the template and
    // fonts, used by every notice, stay warm).
    comemo::evict(EVICT_AFTER);
    out
}

/// Compiles a memoised result may go unused before it is dropped (typst-cli keeps 10).
const EVICT_AFTER: usize = 10;

fn first_error(world: &NoticeWorld, errors: &[SourceDiagnostic]) -> NoticeError {
    let Some(e) = errors.first() else {
        return NoticeError::Pdf("未知错误".into());
    };
    let (line, column) = world
        .range(e.span)
        .map(|r| {
            let lines = world.main.lines();
            (
                lines.byte_to_line(r.start).map_or(0, |l| l + 1),
                lines.byte_to_column(r.start).map_or(0, |c| c + 1),
            )
        })
        .unwrap_or((0, 0));
    NoticeError::Template {
        line,
        column,
        message: e.message.to_string(),
    }
}

/// The period report (daily summary, weekly report, monthly analysis): the same machinery as
/// the notices, a template of its own (not admin-editable: its data shape is the report's).
pub const PERIOD_REPORT_TEMPLATE: &str = include_str!("../templates/period_report.typ");

/// When a notice was issued (UTC), recorded as the PDF's date (PDF/A requires one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Render a notice to PDF/A-2b. `ident` (the document number) makes the PDF's identifier stable.
pub fn render_pdf(
    template: &str,
    data: &serde_json::Value,
    paper: Paper,
    qr: &str,
    ident: &str,
    issued: Issued,
) -> Result<Vec<u8>, NoticeError> {
    let (template, data, qr, ident) = (
        template.to_owned(),
        data.clone(),
        qr.to_owned(),
        ident.to_owned(),
    );
    on_renderer(move || render_pdf_here(&template, &data, paper, &qr, &ident, issued))?
}

fn render_pdf_here(
    template: &str,
    data: &serde_json::Value,
    paper: Paper,
    qr: &str,
    ident: &str,
    issued: Issued,
) -> Result<Vec<u8>, NoticeError> {
    let doc = compile(template, data, paper, qr)?;
    let at = Datetime::from_ymd_hms(
        issued.year,
        issued.month,
        issued.day,
        issued.hour,
        issued.minute,
        issued.second,
    )
    .ok_or_else(|| NoticeError::Pdf("签发时间无效".into()))?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident.to_owned()),
        timestamp: Some(typst_pdf::Timestamp::new_utc(at)),
        standards: typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_2b])
            .map_err(|e| NoticeError::Pdf(e.message().to_string()))?,
        ..Default::default()
    };
    typst_pdf::pdf(&doc, &options).map_err(|errors| {
        NoticeError::Pdf(
            errors
                .first()
                .map(|e| e.message.to_string())
                .unwrap_or_default(),
        )
    })
}

/// Render the first page as PNG (the in-app preview).
pub fn render_png(
    template: &str,
    data: &serde_json::Value,
    paper: Paper,
    qr: &str,
    pixels_per_pt: f32,
) -> Result<Vec<u8>, NoticeError> {
    let (template, data, qr) = (template.to_owned(), data.clone(), qr.to_owned());
    on_renderer(move || render_png_here(&template, &data, paper, &qr, pixels_per_pt))?
}

fn render_png_here(
    template: &str,
    data: &serde_json::Value,
    paper: Paper,
    qr: &str,
    pixels_per_pt: f32,
) -> Result<Vec<u8>, NoticeError> {
    let doc = compile(template, data, paper, qr)?;
    let page = doc
        .pages()
        .first()
        .ok_or_else(|| NoticeError::Pdf("没有页面".into()))?;
    let options = typst_render::RenderOptions {
        pixel_per_pt: f64::from(pixels_per_pt).into(),
        ..Default::default()
    };
    typst_render::render(page, &options)
        .encode_png()
        .map_err(|e| NoticeError::Pdf(e.to_string()))
}

/// Refuse a template that does not render the sample data of its kind.
pub fn check_template(kind: NoticeKind, template: &str) -> Result<(), NoticeError> {
    let template = template.to_owned();
    on_renderer(move || compile(&template, &kind.sample_data(), Paper::A4, "CHECK").map(|_| ()))?
}

/// Typst runs on one thread of its own, one document at a time. Layout recurses deeply: run on
/// whichever server thread took the request, each of the hall server's threads that ever
/// rendered kept a grown stack, and its memory rose with the day. Notices are a few a minute
/// at a window; one renderer keeps up, and its memory (stack, memo cache, fonts) is one.
fn on_renderer<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NoticeError> {
    type Job = Box<dyn FnOnce() + Send>;
    static RENDERER: OnceLock<Option<std::sync::mpsc::Sender<Job>>> = OnceLock::new();
    let renderer = RENDERER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("notice-render".into())
            .stack_size(RENDER_STACK)
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .ok()
            .map(|_| tx)
    });
    let Some(renderer) = renderer else {
        return Err(NoticeError::Pdf("无法启动文书渲染线程".into()));
    };
    let (answer, result) = std::sync::mpsc::sync_channel(1);
    renderer
        .send(Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = answer.send(out);
        }))
        .map_err(|_| NoticeError::Pdf("文书渲染线程已停止".into()))?;
    match result.recv() {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) | Err(_) => Err(NoticeError::Pdf("文书渲染异常中止".into())),
    }
}

/// The renderer's stack: Typst's layout of a long notice recurses deeply.
const RENDER_STACK: usize = 64 << 20;

/// Read the fonts and render one sample notice, once, at startup. A notice is rendered inside
/// the write transaction that numbers it (the PDF and its number are one record), so the cold
/// start of the first one of the day (reading the CJK fonts, typst's first layout: ~330 ms
/// measured under the load generator) would hold every other window's call-next behind it.
pub fn warm_up() -> Result<(), NoticeError> {
    let kind = NoticeKind::AcceptanceNotice;
    let issued = Issued {
        year: 2026,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    render_pdf(
        kind.default_template(),
        &kind.sample_data(),
        Paper::A4,
        "WARM-UP",
        "WARM-UP",
        issued,
    )
    .map(|_| ())
}
