//! docs/rendered-files.md: what `polyops render --out DIR` writes, read back the way a
//! phone reads it (XML attributes), against the values of the MaxCS 7.0
//! guide §6.1-6.3.

use crate::common;

use std::collections::BTreeMap;

use common::xml::{element_paths, Params};
use common::{dedent, Output, Test, EXAMPLE_ENV, EXAMPLE_SITE};
use sha2::{Digest, Sha256};

/// A one-extension, one-phone site `hq`; `rest` adds top-level keys.
fn hq(number: &str, rest: &str) -> String {
    format!(
        "site: hq\n\
         target:\n  url: dir:ftp-root\n\
         server:\n  address: 10.100.2.127\n\
         time:\n  zone: pacific\n\
         extensions:\n  - number: \"{number}\"\n    password: {{env: P{number}}}\n\
         phones:\n  - mac: 0004f2000607\n    model: IP650\n    extension: \"{number}\"\n\
         {}",
        dedent(rest)
    )
}

/// Render every site of a test into `out/` and expect success.
fn render(test: Test) -> Output {
    test.args(["render", "--out", "out"]).run().status(0)
}

fn params(out: &Output, site: &str, file: &str) -> Params {
    Params::parse(file, &out.read(&format!("out/{site}/{file}")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const GUIDE_DIGITMAP: &str =
    "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T";

// ---------------------------------------------------------------- altigen.cfg

#[test]
fn altigen_cfg_carries_the_guides_fixed_parameters() {
    let out = render(Test::new().site("hq", &hq("201", "")).env("P201", "x"));
    let p = params(&out, "hq", "altigen.cfg");
    assert_eq!(p.get("voIpProt.SIP.conference.address"), "conf");
    assert_eq!(
        p.get("voIpProt.SIP.alertInfo.1.value"),
        "info=alert-autoanswer"
    );
    assert_eq!(p.get("voIpProt.SIP.alertInfo.1.class"), "3");
    assert_eq!(p.get("voIpProt.SIP.alertInfo.2.value"), "auto-answer");
    assert_eq!(p.get("voIpProt.SIP.alertInfo.2.class"), "3");
    assert_eq!(p.get("tone.dtmf.rfc2833Payload"), "101");
    assert_eq!(p.get("dialplan.removeEndOfDial"), "0");
    assert_eq!(p.get("call.lastCallReturnString"), "#69");
    assert_eq!(p.get("tone.dtmf.onTime"), "120");
    assert_eq!(p.get("tone.dtmf.offTime"), "120");
    // Where the guide puts them, with its scanning errors repaired.
    assert_eq!(
        p.element("voIpProt.SIP.conference.address"),
        "sip/voIpProt/SIP/conference"
    );
    assert_eq!(
        p.element("voIpProt.SIP.alertInfo.2.class"),
        "sip/voIpProt/SIP/alertInfo"
    );
    assert_eq!(
        p.element("tone.dtmf.rfc2833Payload"),
        "sip/voIpProt/SIP/altigen2833"
    );
    assert_eq!(p.element("tcpIpApp.sntp.address"), "sip/TCP_IP/SNTP");
    assert_eq!(p.element("dialplan.removeEndOfDial"), "sip/dialplan");
    assert_eq!(p.element("dialplan.digitmap"), "sip/dialplan/digitmap");
    assert_eq!(p.element("call.lastCallReturnString"), "sip/call");
    assert_eq!(p.element("tone.dtmf.onTime"), "sip/tones/DTMF");
}

#[test]
fn rendered_files_declare_utf8_xml() {
    let out = render(Test::new().site("hq", &hq("201", "")).env("P201", "x"));
    for (name, bytes) in out.files_in("out/hq") {
        assert!(
            bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"),
            "{name} lacks the XML declaration"
        );
        Params::parse(&name, &bytes);
    }
}

#[test]
fn sip_port_is_the_registration_outbound_proxy_and_local_port() {
    let out = render(
        Test::new()
            .site("hq", &hq("201", ""))
            .site(
                "branch",
                r#"
                site: branch
                target: {url: "dir:branch-root"}
                server: {address: pbx.example.com, sip_port: 5062}
                time: {zone: eastern}
                "#,
            )
            .env("P201", "x"),
    );
    let default = params(&out, "hq", "altigen.cfg");
    let custom = params(&out, "branch", "altigen.cfg");
    for name in [
        "reg.1.server.1.port",
        "voIpProt.SIP.outboundProxy.port",
        "voIpProt.SIP.local.port",
    ] {
        assert_eq!(default.get(name), "10060", "{name} defaults to 10060");
        assert_eq!(custom.get(name), "5062", "{name} follows server.sip_port");
        assert_eq!(custom.element(name), "sip/voIpProt/SIP/altigenport");
    }
}

#[test]
fn time_zone_names_become_the_guides_gmt_offsets() {
    let mut test = Test::new();
    let zones = [
        ("eastern", "-18000"),
        ("central", "-21600"),
        ("mountain", "-25200"),
        ("pacific", "-28800"),
    ];
    for (zone, _) in zones {
        test = test.site(
            zone,
            &format!(
                "site: {zone}\ntarget: {{url: \"dir:root-{zone}\"}}\n\
                 server: {{address: 10.0.0.1}}\ntime: {{zone: {zone}}}\n"
            ),
        );
    }
    let out = render(test);
    for (zone, offset) in zones {
        let p = params(&out, zone, "altigen.cfg");
        assert_eq!(p.get("tcpIpApp.sntp.gmtOffset"), offset, "{zone}");
        assert_eq!(p.get("tcpIpApp.sntp.daylightSavings.enable"), "1", "{zone}");
        assert_eq!(p.get("tcpIpApp.sntp.address"), "time.nist.gov", "{zone}");
    }
}

#[test]
fn gmt_offset_sntp_server_and_daylight_saving_are_taken_as_given() {
    let out = render(
        Test::new()
            .site(
                "india",
                r#"
                site: india
                target: {url: "dir:root-india"}
                server: {address: 10.0.0.1}
                time:
                  sntp_server: pool.ntp.org
                  gmt_offset: 19800
                  daylight_saving: false
                "#,
            )
            .site(
                "newfoundland",
                r#"
                site: newfoundland
                target: {url: "dir:root-nf"}
                server: {address: 10.0.0.1}
                time: {gmt_offset: -12600, daylight_saving: true}
                "#,
            ),
    );
    let india = params(&out, "india", "altigen.cfg");
    assert_eq!(india.get("tcpIpApp.sntp.gmtOffset"), "19800");
    assert_eq!(india.get("tcpIpApp.sntp.daylightSavings.enable"), "0");
    assert_eq!(india.get("tcpIpApp.sntp.address"), "pool.ntp.org");
    let nf = params(&out, "newfoundland", "altigen.cfg");
    assert_eq!(nf.get("tcpIpApp.sntp.gmtOffset"), "-12600");
    assert_eq!(nf.get("tcpIpApp.sntp.daylightSavings.enable"), "1");
}

// ------------------------------------------------------------------- digitmap

fn digitmap_of(number: &str, dialplan: &str) -> String {
    let out = render(
        Test::new()
            .site("hq", &hq(number, dialplan))
            .env(&format!("P{number}"), "x"),
    );
    params(&out, "hq", "altigen.cfg")
        .get("dialplan.digitmap")
        .to_owned()
}

#[test]
fn default_digitmap_is_the_guides_for_3_digit_extensions_and_7_digit_local_calls() {
    assert_eq!(digitmap_of("201", ""), GUIDE_DIGITMAP);
    assert_eq!(
        digitmap_of(
            "201",
            "dialplan: {extension_digits: 3, extension_first_digits: 1-7, local_digits: 7}"
        ),
        GUIDE_DIGITMAP
    );
}

#[test]
fn four_digit_extensions_give_four_digit_extension_pattern() {
    assert_eq!(
        digitmap_of("4001", "dialplan: {extension_digits: 4}"),
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xxx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T"
    );
}

#[test]
fn ten_digit_local_calls_give_ten_digit_local_pattern() {
    assert_eq!(
        digitmap_of("201", "dialplan: {local_digits: 10}"),
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xx|9[2-9]xxxxxxxxx|91xxxxxxxxxx|xxx.T"
    );
}

#[test]
fn extension_first_digits_set_the_extension_prefix() {
    assert_eq!(
        digitmap_of("301", "dialplan: {extension_first_digits: 2-5}"),
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[2-5]xx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T"
    );
    assert_eq!(
        digitmap_of(
            "3001",
            "dialplan: {extension_digits: 4, extension_first_digits: 3-3, local_digits: 10}"
        ),
        "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|3xxx|9[2-9]xxxxxxxxx|91xxxxxxxxxx|xxx.T"
    );
}

#[test]
fn a_custom_digitmap_replaces_the_generated_one_verbatim() {
    let custom = "0|##|[2-4]xx|8xxxxxxx|9011x.T|xxx.T";
    assert_eq!(
        digitmap_of("201", &format!("dialplan: {{digitmap: \"{custom}\"}}")),
        custom
    );
}

// ------------------------------------------------------------ message waiting

const SILENT_PATTERN: [(&str, &str); 7] = [
    ("se.pat.misc.1.name", "message waiting"),
    ("se.pat.misc.1.inst.1.type", "silence"),
    ("se.pat.misc.1.inst.1.value", "1"),
    ("se.pat.misc.1.inst.2.type", "silence"),
    ("se.pat.misc.1.inst.2.value", "2"),
    ("se.pat.misc.1.inst.3.type", "silence"),
    ("se.pat.misc.1.inst.3.value", "1"),
];

#[test]
fn message_waiting_is_silent_by_default() {
    let out = render(Test::new().site("hq", &hq("201", "")).env("P201", "x"));
    let p = params(&out, "hq", "altigen.cfg");
    for (name, value) in SILENT_PATTERN {
        assert_eq!(p.get(name), value, "{name}");
        assert_eq!(
            p.element(name),
            "sip/sound_effects/patterns/MISCELLANEOUS/MESSAGE_WAITING"
        );
    }
}

#[test]
fn message_waiting_beep_drops_the_whole_sound_effects_section() {
    let out = render(
        Test::new()
            .site("hq", &hq("201", "message_waiting_beep: true"))
            .env("P201", "x"),
    );
    let bytes = out.read("out/hq/altigen.cfg");
    let p = Params::parse("altigen.cfg", &bytes);
    assert!(
        p.names().all(|n| !n.starts_with("se.pat.")),
        "no se.pat.* parameter may remain"
    );
    assert!(element_paths("altigen.cfg", &bytes)
        .iter()
        .all(|e| !e.contains("sound_effects")));
    // Everything else is still there.
    assert_eq!(p.get("call.lastCallReturnString"), "#69");
}

// --------------------------------------------------------------- <number>.cfg

#[test]
fn extension_cfg_registers_the_extension_with_the_server() {
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: "dir:root"}
                server: {address: 10.100.2.127}
                time: {zone: pacific}
                extensions:
                  - number: "201"
                    name: Ext_Name
                    label: Lobby
                    password: {env: P201}
                phones:
                  - {mac: 0004f2000607, model: IP650, extension: "201"}
                "#,
            )
            .env("P201", "1212"),
    );
    let bytes = out.read("out/hq/201.cfg");
    let p = Params::parse("201.cfg", &bytes);
    let expected = [
        ("reg.1.displayName", "Ext_Name"),
        ("reg.1.address", "201"),
        ("reg.1.label", "Lobby"),
        ("reg.1.auth.userId", "201"),
        ("reg.1.auth.password", "1212"),
        ("reg.1.server.1.address", "10.100.2.127"),
        ("reg.1.server.1.expires", "90"),
        ("msg.bypassInstantMessage", "1"),
        ("msg.mwi.1.callBackMode", "contact"),
        ("msg.mwi.1.callBack", "##@10.100.2.127"),
        ("msg.mwi.1.subscribe", "201@10.100.2.127"),
    ];
    for (name, value) in expected {
        assert_eq!(p.get(name), value, "{name}");
    }
    assert_eq!(p.names().count(), expected.len(), "no other parameter");
    assert_eq!(p.element("reg.1.address"), "phone1/reg");
    assert_eq!(p.element("msg.mwi.1.subscribe"), "phone1/msg");
}

