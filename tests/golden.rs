//! docs/rendered-files.md: the example site of the guide renders to exactly the checked-in
//! files under `tests/golden/example/`, byte for byte. Review a change to
//! them against guide §6.1-6.3 like any other code change.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test --test golden`,
//! then read the diff before committing it.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{read_dir_files, Test, EXAMPLE_ENV, EXAMPLE_SITE};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/example")
}

fn first_difference(name: &str, actual: &[u8], golden: &[u8]) -> String {
    let (a, g) = (
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(golden),
    );
    for (i, (la, lg)) in a.lines().zip(g.lines()).enumerate() {
        if la != lg {
            return format!(
                "{name} line {}:\n  rendered: {la:?}\n  golden:   {lg:?}",
                i + 1
            );
        }
    }
    format!(
        "{name}: rendered {} bytes, golden {} bytes (one ends early)",
        actual.len(),
        golden.len()
    )
}

#[test]
fn example_site_renders_exactly_the_golden_files() {
    let out = Test::new()
        .site("example", EXAMPLE_SITE)
        .envs(&EXAMPLE_ENV)
        .args(["render", "--out", "rendered"])
        .run()
        .status(0)
        .stdout_contains("example: wrote 7 files");
    let rendered = out.files_in("rendered/example");

    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let dir = golden_dir();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("the old golden files can be removed");
        }
        std::fs::create_dir_all(&dir).expect("the golden folder can be created");
        for (name, bytes) in &rendered {
            std::fs::write(dir.join(name), bytes).expect("a golden file can be written");
        }
        return;
    }

    let golden: BTreeMap<String, Vec<u8>> = read_dir_files(&golden_dir());
    assert_eq!(
        rendered.keys().collect::<Vec<_>>(),
        golden.keys().collect::<Vec<_>>(),
        "rendered file names differ from tests/golden/example (UPDATE_GOLDEN=1 to accept)"
    );
    assert_eq!(
        rendered.keys().collect::<Vec<_>>(),
        [
            "0004f2000607.cfg",
            "0004f214ab37.cfg",
            "0004f21c0a11.cfg",
            "201.cfg",
            "202.cfg",
            "203.cfg",
            "altigen.cfg"
        ]
    );
    for (name, bytes) in &rendered {
        assert!(
            bytes == &golden[name],
            "{} (UPDATE_GOLDEN=1 to accept)",
            first_difference(name, bytes, &golden[name])
        );
    }
}
