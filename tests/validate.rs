//! docs/site-file.md: `polyops validate` checks every site file against the schema and
//! the rules, and reports every finding of the run, one per line, as
//! `FILE:LINE:COLUMN: PATH: MESSAGE`. Errors exit 1; warnings print and exit
//! 0, unless `--strict`.
//!
//! Each fixture below breaks one rule; the asserted prefix is the line and
//! column of the offending value (or key, for an unknown field) in it.

use crate::common;

use common::site::{hq_file, HQ_HEAD};
use common::{Output, Test, EXAMPLE_SITE};

fn validate(test: Test) -> Output {
    test.args(["validate"]).run()
}

fn validate_strict(test: Test) -> Output {
    test.args(["--strict", "validate"]).run()
}

// ------------------------------------------------------------------ the happy path

#[test]
fn the_example_site_is_valid() {
    validate(Test::new().site("example", EXAMPLE_SITE))
        .status(0)
        .stdout_is("sites/example.yaml: ok: site example, 3 extensions, 3 phones\n")
        .stderr_is_empty();
}

#[test]
fn a_site_with_only_the_required_fields_is_valid() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: "ftp://192.0.2.10/"}
        server: {address: pbx.example.com}
        time: {gmt_offset: 0}
        "#,
    ))
    .status(0)
    .stdout_is("sites/hq.yaml: ok: site hq, 0 extensions, 0 phones\n")
    .stderr_is_empty();
}

// --------------------------------------------------------------------- schema

#[test]
fn an_unknown_field_is_an_error_at_its_key() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target:
          url: dir:ftp-root
          passwrod: {env: FTP}
        server: {address: 10.0.0.1}
        time: {zone: pacific}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:4:3: target.passwrod: ",
        "unknown field; did you mean password?",
    );
}

#[test]
fn an_unknown_top_level_field_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            phone:
              - {mac: 0004f2000607, model: IP650, extension: "201"}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:5:1: phone: ", "unknown field");
}

#[test]
fn a_value_of_the_wrong_type_is_an_error() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:ftp-root}
        server:
          address: 10.0.0.1
          sip_port: ten thousand
        time: {zone: pacific, daylight_saving: 1}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:5:13: server.sip_port: ",
        "expected integer, found a string",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:6:40: time.daylight_saving: ",
        "expected boolean, found an integer",
    );
}

/// JSON Schema's `integer` admits 5060.0 (it compares values, not
/// spellings), so these pass the schema; they are still errors, at their
/// own field, all in one run.
#[test]
fn a_number_with_a_decimal_point_for_an_integer_field_is_an_error_at_that_field() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:ftp-root, timeout_seconds: 1e1}
        server:
          address: 10.0.0.1
          sip_port: 5060.0
          registration_expires: 90.0
        time: {zone: pacific}
        dialplan: {extension_digits: 3.0}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:2:46: target.timeout_seconds: ",
        "expected integer, found a number with a decimal point or exponent",
    )
    .stderr_has_line_with("sites/hq.yaml:5:13: server.sip_port: ", "expected integer")
    .stderr_has_line_with(
        "sites/hq.yaml:6:25: server.registration_expires: ",
        "expected integer",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:8:30: dialplan.extension_digits: ",
        "expected integer",
    )
    .stderr_contains("4 errors in site files");
}

#[test]
fn an_integer_too_big_for_its_field_is_an_error_at_that_field() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:ftp-root}
        server:
          address: 10.0.0.1
          registration_expires: 5000000000
        time: {zone: pacific}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:5:25: server.registration_expires: ",
        "expected an integer from 0 to 4294967295",
    )
    .stderr_lacks("u32");
}

#[test]
fn an_unquoted_extension_number_says_to_quote_it() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - number: 201
                password: {env: P201}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:6:13: extensions[0].number: ", "quote it");
}

#[test]
fn a_missing_required_field_is_an_error_at_its_mapping() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: P201}}
            phones:
              - mac: 0004f2000607
                extension: "201"
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:8:5: phones[0].model: ",
        "missing required field",
    );
}

#[test]
fn a_missing_top_level_section_is_an_error_at_the_first_line() {
    validate(Test::new().site(
        "hq",
        r#"
        # no server: section
        site: hq
        target: {url: dir:ftp-root}
        time: {zone: pacific}
        "#,
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:2:1: server: ", "missing required field");
}

#[test]
fn a_site_name_that_could_leave_the_render_folder_is_an_error() {
    validate(Test::new().site(
        "hq",
        r#"
        site: ../hq
        target: {url: dir:ftp-root}
        server: {address: 10.0.0.1}
        time: {zone: pacific}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:1:7: site: ",
        r#""../hq" is not allowed here: use lower-case letters, digits and -, starting with a letter or digit"#,
    )
    .stderr_lacks("pattern")
    .stderr_lacks("^[a-z0-9]");
}

// ----------------------------------------------------------------------- MACs

#[test]
fn a_mac_without_12_hex_digits_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: P201}}
              - {number: "202", password: {env: P202}}
            phones:
              - mac: 00:04:F2:00:06
                model: IP650
                extension: "201"
              - mac: 0004f200060g
                model: IP650
                extension: "202"
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:9:10: phones[0].mac: ",
        "expected 12 hex digits, found 10",
    )
    .stderr_has_line_with("sites/hq.yaml:12:10: phones[1].mac: ", "not a hex digit");
}

#[test]
fn the_same_mac_twice_in_a_site_is_an_error_whatever_its_spelling() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: P201}}
              - {number: "202", password: {env: P202}}
            phones:
              - {mac: 0004f2000607, model: IP650, extension: "201"}
              - {mac: "00:04:F2:00:06:07", model: IP331, extension: "202"}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:10:11: phones[1].mac: ",
        "MAC 0004f2000607 is already declared at phones[0]",
    );
}

