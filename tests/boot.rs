//! docs/apply.md "The boot check": every file a declared phone's master file names
//! in its APPLICATION element (APP_FILE_PATH, every CONFIG_FILES entry) must
//! be on the target after apply. plan warns, drift counts it as drift,
//! apply refuses unless `--allow-incomplete`. Against `dir:` targets.

use crate::common;
use crate::scripted;

use std::collections::BTreeMap;
use std::path::Path;

use common::site::{hq_of, hq_two_phones, SiteYaml};
use common::{Test, FIRMWARE_PACKAGE};
use scripted::{Script, Scripted};
use serde_json::json;

/// Two phones on two extensions, on the folder `ftp-root`.
/// Site `hq`: two phones whose extensions share the password `$P201`.
fn hq_site() -> SiteYaml {
    hq_two_phones(
        r#"{number: "201", password: {env: P201}}"#,
        r#"{number: "202", password: {env: P201}}"#,
    )
}

const BOTH: [&str; 2] = ["0004f2000607", "0004f214ab37"];

fn hq() -> Test {
    Test::new()
        .site("hq", &hq_site().yaml())
        .env("P201", "1212")
}

/// `hq` with the firmware package on its root, but for `name`.
fn hq_without(name: &str) -> Test {
    let mut t = hq();
    for (n, bytes) in FIRMWARE_PACKAGE {
        if n != name {
            t = t.file(&format!("ftp-root/{n}"), bytes);
        }
    }
    t
}

/// Every entry under `dir`, folders included (`None`), with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read folder") {
            let path = entry.expect("entry").path();
            let key = path
                .strip_prefix(dir)
                .expect("below the root")
                .display()
                .to_string();
            if path.is_dir() {
                out.insert(key, None);
                todo.push(path);
            } else {
                out.insert(key, Some(std::fs::read(&path).expect("read file")));
            }
        }
    }
    out
}

fn json_of(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn plan_lists_each_missing_file_with_the_phones_that_need_it_as_a_warning() {
    let phones = "phones 0004f2000607, 0004f214ab37";
    hq().args(["plan", "--detailed-exitcode"])
        .run()
        .status(2)
        .stdout_contains(&format!(
            "site hq → dir:ftp-root (sites/hq.yaml)\n  ! boot check: 3 files the phones' master files name will not be on the target after apply; apply refuses this plan without --allow-incomplete:\n      phone1.cfg: {phones}\n      sip.cfg: {phones}\n      sip.ld: {phones}\n  + create "
        ))
        .stderr_contains(
            "warning: hq: the phones will not find phone1.cfg, sip.cfg, sip.ld on the target after apply (the plan lists the phones); apply refuses it without --allow-incomplete\n",
        );
}

#[test]
fn a_missing_file_does_not_change_the_exit_code_of_plan() {
    // Applied without the package: nothing left to change, files still missing.
    hq().args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then()
        .args(["plan", "--detailed-exitcode"])
        .run()
        .status(0)
        .stdout_contains("  ! boot check: 3 files")
        .stderr_contains("warning: hq: the phones will not find");
}

#[test]
fn json_names_each_missing_file_and_every_phone_that_needs_it() {
    let out = hq_without("sip.cfg")
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"sip.cfg": BOTH}}),
        "{}",
        out.stdout
    );
    let out = hq().args(["plan", "--format", "json"]).run().status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"phone1.cfg": BOTH, "sip.cfg": BOTH, "sip.ld": BOTH}}),
        "{}",
        out.stdout
    );
}

#[test]
fn markdown_shows_the_missing_files_above_the_changes() {
    let out = hq_without("sip.ld")
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0)
        .stdout_contains(
            "> **Boot check:** 1 file the phones' master files name will not be on the target after apply; apply refuses this plan without `--allow-incomplete`:\n>\n> - <code>sip.ld</code>: phones <code>0004f2000607</code>, <code>0004f214ab37</code>\n",
        );
    let warning = out.stdout.find("**Boot check:**").expect("warning");
    let table = out.stdout.find("| action | file |").expect("table");
    assert!(warning < table, "{}", out.stdout);
}

