//! The holiday-notice loader (holiday-cn JSON, as imported by an admin) on any text. It must
//! never panic; a year it accepts must build a calendar whose every day of that year answers.
#![no_main]

#[path = "../targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::calendar_json(data));
