//! `polyops import`: hand-made roots (built by `handmade` the way an
//! installer following the guide builds them) and inventories become a
//! site file that validates, renders every imported file with the same
//! parameters but for what the report names, applies, and then plans
//! nothing.

mod common;
mod handmade;

use std::collections::BTreeMap;

use common::{Output, Test};
use handmade::{app_line, boot_line, Site};
use polyops::polycom::reader::parameter_map;

/// A test folder holding the site's hand-made root in `root/`.
fn with_root(site: &Site) -> Test {
    let mut t = Test::new();
    for (name, bytes) in site.files() {
        t = t.file(&format!("root/{name}"), bytes);
    }
    t
}

/// Every password of the site: none may ever be printed.
fn secrets(site: &Site) -> Vec<String> {
    site.extensions.iter().map(|e| e.password.clone()).collect()
}

fn no_secret_in(out: &Output, secrets: &[String]) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s.as_str()) && !out.stderr.contains(s.as_str()),
            "a secret was printed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

/// The parameters that differ between each hand-made file and the file
/// polyops renders in its place (`<mac>.cfg` for `<MAC>.cfg`), by the
/// hand-made file's name.
fn differences(
    root: &BTreeMap<String, Vec<u8>>,
    rendered: &BTreeMap<String, Vec<u8>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (name, ours) in rendered.iter().filter(|(n, _)| n.ends_with(".cfg")) {
        let theirs = root
            .get_key_value(name)
            .or_else(|| root.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
        let Some((their_name, theirs)) = theirs else {
            continue;
        };
        let a = parameter_map(theirs).unwrap_or_else(|e| panic!("{their_name}: {e}"));
        let b = parameter_map(ours).unwrap_or_else(|e| panic!("rendered {name}: {e}"));
        let names: std::collections::BTreeSet<&String> =
            a.values.keys().chain(b.values.keys()).collect();
        let changed: Vec<String> = names
            .into_iter()
            .filter(|p| a.values.get(*p) != b.values.get(*p))
            .cloned()
            .collect();
        out.insert(their_name.clone(), changed);
    }
    out
}

/// Every parameter whose rendered value differs from the hand-made one is
/// named by a report line about that file.
fn assert_report_names_every_difference(diffs: &BTreeMap<String, Vec<String>>, report: &str) {
    for (file, params) in diffs {
        for p in params {
            assert!(
                report
                    .lines()
                    .any(|l| l.starts_with(&format!("{file}: ")) && l.contains(p.as_str())),
                "{file}: {p} changes, and the report does not say so:\n{report}"
            );
        }
    }
}

/// Import `site` from `dir:root`, then validate, render and compare, apply,
/// and plan again; returns the report and the differences found.
fn round_trip(
    site: &Site,
    import_args: &[&str],
) -> (String, BTreeMap<String, Vec<String>>, Output) {
    let secrets = secrets(site);
    let mut args = vec!["import", "hq", "--from", "dir:root"];
    args.extend_from_slice(import_args);
    let out = with_root(site).args(args).run().status(0);
    no_secret_in(&out, &secrets);
    let report = out.stdout.clone();
    let before = out.files_in("root");
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    for s in &secrets {
        assert!(
            !yaml.contains(s.as_str()),
            "a password in the site file:\n{yaml}"
        );
    }
    let out = out
        .then()
        .args(["--secrets", "hq.secrets.yaml", "validate", "hq"])
        .run()
        .status(0);
    let out = out
        .then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "render",
            "--out",
            "rendered",
            "hq",
        ])
        .run()
        .status(0);
    assert_eq!(out.files_in("root"), before, "import changed the root");
    let diffs = differences(&before, &out.files_in("rendered/hq"));
    assert!(!diffs.is_empty(), "nothing was compared");
    assert_report_names_every_difference(&diffs, &report);
    let out = out
        .then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "apply",
            "--auto-approve",
            "hq",
        ])
        .run()
        .status(0);
    no_secret_in(&out, &secrets);
    let out = out
        .then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "plan",
            "--detailed-exitcode",
            "hq",
        ])
        .run()
        .status(0);
    no_secret_in(&out, &secrets);
    (report, diffs, out)
}

/// The guide's example site: 3 phones on 201-203, Pacific time, the
/// guide's typos, one master file named in upper case, models from logs
/// for two phones and from --model for the third.
fn small_site() -> Site {
    let mut site = Site::guide(3);
    site.extensions[0].name = "Front Desk & Lobby".to_owned();
    site.extensions[1].label = "Sales".to_owned();
    site.phones[0].mac = "0004F2000607".to_owned();
    site.phones[0].log = Some(("boot", boot_line("SPIP650")));
    site.phones[1].log = Some(("app", app_line("PolycomSoundPointIP-SPIP_331-UA")));
    site
}

#[test]
fn a_small_guide_site_imports_and_renders_the_same_parameters() {
    let site = small_site();
    let (report, diffs, _) = round_trip(&site, &["--model", "IP7000"]);
    // Only the typos and the file polyops writes for a typo change.
    assert_eq!(
        diffs["0004F2000607.cfg"],
        ["CONFIG_FILES"],
        "{diffs:?}\n{report}"
    );
    assert_eq!(
        diffs["201.cfg"],
        ["msg.mwi.1.callBackMode", "msg.mwi.l.callBackMode"],
        "{report}"
    );
    assert!(diffs["altigen.cfg"].is_empty(), "{diffs:?}\n{report}");
    assert!(
        report.contains("201.cfg: changed: msg.mwi.l.callBackMode is the guide's typo for msg.mwi.1.callBackMode"),
        "{report}"
    );
    assert!(
        report.contains("0004F2000607.cfg: changed: the phone asks for 0004f2000607.cfg (lower case), which apply creates"),
        "{report}"
    );
    assert!(
        report.contains("phonel.cfg, the guide's typo for phone1.cfg"),
        "{report}"
    );
    assert!(
        report.contains(
            "imported site hq from dir:root: 3 phones, 3 extensions, 0 parameters kept in params"
        ),
        "{report}"
    );
}

#[test]
fn the_site_file_reads_like_one_written_by_hand() {
    let site = small_site();
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP7000"])
        .run()
        .status(0);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    for line in [
        "site: hq",
        "  url: \"dir:root\"",
        "  address: \"10.100.2.127\"",
        "  zone: pacific  # tcpIpApp.sntp.gmtOffset=\"-28800\" in altigen.cfg",
        "  - number: \"201\"",
        "    name: \"Front Desk & Lobby\"",
        "    password: {secret: \"hq/201\"}",
        "    label: \"Sales\"",
        "  - mac: \"0004f2000607\"",
        "    model: IP650  # named in 0004f2000607-boot.log",
        "    model: IP331  # named in 0004f2000608-app.log",
        "    model: IP7000  # from --model",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "no line {line:?} in:\n{yaml}"
        );
    }
    // Defaults are not written.
    for absent in [
        "sip_port",
        "registration_expires",
        "dialplan",
        "daylight_saving",
        "user:",
    ] {
        assert!(!yaml.contains(absent), "{absent} in:\n{yaml}");
    }
    let secrets = String::from_utf8(out.read("hq.secrets.yaml")).expect("utf8");
    assert!(secrets.contains("\"hq/201\": \"1212-Pw\""), "{secrets}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.path().join("hq.secrets.yaml"))
        .expect("secrets file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
