//! SPEC §4: what `plan` and `drift` print, end to end against a `dir:`
//! target (a local folder standing in for the FTP root).

mod common;

use std::time::{Duration, Instant};

use common::Test;

/// A one-extension, one-phone site `hq` on the folder `ftp-root`.
const HQ: &str = r#"
    site: hq
    target: {url: "dir:ftp-root"}
    server: {address: 10.100.2.127}
    time: {zone: pacific}
    extensions:
      - {number: "201", password: {env: P201}}
    phones:
      - {mac: 0004f2000607, model: IP650, extension: "201"}
    "#;

fn hq() -> Test {
    Test::new().site("hq", HQ).env("P201", "1212")
}

#[test]
fn a_huge_file_on_the_target_is_not_diffed_and_plan_says_so() {
    let line = "<x reg.1.label=\"junk\"/>\n";
    let big = line.repeat(16 * 1024 * 1024 / line.len());
    let big = format!("{big}{}", " ".repeat(16 * 1024 * 1024 - big.len()));
    let started = Instant::now();
    let out = hq()
        .file("ftp-root/201.cfg", &big)
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains("201.cfg: too large to diff (16.0 MiB on the target,")
        .stdout_lacks("junk");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // 201.cfg holds a password: no hash of it is printed.
    assert!(!out.stdout.contains("compared by sha256"), "{}", out.stdout);
}

#[test]
fn a_changed_password_shows_as_changed_without_its_value() {
    let mut next = hq()
        .args(["apply", "--auto-approve"])
        .run()
        .status(0)
        .then()
        .env("P201", "new-4321");
    for format in ["text", "markdown", "json"] {
        let out = next
            .args(["plan", "--format", format])
            .run()
            .status(0)
            .stdout_contains("******** (changed)")
            .stdout_lacks("1212")
            .stdout_lacks("new-4321");
        if format == "text" {
            assert!(
                out.stdout.contains(
                    "\n-    reg.1.auth.password=\"********\"\n+    reg.1.auth.password=\"******** (changed)\"\n"
                ),
                "{}",
                out.stdout
            );
        }
        next = out.then();
    }
}
