//! `polyops import`: hand-made roots (built by `handmade` the way an
//! installer following the guide builds them) and inventories become a
//! site file that validates, renders every imported file with the same
//! parameters but for what the report names, applies, and then plans
//! nothing.

use crate::common;
use crate::handmade;

use std::collections::BTreeMap;

use common::{Output, Test};
use handmade::{assert_report_names_every_difference, differences, extras_site, small_site, Site};

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

/// The plan says what the import report says: every imported file it
/// takes over is "formatting only", but those whose parameters the report
/// named (`diffs`), whose changes it lists one for one.
fn plan_takes_over_as_formatting_only(
    out: Output,
    diffs: &BTreeMap<String, Vec<String>>,
    secrets: &[String],
) -> Output {
    let out = out
        .then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "plan",
            "--format",
            "json",
            "hq",
        ])
        .run()
        .status(0);
    no_secret_in(&out, secrets);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("plan JSON");
    let mut taken_over = 0;
    for f in plan["sites"][0]["files"].as_array().expect("files") {
        let name = f["name"].as_str().expect("name");
        if f["action"] != "update" {
            continue;
        }
        taken_over += 1;
        let named = diffs.get(name).map_or(0, Vec::len);
        assert_eq!(
            f["formatting_only"],
            named == 0,
            "{name}: formatting_only, with the report naming {named} parameters\n{}",
            out.stdout
        );
        if named > 0 {
            let p = &f["params"];
            let in_plan: usize = ["added", "removed", "changed"]
                .iter()
                .map(|k| p[k].as_object().map_or(0, |m| m.len()))
                .sum();
            assert_eq!(in_plan, named, "{name}: {p}");
        }
    }
    assert!(taken_over > 0, "nothing was taken over:\n{}", out.stdout);
    out
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
    let out = plan_takes_over_as_formatting_only(out, &diffs, &secrets);
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
    assert!(!yaml.contains("timeout_seconds"), "a default:\n{yaml}");
}

#[test]
fn a_timeout_given_to_import_is_written_into_the_site_file() {
    let site = small_site();
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP7000"])
        .args(["--timeout-seconds", "7"])
        .run()
        .status(0);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(yaml.lines().any(|l| l == "  timeout_seconds: 7"), "{yaml}");
    with_root(&site)
        .args([
            "import",
            "hq",
            "--from",
            "dir:root",
            "--timeout-seconds",
            "0",
        ])
        .run()
        .status(1)
        .stderr_contains("'--timeout-seconds <SECONDS>': 0 is not in 1..=3600");
}

/// 105 phones on 4-digit extensions 2000-2103 and 3000, 10-digit local
/// dialling, Central European time (not one of the guide's four zones),
/// no daylight saving, the beep kept, and the 600 s expiry the guide asks
/// for above 100 phones.
fn big_site() -> Site {
    let mut site = Site::guide(0);
    site.gmt_offset = 3600;
    site.daylight_saving = false;
    site.expires = 600;
    site.silent = false;
    site.typos = false;
    site.digitmap =
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[2-3]xxx|9[2-9]xxxxxxxxx|91xxxxxxxxxx|xxx.T".to_owned();
    for i in 0..104 {
        site.add(&format!("{}", 2000 + i), &format!("0004f21{i:05x}"));
    }
    site.add("3000", "0004f2200000");
    site.phones[7].mac = "0004F2100007".to_owned();
    site
}

#[test]
fn a_big_four_digit_site_in_another_time_zone_imports_formatting_only() {
    let site = big_site();
    let (report, diffs, _) = round_trip(&site, &["--model", "IP560"]);
    assert_eq!(diffs.len(), 1 + 105 + 105, "{diffs:?}");
    for (file, params) in &diffs {
        assert!(params.is_empty(), "{file}: {params:?}\n{report}");
    }
    assert!(
        report.contains("105 phones, 105 extensions, 0 parameters kept in params"),
        "{report}"
    );
}

