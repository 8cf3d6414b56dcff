//! External tools a test checks polyops's output with, or sets its
//! scene up with (dhcpd, kea-dhcp4, dnsmasq, zsh, fish, groff, sipp, git). Where
//! one is missing the test is skipped with a printed note, except under
//! `CI=true`, where it fails: CI has them (`.ci/run` installs the ones a
//! Debian image lacks), so a missing tool there is a broken CI, not a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where `name` is: on `PATH`, or in an sbin folder (daemons live there and
/// a user's `PATH` may lack it). `None` (after a note) to skip; a panic
/// under `CI=true`.
pub fn require(name: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is missing (Debian package {package}); .ci/run installs it under CI");
        }
        eprintln!("note: skipped: {name} is not installed (apt-get install {package})");
    }
    found
}

/// Run `tool` with `args`; its output.
pub fn run(tool: &Path, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", tool.display()))
}

/// Both of the tool's output streams, for a failure message.
pub fn said(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout:\n{}--- stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