#[test]
fn name_and_label_default_to_the_extension_number() {
    let out = render(Test::new().site("hq", &hq("305", "")).env("P305", "x"));
    let p = params(&out, "hq", "305.cfg");
    assert_eq!(p.get("reg.1.displayName"), "305");
    assert_eq!(p.get("reg.1.label"), "305");
}

#[test]
fn an_extension_without_a_phone_still_gets_its_file() {
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: "dir:root"}
                server: {address: 10.0.0.1}
                time: {zone: central}
                extensions:
                  - {number: "777", password: {env: P777}}
                "#,
            )
            .env("P777", "x"),
    );
    let files = out.files_in("out/hq");
    assert_eq!(files.keys().collect::<Vec<_>>(), ["777.cfg", "altigen.cfg"]);
}

#[test]
fn ipv6_server_is_bracketed_in_sip_uris_only() {
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: "dir:root"}
                server: {address: "2001:db8::10"}
                time: {zone: pacific}
                extensions:
                  - {number: "201", password: {env: P201}}
                "#,
            )
            .env("P201", "x"),
    );
    let p = params(&out, "hq", "201.cfg");
    assert_eq!(p.get("reg.1.server.1.address"), "2001:db8::10");
    assert_eq!(p.get("msg.mwi.1.callBack"), "##@[2001:db8::10]");
    assert_eq!(p.get("msg.mwi.1.subscribe"), "201@[2001:db8::10]");
}

