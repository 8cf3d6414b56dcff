//! docs/commands.md: where reaching a target stops (nothing listens, the
//! login is refused), `plan`, `apply` and `import` say what to check, as
//! `doctor` does, from the same table; a site's error ends with the
//! `polyops doctor SITE` that checks the rest. Against every FTP server
//! the scenarios run on, and a port on 127.0.0.1 that nothing listens on.

use crate::ftp_support;

use ftp_support::{for_each_server, Work};

const LOGIN_HINT: &str = "check target.user (PlcmSpIp) and target.password (from environment variable FTP_PASSWORD) against the server's account; run `polyops doctor lab`";

/// Site `lab` on `url`, whose connects and replies may take `timeout`
/// seconds.
fn work(url: &str, timeout: u32, password: &str, ca_file: Option<&std::path::Path>) -> Work {
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", password);
    w.secret("EXT_PASSWORD", "Ext-s3cret-hints");
    w.write_site(
        "lab",
        &format!(
            "site: lab\ntarget:\n  url: {url}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: {timeout}\n{}server:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {{env: EXT_PASSWORD}}\nphones:\n  - mac: 0004f2000001\n    model: IP650\n    extension: \"201\"\n",
            ca_file
                .map(|f| format!("  ca_file: {}\n", f.display()))
                .unwrap_or_default()
        ),
    );
    w
}

/// A port on 127.0.0.1 that nothing listens on (one the system just gave
/// out and took back).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

#[test]
fn a_refused_login_says_what_to_check_in_plan_and_apply() {
    for_each_server("hints-login", |server| {
        let w = work(
            &server.url,
            10,
            "Wrong-Pa55-hints",
            server.ca_file.as_deref(),
        );
        for args in [&["plan"][..], &["apply", "--auto-approve"]] {
            let run = w.run(args);
            run.expect(1);
            let line = run
                .stderr
                .lines()
                .find(|l| l.contains("logging in as PlcmSpIp"))
                .unwrap_or_else(|| panic!("{args:?} on {server:?}:\n{}", run.stderr));
            assert!(
                line.starts_with("error: site lab: target ") && line.ends_with(LOGIN_HINT),
                "{args:?} on {server:?}: {line}"
            );
        }
        let doctor = w.run(&["doctor", "lab"]);
        doctor.expect(1);
        let hint = LOGIN_HINT
            .strip_suffix("; run `polyops doctor lab`")
            .expect("the hint ends with doctor");
        assert!(
            doctor.stdout.contains(hint),
            "doctor says the same: {}",
            doctor.stdout
        );
    });
}

#[test]
fn a_closed_port_says_what_to_check_in_plan_and_apply() {
    let port = closed_port();
    // A refused connect is tried again until the timeout: keep it short.
    let w = work(
        &format!("ftp://127.0.0.1:{port}/"),
        1,
        "any-Pa55-hints",
        None,
    );
    for args in [&["plan"][..], &["apply", "--auto-approve"], &["drift"]] {
        let run = w.run(args);
        run.expect(1);
        let expected = format!(
            "error: site lab: target ftp://127.0.0.1:{port}/: connecting to 127.0.0.1:{port}: "
        );
        let line = run
            .stderr
            .lines()
            .find(|l| l.starts_with(&expected))
            .unwrap_or_else(|| panic!("{args:?}:\n{}", run.stderr));
        assert!(
            line.ends_with(&format!(
                "; check that the FTP server runs and listens on 127.0.0.1 port {port}, and that no firewall is in between; run `polyops doctor lab`"
            )),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn import_names_user_and_the_password_variable_when_the_login_is_refused() {
    for_each_server("hints-import", |server| {
        let ca_file = server.ca_file.as_ref().map(|f| f.display().to_string());
        let with_ca = |args: &[&str]| -> Vec<String> {
            let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if let Some(f) = &ca_file {
                all.extend(["--ca-file".to_owned(), f.clone()]);
            }
            all
        };
        let w = Work::new();
        let args = with_ca(&["import", "adopted", "--from", &server.url]);
        let run = w.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        run.expect(1);
        assert!(
            run.stderr.contains("logging in as PlcmSpIp")
                && run.stderr.contains(
                    "; check --user (not given: the factory default PlcmSpIp) and POLYOPS_FTP_PASSWORD (not set: the factory default password) against the server's account\n"
                )
                && !run.stderr.contains("polyops doctor"),
            "on {server:?}:\n{}",
            run.stderr
        );
        let mut w = Work::new();
        w.secret("POLYOPS_FTP_PASSWORD", "Wrong-Pa55-import");
        let args = with_ca(&[
            "import",
            "adopted",
            "--from",
            &server.url,
            "--user",
            "someone",
        ]);
        let run = w.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        run.expect(1);
        assert!(
            run.stderr.contains(
                "; check --user (someone) and the password in POLYOPS_FTP_PASSWORD against the server's account\n"
            ),
            "on {server:?}:\n{}",
            run.stderr
        );
    });
}

#[test]
fn import_from_a_closed_port_says_what_to_check() {
    let port = closed_port();
    let w = Work::new();
    let run = w.run(&[
        "import",
        "adopted",
        "--from",
        &format!("ftp://127.0.0.1:{port}/"),
        "--timeout-seconds",
        "1",
    ]);
    run.expect(1);
    assert!(
        run.stderr.contains(&format!(
            "Connection refused (os error 111); check that the FTP server runs and listens on 127.0.0.1 port {port}, and that no firewall is in between\n"
        )),
        "{}",
        run.stderr
    );
}
