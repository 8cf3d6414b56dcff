//! A vsftpd started from the README's `/etc/vsftpd.conf`, as a reader's
//! Debian runs it, on a port and folder of this test's own. Only what a
//! test machine must change is set on the command line (vsftpd's `-o`,
//! which overrides the file): the loopback address and ports, the folder
//! in place of `/srv/polycom`, the user list's place, and the foreground.
//! The account is the `PlcmSpIp` system user `.ci/ftp-servers.sh` made for
//! the shared test servers, with its password from
//! `POLYOPS_FTP_SERVERS_FILE` (a test must never reset it).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools;

pub struct Vsftpd {
    child: Child,
    pub url: String,
    pub user: String,
    pub password: String,
    /// The provisioning root on disk (the README's `/srv/polycom`).
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings this test gives on the command line, and the README's
/// value each replaces (`None`: the README leaves vsftpd's default).
const REPLACED: [(&str, Option<&str>); 5] = [
    ("listen_port", None),
    ("pasv_min_port", Some("40000")),
    ("pasv_max_port", Some("40100")),
    ("local_root", Some("/srv/polycom")),
    ("userlist_file", Some("/etc/vsftpd.user_list")),
];

fn setting<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
}

/// Whether this machine can run the README's server; why not otherwise.
/// Under `CI=true` every reason is a failure (CI runs as root, installs
/// vsftpd and starts the shared servers).
pub fn account() -> Result<(PathBuf, String, String), String> {
    let Some(vsftpd) = tools::require("vsftpd", "vsftpd") else {
        return Err("vsftpd is not installed".to_owned());
    };
    let entry = crate::ftp_support::vsftpd::shared_entry()?;
    let get = |k: &str| entry[k].as_str().map(str::to_owned).unwrap_or_default();
    Ok((vsftpd, get("user"), get("password")))
}

use crate::ftp_support::vsftpd::ids;

fn free_port(from: u16) -> u16 {
    (from..from + 200)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port")
}

/// Start vsftpd with `config` (the README's file); `Err` says why it
/// cannot run on this machine.
pub fn start(config: &str) -> Result<Vsftpd, String> {
    for (key, readme) in REPLACED {
        assert_eq!(
            setting(config, key),
            readme,
            "the README's vsftpd.conf sets {key} otherwise than this test replaces it"
        );
    }
    let (vsftpd, user, password) = account()?;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("polycom");
    std::fs::create_dir(&root).expect("the root");
    let (uid, gid) = ids(&user);
    std::os::unix::fs::chown(&root, Some(uid), Some(gid)).expect("chown the root");
    let open = |p: &Path, mode| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    open(dir.path(), 0o711);
    open(&root, 0o755);
    // vsftpd refuses a configuration file that is not root's alone.
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(&conf, config).expect("write vsftpd.conf");
    open(&conf, 0o600);
    let list = dir.path().join("vsftpd.user_list");
    std::fs::write(&list, format!("{user}\n")).expect("write the user list");

    let slot = u16::try_from(std::process::id() % 100).expect("small");
    let port = free_port(31000 + slot * 20);
    let pasv = 46000 + slot * 20;
    let child = Command::new(vsftpd)
        .arg(&conf)
        .arg("-olisten_address=127.0.0.1")
        .arg(format!("-olisten_port={port}"))
        .arg(format!("-opasv_min_port={pasv}"))
        .arg(format!("-opasv_max_port={}", pasv + 19))
        .arg(format!("-olocal_root={}", root.display()))
        .arg(format!("-ouserlist_file={}", list.display()))
        .arg("-obackground=NO")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vsftpd starts");
    let mut server = Vsftpd {
        child,
        url: format!("ftp://127.0.0.1:{port}/"),
        user,
        password,
        root,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(status) = server.child.try_wait() {
            assert!(
                status.is_none(),
                "vsftpd exited at once ({status:?}): the README's vsftpd.conf does not start"
            );
        }
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            let mut greeting = String::new();
            let _ =
                std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut greeting);
            assert!(greeting.contains("vsFTPd"), "port {port}: {greeting:?}");
            return Ok(server);
        }
        assert!(Instant::now() < deadline, "vsftpd did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
