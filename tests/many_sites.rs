//! docs/many-sites.md: many sites, N at a time, output in site order; one site's
//! failure (an unreachable server, a missing secret) stops no other and is
//! reported on that site in every format, and the run exits 1 after
//! everything else was done; `--fail-fast` stops at the first; a held lock
//! is waited for under `--lock-timeout`.

// common and ftp_support both include tests/common/package.rs.

use crate::ftp_support;
use crate::scripted;

use std::path::Path;
use std::time::Duration;

use scripted::{Script, Scripted};

use ftp_support::{firmware_package, in_process, FtpServer, Work};
use serde_json::Value;

/// Site `name` with one phone, on `url` (a folder of its own).
fn site(name: &str, url: &str, ext: usize, password_var: &str) -> String {
    format!(
        "site: {name}\n\
         target: {{url: \"{url}\", password: {{env: FTP_PASSWORD}}, timeout_seconds: 5}}\n\
         server: {{address: 10.0.0.1}}\n\
         time: {{zone: pacific}}\n\
         extensions: [{{number: \"{ext}\", password: {{env: {password_var}}}}}]\n\
         phones: [{{mac: 0004f2{ext:06}, model: IP650, extension: \"{ext}\"}}]\n"
    )
}

/// Six sites on one in-process server, each in its own folder, plus
/// `s03` on a port nothing listens on.
fn fleet(server: &FtpServer) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", &server.password);
    w.secret("EXT_PASSWORD", "ext-Secret-77");
    for i in 0..6 {
        let name = format!("s{i:02}");
        let yaml = if i == 3 {
            // Port 1 on loopback: refused, and tried again only for its
            // one-second timeout.
            site(&name, "ftp://127.0.0.1:1/", 201 + i, "EXT_PASSWORD")
                .replace("timeout_seconds: 5", "timeout_seconds: 1")
        } else {
            let folder = server.root.join(&name);
            std::fs::create_dir_all(&folder).expect("folder");
            firmware_package(&folder);
            let url = format!("{}{name}", server.url);
            site(&name, &url, 201 + i, "EXT_PASSWORD")
        };
        w.write_site(&name, &yaml);
    }
    w
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn site_names(v: &Value) -> Vec<String> {
    v["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["site"].as_str().expect("name").to_owned())
        .collect()
}

fn status_of<'v>(v: &'v Value, site: &str) -> &'v Value {
    v["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["site"] == site)
        .unwrap_or_else(|| panic!("no site {site} in {v}"))
}

