//! `polyops doctor` against every FTP server the scenarios run on (the
//! in-process one always; vsftpd, vsftpd-TLS, proftpd and pure-ftpd when
//! `.ci/run` started them), an in-process FTPS server, and a scripted
//! server that misbehaves on purpose. Every run checks that no secret is
//! printed, and that the target holds exactly what it held before.

use crate::ftp_support;
use crate::scripted;

use std::collections::BTreeMap;
use std::path::Path;

use ftp_support::{chown_like, for_each_server, FtpServer, Run, Work};
use scripted::{Script, Scripted};

const EXT_SECRET: &str = "Ext-s3cret-doctor";

/// The release files a phone's `<mac>.cfg` names beside polyops's own.
const RELEASE: [(&str, &[u8]); 3] = [
    ("sip.ld", b"firmware image stand-in\n"),
    ("sip.cfg", b"<sip/>\n"),
    ("phone1.cfg", b"<phone1/>\n"),
];

fn site(url: &str, user: &str, ca_file: Option<&Path>) -> String {
    let mut y = format!(
        "site: lab\ntarget:\n  url: {url}\n  user: {user}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 10\n"
    );
    if let Some(ca) = ca_file {
        y.push_str(&format!("  ca_file: {}\n", ca.display()));
    }
    y.push_str(
        "server:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {env: EXT_PASSWORD}\n  - number: \"202\"\n    password: {env: EXT_PASSWORD}\nphones:\n  - mac: 0004f2000001\n    model: IP650\n    extension: \"201\"\n  - mac: 0004f2000002\n    model: IP331\n    extension: \"202\"\n",
    );
    y
}

fn work(url: &str, user: &str, password: &str, ca_file: Option<&Path>) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", password);
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site("lab", &site(url, user, ca_file));
    w
}

/// Every file and folder under `root`, with the bytes of the files.
fn snapshot(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(root).expect("the server's folder") {
        let e = e.expect("an entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = if e.file_type().expect("a type").is_dir() {
            None
        } else {
            Some(std::fs::read(e.path()).expect("a file"))
        };
        out.insert(name, bytes);
    }
    out
}

fn put_release_files(server: &FtpServer) {
    for (name, bytes) in RELEASE {
        let path = server.root.join(name);
        std::fs::write(&path, bytes).expect("a release file");
        chown_like(&path, &server.root);
    }
}

/// The check lines of a run: name → (status, text).
fn checks(run: &Run) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in run.stdout.lines().filter_map(|l| l.strip_prefix("  ")) {
        let (status, rest) = line.split_at(4);
        let (name, text) = rest
            .trim_start()
            .split_once(": ")
            .unwrap_or_else(|| panic!("not a check line: {line}"));
        assert!(
            matches!(status, "ok  " | "warn" | "fail"),
            "not a status: {line}"
        );
        let previous = out.insert(name.to_owned(), (status.trim().to_owned(), text.to_owned()));
        assert!(previous.is_none(), "{name} twice:\n{}", run.stdout);
    }
    out
}

fn status<'a>(c: &'a BTreeMap<String, (String, String)>, name: &str, run: &Run) -> &'a str {
    c.get(name)
        .map(|(s, _)| s.as_str())
        .unwrap_or_else(|| panic!("no {name} line:\n{}\n{}", run.stdout, run.stderr))
}

/// A healthy server: every check runs, none fails, and the server's
/// folder holds afterwards exactly what it held before.
fn passes(server: &FtpServer, w: &Work) {
    put_release_files(server);
    let before = snapshot(&server.root);
    let run = w.run(&["doctor", "lab"]);
    run.expect(0);
    assert_eq!(
        snapshot(&server.root),
        before,
        "{server:?} changed:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .starts_with(&format!("doctor lab: {}\n", server.url)),
        "{}",
        run.stdout
    );
    let c = checks(&run);
    let mut names: Vec<&str> = c.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = vec![
        "boot", "cleanup", "clock", "delete", "hashing", "listing", "lock", "login", "passive",
        "rename", "write",
    ];
    if server.url.starts_with("ftps://") {
        expected.extend(["phones", "tls"]);
    }
    expected.sort_unstable();
    assert_eq!(names, expected, "{server:?}:\n{}", run.stdout);
    for name in [
        "login", "passive", "listing", "write", "hashing", "clock", "delete", "lock", "boot",
        "cleanup",
    ] {
        assert_eq!(
            status(&c, name, &run),
            "ok",
            "{server:?} {name}:\n{}",
            run.stdout
        );
    }
    // A server may refuse to rename onto an existing file: then doctor says
    // how polyops copes, as a warning.
    match status(&c, "rename", &run) {
        "ok" => {}
        "warn" => assert!(c["rename"].1.contains("polyops copes"), "{}", run.stdout),
        other => panic!("{server:?} rename {other}:\n{}", run.stdout),
    }
    if server.url.starts_with("ftps://") {
        assert_eq!(status(&c, "tls", &run), "ok", "{server:?}:\n{}", run.stdout);
        // A server that takes FTPS logins only is a warning for the phones.
        assert_ne!(status(&c, "phones", &run), "fail", "{}", run.stdout);
    }
    assert!(run.stdout.contains("lab: "), "{}", run.stdout);
    assert!(run.stdout.contains(" 0 fail\n"), "{}", run.stdout);
}

