//! What each fuzz target checks, on any input. One file, used twice: by the cargo-fuzz binaries
//! (`make fuzz`: libFuzzer with sanitizers hunting new inputs) and by the replay test in the core
//! suite (`crates/core/tests/core/fuzz_replay.rs`, part of `make test`), which runs every saved
//! input — the seeds and the committed corpus — through these same functions.

use base64::Engine;
use onetrip_core::calendar::data::{merge, parse_year};
use onetrip_core::catalog::transfer::{TransferFormat, parse_import};
use onetrip_core::validate::{
    applicant_id, credit_code, gb11643_check, gb32100_check, mask_id, phone, resident_id,
};

/// The catalog importer on any bytes: as JSON text (first byte even) or as an xlsx file (odd).
/// It must never panic, and a refused file must name each problem with its sheet, row and field.
pub fn catalog_import(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let result = if mode % 2 == 0 {
        parse_import(TransferFormat::Json, &String::from_utf8_lossy(body))
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(body);
        parse_import(TransferFormat::Xlsx, &b64)
    };
    if let Err(errors) = result {
        assert!(!errors.is_empty(), "a refusal lists its problems");
        for e in &errors {
            assert!(!e.reason.trim().is_empty(), "every problem says why: {e:?}");
            assert!(!e.sheet.is_empty(), "every problem names its sheet: {e:?}");
        }
    }
}

/// The holiday-notice loader (holiday-cn JSON, as imported by an admin) on any text. It must
/// never panic; a year it accepts must build a calendar whose every day of that year answers.
pub fn calendar_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(year) = parse_year(text) else {
        return;
    };
    for day in &year.days {
        let in_year = day.date.year() == year.year
            || (day.date.year() == year.year - 1 && day.date.month() == 12);
        assert!(
            in_year,
            "every listed day is in its year or the December before"
        );
    }
    let cal = merge(1, std::slice::from_ref(&year), &[]);
    let mut d = jiff::civil::date(year.year, 1, 1);
    while d.year() == year.year {
        cal.day(d)
            .expect("an accepted year answers for each of its days");
        d = d.tomorrow().unwrap();
    }
}

/// The identity validators on any text: resident ID (GB 11643), unified social credit code
/// (GB 32100), phone. Never a panic; what they accept is normalised, accepted again unchanged,
/// and carries a check character that holds.
pub fn id_validators(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = resident_id("id", &text) {
        assert_eq!(id.len(), 18);
        assert_eq!(id.chars().last(), Some(gb11643_check(&id[..17])));
        assert_eq!(resident_id("id", &id).unwrap(), id, "idempotent");
        assert!(
            !mask_id(&id).contains(&id[6..14]),
            "the birth date is masked"
        );
    }
    if let Ok(code) = credit_code("code", &text) {
        assert_eq!(code.len(), 18);
        assert_eq!(code.chars().last(), gb32100_check(&code[..17]));
        assert_eq!(credit_code("code", &code).unwrap(), code, "idempotent");
    }
    if let Ok(v) = applicant_id("a", &text) {
        assert!(resident_id("a", &v).is_ok() || credit_code("a", &v).is_ok());
    }
    if let Ok(p) = phone("p", &text) {
        assert_eq!(phone("p", &p).unwrap(), p, "idempotent");
    }
}

/// What a target checks on one input.
pub type Check = fn(&[u8]);

/// Every target by name, for the replay.
pub const TARGETS: &[(&str, Check)] = &[
    ("catalog_import", catalog_import),
    ("calendar_json", calendar_json),
    ("id_validators", id_validators),
];
