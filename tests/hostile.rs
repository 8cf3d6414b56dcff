//! The target is hostile: every phone logs in with the same account, so
//! anyone on the voice network can write the state file, the lock, the
//! names in a listing, and a server can say anything. These scenarios run
//! against a scripted server that misbehaves on purpose (tests/scripted)
//! and against `dir:` targets, and check that polyops neither obeys nor
//! prints what it reads there.

use crate::ftp_support;
use crate::scripted;

use std::process::Stdio;
use std::time::{Duration, Instant};

use ftp_support::{Run, Work};
use scripted::{Script, Scripted};

const FTP_SECRET: &str = "Ftp-Pa55-scripted";
const EXT_SECRET: &str = "Ext-s3cret-hostile";
/// The key of the published HMACs: plan files need one.
const HASH_KEY: &str = "hostile-hash-key-0123456789";

/// The commands a read-only run may send.
const READ_ONLY_VERBS: [&str; 15] = [
    "USER", "PASS", "TYPE", "PWD", "FEAT", "OPTS", "CWD", "PASV", "EPSV", "MLSD", "LIST", "RETR",
    "NOOP", "QUIT", "SIZE",
];

fn site_yaml(url: &str, timeout: u64, phones: usize) -> String {
    let mut y = format!(
        "site: lab\ntarget:\n  url: {url}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: {timeout}\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n"
    );
    for i in 0..phones {
        y.push_str(&format!(
            "  - number: \"{}\"\n    password: {{env: EXT_PASSWORD}}\n",
            201 + i
        ));
    }
    y.push_str("phones:\n");
    for i in 0..phones {
        y.push_str(&format!(
            "  - mac: 0004f2{:06x}\n    model: IP650\n    extension: \"{}\"\n",
            i,
            201 + i
        ));
    }
    y
}

fn work(url: &str, timeout: u64) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", FTP_SECRET);
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.secret("POLYOPS_HASH_KEY", HASH_KEY);
    w.write_site("lab", &site_yaml(url, timeout, 2));
    w
}

/// Run polyops, killing it if it is still running after `limit`: a run
/// that had to be killed fails the test (it hung).
fn run_bounded(w: &Work, args: &[&str], limit: Duration) -> Run {
    let mut child = w
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run polyops");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("polyops {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    w.assert_no_secret(&run.stdout, "stdout");
    w.assert_no_secret(&run.stderr, "stderr");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Every command line the server received is one a read-only run may send.
fn assert_read_only(server: &Scripted) {
    let log = server.log();
    assert!(!log.is_empty(), "the server heard nothing");
    for line in &log {
        let verb = line.split(' ').next().unwrap_or_default();
        assert!(
            READ_ONLY_VERBS.contains(&verb),
            "a read-only run sent {line:?}; all it sent:\n{log:#?}"
        );
    }
}

/// Put the firmware package's files on the scripted server, as an
/// installer does (guide §5).
fn firmware_package(server: &Scripted) {
    for (name, bytes) in ftp_support::FIRMWARE_PACKAGE {
        server.put(name, bytes.as_bytes());
    }
}

/// Apply the site to the scripted server, which holds the firmware
/// package, then forget what the server heard.
fn applied(server: &Scripted, w: &Work) {
    firmware_package(server);
    w.run(&["apply", "--auto-approve"]).expect(0);
    server.clear_log();
}

/// The greeting of the vsftpd in Debian 12: polyops takes it for a server
/// that reads one command at a time, and pipelines its login.
const VSFTPD: &str = "(vsFTPd 3.0.3)";

#[test]
fn a_server_that_reads_commands_in_turn_is_applied_and_drifted_with_pipelined_logins() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            greeting: Some(VSFTPD),
            ..Script::default()
        },
    );
    let w = work(&server.url(), 10);
    firmware_package(&server);
    w.run(&["apply", "--auto-approve"]).expect(0);
    let landed = server.files();
    for name in ["altigen.cfg", "201.cfg", "202.cfg", "0004f2000000.cfg"] {
        let bytes = landed
            .get(name)
            .unwrap_or_else(|| panic!("{name} did not land"));
        assert!(!bytes.is_empty(), "{name} landed empty");
    }
    let log = server.log();
    let first = log
        .iter()
        .position(|l| l.starts_with("USER"))
        .expect("a login");
    let verbs: Vec<&str> = log[first..first + 6]
        .iter()
        .map(|l| l.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(
        verbs,
        ["USER", "PASS", "TYPE", "PWD", "FEAT", "PASV"],
        "{log:#?}"
    );
    server.clear_log();
    let drift = run_bounded(&w, &["drift"], Duration::from_secs(60));
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    assert_read_only(&server);
}