#[test]
fn an_unreachable_site_fails_alone_in_every_command_and_format() {
    let server = in_process();
    let w = fleet(&server);

    let apply = w.run(&["apply", "--auto-approve", "--parallel", "4"]);
    apply.expect(1);
    for i in [0, 1, 2, 4, 5] {
        let name = format!("s{i:02}");
        assert!(
            apply.stdout.contains(&format!("Applied {name}: 3 created")),
            "{name}:\n{}",
            apply.stdout
        );
        assert!(server.root.join(&name).join("0004f2000201.cfg").exists() || i != 0);
    }
    assert!(
        apply
            .stderr
            .lines()
            .any(|l| l.starts_with("error: ") && l.contains("s03")),
        "{}",
        apply.stderr
    );
    // In site order, whatever order they finished in.
    let positions: Vec<usize> = (0..6)
        .map(|i| {
            apply
                .stdout
                .find(&format!("site s{i:02} "))
                .unwrap_or_else(|| panic!("s{i:02} missing:\n{}", apply.stdout))
        })
        .collect();
    assert!(
        positions.windows(2).all(|p| p[0] < p[1]),
        "{}",
        apply.stdout
    );

    // Plan and drift go on too; a failure outweighs drift's 2.
    std::fs::write(server.root.join("s01/202.cfg"), b"<x/>").expect("tamper");
    let plan = w.run(&["plan", "--format", "json"]);
    plan.expect(1);
    let v = json(&plan.stdout);
    assert_eq!(site_names(&v), ["s00", "s01", "s02", "s03", "s04", "s05"]);
    assert_eq!(status_of(&v, "s03")["status"], "error");
    assert!(status_of(&v, "s03")["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    assert_eq!(status_of(&v, "s01")["status"], "ok");
    let drift = w.run(&["drift", "--format", "markdown"]);
    drift.expect(1);
    assert!(drift.stdout.contains("s03"), "{}", drift.stdout);
    assert!(drift.stdout.contains("202.cfg"), "{}", drift.stdout);
    let text = w.run(&["drift"]);
    text.expect(1);
    assert!(text.stdout.contains("site s03 "), "{}", text.stdout);
    assert!(text.stdout.contains("error:"), "{}", text.stdout);
}

#[test]
fn fail_fast_starts_no_site_after_the_first_failure() {
    let server = in_process();
    let w = fleet(&server);
    let run = w.run(&[
        "apply",
        "--auto-approve",
        "--parallel",
        "1",
        "--fail-fast",
        "--format",
        "json",
    ]);
    run.expect(1);
    let v = json(&run.stdout);
    for s in ["s00", "s01", "s02"] {
        assert_eq!(status_of(&v, s)["status"], "ok", "{s}");
    }
    assert_eq!(status_of(&v, "s03")["status"], "error");
    for s in ["s04", "s05"] {
        assert!(
            status_of(&v, s)["error"]
                .as_str()
                .is_some_and(|e| e.contains("not started")),
            "{s}: {v}"
        );
        assert!(!server.root.join(s).join("altigen.cfg").exists(), "{s}");
    }
}

#[test]
fn a_missing_secret_fails_only_the_sites_that_use_it() {
    let server = in_process();
    let mut w = fleet(&server);
    // s03 reachable this time; s04 needs a secret nobody set.
    let s03 = server.root.join("s03");
    std::fs::create_dir_all(&s03).expect("folder");
    firmware_package(&s03);
    w.write_site(
        "s03",
        &site("s03", &format!("{}s03", server.url), 204, "EXT_PASSWORD"),
    );
    w.write_site(
        "s04",
        &site("s04", &format!("{}s04", server.url), 205, "UNSET_PASSWORD"),
    );
    w.secret("UNUSED", "x-unused-x");
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(1);
    assert!(run.stderr.contains("UNSET_PASSWORD"), "{}", run.stderr);
    assert!(!server.root.join("s04/altigen.cfg").exists());
    for s in ["s00", "s01", "s02", "s03", "s05"] {
        assert!(server.root.join(s).join("altigen.cfg").exists(), "{s}");
    }
    // Under --fail-fast, nothing is touched at all.
    let fresh = in_process();
    let mut w2 = fleet(&fresh);
    w2.write_site(
        "s04",
        &site("s04", &format!("{}s04", fresh.url), 205, "UNSET_PASSWORD"),
    );
    w2.secret("UNUSED", "x-unused-x");
    w2.run(&["apply", "--auto-approve", "--fail-fast"])
        .expect(1);
    for s in ["s00", "s01", "s02", "s05"] {
        assert!(!fresh.root.join(s).join("altigen.cfg").exists(), "{s}");
    }
}

/// A lock folder as another apply leaves it while it runs.
fn hold_lock(folder: &Path) {
    let lock = folder.join(".polyops-lock");
    std::fs::create_dir_all(&lock).expect("lock");
    std::fs::write(
        lock.join("owner.json"),
        br#"{"host": "ci-runner-7", "pid": 4242, "site": "s00", "since": "2026-12-02T01:00:00Z"}"#,
    )
    .expect("owner");
}

#[test]
fn a_held_lock_is_waited_for_under_lock_timeout() {
    let server = in_process();
    let w = fleet(&server);
    let folder = server.root.join("s00");
    hold_lock(&folder);
    // Without --lock-timeout: refused at once, naming the option.
    let run = w.run(&["apply", "--auto-approve", "s00"]);
    run.expect(1);
    assert!(run.stderr.contains("is locked"), "{}", run.stderr);
    assert!(run.stderr.contains("--lock-timeout"), "{}", run.stderr);
    // With it, and the other apply finishing meanwhile: applied.
    let release = {
        let lock = folder.join(".polyops-lock");
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = std::fs::remove_dir_all(lock);
        })
    };
    let run = w.run(&["apply", "--auto-approve", "--lock-timeout", "60s", "s00"]);
    release.join().expect("released");
    run.expect(0);
    assert!(run.stderr.contains("waiting up to"), "{}", run.stderr);
    assert!(folder.join("altigen.cfg").exists());
    // A lock that stays: refused once the time is up.
    hold_lock(&folder);
    let run = w.run(&["apply", "--auto-approve", "--lock-timeout", "1s", "s00"]);
    run.expect(1);
    assert!(run.stderr.contains("is locked"), "{}", run.stderr);
}

#[test]
fn on_a_terminal_a_bar_counts_the_sites_done() {
    // Three sites on servers that answer every download 300 ms late: long
    // enough for the bar to be drawn.
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", "scripted-Pa55");
    w.secret("EXT_PASSWORD", "ext-Secret-77");
    let servers: Vec<Scripted> = (0..3)
        .map(|_| {
            Scripted::start(
                "scripted-Pa55",
                Script {
                    delay_retr: Some(Duration::from_millis(300)),
                    ..Script::default()
                },
            )
        })
        .collect();
    for (i, server) in servers.iter().enumerate() {
        for (name, bytes) in ftp_support::FIRMWARE_PACKAGE {
            server.put(name, bytes.as_bytes());
        }
        let name = format!("s{i:02}");
        w.write_site(&name, &site(&name, &server.url(), 201 + i, "EXT_PASSWORD"));
    }
    w.run(&["apply", "--auto-approve"]).expect(0);
    let shown = w.run_on_terminal("drift --parallel 1");
    assert!(shown.contains("drift ["), "{shown}");
    assert!(shown.contains("/3 sites"), "{shown}");
    // And the report still reads in site order.
    let a = shown.find("site s00 ").expect("s00");
    let b = shown.find("site s02 ").expect("s02");
    assert!(a < b, "{shown}");
}
