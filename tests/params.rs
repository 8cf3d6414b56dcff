//! docs/parameters.md: parameters at four levels (site → `altigen.cfg`, model →
//! `params-<model>.cfg`, extension → `<number>.cfg`, phone →
//! `params-<mac>.cfg`), polling, static `files` and `config_files`; read
//! back the way a phone reads them, and the rules that guard them.

use crate::common;

use common::xml::Params;
use common::{dedent, Output, Test};
use sha2::{Digest, Sha256};

const DIRECTORY: &[u8] = b"<directory><item><ln>Front</ln><ct>202</ct></item></directory>\n";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A two-phone site `hq` using every level; `rest` adds top-level keys.
fn every_level(rest: &str) -> String {
    format!(
        "site: hq\n\
         target: {{url: dir:root}}\n\
         server: {{address: 10.0.0.1}}\n\
         time: {{zone: pacific}}\n\
         params:\n\
         \x20 tcpIpApp.sntp.address.overrideDHCP: 1\n\
         \x20 up.headsetMode: true\n\
         \x20 tone.dtmf.rfc2833Payload: 96\n\
         \x20 dir.corp.password: {{env: DIR_PASSWORD}}\n\
         models:\n\
         \x20 IP650: {{params: {{up.backlight.idleIntensity: 1}}}}\n\
         provisioning:\n\
         \x20 polling: {{time: \"03:00\"}}\n\
         files:\n\
         \x20 - {{path: files/000000000000-directory.xml, sha256: {dir_sha}}}\n\
         config_files: [custom.cfg]\n\
         extensions:\n\
         \x20 - number: \"201\"\n\
         \x20   password: {{env: P201}}\n\
         \x20   params: {{reg.1.ringType: 3, msg.mwi.1.callBackMode: registration}}\n\
         \x20 - number: \"202\"\n\
         \x20   password: {{env: P202}}\n\
         phones:\n\
         \x20 - mac: 0004f2000607\n\
         \x20   model: IP650\n\
         \x20   extension: \"201\"\n\
         \x20   params: {{up.screenSaver.enabled: false}}\n\
         \x20 - mac: 0004f2000608\n\
         \x20   model: IP331\n\
         \x20   extension: \"202\"\n\
         {}",
        dedent(rest),
        dir_sha = sha256_hex(DIRECTORY),
    )
}

fn hq(rest: &str) -> Test {
    Test::new()
        .site("hq", &every_level(rest))
        .file("files/000000000000-directory.xml", DIRECTORY)
        .env("P201", "pw-201-secret")
        .env("P202", "pw-202-secret")
        .env("DIR_PASSWORD", "corp-dir-secret")
}

fn render(test: Test) -> Output {
    test.args(["render", "--out", "out"]).run().status(0)
}

fn params(out: &Output, file: &str) -> Params {
    Params::parse(file, &out.read(&format!("out/hq/{file}")))
}

fn config_files(out: &Output, mac: &str) -> String {
    params(out, &format!("{mac}.cfg"))
        .get("CONFIG_FILES")
        .to_owned()
}

#[test]
fn each_level_lands_in_its_own_file_in_the_documented_order() {
    let out = render(hq(""));
    assert_eq!(
        config_files(&out, "0004f2000607"),
        "params-0004f2000607.cfg, 201.cfg, params-ip650.cfg, altigen.cfg, custom.cfg, phone1.cfg, sip.cfg"
    );
    // No parameters of its own and no model parameters: no params- files.
    assert_eq!(
        config_files(&out, "0004f2000608"),
        "202.cfg, altigen.cfg, custom.cfg, phone1.cfg, sip.cfg"
    );
    let site = params(&out, "altigen.cfg");
    assert_eq!(site.get("tcpIpApp.sntp.address.overrideDHCP"), "1");
    assert_eq!(site.get("up.headsetMode"), "1");
    assert_eq!(site.get("dir.corp.password"), "corp-dir-secret");
    let model = params(&out, "params-ip650.cfg");
    assert_eq!(model.get("up.backlight.idleIntensity"), "1");
    assert_eq!(model.names().count(), 1);
    let phone = params(&out, "params-0004f2000607.cfg");
    assert_eq!(phone.get("up.screenSaver.enabled"), "0");
    let ext = params(&out, "201.cfg");
    assert_eq!(ext.get("reg.1.ringType"), "3");
    assert!(!params(&out, "202.cfg").has("reg.1.ringType"));
    let files = out.files_in("out/hq");
    assert_eq!(files["000000000000-directory.xml"], DIRECTORY);
    assert!(
        !files.contains_key("params-ip331.cfg"),
        "{:?}",
        files.keys()
    );
    assert!(!files.contains_key("params-0004f2000608.cfg"));
}

