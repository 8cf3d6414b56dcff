//! A fleet apply on a real vsftpd whose session processes are killed at a
//! random moment never leaves a byte in a file that is not that site's
//! own, and at most two more applies converge without `polyops unlock`
//! (docs/targets.md "Deadlines and limits", docs/apply.md "A failed
//! apply").
//!
//! The setup is one where a data address that outlives its session does
//! harm: 40 sites, 20 of each of the two accounts, on one vsftpd of the
//! test's own with 30 passive ports, its control connections behind a
//! proxy that holds every reply back 15 ms (a server at the end of a slow
//! link: many commands in flight when the sessions die, and a passive
//! port open a while before its client connects), and every session
//! process killed at once, 0.4 to 0.9 s into the apply. A killed
//! session's passive port is free at once, and the sessions logging in
//! again get the same 30 ports: a client that connects to an address its
//! dead session was given, and writes before the server answered its
//! STOR, puts its bytes in another session's upload, often another
//! site's; a download's connection there ends that upload empty. An
//! engine that lets an address outlive its session shows it in most
//! killed applies of this setup: here four in a row, each starting from
//! what the last one left, with new extension passwords each round, so
//! every round rewrites every site and each file's bytes say whose and
//! which round's they are. After each, every file of every site must be
//! that site's own (see [`own`]); after the last, at most two applies
//! converge, and `drift` finds nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::site::SiteYaml;
use crate::ftp_support::proxy::DelayingProxy;
use crate::ftp_support::vsftpd::{self, OwnVsftpd};
use crate::ftp_support::{Work, FIRMWARE_PACKAGE};

/// Sites of each account.
const SITES_PER_ACCOUNT: usize = 20;
/// Killed applies, one after the other.
const ROUNDS: usize = 4;
/// How late the proxy passes on what the server says.
const DELAY: Duration = Duration::from_millis(15);
/// Every session process is killed at a random moment from `KILL_FROM`
/// to `KILL_UNTIL` after the apply's first session is seen: counted from
/// there, not from the start, a machine slowed by other work still kills
/// mid-transfer instead of before the first login.
const KILL_FROM: Duration = Duration::from_millis(400);
const KILL_UNTIL: Duration = Duration::from_millis(900);

/// The password variables of the two accounts.
const ACCOUNT_VARS: [&str; 2] = ["FTP_PASSWORD_RW", "FTP_PASSWORD_RO"];

/// The sites: `s01` … of the first account and `t01` … of the second,
/// each in a folder of its own at the server's root, reached through the
/// proxy on `port`; two extensions and two phones each, MACs of their own.
fn sites(w: &mut Work, server: &OwnVsftpd, port: u16) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (account, prefix) in [(0, 's'), (1, 't')] {
        for i in 1..=SITES_PER_ACCOUNT {
            let name = format!("{prefix}{i:02}");
            let folder = server.folder(&name, &server.accounts[account]);
            let n = out.len();
            let yaml = SiteYaml::hq()
                .named(&name)
                .target(&format!(
                    "{{url: \"ftp://127.0.0.1:{port}/{name}/\", user: {}, password: {{env: {}}}, timeout_seconds: 5}}",
                    server.accounts[account].user, ACCOUNT_VARS[account]
                ))
                .extension(&format!("{{number: \"201\", password: {{env: P{n}}}}}"))
                .extension(&format!("{{number: \"202\", password: {{env: P{n}}}}}"))
                .phone(&format!("0004f2{n:02x}0201"), "IP650", "201")
                .phone(&format!("0004f2{n:02x}0202"), "IP650", "202")
                .yaml();
            w.write_site(&name, &yaml);
            out.push((name, folder));
        }
    }
    out
}

/// Every file under `dir`, by its name relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read a folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let name = p
                    .strip_prefix(dir)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// Each site's files, by site, as polyops renders them.
type Rendered = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// Each site's files as polyops renders them with the secrets of now.
fn render(w: &Work, round: usize) -> Rendered {
    let out = format!("rendered-{round}");
    w.run(&["render", "--out", &out]).expect(0);
    let dir = w.path().join(&out);
    std::fs::read_dir(&dir)
        .expect("rendered")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                files(&e.path()),
            )
        })
        .collect()
}

/// Every file under each site's folder is absent or that site's own (see
/// [`own`]).
fn assert_only_own_bytes(sites: &[(String, PathBuf)], renders: &[Rendered], when: &str) {
    for (site, path) in sites {
        for (name, bytes) in files(path) {
            assert!(
                own(site, &name, &bytes, renders),
                "{when}: {site}/{name} ({} bytes) is not {site}'s own",
                bytes.len()
            );
        }
    }
}