#[test]
fn a_refused_pipelined_login_is_one_masked_line() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            greeting: Some(VSFTPD),
            echo_pass: true,
            ..Script::default()
        },
    );
    let w = work(&server.url(), 10);
    let r = run_bounded(&w, &["drift"], Duration::from_secs(60));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("logging in as PlcmSpIp: 530"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("********"), "{}", r.stderr);
}

#[test]
fn a_state_entry_with_line_breaks_never_reaches_the_server_and_plan_and_drift_only_read() {
    let server = Scripted::start(FTP_SECRET, Script::default());
    let w = work(&server.url(), 10);
    applied(&server, &w);
    let before = server.files();
    let injected = "x\r\nCWD ..\r\nCWD other\r\nDELE 201.cfg";
    let mut state: serde_json::Value = serde_json::from_slice(
        &server
            .get(".polyops-state.json")
            .expect("apply wrote a state"),
    )
    .expect("state json");
    state["files"][injected] = serde_json::Value::Null;
    state["files"]["sip.cfg"] = serde_json::Value::Null;
    server.put(
        ".polyops-state.json",
        &serde_json::to_vec(&state).expect("json"),
    );
    // Someone edited a managed file too, so there is something to report.
    server.put("202.cfg", b"<hand-made/>");
    let before = {
        let mut b = before;
        b.insert("202.cfg".to_owned(), b"<hand-made/>".to_vec());
        b.insert(
            ".polyops-state.json".to_owned(),
            server.get(".polyops-state.json").expect("state"),
        );
        b
    };
    for args in [
        &["drift"][..],
        &["plan"][..],
        &["plan", "--format", "json"][..],
    ] {
        let run = w.run(args);
        assert!(run.code == 2 || run.code == 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("ignored, never deleted"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
        assert_read_only(&server);
        assert!(
            !server
                .log()
                .iter()
                .any(|l| l.contains("DELE") || l.contains("CWD ..")),
            "{:#?}",
            server.log()
        );
        assert_eq!(server.files(), before, "{args:?} changed the target");
        server.clear_log();
    }
    // apply restores 202.cfg and still deletes nothing it cannot own.
    w.run(&["apply", "--auto-approve"]).expect(0);
    assert!(!server
        .log()
        .iter()
        .any(|l| l.starts_with("DELE ") && !l.contains(".polyops")));
    let after: serde_json::Value =
        serde_json::from_slice(&server.get(".polyops-state.json").expect("state")).expect("json");
    assert!(after["files"].get(injected).is_none());
    assert!(after["files"].get("sip.cfg").is_none());
}

#[test]
fn a_state_cannot_make_apply_delete_a_file_polyops_never_wrote() {
    let w = work("dir:root", 10);
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    let root = w.path().join("root");
    // The firmware package's files, and a phone's own file, claimed as owned.
    std::fs::write(root.join("sip.cfg"), "<sip/>").expect("write");
    std::fs::write(root.join("000000000000.cfg"), "<default/>").expect("write");
    std::fs::write(root.join("0004f2000000-phone.cfg"), "<phone/>").expect("write");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".polyops-state.json")).expect("state"))
            .expect("json");
    for n in ["sip.cfg", "000000000000.cfg", "0004f2000000-phone.cfg"] {
        state["files"][n] = serde_json::Value::Null;
    }
    std::fs::write(
        root.join(".polyops-state.json"),
        serde_json::to_vec(&state).expect("json"),
    )
    .expect("write");
    let run = w.run(&["plan", "--format", "json"]);
    run.expect(0);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan json");
    let deletes: Vec<&serde_json::Value> = plan["sites"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["action"] == "delete")
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
    assert_eq!(
        run.stderr.matches("ignored, never deleted").count(),
        3,
        "{}",
        run.stderr
    );
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    for n in ["sip.cfg", "000000000000.cfg", "0004f2000000-phone.cfg"] {
        assert!(root.join(n).exists(), "{n} was deleted");
    }
}