/// A site with `count` extensions 101.. and a phone on each.
fn site_with_phones(count: usize, server_extra: &str) -> String {
    let mut yaml = format!(
        "site: big\ntarget: {{url: \"dir:root\"}}\n\
         server: {{address: 10.0.0.1{server_extra}}}\ntime: {{zone: pacific}}\nextensions:\n"
    );
    for n in 0..count {
        yaml.push_str(&format!(
            "  - {{number: \"{}\", password: {{secret: ext}}}}\n",
            101 + n
        ));
    }
    yaml.push_str("phones:\n");
    for n in 0..count {
        yaml.push_str(&format!(
            "  - {{mac: \"0004f2{n:06x}\", model: IP331, extension: \"{}\"}}\n",
            101 + n
        ));
    }
    yaml
}

fn expires(count: usize, server_extra: &str) -> String {
    let out = render(
        Test::new()
            .site("big", &site_with_phones(count, server_extra))
            .secrets("ext: pw"),
    );
    params(&out, "big", "101.cfg")
        .get("reg.1.server.1.expires")
        .to_owned()
}

#[test]
fn registration_expires_is_90_up_to_100_phones() {
    assert_eq!(expires(100, ""), "90");
}

#[test]
fn registration_expires_is_600_above_100_phones() {
    assert_eq!(expires(101, ""), "600");
}

