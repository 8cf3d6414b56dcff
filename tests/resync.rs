//! docs/phones.md: `polyops resync` and `apply --resync`. sipp (Debian's
//! sip-tester) acts as the phone on 127.0.0.1 with three scenarios
//! (tests/fixtures/sipp): it takes `Event: check-sync` and answers 200,
//! it refuses it with 489 Bad Event, or it never answers. Other phones of
//! a site sit on 127.0.0.2 and 127.0.0.3 as plain UDP sockets that must
//! hear nothing. Under `CI=true` a missing sipp fails these tests.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Test;
use crate::tools;

const EXT_SECRET: &str = "Ext-s3cret-resync";

/// A UDP port free on 127.0.0.1, 127.0.0.2 and 127.0.0.3 alike (a site
/// has one SIP port for all its phones), of this test process alone: a
/// port found free with `bind(0)` and released could be handed to another
/// test before sipp binds it, so each process counts through a range of
/// its own, outside the kernel's ephemeral ports.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = 31_000 + (std::process::id() as usize % 40) * 100;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 100, "ran out of SIP test ports");
        let port = u16::try_from(base + n).expect("a port");
        let free = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
            .iter()
            .all(|ip| UdpSocket::bind((*ip, port)).is_ok());
        if free {
            return port;
        }
    }
}

/// sipp running one scenario as the phone on 127.0.0.1.
pub struct Sipp {
    child: Child,
    dir: tempfile::TempDir,
}

