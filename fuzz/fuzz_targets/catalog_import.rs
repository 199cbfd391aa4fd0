//! The catalog importer on any bytes: as JSON text (first byte even) or as an xlsx file (odd).
//! It must never panic, and a refused file must name each problem with its sheet, row and field.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use onetrip_core::catalog::transfer::{TransferFormat, parse_import};

fuzz_target!(|data: &[u8]| {
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
});