#[test]
fn a_big_site_file_says_what_differs_from_the_defaults() {
    let out = with_root(&big_site())
        .args(["import", "hq", "--from", "dir:root", "--model", "IP560"])
        .run()
        .status(0);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    for line in [
        "  gmt_offset: 3600  # tcpIpApp.sntp.gmtOffset=\"3600\" in altigen.cfg",
        "  daylight_saving: false",
        "  extension_digits: 4",
        "  extension_first_digits: \"2-3\"",
        "  local_digits: 10",
        "message_waiting_beep: true  # altigen.cfg has no silent MESSAGE_WAITING pattern",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "no line {line:?} in:\n{yaml}"
        );
    }
    // 600 is the default above 100 phones: not written.
    assert!(!yaml.contains("registration_expires"), "{yaml}");
    assert!(!yaml.contains("digitmap"), "{yaml}");
}

#[test]
fn extra_parameters_land_at_their_level_and_a_custom_config_file_is_kept() {
    let site = extras_site();
    let mut all = secrets(&site);
    all.extend(["c0rp-S3cret".to_owned(), "L1ne2-S3cret".to_owned()]);
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    no_secret_in(&out, &all);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    for s in &all {
        assert!(!yaml.contains(s.as_str()), "{yaml}");
    }
    for line in [
        "  sip_port: 5060",
        "  sntp_server: \"pool.ntp.org\"",
        "  zone: eastern  # tcpIpApp.sntp.gmtOffset=\"-18000\" in altigen.cfg",
        "  polling: {time: \"03:00\"}",
        "  call.lastCallReturnString: \"#99\"",
        "  dir.corp.password: {secret: \"hq/dir.corp.password\"}",
        "  tcpIpApp.sntp.address.overrideDHCP: 1",
        "  up.backlight.idleIntensity: 1",
        "  - \"custom.cfg\"",
        "      reg.1.ringType: 2",
        "      reg.2.address: 2201",
        "      reg.2.auth.password: {secret: \"hq/201/reg.2.auth.password\"}",
        "      msg.bypassInstantMessage: 0",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "no line {line:?} in:\n{yaml}"
        );
    }
    assert!(
        out.stdout
            .contains("custom.cfg: kept: CONFIG_FILES entry of every phone: kept in config_files"),
        "{}",
        out.stdout
    );
    let secrets_file = String::from_utf8(out.read("hq.secrets.yaml")).expect("utf8");
    assert!(
        secrets_file.contains("\"hq/dir.corp.password\": \"c0rp-S3cret\"")
            && secrets_file.contains("\"hq/201/reg.2.auth.password\": \"L1ne2-S3cret\""),
        "{secrets_file}"
    );
}

#[test]
fn a_site_with_extras_round_trips_formatting_only() {
    let site = extras_site();
    let (report, diffs, _) = round_trip(&site, &["--model", "IP650"]);
    for (file, params) in &diffs {
        assert!(params.is_empty(), "{file}: {params:?}\n{report}");
    }
    assert!(report.contains("8 parameters kept in params"), "{report}");
}

/// What goes wrong on real roots: an extension file that does not parse,
/// a second phone on an extension, a CONFIG_FILES entry that is not on
/// the target, a digit map polyops does not generate, an extension file
/// no phone names, a phone's own override file.
fn broken_root() -> (Site, BTreeMap<String, Vec<u8>>) {
    let mut site = Site::guide(4);
    site.typos = false;
    site.digitmap = "0|##|[2-4]xx|9[2-9]xxxxxx|xxx.T".to_owned();
    let mut files = site.files();
    files.insert(
        "203.cfg".to_owned(),
        b"<phone1>\r\n  <reg reg.1.address=\"203\" reg.1.auth.password=\"1214-Pw\"\r\n</phone1>\r\n"
            .to_vec(),
    );
    let second = site.master_cfg(&handmade::Phone {
        mac: "0004f20006ff".to_owned(),
        extension: "202".to_owned(),
        log: None,
        style: handmade::NOTEPAD,
    });
    files.insert("0004f20006ff.cfg".to_owned(), second);
    let first = String::from_utf8(files["0004f2000607.cfg"].clone()).expect("utf8");
    files.insert(
        "0004f2000607.cfg".to_owned(),
        first
            .replace("altigen.cfg,", "altigen.cfg, vlan.cfg,")
            .into_bytes(),
    );
    files.insert(
        "205.cfg".to_owned(),
        site.extension_cfg(&site.extensions[0]),
    );
    files.insert(
        "0004f2000608-phone.cfg".to_owned(),
        b"<PHONE_CONFIG><ALL reg.1.label=\"mine\"/></PHONE_CONFIG>".to_vec(),
    );
    (site, files)
}