impl Sipp {
    /// Start `scenario` (a file of tests/fixtures/sipp) on `port`, for one
    /// call, and wait until it holds the port.
    pub fn start(sipp: &Path, scenario: &str, port: u16) -> Self {
        let dir = tempfile::tempdir().expect("a folder for sipp");
        let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sipp")
            .join(scenario);
        let child = Command::new(sipp)
            .args(["-sf"])
            .arg(&scenario)
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-m",
                "1",
                "-timeout",
                "30s",
            ])
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .arg("-error_file")
            .arg(dir.path().join("errors.log"))
            .arg("-message_file")
            .arg(dir.path().join("messages.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", sipp.display()));
        let started = Instant::now();
        while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sipp did not take port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sipp { child, dir }
    }

    /// Wait for sipp to end its call; it must have passed (its checks on
    /// the NOTIFY included). What it received and sent.
    pub fn finish(mut self) -> String {
        let status = self.child.wait().expect("sipp ends");
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        assert!(
            status.success(),
            "sipp failed ({status}):\n{}\n{}",
            read("errors.log"),
            read("messages.log")
        );
        read("messages.log")
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A site of three phones on 127.0.0.1-3 (the third without an address
/// unless `third` gives one) at SIP port `port`, with a `dir:` target.
fn site(port: u16, name_201: &str, third: Option<&str>) -> String {
    let third = third.map_or(String::new(), |a| format!(", address: \"{a}\""));
    format!(
        "site: lab\n\
         target: {{url: dir:root}}\n\
         server: {{address: 10.0.0.1, sip_port: {port}}}\n\
         time: {{zone: pacific}}\n\
         extensions:\n\
         \x20 - {{number: \"201\", name: \"{name_201}\", password: {{env: EXT_PASSWORD}}}}\n\
         \x20 - {{number: \"202\", password: {{env: EXT_PASSWORD}}}}\n\
         \x20 - {{number: \"203\", password: {{env: EXT_PASSWORD}}}}\n\
         phones:\n\
         \x20 - {{mac: 0004f2000001, model: IP650, extension: \"201\", address: 127.0.0.1}}\n\
         \x20 - {{mac: 0004f2000002, model: IP331, extension: \"202\", address: 127.0.0.2}}\n\
         \x20 - {{mac: 0004f2000003, model: IP7000, extension: \"203\"{third}}}\n"
    )
}

fn test(port: u16) -> Test {
    Test::new()
        .site("lab", &site(port, "A", None))
        .env("EXT_PASSWORD", EXT_SECRET)
}

/// Phones that must hear nothing: sockets on their addresses.
fn bystanders(port: u16, ips: &[&str]) -> Vec<UdpSocket> {
    ips.iter()
        .map(|ip| {
            let s = UdpSocket::bind((*ip, port)).expect("a bystander's port");
            s.set_nonblocking(true).expect("non-blocking");
            s
        })
        .collect()
}

fn heard_nothing(sockets: &[UdpSocket]) {
    for s in sockets {
        let mut buf = [0u8; 4096];
        assert!(
            s.recv(&mut buf).is_err(),
            "{:?} heard a NOTIFY",
            s.local_addr()
        );
    }
}

fn sipp() -> Option<PathBuf> {
    tools::require("sipp", "sip-tester")
}

#[test]
fn a_phone_that_takes_check_sync_answers_200_and_resync_exits_0() {
    let Some(sipp) = sipp() else { return };
    let port = free_port();
    let others = bystanders(port, &["127.0.0.2"]);
    let phone = Sipp::start(&sipp, "check_sync_200.xml", port);
    let out = test(port).args(["resync", "lab", "201"]).run().status(0);
    let messages = phone.finish();
    assert_eq!(
        out.stdout,
        format!(
            "resync lab: 1 phone\n  0004f2000001 (201) 127.0.0.1:{port}: ok (200 OK)\nresync lab: 1 ok, 0 refused, 0 no answer, 0 skipped.\n"
        )
    );
    assert!(messages.contains("Event: check-sync"), "{messages}");
    assert!(!messages.contains(EXT_SECRET), "a NOTIFY carries no secret");
    heard_nothing(&others);
}

#[test]
fn a_phone_that_refuses_check_sync_is_named_with_489_and_resync_exits_1() {
    let Some(sipp) = sipp() else { return };
    let port = free_port();
    let phone = Sipp::start(&sipp, "check_sync_489.xml", port);
    let out = test(port)
        .args(["resync", "lab", "0004F2000001"])
        .run()
        .status(1);
    phone.finish();
    assert!(
        out.stdout.contains(&format!(
            "0004f2000001 (201) 127.0.0.1:{port}: 489 Bad Event\n"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("1 of 1 phone asked did not answer"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_phone_that_never_answers_gets_the_notify_again_and_is_no_answer() {
    let Some(sipp) = sipp() else { return };
    let port = free_port();
    let phone = Sipp::start(&sipp, "check_sync_silent.xml", port);
    let out = test(port).args(["resync", "lab", "201"]).run().status(1);
    let messages = phone.finish();
    assert!(out.stdout.contains(": no answer\n"), "{}", out.stdout);
    let copies = messages.matches("NOTIFY sip:201@127.0.0.1").count();
    assert!(
        copies >= 2,
        "timer A sends it again: {copies} copies in\n{messages}"
    );
}

#[test]
fn phones_without_an_address_are_skipped_and_only_named_phones_are_asked() {
    let port = free_port();
    let others = bystanders(port, &["127.0.0.1", "127.0.0.2"]);
    let out = test(port).args(["resync", "lab", "203"]).run().status(0);
    assert_eq!(
        out.stdout,
        "resync lab: 1 phone\n  0004f2000003 (203) skipped: no address\nresync lab: 0 ok, 0 refused, 0 no answer, 1 skipped.\n"
    );
    heard_nothing(&others);
    let out = out.then().args(["resync", "lab", "204"]).run().status(1);
    assert!(
        out.stderr.contains("no phone is on extension 204"),
        "{}",
        out.stderr
    );
}

#[test]
fn apply_resync_asks_the_phones_whose_files_changed_and_no_other() {
    let Some(sipp) = sipp() else { return };
    let port = free_port();
    let out = test(port)
        .firmware_package("root")
        .args(["apply", "--auto-approve"])
        .run()
        .status(0);
    // Only extension 201's file changes: only its phone is asked.
    let others = bystanders(port, &["127.0.0.2"]);
    let phone = Sipp::start(&sipp, "check_sync_200.xml", port);
    let out = out
        .then()
        .site("lab", &site(port, "Lobby", None))
        .args(["apply", "--auto-approve", "--resync"])
        .run()
        .status(0);
    phone.finish();
    assert!(
        out.stdout.contains(&format!(
            "resync lab: 1 phone\n  0004f2000001 (201) 127.0.0.1:{port}: ok (200 OK)\n"
        )),
        "{}",
        out.stdout
    );
    heard_nothing(&others);
}

#[test]
fn a_phone_address_must_be_one_phones_own_and_unique_within_the_site() {
    let out = Test::new()
        .site(
            "lab",
            &site(5060, "A", Some("127.0.0.2"))
                .replace("address: 127.0.0.1", "address: \"bad host!\""),
        )
        .env("EXT_PASSWORD", EXT_SECRET)
        .args(["validate"])
        .run()
        .status(1);
    out.stderr_has_line_with(
        "sites/lab.yaml:10:",
        "phones[0].address: \"bad host!\" is not an IPv4, IPv6 address or host name",
    )
    .stderr_has_line_with(
        "sites/lab.yaml:12:",
        "phones[2].address: address 127.0.0.2 is already the address of phones[1]",
    );
    for many in ["255.255.255.255", "224.0.0.1", "0.0.0.0", "ff02::1"] {
        Test::new()
            .site("lab", &site(5060, "A", Some(many)))
            .env("EXT_PASSWORD", EXT_SECRET)
            .args(["validate"])
            .run()
            .status(1)
            .stderr_contains("is not one phone's address");
    }
}
