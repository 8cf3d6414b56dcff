//! docs/phones.md: `polyops phones`, did each phone take what was applied.
//! The end-to-end scenario runs emulated phones (tests/emulated_phone)
//! against every FTP server of `ftp_support` and sipp as the phone that
//! answers a NOTIFY; the other scenarios pin each status, the years of
//! log lines, the times' precision and what a hostile log gets (on `dir:`
//! targets, and on a scripted server for the listing's times).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::Test;
use crate::emulated_phone::{line_time, set_time, EmulatedPhone};
use crate::ftp_support::{self, FtpServer, Work};
use crate::resync::{free_port, Sipp};
use crate::scripted::{Script, Scripted};
use crate::tools;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const MACS: [&str; 3] = ["0004f2000001", "0004f2000002", "0004f2000003"];

fn now() -> i64 {
    polyops::clock::now()
}

/// Each phone's status (and the file its status names) in a JSON report.
fn statuses(json: &str) -> BTreeMap<String, (String, String)> {
    let v: Value = serde_json::from_str(json).expect("the report is JSON");
    v["sites"][0]["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .map(|p| {
            let status = p["status"].as_str().expect("a status").to_owned();
            let file = match status.as_str() {
                "error" => p["error_file"].as_str(),
                _ => p["newest_change"]["file"].as_str(),
            };
            (
                p["mac"].as_str().expect("a mac").to_owned(),
                (status, file.unwrap_or_default().to_owned()),
            )
        })
        .collect()
}

fn expect(got: &BTreeMap<String, (String, String)>, want: [(&str, &str); 3]) {
    let want: BTreeMap<String, (String, String)> = MACS
        .iter()
        .zip(want)
        .map(|(m, (s, f))| ((*m).to_owned(), (s.to_owned(), f.to_owned())))
        .collect();
    assert_eq!(got, &want);
}

// ------------------------------------------------------------ end to end

/// The site of the end-to-end scenario: three phones, each with an
/// address of its own on the loopback network. `sntp` (in `altigen.cfg`,
/// which every phone reads) and the names of extensions 201 and 202 are
/// what the versions of the site change.
fn e2e_site(server: &FtpServer, sip_port: u16, sntp: &str, names: [&str; 2]) -> String {
    format!(
        "site: hq\n\
         target:\n  url: {}\n  user: {}\n  password: {{env: FTP_PASSWORD}}\n\
         server: {{address: 10.0.0.1, sip_port: {sip_port}}}\n\
         time: {{gmt_offset: 0, daylight_saving: false, sntp_server: {sntp}}}\n\
         extensions:\n\
         \x20 - {{number: \"201\", name: \"{}\", password: {{env: EXT_PASSWORD}}}}\n\
         \x20 - {{number: \"202\", name: \"{}\", password: {{env: EXT_PASSWORD}}}}\n\
         \x20 - {{number: \"203\", password: {{env: EXT_PASSWORD}}}}\n\
         phones:\n\
         \x20 - {{mac: {}, model: IP650, extension: \"201\", address: 127.0.0.1}}\n\
         \x20 - {{mac: {}, model: IP331, extension: \"202\", address: 127.0.0.2}}\n\
         \x20 - {{mac: {}, model: IP7000, extension: \"203\", address: 127.0.0.3}}\n",
        server.url, server.user, names[0], names[1], MACS[0], MACS[1], MACS[2]
    )
}

/// Set the time of every file at the root but the phones' logs.
fn set_all(root: &Path, at: i64) {
    for entry in std::fs::read_dir(root).expect("the root") {
        let path = entry.expect("an entry").path();
        let log = path.to_string_lossy().ends_with(".log");
        if path.is_file() && !log {
            set_time(&path, at);
        }
    }
}

/// A phone boots at `at`: its boot log is dated `at`, its app log ten
/// seconds later, as the server would date them.
fn boot(server: &FtpServer, phone: &EmulatedPhone, at: i64) {
    phone.boot(at);
    set_time(&server.root.join(format!("{}-boot.log", phone.mac)), at);
    set_time(&server.root.join(format!("{}-app.log", phone.mac)), at + 10);
}

