//! The five-year hall the benchmarks share: the demo hall with 1,000,000 tickets and 500,000
//! cases of generated history (2021-11-01..2026-10-31), generated once into
//! `target/bench-history/` (a few minutes) and reused while the generator and the schema are
//! unchanged. Benchmarks that write open a copy.

use std::path::PathBuf;
use std::time::Instant;

use jiff::Timestamp;
use jiff::civil::date;
use onetrip_core::app::history::HistorySpec;
use onetrip_core::{Store, demo};

const SPEC: HistorySpec = HistorySpec {
    from: date(2021, 11, 1),
    to: date(2026, 10, 31),
    tickets: 1_000_000,
    cases: 500_000,
    seed: 2026,
    keep: false,
};

pub fn now() -> Timestamp {
    "2026-11-02T02:00:00Z".parse().unwrap()
}

/// The five-year hall's file, generated when missing or stale.
pub fn five_year_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-history");
    let stamp = format!("{SPEC:?}-schema{}", onetrip_core::store::SCHEMA_VERSION);
    let db = dir.join("hall-5y.sqlite");
    let stamp_file = dir.join("stamp.txt");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() != Some(stamp.as_str()) {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (store, _) = onetrip_core::open_file(&db, now()).unwrap();
        demo::create(&store, now()).unwrap();
        let t = Instant::now();
        let g = onetrip_core::app::history::generate(&store, SPEC, now()).unwrap();
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(dir.join("hall-5y.sqlite-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
        println!(
            "generated {} tickets and {} cases ({}..{}) in {:.1} s, database {} MB",
            g.tickets,
            g.cases,
            SPEC.from,
            SPEC.to,
            t.elapsed().as_secs_f64(),
            size / 1_000_000
        );
        drop(store);
        std::fs::write(&stamp_file, &stamp).unwrap();
    }
    db
}

/// The five-year hall, opened in place (read-only benchmarks).
#[allow(dead_code)]
pub fn five_year_hall() -> Store {
    onetrip_core::open_file(five_year_file(), now()).unwrap().0
}
