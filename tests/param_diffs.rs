//! docs/outputs.md "Parameter diffs": beside the unified diff of a `.cfg` file,
//! plan names the parameters added, removed and changed, and calls a
//! change of bytes alone "formatting only" — end to end against a `dir:`
//! target.

use crate::common;

use common::site::hq_one_phone;
use common::{Output, Test};
use serde_json::{json, Value};

/// A one-extension, one-phone site `hq` on the folder `ftp-root`.
fn hq() -> Test {
    Test::new()
        .site("hq", &hq_one_phone().yaml())
        .env("P201", "1212")
}

/// `201.cfg` as an installer types it from the guide: a byte order mark,
/// CRLF, tabs, single quotes, its own comment and elements, attributes
/// spread over lines — and exactly the parameters polyops renders.
const HAND_MADE_201: &str = "\u{feff}<?xml version=\"1.0\"?>\r\n<!-- ext 201, typed in from the guide -->\r\n<phone1>\r\n\t<reg reg.1.displayName=\"201\" reg.1.address=\"201\"\r\n\t\treg.1.label='201'\r\n\t\treg.1.auth.userId=\"201\"\r\n\t\treg.1.auth.password=\"1212\">\r\n\t\t<server reg.1.server.1.address=\"10.100.2.127\"\r\n\t\t\treg.1.server.1.expires=\"90\"/>\r\n\t</reg>\r\n\t<msg msg.bypassInstantMessage=\"1\">\r\n\t\t<mwi msg.mwi.1.callBackMode=\"contact\" msg.mwi.1.callBack=\"##@10.100.2.127\"\r\n\t\t\tmsg.mwi.1.subscribe=\"201@10.100.2.127\"/>\r\n\t</msg>\r\n</phone1>\r\n";

/// The entry of `name` in the first site of a JSON report.
fn file(out: &Output, name: &str) -> Value {
    let json: Value = serde_json::from_str(&out.stdout).expect("plan prints JSON");
    json["sites"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in\n{}", out.stdout))
        .clone()
}

#[test]
fn a_hand_made_file_with_the_same_parameters_is_formatting_only_in_every_format() {
    let out = hq()
        .file("ftp-root/201.cfg", HAND_MADE_201)
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains("  ~ update    201.cfg  (not written by polyops before: apply takes it over; formatting only)\n")
        .stdout_contains("\n201.cfg: formatting only, no parameter changes\n--- a/201.cfg\n")
        .stdout_lacks("201.cfg parameters:")
        .stdout_lacks("1212")
        .then()
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0)
        .stdout_contains("| update | <code>201.cfg</code> | taken over (not written by polyops before); formatting only |")
        .stdout_contains("<code>201.cfg</code> (hq): formatting only, no parameter changes.\n\n<details><summary>update <code>201.cfg</code> (hq): formatting only</summary>")
        .stdout_lacks("| parameter |")
        .stdout_lacks("1212")
        .then()
        .env("POLYOPS_HASH_KEY", "a-long-enough-test-hash-key")
        .args(["plan", "--format", "json", "--out", "plan.json"])
        .run()
        .status(0)
        .stdout_lacks("1212");
    let f = file(&out, "201.cfg");
    assert_eq!(f["action"], "update", "{f}");
    assert_eq!(f["adopted"], true, "{f}");
    assert_eq!(f["formatting_only"], true, "{f}");
    assert_eq!(
        f["params"],
        json!({"added": {}, "removed": {}, "changed": {}}),
        "{f}"
    );
    // Files created have no parameter diff.
    let created = file(&out, "altigen.cfg");
    assert_eq!(created["params"], Value::Null, "{created}");
    assert_eq!(created["formatting_only"], false, "{created}");
    // A plan file keeps hashes only: no parameter diff, but the mark.
    let saved: Value = serde_json::from_slice(&out.read("plan.json")).expect("plan file");
    let saved = &saved["sites"][0]["files"][0];
    assert_eq!(saved["name"], "201.cfg", "{saved}");
    assert_eq!(saved["params"], Value::Null, "{saved}");
    assert_eq!(saved["formatting_only"], true, "{saved}");
    // And apply accepts that plan file.
    out.then()
        .args([
            "apply",
            "--plan",
            "plan.json",
            "--auto-approve",
            "--allow-incomplete",
        ])
        .run()
        .status(0);
}

