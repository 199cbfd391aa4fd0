//! The identity validators on any text: resident ID (GB 11643), unified social credit code
//! (GB 32100), phone. Never a panic; what they accept is normalised, accepted again unchanged,
//! and carries a check character that holds.
#![no_main]

#[path = "../targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::id_validators(data));