#[test]
fn an_owned_file_gone_and_no_longer_declared_is_forgotten_so_a_later_hand_made_one_is_unmanaged() {
    let w = work("dir:root", 10);
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    let root = w.path().join("root");
    // Extension 202 and its phone leave the site; someone removed 202.cfg by hand already.
    w.write_site("lab", &site_yaml("dir:root", 10, 1));
    std::fs::remove_file(root.join("202.cfg")).expect("remove");
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".polyops-state.json")).expect("state"))
            .expect("json");
    assert!(state["files"].get("202.cfg").is_none(), "{state}");
    // A hand-made 202.cfg appears later: it is not polyops's to delete.
    std::fs::write(root.join("202.cfg"), "<hand-made/>").expect("write");
    let run = w.run(&["plan", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert!(plan["sites"][0]["unmanaged"]
        .as_array()
        .expect("unmanaged")
        .iter()
        .any(|n| n == "202.cfg"));
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    assert!(root.join("202.cfg").exists());
}

#[test]
fn hostile_names_in_a_listing_are_left_out_and_never_printed_raw() {
    let script = Script {
        hostile_names: vec![
            "\x1b]0;pwned\x07evil.cfg".to_owned(),
            "..".to_owned(),
            "a/../../etc".to_owned(),
            "\u{202e}gfc.102".to_owned(),
        ],
        ..Script::default()
    };
    let server = Scripted::start(FTP_SECRET, script);
    let w = work(&server.url(), 10);
    let run = w.run(&["plan", "--format", "json"]);
    run.expect(0);
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text:?}"
        );
    }
    assert!(
        run.stderr.contains("names polyops cannot use"),
        "{}",
        run.stderr
    );
    assert_read_only(&server);
}

#[test]
fn a_password_echoed_by_the_server_is_masked_in_errors() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            echo_pass: true,
            ..Script::default()
        },
    );
    let w = work(&server.url(), 10);
    let run = w.run(&["plan"]);
    run.expect(1);
    assert!(run.stderr.contains("530"), "{}", run.stderr);
    assert!(run.stderr.contains("********"), "{}", run.stderr);
    // Work::run has checked that FTP_SECRET appears nowhere.
}

#[test]
fn a_password_and_escapes_echoed_in_a_passing_failure_are_masked_in_retry_lines() {
    let server = Scripted::start(FTP_SECRET, Script::default());
    let w = work(&server.url(), 10);
    applied(&server, &w);
    server.put("201.cfg", b"<changed/>");
    // The first RETR gets a 421 that quotes the password, with escapes.
    let server2 = Scripted::start(
        FTP_SECRET,
        Script {
            echo_pass_on_retr: true,
            ..Script::default()
        },
    );
    for (n, b) in server.files() {
        server2.put(&n, &b);
    }
    w.write_site("lab", &site_yaml(&server2.url(), 10, 2));
    let run = w.run(&["-v", "plan"]);
    run.expect(0);
    assert!(run.stderr.contains("retried after"), "{}", run.stderr);
    assert!(run.stderr.contains("pass ********"), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\x07'),
        "{:?}",
        run.stderr
    );
}

#[test]
fn a_server_that_accepts_but_never_greets_fails_within_the_timeout() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            silent: true,
            ..Script::default()
        },
    );
    let w = work(&server.url(), 2);
    let run = run_bounded(&w, &["plan"], Duration::from_secs(60));
    run.expect(1);
    assert!(
        run.stderr.contains("greeting") && run.stderr.contains("within 2 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_that_trickles_its_replies_fails_within_the_timeout() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            trickle: Some(Duration::from_millis(700)),
            ..Script::default()
        },
    );
    // Each byte comes well within the 2 s read timeout; the whole greeting
    // would take 17 s.
    let w = work(&server.url(), 2);
    let run = run_bounded(&w, &["drift"], Duration::from_secs(60));
    run.expect(1);
    assert!(run.stderr.contains("within 2 s"), "{}", run.stderr);
}

