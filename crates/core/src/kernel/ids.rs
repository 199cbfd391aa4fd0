//! Record identity. Every record that may cross machines (hall mode, exports, backups merged
//! by an inspector) is keyed by a UUID v7: globally unique and time-ordered, so indexes stay
//! append-mostly. Numbers people read (window 3, ticket A001, case numbers) are separate columns.

use uuid::Uuid;

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// 32 random bytes, hex: a bearer secret (session token). Only its SHA-256 is stored.
pub fn new_secret() -> String {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
