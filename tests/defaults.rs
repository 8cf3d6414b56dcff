//! docs/many-sites.md: `sites/_defaults.yaml` is merged under every site (the site's
//! own value wins; a mapping merges key by key; a list replaces), and a
//! finding about a value it set names it, at its line.

use crate::common;

use common::xml::Params;
use common::Test;

const DEFAULTS: &str = r#"
time: {zone: eastern, sntp_server: ntp.partner.example}
dialplan: {local_digits: 10}
firmware: {sip: 3.2.7}
params:
  tcpIpApp.sntp.address.overrideDHCP: 1
  up.headsetMode: 1
target: {user: branch-ftp, timeout_seconds: 10}
"#;

fn site(name: &str, ext: &str, mac: &str, rest: &str) -> String {
    format!(
        "site: {name}\n\
         target: {{url: dir:root-{name}}}\n\
         server: {{address: 10.0.0.1}}\n\
         extensions: [{{number: \"{ext}\", password: {{env: P}}}}]\n\
         phones: [{{mac: {mac}, model: IP650, extension: \"{ext}\"}}]\n\
         {rest}"
    )
}

fn two_sites(defaults: &str, rest_a: &str) -> Test {
    Test::new()
        .file("sites/_defaults.yaml", common::dedent(defaults))
        .site_bytes("a", site("a", "201", "0004f2000001", rest_a))
        .site_bytes("b", site("b", "202", "0004f2000002", ""))
        .env("P", "pw")
}

#[test]
fn every_site_gets_what_the_defaults_set() {
    let out = two_sites(DEFAULTS, "")
        .args(["validate"])
        .run()
        .status(0)
        .stdout_is(
            "sites/a.yaml: ok: site a, 1 extensions, 1 phones\nsites/b.yaml: ok: site b, 1 extensions, 1 phones\n",
        )
        .stderr_is_empty()
        .then()
        .args(["render", "--out", "out"])
        .run()
        .status(0);
    for s in ["a", "b"] {
        let p = Params::parse("altigen.cfg", &out.read(&format!("out/{s}/altigen.cfg")));
        assert_eq!(p.get("tcpIpApp.sntp.gmtOffset"), "-18000");
        assert_eq!(p.get("tcpIpApp.sntp.address"), "ntp.partner.example");
        assert_eq!(p.get("tcpIpApp.sntp.address.overrideDHCP"), "1");
        assert!(p
            .get("dialplan.digitmap")
            .contains("|[1-7]xx|9[2-9]xxxxxxxxx|"));
    }
}

#[test]
fn the_sites_own_value_wins_and_mappings_merge() {
    let out = two_sites(
        DEFAULTS,
        "time: {zone: pacific}\nparams: {up.headsetMode: 0}\n",
    )
    .args(["render", "--out", "out"])
    .run()
    .status(0);
    let a = Params::parse("altigen.cfg", &out.read("out/a/altigen.cfg"));
    assert_eq!(a.get("tcpIpApp.sntp.gmtOffset"), "-28800");
    // time merged key by key: the server still comes from the defaults.
    assert_eq!(a.get("tcpIpApp.sntp.address"), "ntp.partner.example");
    assert_eq!(a.get("up.headsetMode"), "0");
    assert_eq!(a.get("tcpIpApp.sntp.address.overrideDHCP"), "1");
    let b = Params::parse("altigen.cfg", &out.read("out/b/altigen.cfg"));
    assert_eq!(b.get("tcpIpApp.sntp.gmtOffset"), "-18000");
}

#[test]
fn a_list_in_the_site_replaces_the_defaults_list() {
    let out = two_sites(
        "time: {zone: eastern}\nconfig_files: [shared.cfg, other.cfg]\n",
        "config_files: [own.cfg]\n",
    )
    .args(["render", "--out", "out"])
    .run()
    .status(0);
    let a = Params::parse("m", &out.read("out/a/0004f2000001.cfg"));
    assert_eq!(
        a.get("CONFIG_FILES"),
        "201.cfg, altigen.cfg, own.cfg, phone1.cfg, sip.cfg"
    );
    let b = Params::parse("m", &out.read("out/b/0004f2000002.cfg"));
    assert!(b.get("CONFIG_FILES").contains("shared.cfg, other.cfg"));
}

#[test]
fn a_bad_value_in_the_defaults_is_reported_once_at_its_line_there() {
    two_sites("time:\n  zone: atlantis\n", "")
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line_with("sites/_defaults.yaml:2:9: time.zone: ", "atlantis");
    let out = two_sites("time:\n  zone: atlantis\n", "")
        .args(["validate"])
        .run()
        .status(1);
    let hits = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("sites/_defaults.yaml:2:9:"))
        .count();
    assert_eq!(hits, 1, "{}", out.stderr);
}

#[test]
fn a_rule_about_a_value_from_the_defaults_names_the_defaults_file() {
    two_sites(
        "time: {zone: eastern}\nparams:\n  msg.mwi.l.callBackMode: contact\n",
        "",
    )
    .args(["validate"])
    .run()
    .status(0)
    .stderr_has_line_with(
        "sites/_defaults.yaml:3:27: params.msg.mwi.l.callBackMode: warning: ",
        "did you mean msg.mwi.1.callBackMode?",
    );
    // Missing the time in both: the error is on the site, which must give it.
    two_sites("params: {a.b: 1}\n", "")
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line("sites/a.yaml:1:1: time: ");
}

#[test]
fn what_only_a_site_sets_is_refused_in_the_defaults() {
    two_sites(
        "time: {zone: eastern}\ntarget: {url: dir:shared}\nphones: []\n",
        "",
    )
    .args(["validate"])
    .run()
    .status(1)
    .stderr_has_line_with(
        "sites/_defaults.yaml:2:10: target.url: ",
        "belongs in each site file",
    )
    .stderr_has_line_with(
        "sites/_defaults.yaml:3:1: phones: ",
        "belongs in each site file",
    );
}

#[test]
fn a_broken_defaults_file_is_a_syntax_error_at_its_line() {
    two_sites("time: {zone: eastern\n", "")
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line("sites/_defaults.yaml:");
}
