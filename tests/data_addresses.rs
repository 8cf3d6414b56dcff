//! A data address belongs to the session that asked for it (docs/targets.md
//! "Deadlines and limits"): a session that ended takes its passive port
//! with it, whoever holds that port now, and a final name is only ever a
//! temporary file the server confirmed whole, renamed.

use crate::ftp_support::{Work, FIRMWARE_PACKAGE};
use crate::scripted::{Script, Scripted, STRAY_BYTES};

const FTP_SECRET: &str = "Ftp-Pa55-data-addresses";
const EXT_SECRET: &str = "Ext-s3cret-data-addresses";
/// A greeting polyops knows for one that reads commands in turn: its login
/// is pipelined, a passive command with it, and uploads are fused.
const IN_TURN: &str = "(vsFTPd 3.0.3)";

/// A scripted server playing `script`, with the firmware package on it,
/// and the site `lab` (one extension, one phone) that targets it.
fn lab(script: Script) -> (Scripted, Work) {
    let server = Scripted::start(FTP_SECRET, script);
    for (name, bytes) in FIRMWARE_PACKAGE {
        server.put(name, bytes.as_bytes());
    }
    let url = server.url();
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", FTP_SECRET);
    w.secret("EXT_PASSWORD", EXT_SECRET);
    w.write_site(
        "lab",
        &format!(
            "site: lab\ntarget:\n  url: {url}\n  password: {{env: FTP_PASSWORD}}\n  timeout_seconds: 5\nserver:\n  address: 10.100.2.127\ntime:\n  zone: eastern\nextensions:\n  - number: \"201\"\n    password: {{env: EXT_PASSWORD}}\nphones:\n  - mac: 0004f2000001\n    model: IP650\n    extension: \"201\"\n"
        ),
    );
    (server, w)
}

#[test]
fn a_data_port_is_never_used_after_its_session_ended() {
    let (server, w) = lab(Script {
        greeting: Some(IN_TURN),
        ..Script::default()
    });
    w.run(&["apply", "--auto-approve"]).expect(0);
    // The session that reads the state file ends right after the passive
    // reply that travelled with it; another session holds that port now.
    server.rescript(|s| s.first_session_dies_after_pasv = true);
    let run = w.run(&["drift"]);
    run.expect(0);
    assert!(
        !server.rescripted_pending(),
        "no session ended: the test proves nothing"
    );
    assert_eq!(
        server.foreign(),
        0,
        "a connection went to the data port of a session that had ended"
    );
}

#[test]
fn a_final_name_is_never_made_from_an_upload_the_server_did_not_confirm() {
    for greeting in [None, Some(IN_TURN)] {
        let (server, w) = lab(Script {
            greeting,
            abort_stor: true,
            ..Script::default()
        });
        let run = w.run(&["apply", "--auto-approve"]);
        assert_ne!(run.code, 0, "{}", run.stderr);
        let log = server.log();
        assert!(
            !log.iter().any(|l| l.starts_with("RNFR")),
            "{greeting:?}: renamed after a 426: {log:?}"
        );
        let finals: Vec<String> = server
            .files()
            .into_keys()
            .filter(|n| !n.ends_with(".polyops-tmp"))
            .filter(|n| !FIRMWARE_PACKAGE.iter().any(|(f, _)| f == n))
            .collect();
        assert!(finals.is_empty(), "{greeting:?}: {finals:?}");
    }
}

/// The 226 of a STOR says the transfer the server took for it is complete,
/// not that it took this client's connection: when another session's
/// connection reached the port first, the server stores those bytes and
/// the client's queued connection is reset. That upload is not renamed
/// into place; it is tried again, and lands.
#[test]
fn an_upload_whose_data_connection_the_server_reset_is_never_renamed_into_place() {
    for greeting in [None, Some(IN_TURN)] {
        let (server, w) = lab(Script {
            greeting,
            stray_stor: Some("201.cfg".to_owned()),
            ..Script::default()
        });
        let run = w.run(&["-v", "apply", "--auto-approve"]);
        assert!(
            !server.stray_pending(),
            "no stray upload: the test proves nothing"
        );
        assert_eq!(
            server.strays_renamed(),
            0,
            "{greeting:?}: another connection's bytes were renamed into place:\n{}",
            run.stderr
        );
        run.expect(0);
        assert_ne!(server.get("201.cfg").as_deref(), Some(STRAY_BYTES));
        w.run(&["drift"]).expect(0);
    }
}

#[test]
fn where_the_server_cannot_hash_a_file_of_the_right_size_with_other_bytes_is_caught() {
    // SIZE but no hash command: the check after apply reads back.
    // Held to the end: the server runs while it is held.
    let (_server, w) = lab(Script {
        reverse_stor: vec!["201.cfg".to_owned()],
        ..Script::default()
    });
    let run = w.run(&["apply", "--auto-approve"]);
    run.expect(1);
    assert!(
        run.stderr.contains("not what was uploaded")
            && run
                .stderr
                .contains("201.cfg (its bytes on the target differ"),
        "{}",
        run.stderr
    );
}
