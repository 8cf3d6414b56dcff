//! docs/threat-model.md: no published hash of a file that carries a secret can be
//! reversed. JSON output and plan files give such a file's hashes as
//! HMAC-SHA256 under the hash key, or not at all without one; staleness
//! stays exact; the key itself is never shown.

use crate::common;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use common::site::hq_one_phone;
use common::{Output, Test};

/// A one-extension, one-phone site `hq` on the folder `ftp-root`, with a
/// firmware file that sets a password parameter and one that does not.
/// Site `hq` with two firmware files, their hashes to fill in.
fn hq_site() -> String {
    hq_one_phone()
        .block(
            "firmware:\n  files:\n    - {path: firmware/sip.ld, sha256: SIP_LD_SHA}\n    - {path: firmware/admin.cfg, sha256: ADMIN_CFG_SHA}",
        )
        .yaml()
}

const KEY: &str = "test-hash-key-4f1c9a7e0b3d";
const OTHER_KEY: &str = "another-hash-key-77aa01";
const SIP_LD: &[u8] = b"\x7fELF firmware image, no secret in it\x00";
const ADMIN_CFG: &str = "<device device.auth.localAdminPassword=\"4567\" device.set=\"1\"/>\n";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What docs/threat-model.md says `hmac_sha256_*` is: HMAC-SHA256 under the key of
/// the file's sha256 in lowercase hex.
fn hmac_hex(key: &str, bytes: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key");
    mac.update(sha256_hex(bytes).as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hq() -> Test {
    let site = hq_site()
        .replace("SIP_LD_SHA", &sha256_hex(SIP_LD))
        .replace("ADMIN_CFG_SHA", &sha256_hex(ADMIN_CFG.as_bytes()));
    Test::new()
        .file("firmware/sip.ld", SIP_LD)
        .file("firmware/admin.cfg", ADMIN_CFG)
        .site("hq", &site)
        .firmware_package("ftp-root")
        .env("P201", "1212")
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn file<'a>(site: &'a Value, name: &str) -> &'a Value {
    site["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {site}"))
}