#[test]
fn explicit_registration_expires_wins_over_the_phone_count() {
    assert_eq!(expires(101, ", registration_expires: 120"), "120");
    assert_eq!(expires(3, ", registration_expires: 3600"), "3600");
}

// ------------------------------------------------------------------ <mac>.cfg

#[test]
fn mac_cfg_is_the_guides_master_file_naming_the_extension_file_first() {
    let out = render(Test::new().site("example", EXAMPLE_SITE).envs(&EXAMPLE_ENV));
    for (mac, number) in [
        ("0004f2000607", "201"),
        ("0004f214ab37", "202"),
        ("0004f21c0a11", "203"),
    ] {
        let file = format!("{mac}.cfg");
        let bytes = out.read(&format!("out/example/{file}"));
        let p = Params::parse(&file, &bytes);
        assert_eq!(p.get("APP_FILE_PATH"), "sip.ld");
        assert_eq!(
            p.get("CONFIG_FILES"),
            format!("{number}.cfg, altigen.cfg, phone1.cfg, sip.cfg")
        );
        for empty in [
            "MISC_FILES",
            "LOG_FILE_DIRECTORY",
            "OVERRIDES_DIRECTORY",
            "CONTACTS_DIRECTORY",
            "LICENSE_DIRECTORY",
        ] {
            assert_eq!(p.get(empty), "", "{file} {empty}");
            assert_eq!(p.element(empty), "APPLICATION");
        }
        assert_eq!(p.get("APP_FILE_PATH_SPIP300"), "sip_212.ld");
        assert_eq!(p.get("CONFIG_FILES_SPIP300"), "phone1_212.cfg, sip_212.cfg");
        assert_eq!(p.get("APP_FILE_PATH_SPIP500"), "sip_212.ld");
        assert_eq!(p.get("CONFIG_FILES_SPIP500"), "phone1_212.cfg, sip_212.cfg");
        assert_eq!(
            element_paths(&file, &bytes),
            [
                "APPLICATION",
                "APPLICATION/APPLICATION_SPIP300",
                "APPLICATION/APPLICATION_SPIP500"
            ]
        );
        assert_eq!(p.names().count(), 11, "{file}: no other parameter");
    }
}

