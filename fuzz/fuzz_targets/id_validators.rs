//! The identity validators on any text: resident ID (GB 11643), unified social credit code
//! (GB 32100), phone. Never a panic; what they accept is normalised, accepted again unchanged,
//! and carries a check character that holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onetrip_core::validate::{
    applicant_id, credit_code, gb11643_check, gb32100_check, mask_id, phone, resident_id,
};

fuzz_target!(|data: &[u8]| {
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
});