#[test]
fn a_guide_value_set_in_params_replaces_it_in_the_file_that_renders_it() {
    let out = render(hq(""));
    // Params::parse panics on a parameter carried twice.
    let site = params(&out, "altigen.cfg");
    assert_eq!(site.get("tone.dtmf.rfc2833Payload"), "96");
    assert_eq!(
        site.element("tone.dtmf.rfc2833Payload"),
        "sip/voIpProt/SIP/altigen2833"
    );
    assert_eq!(
        params(&out, "201.cfg").get("msg.mwi.1.callBackMode"),
        "registration"
    );
    assert_eq!(
        params(&out, "202.cfg").get("msg.mwi.1.callBackMode"),
        "contact"
    );
}

#[test]
fn a_site_wide_value_of_an_extension_files_guide_value_goes_into_every_extension_file() {
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: dir:root}
                server: {address: 10.0.0.1}
                time: {zone: pacific}
                params: {msg.bypassInstantMessage: 0}
                models: {IP331: {params: {msg.bypassInstantMessage: 2}}}
                extensions:
                  - {number: "201", password: {env: P201}}
                  - {number: "202", password: {env: P202}, params: {msg.bypassInstantMessage: 3}}
                  - {number: "203", password: {env: P202}}
                phones:
                  - {mac: 0004f2000607, model: IP331, extension: "201"}
                  - {mac: 0004f2000608, model: IP331, extension: "202"}
                "#,
            )
            .env("P201", "a")
            .env("P202", "b"),
    );
    // An extension's own value, then its phone's model's, then the site's.
    assert_eq!(params(&out, "201.cfg").get("msg.bypassInstantMessage"), "2");
    assert_eq!(params(&out, "202.cfg").get("msg.bypassInstantMessage"), "3");
    assert_eq!(params(&out, "203.cfg").get("msg.bypassInstantMessage"), "0");
    // Not also in the files they would be shadowed in.
    assert!(!params(&out, "altigen.cfg").has("msg.bypassInstantMessage"));
    assert!(!out.files_in("out/hq").contains_key("params-ip331.cfg"));
}

#[test]
fn polling_sets_the_three_parameters_in_altigen_cfg() {
    let out = render(hq(""));
    let site = params(&out, "altigen.cfg");
    assert_eq!(site.get("prov.polling.enabled"), "1");
    assert_eq!(site.get("prov.polling.mode"), "abs");
    assert_eq!(site.get("prov.polling.time"), "03:00");
}

#[test]
fn a_site_without_any_of_it_writes_no_params_or_polling() {
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: dir:root}
                server: {address: 10.0.0.1}
                time: {zone: pacific}
                extensions: [{number: "201", password: {env: P201}}]
                phones: [{mac: 0004f2000607, model: IP650, extension: "201"}]
                "#,
            )
            .env("P201", "a"),
    );
    let names: Vec<String> = out.files_in("out/hq").into_keys().collect();
    assert_eq!(names, ["0004f2000607.cfg", "201.cfg", "altigen.cfg"]);
    let site = params(&out, "altigen.cfg");
    assert!(!site.names().any(|n| n.starts_with("prov.")));
    assert_eq!(
        config_files(&out, "0004f2000607"),
        "201.cfg, altigen.cfg, phone1.cfg, sip.cfg"
    );
}

