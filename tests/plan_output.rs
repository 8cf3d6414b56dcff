//! docs/commands.md: what `plan` and `drift` print, end to end against a `dir:`
//! target (a local folder standing in for the FTP root).

use crate::common;

use common::site::{hq_of, hq_one_phone};
use common::Test;

/// A one-extension, one-phone site `hq` on the folder `ftp-root`, which
/// holds the firmware package (three unmanaged files).
fn hq() -> Test {
    Test::new()
        .site("hq", &hq_one_phone().yaml())
        .env("P201", "1212")
        .firmware_package("ftp-root")
}

#[test]
fn a_huge_file_on_the_target_is_not_diffed_and_plan_says_so() {
    let line = "<x reg.1.label=\"junk\"/>\n";
    let big = line.repeat(16 * 1024 * 1024 / line.len());
    let big = format!("{big}{}", " ".repeat(16 * 1024 * 1024 - big.len()));
    let out = hq()
        .file("ftp-root/201.cfg", &big)
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains("201.cfg: too large to diff (16.0 MiB on the target,")
        .stdout_lacks("junk");
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

/// The site applied to its folder: the next command starts from a target
/// that holds exactly what the site renders.
fn hq_applied() -> Test {
    hq().args(["apply", "--auto-approve"])
        .run()
        .status(0)
        .then()
}

const PHONE_CFG: &str = "ftp-root/0004f2000607-phone.cfg";

#[test]
fn an_override_that_sets_the_declared_values_is_not_drift() {
    hq_applied()
        .file(
            PHONE_CFG,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PHONE_CONFIG><ALL reg.1.label=\"201\" reg.1.auth.password=\"1212\" voIpProt.SIP.local.port=\"10060\" up.backlight.idleIntensity=\"1\"/></PHONE_CONFIG>\n",
        )
        .args(["drift"])
        .run()
        .status(0)
        .stdout_lacks("1212")
        .stdout_lacks(" override,")
        .stdout_contains("Drift: 0 to create, 0 to update, 0 to delete, 3 unchanged, 4 unmanaged.");
}

#[test]
fn an_override_with_only_the_xml_declaration_is_not_drift() {
    for body in [
        "<?xml version=\"2.0\" encoding=\"ISO-8859-1\" standalone=\"no\"?>\n<PHONE_CONFIG/>\n",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n",
    ] {
        hq_applied()
            .file(PHONE_CFG, body)
            .args(["drift"])
            .run()
            .status(0)
            .stdout_lacks("version")
            .stdout_lacks("encoding");
    }
}

#[test]
fn an_override_that_changes_a_declared_value_is_drift_and_counted() {
    let out = hq_applied()
        .file(
            PHONE_CFG,
            "\u{feff}<PHONE_CONFIG>\r\n<ALL reg.1.label=\"201\" reg.1.auth.password=\"typed\" up.backlight.idleIntensity=\"1\"/>\r\n</PHONE_CONFIG>\r\n",
        )
        .args(["drift"])
        .run()
        .status(2)
        .stdout_contains("0004f2000607-phone.cfg (phone 0004f2000607 overrides reg.1.auth.password)")
        .stdout_contains("Drift: 0 to create, 0 to update, 0 to delete, 3 unchanged, 1 override, 4 unmanaged.")
        .stdout_lacks("typed")
        .then()
        .args(["drift", "--format", "json"])
        .run()
        .status(2)
        .stdout_lacks("typed");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let site = &json["sites"][0];
    assert_eq!(site["summary"]["overrides"], 1, "{}", out.stdout);
    assert_eq!(
        site["overrides"][0]["shadows"],
        serde_json::json!(["reg.1.auth.password"]),
        "{}",
        out.stdout
    );
    out.then()
        .args(["drift", "--format", "markdown"])
        .run()
        .status(2)
        .stdout_contains("1 override")
        .stdout_contains("- <code>0004f2000607-phone.cfg</code> of phone <code>0004f2000607</code> overrides <code>reg.1.auth.password</code>")
        .stdout_lacks("typed");
}

#[test]
fn an_override_that_does_not_parse_is_reported_but_not_drift() {
    hq_applied()
        .file(PHONE_CFG, "<ALL reg.1.auth.password=\"typed&x;\"")
        .args(["drift"])
        .run()
        .status(0)
        .stdout_contains("0004f2000607-phone.cfg")
        .stdout_contains("does not parse")
        .stdout_lacks("typed");
}

#[test]
fn a_managed_file_removed_on_the_target_is_called_removed_in_every_format() {
    let applied = hq_applied();
    std::fs::remove_file(applied.path().join("ftp-root/201.cfg")).expect("remove");
    let out = applied
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains(
            "+ create    201.cfg  (drifted: removed on the target since polyops wrote it)",
        )
        .stdout_lacks("changed on the target")
        .then()
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0)
        .stdout_contains(
            "| create | <code>201.cfg</code> | removed on the target since polyops wrote it |",
        )
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let files = json["sites"][0]["files"].as_array().expect("files");
    let f = files
        .iter()
        .find(|f| f["name"] == "201.cfg")
        .expect("201.cfg");
    assert_eq!(f["action"], "create", "{f}");
    assert_eq!(f["drifted"], true, "{f}");
    assert_eq!(f["removed"], true, "{f}");
    let other = files
        .iter()
        .find(|f| f["name"] == "altigen.cfg")
        .expect("altigen.cfg");
    assert_eq!(other["removed"], false, "{other}");
}

