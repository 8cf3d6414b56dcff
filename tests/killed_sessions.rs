//! A fleet apply on a real vsftpd whose session processes are killed at
//! random moments never leaves a byte in a file that is not that site's
//! own rendering of that name, and at most two more applies converge
//! without `polyops unlock` (docs/targets.md "Deadlines and limits",
//! docs/apply.md "A failed apply"). The vsftpd is this test's own: its
//! port, its folder, 30 passive ports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::site::SiteYaml;
use crate::doc_blocks::vsftpd::{account, ids};
use crate::ftp_support::{firmware_package, Work, FIRMWARE_PACKAGE};

const SITES_PER_FOLDER: usize = 10;
const ROUNDS: usize = 3;

struct Server {
    child: Child,
    port: u16,
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        kill_sessions(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The processes of `pid`'s sessions: its children and theirs.
fn sessions_of(pid: u32) -> Vec<String> {
    let children = |p: &str| -> Vec<String> {
        let out = Command::new("pgrep").args(["-P", p]).output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    let mut all = children(&pid.to_string());
    for c in all.clone() {
        all.extend(children(&c));
    }
    all
}

/// Kill every session process of the listener `pid` (not the listener);
/// how many were killed.
fn kill_sessions(pid: u32) -> usize {
    let pids = sessions_of(pid);
    if !pids.is_empty() {
        let _ = Command::new("kill").arg("-KILL").args(&pids).status();
    }
    pids.len()
}

fn start() -> Option<Server> {
    let (vsftpd, user, _) = match account() {
        Ok(a) => a,
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{why}; under CI the killed-sessions test must run"
            );
            eprintln!("note: skipped: {why}");
            return None;
        }
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("the root");
    let (uid, gid) = ids(&user);
    std::os::unix::fs::chown(&root, Some(uid), Some(gid)).expect("chown the root");
    let mode = |p: &Path, m| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
    };
    mode(dir.path(), 0o711);
    let slot = u16::try_from(std::process::id() % 50).expect("small");
    let port = (33000 + slot * 20..33000 + slot * 20 + 20)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port");
    let pasv = 48000 + slot * 40;
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
             anonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\nlocal_umask=022\n\
             local_root={}\nchroot_local_user=YES\nallow_writeable_chroot=YES\n\
             pasv_enable=YES\npasv_address=127.0.0.1\npasv_min_port={pasv}\npasv_max_port={}\n\
             port_enable=NO\npam_service_name=vsftpd\nsecure_chroot_dir=/var/run/vsftpd/empty\n\
             seccomp_sandbox=NO\nmax_clients=0\nmax_per_ip=200\ndirmessage_enable=NO\n\
             use_localtime=NO\nxferlog_enable=NO\n",
            root.display(),
            pasv + 29
        ),
    )
    .expect("write vsftpd.conf");
    mode(&conf, 0o600);
    let child = Command::new(vsftpd)
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vsftpd starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "vsftpd did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Server {
        child,
        port,
        root,
        _dir: dir,
    })
}

/// The sites: `a/s01` … and `b/t01` …, two phones each, MACs of their own.
fn sites(w: &mut Work, server: &Server) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (folder, prefix) in [("a", 's'), ("b", 't')] {
        for i in 1..=SITES_PER_FOLDER {
            let name = format!("{prefix}{i:02}");
            let path = server.root.join(folder).join(&name);
            firmware_package(&path);
            for p in [server.root.join(folder), path.clone()] {
                crate::ftp_support::chown_like(&p, &server.root);
            }
            let n = out.len();
            let yaml = SiteYaml::hq()
                .named(&name)
                .target(&format!(
                    "{{url: \"ftp://127.0.0.1:{}/{folder}/{name}/\", password: {{env: FTP_PASSWORD}}, timeout_seconds: 5}}",
                    server.port
                ))
                .extension(&format!("{{number: \"201\", password: {{env: P{n}}}}}"))
                .extension(&format!("{{number: \"202\", password: {{env: P{n}}}}}"))
                .phone(&format!("0004f2{n:02x}0201"), "IP650", "201")
                .phone(&format!("0004f2{n:02x}0202"), "IP650", "202")
                .yaml();
            w.write_site(&name, &yaml);
            out.push((name, path));
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

/// Each site's files as polyops renders them with the secrets of now.
fn render(w: &Work, round: usize) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
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

/// Every file under each site's folder is absent or one of that site's
/// own renderings of that name (this round's, or the last round's it was
/// written from), or one of polyops's own names.
fn assert_only_own_bytes(
    sites: &[(String, PathBuf)],
    renders: &[BTreeMap<String, BTreeMap<String, Vec<u8>>>],
    when: &str,
) {
    for (site, path) in sites {
        for (name, bytes) in files(path) {
            let own = name.ends_with(".polyops-tmp")
                || name.starts_with(".polyops-lock")
                || name == ".polyops-state.json"
                || FIRMWARE_PACKAGE
                    .iter()
                    .any(|(f, b)| *f == name && b.as_bytes() == bytes);
            let rendered = renders
                .iter()
                .any(|r| r.get(site).and_then(|files| files.get(&name)) == Some(&bytes));
            assert!(
                own || rendered,
                "{when}: {site}/{name} ({} bytes) is not {site}'s rendering of {name}",
                bytes.len()
            );
        }
    }
}

#[test]
fn a_fleet_apply_whose_vsftpd_sessions_are_killed_writes_only_each_sites_own_bytes_and_converges() {
    let Some(server) = start() else { return };
    let (_, _, password) = account().expect("checked by start");
    let mut w = Work::new();
    w.secret("FTP_PASSWORD", &password);
    let sites = sites(&mut w, &server);
    let mut renders = Vec::new();
    let mut killed_mid_apply = 0;
    for round in 0..ROUNDS {
        // New extension passwords each round: every site has work to do.
        for n in 0..sites.len() {
            w.secret(&format!("P{n}"), &format!("Sip-{round}-{n}-pass"));
        }
        renders.push(render(&w, round));
        let mut apply = w
            .command(&["apply", "--auto-approve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("apply starts");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos();
        std::thread::sleep(Duration::from_millis(300 + u64::from(nanos % 700)));
        let running = apply.try_wait().expect("apply").is_none();
        let killed = kill_sessions(server.child.id());
        if running && killed > 0 {
            killed_mid_apply += 1;
        }
        let out = apply.wait_with_output().expect("apply ends");
        eprintln!(
            "round {round}: {killed} session processes killed (apply running: {running}), apply exit {:?}",
            out.status.code()
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        w.assert_no_secret(&stderr, "stderr");
        assert_only_own_bytes(&sites, &renders, &format!("round {round}, killed apply"));
        let mut last = None;
        for again in 1..=2 {
            let run = w.run(&["apply", "--auto-approve"]);
            eprintln!(
                "round {round}: apply {again} after the kill: exit {}",
                run.code
            );
            assert_only_own_bytes(&sites, &renders, &format!("round {round}, next apply"));
            let done = run.code == 0;
            last = Some(run);
            if done {
                break;
            }
        }
        last.expect("an apply ran").expect(0);
        w.run(&["drift"]).expect(0);
    }
    assert!(
        killed_mid_apply > 0,
        "no apply was still running when its sessions were killed: the test proves nothing"
    );
}
