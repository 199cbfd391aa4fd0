//! The catalog importer on any bytes: as JSON text (first byte even) or as an xlsx file (odd).
//! It must never panic, and a refused file must name each problem with its sheet, row and field.
#![no_main]

#[path = "../targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::catalog_import(data));