#[test]
fn the_same_mac_in_two_sites_is_an_error() {
    validate(
        Test::new()
            .site(
                "east",
                r#"
                site: east
                target: {url: dir:east-root}
                server: {address: 10.0.0.1}
                time: {zone: eastern}
                extensions:
                  - {number: "201", password: {env: P201}}
                phones:
                  - {mac: 0004.f200.0607, model: IP650, extension: "201"}
                "#,
            )
            .site(
                "west",
                r#"
                site: west
                target: {url: dir:west-root}
                server: {address: 10.0.0.2}
                time: {zone: pacific}
                extensions:
                  - {number: "301", password: {env: P301}}
                phones:
                  - {mac: 00-04-f2-00-06-07, model: IP650, extension: "301"}
                "#,
            ),
    )
    .status(1)
    .stderr_has_line_with(
        "sites/west.yaml:8:11: phones[0].mac: ",
        "MAC 0004f2000607 is already declared in site east",
    );
}

#[test]
fn a_mac_shared_with_an_unselected_site_is_still_an_error() {
    let east = r#"
        site: east
        target: {url: dir:east-root}
        server: {address: 10.0.0.1}
        time: {zone: eastern}
        extensions:
          - {number: "201", password: {env: P201}}
        phones:
          - {mac: 0004f2000607, model: IP650, extension: "201"}
        "#;
    let west = east
        .replace("site: east", "site: west")
        .replace("dir:east-root", "dir:west-root");
    Test::new()
        .site("east", east)
        .site("west", &west)
        .args(["validate", "east"])
        .run()
        .status(1)
    .stderr_has_line_with(
        "sites/east.yaml:8:11: phones[0].mac: ",
        "MAC 0004f2000607 is already declared in site west at phones[0] (also in sites/west.yaml)",
    )
    .stderr_lacks("sites/west.yaml:");
}

#[test]
fn every_common_mac_spelling_is_accepted_and_normalised() {
    for spelling in [
        "0004f2000607",
        "00-04-f2-00-06-07",
        "0004.f200.0607",
        "\"00:04:F2:00:06:07\"",
    ] {
        let out = Test::new()
            .site(
                "hq",
                &format!(
                    "site: hq\ntarget: {{url: dir:root}}\nserver: {{address: 10.0.0.1}}\n\
                     time: {{zone: pacific}}\n\
                     extensions: [{{number: \"201\", password: {{env: P201}}}}]\n\
                     phones: [{{mac: {spelling}, model: IP650, extension: \"201\"}}]\n"
                ),
            )
            .env("P201", "x")
            .args(["render", "--out", "out"])
            .run()
            .status(0)
            .stderr_is_empty();
        assert_eq!(
            out.files_in("out/hq").keys().collect::<Vec<_>>(),
            ["0004f2000607.cfg", "201.cfg", "altigen.cfg"],
            "{spelling}"
        );
    }
}

// ----------------------------------------------------------------- extensions

#[test]
fn the_same_extension_number_twice_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - number: "201"
                password: {env: A}
              - number: "201"
                password: {env: B}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:8:13: extensions[1].number: ",
        "extension 201 is already declared at extensions[0]",
    );
}

#[test]
fn an_extension_with_the_wrong_digit_count_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "2010", password: {env: A}}
              - {number: "20", password: {env: B}}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:6:14: extensions[0].number: ",
        "extension 2010 does not fit the dial plan: 3 digits starting with 1-7",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:7:14: extensions[1].number: ",
        "extension 20 does not fit the dial plan",
    );
}

#[test]
fn a_dial_plan_that_no_extension_fits_is_one_error_naming_extension_digits() {
    let out = validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "2001", password: {env: A}}
              - {number: "2002", password: {env: B}}
              - {number: "2003", password: {env: C}}
            "#,
        ),
    ))
    .status(1);
    assert_eq!(
        out.diagnostics(),
        ["sites/hq.yaml:6:14: dialplan.extension_digits: the dial plan's extensions have 3 digits, \
          and every extension of this site has 4 (extensions[0].number is 2001): set dialplan.extension_digits: 4"]
    );
}

#[test]
fn extensions_that_do_not_fit_name_the_dial_plan_fields_once() {
    let out = validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: A}}
              - {number: "2002", password: {env: B}}
              - {number: "2003", password: {env: C}}
              - {number: "904", password: {env: D}}
            "#,
        ),
    ))
    .status(1);
    let lines = out.diagnostics();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let naming = lines
        .iter()
        .filter(|l| l.contains("dialplan.extension_digits"))
        .count();
    assert_eq!(naming, 1, "{lines:?}");
    assert!(
        lines[0].starts_with(
            "sites/hq.yaml:7:14: extensions[1].number: extension 2002 does not fit the dial plan"
        ) && lines[0].contains("3 of 4 extensions do not fit"),
        "{lines:?}"
    );
}

#[test]
fn an_extension_with_the_wrong_first_digit_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            dialplan:
              extension_digits: 4
              extension_first_digits: 2-5
            extensions:
              - {number: "2000", password: {env: A}}
              - {number: "6000", password: {env: B}}
              - {number: "1999", password: {env: C}}
            "#,
        ),
    ))
    .status(1)
    .stderr_lacks("extensions[0]")
    .stderr_has_line_with(
        "sites/hq.yaml:10:14: extensions[1].number: ",
        "extension 6000 does not fit the dial plan: 4 digits starting with 2-5",
    )
    .stderr_has_line("sites/hq.yaml:11:14: extensions[2].number: ");
}

#[test]
fn a_phone_naming_an_undeclared_extension_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: A}}
            phones:
              - mac: 0004f2000607
                model: IP650
                extension: "202"
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:10:16: phones[0].extension: ",
        "extension 202 is not declared under extensions",
    );
}

#[test]
fn two_phones_on_one_extension_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: A}}
            phones:
              - {mac: 0004f2000607, model: IP650, extension: "201"}
              - {mac: 0004f2000608, model: IP650, extension: "201"}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:9:50: phones[1].extension: ",
        "extension 201 is already on phones[0]",
    );
}

