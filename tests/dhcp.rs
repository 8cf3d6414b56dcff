//! `polyops dhcp`: each server's snippet, put into a minimal complete
//! configuration, is accepted by that server's own parser (dhcpd -t,
//! kea-dhcp4 -t, dnsmasq --test), and a deliberately broken variant is
//! not (so each check can fail). The PowerShell for Windows DHCP is pinned
//! by a golden file.
//!
//! To accept a deliberate change of the PowerShell:
//! `UPDATE_GOLDEN=1 cargo test --test dhcp`, then read the diff.

use crate::common;
use crate::tools;

use std::path::{Path, PathBuf};

use common::Test;

const LAB: &str = r#"
    site: lab
    target:
      url: ftp://192.0.2.10/
    server:
      address: 10.100.2.127
    time:
      zone: pacific
    extensions:
      - number: "201"
        password: {env: EXT_201_PASSWORD}
      - number: "202"
        password: {env: EXT_202_PASSWORD}
    phones:
      - mac: 0004f2000607
        model: IP650
        extension: "201"
      - mac: 0004f2000608
        model: IP6000
        extension: "202"
    "#;

/// `polyops dhcp lab --format FORMAT` for `site`: its output.
fn dhcp(site: &str, format: &str) -> String {
    Test::new()
        .site("lab", site)
        .args(["dhcp", "lab", "--format", format])
        .run()
        .status(0)
        .stdout
}

/// Write `text` to a file in `dir`; its path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a test file can be written");
    path.display().to_string()
}

/// Whether `tool args… FILE` accepts `config`.
fn accepts(tool: &Path, args: &[&str], dir: &Path, name: &str, config: &str) -> (bool, String) {
    let file = write(dir, name, config);
    let arg_file: Vec<String> = args.iter().map(|a| a.replace("FILE", &file)).collect();
    let arg_refs: Vec<&str> = arg_file.iter().map(String::as_str).collect();
    let out = tools::run(tool, &arg_refs);
    (out.status.success(), tools::said(&out))
}

