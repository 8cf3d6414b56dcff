//! docs/targets.md, "Sessions a server allows": a small server that caps
//! its sessions (vsftpd's `max_per_ip`, `max_clients`), restarts its
//! listener, or runs out of passive ports still gets every site of one
//! apply. A refused login is tried again with backoff inside
//! `timeout_seconds`; sessions parked for another site are closed when
//! nobody can use them or the server refuses a login; and from a refusal
//! on, the run uses no more sessions of that server than it let in.
//!
//! Each test runs a vsftpd of its own (see `ftp_support::vsftpd`).

use std::path::PathBuf;
use std::time::Duration;

use crate::common::site::SiteYaml;
use crate::ftp_support::vsftpd::{self, Account, OwnVsftpd};
use crate::ftp_support::{Run, Work};

/// A site of the fleet: its name and its folder on the server.
struct Placed {
    name: String,
    folder: PathBuf,
    macs: Vec<String>,
}

/// The MAC of phone `i` of site `n` of a fleet.
fn mac(n: usize, i: usize) -> String {
    format!("0004f2{n:02x}{i:04x}")
}

/// Sites `names[i]` on `server`, each in a folder of its own owned by
/// its account (`accounts[i]`: 0 for `PlcmSpIp`, 1 for `plcmro`), each
/// with `phones` phones.
fn fleet(server: &OwnVsftpd, sites: &[(String, usize)], phones: usize) -> (Work, Vec<Placed>) {
    let mut work = Work::new();
    let vars = ["FTP_PASSWORD_RW", "FTP_PASSWORD_RO"];
    for (var, account) in vars.iter().zip(&server.accounts) {
        work.secret(var, &account.password);
    }
    work.secret("EXT_PASSWORD", "ext-Secret-77");
    let mut placed = Vec::new();
    for (n, (name, account)) in sites.iter().enumerate() {
        let folder = server.folder(name, &server.accounts[*account]);
        let Account { user, .. } = &server.accounts[*account];
        let mut site = SiteYaml::hq().named(name).target(&format!(
            "{{url: \"{}\", user: {user}, password: {{env: {}}}, timeout_seconds: 10}}",
            server.url(name),
            vars[*account]
        ));
        for i in 0..phones {
            site = site.extension(&format!(
                "{{number: \"{}\", password: {{env: EXT_PASSWORD}}}}",
                201 + i
            ));
        }
        for i in 0..phones {
            site = site.phone(&mac(n, i), "IP650", &(201 + i).to_string());
        }
        work.write_site(name, &site.yaml());
        placed.push(Placed {
            name: name.clone(),
            folder,
            macs: (0..phones).map(|i| mac(n, i)).collect(),
        });
    }
    (work, placed)
}

/// `n` sites `s00`, `s01`, … of the first account, one phone each.
fn many(server: &OwnVsftpd, n: usize) -> (Work, Vec<Placed>) {
    let names: Vec<(String, usize)> = (0..n).map(|i| (format!("s{i:02}"), 0)).collect();
    fleet(server, &names, 1)
}

/// The apply succeeded, said so of every site, and every site's files
/// are in its folder, whole.
fn assert_landed(apply: &Run, sites: &[Placed]) {
    apply.expect(0);
    for site in sites {
        assert!(
            apply.stdout.contains(&format!("Applied {}: ", site.name)),
            "{} did not land:\n{}",
            site.name,
            apply.stdout
        );
        for mac in &site.macs {
            let master = site.folder.join(format!("{mac}.cfg"));
            let len = std::fs::metadata(&master).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{} is missing or empty", master.display());
        }
        assert!(
            site.folder.join(".polyops-state.json").is_file(),
            "{} has no state file",
            site.name
        );
    }
}

/// Two accounts on one server that lets in 4 sessions per address, their
/// sites one after the other: the first site's 4 sessions, which no later
/// site of the run can use, must not keep the second account out. (They
/// end with the first site; a server slow to count them out refuses a
/// login or two, which are tried again.)
#[test]
fn a_second_account_gets_in_after_the_first_filled_the_server() {
    let Some(server) = vsftpd::config().set("max_per_ip", "4").start() else {
        return;
    };
    let sites = [("s01".to_owned(), 0), ("t01".to_owned(), 1)];
    // Enough files for the first site to upload on 4 sessions.
    let (work, placed) = fleet(&server, &sites, 12);
    let apply = work.run(&["apply", "s01", "t01", "--auto-approve", "--parallel", "1"]);
    assert_landed(&apply, &placed);
}

/// Three sites, of the first account, the second, and the first again,
/// one after the other on a server that lets in 4 sessions per address:
/// the first site's sessions are parked for the third, so the server
/// refuses the second site's first login. The refusal is tried again, the
/// parked sessions make room, and every site lands.
#[test]
fn parked_sessions_make_room_when_the_server_refuses_another_account() {
    let Some(server) = vsftpd::config().set("max_per_ip", "4").start() else {
        return;
    };
    let sites = [
        ("s01".to_owned(), 0),
        ("t01".to_owned(), 1),
        ("u01".to_owned(), 0),
    ];
    let (work, placed) = fleet(&server, &sites, 12);
    let apply = work.run(&["apply", "--auto-approve", "--parallel", "1"]);
    assert_landed(&apply, &placed);
}

/// 40 sites on a server that lets in 4 sessions per address, 8 at a
/// time: all land in one apply.
#[test]
fn forty_sites_land_on_a_server_allowing_four_sessions_per_address() {
    let Some(server) = vsftpd::config().set("max_per_ip", "4").start() else {
        return;
    };
    let (work, placed) = many(&server, 40);
    let apply = work.run(&["apply", "--auto-approve"]);
    assert_landed(&apply, &placed);
}

/// 40 sites on a server that lets in 6 clients in all, with the default
/// `--parallel` (8): the logins it refuses are tried again.
#[test]
fn forty_sites_land_on_a_server_allowing_six_clients() {
    let Some(server) = vsftpd::config().set("max_clients", "6").start() else {
        return;
    };
    let (work, placed) = many(&server, 40);
    let apply = work.run(&["apply", "--auto-approve"]);
    assert_landed(&apply, &placed);
}

/// The listener is down as an apply of 40 sites starts and comes back
/// half a second later: the refused connects are tried again.
#[test]
fn forty_sites_land_through_a_listener_restart() {
    let Some(mut server) = vsftpd::config().start() else {
        return;
    };
    let (work, placed) = many(&server, 40);
    server.stop_listener();
    let apply = std::thread::scope(|scope| {
        let apply = scope.spawn(|| work.run(&["apply", "--auto-approve"]));
        std::thread::sleep(Duration::from_millis(500));
        server.start_listener();
        apply.join().expect("the apply ran")
    });
    assert_landed(&apply, &placed);
}

/// Two passive ports for 40 sites, 8 at a time, on a server that also
/// lets in only 6 clients: vsftpd ends a session that finds no passive
/// port free (`500 OOPS: vsf_sysutil_bind`), and a session opened again
/// may meet the cap (421). Both pass: the work is done again, on fewer
/// sessions, and every site lands.
#[test]
fn forty_sites_land_when_passive_ports_run_out() {
    let Some(server) = vsftpd::config()
        .passive_ports(2)
        .set("max_clients", "6")
        .start()
    else {
        return;
    };
    let (work, placed) = many(&server, 40);
    let apply = work.run(&["apply", "--auto-approve"]);
    assert_landed(&apply, &placed);
}