/// Every run of 64 hex digits in `text`.
fn hex64(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c.to_ascii_lowercase());
        } else {
            if run.len() == 64 {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

/// Render the site and return its files by name.
fn rendered(t: Test) -> (Test, std::collections::BTreeMap<String, Vec<u8>>) {
    let out = t.args(["render", "--out", "rendered"]).run().status(0);
    let files = out.files_in("rendered/hq");
    (out.then(), files)
}

#[test]
fn json_gives_a_secret_file_an_hmac_and_every_other_file_its_sha256() {
    let (t, files) = rendered(hq().env("POLYOPS_HASH_KEY", KEY));
    let out = t
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks(KEY);
    let doc = json(&out);
    let site = &doc["sites"][0];
    for secret in ["201.cfg", "admin.cfg"] {
        let sha = sha256_hex(&files[secret]);
        assert!(
            !hex64(&out.stdout).contains(&sha),
            "the sha256 of {secret} is published:\n{}",
            out.stdout
        );
        let f = file(site, secret);
        assert_eq!(f["sha256_before"], Value::Null, "{f}");
        assert_eq!(f["sha256_after"], Value::Null, "{f}");
        assert_eq!(f["hmac_sha256_before"], Value::Null, "{f}");
        assert_eq!(f["hmac_sha256_after"], hmac_hex(KEY, &files[secret]), "{f}");
        assert!(f.get("redacted").is_none(), "{f}");
    }
    for plain in ["altigen.cfg", "0004f2000607.cfg", "sip.ld"] {
        let f = file(site, plain);
        assert_eq!(f["sha256_after"], sha256_hex(&files[plain]), "{f}");
        for field in ["hmac_sha256_before", "hmac_sha256_after", "redacted"] {
            assert!(f.get(field).is_none(), "{field} in {f}");
        }
    }
    assert!(site.get("redacted").is_none(), "{site}");
}

#[test]
fn reads_and_the_old_side_of_a_secret_file_are_hmacs_too() {
    let applied = hq()
        .env("POLYOPS_HASH_KEY", KEY)
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then();
    // A hand edit that puts a password into a file that had none: the old
    // side carries a secret now, so neither side's sha256 is shown.
    let edited = b"<sip voIpProt.SIP.auth.password=\"9876\"/>\n".to_vec();
    let (t, files) = rendered(applied.file("ftp-root/altigen.cfg", &edited));
    let out = t.args(["plan", "--format", "json"]).run().status(0);
    let doc = json(&out);
    let site = &doc["sites"][0];
    let published = hex64(&out.stdout);
    for bytes in [
        &files["201.cfg"],
        &files["admin.cfg"],
        &edited,
        &files["altigen.cfg"],
    ] {
        assert!(
            !published.contains(&sha256_hex(bytes)),
            "a sha256 of a file with a secret is published:\n{}",
            out.stdout
        );
    }
    let ext = file(site, "201.cfg");
    assert_eq!(ext["action"], "unchanged", "{ext}");
    assert_eq!(ext["hmac_sha256_before"], hmac_hex(KEY, &files["201.cfg"]));
    let altigen = file(site, "altigen.cfg");
    assert_eq!(altigen["action"], "update", "{altigen}");
    assert_eq!(altigen["sha256_before"], Value::Null, "{altigen}");
    assert_eq!(altigen["hmac_sha256_before"], hmac_hex(KEY, &edited));
    assert_eq!(
        altigen["hmac_sha256_after"],
        hmac_hex(KEY, &files["altigen.cfg"])
    );
    let reads = &site["reads"];
    assert_eq!(
        reads["201.cfg"],
        hmac_hex(KEY, &files["201.cfg"]),
        "{reads}"
    );
    assert_eq!(reads["altigen.cfg"], hmac_hex(KEY, &edited), "{reads}");
    assert_eq!(reads["sip.ld"], sha256_hex(SIP_LD), "{reads}");
    assert_eq!(
        reads["0004f2000607.cfg"],
        sha256_hex(&files["0004f2000607.cfg"]),
        "{reads}"
    );
}

#[test]
fn without_a_key_the_hashes_of_secret_files_are_redacted() {
    let applied = hq()
        .env("POLYOPS_HASH_KEY", KEY)
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then();
    let (t, files) = rendered(applied.env("POLYOPS_HASH_KEY", ""));
    let out = t.args(["plan", "--format", "json"]).run().status(0);
    let doc = json(&out);
    let site = &doc["sites"][0];
    for secret in ["201.cfg", "admin.cfg"] {
        let f = file(site, secret);
        for field in [
            "sha256_before",
            "sha256_after",
            "hmac_sha256_before",
            "hmac_sha256_after",
        ] {
            assert_eq!(f[field], Value::Null, "{field} of {f}");
        }
        assert_eq!(f["redacted"], true, "{f}");
        assert_eq!(site["reads"][secret], Value::Null, "{site}");
    }
    assert_eq!(site["redacted"], true, "{site}");
    assert_eq!(
        file(site, "altigen.cfg")["sha256_before"],
        sha256_hex(&files["altigen.cfg"])
    );
    assert_eq!(
        site["reads"]["altigen.cfg"],
        sha256_hex(&files["altigen.cfg"])
    );
    for sha in [
        sha256_hex(&files["201.cfg"]),
        sha256_hex(&files["admin.cfg"]),
    ] {
        assert!(!out.stdout.contains(&sha), "{}", out.stdout);
    }
    // Text shows no hash either way, and says nothing of the key.
    out.then()
        .args(["plan"])
        .run()
        .status(0)
        .stdout_lacks("sha256")
        .stdout_lacks("redacted")
        .stderr_is_empty();
}

#[test]
fn plan_out_without_a_key_fails_in_one_line_and_leaves_no_file() {
    let out = hq()
        .file("plan.json", "an older plan\n")
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(1)
        .stdout_is("");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("error: "), "{}", out.stderr);
    assert!(
        lines[0].contains("POLYOPS_HASH_KEY") && lines[0].contains("polyops-hash-key"),
        "{}",
        out.stderr
    );
    assert!(
        !out.path().join("plan.json").exists(),
        "an old plan is left"
    );
}

#[test]
fn a_saved_plan_applies_under_its_key_and_is_stale_when_a_password_changed() {
    let planned = hq()
        .env("POLYOPS_HASH_KEY", KEY)
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(0);
    let saved = String::from_utf8(planned.read("plan.json")).expect("UTF-8");
    assert!(!saved.contains(KEY) && !saved.contains("1212"), "{saved}");
    let applied = planned
        .then()
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(0)
        .stdout_lacks(KEY);
    let before = applied.read("ftp-root/201.cfg");

    // A new password renders other bytes: the plan made before it is stale.
    let planned = applied
        .then()
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(0)
        .then()
        .env("P201", "4321");
    let stale = planned
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(1)
        .stderr_contains("stale")
        .stderr_lacks(KEY)
        .stderr_lacks("4321");
    assert_eq!(stale.read("ftp-root/201.cfg"), before, "a stale plan wrote");
    // A plan made with the new password applies.
    stale
        .then()
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(0)
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
fn a_plan_made_under_one_key_is_refused_under_another_or_none() {
    let planned = hq()
        .env("POLYOPS_HASH_KEY", KEY)
        .args(["plan", "--out", "plan.json"])
        .run()
        .status(0);
    let other = planned
        .then()
        .env("POLYOPS_HASH_KEY", OTHER_KEY)
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(1)
        .stderr_contains("stale")
        .stderr_contains("another hash key")
        .stderr_lacks(KEY)
        .stderr_lacks(OTHER_KEY)
        .stdout_lacks(OTHER_KEY);
    assert!(
        !other.path().join("ftp-root/201.cfg").exists(),
        "applied blindly"
    );
    let none = other
        .then()
        .env("POLYOPS_HASH_KEY", "")
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(1)
        .stderr_has_line_with("error: apply --plan needs the hash key", "POLYOPS_HASH_KEY");
    assert!(
        !none.path().join("ftp-root/201.cfg").exists(),
        "applied blindly"
    );
}

#[test]
fn json_output_saved_without_a_key_is_refused_as_a_plan() {
    // Redacted hashes are null like an absent file's: a plan made of them
    // could not see a changed password.
    let out = hq().args(["plan", "--format", "json"]).run().status(0);
    let doc = out.stdout.clone();
    let refused = out
        .then()
        .env("POLYOPS_HASH_KEY", KEY)
        .file("plan.json", doc)
        .args([
            "apply",
            "--auto-approve",
            "--allow-incomplete",
            "--plan",
            "plan.json",
        ])
        .run()
        .status(1)
        .stderr_contains("stale")
        .stderr_contains("without a hash key");
    assert!(
        !refused.path().join("ftp-root/201.cfg").exists(),
        "applied blindly"
    );
}

#[test]
fn the_key_may_come_from_the_secrets_file_and_the_environment_wins() {
    let (t, files) = rendered(hq().secrets(&format!("polyops-hash-key: {KEY}\n")));
    let from_file = t
        .args(["--secrets", "secrets.yaml", "plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks(KEY);
    let doc = json(&from_file);
    assert_eq!(
        file(&doc["sites"][0], "201.cfg")["hmac_sha256_after"],
        hmac_hex(KEY, &files["201.cfg"])
    );
    let from_env = from_file
        .then()
        .env("POLYOPS_HASH_KEY", OTHER_KEY)
        .args(["--secrets", "secrets.yaml"])
        .args(["plan", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks(KEY)
        .stdout_lacks(OTHER_KEY);
    let doc = json(&from_env);
    assert_eq!(
        file(&doc["sites"][0], "201.cfg")["hmac_sha256_after"],
        hmac_hex(OTHER_KEY, &files["201.cfg"])
    );
}

#[test]
fn a_short_key_is_refused_without_being_shown() {
    for args in [&["plan"][..], &["plan", "--out", "plan.json"], &["drift"]] {
        let out = hq()
            .env("POLYOPS_HASH_KEY", "0123")
            .args(args)
            .run()
            .status(1)
            .stderr_has_line_with(
                "error: the hash key (environment variable POLYOPS_HASH_KEY)",
                "shorter than 16",
            )
            .stderr_lacks("0123");
        assert!(!out.path().join("plan.json").exists());
    }
}

#[test]
fn the_key_is_masked_wherever_it_would_appear() {
    // A file on the target that quotes the key: its diff masks it, and the
    // file counts as carrying a secret.
    let mut next = hq()
        .env("POLYOPS_HASH_KEY", KEY)
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .stdout_lacks(KEY)
        .then()
        .file(
            "ftp-root/0004f2000607.cfg",
            format!("<x note=\"{KEY}\"/>\n"),
        );
    for format in ["text", "markdown", "json"] {
        let out = next
            .args(["-v", "plan", "--format", format])
            .run()
            .status(0)
            .stdout_contains("********")
            .stdout_lacks(KEY)
            .stderr_lacks(KEY);
        if format == "json" {
            let doc = json(&out);
            let master = file(&doc["sites"][0], "0004f2000607.cfg");
            assert_eq!(master["sha256_before"], Value::Null, "{master}");
            assert!(master["hmac_sha256_before"].is_string(), "{master}");
        }
        next = out.then();
    }
}