#[test]
fn drift_counts_a_missing_file_as_drift() {
    let applied = hq()
        .firmware_package("ftp-root")
        .args(["apply", "--auto-approve"])
        .run()
        .status(0);
    std::fs::remove_file(applied.path().join("ftp-root/phone1.cfg")).expect("remove");
    let out = applied
        .then()
        .args(["drift"])
        .run()
        .status(2)
        .stdout_contains(
            "  ! boot check: 1 file the phones' master files name is not on the target:\n      phone1.cfg: phones 0004f2000607, 0004f214ab37\n",
        )
        .stdout_contains("Drift: 0 to create, 0 to update, 0 to delete, 5 unchanged, 2 unmanaged.")
        .then()
        .args(["drift", "--format", "json"])
        .run()
        .status(2);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"phone1.cfg": BOTH}})
    );
    out.then()
        .args(["drift", "--format", "markdown"])
        .run()
        .status(2)
        .stdout_contains(
            "> **Boot check:** 1 file the phones' master files name is not on the target:",
        );
}

#[test]
fn apply_refuses_while_a_file_is_missing_and_writes_nothing() {
    let t = hq_without("sip.cfg")
        // A file from before polyops, which the apply would take over.
        .file("ftp-root/201.cfg", "<hand-made/>\n");
    let before = snapshot(&t.path().join("ftp-root"));
    let out = t
        .args(["apply", "--auto-approve"])
        .run()
        .status(1)
        .stderr_contains(
            "error: site hq: apply refused: 1 file the phones' master files name would not be on the target: sip.cfg (phones 0004f2000607, 0004f214ab37); put it on the target (the firmware package's sip.ld, sip.cfg and phone1.cfg: guide §5) or in firmware.files, or rerun with --allow-incomplete\n",
        );
    assert_eq!(snapshot(&out.path().join("ftp-root")), before);
}

#[test]
fn allow_incomplete_applies_and_says_what_is_missing() {
    let out = hq_without("phone1.cfg")
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .stderr_contains(
            "warning: hq: applying although the phones will not find phone1.cfg on the target (--allow-incomplete)\n",
        )
        .stdout_contains("Applied hq: 5 created, 0 updated, 0 deleted, 0 unchanged");
    let files = out.files_in("ftp-root");
    assert!(files.contains_key("0004f2000607.cfg"), "{files:?}");
    // The report of the apply still says what the phones miss.
    let out = out
        .then()
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--format",
            "json",
        ])
        .run()
        .status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"phone1.cfg": BOTH}})
    );
}

#[test]
fn with_the_firmware_package_on_the_root_nothing_is_missing() {
    let out = hq()
        .firmware_package("ftp-root")
        .args(["plan"])
        .run()
        .status(0)
        .stdout_lacks("boot check")
        .stderr_is_empty()
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {}})
    );
    out.then()
        .args(["apply", "--auto-approve"])
        .run()
        .status(0)
        .stderr_is_empty()
        .then()
        .args(["drift"])
        .run()
        .status(0)
        .stdout_lacks("boot check");
}

#[test]
fn a_file_firmware_files_uploads_is_not_missing() {
    use sha2::Digest;
    let image = b"firmware image\n";
    let sha = format!("{:x}", sha2::Sha256::digest(image));
    let site = hq_site()
        .block(&format!(
            "firmware:\n  files: [{{path: firmware/sip.ld, sha256: {sha}}}]"
        ))
        .yaml();
    Test::new()
        .site("hq", &site)
        .env("P201", "1212")
        .file("firmware/sip.ld", image)
        .file("ftp-root/sip.cfg", FIRMWARE_PACKAGE[1].1)
        .file("ftp-root/phone1.cfg", FIRMWARE_PACKAGE[2].1)
        .args(["apply", "--auto-approve"])
        .run()
        .status(0)
        .stdout_lacks("boot check");
}

