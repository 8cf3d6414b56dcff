//! FTP servers for the scenario tests: an in-process libunftp server on
//! 127.0.0.1 (always), plus the real servers `.ci/run` starts, listed in
//! the JSON file named by `POLYOPS_FTP_SERVERS_FILE`.

pub use crate::common::FIRMWARE_PACKAGE;

pub mod proxy;
pub mod vsftpd;

use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{Error as StorageError, ErrorKind, Fileinfo, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};

/// One FTP server a scenario runs against, with a folder of its own.
pub struct FtpServer {
    pub name: String,
    /// URL of this scenario's own folder on the server.
    pub url: String,
    /// That folder on local disk (to inspect and tamper with).
    pub root: PathBuf,
    pub user: String,
    pub password: String,
    /// URL of the same folder for the read-only user.
    pub ro_url: String,
    pub ro_user: String,
    pub ro_password: String,
    pub ca_file: Option<PathBuf>,
    /// Sessions that logged in, as the server counted them (in-process
    /// servers only).
    pub logins: Option<Arc<AtomicUsize>>,
    /// Names of files whose next download the server refuses once with
    /// "450 File not found", a passing failure (in-process servers only).
    pub flaky: Option<Flaky>,
    _keep: Option<tempfile::TempDir>,
}

impl fmt::Debug for FtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.name, self.url)
    }
}

static FOLDER: AtomicUsize = AtomicUsize::new(0);

/// Every server to run a scenario against, each with a fresh empty folder.
pub fn servers(scenario: &str) -> Vec<FtpServer> {
    let mut out = vec![in_process()];
    if let Ok(file) = std::env::var("POLYOPS_FTP_SERVERS_FILE") {
        let text = std::fs::read_to_string(&file).expect("POLYOPS_FTP_SERVERS_FILE is readable");
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&text).expect("servers file is a JSON array");
        for s in list {
            let get = |k: &str| s[k].as_str().map(str::to_owned);
            let name = get("name").expect("server name");
            let base_root = PathBuf::from(get("root").expect("server root"));
            let folder = format!(
                "{scenario}-{}-{}",
                std::process::id(),
                FOLDER.fetch_add(1, Ordering::SeqCst)
            );
            let root = base_root.join(&folder);
            std::fs::create_dir_all(&root).expect("create scenario folder");
            chown_like(&root, &base_root);
            let url = format!("{}{folder}/", get("url").expect("server url"));
            out.push(FtpServer {
                name,
                ro_url: url.clone(),
                url,
                root,
                user: get("user").expect("user"),
                password: get("password").expect("password"),
                ro_user: get("ro_user").expect("ro_user"),
                ro_password: get("ro_password").expect("ro_password"),
                ca_file: get("ca_file").map(PathBuf::from),
                logins: None,
                flaky: None,
                _keep: None,
            });
        }
    }
    out
}

/// Run `f` on every server of [`servers`], side by side: each server has
/// a folder of its own, and most of a scenario's time is spent waiting on
/// a server. A failure panics the test after all have ended; its message
/// names the server (the thread it ran on).
pub fn for_each_server(scenario: &str, f: impl Fn(&FtpServer) + Sync) {
    side_by_side(scenario, servers(scenario), f);
}

/// Run `f` on each of `servers` at the same time, each on a thread named
/// after its server.
pub fn side_by_side(scenario: &str, servers: Vec<FtpServer>, f: impl Fn(&FtpServer) + Sync) {
    std::thread::scope(|scope| {
        for server in &servers {
            let f = &f;
            std::thread::Builder::new()
                .name(format!("{scenario} on {}", server.name))
                .spawn_scoped(scope, move || {
                    eprintln!("scenario {scenario} on {server:?}");
                    f(server);
                })
                .expect("a thread for the server can be started");
        }
    });
}

/// Put the firmware package's files ([`FIRMWARE_PACKAGE`]) in the folder
/// `root`, as an installer does (guide §5), owned like `root`.
pub fn firmware_package(root: &Path) {
    std::fs::create_dir_all(root).expect("root folder");
    for (name, bytes) in FIRMWARE_PACKAGE {
        let path = root.join(name);
        std::fs::write(&path, bytes).expect("firmware package file");
        chown_like(&path, root);
    }
}

/// Give `path` the owner of `like` (the FTP user must be able to write it).
pub fn chown_like(path: &Path, like: &Path) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(like).expect("server root exists");
    let _ = std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid()));
}

pub const IN_PROCESS_PASSWORD: &str = "ftp-Pa55-in-process";