#[test]
fn isc_dhcpd_accepts_the_option_160_declaration_and_its_use() {
    let Some(dhcpd) = tools::require("dhcpd", "isc-dhcp-server") else {
        return;
    };
    let snippet = dhcp(LAB, "isc");
    assert!(snippet.contains("option polycom-boot-server code 160 = string;"));
    assert!(snippet.contains("option polycom-boot-server \"192.0.2.10\";"));
    assert!(snippet.contains("option tftp-server-name \"192.0.2.10\";"));
    let dir = tempfile::tempdir().expect("tempdir");
    let subnet = "\nsubnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10 10.0.0.200;\n}\n";
    let (ok, said) = accepts(
        &dhcpd,
        &["-t", "-cf", "FILE"],
        dir.path(),
        "dhcpd.conf",
        &format!("{snippet}{subnet}"),
    );
    assert!(ok, "dhcpd refused polyops's snippet:\n{snippet}\n{said}");
    // Without its declaration, option 160 is unknown to dhcpd.
    let broken: String = snippet
        .lines()
        .filter(|l| !l.contains("code 160"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (ok, said) = accepts(
        &dhcpd,
        &["-t", "-cf", "FILE"],
        dir.path(),
        "broken.conf",
        &format!("{broken}{subnet}"),
    );
    assert!(!ok, "dhcpd accepted a broken snippet:\n{broken}\n{said}");
    // And a string option's value must be quoted.
    let unquoted = snippet.replace("\"192.0.2.10\"", "192.0.2.10");
    let (ok, _) = accepts(
        &dhcpd,
        &["-t", "-cf", "FILE"],
        dir.path(),
        "unquoted.conf",
        &format!("{unquoted}{subnet}"),
    );
    assert!(!ok, "dhcpd accepted an unquoted string:\n{unquoted}");
}

/// `snippet` (Kea's `{"Dhcp4": {…}}`) with a subnet added.
fn kea_config(snippet: &serde_json::Value) -> String {
    let mut config = snippet.clone();
    config["Dhcp4"]["subnet4"] = serde_json::json!([{
        "id": 1,
        "subnet": "10.0.0.0/24",
        "pools": [{"pool": "10.0.0.10 - 10.0.0.200"}],
    }]);
    config["Dhcp4"]["lease-database"] = serde_json::json!({"type": "memfile", "persist": false});
    serde_json::to_string_pretty(&config).expect("JSON")
}

#[test]
fn kea_accepts_the_option_definition_and_data() {
    let Some(kea) = tools::require("kea-dhcp4", "kea-dhcp4-server") else {
        return;
    };
    let snippet: serde_json::Value =
        serde_json::from_str(&dhcp(LAB, "kea")).expect("polyops prints JSON for Kea");
    let dhcp4 = &snippet["Dhcp4"];
    assert_eq!(dhcp4["option-def"][0]["code"], 160);
    assert_eq!(dhcp4["option-def"][0]["type"], "string");
    assert_eq!(dhcp4["option-data"][0]["data"], "192.0.2.10");
    assert_eq!(dhcp4["option-data"][1]["code"], 66);
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, said) = accepts(
        &kea,
        &["-t", "FILE"],
        dir.path(),
        "kea-dhcp4.conf",
        &kea_config(&snippet),
    );
    assert!(
        ok,
        "kea-dhcp4 refused polyops's snippet:\n{snippet:#}\n{said}"
    );
    // Without its definition, option 160's data has no type.
    let mut broken = snippet.clone();
    broken["Dhcp4"]
        .as_object_mut()
        .expect("an object")
        .remove("option-def");
    let (ok, said) = accepts(
        &kea,
        &["-t", "FILE"],
        dir.path(),
        "broken.conf",
        &kea_config(&broken),
    );
    assert!(
        !ok,
        "kea-dhcp4 accepted a broken snippet:\n{broken:#}\n{said}"
    );
}

#[test]
fn dnsmasq_accepts_the_dhcp_options() {
    let Some(dnsmasq) = tools::require("dnsmasq", "dnsmasq-base") else {
        return;
    };
    let snippet = dhcp(LAB, "dnsmasq");
    assert!(snippet.contains("\ndhcp-option=160,\"192.0.2.10\"\n"));
    assert!(snippet.contains("\ndhcp-option=option:tftp-server,\"192.0.2.10\"\n"));
    let dir = tempfile::tempdir().expect("tempdir");
    let range = "dhcp-range=10.0.0.10,10.0.0.200,12h\nport=0\n";
    let (ok, said) = accepts(
        &dnsmasq,
        &["--test", "--conf-file=FILE"],
        dir.path(),
        "dnsmasq.conf",
        &format!("{snippet}{range}"),
    );
    assert!(ok, "dnsmasq refused polyops's snippet:\n{snippet}\n{said}");
    // A string that does not end is a syntax error.
    let broken = snippet.replacen("192.0.2.10\"", "192.0.2.10", 1);
    let (ok, said) = accepts(
        &dnsmasq,
        &["--test", "--conf-file=FILE"],
        dir.path(),
        "broken.conf",
        &format!("{broken}{range}"),
    );
    assert!(!ok, "dnsmasq accepted a broken snippet:\n{broken}\n{said}");
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/dhcp")
        .join(name)
}

#[test]
fn windows_powershell_defines_option_160_as_the_guide_does() {
    let script = dhcp(LAB, "windows");
    let path = golden("lab.ps1");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("golden folder");
        std::fs::write(&path, &script).expect("golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("tests/golden/dhcp/lab.ps1");
    assert_eq!(
        script, expected,
        "the PowerShell differs from tests/golden/dhcp/lab.ps1 (UPDATE_GOLDEN=1 to accept)"
    );
    // Every line is a comment or one of the DhcpServer module's commands.
    for line in script.lines().filter(|l| !l.starts_with('#')) {
        let line = line.trim();
        assert!(
            line == "}"
                || line.starts_with("if (-not (Get-DhcpServerv4OptionDefinition -OptionId 160 ")
                || line.starts_with("Add-DhcpServerv4OptionDefinition -OptionId 160 ")
                || line.starts_with("Set-DhcpServerv4OptionValue -OptionId "),
            "{line}"
        );
    }
}

#[test]
fn a_port_or_folder_on_the_server_makes_option_160_a_url() {
    let site = LAB.replace("ftp://192.0.2.10/", "ftps://pbx.example.com:2121/phones/");
    let isc = dhcp(&site, "isc");
    assert!(
        isc.contains("option polycom-boot-server \"ftp://pbx.example.com:2121/phones\";"),
        "{isc}"
    );
    assert!(isc.contains("plain FTP"), "{isc}");
}

#[test]
fn a_site_without_an_ip6000_gets_no_option_66() {
    let site = LAB.replace("model: IP6000", "model: IP331");
    for format in ["isc", "kea", "dnsmasq", "windows"] {
        let out = dhcp(&site, format);
        assert!(
            !out.contains("tftp-server") && !out.contains("OptionId 66"),
            "{format}: {out}"
        );
    }
}

#[test]
fn a_dir_target_is_an_error() {
    Test::new()
        .site("lab", &LAB.replace("ftp://192.0.2.10/", "dir:out/root"))
        .args(["dhcp", "lab"])
        .run()
        .status(1)
        .stderr_contains("error: site lab: target dir:out/root is a local folder");
}

#[test]
fn dhcp_takes_one_site() {
    Test::new()
        .site("lab", LAB)
        .site(
            "branch",
            &LAB.replace("site: lab", "site: branch")
                .replace("192.0.2.10", "192.0.2.11")
                .replace("0004f20006", "0004f20007"),
        )
        .args(["dhcp"])
        .run()
        .status(1)
        .stderr_contains("dhcp prints the options of one site, and 2 are selected");
}

/// docs/setup.md: a boot server on this machine's own address (or a
/// link-local or unspecified one) is no server a phone can reach; the
/// options are still printed, with the warning on standard error and
/// among their comments.
#[test]
fn a_target_host_no_phone_can_reach_is_a_warning() {
    for (host, what) in [
        ("127.0.0.1", "a loopback address"),
        ("169.254.1.2", "a link-local address"),
        ("0.0.0.0", "the unspecified address"),
    ] {
        let site = LAB.replace("192.0.2.10", host);
        let out = Test::new()
            .site("lab", &site)
            .args(["dhcp", "lab"])
            .run()
            .status(0)
            .stderr_contains(&format!(
                "warning: site lab: target.url's host {host} is {what}"
            ))
            .stderr_contains("the phones cannot reach a boot server there");
        assert!(
            out.stdout
                .contains(&format!("# site lab: target.url's host {host} is {what}")),
            "{}",
            out.stdout
        );
    }
    Test::new()
        .site("lab", LAB)
        .args(["dhcp", "lab"])
        .run()
        .status(0)
        .stderr_lacks("cannot reach");
}