// --------------------------------------------------------------------- models

#[test]
fn a_model_written_as_people_write_it_is_read_as_its_name() {
    for spelling in ["ip 650", "650", "SoundPoint IP 650", "spip_650"] {
        Test::new()
            .site(
                "hq",
                &hq_file(&format!(
                    r#"
                    time: {{zone: pacific}}
                    extensions:
                      - {{number: "201", password: {{env: A}}}}
                    phones:
                      - {{mac: 0004f2000607, model: {spelling}, extension: "201"}}
                    "#
                )),
            )
            .args(["checklist", "--format", "text"])
            .run()
            .status(0)
            .stdout_contains("phone 0004f2000607, IP650");
    }
}

#[test]
fn a_models_key_written_as_people_write_it_is_read_as_its_name() {
    Test::new()
        .site(
            "hq",
            &hq_file(
                r#"
                time: {zone: pacific}
                models:
                  ip 650:
                    params: {up.backlight.idleIntensity: "1"}
                extensions:
                  - {number: "201", password: {env: A}}
                phones:
                  - {mac: 0004f2000607, model: IP650, extension: "201"}
                "#,
            ),
        )
        .args(["render", "--out", "out"])
        .env("A", "x")
        .run()
        .status(0)
        .then()
        .args(["validate"])
        .run()
        .status(0)
        .stderr_is_empty();
}

#[test]
fn a_bad_value_of_a_models_key_spelt_otherwise_is_shown_at_its_line() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            models:
              ip 650:
                params: {up.backlight.idleIntensity: [1]}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line("sites/hq.yaml:7:42: models.IP650.params.up.backlight.idleIntensity: ");
}

#[test]
fn an_unknown_model_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific}
            extensions:
              - {number: "201", password: {env: A}}
            phones:
              - mac: 0004f2000607
                model: IP550
                extension: "201"
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:9:12: phones[0].model: ",
        "\"IP550\" is not one of \"IP321\", \"IP331\", \"IP335\", \"IP560\", \"IP650\", \"IP6000\", \"IP7000\"",
    );
}

const IP6000_SITE: &str = r#"
    site: hq
    target: {url: dir:ftp-root}
    server: {address: 10.0.0.1}
    time: {zone: pacific}
    extensions:
      - {number: "201", password: {env: A}}
    phones:
      - mac: 0004f2000607
        model: IP6000
        extension: "201"
    "#;

#[test]
fn an_ip6000_is_a_warning_about_dhcp_option_66() {
    validate(Test::new().site("hq", IP6000_SITE))
        .status(0)
        .stdout_contains("sites/hq.yaml: ok: site hq")
        .stderr_has_line_with(
            "sites/hq.yaml:9:12: phones[0].model: warning: ",
            "DHCP option 66, not 160",
        );
}

#[test]
fn an_ip6000_is_an_error_under_strict() {
    validate_strict(Test::new().site("hq", IP6000_SITE))
        .status(1)
        .stdout_lacks("ok:")
        .stderr_has_line_with("sites/hq.yaml:9:12: phones[0].model: ", "DHCP option 66");
}

// ------------------------------------------------------------------- firmware

fn firmware_site(sip: &str, bootrom: &str) -> String {
    format!(
        "{HQ_HEAD}time: {{zone: pacific}}\nfirmware:\n  sip: \"{sip}\"\n  bootrom: \"{bootrom}\"\n"
    )
}

#[test]
fn sip_firmware_newer_than_3_3_3_is_an_error() {
    for sip in ["3.3.4", "3.4.0", "4.0.0", "3.3.3.1", "3.99999999999"] {
        validate(Test::new().site("hq", &firmware_site(sip, "4.2.1")))
            .status(1)
            .stderr_has_line_with(
                "sites/hq.yaml:6:8: firmware.sip: ",
                &format!("{sip} is newer than 3.3.3"),
            );
    }
}

#[test]
fn bootrom_newer_than_4_3_1_is_an_error() {
    for bootrom in ["4.3.2", "4.4", "5"] {
        validate(Test::new().site("hq", &firmware_site("3.2.7", bootrom)))
            .status(1)
            .stderr_has_line_with(
                "sites/hq.yaml:7:12: firmware.bootrom: ",
                &format!("{bootrom} is newer than 4.3.1"),
            );
    }
}

#[test]
fn other_supported_firmware_versions_are_warnings() {
    validate(Test::new().site("hq", &firmware_site("3.3.3", "4.3.1")))
        .status(0)
        .stderr_has_line_with(
            "sites/hq.yaml:6:8: firmware.sip: warning: ",
            "3.3.3 is not 3.2.7",
        )
        .stderr_has_line_with(
            "sites/hq.yaml:7:12: firmware.bootrom: warning: ",
            "4.3.1 is not 4.2.1",
        );
    validate(Test::new().site("hq", &firmware_site("3.1.0", "4.0")))
        .status(0)
        .stderr_has_line("sites/hq.yaml:6:8: firmware.sip: warning: ")
        .stderr_has_line("sites/hq.yaml:7:12: firmware.bootrom: warning: ");
    validate_strict(Test::new().site("hq", &firmware_site("3.3.3", "4.2.1")))
        .status(1)
        .stderr_has_line("sites/hq.yaml:6:8: firmware.sip: 3.3.3 is not 3.2.7");
}

#[test]
fn the_guides_firmware_versions_give_no_warning() {
    validate(Test::new().site("hq", &firmware_site("3.2.7", "4.2.1")))
        .status(0)
        .stderr_is_empty();
}