#[test]
fn render_writes_one_file_per_extension_and_per_phone_plus_altigen_cfg() {
    let out = render(Test::new().site("example", EXAMPLE_SITE).envs(&EXAMPLE_ENV))
        .stdout_contains("example: wrote 7 files to out/example");
    assert_eq!(
        out.files_in("out/example").keys().collect::<Vec<_>>(),
        [
            "0004f2000607.cfg",
            "0004f214ab37.cfg",
            "0004f21c0a11.cfg",
            "201.cfg",
            "202.cfg",
            "203.cfg",
            "altigen.cfg"
        ]
    );
}

// ------------------------------------------------------------------- escaping

#[test]
fn names_labels_and_passwords_round_trip_through_xml_exactly() {
    let name = "Zoë & <Bob> \"東京\"";
    let label = "it's <L&R> ☎";
    let password = "p&<>\"'ä東😀 x";
    let out = render(
        Test::new()
            .site(
                "hq",
                r#"
                site: hq
                target: {url: "dir:root"}
                server: {address: 10.0.0.1}
                time: {zone: pacific}
                extensions:
                  - number: "201"
                    name: 'Zoë & <Bob> "東京"'
                    label: "it's <L&R> ☎"
                    password: {env: P201}
                  - number: "202"
                    name: "&amp; is not unescaped twice"
                    password: {secret: "key with <&>"}
                "#,
            )
            .env("P201", password)
            .secrets("'key with <&>': \"&lt;literally&gt;\""),
    );
    let bytes = out.read("out/hq/201.cfg");
    let p = Params::parse("201.cfg", &bytes);
    assert_eq!(p.get("reg.1.displayName"), name);
    assert_eq!(p.get("reg.1.label"), label);
    assert_eq!(p.get("reg.1.auth.password"), password);
    let raw = String::from_utf8(bytes).expect("UTF-8");
    assert!(!raw.contains("<Bob>") && !raw.contains("<L&R>"), "{raw}");

    let p = params(&out, "hq", "202.cfg");
    assert_eq!(p.get("reg.1.displayName"), "&amp; is not unescaped twice");
    assert_eq!(p.get("reg.1.auth.password"), "&lt;literally&gt;");
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let run = || {
        let out = render(
            Test::new()
                .site("example", EXAMPLE_SITE)
                .site(
                    "hq",
                    &hq("201", "message_waiting_beep: true").replace("0607", "aaaa"),
                )
                .envs(&EXAMPLE_ENV)
                .env("P201", "x"),
        );
        (out.files_in("out/example"), out.files_in("out/hq"))
    };
    let first = run();
    assert_eq!(first.0.len(), 7);
    assert_eq!(first.1.len(), 3);
    assert_eq!(first, run());
}

// ------------------------------------------------------------------- firmware