#[test]
fn the_guides_typo_is_a_warning_with_the_right_suggestion_and_an_error_when_strict() {
    let site = every_level("").replace(
        "reg.1.ringType: 3,",
        "reg.1.ringType: 3, msg.mwi.l.callBackMode: contact,",
    );
    let warn = "msg.mwi.l.callBackMode is not a parameter of SIP 3.2.7";
    hq("")
        .site("hq", &site)
        .args(["validate"])
        .run()
        .status(0)
        .stderr_has_line_with(
            "sites/hq.yaml:20:57: ",
            "extensions[0].params.msg.mwi.l.callBackMode: warning: msg.mwi.l.callBackMode is not",
        )
        .stderr_contains(warn)
        .stderr_contains("did you mean msg.mwi.1.callBackMode?")
        .then()
        .args(["--strict", "validate"])
        .run()
        .status(1)
        .stderr_has_line_with(
            "sites/hq.yaml:20:57: ",
            "extensions[0].params.msg.mwi.l.callBackMode: ",
        )
        .stderr_contains("did you mean msg.mwi.1.callBackMode?");
}

#[test]
fn indices_beyond_the_release_files_are_still_known() {
    hq("")
        .site(
            "hq",
            &every_level("").replace("reg.1.ringType: 3", "reg.9.ringType: 3"),
        )
        .args(["validate"])
        .run()
        .status(0)
        .stderr_lacks("reg.9.ringType");
}