#[test]
fn a_firmware_file_named_like_a_rendered_file_is_an_error() {
    let sha = "ab".repeat(32);
    validate(Test::new().site(
        "hq",
        &format!(
            "{HQ_HEAD}time: {{zone: pacific}}\n\
             extensions: [{{number: \"201\", password: {{env: A}}}}]\n\
             firmware:\n  files:\n\
             \x20   - {{path: firmware/altigen.cfg, sha256: {sha}}}\n\
             \x20   - {{path: firmware/201.cfg, sha256: {sha}}}\n\
             \x20   - {{path: firmware/0004f2000607.cfg, sha256: {sha}}}\n\
             \x20   - {{path: firmware/0004f2000607-phone.cfg, sha256: {sha}}}\n\
             \x20   - {{path: a/sip.ld, sha256: {sha}}}\n\
             \x20   - {{path: b/sip.ld, sha256: {sha}}}\n\
             \x20   - {{path: firmware/.., sha256: {sha}}}\n"
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:8:14: firmware.files[0].path: ",
        "altigen.cfg is a file polyops renders",
    )
    .stderr_has_line_with("sites/hq.yaml:9:14: firmware.files[1].path: ", "201.cfg")
    .stderr_has_line_with(
        "sites/hq.yaml:10:14: firmware.files[2].path: ",
        "0004f2000607.cfg",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:11:14: firmware.files[3].path: ",
        "a phone writes",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:13:14: firmware.files[5].path: ",
        "sip.ld is already uploaded by firmware.files[4]",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:14:14: firmware.files[6].path: ",
        "must name a file",
    )
    .stderr_lacks("firmware.files[4].path:");
}

#[test]
fn a_firmware_file_name_that_could_leave_the_target_root_is_an_error() {
    let sha = "ab".repeat(32);
    validate(Test::new().site(
        "hq",
        &format!(
            "site: hq\ntarget: {{url: \"ftp://192.0.2.10/\"}}\nserver: {{address: 10.0.0.1}}\n\
             time: {{zone: pacific}}\n\
             firmware:\n  files:\n\
             \x20   - {{path: 'fw\\..\\..\\evil.ld', sha256: {sha}}}\n\
             \x20   - {{path: \"firmware/sip.ld\\r\\nDELE altigen.cfg\", sha256: {sha}}}\n"
        ),
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:7:14: firmware.files[0].path: ", "backslash")
    .stderr_has_line_with(
        "sites/hq.yaml:8:14: firmware.files[1].path: ",
        "control character",
    );
}

// ----------------------------------------------------------------------- time

#[test]
fn zone_and_gmt_offset_together_are_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time:
              zone: pacific
              gmt_offset: -28800
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:5:3: time: ",
        "give exactly one of time.zone and time.gmt_offset",
    );
}

#[test]
fn neither_zone_nor_gmt_offset_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time:
              sntp_server: time.nist.gov
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:5:3: time: ",
        "give exactly one of time.zone and time.gmt_offset",
    );
}

#[test]
fn a_gmt_offset_that_is_not_a_multiple_of_900_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time:
              gmt_offset: -28000
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:5:15: time.gmt_offset: ",
        "-28000 is not a multiple of 900",
    );
}

#[test]
fn a_gmt_offset_outside_minus_12_to_plus_14_hours_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {gmt_offset: 54000}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:4:20: time.gmt_offset: ", "more than 50400");
}

#[test]
fn an_unknown_zone_is_an_error() {
    validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: hawaii}
            "#,
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:4:14: time.zone: ",
        "\"hawaii\" is not one of",
    );
}

// ---------------------------------------------------------------- across sites

fn named_site(name: &str, url: &str) -> String {
    format!(
        "site: {name}\ntarget: {{url: \"{url}\"}}\nserver: {{address: 10.0.0.1}}\ntime: {{zone: pacific}}\n"
    )
}

#[test]
fn two_sites_with_the_same_target_is_an_error() {
    validate(
        Test::new()
            .site("a", &named_site("a", "ftp://192.0.2.10:21/prov/"))
            .site("b", &named_site("b", "ftp://192.0.2.10/prov")),
    )
    .status(1)
    .stderr_has_line_with(
        "sites/b.yaml:2:15: target.url: ",
        "target ftp://192.0.2.10/prov is already the target of site a",
    )
    .stderr_lacks("sites/a.yaml:");
}

#[test]
fn a_shared_target_is_reported_on_the_selected_site_naming_the_other() {
    Test::new()
        .site("a", &named_site("a", "ftp://192.0.2.10/prov"))
        .site("b", &named_site("b", "ftp://192.0.2.10/prov/"))
        .args(["validate", "a"])
        .run()
        .status(1)
        .stderr_has_line(
            "sites/a.yaml:2:15: target.url: target ftp://192.0.2.10/prov \
             is already the target of site b (also in sites/b.yaml)",
        );
}

#[test]
fn two_dir_targets_naming_the_same_folder_is_an_error() {
    validate(
        Test::new()
            .site("a", &named_site("a", "dir:out/root"))
            .site("b", &named_site("b", "dir:./out/x/../root")),
    )
    .status(1)
    .stderr_has_line_with(
        "sites/b.yaml:2:15: target.url: ",
        "already the target of site a",
    );
}

#[test]
fn different_folders_on_one_server_are_different_targets() {
    validate(
        Test::new()
            .site("a", &named_site("a", "ftp://192.0.2.10/a"))
            .site("b", &named_site("b", "ftp://192.0.2.10/b")),
    )
    .status(0)
    .stdout_contains("sites/a.yaml: ok")
    .stdout_contains("sites/b.yaml: ok");
}

#[test]
fn two_site_files_with_the_same_site_name_is_an_error() {
    validate(
        Test::new()
            .site("hq", &named_site("hq", "dir:one"))
            .site("hq-copy", &named_site("hq", "dir:two")),
    )
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:1:7: site: ",
        "site name hq is not unique (also in sites/hq-copy.yaml)",
    );
}