#[test]
fn what_cannot_be_imported_is_reported_and_left_out() {
    let (site, files) = broken_root();
    let mut t = Test::new();
    for (name, bytes) in &files {
        t = t.file(&format!("root/{name}"), bytes);
    }
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP331"])
        .run()
        .status(0);
    no_secret_in(&out, &secrets(&site));
    let report = out.stdout.clone();
    for line in [
        "203.cfg: left out: not well-formed XML (line 3, column 1): extension 203 and the phones on it are not imported",
        "0004f20006ff.cfg: left out: extension 202 is already on phone 0004f2000608 (the first master file in name order keeps it",
        "vlan.cfg: left out: CONFIG_FILES entry not imported: it is not on the target",
        "0004f2000607.cfg: changed: CONFIG_FILES becomes \"201.cfg, altigen.cfg, phone1.cfg, sip.cfg\" (was \"201.cfg, altigen.cfg, vlan.cfg, phone1.cfg, sip.cfg\")",
        "205.cfg: note: not read: no imported phone names it",
        "0004f2000608-phone.cfg: note: settings phone 0004f2000608 keeps for itself",
        "imported site hq from dir:root: 3 phones, 3 extensions, 0 parameters kept in params, 4 files not understood",
    ] {
        assert!(report.lines().any(|l| l.starts_with(line)), "no line {line:?}:\n{report}");
    }
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(
        !yaml.contains("\"203\"") && !yaml.contains("0004f2000609"),
        "{yaml}"
    );
    assert!(!yaml.contains("0004f20006ff"), "{yaml}");
    for line in [
        "  digitmap: \"0|##|[2-4]xx|9[2-9]xxxxxx|xxx.T\"",
        "  extension_digits: 3",
        "  extension_first_digits: \"2-2\"",
        "  local_digits: 7",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "no line {line:?} in:\n{yaml}"
        );
    }
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
    let diffs = differences(&files, &out.files_in("rendered/hq"));
    assert_eq!(diffs["0004f2000607.cfg"], ["CONFIG_FILES"]);
    assert_report_names_every_difference(&diffs, &report);
    let out = plan_takes_over_as_formatting_only(out, &diffs, &[]);
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
    // What was left out stays on the target as it was.
    assert_eq!(out.read("root/203.cfg"), files["203.cfg"]);
    assert_eq!(out.read("root/0004f20006ff.cfg"), files["0004f20006ff.cfg"]);
    out.then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "plan",
            "--detailed-exitcode",
            "hq",
        ])
        .run()
        .status(0);
}

#[test]
fn a_model_no_log_names_fails_validation_at_its_line_until_filled_in() {
    let site = Site::guide(1);
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root"])
        .run()
        .status(0)
        .stdout_contains("0004f2000607.cfg: fill in: no log of phone 0004f2000607 names its model")
        .stdout_contains("still to fill in: 1 phone model (FILL-IN)");
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    let line = yaml
        .lines()
        .position(|l| {
            l.starts_with("    model: FILL-IN  # the model on the back of the phone: IP321")
        })
        .unwrap_or_else(|| panic!("no FILL-IN line in:\n{yaml}"))
        + 1;
    let out = out
        .then()
        .args(["validate", "hq"])
        .run()
        .status(1)
        .stderr_has_line_with(
            &format!("sites/hq.yaml:{line}:12: phones[0].model: "),
            "\"FILL-IN\" is not one of \"IP321\"",
        );
    std::fs::write(
        out.path().join("sites/hq.yaml"),
        yaml.replace("model: FILL-IN", "model: IP335"),
    )
    .expect("fill in");
    out.then().args(["validate", "hq"]).run().status(0);
}

#[test]
fn a_time_zone_the_root_does_not_set_is_never_guessed() {
    let site = Site::guide(1);
    let mut files = site.files();
    let altigen = String::from_utf8(files["altigen.cfg"].clone()).expect("utf8");
    files.insert(
        "altigen.cfg".to_owned(),
        altigen
            .replace("tcpIpApp.sntp.gmtOffset=\"-28800\" ", "")
            .into_bytes(),
    );
    let mut t = Test::new();
    for (name, bytes) in &files {
        t = t.file(&format!("root/{name}"), bytes);
    }
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0)
        .stdout_contains("altigen.cfg: fill in: has no tcpIpApp.sntp.gmtOffset");
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(
        yaml.contains("  zone: FILL-IN  # altigen.cfg sets no tcpIpApp.sntp.gmtOffset"),
        "{yaml}"
    );
    out.then()
        .args(["validate", "hq"])
        .run()
        .status(1)
        .stderr_contains("time.zone: \"FILL-IN\" is not one of \"eastern\"");
}