#[test]
fn a_reply_without_end_is_cut_and_fails() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            endless_feat: true,
            ..Script::default()
        },
    );
    let w = work(&server.url(), 5);
    let run = run_bounded(&w, &["plan"], Duration::from_secs(60));
    run.expect(1);
    assert!(
        run.stderr.contains("reply longer than") || run.stderr.contains("within 5 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_download_that_trickles_fails_within_its_deadline() {
    let server = Scripted::start(FTP_SECRET, Script::default());
    let w = work(&server.url(), 10);
    applied(&server, &w);
    let slow = Scripted::start(
        FTP_SECRET,
        Script {
            trickle_data: Some(Duration::from_millis(500)),
            ..Script::default()
        },
    );
    for (n, b) in server.files() {
        slow.put(&n, &b);
    }
    w.write_site("lab", &site_yaml(&slow.url(), 2, 2));
    let run = run_bounded(&w, &["drift"], Duration::from_secs(90));
    run.expect(1);
    assert!(run.stderr.contains("within 2 s"), "{}", run.stderr);
}

#[test]
fn a_file_too_large_to_diff_is_compared_by_its_hash() {
    let w = work("dir:root", 10);
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    let big = vec![b'x'; 3 * 1024 * 1024];
    std::fs::write(w.path().join("root/201.cfg"), &big).expect("write");
    let run = w.run(&["drift"]);
    run.expect(2);
    assert!(run.stdout.contains("too large to diff"), "{}", run.stdout);
    assert!(run.stdout.len() < 64 * 1024, "the report holds the file");
}

#[test]
fn a_failed_site_leaves_no_plan_file_and_empty_or_foreign_plans_are_refused() {
    let w = work("dir:root", 10);
    // A second site whose target refuses connections.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_port = dead.local_addr().expect("addr").port();
    drop(dead);
    w.write_site(
        "dead",
        &site_yaml(&format!("ftp://127.0.0.1:{dead_port}/"), 2, 0)
            .replace("site: lab", "site: dead")
            .replace("extensions:\n", "extensions: []\n")
            .replace("phones:\n", "phones: []\n"),
    );
    let run = w.run(&["plan", "--out", "plan.json"]);
    run.expect(1);
    assert!(!w.path().join("plan.json").exists());
    assert!(
        run.stderr.contains("no plan file written"),
        "{}",
        run.stderr
    );
    for line in run.stderr.lines().filter(|l| !l.starts_with("warning:")) {
        assert!(line.starts_with("error: "), "{line:?} in\n{}", run.stderr);
    }

    // A plan that plans no site is not a plan of every site.
    std::fs::write(
        w.path().join("empty.json"),
        r#"{"format_version": 1, "mode": "plan", "sites": []}"#,
    )
    .expect("write");
    let run = w.run(&["apply", "--auto-approve", "--plan", "empty.json"]);
    run.expect(1);
    assert!(run.stderr.contains("plans no site"), "{}", run.stderr);
    assert!(
        !w.path().join("root").exists(),
        "an empty plan applied something"
    );

    // A plan of lab only applies lab only, and no other site may be named.
    w.run(&["plan", "--out", "lab.json", "lab"]).expect(0);
    let run = w.run(&["apply", "--auto-approve", "--plan", "lab.json", "dead"]);
    run.expect(1);
    assert!(
        run.stderr.contains("not in the saved plan"),
        "{}",
        run.stderr
    );
    w.run(&[
        "apply",
        "--auto-approve",
        "--allow-incomplete",
        "--plan",
        "lab.json",
    ])
    .expect(0);
    assert!(w.path().join("root/201.cfg").exists());
}

#[test]
fn only_the_temporary_files_of_files_being_written_are_removed() {
    let w = work("dir:root", 10);
    let root = w.path().join("root");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::write(root.join("notes.polyops-tmp"), "mine").expect("write");
    std::fs::write(root.join("201.cfg.polyops-tmp"), "half").expect("write");
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    assert!(root.join("notes.polyops-tmp").exists());
    assert!(!root.join("201.cfg.polyops-tmp").exists());
}

#[test]
fn a_plain_file_in_place_of_the_lock_names_unlock_which_removes_it() {
    let w = work("dir:root", 10);
    let root = w.path().join("root");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::write(root.join(".polyops-lock"), "not a folder").expect("write");
    let run = w.run(&["apply", "--auto-approve", "--allow-incomplete"]);
    run.expect(1);
    assert!(run.stderr.contains("polyops unlock"), "{}", run.stderr);
    w.run(&["unlock"]).expect(0);
    assert!(!root.join(".polyops-lock").exists());
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
}

#[test]
fn an_apply_that_cannot_write_the_lock_owner_removes_its_lock() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            refuse_stor: vec![".polyops-lock/owner.json".to_owned()],
            ..Script::default()
        },
    );
    let w = work(&server.url(), 10);
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(1);
    assert!(run.stderr.contains("owner file"), "{}", run.stderr);
    assert!(run.stderr.contains("polyops unlock"), "{}", run.stderr);
    assert!(
        server.dirs().is_empty(),
        "the lock was left: {:?}",
        server.dirs()
    );
}