#[test]
fn names_and_labels_xml_cannot_carry_are_errors() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:root}
        server: {address: 10.0.0.1}
        time: {zone: pacific}
        extensions:
          - number: "201"
            name: "Front\tDesk"
            label: "Lobby\uFFFE"
            password: {env: A}
        "#,
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:7:11: extensions[0].name: ",
        "control characters",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:8:12: extensions[0].label: ",
        "control characters",
    );
}

/// The FTP user and the folder of the URL go on the FTP control connection,
/// where a line break would end the command and start another one.
#[test]
fn control_characters_in_the_ftp_user_or_path_are_errors() {
    for user in [
        r"PlcmSpIp\r\nDELE altigen.cfg",
        r"PlcmSpIp\n",
        r"Plcm\rSpIp",
        r"Plcm\0SpIp",
        r"Plcm\tSpIp",
        r"Plcm\u007fSpIp",
        r"Plcm\u0085SpIp",
    ] {
        validate(Test::new().site(
            "hq",
            &format!(
                "site: hq\ntarget:\n  url: ftp://192.0.2.10/\n  user: \"{user}\"\n\
                 server: {{address: 10.0.0.1}}\ntime: {{zone: pacific}}\n"
            ),
        ))
        .status(1)
        .stderr_has_line_with("sites/hq.yaml:4:9: target.user: ", "control character");
    }
    validate(Test::new().site(
        "hq",
        "site: hq\ntarget:\n  url: \"ftp://192.0.2.10/root\\0\"\n\
         server: {address: 10.0.0.1}\ntime: {zone: pacific}\n",
    ))
    .status(1)
    .stderr_has_line_with("sites/hq.yaml:3:8: target.url: ", "control character");
}

// ------------------------------------------------------------------ passwords

const LITERAL_PASSWORDS: &str = r#"
    site: hq
    target:
      url: ftp://192.0.2.10/
      password: PlcmSpIp-but-typed-in
    server: {address: 10.0.0.1}
    time: {zone: pacific}
    extensions:
      - number: "201"
        password: "1212"
    "#;

#[test]
fn a_literal_password_is_a_warning_that_never_shows_it() {
    validate(Test::new().site("hq", LITERAL_PASSWORDS))
        .status(0)
        .stderr_has_line_with(
            "sites/hq.yaml:4:13: target.password: warning: ",
            "literal password",
        )
        .stderr_has_line_with(
            "sites/hq.yaml:9:15: extensions[0].password: warning: ",
            "literal password",
        )
        .stderr_lacks("PlcmSpIp-but-typed-in")
        .stderr_lacks("1212");
}

#[test]
fn a_ca_file_on_a_target_that_is_not_ftps_is_a_warning_saying_why() {
    let site = |url: &str| {
        format!(
            "site: hq\ntarget:\n  url: {url}\n  ca_file: ca.pem\n  timeout_seconds: 1\nserver: {{address: 10.0.0.1}}\ntime: {{zone: pacific}}\n"
        )
    };
    for command in ["validate", "plan"] {
        Test::new()
            .site("hq", &site("ftp://127.0.0.1:1/"))
            .args([command])
            .run()
            .stderr_has_line_with(
                "sites/hq.yaml:4:12: target.ca_file: warning: ",
                "used only to check an ftps:// server's certificate, and this target is not ftps://: it is ignored",
            );
    }
    validate(Test::new().site("hq", &site("ftps://127.0.0.1:1/")))
        .status(0)
        .stderr_is_empty();
}

#[test]
fn a_literal_password_is_an_error_under_strict() {
    let out = validate_strict(Test::new().site("hq", LITERAL_PASSWORDS))
        .status(1)
        .stderr_has_line("sites/hq.yaml:4:13: target.password: literal password")
        .stderr_has_line("sites/hq.yaml:9:15: extensions[0].password: literal password")
        .stderr_contains("2 errors");
    assert_eq!(out.diagnostics().len(), 2);
}

#[test]
fn a_password_that_is_neither_string_env_nor_secret_is_an_error_without_its_value() {
    validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:root}
        server: {address: 10.0.0.1}
        time: {zone: pacific}
        extensions:
          - number: "201"
            password: {vault: topsecret-path}
        "#,
    ))
    .status(1)
    .stderr_has_line("sites/hq.yaml:7:15: extensions[0].password: ")
    .stderr_lacks("topsecret-path");
}

// -------------------------------------------------------------------- secrets

/// A secret at every place a site names one: an extension's password and
/// the FTP password from the environment, another extension's password and
/// password parameters at site and phone level from the secrets file.
const EVERY_SECRET: &str = r#"
    site: hq
    target: {url: dir:root, password: {env: FTP_PASSWORD}}
    server: {address: 10.0.0.1}
    time: {zone: pacific}
    params: {dir.corp.password: {secret: corp}}
    extensions:
      - {number: "201", password: {env: EXT_201_PASSWORD}}
      - {number: "202", password: {secret: ext202}}
    phones:
      - mac: 0004f2000607
        model: IP650
        extension: "201"
        params: {apps.push.password: {secret: web}}
    "#;

/// Values that must never be printed, whatever fails.
const SET: [&str; 4] = ["Env-Pw-201-x", "Ftp-Pw-x", "File-Pw-202-x", "Corp-Pw-x"];

fn every_secret(ext_201: &str, web: &str) -> Test {
    Test::new()
        .site("hq", EVERY_SECRET)
        .env("EXT_201_PASSWORD", ext_201)
        .env("FTP_PASSWORD", SET[1])
        .secrets(&format!(
            "ext202: {}\ncorp: {}\nweb: \"{web}\"\n",
            SET[2], SET[3]
        ))
}