#[test]
fn a_shared_file_names_every_phone_and_a_long_list_is_counted() {
    let site = hq_of(12);
    let macs: Vec<String> = (0..12).map(|i| format!("0004f2{i:06x}")).collect();
    let out = Test::new()
        .site_bytes("hq", site)
        .env("P201", "1212")
        .file("ftp-root/sip.ld", FIRMWARE_PACKAGE[0].1)
        .file("ftp-root/phone1.cfg", FIRMWARE_PACKAGE[2].1)
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains(&format!(
            "      sip.cfg: phones {} and 2 more\n",
            macs[..10].join(", ")
        ))
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"sip.cfg": macs}})
    );
}

#[test]
fn names_are_compared_exactly_as_the_server_does() {
    hq_without("sip.cfg")
        .file("ftp-root/SIP.CFG", FIRMWARE_PACKAGE[1].1)
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_contains("\"sip.cfg\": [");
}

#[test]
fn apply_of_a_saved_plan_checks_the_target_as_it_is_now() {
    let out = hq()
        .firmware_package("ftp-root")
        .env("POLYOPS_HASH_KEY", "a-long-enough-test-hash-key")
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(0);
    let saved = json_of(&String::from_utf8(out.read("plan.json")).expect("utf8"));
    assert_eq!(saved["sites"][0]["boot"], json!({"missing": {}}));
    // sip.cfg goes after the plan was made: no file the plan read changed.
    std::fs::remove_file(out.path().join("ftp-root/sip.cfg")).expect("remove");
    out.then()
        .args(["apply", "--auto-approve", "--plan", "plan.json"])
        .run()
        .status(1)
        .stderr_contains("apply refused: 1 file the phones' master files name would not be on the target: sip.cfg (phones 0004f2000607, 0004f214ab37)")
        .then()
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(0);
}

#[test]
fn a_failed_site_has_an_empty_boot_like_its_other_lists() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let dead = hq_site()
        .named("dead")
        .target(&format!(
            "{{url: \"ftp://127.0.0.1:{port}/\", timeout_seconds: 2}}"
        ))
        .yaml();
    let out = Test::new()
        .site("dead", &dead)
        .env("P201", "1212")
        .args(["plan", "--format", "json"])
        .run()
        .status(1);
    let site = &json_of(&out.stdout)["sites"][0];
    assert_eq!(site["status"], "error", "{}", out.stdout);
    assert_eq!(site["boot"], json!({"missing": {}}), "{}", out.stdout);
    assert_eq!(site["files"], json!([]), "{}", out.stdout);
}

#[test]
fn a_file_the_listing_leaves_out_is_asked_for_by_name() {
    // A listing cut short (pure-ftpd stops at 10,000 names) need not show
    // the package's files: they are there all the same.
    let server = Scripted::start(
        "ftp-pw",
        Script {
            unlisted: vec!["sip.cfg".to_owned(), "sip.ld".to_owned()],
            ..Script::default()
        },
    );
    for (name, bytes) in FIRMWARE_PACKAGE {
        server.put(name, bytes.as_bytes());
    }
    let site = hq_site()
        .target(&format!(
            "{{url: \"{}\", password: {{env: FTP_PW}}}}",
            server.url()
        ))
        .yaml();
    let out = Test::new()
        .site("hq", &site)
        .env("P201", "1212")
        .env("FTP_PW", "ftp-pw")
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stderr_is_empty();
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {}}),
        "{}",
        out.stdout
    );
    // A file that is not there is still missing.
    server.remove("sip.cfg");
    let out = out
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    assert_eq!(
        json_of(&out.stdout)["sites"][0]["boot"],
        json!({"missing": {"sip.cfg": BOTH}}),
        "{}",
        out.stdout
    );
}