#[test]
fn a_hostile_lock_owner_is_printed_short_and_printable() {
    let w = work("dir:root", 10);
    let root = w.path().join("root");
    std::fs::create_dir_all(root.join(".polyops-lock")).expect("lock");
    let owner = serde_json::json!({
        "host": format!("\x1b[2J{}", "h".repeat(5000)),
        "pid": 1,
        "user": "mallory\r\nerror: fake",
        "since": "now",
        "site": "lab"
    });
    std::fs::write(
        root.join(".polyops-lock/owner.json"),
        serde_json::to_vec(&owner).expect("json"),
    )
    .expect("write");
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(1);
    assert!(
        run.stderr.contains("is locked by mallory"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(run.stderr.len() < 600, "{}", run.stderr.len());
}

#[test]
fn long_runs_log_progress_and_per_file_lines_only_with_verbose() {
    let w = {
        let mut w = Work::new();
        w.secret("FTP_PASSWORD", FTP_SECRET);
        w.secret("EXT_PASSWORD", EXT_SECRET);
        w
    };
    w.write_site("lab", &site_yaml("dir:root", 10, 30));
    ftp_support::firmware_package(&w.path().join("root"));
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(0);
    assert!(!run.stderr.contains("created 201.cfg"), "{}", run.stderr);
    std::fs::remove_file(w.path().join("root/201.cfg")).expect("remove");
    let run = w.run(&["-v", "apply", "--auto-approve"]);
    run.expect(0);
    assert!(
        run.stderr.contains("lab: created 201.cfg"),
        "{}",
        run.stderr
    );

    // Reading 61 files at 200 ms each over one connection takes 12 s: a
    // line every few seconds says how far it got. The connections are
    // pinned: on a busy machine a loopback round trip can pass for a WAN
    // link's, and the pool's 8 connections would read it all before the
    // first line is due.
    let slow = Scripted::start(
        FTP_SECRET,
        Script {
            delay_retr: Some(Duration::from_millis(200)),
            ..Script::default()
        },
    );
    for entry in std::fs::read_dir(w.path().join("root")).expect("root") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            slow.put(&name, &std::fs::read(entry.path()).expect("read"));
        }
    }
    w.write_site("lab", &site_yaml(&slow.url(), 10, 30));
    let run = run_bounded(
        &w,
        &["drift", "--connections", "1"],
        Duration::from_secs(120),
    );
    run.expect(0);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("lab: reading: ") && l.ends_with(" of 61 files")),
        "{}",
        run.stderr
    );

    // On a terminal (script(1) gives polyops one): a bar, not log lines.
    let shown = w.run_on_terminal("drift");
    assert!(shown.contains("lab: reading ["), "{shown}");
    assert!(shown.contains("/61 files"), "{shown}");
    assert!(!shown.contains(" of 61 files"), "{shown}");
}

/// A second site, `dead`, whose FTP port refuses connections.
fn with_dead_site(w: &Work) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    w.write_site(
        "dead",
        &format!(
            "site: dead\ntarget:\n  url: ftp://127.0.0.1:{port}/\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 2\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions: []\nphones: []\n"
        ),
    );
}

