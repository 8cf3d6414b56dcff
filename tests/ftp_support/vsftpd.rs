//! A vsftpd of a test's own, for what the shared servers must not be
//! given: a cap on sessions (`max_per_ip`, `max_clients`), a passive range
//! of two ports, a listener stopped and started again, its session
//! processes killed. It runs on a control port and passive ports of its
//! own, serves a new folder, and is stopped (with every session process it
//! forked) when dropped.
//!
//! Its accounts are the system users `.ci/ftp-servers.sh` made for the
//! shared servers (`PlcmSpIp` and `plcmro`), with their passwords from
//! `POLYOPS_FTP_SERVERS_FILE` (a test must never reset them). Here both
//! may write: each owns the folders made for it.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use crate::tools;

/// A system user the server lets in.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub password: String,
}

/// A running vsftpd of this test's own.
pub struct OwnVsftpd {
    binary: PathBuf,
    conf: PathBuf,
    listener: Option<Child>,
    pub port: u16,
    /// The FTP root on disk (every login starts there).
    pub root: PathBuf,
    /// `PlcmSpIp`, then `plcmro`.
    pub accounts: [Account; 2],
    _dir: tempfile::TempDir,
}

/// Settings of an [`OwnVsftpd`] before it starts.
pub struct Config {
    options: Vec<(String, String)>,
    passive_ports: u16,
}

/// A vsftpd configured as `.ci/ftp-servers.sh` configures the shared one,
/// with `passive_ports` passive ports of its own.
pub fn config() -> Config {
    Config {
        options: Vec::new(),
        passive_ports: 10,
    }
}

impl Config {
    /// One more line of vsftpd.conf (`max_per_ip`, `max_clients`, …).
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.options.push((key.to_owned(), value.to_owned()));
        self
    }

    /// How many passive ports the server may listen on (at most
    /// [`WIDE`]).
    pub fn passive_ports(mut self, n: u16) -> Self {
        assert!((1..=WIDE).contains(&n), "1 to {WIDE} passive ports");
        self.passive_ports = n;
        self
    }

    /// Start it; `None` (after a note) where this machine cannot run it:
    /// no vsftpd, not root, no shared accounts. Under `CI=true` each of
    /// these is a failure.
    pub fn start(self) -> Option<OwnVsftpd> {
        let binary = tools::require("vsftpd", "vsftpd")?;
        let accounts = match accounts() {
            Ok(a) => a,
            Err(why) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "a vsftpd of the test's own cannot run under CI: {why}"
                );
                eprintln!("note: skipped: {why}");
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path().join("root");
        std::fs::create_dir(&root).expect("the FTP root");
        chmod(dir.path(), 0o711);
        chmod(&root, 0o755);
        let (port, pasv) = ports(self.passive_ports);
        let mut lines = vec![
            "listen=YES".to_owned(),
            "listen_ipv6=NO".to_owned(),
            "listen_address=127.0.0.1".to_owned(),
            format!("listen_port={port}"),
            "background=NO".to_owned(),
            "anonymous_enable=NO".to_owned(),
            "local_enable=YES".to_owned(),
            "write_enable=YES".to_owned(),
            "local_umask=022".to_owned(),
            format!("local_root={}", root.display()),
            "chroot_local_user=YES".to_owned(),
            "allow_writeable_chroot=YES".to_owned(),
            "pasv_enable=YES".to_owned(),
            "pasv_address=127.0.0.1".to_owned(),
            format!("pasv_min_port={pasv}"),
            format!("pasv_max_port={}", pasv + self.passive_ports - 1),
            "port_enable=NO".to_owned(),
            "pam_service_name=vsftpd".to_owned(),
            "secure_chroot_dir=/var/run/vsftpd/empty".to_owned(),
            "seccomp_sandbox=NO".to_owned(),
        ];
        let mut defaults = vec![("max_clients", "0"), ("max_per_ip", "0")];
        defaults.retain(|(k, _)| !self.options.iter().any(|(o, _)| o == k));
        lines.extend(defaults.iter().map(|(k, v)| format!("{k}={v}")));
        lines.extend(self.options.iter().map(|(k, v)| format!("{k}={v}")));
        // vsftpd refuses a configuration file that is not root's alone.
        let conf = dir.path().join("vsftpd.conf");
        std::fs::write(&conf, lines.join("\n") + "\n").expect("write vsftpd.conf");
        chmod(&conf, 0o600);
        let mut server = OwnVsftpd {
            binary,
            conf,
            listener: None,
            port,
            root,
            accounts,
            _dir: dir,
        };
        server.start_listener();
        Some(server)
    }
}

impl OwnVsftpd {
    /// `ftp://127.0.0.1:PORT/folder`.
    pub fn url(&self, folder: &str) -> String {
        format!("ftp://127.0.0.1:{}/{folder}", self.port)
    }