fn prints_no_secret(out: &Output) {
    for s in SET {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s} was printed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

/// A CI secret store hands an undefined secret over as an empty string;
/// written as `reg.1.auth.password=""`, it stops the phone registering.
#[test]
fn a_secret_set_but_empty_is_an_error_naming_it_in_validate_plan_and_apply() {
    for args in [
        &["--strict", "validate"][..],
        &["plan"][..],
        &["apply", "--auto-approve"][..],
    ] {
        let out = every_secret("", "")
            .args(args)
            .run()
            .status(1)
            .stderr_has_line("error: site hq: extensions[0].password: environment variable EXT_201_PASSWORD is set but empty")
            .stderr_has_line("error: site hq: phones[0].params.apps.push.password: secrets file key web of secrets.yaml is set but empty")
            .stdout_lacks("ok: site hq");
        prints_no_secret(&out);
        assert!(
            !out.path().join("root").exists(),
            "{args:?} wrote the target"
        );
    }
}

#[test]
fn an_empty_ftp_password_or_site_parameter_is_an_error_too() {
    let out = Test::new()
        .site("hq", EVERY_SECRET)
        .env("EXT_201_PASSWORD", SET[0])
        .env("FTP_PASSWORD", "")
        .secrets(&format!("ext202: \"\"\ncorp: ''\nweb: {}\n", SET[3]))
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line("error: site hq: target.password: environment variable FTP_PASSWORD is set but empty")
        .stderr_has_line("error: site hq: extensions[1].password: secrets file key ext202 of secrets.yaml is set but empty")
        .stderr_has_line("error: site hq: params.dir.corp.password: secrets file key corp of secrets.yaml is set but empty");
    prints_no_secret(&out);
}

/// `validate` runs where the secrets need not be (a merge request's CI
/// job): a secret that is not set is for plan and apply to report.
#[test]
fn validate_needs_no_secret_to_be_set_but_every_one_set_to_be_usable() {
    Test::new()
        .site("hq", EVERY_SECRET)
        .args(["--strict", "validate"])
        .run()
        .status(0)
        .stdout_is("sites/hq.yaml: ok: site hq, 2 extensions, 1 phones\n");
    let out = every_secret(SET[0], "Web-Pw-x")
        .args(["--strict", "validate"])
        .run()
        .status(0);
    prints_no_secret(&out);
}

// ------------------------------------------------------ all errors in one run

#[test]
fn all_schema_errors_of_a_file_are_reported_in_one_run() {
    let out = validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:root, user: 7}
        server: {address: 10.0.0.1, sip: 5060}
        time: {zone: pacific}
        phones:
          - {mac: 0004f2000607, extension: "201"}
        "#,
    ))
    .status(1)
    .stderr_contains("error: 3 errors in site files");
    assert_eq!(
        out.diagnostics(),
        [
            "sites/hq.yaml:2:31: target.user: expected string, found an integer \
             (quote it: YAML reads unquoted digits as a number)",
            "sites/hq.yaml:3:29: server.sip: unknown field",
            "sites/hq.yaml:6:5: phones[0].model: missing required field",
        ]
    );
}

#[test]
fn rule_errors_are_reported_beside_the_schema_errors_of_a_readable_file() {
    let out = validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: pacific, zonee: eastern}
            extensions:
              - {number: 201, password: {env: A}}
            phones:
              - {mac: 0004f20006, model: IP650, extension: "201"}
              - {mac: 0004f2000608, model: IP650, extension: "202"}
            "#,
        ),
    ))
    .status(1)
    .stderr_contains("error: 4 errors in site files");
    assert_eq!(
        out.diagnostics(),
        [
            "sites/hq.yaml:4:23: time.zonee: unknown field; did you mean zone?",
            "sites/hq.yaml:6:14: extensions[0].number: expected string, found an integer \
             (quote it: YAML reads unquoted digits as a number)",
            "sites/hq.yaml:8:11: phones[0].mac: invalid MAC address: expected 12 hex digits, found 10",
            "sites/hq.yaml:9:50: phones[1].extension: extension 202 is not declared under extensions",
        ]
    );
}

#[test]
fn rules_wait_for_a_schema_error_that_leaves_a_value_unreadable() {
    let out = validate(Test::new().site(
        "hq",
        &hq_file(
            r#"
            time: {zone: utc}
            phones:
              - {mac: 0004f20006, model: IP650, extension: "201"}
            "#,
        ),
    ))
    .status(1);
    let lines = out.diagnostics();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sites/hq.yaml:4:14: time.zone: "),
        "{lines:?}"
    );
}

#[test]
fn all_rule_errors_of_a_file_are_reported_in_one_run() {
    let out = validate(Test::new().site(
        "hq",
        r#"
        site: hq
        target: {url: dir:root}
        server: {address: 10.0.0.1}
        time: {zone: pacific}
        extensions:
          - {number: "901", password: {env: A}}
        phones:
          - {mac: 0004f20006, model: IP650, extension: "201"}
        "#,
    ))
    .status(1)
    .stderr_contains("error: 3 errors in site files");
    let lines = out.diagnostics();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("sites/hq.yaml:6:14: extensions[0].number: "));
    assert!(lines[1].starts_with("sites/hq.yaml:8:11: phones[0].mac: "));
    assert!(lines[2].starts_with("sites/hq.yaml:8:48: phones[0].extension: "));
}

#[test]
fn errors_in_several_files_are_all_reported() {
    let out = validate(Test::new().site("a", "site: a\n").site(
        "b",
        "site: b\ntarget: {url: dir:b}\nserver: {address: x}\ntime: {}\n",
    ))
    .status(1);
    let lines = out.diagnostics();
    assert!(lines
        .iter()
        .any(|l| l.starts_with("sites/a.yaml:1:1: target: ")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("sites/b.yaml:4:7: time: ")));
}

// ------------------------------------------------------------- broken files

fn assert_broken(bytes: &[u8], line_prefix: &str) {
    validate(Test::new().site_bytes("hq", bytes))
        .status(1)
        .stderr_has_line(line_prefix)
        .stderr_contains("1 error in site files");
}