#[test]
fn a_failed_site_is_reported_on_that_site_in_every_format() {
    let w = work("dir:root", 10);
    with_dead_site(&w);
    let run = w.run(&["plan"]);
    run.expect(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("site dead → "))
        .expect("the dead site is in the report");
    assert!(
        lines[head + 1].starts_with("  error: site dead: target ftp://127.0.0.1:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("; 1 of 2 sites failed."),
        "{}",
        run.stdout
    );

    let run = w.run(&["plan", "dead"]);
    run.expect(1);
    assert!(!run.stdout.contains("Plan:"), "{}", run.stdout);
    assert!(run.stdout.contains("error: site dead"), "{}", run.stdout);

    let run = w.run(&["plan", "--format", "json"]);
    run.expect(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let sites = json["sites"].as_array().expect("sites");
    let by_name = |n: &str| sites.iter().find(|s| s["site"] == n).expect("site");
    assert_eq!(by_name("dead")["status"], "error");
    assert!(by_name("dead")["error"]
        .as_str()
        .is_some_and(|e| e.contains("connecting")));
    assert_eq!(by_name("lab")["status"], "ok");
    assert!(by_name("lab").get("error").is_none());

    let run = w.run(&["drift", "--format", "markdown"]);
    run.expect(1);
    assert!(
        run.stdout.contains("**error:** <code>site dead"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 of 2 sites failed"), "{}", run.stdout);
}

#[test]
fn every_missing_secret_of_a_run_is_reported_at_once() {
    let mut w = Work::new();
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site("lab", &site_yaml("dir:root", 10, 2));
    w.write_site(
        "other",
        &site_yaml("dir:other", 10, 1)
            .replace("site: lab", "site: other")
            .replace("0004f2", "0004f3")
            .replace("{env: EXT_PASSWORD}", "{env: OTHER_EXT}")
            .replace("{env: FTP_PASSWORD}", "{env: OTHER_FTP}"),
    );
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let run = w.run(args);
        run.expect(1);
        for needle in [
            "site lab: target.password: environment variable FTP_PASSWORD",
            "site other: target.password: environment variable OTHER_FTP",
            "site other: extensions[0].password: environment variable OTHER_EXT",
        ] {
            assert!(
                run.stderr.contains(needle),
                "{args:?} lacks {needle}:\n{}",
                run.stderr
            );
        }
        for line in run.stderr.lines() {
            assert!(line.starts_with("error: "), "{line:?} in\n{}", run.stderr);
        }
    }
    assert!(!w.path().join("root").exists() && !w.path().join("other").exists());
}

#[test]
fn data_connections_go_to_the_servers_host_whatever_pasv_names() {
    // The reply names 127.0.0.2, where nothing listens; the data port is
    // open on the server's own host, 127.0.0.1.
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            pasv_host: Some([127, 0, 0, 2]),
            ..Script::default()
        },
    );
    let w = work(&server.url(), 5);
    firmware_package(&server);
    w.run(&["apply", "--auto-approve"]).expect(0);
    assert!(server.get("201.cfg").is_some());
    w.run(&["drift"]).expect(0);
}

#[test]
fn escapes_in_a_file_on_the_target_are_shown_not_obeyed() {
    let w = work("dir:root", 10);
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    std::fs::write(
        w.path().join("root/201.cfg"),
        "<x/>\n\x1b]0;pwned\x07\x1b[2J\u{202e}evil\rcover\n",
    )
    .expect("write");
    for format in ["text", "markdown", "json"] {
        let run = w.run(&["drift", "--format", format]);
        run.expect(2);
        for bad in ['\x1b', '\x07', '\u{202e}', '\r'] {
            assert!(
                !run.stdout.contains(bad),
                "{format}: {bad:?} in\n{}",
                run.stdout
            );
        }
    }
    let run = w.run(&["drift"]);
    assert!(run.stdout.contains("\\x1b]0;pwned\\x07"), "{}", run.stdout);
}

#[test]
fn a_huge_state_value_or_override_file_costs_one_short_line() {
    let w = work("dir:root", 10);
    ftp_support::firmware_package(&w.path().join("root"));
    w.run(&["apply", "--auto-approve"]).expect(0);
    let root = w.path().join("root");
    // A phone's override file far over the 1 MiB polyops keeps.
    std::fs::write(
        root.join("0004f2000000-phone.cfg"),
        vec![b' '; 3 * 1024 * 1024],
    )
    .expect("write");
    let run = w.run(&["drift"]);
    run.expect(0);
    assert!(
        run.stderr.contains("too large to check for overrides"),
        "{}",
        run.stderr
    );
    // A state file whose error would quote a 1 MB string.
    let bad = format!(
        r#"{{"version": "{}", "site": "lab", "files": {{}}}}"#,
        "v".repeat(1 << 20)
    );
    std::fs::write(root.join(".polyops-state.json"), bad).expect("write");
    let run = w.run(&["plan"]);
    run.expect(1);
    assert!(
        run.stderr.contains("not a polyops state file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.len() < 2_000,
        "{} bytes of error",
        run.stderr.len()
    );
}

#[test]
fn an_upload_the_server_kept_only_half_of_is_an_error_and_the_next_plan_shows_it() {
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            truncate_stor: vec!["201.cfg".to_owned()],
            ..Script::default()
        },
    );
    let w = work(&server.url(), 10);
    firmware_package(&server);
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(1);
    assert!(
        run.stderr.contains("not what was uploaded")
            && run.stderr.contains("201.cfg (")
            && run.stderr.contains("bytes on the target"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("202.cfg ("), "{}", run.stderr);
    assert!(
        server.log().iter().any(|l| l == "SIZE 201.cfg"),
        "checked by SIZE: {:?}",
        server.log()
    );
    // The state records that 201.cfg is not as written: the next plan
    // rewrites it, and nothing else.
    let plan = w.run(&["plan", "--format", "json"]);
    plan.expect(0);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).expect("json");
    let changed: Vec<&str> = v["sites"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["action"] != "unchanged")
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(changed, ["201.cfg"], "{}", plan.stdout);
}