/// The site applied, then `201.cfg` on the target edited by `edit`.
fn applied_then_edited(edit: impl Fn(String) -> String) -> Test {
    let applied = hq()
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0);
    let path = applied.path().join("ftp-root/201.cfg");
    let rendered = String::from_utf8(std::fs::read(&path).expect("201.cfg was applied"))
        .expect("201.cfg is UTF-8");
    let edited = edit(rendered.clone());
    assert_ne!(edited, rendered, "the edit changes the file");
    std::fs::write(&path, edited).expect("edit 201.cfg on the target");
    applied.then()
}

#[test]
fn a_parameter_changed_on_the_target_is_named_in_every_format() {
    let out = applied_then_edited(|f| f.replace("reg.1.label=\"201\"", "reg.1.label=\"Lobby\""))
        .args(["plan"])
        .run()
        .status(0)
        .stdout_contains("\n201.cfg parameters: 1 changed\n  ~ reg.1.label=\"Lobby\" → \"201\"\n--- a/201.cfg\n")
        .stdout_lacks("formatting only")
        .then()
        .args(["drift"])
        .run()
        .status(2)
        .stdout_contains("  ~ reg.1.label=\"Lobby\" → \"201\"\n")
        .then()
        .args(["plan", "--format", "markdown"])
        .run()
        .status(0)
        .stdout_contains("Parameters of <code>201.cfg</code> (hq): 1 changed\n\n| parameter | before | after |\n|---|---|---|\n| <code>reg.1.label</code> | <code>Lobby</code> | <code>201</code> |\n\n<details>")
        .then()
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    let f = file(&out, "201.cfg");
    assert_eq!(f["drifted"], true, "{f}");
    assert_eq!(f["formatting_only"], false, "{f}");
    assert_eq!(
        f["params"],
        json!({"added": {}, "removed": {}, "changed": {"reg.1.label": ["Lobby", "201"]}}),
        "{f}"
    );
}

#[test]
fn a_password_and_a_hostile_value_on_the_target_are_shown_safely_in_every_format() {
    let mut next = applied_then_edited(|f| {
        f.replace(
            "reg.1.auth.password=\"1212\"",
            "reg.1.auth.password=\"typed-on-server\" x.password=\"also-typed\"",
        )
        .replace(
            "reg.1.label=\"201\"",
            "reg.1.label=\"Lob&#13;&#10;by\u{202e}\"",
        )
    });
    for format in ["text", "markdown", "json"] {
        let out = next
            .args(["plan", "--format", format])
            .run()
            .status(0)
            .stdout_lacks("typed-on-server")
            .stdout_lacks("also-typed")
            .stdout_lacks("1212")
            .stdout_lacks("\r")
            .stdout_lacks("\u{202e}");
        match format {
            "text" => {
                let out = out
                    .stdout_contains("201.cfg parameters: 2 changed, 1 removed\n")
                    .stdout_contains(
                        "  ~ reg.1.auth.password=\"********\" → \"******** (changed)\"\n",
                    )
                    .stdout_contains("  ~ reg.1.label=\"Lob\\x0d\\x0aby\\u{202e}\" → \"201\"\n")
                    .stdout_contains("  - x.password=\"********\"\n");
                next = out.then();
            }
            "markdown" => {
                let out = out.stdout_contains(
                    "| <code>reg.1.label</code> | <code>Lob&#92;x0d&#92;x0aby&#92;u{202e}</code> | <code>201</code> |\n",
                );
                next = out.then();
            }
            _ => {
                let f = file(&out, "201.cfg");
                assert_eq!(
                    f["params"],
                    json!({
                        "added": {},
                        "removed": {"x.password": "********"},
                        "changed": {
                            "reg.1.auth.password": ["********", "******** (changed)"],
                            "reg.1.label": ["Lob\\x0d\\x0aby\\u{202e}", "201"],
                        },
                    }),
                    "{f}"
                );
                next = out.then();
            }
        }
    }
}

#[test]
fn a_file_on_the_target_that_does_not_parse_has_no_parameter_diff() {
    let out = hq()
        .file("ftp-root/201.cfg", "reg.1.label=201\n")
        .args(["plan", "--format", "json"])
        .run()
        .status(0);
    let f = file(&out, "201.cfg");
    assert_eq!(f["action"], "update", "{f}");
    assert_eq!(f["params"], Value::Null, "{f}");
    assert_eq!(f["formatting_only"], false, "{f}");
    out.then()
        .args(["plan"])
        .run()
        .status(0)
        .stdout_lacks("formatting only")
        .stdout_lacks("parameters:");
}