#[test]
fn malformed_yaml_is_an_error_with_its_line() {
    assert_broken(b"site: hq\ntarget: [dir:x\nserver: {}\n", "sites/hq.yaml:");
    assert_broken(
        b"site: hq\nserver:\n  address: \"10.0.0.1\n",
        "sites/hq.yaml:",
    );
    assert_broken(b"site: hq\n  target: x\n", "sites/hq.yaml:2:");
}

#[test]
fn an_empty_file_is_an_error() {
    assert_broken(b"", "sites/hq.yaml:1:1: the file is empty");
    assert_broken(
        b"# just a comment\n\n",
        "sites/hq.yaml:1:1: the file is empty",
    );
}

#[test]
fn a_duplicate_key_is_an_error_at_the_second_one() {
    assert_broken(
        b"site: hq\ntarget: {url: dir:x}\nsite: hq2\n",
        "sites/hq.yaml:3:1: duplicate key: site",
    );
    assert_broken(
        b"site: hq\ntarget:\n  url: dir:x\n  url: dir:y\n",
        "sites/hq.yaml:4:3: duplicate key: target.url",
    );
}

#[test]
fn a_tab_in_indentation_is_an_error_at_the_tab() {
    // The YAML scanner marks most of these at the scalar or block before
    // the tab, or just past it; the diagnostic names the tab itself.
    for (text, at) in [
        (&b"site: hq\ntarget:\n\turl: dir:x\n"[..], "3:1"),
        (
            b"site: hq\ntarget:\n  url: dir:x\nserver:\n  address: 10.0.0.1\n\tsip_port: 5060\n",
            "6:1",
        ),
        (b"site: hq\ntarget:\n  url: dir:x\n  \tuser: a\n", "4:3"),
        (b"site: hq\nserver:\n  address: |\n\tx\n", "4:1"),
        (b"site: hq\nserver:\n  address: \"a\n\tb\"\n", "4:1"),
        (b"site: hq\nphones:\n  - a\n\t- b\n", "4:1"),
        ("site: hq\nname: Zo\u{eb}\n\tb: 2\n".as_bytes(), "3:1"),
    ] {
        validate(Test::new().site_bytes("hq", text))
            .status(1)
            .stderr_has_line_with(&format!("sites/hq.yaml:{at}: "), "tab");
    }
}

#[test]
fn a_document_that_is_not_a_mapping_is_an_error() {
    for text in ["- site: hq\n", "just words\n", "42\n", "~\n"] {
        assert_broken(
            text.as_bytes(),
            "sites/hq.yaml:1:1: a site file must be a YAML mapping",
        );
    }
}

#[test]
fn several_documents_in_one_file_is_an_error() {
    assert_broken(b"site: a\n---\nsite: b\n", "sites/hq.yaml:2:");
}

/// Windows editors (Notepad, older Visual Studio) start UTF-8 files with a
/// byte order mark; it is not part of the first key, nor a column.
#[test]
fn a_byte_order_mark_at_the_start_is_accepted() {
    validate(Test::new().site_bytes("hq", format!("\u{feff}{}", named_site("hq", "dir:hq"))))
        .status(0)
        .stdout_is("sites/hq.yaml: ok: site hq, 0 extensions, 0 phones\n")
        .stderr_is_empty();
    assert_broken(
        format!("\u{feff}sitee: hq\n{}", named_site("hq", "dir:hq")).as_bytes(),
        "sites/hq.yaml:1:1: sitee: unknown field",
    );
}

#[test]
fn invalid_utf8_is_an_error_at_the_first_bad_byte() {
    assert_broken(
        b"site: hq\nserver: {address: caf\xe9}\n",
        "sites/hq.yaml:2:22: the file is not valid UTF-8",
    );
}