#[test]
fn a_managed_file_changed_on_the_target_is_called_changed() {
    let applied = hq_applied();
    std::fs::write(applied.path().join("ftp-root/201.cfg"), "<x/>\n").expect("tamper");
    applied
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0)
        .stdout_contains(
            "| update | <code>201.cfg</code> | changed on the target since polyops wrote it |",
        );
}

#[test]
fn plan_says_in_every_format_when_apply_would_refuse_a_mass_delete() {
    // 13 managed files; 2 phones keep 5: 8 deletes, over 30%.
    let out = Test::new()
        .site_bytes("hq", hq_of(6))
        .env("P201", "1212")
        .firmware_package("ftp-root")
        .args(["apply", "--auto-approve"])
        .run()
        .status(0)
        .then()
        .site_bytes("hq", hq_of(2))
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains(
            "  ! apply refuses this plan: plan deletes 8 of 13 managed files (more than 30%): apply needs --allow-mass-delete\n",
        )
        .then()
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0);
    let warning = out
        .stdout
        .find("> **Warning:** apply refuses this plan: plan deletes 8 of 13 managed files (more than 30%): apply needs --allow-mass-delete")
        .unwrap_or_else(|| panic!("no warning in\n{}", out.stdout));
    let fold = out.stdout.find("<details>").expect("diffs");
    assert!(warning < fold, "{}", out.stdout);
    let out = out
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        json["sites"][0]["apply_would_refuse"],
        "plan deletes 8 of 13 managed files (more than 30%): apply needs --allow-mass-delete",
        "{}",
        out.stdout
    );
    // And apply does refuse it.
    out.then()
        .args(["apply", "--auto-approve"])
        .run()
        .status(1)
        .stderr_contains("--allow-mass-delete");
}

#[test]
fn a_plan_apply_accepts_says_nothing_of_refusal() {
    let out = hq()
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks("refuses");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert!(
        json["sites"][0]["apply_would_refuse"].is_null(),
        "{}",
        out.stdout
    );
    assert!(
        json["sites"][0]
            .as_object()
            .expect("site")
            .contains_key("apply_would_refuse"),
        "{}",
        out.stdout
    );
}

/// `hq_of(phones)` with top-level keys added.
fn hq_with(phones: usize, rest: &str) -> String {
    format!("{}{rest}", hq_of(phones))
}

#[test]
fn safety_limits_are_per_site_and_may_come_from_the_defaults() {
    // 8 of 13 managed files deleted (61%): under a 70% limit apply goes on.
    Test::new()
        .site_bytes("hq", hq_of(6))
        .env("P201", "1212")
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then()
        .site_bytes("hq", hq_with(2, "safety: {max_delete_percent: 70}\n"))
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_contains("\"apply_would_refuse\": null")
        .then()
        .site_bytes("hq", hq_of(2))
        .file("sites/_defaults.yaml", "safety: {min_managed: 14}\n")
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0);
}

#[test]
fn a_mass_update_is_refused_only_where_a_site_sets_a_limit() {
    let changed = |rest: &str| hq_with(6, rest).replace("10.100.2.127", "10.100.2.128");
    let out = Test::new()
        .site_bytes("hq", hq_of(6))
        .env("P201", "1212")
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then()
        // Every extension file changes its server: 6 of 13 managed files.
        .site_bytes("hq", changed("safety: {max_update_percent: 40}\n"))
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains(
            "apply refuses this plan: plan updates 6 of 13 managed files (more than 40%): apply needs --allow-mass-update",
        )
        .then()
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(1)
        .stderr_contains("rerun with --allow-mass-update");
    let out = out
        .then()
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--allow-mass-update",
        ])
        .run()
        .status(0);
    // Without a limit the same change needs nothing.
    out.then()
        .site_bytes("hq", changed("").replace("10.100.2.128", "10.100.2.129"))
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0);
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly_with_sigpipes_code() {
    let t = Test::new().site_bytes("hq", hq_of(3)).env("P201", "1212");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_polyops"))
        .args(["plan"])
        .current_dir(t.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("P201", "1212")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("polyops runs");
    // The reader goes away before polyops has written a byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("polyops ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
}
