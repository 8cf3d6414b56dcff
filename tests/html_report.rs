//! docs/outputs.md "HTML": `plan` and `drift --format html` write one
//! self-contained page, loaded here in a real browser (headless Chromium,
//! network off). Whatever a site file or a target holds — markup, an
//! event handler, a `</details>` that would close a section early, a
//! right-to-left override — shows as text, never as an element.

use crate::browser;
use crate::common::Test;

/// What a hostile site file and a hand-edited target carry into the page.
const SCRIPT: &str = "</details><script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(2)>";
const RLO: char = '\u{202e}';

/// Site `hq` on the folder `ftp-root` (with the firmware package), its
/// display name hostile.
fn hostile_site() -> Test {
    let name = format!("{SCRIPT}{IMG}{RLO}gnp.exe");
    let yaml = format!(
        r#"
        site: hq
        target: {{url: "dir:ftp-root"}}
        server: {{address: 10.100.2.127}}
        time: {{zone: pacific}}
        extensions:
          - {{number: "201", name: '{name}', password: {{env: P201}}}}
        phones:
          - {{mac: 0004f2000607, model: IP650, extension: "201"}}
        "#
    );
    Test::new()
        .site("hq", &yaml)
        .env("P201", "s3cret-201")
        .firmware_package("ftp-root")
}

/// The elements a report page may hold: nothing that runs, loads or
/// embeds anything.
const ALLOWED: [&str; 25] = [
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "thead", "tbody",
    "tr", "th", "td", "a", "code", "details", "summary", "pre", "span", "ul", "li", "section",
    "strong",
];

/// The checks every hostile page must pass in the browser: only allowed
/// elements, no event handler, nothing to fetch, every hostile string
/// there as text, no raw right-to-left override; and the screenshot.
pub(crate) fn assert_inert(page: &str, work: &std::path::Path, shot: &str) -> Option<String> {
    let chromium = browser::chromium()?;
    let file = work.join("report.html");
    std::fs::write(&file, page).expect("page written");
    let loaded = browser::load(&chromium, &file, work);
    let elements = browser::elements(&loaded.dom);
    assert!(
        elements.iter().any(|e| e.name == "details"),
        "{}",
        loaded.dom
    );
    for e in &elements {
        assert!(
            ALLOWED.contains(&e.name.as_str()),
            "element <{}> in\n{}",
            e.name,
            loaded.dom
        );
        for (name, value) in &e.attributes {
            assert!(!name.starts_with("on"), "handler {name} on <{}>", e.name);
            assert!(name != "src", "src on <{}>", e.name);
            if name == "href" {
                assert!(value.starts_with('#'), "link to {value}");
            }
        }
    }
    let text = browser::text(&loaded.dom);
    assert!(
        !text.contains(RLO),
        "a raw right-to-left override in the page"
    );
    let png = std::fs::read(&loaded.screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    // Kept where CI can pick it up as an artifact.
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(shot);
    let _ = std::fs::copy(&loaded.screenshot, keep);
    Some(text)
}

#[test]
fn a_hostile_site_and_target_stay_text_in_the_drift_page_in_a_browser() {
    let applied = hostile_site()
        .args(["apply", "--auto-approve"])
        .run()
        .status(0);
    // A hand edit on the target: a comment and a label that would be
    // markup if they were let through.
    let edited = String::from_utf8(applied.read("ftp-root/201.cfg")).expect("UTF-8");
    let edited = edited.replace(
        "reg.1.label=\"201\"",
        &format!(
            "reg.1.label=\"{}\"",
            IMG.replace('"', "&quot;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        ),
    ) + &format!("<!-- {SCRIPT} {RLO} -->\n");
    let out = applied
        .then()
        .file("ftp-root/201.cfg", edited)
        .args(["drift", "--format", "html"])
        .run()
        .status(2);
    assert!(out.stdout.starts_with("<!DOCTYPE html>"), "{}", out.stdout);
    assert!(!out.stdout.contains("s3cret-201"), "a secret in the page");
    let Some(text) = assert_inert(&out.stdout, out.path(), "html-drift.png") else {
        return;
    };
    // The comment's line in the diff, the label's old value in the
    // parameter table, the display name in the rendered side.
    assert!(
        text.contains(&format!("<!-- {SCRIPT} \\u{{202e}} -->")),
        "{text}"
    );
    assert!(text.contains(IMG), "{text}");
    assert!(
        text.contains("changed on the target since polyops wrote it"),
        "{text}"
    );
}

#[test]
fn the_plan_page_opens_with_a_table_of_every_site_then_each_site_collapsed() {
    let out = hostile_site()
        .site(
            "branch",
            "site: branch\ntarget: {url: \"dir:branch-root\"}\nserver: {address: 10.0.0.1}\ntime: {zone: eastern}\nextensions: [{number: \"301\", password: {env: NOT_SET}}]\nphones: []\n",
        )
        .args(["plan", "--format", "html"])
        .run()
        .status(1);
    let page = &out.stdout;
    let table = page
        .find("<table class=\"sites\">")
        .expect("a table of sites");
    let first_section = page.find("<section").expect("a section per site");
    assert!(table < first_section, "{page}");
    // The failed site is in the table with its error, and has a section.
    assert!(
        page.contains("<a href=\"#site-branch\">branch</a>"),
        "{page}"
    );
    assert!(page.contains("NOT_SET is not set"), "{page}");
    assert!(page.contains("<section id=\"site-hq\">"), "{page}");
    // Every changed file of hq is collapsed.
    assert_eq!(
        page.matches("<details class=\"file\">").count(),
        3,
        "{page}"
    );
    let Some(text) = assert_inert(page, out.path(), "html-plan.png") else {
        return;
    };
    assert!(text.contains("3 to create"), "{text}");
}

#[test]
fn the_page_needs_no_script_and_may_fetch_nothing() {
    let out = hostile_site()
        .args(["plan", "--format", "html"])
        .run()
        .status(0);
    let page = &out.stdout;
    assert!(
        page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""),
        "a policy that forbids scripts and fetches: {page}"
    );
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<link"), "{page}");
    assert!(!page.contains("s3cret-201"), "a secret in the page");
}
