//! `polyops import` over FTP: the hand-made roots of `handmade`, put on
//! the in-process server (and on vsftpd, proftpd and pure-ftpd when
//! `.ci/run` started them), imported read-only, then applied; a second
//! plan has nothing to do.

use crate::ftp_support;
use crate::handmade;

use std::collections::BTreeMap;
use std::path::Path;

use ftp_support::{in_process_tls, servers, FtpServer, Run, Work};
use handmade::{assert_report_names_every_difference, differences, extras_site, small_site, Site};

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            let bytes = std::fs::read(e.path()).expect("read");
            out.insert(e.file_name().to_string_lossy().into_owned(), bytes);
        }
    }
    out
}

/// Put the hand-made files on the server, as the installer did.
fn put(server: &FtpServer, files: &BTreeMap<String, Vec<u8>>) {
    for (name, bytes) in files {
        let path = server.root.join(name);
        std::fs::write(&path, bytes).expect("hand-made file");
        ftp_support::chown_like(&path, &server.root);
    }
}

/// Import the site from the server, check the target was only read, then
/// render, compare, apply and plan again.
fn import_over(server: &FtpServer, site: &Site, model: &str) -> Run {
    let mut w = Work::new();
    w.secret("POLYOPS_FTP_PASSWORD", &server.password);
    for e in &site.extensions {
        w.secrets.push(e.password.clone());
    }
    let files = site.files();
    put(server, &files);
    let before = read_dir(&server.root);
    let mut args = vec![
        "import",
        "hq",
        "--from",
        server.url.as_str(),
        "--model",
        model,
    ];
    if server.user != "PlcmSpIp" {
        args.extend(["--user", server.user.as_str()]);
    }
    let ca = server.ca_file.as_ref().map(|c| c.display().to_string());
    if let Some(ca) = &ca {
        args.extend(["--ca-file", ca.as_str()]);
    }
    let imported = w.run(&args);
    imported.expect(0);
    assert_eq!(read_dir(&server.root), before, "import wrote to {server:?}");
    let yaml = std::fs::read_to_string(w.path().join("sites/hq.yaml")).expect("site file");
    assert!(
        yaml.contains("  password: {env: POLYOPS_FTP_PASSWORD}"),
        "{yaml}"
    );
    w.assert_no_secret(&yaml, "the site file");
    w.run(&["--secrets", "hq.secrets.yaml", "validate", "hq"])
        .expect(0);
    w.run(&[
        "--secrets",
        "hq.secrets.yaml",
        "render",
        "--out",
        "rendered",
        "hq",
    ])
    .expect(0);
    let diffs = differences(&files, &read_dir(&w.path().join("rendered/hq")));
    assert_report_names_every_difference(&diffs, &imported.stdout);
    w.run(&[
        "--secrets",
        "hq.secrets.yaml",
        "apply",
        "--auto-approve",
        "hq",
    ])
    .expect(0);
    w.run(&[
        "--secrets",
        "hq.secrets.yaml",
        "plan",
        "--detailed-exitcode",
        "hq",
    ])
    .expect(0);
    imported
}

#[test]
fn a_hand_made_root_is_imported_over_ftp_and_a_second_plan_is_empty() {
    for server in servers("import-small") {
        eprintln!("scenario import-small on {server:?}");
        let run = import_over(&server, &small_site(), "IP7000");
        assert!(
            run.stdout.contains("imported site hq from ftp"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("0004F2000607.cfg: changed: the phone asks for 0004f2000607.cfg"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_root_with_extras_is_imported_over_ftp_formatting_only() {
    for server in servers("import-extras") {
        eprintln!("scenario import-extras on {server:?}");
        let mut site = extras_site();
        site.phones[0].log = Some(("boot", handmade::boot_line("SPIP560")));
        let run = import_over(&server, &site, "IP650");
        assert!(
            run.stdout.contains("8 parameters kept in params"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_root_is_imported_over_ftps() {
    let server = in_process_tls();
    let run = import_over(&server, &small_site(), "IP7000");
    assert!(
        run.stdout.contains("imported site hq from ftps://"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_wrong_ftp_password_is_an_error_that_does_not_print_it() {
    let server = ftp_support::in_process();
    put(&server, &small_site().files());
    let mut w = Work::new();
    w.secret("POLYOPS_FTP_PASSWORD", "Wr0ng-pa55word");
    let run = w.run(&["import", "hq", "--from", server.url.as_str()]);
    run.expect(1);
    assert!(
        run.stderr.contains("error: site hq: target ftp://"),
        "{}",
        run.stderr
    );
    assert!(!w.path().join("sites/hq.yaml").exists());
    assert!(!w.path().join("hq.secrets.yaml").exists());
}
