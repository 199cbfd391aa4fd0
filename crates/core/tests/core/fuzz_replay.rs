//! Every saved fuzz input, replayed as an ordinary test: the seeds (`fuzz/seeds/<target>/`), the
//! corpus the fuzzers grew and we kept (`fuzz/corpus/<target>/`, minimised with libFuzzer's
//! `-merge=1`), and the inputs of fixed crashes (`fuzz/regressions/<target>/`). They run through
//! the same functions the cargo-fuzz binaries run (`fuzz/targets.rs`), so a change that breaks a
//! property the fuzzers established fails `make test` without a sanitizer build; the hunt for new
//! inputs is `make fuzz`.

#[path = "../../../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn every_saved_fuzz_input_replays_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    let mut failures = vec![];
    for (name, check) in targets::TARGETS {
        let mut per_target = 0;
        for kind in ["seeds", "corpus", "regressions"] {
            let dir = root.join(kind).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            files.sort();
            for file in files {
                let data = std::fs::read(&file).unwrap();
                let outcome = std::panic::catch_unwind(|| check(&data));
                if outcome.is_err() {
                    failures.push(file.display().to_string());
                }
                per_target += 1;
            }
        }
        assert!(per_target > 0, "{name} has saved inputs to replay");
        replayed += per_target;
    }
    assert!(
        failures.is_empty(),
        "saved fuzz inputs that now fail their properties:\n{}",
        failures.join("\n")
    );
    eprintln!("fuzz replay: {replayed} saved inputs, 0 failures");
}