#[test]
fn doctor_passes_on_every_server_and_leaves_it_as_it_was() {
    for_each_server("doctor", |server| {
        let w = work(
            &server.url,
            &server.user,
            &server.password,
            server.ca_file.as_deref(),
        );
        passes(server, &w);
        // proftpd hashes; the others do not, and doctor says so.
        let run = w.run(&["doctor", "lab"]);
        let c = checks(&run);
        let hashing = &c["hashing"].1;
        if server.name == "proftpd" {
            assert!(hashing.contains("matches its bytes"), "{hashing}");
        } else {
            assert!(
                hashing.contains("offers no HASH"),
                "{}: {hashing}",
                server.name
            );
        }
    });
}

#[test]
fn doctor_checks_the_certificate_and_the_phones_plain_login_on_ftps() {
    let server = ftp_support::in_process_tls();
    let w = work(
        &server.url,
        &server.user,
        &server.password,
        server.ca_file.as_deref(),
    );
    passes(&server, &w);
    let c = checks(&w.run(&["doctor", "lab"]));
    assert!(
        c["tls"].1.contains("trusted for 127.0.0.1"),
        "{:?}",
        c["tls"]
    );
    assert!(c["login"].1.contains("over TLS"), "{:?}", c["login"]);
}

#[test]
fn an_untrusted_certificate_fails_the_tls_check_and_says_how_to_trust_it() {
    let server = ftp_support::in_process_tls();
    // No ca_file: the system trust store does not know the test CA.
    let w = work(&server.url, &server.user, &server.password, None);
    let run = w.run(&["doctor", "lab"]);
    run.expect(1);
    let c = checks(&run);
    assert_eq!(status(&c, "tls", &run), "fail");
    assert!(c["tls"].1.contains("not trusted"), "{}", run.stdout);
    assert!(c["tls"].1.contains("target.ca_file"), "{}", run.stdout);
    assert_eq!(status(&c, "login", &run), "fail", "{}", run.stdout);
    assert!(
        run.stderr.contains("doctor checks failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_read_only_account_fails_the_write_and_lock_checks() {
    for_each_server("doctor-ro", |server| {
        put_release_files(server);
        let before = snapshot(&server.root);
        let w = work(
            &server.ro_url,
            &server.ro_user,
            &server.ro_password,
            server.ca_file.as_deref(),
        );
        let run = w.run(&["doctor", "lab"]);
        run.expect(1);
        let c = checks(&run);
        assert_eq!(status(&c, "login", &run), "ok", "{}", run.stdout);
        assert_eq!(status(&c, "write", &run), "fail", "{}", run.stdout);
        assert!(c["write"].1.contains("write_enable=YES"), "{}", run.stdout);
        assert_eq!(status(&c, "lock", &run), "fail", "{}", run.stdout);
        assert_eq!(snapshot(&server.root), before, "{server:?}");
        assert!(
            run.stderr.contains("error: site lab: target ")
                && run.stderr.contains("doctor checks failed"),
            "{}",
            run.stderr
        );
    });
}

#[test]
fn missing_release_files_fail_the_boot_check_naming_the_phones() {
    let server = ftp_support::in_process();
    let w = work(&server.url, &server.user, &server.password, None);
    let run = w.run(&["doctor", "lab"]);
    run.expect(1);
    let c = checks(&run);
    assert_eq!(status(&c, "boot", &run), "fail");
    let boot = &c["boot"].1;
    for file in ["sip.ld", "sip.cfg", "phone1.cfg"] {
        assert!(
            boot.contains(&format!(
                "{file} (named by 2 phones: 0004f2000001, 0004f2000002)"
            )),
            "{boot}"
        );
    }
    assert!(boot.contains("guide §5"), "{boot}");
    // The site's own files are rendered, so they are not missing.
    assert!(
        !boot.contains("201.cfg") && !boot.contains("altigen.cfg"),
        "{boot}"
    );
}

#[test]
fn a_wrong_password_fails_the_login_and_is_never_printed() {
    let server = ftp_support::in_process();
    let w = work(&server.url, &server.user, "Wrong-Pa55-doctor", None);
    let run = w.run(&["doctor", "lab"]);
    run.expect(1);
    let c = checks(&run);
    assert_eq!(c.len(), 1, "{}", run.stdout);
    assert_eq!(status(&c, "login", &run), "fail");
    assert!(
        c["login"].1.contains("logging in as PlcmSpIp"),
        "{}",
        run.stdout
    );
    assert!(
        c["login"]
            .1
            .contains("target.password (from environment variable FTP_PASSWORD)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_dir_target_is_no_server_to_check() {
    let w = work("dir:out/root", "PlcmSpIp", "x", None);
    let run = w.run(&["doctor"]);
    run.expect(1);
    assert!(
        run.stdout
            .contains("fail target: dir:out/root is a local folder"),
        "{}",
        run.stdout
    );
}

const SCRIPTED_SECRET: &str = "Ftp-Pa55-doctor-scripted";

fn scripted(script: Script) -> (Scripted, Work) {
    let server = Scripted::start(SCRIPTED_SECRET, script);
    for (name, bytes) in RELEASE {
        server.put(name, bytes);
    }
    let w = work(&server.url(), scripted::USER, SCRIPTED_SECRET, None);
    (server, w)
}

/// Only what was there before: the checks' own files are gone.
fn untouched(server: &Scripted) {
    let names: Vec<String> = server.files().into_keys().collect();
    assert_eq!(names, ["phone1.cfg", "sip.cfg", "sip.ld"]);
    assert!(server.dirs().is_empty(), "{:?}", server.dirs());
}

#[test]
fn a_server_that_will_not_rename_onto_a_file_is_a_warning_polyops_copes_with() {
    let (server, w) = scripted(Script {
        refuse_rename_onto_existing: true,
        mdtm_offset: Some(0),
        ..Script::default()
    });
    let run = w.run(&["doctor", "lab"]);
    run.expect(0);
    let c = checks(&run);
    assert_eq!(status(&c, "rename", &run), "warn", "{}", run.stdout);
    let rename = &c["rename"].1;
    assert!(
        rename.contains("553 Rename failed: file exists"),
        "{rename}"
    );
    assert!(rename.contains("FileZilla"), "{rename}");
    assert!(
        rename.contains("polyops copes by deleting the old file first"),
        "{rename}"
    );
    assert!(rename.contains("AllowOverwrite on"), "{rename}");
    assert_eq!(status(&c, "clock", &run), "ok", "{}", run.stdout);
    untouched(&server);
    // The doctor's own names only, and never a rename onto another file.
    for line in server.log() {
        for verb in ["STOR ", "DELE ", "RNFR ", "RNTO ", "MKD ", "RMD "] {
            if let Some(name) = line.strip_prefix(verb) {
                assert!(
                    name.starts_with(".polyops-doctor-") && name.ends_with(".polyops-tmp"),
                    "{line}"
                );
            }
        }
    }
}

#[test]
fn a_server_clock_hours_off_is_a_warning_that_suspects_local_time() {
    let (server, w) = scripted(Script {
        mdtm_offset: Some(-5 * 3600),
        ..Script::default()
    });
    let run = w.run(&["doctor", "lab"]);
    run.expect(0);
    let c = checks(&run);
    assert_eq!(status(&c, "clock", &run), "warn", "{}", run.stdout);
    assert!(c["clock"].1.contains("5 h 0 min behind"), "{}", run.stdout);
    assert!(c["clock"].1.contains("use_localtime=NO"), "{}", run.stdout);
    untouched(&server);
}

#[test]
fn a_server_without_mdtm_cannot_have_its_clock_checked() {
    let (_server, w) = scripted(Script::default());
    let run = w.run(&["doctor", "lab"]);
    let c = checks(&run);
    assert_eq!(status(&c, "clock", &run), "warn", "{}", run.stdout);
    assert!(c["clock"].1.contains("no MDTM"), "{}", run.stdout);
}

#[test]
fn a_pasv_reply_naming_another_host_is_a_warning() {
    let (_server, w) = scripted(Script {
        pasv_host: Some([10, 9, 8, 7]),
        mdtm_offset: Some(0),
        ..Script::default()
    });
    let run = w.run(&["doctor", "lab"]);
    run.expect(0);
    let c = checks(&run);
    assert_eq!(status(&c, "passive", &run), "warn", "{}", run.stdout);
    assert!(
        c["passive"]
            .1
            .contains("PASV names 10.9.8.7, not the server's 127.0.0.1"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_listing_cut_short_is_a_warning() {
    let (_server, w) = scripted(Script {
        listing_done: Some("226 Output truncated to 3 matches".to_owned()),
        mdtm_offset: Some(0),
        ..Script::default()
    });
    let run = w.run(&["doctor", "lab"]);
    run.expect(0);
    let c = checks(&run);
    assert_eq!(status(&c, "listing", &run), "warn", "{}", run.stdout);
    assert!(
        c["listing"].1.contains("Output truncated to 3 matches"),
        "{}",
        run.stdout
    );
    assert!(c["listing"].1.contains("-L"), "{}", run.stdout);
}

#[test]
fn a_server_that_echoes_the_password_has_it_masked() {
    let (server, w) = scripted(Script {
        echo_pass: true,
        ..Script::default()
    });
    let run = w.run(&["doctor", "lab"]);
    run.expect(1);
    assert!(run.stdout.contains("********"), "{}", run.stdout);
    assert!(server.log().iter().any(|l| l.starts_with("PASS ")));
}