fn phones_json(w: &Work, code: i32) -> BTreeMap<String, (String, String)> {
    let run = w.run(&["phones", "--format", "json"]);
    run.expect(code);
    statuses(&run.stdout)
}

fn apply(w: &Work) {
    w.run(&["apply", "--auto-approve"]).expect(0);
}

/// apply → pending → the phones boot → current; a changed extension →
/// pending for that phone only; a missing file → the phone logs an error
/// → error naming the file; `resync --pending` reaches sipp for the
/// pending phone only.
fn last_hop(server: &FtpServer, sipp: Option<&Path>) {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", &server.password);
    w.secret("EXT_PASSWORD", "Ext-s3cret-e2e");
    ftp_support::firmware_package(&server.root);
    let port = free_port();
    let base = now() - 12 * HOUR;
    let phones: Vec<EmulatedPhone> = MACS.iter().map(|m| EmulatedPhone::new(server, m)).collect();
    // Before: applied, and every phone booted since.
    w.write_site("hq", &e2e_site(server, port, "a.example", ["A", "B"]));
    apply(&w);
    set_all(&server.root, base - 4 * HOUR);
    for p in &phones {
        boot(server, p, base - 3 * HOUR);
    }
    expect(
        &phones_json(&w, 0),
        [
            ("current", "0004f2000001.cfg"),
            ("current", "0004f2000002.cfg"),
            ("current", "0004f2000003.cfg"),
        ],
    );
    // A change every phone reads: all pending, naming it.
    w.write_site("hq", &e2e_site(server, port, "b.example", ["A", "B"]));
    apply(&w);
    set_time(&server.root.join("altigen.cfg"), base - 2 * HOUR);
    expect(
        &phones_json(&w, 2),
        [
            ("pending", "altigen.cfg"),
            ("pending", "altigen.cfg"),
            ("pending", "altigen.cfg"),
        ],
    );
    for p in &phones {
        boot(server, p, base - HOUR);
    }
    expect(
        &phones_json(&w, 0),
        [
            ("current", "altigen.cfg"),
            ("current", "altigen.cfg"),
            ("current", "altigen.cfg"),
        ],
    );
    // One extension changes: that phone only.
    w.write_site(
        "hq",
        &e2e_site(server, port, "b.example", ["A", "Front Desk"]),
    );
    apply(&w);
    set_time(&server.root.join("202.cfg"), base);
    expect(
        &phones_json(&w, 2),
        [
            ("current", "altigen.cfg"),
            ("pending", "202.cfg"),
            ("current", "altigen.cfg"),
        ],
    );
    boot(server, &phones[1], base + HOUR);
    // A file gone from the root: the phone says so in its log.
    std::fs::remove_file(server.root.join("203.cfg")).expect("203.cfg was there");
    boot(server, &phones[2], base + 2 * HOUR);
    let run = w.run(&["phones"]);
    run.expect(2);
    assert!(
        run.stdout
            .contains("0004f2000003 IP7000 203: error: its app log reports an error on 203.cfg"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("cfg 4: Could not load 203.cfg"),
        "{}",
        run.stdout
    );
    expect(
        &phones_json(&w, 2),
        [
            ("current", "altigen.cfg"),
            ("current", "202.cfg"),
            ("error", "203.cfg"),
        ],
    );
    // Phone 1's extension changes; resync --pending asks it alone.
    w.write_site(
        "hq",
        &e2e_site(server, port, "b.example", ["Lobby", "Front Desk"]),
    );
    apply(&w);
    set_time(&server.root.join("201.cfg"), base + 3 * HOUR);
    set_time(&server.root.join("203.cfg"), base + 3 * HOUR);
    expect(
        &phones_json(&w, 2),
        [
            ("pending", "201.cfg"),
            ("current", "202.cfg"),
            ("error", "203.cfg"),
        ],
    );
    let Some(sipp) = sipp else { return };
    let others = ["127.0.0.2", "127.0.0.3"].map(|ip| {
        let s = std::net::UdpSocket::bind((ip, port)).expect("a phone's port on loopback");
        s.set_nonblocking(true).expect("non-blocking");
        s
    });
    let phone = Sipp::start(sipp, "check_sync_200.xml", port);
    let run = w.run(&["resync", "hq", "--pending"]);
    run.expect(0);
    assert!(
        run.stdout.contains(&format!(
            "  0004f2000001 (201) 127.0.0.1:{port}: ok (200 OK)\n"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("0004f2000002") && !run.stdout.contains("0004f2000003"));
    phone.finish();
    for s in others {
        let mut buf = [0u8; 2048];
        assert!(
            s.recv(&mut buf).is_err(),
            "a phone that is not pending got a NOTIFY"
        );
    }
}

#[test]
fn the_last_hop_from_apply_to_every_phone_current_on_every_ftp_server() {
    let sipp = tools::require("sipp", "sip-tester");
    for server in ftp_support::servers("phones-e2e") {
        // The phones of this scenario speak plain FTP.
        if server.url.starts_with("ftp://") {
            last_hop(&server, sipp.as_deref());
        }
    }
}

#[test]
fn a_long_app_log_is_read_by_its_last_mib_on_every_ftp_server() {
    for server in ftp_support::servers("phones-tail") {
        if !server.url.starts_with("ftp://") {
            continue;
        }
        let mut w = Work::new();
        w.secret("FTP_PASSWORD", &server.password);
        w.secret("EXT_PASSWORD", "Ext-s3cret-tail");
        ftp_support::firmware_package(&server.root);
        w.write_site(
            "hq",
            &e2e_site(&server, free_port(), "a.example", ["A", "B"]),
        );
        apply(&w);
        let at = now() - HOUR;
        set_all(&server.root, at - HOUR);
        let t = line_time(at);
        let mut log = format!("{t}|cfg  |4|00|Could not load 201.cfg: far back\r\n").into_bytes();
        while log.len() < 3 * 1024 * 1024 {
            log.extend_from_slice(format!("{t}|so   |2|00|filler\r\n").as_bytes());
        }
        log.extend_from_slice(
            format!("{t}|cfg  |5|00|Could not load 202.cfg at the end\r\n").as_bytes(),
        );
        let app = server.root.join("0004f2000001-app.log");
        std::fs::write(&app, &log).expect("a long log");
        let boot = server.root.join("0004f2000001-boot.log");
        std::fs::write(&boot, format!("{t}|boot |2|00|booted\r\n")).expect("a boot log");
        ftp_support::chown_like(&app, &server.root);
        set_time(&boot, at);
        set_time(&app, at + 10);
        let run = w.run(&["phones", "--format", "json"]);
        let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
        let errors = &v["sites"][0]["phones"][0]["errors"];
        assert_eq!(
            errors.as_array().map(Vec::len),
            Some(1),
            "{}: {errors}",
            server.name
        );
        assert_eq!(errors[0]["text"], "Could not load 202.cfg at the end");
    }
}

// ------------------------------------------------------------ statuses on dir:

const DIR_SITE: &str = r#"
    site: lab
    target: {url: dir:root}
    server: {address: 10.0.0.1}
    time: {gmt_offset: 0, daylight_saving: false}
    extensions:
      - {number: "201", password: {env: EXT_PASSWORD}}
    phones:
      - {mac: 0004f2000001, model: IP650, extension: "201"}
"#;

/// A `dir:` site applied, its files dated `files_at`, ready for logs.
fn dir_site(extra: &str, files_at: i64) -> Test {
    let out = Test::new()
        .site("lab", &format!("{DIR_SITE}{extra}"))
        .env("EXT_PASSWORD", "Ext-s3cret-dir")
        .firmware_package("root")
        .args(["apply", "--auto-approve"])
        .run()
        .status(0);
    for entry in std::fs::read_dir(out.path().join("root")).expect("root") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            set_time(&path, files_at);
        }
    }
    out.then()
}

/// Write a log of the phone at the root, dated `at`.
fn log(t: Test, name: &str, bytes: &[u8], at: i64) -> Test {
    let path = format!("root/0004f2000001-{name}.log");
    let t = t.file(&path, bytes);
    set_time(&t.path().join(&path), at);
    t
}

fn json_phone(t: Test, args: &[&str]) -> (Value, Test) {
    let mut all = vec!["phones", "--format", "json"];
    all.extend_from_slice(args);
    let out = t.args(all).run();
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    (v["sites"][0]["phones"][0].clone(), out.then())
}

#[test]
fn a_phone_without_logs_is_never_and_one_unheard_for_days_is_silent_even_when_pending() {
    let at = now() - 10 * DAY;
    let t = dir_site("", at);
    let (p, t) = json_phone(t, &[]);
    assert_eq!(p["status"], "never");
    let t = log(t, "boot", b"", at - DAY);
    let (p, t) = json_phone(t, &[]);
    assert_eq!(p["status"], "silent", "{p}");
    // Heard within a longer --silent-after: pending (booted before the files).
    let (p, _) = json_phone(t, &["--silent-after", "30d"]);
    assert_eq!(p["status"], "pending", "{p}");
}

#[test]
fn polling_says_when_a_pending_phone_picks_the_change_up() {
    let at = now() - HOUR;
    let t = dir_site("    provisioning: {polling: {time: \"03:00\"}}\n", at);
    let t = log(t, "boot", b"", at - HOUR);
    let (p, t) = json_phone(t, &[]);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["picks_up_at"], "03:00");
    let out = t.args(["phones"]).run().status(2);
    assert!(
        out.stdout.contains("with polling it picks it up at 03:00"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_phones_page_shows_a_hostile_log_line_as_text_in_a_browser() {
    let at = now() - 5 * HOUR;
    let t = dir_site("", at);
    let new = line_time(at + 3 * HOUR);
    let hostile = "</details><script>alert(1)</script>\"><img src=x onerror=alert(2)> 201.cfg";
    let app = format!("{new}|cfg  |4|00|{hostile}\r\n");
    let t = log(t, "boot", b"", at + 2 * HOUR);
    let t = log(t, "app", app.as_bytes(), at + 3 * HOUR);
    let out = t.args(["phones", "--format", "html"]).run().status(2);
    let page = &out.stdout;
    assert!(page.contains("<table class=\"sites\">"), "{page}");
    assert!(page.contains("<details class=\"phone\">"), "{page}");
    assert!(!page.contains("Ext-s3cret-dir"), "a secret in the page");
    let Some(text) = crate::html_report::assert_inert(page, out.path(), "html-phones.png") else {
        return;
    };
    assert!(text.contains(hostile), "{text}");
    assert!(text.contains("error"), "{text}");
}

#[test]
fn an_error_logged_before_the_last_boot_is_shown_but_does_not_make_the_phone_error() {
    let at = now() - 5 * HOUR;
    let t = dir_site("", at);
    let old = line_time(at + HOUR);
    let new = line_time(at + 3 * HOUR);
    let app = format!(
        "{old}|cfg  |4|00|Could not load 201.cfg\r\n{new}|so   |2|00|SIP 3.2.7 starting\r\n"
    );
    let t = log(t, "boot", b"", at + 2 * HOUR);
    let t = log(t, "app", app.as_bytes(), at + 3 * HOUR);
    let (p, t) = json_phone(t, &[]);
    assert_eq!(p["status"], "current", "{p}");
    assert_eq!(p["errors"][0]["text"], "Could not load 201.cfg");
    // Logged since the boot: error, naming the file.
    let app = format!("{new}|cfg  |4|00|Could not load 201.cfg\r\n");
    let t = log(t, "app", app.as_bytes(), at + 3 * HOUR);
    let (p, _) = json_phone(t, &[]);
    assert_eq!(
        (p["status"].as_str(), p["error_file"].as_str()),
        (Some("error"), Some("201.cfg"))
    );
}

#[test]
fn a_line_of_december_in_a_log_of_january_is_dated_the_year_before() {
    // The log's own time is early in this year; its line says 31 December.
    let year = polyops::clock::Civil::from_seconds(now()).year;
    let jan2 = polyops::clock::Civil::new(year, 1, 2, 10, 0, 0)
        .expect("a date")
        .seconds();
    let t = dir_site("", jan2 - DAY);
    let t = log(t, "boot", b"", jan2 - 2 * DAY);
    let t = log(
        t,
        "app",
        b"1231235959|cfg  |4|00|Could not load 201.cfg\r\n",
        jan2,
    );
    let (p, _) = json_phone(t, &["--silent-after", "5000d"]);
    assert_eq!(
        p["errors"][0]["time"],
        format!("{}-12-31 23:59:59", year - 1)
    );
}

#[test]
fn the_json_report_has_the_documented_fields() {
    let at = now() - HOUR;
    let t = dir_site("", at);
    let t = log(t, "boot", b"", at + 60);
    let t = t.file("root/0004f2000001-phone.cfg", "<phone/>");
    let out = t.args(["phones", "--format", "json"]).run().status(0);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["silent_after_seconds"], 259_200);
    let site = &v["sites"][0];
    assert_eq!(site["status"], "ok");
    assert_eq!(site["times"]["source"], "file-system");
    assert_eq!(site["times"]["precision"], "second");
    assert_eq!(site["summary"]["current"], 1);
    let p = &site["phones"][0];
    for key in [
        "mac",
        "model",
        "extension",
        "address",
        "status",
        "reason",
        "last_boot",
        "last_heard",
        "newest_change",
        "picks_up_at",
        "error_file",
        "overrides",
        "unreadable",
        "errors",
    ] {
        assert!(p.get(key).is_some(), "{key} is missing: {p}");
    }
    assert_eq!(p["overrides"][0], "0004f2000001-phone.cfg");
    assert_eq!(p["last_boot"]["precision"], "second");
    assert!(p["last_boot"]["at"]
        .as_str()
        .is_some_and(|a| a.ends_with('Z')));
}

// ------------------------------------------------------------ hostile logs

/// A phone that booted an hour ago; its app log is `app`.
fn with_app_log(app: &[u8]) -> Value {
    let at = now() - 2 * HOUR;
    let t = dir_site("", at);
    let t = log(t, "boot", b"", at + HOUR);
    let t = log(t, "app", app, at + HOUR + 10);
    json_phone(t, &[]).0
}

fn unreadable_why(p: &Value) -> String {
    p["unreadable"][0]["why"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_app_log_that_is_a_link_is_unreadable_and_not_followed() {
    let at = now() - 2 * HOUR;
    let t = dir_site("", at);
    let t = log(t, "boot", b"", at + HOUR);
    let t = t.file(
        "elsewhere.log",
        format!(
            "{}|cfg  |4|00|Could not load 201.cfg\r\n",
            line_time(at + HOUR)
        ),
    );
    std::os::unix::fs::symlink(
        t.path().join("elsewhere.log"),
        t.path().join("root/0004f2000001-app.log"),
    )
    .expect("a link");
    let (p, t) = json_phone(t, &[]);
    assert_eq!(p["status"], "current", "a link's lines are never read: {p}");
    assert_eq!(p["unreadable"][0]["file"], "0004f2000001-app.log");
    assert!(unreadable_why(&p).contains("a link"), "{p}");
    assert_eq!(p["last_heard"], Value::Null);
    // A boot log that is a folder is no boot.
    std::fs::remove_file(t.path().join("root/0004f2000001-boot.log")).expect("boot log");
    std::fs::create_dir(t.path().join("root/0004f2000001-boot.log")).expect("a folder");
    let (p, _) = json_phone(t, &[]);
    assert_eq!(p["status"], "never", "{p}");
    assert!(
        p["reason"]
            .as_str()
            .is_some_and(|r| r.contains("that polyops can use")),
        "{p}"
    );
}

#[test]
fn a_binary_app_log_is_unreadable() {
    let p = with_app_log(b"\x00\x01\x02\xff\xfe binary 201.cfg");
    assert!(unreadable_why(&p).contains("not text"), "{p}");
    assert_eq!(p["status"], "current");
}

#[test]
fn terminal_escapes_make_an_app_log_unreadable_and_never_reach_the_output() {
    let at = now() - HOUR;
    let line = format!(
        "{}|cfg  |4|00|\x1b]0;owned\x07\x1b[2JCould not load 201.cfg\r\n",
        line_time(at)
    );
    let t = dir_site("", at - HOUR);
    let t = log(t, "boot", b"", at - 60);
    let t = log(t, "app", line.as_bytes(), at);
    let out = t.args(["phones"]).run();
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'));
    assert!(
        out.stdout
            .contains("unreadable: 0004f2000001-app.log: holds control characters"),
        "{}",
        out.stdout
    );
    let mut out = out;
    for format in ["json", "markdown"] {
        out = out.then().args(["phones", "--format", format]).run();
        assert!(!out.stdout.contains('\x1b'), "{format}");
    }
}

#[test]
fn crlf_lines_are_read_and_a_lone_cr_makes_an_app_log_unreadable() {
    let at = now() - HOUR;
    let t = line_time(at);
    let p = with_app_log(
        format!("{t}|cfg  |4|00|Could not load 201.cfg\r\n{t}|so   |2|00|ok\r\n").as_bytes(),
    );
    assert_eq!(p["errors"][0]["text"], "Could not load 201.cfg", "{p}");
    let p = with_app_log(
        format!("{t}|so   |2|00|fine\r{t}|cfg  |4|00|Could not load 201.cfg\r\n").as_bytes(),
    );
    assert!(unreadable_why(&p).contains("control characters"), "{p}");
    assert_eq!(p["status"], "current");
}

#[test]
fn a_huge_app_log_is_unreadable_and_a_long_one_is_read_by_its_last_mib() {
    let at = now() - 2 * HOUR;
    let t = dir_site("", at);
    let t = log(t, "boot", b"", at + HOUR);
    let app = t.path().join("root/0004f2000001-app.log");
    let f = std::fs::File::create(&app).expect("a log");
    f.set_len(100 * 1024 * 1024).expect("a sparse file");
    drop(f);
    set_time(&app, at + HOUR + 10);
    let (p, t) = json_phone(t, &[]);
    assert!(unreadable_why(&p).contains("larger than the 64 MiB"), "{p}");
    let l = line_time(at + HOUR);
    let mut long = format!("{l}|cfg  |4|00|Could not load far-back.cfg\r\n").into_bytes();
    while long.len() < 3 * 1024 * 1024 {
        long.extend_from_slice(format!("{l}|so   |2|00|filler\r\n").as_bytes());
    }
    long.extend_from_slice(format!("{l}|cfg  |4|00|Could not load 201.cfg\r\n").as_bytes());
    std::fs::write(&app, long).expect("a long log");
    set_time(&app, at + HOUR + 10);
    let (p, _) = json_phone(t, &[]);
    let texts: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(texts, ["Could not load 201.cfg"]);
    assert_eq!(p["status"], "error");
}

#[test]
fn secrets_in_an_app_log_are_masked_and_at_most_five_error_lines_are_kept() {
    let at = now() - HOUR;
    let l = line_time(at);
    let mut app = String::new();
    for i in 0..8 {
        app.push_str(&format!(
            "{l}|sip  |4|00|line {i}: auth with Ext-s3cret-dir failed\r\n"
        ));
    }
    let p = with_app_log(app.as_bytes());
    let errors = p["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 5);
    assert_eq!(errors[0]["text"], "line 3: auth with ******** failed");
    assert!(!p.to_string().contains("Ext-s3cret-dir"));
}

// ------------------------------------------------------------ the wire

const SCRIPTED_SECRET: &str = "Ftp-Pa55-phones";

fn scripted_work(server: &Scripted) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", SCRIPTED_SECRET);
    w.secret("EXT_PASSWORD", "Ext-s3cret-scripted");
    w.write_site(
        "lab",
        &format!(
            "site: lab\ntarget: {{url: \"{}\", password: {{env: FTP_PASSWORD}}}}\n\
             server: {{address: 10.0.0.1}}\ntime: {{gmt_offset: 0, daylight_saving: false}}\n\
             extensions:\n  - {{number: \"201\", password: {{env: EXT_PASSWORD}}}}\n\
             phones:\n  - {{mac: 0004f2000001, model: IP650, extension: \"201\"}}\n",
            server.url()
        ),
    );
    w
}

/// `YYYYMMDDHHMMSS` of a UTC time.
fn compact(seconds: i64) -> String {
    let c = polyops::clock::Civil::from_seconds(seconds);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[test]
fn without_mdtm_the_times_of_a_list_are_to_the_minute_and_the_same_minute_is_not_current() {
    let at = (now() - 2 * HOUR) / 60 * 60;
    let script = Script {
        unix_list: true,
        modify: vec![
            ("0004f2000001.cfg".into(), compact(at)),
            ("0004f2000001-boot.log".into(), compact(at + 20)),
        ],
        ..Script::default()
    };
    let server = Scripted::start(SCRIPTED_SECRET, script);
    server.put("0004f2000001.cfg", b"<x/>");
    server.put("0004f2000001-boot.log", b"");
    let w = scripted_work(&server);
    let run = w.run(&["phones"]);
    run.expect(2);
    assert!(
        run.stdout.contains("times by LIST to the minute"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("within the minute of its last boot"),
        "{}",
        run.stdout
    );
    let run = w.run(&["phones", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        v["sites"][0]["phones"][0]["last_boot"]["precision"],
        "minute"
    );
}

#[test]
fn phones_sends_nothing_that_changes_the_server() {
    let script = Script {
        mdtm_offset: Some(-60),
        ..Script::default()
    };
    let server = Scripted::start(SCRIPTED_SECRET, script);
    server.put("0004f2000001-boot.log", b"");
    server.put("0004f2000001-app.log", b"0101000000|so   |2|00|x\r\n");
    let w = scripted_work(&server);
    w.run(&["phones"]).expect(0);
    let verbs: std::collections::BTreeSet<String> = server
        .log()
        .iter()
        .map(|l| l.split(' ').next().unwrap_or_default().to_ascii_uppercase())
        .collect();
    for verb in &verbs {
        assert!(
            [
                "USER", "PASS", "TYPE", "PWD", "FEAT", "OPTS", "CWD", "PASV", "EPSV", "MLSD",
                "LIST", "RETR", "REST", "MDTM", "NOOP", "QUIT"
            ]
            .contains(&verb.as_str()),
            "phones sent {verb}"
        );
    }
    assert!(verbs.contains("MDTM"));
}

#[test]
fn a_phone_told_to_fail_a_fetch_logs_it_and_is_error_naming_that_file() {
    let server = ftp_support::in_process();
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", &server.password);
    w.secret("EXT_PASSWORD", "Ext-s3cret-fail");
    ftp_support::firmware_package(&server.root);
    w.write_site(
        "hq",
        &e2e_site(&server, free_port(), "a.example", ["A", "B"]),
    );
    apply(&w);
    let at = now() - HOUR;
    set_all(&server.root, at - HOUR);
    let phone = EmulatedPhone::new(&server, MACS[0]).failing("sip.cfg");
    let booted = phone.boot(at);
    assert_eq!(booted.failed, ["sip.cfg"]);
    set_time(&server.root.join(format!("{}-boot.log", MACS[0])), at);
    set_time(&server.root.join(format!("{}-app.log", MACS[0])), at + 10);
    let got = phones_json(&w, 2);
    assert_eq!(got[MACS[0]], ("error".to_owned(), "sip.cfg".to_owned()));
}
