//! `polyops checklist`: the PBX-side steps of guide §3 per extension, §8 once
//! per system, the §10 limitations; markdown task lists or plain text; no
//! password in either, and no network.

use crate::common;

use common::Test;

const LAB: &str = r#"
    site: lab
    target:
      url: ftp://192.0.2.1:9/
      password: {env: FTP_PASSWORD}
    server:
      address: 10.100.2.127
    time:
      zone: eastern
    extensions:
      - number: "201"
        name: Front Desk
        password: {env: EXT_201_PASSWORD}
      - number: "202"
        name: "[Lobby](http://x) <b>"
        password: "Literal-9911"
      - number: "203"
        password: {secret: ext203}
    phones:
      - mac: 0004f2000607
        model: IP650
        extension: "201"
      - mac: 0004f2000608
        model: IP331
        extension: "202"
    "#;

const SECRETS: [&str; 4] = ["Env-Pw-201", "Literal-9911", "File-Pw-203", "Ftp-Pw-x"];

fn checklist(format: &str) -> common::Output {
    Test::new()
        .site("lab", LAB)
        .secrets("ext203: File-Pw-203\n")
        .env("EXT_201_PASSWORD", SECRETS[0])
        .env("FTP_PASSWORD", SECRETS[3])
        .args(["checklist", "lab", "--format", format])
        .run()
        .status(0)
}

fn no_password(out: &common::Output) {
    for s in SECRETS {
        assert!(!out.stdout.contains(s), "stdout leaks {s}:\n{}", out.stdout);
        assert!(!out.stderr.contains(s), "stderr leaks {s}:\n{}", out.stderr);
    }
}

#[test]
fn markdown_has_a_checkbox_per_extension_and_setting_naming_the_guides_section() {
    let out = checklist("markdown");
    no_password(&out);
    let md = &out.stdout;
    assert!(md.starts_with("# MaxCS checklist: site lab\n"), "{md}");
    let boxes: Vec<&str> = md.lines().filter(|l| l.starts_with("- [ ] ")).collect();
    // 5 once per system, 6 per extension.
    assert_eq!(boxes.len(), 5 + 3 * 6, "{md}");
    assert!(boxes.iter().all(|b| b.contains("(§")), "{md}");
    for setting in [
        "Enable IP Extension",
        "Dynamic IP Address",
        "Enable 3rd Party SIP Device",
        "SIP Registration Password",
        "Enable Multiple Call Waiting",
        "Enable SIP Telephony Service",
    ] {
        assert_eq!(
            boxes.iter().filter(|b| b.contains(setting)).count(),
            3,
            "{setting}: {md}"
        );
    }
    for system in [
        "DTMF Delivery to RFC 2833",
        "SIP Early Media to Disable",
        "codec profile of their own",
    ] {
        assert_eq!(
            boxes.iter().filter(|b| b.contains(system)).count(),
            1,
            "{system}"
        );
    }
    assert!(md.contains("## Extension 201: Front Desk (phone 0004f2000607, IP650)"));
    assert!(md.contains("## Extension 203: 203 (no phone declared yet)"));
    // A name cannot become a link or a tag.
    assert!(md.contains("\\[Lobby\\]\\(http://x\\) \\<b\\>"), "{md}");
    // Where each password comes from, never what it is.
    assert!(md
        .contains("******** (extensions[0].password, from environment variable EXT_201_PASSWORD)"));
    assert!(md.contains("******** (the literal extensions[1].password in the site file)"));
    assert!(md.contains("******** (extensions[2].password, from secrets file key ext203)"));
    assert!(
        md.contains("- **Password synchronization** (§10.1): "),
        "{md}"
    );
    assert!(md.contains("change its password in the site file"), "{md}");
}

#[test]
fn text_has_boxes_and_no_markdown() {
    let out = checklist("text");
    no_password(&out);
    let text = &out.stdout;
    assert!(text.starts_with("MaxCS checklist: site lab\n"), "{text}");
    assert_eq!(text.matches("\n  [ ] ").count(), 5 + 3 * 6, "{text}");
    assert!(!text.contains("- [ ]") && !text.contains("## "), "{text}");
    assert!(text.contains("\nExtension 202: [Lobby](http://x) <b> (phone 0004f2000608, IP331)\n"));
    assert!(text.contains("\nLimitations that apply\n  - Password synchronization (§10.1): "));
}

#[test]
fn checklist_needs_no_secret_and_no_network() {
    // No variables, no secrets file, an unreachable target: still a checklist.
    Test::new()
        .site("lab", LAB)
        .args(["checklist"])
        .run()
        .status(0)
        .stdout_contains("- [ ] ");
}

/// A ticket made from the markdown must ping nobody: a mention in a name
/// or a secrets-file key from the site file is code there, and stays as
/// it is in text.
#[test]
fn mentions_from_the_site_file_ping_nobody_in_markdown() {
    let lab = LAB
        .replace("name: Front Desk", "name: \"Front Desk @everyone\"")
        .replace("{secret: ext203}", "{secret: \"@here\"}");
    let run = |format: &str| {
        Test::new()
            .site("lab", &lab)
            .args(["checklist", "lab", "--format", format])
            .run()
            .status(0)
    };
    let md = run("markdown").stdout;
    assert!(
        md.contains("## Extension 201: Front Desk `@everyone` (phone 0004f2000607, IP650)"),
        "{md}"
    );
    assert!(md.contains("from secrets file key `@here`)"), "{md}");
    assert!(
        md.match_indices('@').all(|(i, _)| md[..i].ends_with('`')),
        "a bare mention:\n{md}"
    );
    let text = run("text").stdout;
    assert!(
        text.contains("Extension 201: Front Desk @everyone (phone"),
        "{text}"
    );
    assert!(text.contains("from secrets file key @here)"), "{text}");
}