#[test]
fn an_alias_bomb_is_an_error_not_a_hang() {
    let mut text = String::from("site: hq\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    validate(Test::new().site_bytes("hq", text))
        .status(1)
        .stderr_has_line_with("sites/hq.yaml:", "aliases expand to more than");
}

/// Few aliases of one big string are as bad as a bomb of many small values:
/// a 1 MiB string aliased 20,000 times would need 20 GB.
#[test]
fn aliases_of_a_big_string_are_an_error_at_the_alias_not_out_of_memory() {
    let mut text = format!("site: hq\na: &x \"{}\"\nb:\n", "x".repeat(1 << 20));
    for _ in 0..20_000 {
        text.push_str("  - *x\n");
    }
    // The anchor's own copy and 63 aliases make 64 MiB; the 64th alias,
    // on line 3 + 64, is one too many.
    validate(Test::new().site_bytes("hq", text))
        .status(1)
        .stderr_has_line_with(
            "sites/hq.yaml:67:5: ",
            "anchors and aliases expand to more than 64 MiB of text",
        );
}

#[test]
fn a_broken_file_does_not_hide_the_others() {
    validate(
        Test::new()
            .site_bytes("broken", "site: [\n")
            .site("fine", &named_site("fine", "dir:fine")),
    )
    .status(1)
    .stderr_has_line("sites/broken.yaml:")
    .stderr_lacks("sites/fine.yaml:");
}

// ---------------------------------------------------------- choosing sites

fn two_sites() -> Test {
    Test::new()
        .site("alpha-file", &named_site("alpha", "dir:alpha"))
        .site(
            "beta",
            "site: beta\ntarget: {url: dir:beta}\nserver: {address: 10.0.0.1}\n",
        )
}

#[test]
fn a_site_can_be_selected_by_its_name() {
    two_sites()
        .args(["validate", "alpha"])
        .run()
        .status(0)
        .stdout_is("sites/alpha-file.yaml: ok: site alpha, 0 extensions, 0 phones\n")
        .stderr_is_empty();
}

#[test]
fn a_site_can_be_selected_by_its_file_name_or_path() {
    two_sites()
        .args(["validate", "alpha-file"])
        .run()
        .status(0)
        .stdout_contains("site alpha");
    two_sites()
        .args(["validate", "sites/alpha-file.yaml"])
        .run()
        .status(0)
        .stdout_is("sites/alpha-file.yaml: ok: site alpha, 0 extensions, 0 phones\n")
        .stderr_is_empty();
}

#[test]
fn a_site_file_outside_sites_can_be_named_by_path() {
    Test::new()
        .file("elsewhere/lab.yaml", named_site("lab", "dir:lab"))
        .args(["validate", "elsewhere/lab.yaml"])
        .run()
        .status(0)
        .stdout_is("elsewhere/lab.yaml: ok: site lab, 0 extensions, 0 phones\n");
}

#[test]
fn no_site_named_means_every_site() {
    two_sites()
        .args(["validate"])
        .run()
        .status(1)
        .stderr_has_line_with("sites/beta.yaml:1:1: time: ", "missing required field");
    Test::new()
        .site("alpha-file", &named_site("alpha", "dir:alpha"))
        .site("beta", &named_site("beta", "dir:beta"))
        .args(["validate"])
        .run()
        .status(0)
        .stdout_is(
            "sites/alpha-file.yaml: ok: site alpha, 0 extensions, 0 phones\n\
             sites/beta.yaml: ok: site beta, 0 extensions, 0 phones\n",
        );
}

#[test]
fn an_unknown_site_name_is_an_error() {
    two_sites()
        .args(["validate", "gamma"])
        .run()
        .status(1)
        .stderr_contains("no site named gamma")
        .stderr_lacks("did you mean")
        .stdout_is("");
}

#[test]
fn a_misspelt_site_name_gets_the_nearest_one() {
    two_sites()
        .args(["plan", "alpah"])
        .run()
        .status(1)
        .stderr_contains("error: no site named alpah in sites; did you mean alpha?");
}

#[test]
fn a_missing_site_file_path_is_an_error() {
    two_sites()
        .args(["validate", "sites/gamma.yaml"])
        .run()
        .status(1)
        .stderr_contains("sites/gamma.yaml");
}

#[test]
fn the_sites_option_names_another_folder() {
    Test::new()
        .file("config/phones/hq.yaml", named_site("hq", "dir:hq"))
        .args(["--sites", "config/phones", "validate"])
        .run()
        .status(0)
        .stdout_is("config/phones/hq.yaml: ok: site hq, 0 extensions, 0 phones\n");
}

/// A site file in a subfolder, or a folder named like a site file, would
/// otherwise be skipped without a word: a site nobody plans.
#[test]
fn a_site_file_in_a_subfolder_is_a_warning_naming_it() {
    let test = || {
        Test::new()
            .site("hq", &named_site("hq", "dir:hq"))
            .file("sites/eu/paris.yaml", named_site("paris", "dir:paris"))
            .file("sites/eu/fr/lyon.yml", named_site("lyon", "dir:lyon"))
            .file("sites/eu/notes.txt", "not a site\n")
    };
    test()
        .args(["validate"])
        .run()
        .status(0)
        .stdout_is("sites/hq.yaml: ok: site hq, 0 extensions, 0 phones\n")
        .stderr_has_line(
            "sites/eu/paris.yaml: warning: site files in subfolders of sites/ are not read; move it to sites/",
        )
        .stderr_has_line("sites/eu/fr/lyon.yml: warning: site files in subfolders")
        .stderr_lacks("notes.txt");
    test()
        .args(["--strict", "validate"])
        .run()
        .status(1)
        .stderr_has_line("sites/eu/paris.yaml: site files in subfolders");
    // Naming sites checks those, not the folder.
    test()
        .args(["validate", "hq"])
        .run()
        .status(0)
        .stderr_is_empty();
}

#[test]
fn a_folder_named_like_a_site_file_is_a_warning_naming_it() {
    Test::new()
        .site("hq", &named_site("hq", "dir:hq"))
        .file("sites/old.yaml/README", "moved\n")
        .args(["validate"])
        .run()
        .status(0)
        .stdout_is("sites/hq.yaml: ok: site hq, 0 extensions, 0 phones\n")
        .stderr_has_line("sites/old.yaml: warning: a folder, not a site file; it is not read");
}

/// docs/many-sites.md: a name starting with `_` is not a site (`_defaults.yaml`), nor
/// is a hidden one; neither is worth a warning.
#[test]
fn subfolders_and_files_starting_with_an_underscore_or_a_dot_give_no_warning() {
    Test::new()
        .site("hq", &named_site("hq", "dir:hq"))
        .file(
            "sites/_archive/paris.yaml",
            named_site("paris", "dir:paris"),
        )
        .file("sites/eu/_defaults.yaml", "time: {zone: central}\n")
        .file("sites/_old.yaml/x", "x\n")
        .file("sites/.git/hq.yaml", "x\n")
        .args(["validate"])
        .run()
        .status(0)
        .stderr_is_empty();
}

#[test]
fn an_empty_sites_folder_is_an_error() {
    Test::new()
        .args(["validate"])
        .run()
        .status(1)
        .stderr_contains("no site files");
}

#[test]
fn a_firmware_name_ending_like_a_temporary_upload_or_too_long_for_one_is_an_error() {
    let sha = "ab".repeat(32);
    let long = "x".repeat(250);
    validate(Test::new().site(
        "hq",
        &format!(
            "{HQ_HEAD}time: {{zone: pacific}}\n\
             firmware:\n  files:\n\
             \x20   - {{path: firmware/sip.ld.polyops-tmp, sha256: {sha}}}\n\
             \x20   - {{path: firmware/{long}, sha256: {sha}}}\n"
        ),
    ))
    .status(1)
    .stderr_has_line_with(
        "sites/hq.yaml:7:14: firmware.files[0].path: ",
        "must not end in .polyops-tmp",
    )
    .stderr_has_line_with(
        "sites/hq.yaml:8:14: firmware.files[1].path: ",
        "longer than 243 bytes",
    );
}