/// A `dir:` target keeps to its root as an FTP server keeps its users in
/// theirs: a symbolic link there (to a file outside, or planted at a
/// temporary name or the lock's) is left out of the listing with a
/// warning, never read, and never written through.
#[test]
fn a_dir_target_follows_no_symbolic_link_out_of_its_root() {
    use std::os::unix::fs::symlink;
    let w = work("dir:root", 10);
    let (root, outside) = (w.path().join("root"), w.path().join("outside"));
    std::fs::create_dir_all(&root).expect("root");
    std::fs::create_dir_all(outside.join("folder")).expect("outside");
    let secret = b"<PHONE_CONFIG><OVERRIDES reg.1.label=\"OUTSIDE-ONLY\"/></PHONE_CONFIG>";
    let victim = b"a file outside the root";
    std::fs::write(outside.join("secret.cfg"), secret).expect("secret");
    std::fs::write(outside.join("victim.cfg"), victim).expect("victim");
    let link = |target: &str, name: &str| {
        symlink(outside.join(target), root.join(name)).expect("symlink");
    };
    link("secret.cfg", "0004f2000000-phone.cfg");
    link("victim.cfg", "altigen.cfg");
    link("victim.cfg", "201.cfg.polyops-tmp");
    link("folder", ".polyops-lock");

    let run = w.run(&["explain", "lab", "201", "--observed"]);
    run.expect(0);
    assert!(!run.stdout.contains("OUTSIDE-ONLY"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("0004f2000000-phone.cfg  override  missing"),
        "{}",
        run.stdout
    );
    let run = w.run(&["plan", "lab"]);
    run.expect(0);
    assert!(!run.stdout.contains("OUTSIDE-ONLY"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("\"0004f2000000-phone.cfg (a symbolic link)\"")
            && run.stderr.contains("\"altigen.cfg (a symbolic link)\""),
        "{}",
        run.stderr
    );
    // The lock's name is taken by a link: apply neither takes the lock
    // nor writes through it.
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(1);
    assert_eq!(
        std::fs::read_dir(outside.join("folder"))
            .expect("folder")
            .count(),
        0
    );
    std::fs::remove_file(root.join(".polyops-lock")).expect("unlink the lock");
    w.run(&["apply", "--auto-approve", "--allow-incomplete"])
        .expect(0);
    assert_eq!(
        std::fs::read(outside.join("victim.cfg")).expect("victim"),
        victim
    );
    assert_eq!(
        std::fs::read(outside.join("secret.cfg")).expect("secret"),
        secret
    );
    for name in ["altigen.cfg", "201.cfg"] {
        let kind = std::fs::symlink_metadata(root.join(name))
            .expect(name)
            .file_type();
        assert!(kind.is_file(), "{name} is not a plain file");
    }
    assert!(!root.join("201.cfg.polyops-tmp").exists());
    assert!(
        std::fs::symlink_metadata(root.join("0004f2000000-phone.cfg"))
            .expect("the link")
            .file_type()
            .is_symlink()
    );
}
