//! docs/explain.md: `polyops explain SITE PHONE` prints the parameters a phone
//! runs, as the phone computes them from its override files and its
//! CONFIG_FILES, leftmost first. The target holds Polycom's own files
//! (`sip.cfg`, `phone1.cfg` with the 3.2.7 release's parameters and
//! defaults) and a handset's override file; every expected winner is
//! computed here from the files themselves.

// common and ftp_support both include tests/common/package.rs, the
// firmware package's stand-in files, so each can be used alone.

use crate::common;
use crate::ftp_support;
use crate::scripted;

use std::collections::BTreeMap;

use common::site::hq_two_phones;
use common::xml::Params;
use common::Test;
use serde_json::Value;

const SIP_CFG: &str = include_str!("fixtures/explain/sip.cfg");
const PHONE1_CFG: &str = include_str!("fixtures/explain/phone1.cfg");

const P201: &str = "Sup3r-s3cret-201";
const P202: &str = "Other-s3cret-202";

/// Two phones: 201 (with a handset override) and 202 (without).
/// Site `hq`: 201 (Front Desk) on an IP650, 202 on an IP331.
fn hq_site() -> String {
    hq_two_phones(
        r#"{number: "201", name: Front Desk, password: {env: P201}}"#,
        r#"{number: "202", password: {env: P202}}"#,
    )
    .yaml()
}

/// What a handset wrote after someone cleared the dial plan on it, set
/// a label and typed a password: the empty digit map must win.
const OVERRIDE_201: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<PHONE_CONFIG>\n\
<OVERRIDES\n\
  dialplan.digitmap=\"\"\n\
  reg.1.label=\"Lobby\"\n\
  reg.1.auth.password=\"typed-on-handset\"\n\
  reg.1.thirdPartyName=\"Sup3r-s3cret-201\"\n\
  up.backlight.idleIntensity=\"1\"\n\
  lcl.datetime.date.format=\"a&#10;b&#x202E;c\"/>\n\
</PHONE_CONFIG>\n";

/// The site, with Polycom's files and phone 201's override on the target.
fn hq() -> Test {
    Test::new()
        .site("hq", &hq_site())
        .env("P201", P201)
        .env("P202", P202)
        .file("ftp-root/sip.cfg", SIP_CFG)
        .file("ftp-root/phone1.cfg", PHONE1_CFG)
        .file("ftp-root/0004f2000607-phone.cfg", OVERRIDE_201)
}