fn firmware_bytes() -> Vec<u8> {
    // Every byte value, NULs and invalid UTF-8 included, and not a text file.
    (0u32..70_000).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn firmware_files_are_copied_byte_for_byte_when_their_sha256_matches() {
    let blob = firmware_bytes();
    let boot = b"bootrom".repeat(1000);
    let out = render(
        Test::new()
            .file("firmware/3.2.7/sip.ld", &blob)
            .file("firmware/bootrom.ld", &boot)
            .site(
                "hq",
                &hq(
                    "201",
                    &format!(
                        "firmware:\n  files:\n\
                         \x20   - {{path: firmware/3.2.7/sip.ld, sha256: {}}}\n\
                         \x20   - {{path: firmware/bootrom.ld, sha256: {}}}\n",
                        sha256_hex(&blob),
                        // Upper-case hex is accepted too.
                        sha256_hex(&boot).to_uppercase()
                    ),
                ),
            )
            .env("P201", "x"),
    );
    let files: BTreeMap<String, Vec<u8>> = out.files_in("out/hq");
    assert_eq!(files["sip.ld"], blob, "published under its file name only");
    assert_eq!(files["bootrom.ld"], boot);
    assert!(files.contains_key("altigen.cfg"));
}

#[test]
fn firmware_with_the_wrong_sha256_fails_the_render_and_writes_nothing() {
    let blob = firmware_bytes();
    let wrong = sha256_hex(b"something else");
    let out = Test::new()
        .file("firmware/sip.ld", &blob)
        .site(
            "hq",
            &hq(
                "201",
                &format!("firmware:\n  files:\n    - {{path: firmware/sip.ld, sha256: {wrong}}}\n"),
            ),
        )
        .env("P201", "x")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("site hq")
        .stderr_contains("firmware.files[0].path")
        .stderr_contains(&sha256_hex(&blob))
        .stderr_contains(&wrong);
    assert!(!out.path().join("out/hq").exists(), "nothing is written");
}

#[test]
fn a_missing_firmware_file_fails_the_render_naming_site_and_field() {
    Test::new()
        .site(
            "hq",
            &hq(
                "201",
                &format!(
                    "firmware:\n  files:\n    - {{path: firmware/nope.ld, sha256: {}}}\n",
                    "ab".repeat(32)
                ),
            ),
        )
        .env("P201", "x")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("site hq")
        .stderr_contains("firmware.files[0].path")
        .stderr_contains("firmware/nope.ld");
}

// -------------------------------------------------------------------- secrets

fn secret_site() -> String {
    hq("201", "").replace("{env: P201}", "{secret: ext-201}")
}

#[test]
fn secret_references_resolve_from_the_secrets_option() {
    let out = render(
        Test::new()
            .site("hq", &secret_site())
            .secrets("ext-201: from-the-file\nunused: x"),
    );
    assert_eq!(
        params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
        "from-the-file"
    );
}

#[test]
fn a_secrets_file_may_start_with_a_byte_order_mark() {
    let out = render(
        Test::new()
            .site("hq", &secret_site())
            .secrets("\u{feff}ext-201: after-the-bom\n"),
    );
    assert_eq!(
        params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
        "after-the-bom"
    );
}

#[test]
fn secret_references_resolve_from_polyops_secrets_file() {
    let out = render(
        Test::new()
            .site("hq", &secret_site())
            .file("vault/site-secrets.yaml", "ext-201: via-env-var\n")
            .env("POLYOPS_SECRETS_FILE", "vault/site-secrets.yaml"),
    );
    assert_eq!(
        params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
        "via-env-var"
    );
}

#[test]
fn secrets_given_before_or_after_the_command_beat_polyops_secrets_file() {
    for args in [
        &["--secrets", "right.yaml", "render", "--out", "out"][..],
        &["render", "--out", "out", "--secrets", "right.yaml"][..],
    ] {
        let out = Test::new()
            .site("hq", &secret_site())
            .file("right.yaml", "ext-201: from-the-option\n")
            .file("wrong.yaml", "ext-201: from-the-env-var\n")
            .env("POLYOPS_SECRETS_FILE", "wrong.yaml")
            .args(args)
            .run()
            .status(0);
        assert_eq!(
            params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
            "from-the-option",
            "{args:?}"
        );
    }
}

#[test]
fn an_unset_environment_variable_fails_naming_site_field_and_variable_only() {
    let out = Test::new()
        .site(
            "hq",
            r#"
            site: hq
            target: {url: "dir:root"}
            server: {address: 10.0.0.1}
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: SET_ONE}}
              - {number: "202", password: {env: MISSING_ONE}}
            "#,
        )
        .env("SET_ONE", "the-value-of-set-one")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("site hq")
        .stderr_contains("extensions[1].password")
        .stderr_contains("MISSING_ONE")
        .stderr_lacks("the-value-of-set-one")
        .stdout_lacks("the-value-of-set-one");
    assert!(!out.path().join("out/hq").exists(), "nothing is written");
}