    /// A new folder `name` at the root, owned by `account`'s user, holding
    /// the firmware package.
    pub fn folder(&self, name: &str, account: &Account) -> PathBuf {
        let folder = self.root.join(name);
        crate::ftp_support::firmware_package(&folder);
        let (uid, gid) = ids(&account.user);
        for entry in std::fs::read_dir(&folder).expect("the folder").flatten() {
            std::os::unix::fs::chown(entry.path(), Some(uid), Some(gid)).expect("chown a file");
        }
        std::os::unix::fs::chown(&folder, Some(uid), Some(gid)).expect("chown the folder");
        folder
    }

    /// Stop the listener (sessions already open live on): new connections
    /// are refused until [`OwnVsftpd::start_listener`].
    pub fn stop_listener(&mut self) {
        if let Some(mut child) = self.listener.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start the listener (again), and wait until it greets.
    pub fn start_listener(&mut self) {
        let child = Command::new(&self.binary)
            .arg(&self.conf)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vsftpd starts");
        self.listener = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(Ok(Some(status))) = self.listener.as_mut().map(Child::try_wait) {
                panic!("vsftpd exited at once ({status}): {}", self.conf.display());
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut greeting = String::new();
                let _ = std::io::BufRead::read_line(
                    &mut std::io::BufReader::new(stream),
                    &mut greeting,
                );
                if greeting.contains("vsFTPd") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "vsftpd did not greet on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl OwnVsftpd {
    /// Kill every session process (not the listener), as an operator's
    /// `kill -9` or the OOM killer would: the server side of each session
    /// ends mid-command, and its passive port is free for the next PASV of
    /// any session. How many processes were killed.
    pub fn kill_sessions(&self) -> usize {
        let pids = self.sessions();
        if !pids.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
        pids.len()
    }

    /// How many session processes this server has now.
    pub fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// The session processes of every listener this server started. Each
    /// session of vsftpd is a session leader of its own (not in its
    /// listener's process group): they are found by the configuration
    /// file they run with, which is this server's alone.
    fn sessions(&self) -> Vec<String> {
        let listener = self.listener.as_ref().map(Child::id);
        let listed = Command::new("pgrep")
            .args(["-f", "--", &self.conf.to_string_lossy()])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .filter(|p| p.parse().ok() != listener)
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for OwnVsftpd {
    /// The listener and every session process of each listener started.
    fn drop(&mut self) {
        self.stop_listener();
        self.kill_sessions();
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The shared vsftpd's entry of the servers file, where this process may
/// start a vsftpd of its own (it runs as root); why not otherwise.
pub fn shared_entry() -> Result<serde_json::Value, String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Err("vsftpd needs root to start".to_owned());
    }
    let file = std::env::var("POLYOPS_FTP_SERVERS_FILE")
        .map_err(|_| "POLYOPS_FTP_SERVERS_FILE is not set (no shared FTP accounts)".to_owned())?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    list.into_iter()
        .find(|s| s["name"] == "vsftpd")
        .ok_or_else(|| format!("{file} lists no vsftpd"))
}

/// The two accounts of the shared servers, or why there are none to use.
fn accounts() -> Result<[Account; 2], String> {
    let entry = shared_entry()?;
    let get = |k: &str| entry[k].as_str().map(str::to_owned).unwrap_or_default();
    Ok([
        Account {
            user: get("user"),
            password: get("password"),
        },
        Account {
            user: get("ro_user"),
            password: get("ro_password"),
        },
    ])
}

/// The uid and gid of a system user, from /etc/passwd.
pub fn ids(user: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&user))
                .then(|| (f[2].parse().expect("a uid"), f[3].parse().expect("a gid")))
        })
        .unwrap_or_else(|| panic!("no system user {user}"))
}

/// The most passive ports an [`OwnVsftpd`] may have.
pub const WIDE: u16 = 30;

/// A free control port and the first of `passive` passive ports, all of
/// this server alone: each test process has a slot of its own (by its
/// pid), each server of the process a place in it. Ranges of up to 10
/// ports start at 41000 (10 places a slot); wider ones, up to [`WIDE`],
/// at 48000 (2 places a slot).
fn ports(passive: u16) -> (u16, u16) {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    static NEXT_WIDE: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    assert!(n < 10, "at most 10 vsftpd of a test's own per process");
    let slot = u16::try_from(std::process::id() % 30).expect("small");
    let place = slot * 10 + n;
    let control = (30000 + place * 3..30000 + place * 3 + 3)
        .chain(33000..34000)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free control port");
    if passive <= 10 {
        return (control, 41000 + place * 10);
    }
    let wide = NEXT_WIDE.fetch_add(1, Ordering::SeqCst);
    assert!(
        wide < 2,
        "at most 2 vsftpd with over 10 passive ports per process"
    );
    (control, 48000 + (slot * 2 + wide) * WIDE)
}