#[test]
fn a_parameter_polyops_derives_is_an_error_naming_its_field_at_any_level() {
    for (level, field) in [
        ("params", "time.zone or time.gmt_offset"),
        ("models.IP650.params", "time.zone or time.gmt_offset"),
        ("extensions[0].params", "time.zone or time.gmt_offset"),
        ("phones[0].params", "time.zone or time.gmt_offset"),
    ] {
        let site = match level {
            "params" => every_level("").replace(
                "tone.dtmf.rfc2833Payload: 96",
                "tcpIpApp.sntp.gmtOffset: 3600",
            ),
            "models.IP650.params" => every_level("").replace(
                "up.backlight.idleIntensity: 1",
                "tcpIpApp.sntp.gmtOffset: 3600",
            ),
            "extensions[0].params" => {
                every_level("").replace("reg.1.ringType: 3", "tcpIpApp.sntp.gmtOffset: 3600")
            }
            _ => every_level("").replace(
                "up.screenSaver.enabled: false",
                "tcpIpApp.sntp.gmtOffset: 3600",
            ),
        };
        hq("")
            .site("hq", &site)
            .args(["validate"])
            .run()
            .status(1)
            .stderr_has_line_with(
                "sites/hq.yaml:",
                &format!("{level}.tcpIpApp.sntp.gmtOffset: tcpIpApp.sntp.gmtOffset is set by polyops from {field}"),
            );
    }
    hq("")
        .site(
            "hq",
            &every_level("").replace("reg.1.ringType: 3", "reg.1.auth.password: x"),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains("set by polyops from extensions[].password");
}

#[test]
fn a_name_that_is_no_parameter_is_an_error_at_its_line() {
    hq("")
        .site(
            "hq",
            &every_level("").replace("up.headsetMode: true", "\"up headset\": true"),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line_with("sites/hq.yaml:7:", "is not a Polycom parameter name");
    hq("")
        .site(
            "hq",
            &every_level("").replace("up.headsetMode: true", "CONFIG_FILES: x.cfg"),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains("extra configuration files go in config_files");
}

#[test]
fn a_fraction_or_a_list_is_no_parameter_value() {
    hq("")
        .site(
            "hq",
            &every_level("").replace("up.headsetMode: true", "up.headsetMode: 1.5"),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line_with("sites/hq.yaml:7:19: params.up.headsetMode: ", "quote");
    hq("")
        .site(
            "hq",
            &every_level("").replace("up.headsetMode: true", "up.headsetMode: [1]"),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line("sites/hq.yaml:7:");
}

#[test]
fn a_password_parameter_is_a_secret_masked_everywhere() {
    let literal = every_level("").replace(
        "dir.corp.password: {env: DIR_PASSWORD}",
        "dir.corp.password: lit-corp-secret",
    );
    hq("")
        .site("hq", &literal)
        .args(["validate"])
        .run()
        .status(0)
        .stderr_has_line_with("sites/hq.yaml:9:", "literal password in the site file")
        .stderr_lacks("lit-corp-secret");
    // The plan's diff masks it like an extension's password.
    let out = hq("").args(["plan"]).run().status(0);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!text.contains("corp-dir-secret"), "{text}");
    assert!(text.contains("dir.corp.password=\"********\""), "{text}");
    let json = hq("").args(["plan", "--format", "json"]).run().status(0);
    assert!(!json.stdout.contains("corp-dir-secret"), "{}", json.stdout);
}

#[test]
fn a_missing_parameter_secret_is_named_with_its_field() {
    Test::new()
        .site("hq", &every_level(""))
        .file("files/000000000000-directory.xml", DIRECTORY)
        .env("P201", "a")
        .env("P202", "b")
        .args(["plan"])
        .run()
        .status(1)
        .stderr_contains("params.dir.corp.password")
        .stderr_contains("DIR_PASSWORD");
}

#[test]
fn config_files_entries_are_checked() {
    hq("")
        .site(
            "hq",
            &every_level("").replace(
                "config_files: [custom.cfg]",
                "config_files: [custom.cfg, sip.cfg, custom.cfg, 201.cfg, \"a,b.cfg\"]",
            ),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains("config_files[1]: sip.cfg is in every phone's CONFIG_FILES already")
        .stderr_contains("config_files[2]: custom.cfg is already listed at config_files[0]")
        .stderr_contains("config_files[3]: 201.cfg is a file of one phone or extension")
        .stderr_contains("config_files[4]: a CONFIG_FILES entry must not contain a comma");
}

#[test]
fn config_files_longer_than_a_phone_reads_is_an_error() {
    let many: Vec<String> = (0..130).map(|i| format!("\"extra-{i:04}.cfg\"")).collect();
    hq("")
        .site(
            "hq",
            &every_level("").replace(
                "config_files: [custom.cfg]",
                &format!("config_files: [{}]", many.join(", ")),
            ),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains("config_files: phone 0004f2000607's CONFIG_FILES would be")
        .stderr_contains("a phone reads at most 2047");
}

#[test]
fn a_static_file_a_phone_writes_is_an_error_but_the_shared_directory() {
    let phone_file = every_level("").replace(
        "files/000000000000-directory.xml",
        "files/0004f2000607-directory.xml",
    );
    hq("")
        .site("hq", &phone_file)
        .file("files/0004f2000607-directory.xml", DIRECTORY)
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains(
            "files[0].path: 0004f2000607-directory.xml is a file polyops renders or a phone writes",
        );
    // The same name in both lists is published once.
    hq("")
        .site(
            "hq",
            &every_level(&format!(
                "firmware:\n  files:\n    - {{path: files/000000000000-directory.xml, sha256: {}}}\n",
                sha256_hex(DIRECTORY)
            )),
        )
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains(
            "files[0].path: 000000000000-directory.xml is already uploaded by firmware.files[0]",
        );
}

#[test]
fn a_static_file_is_checked_against_its_sha256_before_anything_is_written() {
    hq("")
        .file("files/000000000000-directory.xml", b"tampered\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("files[0]");
}

#[test]
fn model_parameters_for_a_model_without_phones_are_a_warning() {
    hq("")
        .site(
            "hq",
            &every_level("").replace(
                "IP650: {params: {up.backlight.idleIntensity: 1}}",
                "IP650: {params: {up.backlight.idleIntensity: 1}}\n  IP7000: {params: {up.backlight.idleIntensity: 2}}",
            ),
        )
        .args(["validate"])
        .run()
        .status(0)
        .stderr_contains("models.IP7000: warning: no phone of this site is an IP7000");
}

#[test]
fn every_level_plans_applies_and_converges() {
    let t = hq("")
        .args(["apply", "--auto-approve", "--allow-incomplete"])
        .run()
        .status(0)
        .then();
    let root = t.path().join("root");
    let on_target = common::read_dir_files(&root);
    for name in [
        "params-0004f2000607.cfg",
        "params-ip650.cfg",
        "000000000000-directory.xml",
        "altigen.cfg",
        "201.cfg",
    ] {
        assert!(
            on_target.contains_key(name),
            "{name}: {:?}",
            on_target.keys()
        );
    }
    t.args(["plan", "--detailed-exitcode"]).run().status(0);
}

/// The checked-in `examples/branch.yaml` (as a site of `sites/`) and the
/// files it publishes, where its `files` paths name them.
fn branch() -> Test {
    Test::new()
        .site("branch", include_str!("../examples/branch.yaml"))
        .file(
            "examples/branch/000000000000-directory.xml",
            include_bytes!("../examples/branch/000000000000-directory.xml"),
        )
        .file(
            "examples/branch/custom.cfg",
            include_bytes!("../examples/branch/custom.cfg"),
        )
        .env("EXT_301_PASSWORD", "3131")
        .env("EXT_302_PASSWORD", "3232")
        .env("EXT_303_PASSWORD", "3333")
        .env("CORP_DIRECTORY_PASSWORD", "ldap-pw-secret")
}

#[test]
fn the_branch_example_uses_every_level_without_a_warning() {
    branch()
        .args(["validate"])
        .run()
        .status(0)
        .stdout_is("sites/branch.yaml: ok: site branch, 3 extensions, 3 phones\n")
        .stderr_is_empty();
    let out = render(branch());
    let master = Params::parse("0004f2300101.cfg", &out.read("out/branch/0004f2300101.cfg"));
    assert_eq!(
        master.get("CONFIG_FILES"),
        "params-0004f2300101.cfg, 301.cfg, params-ip650.cfg, altigen.cfg, custom.cfg, phone1.cfg, sip.cfg"
    );
    let files = out.files_in("out/branch");
    assert_eq!(
        files["custom.cfg"],
        include_bytes!("../examples/branch/custom.cfg")
    );
    assert!(files.contains_key("000000000000-directory.xml"));
    let site = Params::parse("altigen.cfg", &files["altigen.cfg"]);
    assert_eq!(site.get("dir.corp.password"), "ldap-pw-secret");
    assert_eq!(site.get("prov.polling.time"), "03:00");
}

#[test]
fn the_branch_example_applies_converges_and_explains_as_the_readme_says() {
    let t = branch()
        .firmware_package("out/branch-ftp-root")
        .args(["apply", "--auto-approve", "branch"])
        .run()
        .status(0)
        .then()
        .args(["plan", "--detailed-exitcode", "branch"])
        .run()
        .status(0)
        .then()
        .args(["explain", "branch", "301"])
        .run()
        .status(0)
        .stdout_contains("CONFIG_FILES=\"params-0004f2300101.cfg, 301.cfg, params-ip650.cfg, altigen.cfg, custom.cfg, phone1.cfg, sip.cfg\"")
        .stdout_contains("  reg.1.ringType = \"3\"  from 301.cfg\n")
        .stdout_contains("  up.backlight.idleIntensity = \"1\"  from params-ip650.cfg\n")
        .stdout_contains("  up.oneTouchVoiceMail = \"1\"  from params-0004f2300101.cfg\n")
        .stdout_contains("  dir.corp.address = \"ldap.branch.example.com\"  from custom.cfg\n")
        .stdout_contains("  prov.polling.time = \"03:00\"  from altigen.cfg\n")
        .stdout_contains("  dir.corp.password = \"********\"  from altigen.cfg\n")
        .stdout_lacks("ldap-pw-secret");
    // The IP7000 gets no model file: its CONFIG_FILES skip it.
    t.then()
        .args([
            "explain",
            "branch",
            "303",
            "--param",
            "up.backlight.idleIntensity",
        ])
        .run()
        .status(0)
        .stdout_contains("CONFIG_FILES=\"303.cfg, altigen.cfg, custom.cfg, phone1.cfg, sip.cfg\"")
        .stdout_contains("up.backlight.idleIntensity is set in no file");
}
