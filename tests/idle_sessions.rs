//! A command that is not safe to repeat is never sent on a session the
//! server may have ended while it sat idle (docs/targets.md "Deadlines
//! and limits"): the session is checked first and replaced by a fresh
//! login if it is gone.

use std::time::Duration;

use crate::ftp_support::{Work, FIRMWARE_PACKAGE};
use crate::scripted::{Script, Scripted};

const FTP_SECRET: &str = "Ftp-Pa55-idle-sessions";
const EXT_SECRET: &str = "Ext-s3cret-idle-sessions";

#[test]
fn a_lock_taken_after_a_wait_longer_than_the_servers_idle_timeout_is_taken_on_a_live_session() {
    // The server ends a session that says nothing for 1 s; an apply that
    // waits for a held lock tries again every 2 s, and its MKD (not safe
    // to repeat) follows that silence.
    let server = Scripted::start(
        FTP_SECRET,
        Script {
            idle_timeout: Some(Duration::from_secs(1)),
            ..Script::default()
        },
    );
    for (name, bytes) in FIRMWARE_PACKAGE {
        server.put(name, bytes.as_bytes());
    }
    server.make_dir(".polyops-lock");
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", FTP_SECRET);
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site(
        "lab",
        &format!(
            "site: lab\ntarget:\n  url: {}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 5\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {{env: EXT_PASSWORD}}\nphones:\n  - mac: 0004f2000001\n    model: IP650\n    extension: \"201\"\n",
            server.url()
        ),
    );
    let run = std::thread::scope(|scope| {
        // The lock goes once the apply has found it held (its first MKD
        // was refused): on a busy machine the apply may take longer than
        // any fixed delay to get there.
        scope.spawn(|| {
            let started = std::time::Instant::now();
            while !server.log().iter().any(|l| l.starts_with("MKD"))
                && started.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(500));
            server.remove_dir(".polyops-lock");
        });
        w.run(&["apply", "--auto-approve", "--lock-timeout", "10s"])
    });
    run.expect(0);
    assert!(
        run.stderr.contains("waiting up to"),
        "the apply never waited for the lock: the test proves nothing\n{}",
        run.stderr
    );
    let log = server.log();
    let mkd = log.iter().filter(|l| l.starts_with("MKD")).count();
    assert!(mkd >= 2, "the lock was not tried again: {log:#?}");
    w.run(&["drift"]).expect(0);
}