fn json(out: &common::Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// The explanation's parameters by name.
fn by_name(v: &Value) -> BTreeMap<String, Value> {
    v["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| (p["name"].as_str().expect("name").to_owned(), p.clone()))
        .collect()
}

/// What the phone runs from these files (leftmost first), worked out
/// from the files: name → (value, winning file, shadowed files).
fn expected(files: &[(&str, &[u8])]) -> BTreeMap<String, (String, String, Vec<String>)> {
    let mut out: BTreeMap<String, (String, String, Vec<String>)> = BTreeMap::new();
    for (file, bytes) in files {
        let params = Params::parse(file, bytes);
        for name in params.names() {
            match out.get_mut(name) {
                Some((_, _, shadows)) => shadows.push((*file).to_owned()),
                None => {
                    out.insert(
                        name.to_owned(),
                        (params.get(name).to_owned(), (*file).to_owned(), Vec::new()),
                    );
                }
            }
        }
    }
    out
}

/// Check every parameter of an explanation against [`expected`]; values
/// that are secrets must show as `********`.
fn assert_runs(v: &Value, files: &[(&str, &[u8])]) {
    let want = expected(files);
    let got = by_name(v);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the parameters differ"
    );
    for (name, (value, file, shadows)) in &want {
        let p = &got[name];
        let secret = name.to_ascii_lowercase().contains("password")
            || value.contains(P201)
            || value.contains(P202);
        let shown = if secret {
            "********".to_owned()
        } else {
            value.replace('\n', "\\n").replace('\u{202e}', "\\u{202e}")
        };
        assert_eq!(p["value"], shown.as_str(), "{name}: {p}");
        assert_eq!(p["file"], file.as_str(), "{name}: {p}");
        assert_eq!(p["shadows"], serde_json::json!(shadows), "{name}: {p}");
    }
}

/// The rendered files of the site, as apply would upload them.
fn rendered(t: Test) -> (Test, BTreeMap<String, Vec<u8>>) {
    let out = t.args(["render", "--out", "rendered"]).run().status(0);
    let files = out.files_in("rendered/hq");
    (out.then(), files)
}

#[test]
fn explain_shows_per_parameter_what_each_phone_runs_after_apply_and_which_file_wins() {
    let (t, r) = rendered(hq());
    let out = t
        .args(["explain", "hq", "201", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks(P201)
        .stdout_lacks(P202)
        .stdout_lacks("typed-on-handset")
        .stderr_lacks(P201);
    let v = json(&out);
    assert_runs(
        &v,
        &[
            ("0004f2000607-phone.cfg", OVERRIDE_201.as_bytes()),
            ("201.cfg", &r["201.cfg"]),
            ("altigen.cfg", &r["altigen.cfg"]),
            ("phone1.cfg", PHONE1_CFG.as_bytes()),
            ("sip.cfg", SIP_CFG.as_bytes()),
        ],
    );
    let p = by_name(&v);
    // The handset's empty digit map beats the site's and Polycom's.
    assert_eq!(p["dialplan.digitmap"]["value"], "");
    assert_eq!(p["dialplan.digitmap"]["file"], "0004f2000607-phone.cfg");
    assert_eq!(
        p["dialplan.digitmap"]["shadows"],
        serde_json::json!(["altigen.cfg", "sip.cfg"])
    );
    // <number>.cfg's reg.1.* beats phone1.cfg's.
    assert_eq!(p["reg.1.displayName"]["value"], "Front Desk");
    assert_eq!(p["reg.1.displayName"]["file"], "201.cfg");
    assert_eq!(
        p["reg.1.displayName"]["shadows"],
        serde_json::json!(["phone1.cfg"])
    );
    // What only phone1.cfg sets comes from it.
    assert_eq!(p["reg.1.ringType"]["value"], "2");
    assert_eq!(p["reg.1.ringType"]["file"], "phone1.cfg");
    // altigen.cfg beats sip.cfg; what only sip.cfg sets comes from it.
    assert_eq!(p["call.lastCallReturnString"]["value"], "#69");
    assert_eq!(
        p["call.lastCallReturnString"]["shadows"],
        serde_json::json!(["sip.cfg"])
    );
    assert_eq!(p["voIpProt.SIP.local.port"]["value"], "10060");
    assert_eq!(p["voIpProt.SIP.local.port"]["file"], "altigen.cfg");
    assert_eq!(p["tone.dtmf.level"]["value"], "-15");
    assert_eq!(p["tone.dtmf.level"]["file"], "sip.cfg");
    assert_eq!(p["voIpProt.server.1.address"]["value"], "");
    assert_eq!(p["voIpProt.server.1.address"]["file"], "sip.cfg");
    // Secrets: by name, and a declared secret under any name.
    assert_eq!(p["reg.1.auth.password"]["value"], "********");
    assert_eq!(
        p["reg.1.auth.password"]["shadows"],
        serde_json::json!(["201.cfg", "phone1.cfg"])
    );
    assert_eq!(p["reg.1.thirdPartyName"]["value"], "********");

    let files: Vec<(&str, &str)> = v["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("name"),
                f["source"].as_str().expect("source"),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("0004f2000607-phone.cfg", "target"),
            ("0004f2000607-web.cfg", "missing"),
            ("201.cfg", "rendered"),
            ("altigen.cfg", "rendered"),
            ("phone1.cfg", "target"),
            ("sip.cfg", "target"),
        ]
    );
    let sip = &v["files"][5];
    assert_eq!(
        sip["parameters"].as_u64(),
        Some(Params::parse("sip.cfg", SIP_CFG.as_bytes()).names().count() as u64)
    );
    assert!(sip["parameters"].as_u64() > Some(300), "{sip}");
}

#[test]
fn a_phone_without_an_override_runs_the_site_dial_plan() {
    let (t, r) = rendered(hq());
    // Any spelling of its MAC address names it.
    let out = t
        .args(["explain", "hq", "00:04:F2:14:AB:37", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks(P202);
    let v = json(&out);
    assert_eq!(v["phone"], "0004f214ab37");
    assert_eq!(v["extension"], "202");
    assert_runs(
        &v,
        &[
            ("202.cfg", &r["202.cfg"]),
            ("altigen.cfg", &r["altigen.cfg"]),
            ("phone1.cfg", PHONE1_CFG.as_bytes()),
            ("sip.cfg", SIP_CFG.as_bytes()),
        ],
    );
    let p = by_name(&v);
    assert_eq!(
        p["dialplan.digitmap"]["value"],
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T"
    );
    assert_eq!(p["dialplan.digitmap"]["file"], "altigen.cfg");
    assert_eq!(p["reg.1.label"]["value"], "202");
}

#[test]
fn a_mac_in_any_spelling_and_the_extension_number_select_the_same_phone() {
    let mut t = hq();
    let mut seen = Vec::new();
    for phone in [
        "201",
        "00:04:F2:00:06:07",
        "0004.f200.0607",
        "00-04-f2-00-06-07",
    ] {
        let out = t
            .args(["explain", "hq", phone, "--format", "json"])
            .run()
            .status(0);
        seen.push(out.stdout.clone());
        t = out.then();
    }
    assert!(seen.iter().all(|s| *s == seen[0]), "{seen:#?}");
    assert!(
        seen[0].contains("\"phone\": \"0004f2000607\""),
        "{}",
        seen[0]
    );
}

#[test]
fn the_text_output_has_one_line_per_parameter_with_its_file_and_shadows() {
    let out = hq()
        .args(["explain", "hq", "201"])
        .run()
        .status(0)
        .stdout_lacks(P201)
        .stdout_lacks("typed-on-handset")
        .stdout_contains("phone 0004f2000607 (IP650, extension 201) of site hq, after apply (dir:ftp-root)\n")
        .stdout_contains("master file 0004f2000607.cfg (rendered): CONFIG_FILES=\"201.cfg, altigen.cfg, phone1.cfg, sip.cfg\"\n")
        .stdout_contains("\n  dialplan.digitmap = \"\"  from 0004f2000607-phone.cfg, shadows altigen.cfg, sip.cfg\n")
        .stdout_contains("\n  reg.1.auth.password = \"********\"  from 0004f2000607-phone.cfg, shadows 201.cfg, phone1.cfg\n")
        .stdout_contains("\n  reg.1.ringType = \"2\"  from phone1.cfg\n")
        .stdout_contains("\n  tone.dtmf.level = \"-15\"  from sip.cfg\n")
        // Control characters and direction marks from the target are escapes.
        .stdout_contains("\n  lcl.datetime.date.format = \"a\\nb\\u{202e}c\"  from 0004f2000607-phone.cfg\n")
        .stdout_contains("\n  0004f2000607-web.cfg    override  missing\n")
        .stdout_contains("\n  sip.cfg                 config    target    370 parameters\n");
    assert!(!out.stdout.contains('\u{202e}'), "{}", out.stdout);
    assert_eq!(out.stderr, "", "nothing is missing: no warning");
}

/// A terminal or an editor breaks a line at U+2028, U+2029 and U+0085,
/// and bidi controls reorder it: from a target, each is shown as an escape.
#[test]
fn unicode_line_breaks_and_bidi_controls_from_the_target_are_escapes() {
    let out = hq()
        .file(
            "ftp-root/0004f2000607-phone.cfg",
            "<PHONE_CONFIG><OVERRIDES reg.1.label=\"a&#x2028;b&#x2029;c&#x85;d&#x61C;e&#x2067;f&#xFEFF;g\"/></PHONE_CONFIG>",
        )
        .args(["explain", "hq", "201", "--observed"])
        .run()
        .status(0)
        .stdout_contains("\n  reg.1.label = \"a\\u{2028}b\\u{2029}c\\x85d\\u{61c}e\\u{2067}f\\u{feff}g\"  from 0004f2000607-phone.cfg");
    for c in [
        '\u{2028}', '\u{2029}', '\u{85}', '\u{61c}', '\u{2067}', '\u{feff}',
    ] {
        assert!(
            !out.stdout.contains(c) && !out.stderr.contains(c),
            "{c:?}: {}",
            out.stdout
        );
    }
}

#[test]
fn param_filters_by_exact_name_ignoring_case_and_says_what_no_file_sets() {
    let out = hq()
        .args([
            "explain",
            "hq",
            "201",
            "--param",
            "DIALPLAN.DIGITMAP",
            "--param",
            "reg.1.label",
            "--param",
            "no.such.parameter",
            "--param",
            "reg.1",
            "--param",
            "prov.polling.period",
            "--param",
            "msg.mwi.l.callBackMode",
        ])
        .run()
        .status(0);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| *l != "parameters:")
        .skip(1)
        .collect();
    assert_eq!(
        lines,
        [
            "  dialplan.digitmap = \"\"  from 0004f2000607-phone.cfg, shadows altigen.cfg, sip.cfg",
            "  reg.1.label = \"Lobby\"  from 0004f2000607-phone.cfg, shadows 201.cfg, phone1.cfg",
            "  no.such.parameter is set in no file: the firmware's default applies; it is not a parameter of SIP 3.2.7",
            "  reg.1 is set in no file: the firmware's default applies; it is not a parameter of SIP 3.2.7",
            "  prov.polling.period is set in no file: the firmware's default applies (SIP 3.2.7's release files give \"86400\")",
            "  msg.mwi.l.callBackMode is set in no file: the firmware's default applies; it is not a parameter of SIP 3.2.7: did you mean msg.mwi.1.callBackMode?",
        ],
        "{}",
        out.stdout
    );
    let out = out
        .then()
        .args([
            "explain",
            "hq",
            "201",
            "--param",
            "reg.1.auth.password",
            "--format",
            "json",
        ])
        .run()
        .status(0);
    let v = json(&out);
    assert_eq!(v["parameters"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["parameters"][0]["value"], "********");
    assert_eq!(v["unset"], serde_json::json!([]));
}

#[test]
fn the_json_shape_is_stable() {
    let out = hq()
        .args(["explain", "hq", "201", "--format", "json"])
        .run()
        .status(0);
    let v = json(&out);
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "format_version",
        "site",
        "site_file",
        "target",
        "phone",
        "model",
        "extension",
        "observed",
        "master",
        "files",
        "parameters",
        "unset",
        "warnings",
    ];
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["site"], "hq");
    assert_eq!(v["site_file"], "sites/hq.yaml");
    assert_eq!(v["target"], "dir:ftp-root");
    assert_eq!(v["model"], "IP650");
    assert_eq!(v["observed"], false);
    assert_eq!(
        v["master"],
        serde_json::json!({
            "name": "0004f2000607.cfg",
            "source": "rendered",
            "config_files": ["201.cfg", "altigen.cfg", "phone1.cfg", "sip.cfg"],
            "error": null
        })
    );
    assert_eq!(
        v["files"][0],
        serde_json::json!({
            "name": "0004f2000607-phone.cfg",
            "role": "override",
            "source": "target",
            "parameters": 6,
            "error": null
        })
    );
    assert_eq!(v["files"][2]["role"], "config");
    let p = &by_name(&v)["tone.dtmf.onTime"];
    assert_eq!(
        *p,
        serde_json::json!({"name": "tone.dtmf.onTime", "value": "120", "file": "altigen.cfg", "shadows": ["sip.cfg"]})
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn observed_shows_the_files_on_the_target_before_apply_and_after() {
    // A hand-made installation from the guide, before polyops: no
    // altigen.cfg, and a 201.cfg with another name.
    let old_master = "<?xml version=\"1.0\" standalone=\"yes\"?>\n<APPLICATION APP_FILE_PATH=\"sip.ld\" CONFIG_FILES=\"201.cfg, phone1.cfg, sip.cfg\"/>\n";
    let old_201 =
        "<phone1><reg reg.1.displayName=\"Old Name\" reg.1.auth.password=\"old-pw\"/></phone1>\n";
    let t = hq()
        .file("ftp-root/0004f2000607.cfg", old_master)
        .file("ftp-root/201.cfg", old_201);
    let out = t
        .args(["explain", "hq", "201", "--observed", "--format", "json"])
        .run()
        .status(0)
        .stdout_lacks("old-pw");
    let v = json(&out);
    assert_eq!(v["observed"], true);
    assert_eq!(v["master"]["source"], "target");
    assert_runs(
        &v,
        &[
            ("0004f2000607-phone.cfg", OVERRIDE_201.as_bytes()),
            ("201.cfg", old_201.as_bytes()),
            ("phone1.cfg", PHONE1_CFG.as_bytes()),
            ("sip.cfg", SIP_CFG.as_bytes()),
        ],
    );
    let p = by_name(&v);
    assert_eq!(p["reg.1.displayName"]["value"], "Old Name");
    assert_eq!(p["call.lastCallReturnString"]["value"], "*69");
    assert_eq!(
        p["dialplan.digitmap"]["shadows"],
        serde_json::json!(["sip.cfg"])
    );
    // Without --observed: what apply leaves.
    let out = out
        .then()
        .args(["explain", "hq", "201", "--format", "json"])
        .run()
        .status(0);
    let p = by_name(&json(&out));
    assert_eq!(p["reg.1.displayName"]["value"], "Front Desk");
    assert_eq!(p["call.lastCallReturnString"]["value"], "#69");
    // After apply, the target holds just that.
    let out = out
        .then()
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then()
        .args(["explain", "hq", "201", "--observed", "--format", "json"])
        .run()
        .status(0);
    let v = json(&out);
    assert!(v["files"]
        .as_array()
        .expect("files")
        .iter()
        .all(|f| f["source"] != "rendered"));
    let p = by_name(&v);
    assert_eq!(p["reg.1.displayName"]["value"], "Front Desk");
    assert_eq!(p["call.lastCallReturnString"]["value"], "#69");
    assert_eq!(p["call.lastCallReturnString"]["file"], "altigen.cfg");
}

#[test]
fn observed_without_a_master_file_says_so_and_shows_only_the_overrides() {
    let out = hq()
        .args(["explain", "hq", "201", "--observed", "--format", "json"])
        .run()
        .status(0)
        .stderr_contains("warning: hq: 0004f2000607.cfg is not on the target (nor 000000000000.cfg): the phone has no CONFIG_FILES");
    let v = json(&out);
    assert_eq!(v["master"]["source"], "missing");
    assert_eq!(v["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        by_name(&v)["dialplan.digitmap"]["shadows"],
        serde_json::json!([])
    );
    assert!(v["warnings"][0]
        .as_str()
        .is_some_and(|w| w.contains("0004f2000607.cfg is not on the target")));
    // The phone falls back to the default master file.
    let out = out
        .then()
        .file(
            "ftp-root/000000000000.cfg",
            "<APPLICATION APP_FILE_PATH=\"sip.ld\" CONFIG_FILES=\"phone1.cfg, sip.cfg\"/>",
        )
        .args(["explain", "hq", "201", "--observed", "--format", "json"])
        .run()
        .status(0)
        .stderr_contains("the phone falls back to 000000000000.cfg");
    let v = json(&out);
    assert_eq!(v["master"]["name"], "000000000000.cfg");
    assert_eq!(
        by_name(&v)["dialplan.digitmap"]["shadows"],
        serde_json::json!(["sip.cfg"])
    );
}

#[test]
fn a_missing_or_broken_file_is_a_warning_not_an_error() {
    let t = hq();
    std::fs::remove_file(t.path().join("ftp-root/phone1.cfg")).expect("remove");
    let out = t
        .file("ftp-root/sip.cfg", "<sip><x tone.dtmf.level=\"-15\"></sip>")
        .args(["explain", "hq", "201", "--format", "json"])
        .run()
        .status(0)
        .stderr_contains("warning: hq: phone1.cfg is not on the target: the phone does not get it")
        .stderr_contains("warning: hq: sip.cfg does not parse (not well-formed XML");
    let v = json(&out);
    let files = v["files"].as_array().expect("files");
    assert_eq!(files[4]["name"], "phone1.cfg");
    assert_eq!(files[4]["source"], "missing");
    assert_eq!(files[5]["source"], "target");
    assert_eq!(files[5]["parameters"], 0);
    assert!(files[5]["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("does not parse")));
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(2));
    let p = by_name(&v);
    assert!(!p.contains_key("tone.dtmf.level"));
    assert_eq!(
        p["dialplan.digitmap"]["shadows"],
        serde_json::json!(["altigen.cfg"])
    );
}

/// Anyone with the phones' FTP account can write an override file; one
/// of 80,000 attributes is over the cap (docs/targets.md): plan, drift
/// and explain each name it as not parsed and take nothing from it.
#[test]
fn an_override_file_over_the_attribute_cap_is_named_and_not_read() {
    let t = hq().file(
        "ftp-root/0004f2000607-phone.cfg",
        common::xml::with_attributes("OVERRIDES", 80_000),
    );
    let over = "more than 8192 attributes, more than a configuration file holds";
    let out = t
        .args(["explain", "hq", "201", "--observed", "--format", "json"])
        .run()
        .status(0)
        .stderr_contains(&format!(
            "warning: hq: 0004f2000607-phone.cfg does not parse ({over}): explain takes none of its parameters"
        ));
    let v = json(&out);
    assert_eq!(v["files"][0]["name"], "0004f2000607-phone.cfg");
    assert_eq!(v["files"][0]["parameters"], 0);
    assert!(!by_name(&v).contains_key("a.1"));
    let line = format!(
        "override  0004f2000607-phone.cfg (phone 0004f2000607: does not parse: {over}; not counted as drift)"
    );
    let out = out.then().args(["plan", "hq"]).run().status(0);
    assert!(out.stdout.contains(&line), "{}", out.stdout);
    let out = out.then().args(["drift", "hq"]).run();
    assert!(out.stdout.contains(&line), "{}", out.stdout);
}

#[test]
fn an_override_file_under_an_upper_case_mac_is_read() {
    let t = hq();
    std::fs::rename(
        t.path().join("ftp-root/0004f2000607-phone.cfg"),
        t.path().join("ftp-root/0004F2000607-phone.cfg"),
    )
    .expect("rename");
    let out = t
        .file(
            "ftp-root/0004F2000607-web.cfg",
            "<PHONE_CONFIG><WEB reg.1.label=\"Web\" up.backlight.idleIntensity=\"3\"/></PHONE_CONFIG>",
        )
        .args(["explain", "hq", "201", "--format", "json"])
        .run()
        .status(0);
    let v = json(&out);
    assert_eq!(v["files"][0]["name"], "0004F2000607-phone.cfg");
    assert_eq!(v["files"][1]["name"], "0004F2000607-web.cfg");
    let p = by_name(&v);
    // -phone.cfg (the handset) comes before -web.cfg.
    assert_eq!(p["reg.1.label"]["value"], "Lobby");
    assert_eq!(
        p["reg.1.label"]["shadows"],
        serde_json::json!(["0004F2000607-web.cfg", "201.cfg", "phone1.cfg"])
    );
    assert_eq!(p["up.backlight.idleIntensity"]["value"], "1");
}

#[test]
fn an_unknown_phone_is_a_one_line_error_that_says_where_to_look() {
    for (phone, what) in [
        ("0004f2999999", "no phone has the MAC address 0004f2999999"),
        ("299", "no phone is on extension 299"),
        (
            "lobby",
            "\"lobby\" is neither an extension number nor a MAC address",
        ),
    ] {
        let out = hq()
            .args(["explain", "hq", phone])
            .run()
            .status(1)
            .stdout_is("");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(
            lines,
            [format!("error: site hq (sites/hq.yaml): {what}; name one of the phones under its `phones:` by MAC address or extension number: 0004f2000607 on 201, 0004f214ab37 on 202")],
            "{}",
            out.stderr
        );
    }
}

#[test]
fn missing_secrets_are_errors_naming_them_as_plan_does() {
    Test::new()
        .site("hq", &hq_site())
        .env("P201", P201)
        .args(["explain", "hq", "201"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_contains("error: site hq: extensions[1].password: ")
        .stderr_contains("P202");
}

/// A site on an FTP server at `url`, with the FTP password and the phones'
/// files on it.
fn ftp_site(url: &str) -> String {
    format!(
        "site: lab\ntarget:\n  url: {url}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 10\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {{env: P201}}\nphones:\n  - mac: 0004f2000607\n    model: IP650\n    extension: \"201\"\n"
    )
}

#[test]
fn explain_reads_an_ftp_target_with_a_read_only_account() {
    let server = ftp_support::in_process();
    for (name, bytes) in [
        ("sip.cfg", SIP_CFG),
        ("phone1.cfg", PHONE1_CFG),
        ("0004f2000607-phone.cfg", OVERRIDE_201),
    ] {
        std::fs::write(server.root.join(name), bytes).expect("put a file on the server");
    }
    let mut w = ftp_support::Work::new();
    w.secret("FTP_PASSWORD", &server.ro_password);
    w.secret("P201", P201);
    // The server behind ro_url refuses every change.
    w.write_site("lab", &ftp_site(&server.ro_url));
    let run = w.run(&["explain", "lab", "201", "--format", "json"]);
    run.expect(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    let p = by_name(&v);
    assert_eq!(p["dialplan.digitmap"]["value"], "");
    assert_eq!(
        p["dialplan.digitmap"]["shadows"],
        serde_json::json!(["altigen.cfg", "sip.cfg"])
    );
    assert_eq!(p["tone.dtmf.level"]["file"], "sip.cfg");
    assert_eq!(v["files"][5]["source"], "target");
    assert_eq!(v["files"][5]["parameters"], 370);
}

/// The commands a read-only run may send.
const READ_ONLY_VERBS: [&str; 14] = [
    "USER", "PASS", "TYPE", "FEAT", "OPTS", "CWD", "PASV", "EPSV", "MLSD", "LIST", "RETR", "NOOP",
    "QUIT", "SIZE",
];

#[test]
fn explain_sends_only_reading_commands_over_ftp() {
    const FTP_SECRET: &str = "Ftp-Pa55-explain";
    let server = scripted::Scripted::start(FTP_SECRET, scripted::Script::default());
    server.put("sip.cfg", SIP_CFG.as_bytes());
    server.put("phone1.cfg", PHONE1_CFG.as_bytes());
    server.put("0004F2000607-phone.cfg", OVERRIDE_201.as_bytes());
    let mut w = ftp_support::Work::new();
    w.secret("FTP_PASSWORD", FTP_SECRET);
    w.secret("P201", P201);
    w.write_site("lab", &ftp_site(&server.url()));
    let before = server.files();
    for args in [
        &["explain", "lab", "201"][..],
        &[
            "explain",
            "lab",
            "0004f2000607",
            "--observed",
            "--format",
            "json",
        ][..],
    ] {
        let run = w.run(args);
        run.expect(0);
        assert!(
            run.stdout.contains("0004F2000607-phone.cfg"),
            "{}",
            run.stdout
        );
    }
    let log = server.log();
    assert!(log.iter().any(|l| l.starts_with("RETR ")), "{log:#?}");
    for line in &log {
        let verb = line.split(' ').next().unwrap_or_default();
        assert!(
            READ_ONLY_VERBS.contains(&verb),
            "explain sent {line:?}; all it sent:\n{log:#?}"
        );
    }
    assert_eq!(server.files(), before);
    assert!(server.dirs().is_empty());
}
