//! A forged state file cannot multiply the work of a plan: anyone with the
//! phones' account can write `.polyops-state.json`, and each name it claims
//! would be one more file to read. A plan reads the files the site declares
//! and a constant more (docs/threat-model.md), however many names the state
//! lists: a name no complete listing shows is never asked for, and a state
//! that claims more undeclared files than a site of its size may own is a
//! warning, none of its undeclared names read or deleted.

use crate::ftp_support;

use std::path::Path;

use ftp_support::{for_each_server, FtpServer, Run, Work};

const EXT_SECRET: &str = "Ext-s3cret-forged";

/// Files a plan may read beyond those the site declares: the state file,
/// and the files the phones boot from that the site does not render
/// (`sip.ld`, `sip.cfg`, `phone1.cfg`), asked for by name where a listing
/// did not show them.
const BEYOND_DECLARED: usize = 4;

fn site_yaml(url: &str, server: Option<&FtpServer>) -> String {
    let mut y = format!("site: lab\ntarget:\n  url: {url}\n  timeout_seconds: 20\n");
    if let Some(server) = server {
        y.push_str(&format!(
            "  user: {}\n  password: {{env: FTP_PASSWORD}}\n",
            server.user
        ));
        if let Some(ca) = &server.ca_file {
            y.push_str(&format!("  ca_file: {}\n", ca.display()));
        }
    }
    y.push_str("server:\n  address: 10.100.2.127\ntime:\n  zone: eastern\n");
    y.push_str("extensions:\n");
    for n in ["201", "202"] {
        y.push_str(&format!(
            "  - number: \"{n}\"\n    password: {{env: EXT_PASSWORD}}\n"
        ));
    }
    y.push_str(
        "phones:\n  - mac: 0004f2000201\n    model: IP650\n    extension: \"201\"\n  - mac: 0004f2000202\n    model: IP650\n    extension: \"202\"\n",
    );
    y
}

fn work(url: &str, server: Option<&FtpServer>) -> Work {
    let mut w = Work::new();
    if let Some(server) = server {
        w.secret("FTP_PASSWORD", &server.password);
    }
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site("lab", &site_yaml(url, server));
    w
}

/// How many files the site declares (renders).
fn declared(w: &Work) -> usize {
    w.run(&["render", "--out", "rendered"]).expect(0);
    std::fs::read_dir(w.path().join("rendered/lab"))
        .expect("rendered")
        .count()
}

/// Add `count` names of the shape polyops renders (`0004f3xxxxxx.cfg`) to
/// the state file in `root`, each with a hash, as anyone with the phones'
/// account could; with `create`, the files too.
fn forge_state(root: &Path, count: usize, create: bool) {
    let path = root.join(".polyops-state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("state")).expect("json");
    for i in 0..count {
        let name = format!("0004f3{i:06x}.cfg");
        state["files"][&name] = serde_json::Value::String("a".repeat(64));
        if create {
            std::fs::write(root.join(&name), "<forged/>").expect("write");
        }
    }
    std::fs::write(&path, serde_json::to_vec(&state).expect("json")).expect("write");
}

/// The files a `-v` plan read: "lab: observed 5 files over 1 connection:
/// H hashed by the server, D downloaded", H + D.
fn files_read(run: &Run) -> usize {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("lab: observed "))
        .unwrap_or_else(|| panic!("no -v line in {}", run.stderr));
    let count = |before: &str| -> usize {
        line.split(before)
            .next()
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count before {before:?} in {line}"))
    };
    count(" hashed by the server") + count(" downloaded")
}

/// Plan with `-v` and check that it read no more than the declared files
/// and [`BEYOND_DECLARED`].
fn plan_reads_at_most_declared(w: &Work, what: &str) -> Run {
    let run = w.run(&["-v", "plan", "--format", "json"]);
    run.expect(0);
    let read = files_read(&run);
    let most = declared(w) + BEYOND_DECLARED;
    assert!(
        read <= most,
        "{what}: the plan read {read} files, more than the {most} the site declares and a constant"
    );
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan json");
    let deletes = plan["sites"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["action"] == "delete")
        .count();
    assert_eq!(deletes, 0, "{what}: {}", run.stdout);
    run
}

#[test]
fn twenty_thousand_forged_state_entries_cost_a_plan_no_reads_over_ftp() {
    for_each_server("forged-state", |server| {
        ftp_support::firmware_package(&server.root);
        let w = work(&server.url, Some(server));
        w.run(&["apply", "--auto-approve"]).expect(0);
        forge_state(&server.root, 20_000, false);
        let run = plan_reads_at_most_declared(&w, &server.name);
        assert!(
            run.stderr.contains("a forged or oversized state"),
            "{}",
            run.stderr
        );
        // Apply records only what the site declares: the forged names are gone.
        w.run(&["apply", "--auto-approve"]).expect(0);
        let state: serde_json::Value = serde_json::from_slice(
            &std::fs::read(server.root.join(".polyops-state.json")).expect("state"),
        )
        .expect("json");
        let files = state["files"].as_object().expect("files");
        assert_eq!(files.len(), declared(&w), "{state}");
    });
}

#[test]
fn undeclared_state_entries_no_listing_shows_are_never_asked_for_over_ftp() {
    for_each_server("unlisted-state", |server| {
        ftp_support::firmware_package(&server.root);
        let w = work(&server.url, Some(server));
        w.run(&["apply", "--auto-approve"]).expect(0);
        // Few enough for a state of a site this size: each one is claimed,
        // but none is on the target, so none is read.
        forge_state(&server.root, 900, false);
        let run = plan_reads_at_most_declared(&w, &server.name);
        assert!(
            !run.stderr.contains("a forged or oversized state"),
            "{}",
            run.stderr
        );
    });
}

#[test]
fn twenty_thousand_forged_state_entries_with_their_files_cost_a_plan_no_reads_on_dir() {
    let w = work("dir:root", None);
    let root = w.path().join("root");
    ftp_support::firmware_package(&root);
    w.run(&["apply", "--auto-approve"]).expect(0);
    // The files are there too: only the bound keeps the plan from reading them.
    forge_state(&root, 20_000, true);
    let run = plan_reads_at_most_declared(&w, "dir:");
    assert!(
        run.stderr.contains("a forged or oversized state"),
        "{}",
        run.stderr
    );
    w.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        root.join("0004f3000000.cfg").exists(),
        "a forged name was deleted"
    );
}
