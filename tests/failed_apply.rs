//! An apply whose sessions die leaves nothing behind: it removes its
//! temporary names and releases its lock on a fresh session before it
//! exits, so the next apply runs without `polyops unlock`
//! (docs/apply.md "A failed apply").

use crate::ftp_support;
use crate::scripted;

use std::time::Duration;

use ftp_support::Work;
use scripted::{Script, Scripted};

const FTP_SECRET: &str = "Ftp-Pa55-failed-apply";
const EXT_SECRET: &str = "Ext-s3cret-failed-apply";

fn work(url: &str) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", FTP_SECRET);
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site(
        "lab",
        &format!(
            "site: lab\ntarget:\n  url: {url}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 15\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {{env: EXT_PASSWORD}}\n  - number: \"202\"\n    password: {{env: EXT_PASSWORD}}\nphones:\n  - mac: 0004f2000201\n    model: IP650\n    extension: \"201\"\n  - mac: 0004f2000202\n    model: IP650\n    extension: \"202\"\n"
        ),
    );
    w
}

/// What polyops's own names on the server are: the lock, temporary names.
fn leftovers(server: &Scripted) -> Vec<String> {
    let mut left: Vec<String> = server
        .files()
        .into_keys()
        .filter(|n| n.contains(".polyops-tmp") || n.starts_with(".polyops-lock"))
        .collect();
    left.extend(server.dirs());
    left
}

#[test]
fn an_apply_whose_sessions_die_mid_upload_leaves_no_lock_and_no_temporary_name() {
    // Every session is cut as the first master file is about to be renamed
    // into place (its upload has landed under its temporary name), and the
    // server takes no session for longer than the old sessions keep trying.
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            outage: Some((
                "RNFR 0004f2000201.cfg.polyops-tmp".to_owned(),
                Duration::from_secs(9),
            )),
            ..Script::default()
        },
    );
    for (name, bytes) in ftp_support::FIRMWARE_PACKAGE {
        server.put(name, bytes.as_bytes());
    }
    let w = work(&server.url());
    let failed = w.run(&["apply", "--auto-approve"]);
    failed.expect(1);
    assert!(
        server
            .log()
            .iter()
            .any(|l| l == "RNFR 0004f2000201.cfg.polyops-tmp"),
        "the outage never came: {:#?}",
        server.log()
    );
    assert_eq!(
        leftovers(&server),
        Vec::<String>::new(),
        "{}",
        failed.stderr
    );
    assert!(
        !failed.stderr.contains("polyops unlock"),
        "{}",
        failed.stderr
    );
    // The next (nightly) apply needs no unlock, and converges.
    w.run(&["apply", "--auto-approve"]).expect(0);
    w.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert_eq!(leftovers(&server), Vec::<String>::new());
}

#[test]
fn the_next_apply_removes_the_temporary_names_of_files_polyops_owns_even_with_nothing_to_do() {
    let w = work("dir:root");
    let root = w.path().join("root");
    ftp_support::firmware_package(&root);
    w.run(&["apply", "--auto-approve"]).expect(0);
    // What a run killed mid-upload leaves: temporary names of files that
    // landed in the end, or never will.
    for n in [
        "201.cfg.polyops-tmp",
        "0004f2000202.cfg.polyops-tmp",
        ".polyops-state.json.polyops-tmp",
        "notes.polyops-tmp",
    ] {
        std::fs::write(root.join(n), "half").expect("write");
    }
    w.run(&["plan", "--detailed-exitcode"]).expect(0);
    w.run(&["apply", "--auto-approve"]).expect(0);
    for n in [
        "201.cfg.polyops-tmp",
        "0004f2000202.cfg.polyops-tmp",
        ".polyops-state.json.polyops-tmp",
    ] {
        assert!(!root.join(n).exists(), "{n} was left");
    }
    // Not a name polyops owns: not its to remove.
    assert!(root.join("notes.polyops-tmp").exists());
}