/// Whether `bytes`, found as `name` in `site`'s folder, are that site's
/// own: one of its renderings of that name (this round's, or an earlier
/// round's it was written from), the firmware package as it was, its
/// state file, the lock; or the temporary file of one of these, whole or
/// cut short (the start of it).
fn own(site: &str, name: &str, bytes: &[u8], renders: &[Rendered]) -> bool {
    if name.starts_with(".polyops-lock") {
        return true;
    }
    let (base, whole) = match name.strip_suffix(".polyops-tmp") {
        Some(base) => (base, false),
        None => (name, true),
    };
    if base == ".polyops-state.json" {
        return state_of(site, bytes, whole);
    }
    let fits = |own: &[u8]| {
        if whole {
            own == bytes
        } else {
            own.starts_with(bytes)
        }
    };
    FIRMWARE_PACKAGE
        .iter()
        .any(|(f, b)| *f == base && fits(b.as_bytes()))
        || renders
            .iter()
            .filter_map(|r| r.get(site)?.get(base))
            .any(|own| fits(own))
}

/// Whether `bytes` are a state file of `site`; if not `whole`, they may
/// be cut short, and must not name another site.
fn state_of(site: &str, bytes: &[u8], whole: bool) -> bool {
    if let Ok(state) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return state["site"] == site;
    }
    if whole {
        return false;
    }
    const MARK: &[u8] = b"\"site\": \"";
    let Some(at) = bytes.windows(MARK.len()).position(|w| w == MARK) else {
        return true;
    };
    let named = &bytes[at + MARK.len()..];
    match named.iter().position(|b| *b == b'"') {
        Some(end) => &named[..end] == site.as_bytes(),
        None => site.as_bytes().starts_with(named),
    }
}

/// A moment from `KILL_FROM` to `KILL_UNTIL`, a different one each call.
fn kill_moment() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .subsec_nanos();
    let spread = u32::try_from((KILL_UNTIL - KILL_FROM).as_millis()).expect("small");
    KILL_FROM + Duration::from_millis(u64::from(nanos % (spread + 1)))
}

/// How long an apply may take to open its first session.
const FIRST_SESSION_WITHIN: Duration = Duration::from_secs(30);

/// One apply whose every vsftpd session process is killed at a random
/// moment into it, while it runs.
fn killed_apply(w: &Work, server: &OwnVsftpd, round: usize) {
    let started = Instant::now();
    let mut apply = w
        .command(&["apply", "--auto-approve"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts");
    while server.session_count() == 0
        && apply.try_wait().expect("apply").is_none()
        && started.elapsed() < FIRST_SESSION_WITHIN
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_session = started.elapsed();
    let after = kill_moment();
    std::thread::sleep(after);
    let running = apply.try_wait().expect("apply").is_none();
    let killed = server.kill_sessions();
    let out = apply.wait_with_output().expect("apply ends");
    eprintln!(
        "round {round}: {killed} session processes killed {} ms after the first session, {} ms into the apply (running: {running}), apply exit {:?} after {} ms",
        after.as_millis(),
        (first_session + after).as_millis(),
        out.status.code(),
        started.elapsed().as_millis()
    );
    w.assert_no_secret(&String::from_utf8_lossy(&out.stdout), "stdout");
    w.assert_no_secret(&String::from_utf8_lossy(&out.stderr), "stderr");
    assert!(
        running && killed > 0,
        "round {round}: the apply had {} when its sessions were killed: the round proves nothing",
        if running {
            "no session"
        } else {
            "already ended"
        }
    );
}

#[test]
fn a_fleet_apply_whose_vsftpd_sessions_are_killed_writes_only_each_sites_own_bytes_and_converges() {
    let Some(server) = vsftpd::config().passive_ports(vsftpd::WIDE).start() else {
        return;
    };
    let proxy = DelayingProxy::start(server.port, DELAY);
    let mut w = Work::new();
    for (var, account) in ACCOUNT_VARS.iter().zip(&server.accounts) {
        w.secret(var, &account.password);
    }
    let sites = sites(&mut w, &server, proxy.port);
    let mut renders = Vec::new();
    // Each killed apply starts from what the one before it left.
    for round in 0..ROUNDS {
        // New extension passwords each round: every site has work to do.
        for n in 0..sites.len() {
            w.secret(&format!("P{n}"), &format!("Sip-{round}-{n}-pass"));
        }
        renders.push(render(&w, round));
        killed_apply(&w, &server, round);
        assert_only_own_bytes(&sites, &renders, &format!("round {round}, killed apply"));
    }
    let mut last = None;
    for again in 1..=2 {
        let started = Instant::now();
        let run = w.run(&["apply", "--auto-approve"]);
        eprintln!(
            "apply {again} after the last kill: exit {} after {} ms",
            run.code,
            started.elapsed().as_millis()
        );
        assert_only_own_bytes(&sites, &renders, &format!("apply {again} after the kills"));
        let done = run.code == 0;
        last = Some(run);
        if done {
            break;
        }
    }
    last.expect("an apply ran").expect(0);
    w.run(&["drift"]).expect(0);
}
