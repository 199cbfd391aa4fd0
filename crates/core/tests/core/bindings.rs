//! Writes the TypeScript bindings. `make bindings` runs this into `ui/src/lib/bindings/`;
//! `make test` runs it into a scratch directory (ONETRIP_BINDINGS_DIR) and diffs (drift check).

#[test]
fn export_typescript_bindings() {
    let dir = std::env::var("ONETRIP_BINDINGS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
        });
    onetrip_core::bindings::export(&dir).unwrap();
    assert!(dir.join("operations.ts").exists());
    assert!(dir.join("ErrorCode.ts").exists());
    assert!(dir.join("HallBoard.ts").exists());
}