#[test]
fn a_key_missing_from_the_secrets_file_fails_naming_the_key_never_a_value() {
    Test::new()
        .site("hq", &secret_site())
        .secrets("ext-202: value-of-another-key\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("site hq")
        .stderr_contains("extensions[0].password")
        .stderr_contains("ext-201")
        .stderr_lacks("value-of-another-key");
}

#[test]
fn a_secret_reference_without_a_secrets_file_fails_naming_the_key() {
    Test::new()
        .site("hq", &secret_site())
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("extensions[0].password")
        .stderr_contains("ext-201")
        .stderr_contains("--secrets");
}

#[test]
fn a_malformed_secrets_file_never_echoes_its_values() {
    Test::new()
        .site("hq", &secret_site())
        .secrets("ext-201: [hunter2-in-a-list]\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("secrets.yaml")
        .stderr_lacks("hunter2");
    Test::new()
        .site("hq", &secret_site())
        .secrets("ext-201: \"hunter2 unterminated\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("secrets.yaml")
        .stderr_lacks("hunter2");
}

#[test]
fn a_duplicate_key_in_the_secrets_file_is_an_error_at_the_second_one() {
    Test::new()
        .site("hq", &secret_site())
        .secrets("ext-201: first-value\nother: x\n  # a comment\next-201: second-value\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_has_line("secrets.yaml:4:1: duplicate key: ext-201")
        .stderr_contains("1 error in the secrets file")
        .stderr_lacks("first-value")
        .stderr_lacks("second-value");
}

#[test]
fn a_secrets_file_error_names_its_line_and_key_never_the_value() {
    Test::new()
        .site("hq", &secret_site())
        .secrets("other: x\next-201: [hunter2-in-a-list]\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_has_line("secrets.yaml:2:10: ext-201: secret values must be strings")
        .stderr_lacks("hunter2");
    Test::new()
        .site("hq", &secret_site())
        .secrets("ext-201: @hunter2\n")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_has_line("secrets.yaml:1:10: ")
        .stderr_lacks("@");
}

/// A secret is text: `007` is not the number 7, nor `0x1F` 31, `1.50` 1.5
/// or `yes` a boolean.
#[test]
fn unquoted_secret_values_keep_their_spelling() {
    for value in ["007", "0x1F", "0o17", "1.50", "1e3", "true"] {
        let out = render(
            Test::new()
                .site("hq", &secret_site())
                .secrets(&format!("ext-201: {value}\n")),
        );
        assert_eq!(
            params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
            value
        );
    }
}

#[test]
fn a_literal_password_renders_with_a_warning_that_does_not_show_it() {
    let out = render(Test::new().site(
        "hq",
        &hq("201", "").replace("{env: P201}", "lab-only-literal"),
    ))
    .stderr_contains("extensions[0].password: warning: literal password")
    .stderr_lacks("lab-only-literal");
    assert_eq!(
        params(&out, "hq", "201.cfg").get("reg.1.auth.password"),
        "lab-only-literal"
    );
}

#[test]
fn an_invalid_site_renders_nothing() {
    let out = Test::new()
        .site("hq", &hq("201", "").replace("0004f2000607", "0004f20006"))
        .env("P201", "x")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_has_line("sites/hq.yaml:");
    assert!(!out.path().join("out").exists());
}

#[test]
fn a_password_no_xml_file_can_carry_fails_naming_the_variable_only() {
    Test::new()
        .site("hq", &hq("201", ""))
        .env("P201", "before\u{1}after")
        .args(["render", "--out", "out"])
        .run()
        .status(1)
        .stderr_contains("site hq: extensions[0].password: ")
        .stderr_contains("environment variable P201")
        .stderr_lacks("before")
        .stderr_lacks("after");
}