/// A libunftp server on a free loopback port serving a new temporary
/// folder, and a second one on the same folder that refuses every change
/// (standing in for a read-only user).
pub fn in_process() -> FtpServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let logins = Arc::new(AtomicUsize::new(0));
    let flaky = Flaky::default();
    let port = start_libunftp(&root, false, None, Arc::clone(&logins), flaky.clone());
    let ro_port = start_libunftp(
        &root,
        true,
        None,
        Arc::new(AtomicUsize::new(0)),
        Flaky::default(),
    );
    FtpServer {
        name: "in-process".to_owned(),
        url: format!("ftp://127.0.0.1:{port}/"),
        ro_url: format!("ftp://127.0.0.1:{ro_port}/"),
        root,
        user: "PlcmSpIp".to_owned(),
        password: IN_PROCESS_PASSWORD.to_owned(),
        ro_user: "PlcmSpIp".to_owned(),
        ro_password: IN_PROCESS_PASSWORD.to_owned(),
        ca_file: None,
        logins: Some(logins),
        flaky: Some(flaky),
        _keep: Some(dir),
    }
}

/// An FTPS (explicit TLS) in-process server with a fresh certificate for
/// 127.0.0.1; returns the server and the CA file to trust.
pub fn in_process_tls() -> FtpServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("root");
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("write key");
    let logins = Arc::new(AtomicUsize::new(0));
    let port = start_libunftp(
        &root,
        false,
        Some((cert_file.clone(), key_file)),
        Arc::clone(&logins),
        Flaky::default(),
    );
    FtpServer {
        name: "in-process-tls".to_owned(),
        url: format!("ftps://127.0.0.1:{port}/"),
        ro_url: String::new(),
        root,
        user: "PlcmSpIp".to_owned(),
        password: IN_PROCESS_PASSWORD.to_owned(),
        ro_user: String::new(),
        ro_password: String::new(),
        ca_file: Some(cert_file),
        logins: Some(logins),
        flaky: None,
        _keep: Some(dir),
    }
}

/// Checks the password and counts the logins it let in.
#[derive(Debug)]
struct Password {
    logins: Arc<AtomicUsize>,
}

#[async_trait]
impl Authenticator for Password {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if username != "PlcmSpIp" {
            return Err(AuthenticationError::BadUser);
        }
        if creds.password.as_deref() != Some(IN_PROCESS_PASSWORD) {
            return Err(AuthenticationError::BadPassword);
        }
        self.logins.fetch_add(1, Ordering::SeqCst);
        Ok(Principal {
            username: username.to_owned(),
        })
    }
}

/// File names whose next download fails once, shared with the server.
#[derive(Debug, Clone, Default)]
pub struct Flaky(Arc<std::sync::Mutex<Vec<String>>>);

impl Flaky {
    /// Refuse the next download of `name` once.
    pub fn fail_next(&self, name: &str) {
        self.0.lock().expect("flaky list").push(name.to_owned());
    }

    /// Whether a download of `path` is to fail now (it will not again).
    fn take(&self, path: &Path) -> bool {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut names = self.0.lock().expect("flaky list");
        match names.iter().position(|n| Some(n) == name.as_ref()) {
            Some(i) => {
                names.remove(i);
                true
            }
            None => false,
        }
    }
}

/// The file system back-end, optionally refusing every change, and
/// failing the downloads `flaky` names once each.
#[derive(Debug)]
struct Guarded {
    inner: Filesystem,
    read_only: bool,
    flaky: Flaky,
}

fn refused() -> StorageError {
    StorageError::from(ErrorKind::PermissionDenied)
}

#[async_trait]
impl StorageBackend<DefaultUser> for Guarded {
    type Metadata = Meta;

    fn supported_features(&self) -> u32 {
        StorageBackend::<DefaultUser>::supported_features(&self.inner)
    }