#[test]
fn import_never_overwrites_the_site_file_or_the_secrets_file() {
    let site = Site::guide(1);
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    let yaml = out.read("sites/hq.yaml");
    let again = out
        .then()
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(1)
        .stderr_contains("sites/hq.yaml exists: import never overwrites a file");
    assert_eq!(again.read("sites/hq.yaml"), yaml);
    // The secrets file alone is enough to refuse, and nothing is written.
    std::fs::remove_file(again.path().join("sites/hq.yaml")).expect("remove");
    let out = again
        .then()
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(1)
        .stderr_contains("hq.secrets.yaml exists");
    assert!(!out.path().join("sites/hq.yaml").exists());
    // --secrets-out names another file.
    out.then()
        .args([
            "import",
            "hq",
            "--from",
            "dir:root",
            "--model",
            "IP650",
            "--secrets-out",
            "vault.yaml",
        ])
        .run()
        .status(0)
        .stdout_contains("wrote sites/hq.yaml and vault.yaml (mode 0600, 1 secret)");
}

#[test]
fn a_secrets_file_git_would_commit_is_warned_about() {
    let Some(git_path) = crate::tools::require("git", "git") else {
        return;
    };
    let site = Site::guide(1);
    let t = with_root(&site);
    let git = |dir: &std::path::Path, args: &[&str]| {
        let ok = std::process::Command::new(&git_path)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(t.path(), &["init", "-q"]);
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0)
        .stderr_contains(
            "warning: hq.secrets.yaml is in a git work tree and git does not ignore it",
        );
    let out = out
        .then()
        .file(".gitignore", "*.secrets.yaml\n")
        .args(["import", "hq2", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_root_that_is_not_a_folder_is_an_error() {
    Test::new()
        .args(["import", "hq", "--from", "dir:nowhere"])
        .run()
        .status(1)
        .stderr_contains("error: --from dir:nowhere: nowhere is not a folder");
    Test::new()
        .file("empty/readme.txt", "not a provisioning root")
        .args(["import", "hq", "--from", "dir:empty"])
        .run()
        .status(1)
        .stderr_contains(
            "no master file (<mac>.cfg) and no altigen.cfg at the root: nothing to import",
        );
    Test::new()
        .args(["import", "Bad_Name", "--from", "dir:."])
        .run()
        .status(1)
        .stderr_contains("is not a site name");
}

/// What a spreadsheet exports: a byte order mark, CRLF, quoted commas and
/// quotes, MACs in three spellings, models as people write them, empty
/// cells, a blank row at the end.
const INVENTORY: &str = "\u{feff}MAC,Model,Extension,Name,Label,Password\r\n\
    00:04:F2:00:06:07,IP650,201,\"Doe, Jane\",,s3cret-201\r\n\
    0004.f200.0608,ip 331,202,,Sales,\r\n\
    00-04-f2-00-06-09,SoundStation IP 7000,203,\"Conf \"\"A\"\"\",Conf,p@ss-203\r\n\
    ,,,,,\r\n";

#[test]
fn an_inventory_becomes_a_site_whose_missing_passwords_are_listed() {
    let csv_secrets = ["s3cret-201".to_owned(), "p@ss-203".to_owned()];
    let out = Test::new()
        .file("inventory.csv", INVENTORY)
        .args([
            "import", "hq", "--csv", "inventory.csv", "--target", "dir:out/root", "--server",
            "10.100.2.127", "--zone", "central",
        ])
        .run()
        .status(0)
        .stdout_contains("inventory.csv: fill in: line 3: extension 202 has no password: set hq/202 in the secrets file")
        .stdout_contains("still to fill in: 1 secret in hq.secrets.yaml: hq/202");
    no_secret_in(&out, &csv_secrets);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    for line in [
        "  url: \"dir:out/root\"",
        "  address: \"10.100.2.127\"",
        "  zone: central",
        "    name: \"Doe, Jane\"",
        "    name: \"Conf \\\"A\\\"\"",
        "    label: \"Sales\"",
        "    password: {secret: \"hq/202\"}",
        "  - mac: \"0004f2000608\"",
        "    model: IP331",
        "    model: IP7000",
    ] {
        assert!(
            yaml.lines().any(|l| l == line),
            "no line {line:?} in:\n{yaml}"
        );
    }
    let secrets = String::from_utf8(out.read("hq.secrets.yaml")).expect("utf8");
    assert!(secrets.contains("# \"hq/202\": \"\""), "{secrets}");
    let out = out
        .then()
        .args(["--secrets", "hq.secrets.yaml", "validate", "hq"])
        .run()
        .status(0);
    // Until the missing password is filled in, nothing is planned.
    let out = out
        .then()
        .args(["--secrets", "hq.secrets.yaml", "plan", "hq"])
        .run()
        .status(1)
        .stderr_contains("secret hq/202 is not in hq.secrets.yaml");
    std::fs::write(
        out.path().join("hq.secrets.yaml"),
        secrets.replace("# \"hq/202\": \"\"", "\"hq/202\": \"filled-202\""),
    )
    .expect("fill in");
    let out = out
        .then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "apply",
            "--auto-approve",
            // A new site from an inventory: the firmware package is not
            // on its (new) root yet.
            "--allow-incomplete",
            "hq",
        ])
        .run()
        .status(0);
    no_secret_in(&out, &csv_secrets);
    assert!(String::from_utf8(out.read("out/root/201.cfg"))
        .expect("utf8")
        .contains("reg.1.displayName=\"Doe, Jane\""));
    out.then()
        .args([
            "--secrets",
            "hq.secrets.yaml",
            "plan",
            "--detailed-exitcode",
            "hq",
        ])
        .run()
        .status(0);
}

#[test]
fn every_bad_row_is_an_error_at_its_field_and_nothing_is_written() {
    let csv = "mac,model,extension,name,password\n\
               0004f2000607,IP650,201,Ann,pw-Ann-1\n\
               0004f200060,IP650,202,Bob,\n\
               0004f2000609,IP999,203,Cy,\n\
               00:04:f2:00:06:07,IP650,204,\"Dee\nDee\",\n\
               0004f200060b,,201,Eve,\n\
               412345678,IP650,2050,Fay,\n\
               0004f200060c,IP650,206,Gil,x,extra\n";
    let out = Test::new()
        .file("inv.csv", csv)
        .args([
            "import",
            "hq",
            "--csv",
            "inv.csv",
            "--target",
            "dir:root",
            "--server",
            "pbx.example",
            "--gmt-offset",
            "-14400",
        ])
        .run()
        .status(1);
    for line in [
        "inv.csv:3:1: mac: invalid MAC address: expected 12 hex digits, found 11",
        "inv.csv:4:14: model: \"IP999\" is not a supported model",
        "inv.csv:5:1: mac: MAC 0004f2000607 is already on line 2",
        "inv.csv:5:29: name: must not contain control characters",
        "inv.csv:7:14: model: empty: give the phone's model",
        "inv.csv:7:15: extension: extension 201 is already on line 2",
        "inv.csv:8:1: mac: invalid MAC address: expected 12 hex digits, found 9 (a spreadsheet drops a MAC's leading zeros",
        "inv.csv:8:17: extension: 2050 has 4 digits and line 2's extension has 3",
        "inv.csv:9:30: more fields than the header has columns (5)",
        "error: 9 errors in inv.csv: nothing was written",
    ] {
        assert!(
            out.stderr.lines().any(|l| l.starts_with(line)),
            "no line {line:?}:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("pw-Ann-1"), "{}", out.stderr);
    assert!(!out.path().join("sites/hq.yaml").exists());
    assert!(!out.path().join("hq.secrets.yaml").exists());
}

#[test]
fn an_inventory_needs_its_site_settings_and_a_valid_header() {
    Test::new()
        .file("inv.csv", "mac,model,extension\n")
        .args([
            "import", "hq", "--csv", "inv.csv", "--server", "pbx", "--zone", "eastern",
        ])
        .run()
        .status(1)
        .stderr_contains("--target");
    Test::new()
        .file("inv.csv", "mac,model,extension\n")
        .args([
            "import",
            "hq",
            "--csv",
            "inv.csv",
            "--target",
            "dir:r",
            "--server",
            "pbx",
            "--zone",
            "eastern",
            "--gmt-offset",
            "0",
        ])
        .run()
        .status(1)
        .stderr_contains("cannot be used with");
    Test::new()
        .file("inv.csv", "mac;model;extension;notes\r\n")
        .args([
            "import", "hq", "--csv", "inv.csv", "--target", "dir:r", "--server", "pbx", "--zone",
            "eastern",
        ])
        .run()
        .status(1)
        .stderr_has_line_with("inv.csv:1:21: ", "unknown column \"notes\"");
}

#[test]
fn values_polyops_writes_otherwise_are_each_named_with_the_new_value() {
    let mut site = Site::guide(3);
    site.typos = false;
    site.extensions[0].extra = vec![("tcpIpApp.sntp.gmtOffset".to_owned(), "0".to_owned())];
    let mut files = site.files();
    let edit = |files: &mut BTreeMap<String, Vec<u8>>, name: &str, from: &str, to: &str| {
        let text = String::from_utf8(files[name].clone()).expect("utf8");
        assert!(text.contains(from), "{name} lacks {from}");
        files.insert(name.to_owned(), text.replace(from, to).into_bytes());
    };
    edit(
        &mut files,
        "0004f2000607.cfg",
        "APP_FILE_PATH=\"sip.ld\"",
        "APP_FILE_PATH=\"2345-12600-001.sip.ld\"",
    );
    edit(
        &mut files,
        "202.cfg",
        "reg.1.server.1.address=\"10.100.2.127\"",
        "reg.1.server.1.address=\"maxcs.example\"",
    );
    edit(
        &mut files,
        "altigen.cfg",
        "voIpProt.SIP.outboundProxy.port=\"10060\"",
        "voIpProt.SIP.outboundProxy.port=\"5060\"",
    );
    let mut t = Test::new();
    for (name, bytes) in &files {
        t = t.file(&format!("root/{name}"), bytes);
    }
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    let report = out.stdout.clone();
    for line in [
        "0004f2000607.cfg: changed: APP_FILE_PATH becomes \"sip.ld\" (was \"2345-12600-001.sip.ld\")",
        "202.cfg: changed: reg.1.server.1.address is \"maxcs.example\": polyops writes the site's server.address, \"10.100.2.127\"",
        "201.cfg: left out: tcpIpApp.sntp.gmtOffset is written by polyops from time.zone or time.gmt_offset into altigen.cfg",
        "altigen.cfg: changed: voIpProt.SIP.outboundProxy.port is \"5060\": polyops writes the site's SIP port, 10060",
    ] {
        assert!(report.lines().any(|l| l.starts_with(line)), "no line {line:?}:\n{report}");
    }
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
    let diffs = differences(&files, &out.files_in("rendered/hq"));
    assert_eq!(diffs["0004f2000607.cfg"], ["APP_FILE_PATH"]);
    assert_report_names_every_difference(&diffs, &report);
}

/// A CONFIG_FILES entry or a name at the root that no file on the target
/// can have gets a report line of its own, quoted and with escapes: never
/// one that reads as a real file's (here `202.cfg`, which is imported).
#[test]
fn names_no_file_can_have_get_report_lines_of_their_own() {
    let site = Site::guide(2);
    let mut files = site.files();
    let master = String::from_utf8(files["0004f2000607.cfg"].clone()).expect("utf8");
    files.insert(
        "0004f2000607.cfg".to_owned(),
        master
            .replace("altigen.cfg,", "altigen.cfg, 20&#13;2.cfg,")
            .into_bytes(),
    );
    let mut t = Test::new();
    for (name, bytes) in &files {
        t = t.file(&format!("root/{name}"), bytes);
    }
    for name in ["a\nb.cfg", "\x1b[2Jc.cfg", "\u{202e}gfc.302"] {
        t = t.file(&format!("root/{name}"), "<x/>");
    }
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    let report = &out.stdout;
    for line in [
        "\"20\\x0d2.cfg\": left out: CONFIG_FILES entry not imported: it is not a name a file on the target can have",
        "\"a\\x0ab.cfg\": left out: not read: polyops reads no name with a control character",
        "\"\\x1b[2Jc.cfg\": left out: not read: polyops reads no name with a control character",
        "\"\\u{202e}gfc.302\": left out: not read: polyops reads no name with a control character",
    ] {
        assert!(
            report.lines().any(|l| l.starts_with(line)),
            "no line {line:?}:\n{report}"
        );
    }
    assert!(
        !report.lines().any(|l| l.starts_with("202.cfg: left out")),
        "{report}"
    );
    for c in ['\r', '\x1b', '\u{202e}'] {
        assert!(!report.contains(c), "{c:?} in:\n{report}");
    }
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(yaml.contains("number: \"202\""), "{yaml}");
}

/// A hand-made extension file with `reg.1.auth.password=""` has no
/// password: the import asks for one rather than writing an empty one,
/// which plan would refuse.
#[test]
fn an_empty_password_on_the_root_is_one_to_fill_in() {
    let mut site = Site::guide(2);
    site.extensions[1].password = String::new();
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0)
        .stdout_contains("202.cfg: fill in: its reg.1.auth.password is empty: set the extension's SIP password as hq/202 in the secrets file");
    let secrets = String::from_utf8(out.read("hq.secrets.yaml")).expect("utf8");
    assert!(secrets.contains("\n# \"hq/202\": \"\"\n"), "{secrets}");
    assert!(
        !secrets.lines().any(|l| l.starts_with("\"hq/202\"")),
        "{secrets}"
    );
}

/// An `altigen.cfg` of 70,000 attributes is over the cap (docs/targets.md):
/// import says so on its line and takes none of its settings.
#[test]
fn an_altigen_cfg_over_the_attribute_cap_is_left_out_with_a_line_naming_it() {
    let site = Site::guide(2);
    with_root(&site)
        .file(
            "root/altigen.cfg",
            common::xml::with_attributes("ALL", 70_000),
        )
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0)
        .stdout_contains("altigen.cfg: left out: more than 8192 attributes, more than a configuration file holds: its settings are not imported");
}

#[test]
fn values_from_the_target_are_escaped_in_the_site_file_and_cleaned_in_the_report() {
    let mut site = Site::guide(2);
    site.typos = false;
    site.extensions[0].name = "\u{202e}Evil \"quoted\" \\ <name> # not a comment".to_owned();
    site.extensions[1].label = "Zoë: {x}".to_owned();
    site.extensions[1].extra = vec![("reg.1.ringType".to_owned(), "007".to_owned())];
    let mut files = site.files();
    // A value no site file can carry, and a name that is no parameter.
    let ext = String::from_utf8(files["202.cfg"].clone()).expect("utf8");
    files.insert(
        "202.cfg".to_owned(),
        ext.replace(
            "<mine",
            "<odd bad-name.=\"1\" up.note=\"a&#9;b\"/>\n  <mine",
        )
        .into_bytes(),
    );
    let mut t = Test::new();
    for (name, bytes) in &files {
        t = t.file(&format!("root/{name}"), bytes);
    }
    let out = t
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0)
        .stdout_contains("202.cfg: left out: up.note has a control character in its value")
        .stdout_contains("202.cfg: left out: bad-name. is not a Polycom parameter name")
        .stdout_lacks("\u{202e}");
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(
        yaml.contains("    name: \"\\u202eEvil \\\"quoted\\\" \\\\ <name> # not a comment\""),
        "{yaml}"
    );
    assert!(yaml.contains("      reg.1.ringType: \"007\""), "{yaml}");
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
    let diffs = differences(&files, &out.files_in("rendered/hq"));
    assert!(diffs["201.cfg"].is_empty(), "{diffs:?}");
    assert_eq!(diffs["202.cfg"], ["bad-name.", "up.note"]);
}

#[test]
fn the_registration_expiry_is_written_only_when_it_is_not_the_default() {
    let mut site = Site::guide(2);
    site.expires = 300;
    let out = with_root(&site)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(
        yaml.lines().any(|l| l == "  registration_expires: 300"),
        "{yaml}"
    );
    // 90 with more than 100 phones is not the default (600) there.
    let mut big = Site::guide(0);
    for i in 0..101 {
        big.add(&format!("{}", 300 + i), &format!("0004f23{i:05x}"));
    }
    let out = with_root(&big)
        .args(["import", "hq", "--from", "dir:root", "--model", "IP650"])
        .run()
        .status(0);
    let yaml = String::from_utf8(out.read("sites/hq.yaml")).expect("utf8");
    assert!(
        yaml.lines().any(|l| l == "  registration_expires: 90"),
        "{yaml}"
    );
}