    async fn metadata<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<Meta> {
        self.inner.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<Vec<Fileinfo<PathBuf, Meta>>> {
        self.inner.list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> unftp_core::storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        if self.flaky.take(path.as_ref()) {
            return Err(StorageError::from(ErrorKind::TransientFileNotAvailable));
        }
        self.inner.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + fmt::Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> unftp_core::storage::Result<u64> {
        if self.read_only {
            return Err(refused());
        }
        self.inner.put(user, input, path, start_pos).await
    }

    async fn del<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<()> {
        if self.read_only {
            return Err(refused());
        }
        self.inner.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<()> {
        if self.read_only {
            return Err(refused());
        }
        self.inner.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> unftp_core::storage::Result<()> {
        if self.read_only {
            return Err(refused());
        }
        self.inner.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<()> {
        if self.read_only {
            return Err(refused());
        }
        self.inner.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> unftp_core::storage::Result<()> {
        self.inner.cwd(user, path).await
    }
}

/// A control port of its own for each in-process server, outside the
/// kernel's ephemeral range: a port found free with `bind(0)` and released
/// could be handed to another test's server before ours binds it.
fn control_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = 20000 + (std::process::id() as usize % 40) * 250;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 250, "ran out of test ports");
        let port = u16::try_from(base + n).expect("port fits");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A passive port range of its own for each in-process server, so no two
/// servers of one test process ever hand out the same data port.
fn passive_ports() -> std::ops::RangeInclusive<u16> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = u16::try_from(NEXT.fetch_add(1, Ordering::SeqCst) % 90).expect("small");
    let low = 50000 + n * 150;
    low..=low + 149
}

/// Start a libunftp server in its own runtime thread; returns its port.
fn start_libunftp(
    root: &Path,
    read_only: bool,
    tls: Option<(PathBuf, PathBuf)>,
    logins: Arc<AtomicUsize>,
    flaky: Flaky,
) -> u16 {
    let port = control_port();
    let root = root.to_path_buf();
    // A greeting of its own, to tell this server from any other.
    let greeting: &'static str = Box::leak(format!("polyops test server {port}").into_boxed_str());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let storage = move || Guarded {
                inner: Filesystem::new(root.clone()).expect("filesystem back-end"),
                read_only,
                flaky: flaky.clone(),
            };
            let mut builder = libunftp::ServerBuilder::with_authenticator(
                Box::new(storage),
                Arc::new(Password { logins }),
            )
            .greeting(greeting)
            .passive_host([127, 0, 0, 1])
            .passive_ports(passive_ports());
            if let Some((cert, key)) = tls {
                builder = builder.ftps(cert, key);
            }
            let server = builder.build().expect("libunftp server");
            let _ = ready_tx.send(());
            let _ = server.listen(format!("127.0.0.1:{port}")).await;
        });
    });
    ready_rx.recv().expect("server thread started");
    // Wait until it accepts connections.
    // Wait until it answers, and make sure it is this server that answers.
    for _ in 0..200 {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut line);
            assert!(
                line.contains(greeting),
                "port {port} is answered by another server: {line:?}"
            );
            return port;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("in-process FTP server did not start on port {port}");
}

/// A scenario's working folder: `sites/`, env and the polyops binary.
pub struct Work {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    /// Every secret value; no command output may contain one.
    pub secrets: Vec<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Work {
    pub fn new() -> Self {
        Work {
            dir: tempfile::tempdir().expect("tempdir"),
            env: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn secret(&mut self, var: &str, value: &str) {
        self.env.push((var.to_owned(), value.to_owned()));
        self.secrets.push(value.to_owned());
    }

    pub fn write_site(&self, name: &str, yaml: &str) {
        let sites = self.path().join("sites");
        std::fs::create_dir_all(&sites).expect("sites folder");
        std::fs::write(sites.join(format!("{name}.yaml")), yaml).expect("site file");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_polyops"));
        c.args(args)
            .current_dir(self.path())
            .env_remove("POLYOPS_SECRETS_FILE")
            .env_remove("POLYOPS_HASH_KEY")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run polyops; assert no secret appears in anything it printed.
    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self
            .command(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run polyops");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.assert_no_secret(&run.stdout, "stdout");
        self.assert_no_secret(&run.stderr, "stderr");
        assert!(
            !run.stderr.contains("panicked"),
            "polyops panicked:\n{}",
            run.stderr
        );
        run
    }

    /// Run polyops on a terminal (script(1) gives it one) with `args` (a
    /// command line, as the shell reads it); what the terminal showed,
    /// checked for secrets like any output. script(1) reads its input
    /// until polyops ends: an input that ended at once would end the
    /// session early on a busy machine, before polyops showed anything.
    pub fn run_on_terminal(&self, args: &str) -> String {
        use std::io::Read;
        let polyops = self.command(&[]);
        let mut on_tty = Command::new("script");
        on_tty
            .args([
                "-qec",
                &format!("{} {args}", env!("CARGO_BIN_EXE_polyops")),
                "/dev/null",
            ])
            .current_dir(self.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in polyops.get_envs() {
            if let Some(v) = v {
                on_tty.env(k, v);
            }
        }
        let mut child = on_tty.spawn().expect("run polyops under script(1)");
        let input = child.stdin.take();
        let mut errors = child.stderr.take().expect("stderr");
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = errors.read_to_string(&mut text);
            text
        });
        let mut shown = Vec::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_end(&mut shown)
            .expect("read the terminal");
        let status = child.wait().expect("script(1) ends");
        drop(input);
        let shown = String::from_utf8_lossy(&shown).into_owned();
        let errors = errors.join().expect("stderr reader");
        self.assert_no_secret(&shown, "the terminal");
        self.assert_no_secret(&errors, "script's stderr");
        assert!(
            !shown.is_empty(),
            "the terminal showed nothing; script(1) {status}: {errors}"
        );
        shown
    }

    pub fn assert_no_secret(&self, text: &str, what: &str) {
        for s in &self.secrets {
            assert!(!text.contains(s.as_str()), "{what} leaks a secret:\n{text}");
        }
    }
}

impl Run {
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}
