//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

mod idle;
mod pool;
pub mod probe;
mod traces;
mod watchdog;
mod wire;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream};

use super::{
    checked_entries, temp_name, Access, Cause, Entry, Fetched, Found, Hashes, Reader, RemoteError,
    RemoteName, RemoteResult, Sizes, Stats, Survey, TraceRequest, Traces, Writer, KEEP_BYTES,
    MAX_FILE_BYTES,
};
use crate::site::model::{self, TargetUrl};
use crate::site::name::check_command_line;
use crate::site::secret::Secret;
use pool::whole;
use watchdog::Watchdog;
use wire::{pipelined, unexpected, Limit, Reply, Wire};

/// Attempts for an operation that fails transiently (421, 425, 426, resets).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Connections for each kind of parallel work on a nearby server, measured
/// on 2-core machines with vsftpd and proftpd (BENCHMARKS.md, the
/// `--connections` sweep): more cost server CPU (every login, every data
/// connection) without going faster. Downloads are best at 2; uploads
/// (which also rename each file) at 4; hashes (cheap commands, many in
/// flight) at 4.
const CONNECTIONS_HASHING: usize = 4;
const CONNECTIONS_DOWNLOAD: usize = 2;
const CONNECTIONS_UPLOAD: usize = 4;
/// Where every reply takes this long or more, the server is far away (a
/// WAN link, a loaded server): time goes to waiting, not to server CPU, so
/// more sessions in flight pay off.
const FAR: Duration = Duration::from_millis(2);
const CONNECTIONS_FAR: usize = 16;
/// Hash commands sent before reading their replies (on a slow link, more).
const HASH_PIPELINE: usize = 16;
const HASH_PIPELINE_FAR: usize = 128;
/// Most transfers one connection takes at a time: more leaves connections
/// idle at the end of a run. Fewer costs nothing: the last transfer of a
/// batch opens the data connection of the next.
const TRANSFER_BATCH: usize = 16;
/// How long a TLS session's end may take (its QUIT and close_notify).
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// What parallel work does: how many sessions pay off depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Hash,
    Download,
    Upload,
}

/// How the server computes a file's SHA-256 for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashCommand {
    /// `XSHA256 name` → `250 <hex>`.
    Xsha256,
    /// `HASH name` after `OPTS HASH SHA-256` → `213 SHA-256 0-n <hex> name`.
    Hash,
}

impl HashCommand {
    fn verb(self) -> &'static str {
        match self {
            HashCommand::Xsha256 => "XSHA256",
            HashCommand::Hash => "HASH",
        }
    }
}

enum Conn {
    Plain(FtpStream),
    Tls(RustlsFtpStream),
}

impl Conn {
    /// Send `lines` and read their replies, whatever the codes: `together`
    /// in one round trip on plain connections, else (and always under TLS)
    /// one command at a time.
    fn batch(
        &mut self,
        w: Wire<'_>,
        lines: &[String],
        together: bool,
    ) -> Result<Vec<Reply>, FtpError> {
        match self {
            Conn::Plain(s) if together => pipelined(s, w, lines),
            Conn::Plain(s) => lines
                .iter()
                .map(|l| pipelined(s, w, std::slice::from_ref(l)).map(|mut r| r.remove(0)))
                .collect(),
            Conn::Tls(s) => lines
                .iter()
                .map(|l| {
                    match wire::check(w.access, l).and_then(|()| s.custom_command(l.as_str(), &[]))
                    {
                        // No code is expected: every reply is "unexpected".
                        Ok(r) | Err(FtpError::UnexpectedResponse(r)) => Ok((
                            r.status.code(),
                            String::from_utf8_lossy(&r.body).into_owned(),
                        )),
                        Err(e) => Err(e),
                    }
                })
                .collect(),
        }
    }
}

/// Run the same code on either kind of connection.
macro_rules! on {
    ($conn:expr, $s:ident => $body:expr) => {
        match $conn {
            Conn::Plain($s) => $body,
            Conn::Tls($s) => $body,
        }
    };
}

#[derive(Clone)]
struct Settings {
    connections: Option<usize>,
    addr: SocketAddr,
    host: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    user: String,
    password: Secret,
    path: String,
    /// Whether this target may change the server at all.
    access: Access,
    /// Files read or hashed so far over every connection, for progress.
    counter: Arc<std::sync::atomic::AtomicUsize>,
    /// Why operations were retried, in the order they failed: one log for
    /// every connection to this target.
    retried: Arc<Mutex<Vec<String>>>,
}

/// What the first login learnt of the server: later logins to it (retries,
/// parallel connections) do not ask again.
#[derive(Clone, Copy, Default)]
struct Learnt {
    mlsd: bool,
    /// SIZE is in FEAT (RFC 3659): apply checks uploads by size with it
    /// when the server has no hash command.
    size: bool,
    hash: Option<HashCommand>,
    /// Time of one round trip, measured at the first login.
    round_trip: Duration,
    /// Whether the server is known to run commands one at a time, so that
    /// one may follow a transfer before it ends (see `wire::sequential`).
    sequential: bool,
}

/// How to open another connection like an existing one.
struct Template {
    settings: Settings,
    learnt: Option<Learnt>,
    /// Whether the connection will transfer files (see `FtpRemote::data`).
    data_ahead: bool,
}

impl Template {
    fn open(&self) -> RemoteResult<FtpRemote> {
        FtpRemote::login(self.settings.clone(), self.learnt, self.data_ahead)
    }
}

pub struct FtpRemote {
    settings: Settings,
    conn: Option<Conn>,
    /// Ends an exchange on this connection that outlives its deadline.
    watchdog: Watchdog,
    /// What this connection uses (`hash` is `None` where this session
    /// refused `OPTS HASH SHA-256`); handed on to later connections.
    server: Learnt,
    /// Whether `server` holds what a login learnt yet.
    probed: bool,
    /// Whether commands may go out before the previous ones are answered
    /// (cleared for a server that answered out of order).
    pipeline: bool,
    /// A data connection the server opened for this session (its PASV or
    /// EPSV was answered) that no transfer has used yet: the passive
    /// command travelled with the login or with the last transfer, so the
    /// next transfer needs no round trip of its own to open one. A server
    /// listens on one passive port per session; every passive command
    /// sent replaces this.
    data: Option<SocketAddr>,
    /// Whether a login of this connection opens a data connection ahead.
    data_ahead: bool,
    /// Where this session's login started (its reply to PWD), when the
    /// login was pipelined: a session that knows it may serve another
    /// folder later (see `idle`).
    home: Option<String>,
    /// Whether every exchange of this session ended as expected, a file
    /// absent aside: only then can no reply be left unread in it.
    clean: bool,
    /// Extra logged-in connections for parallel work, opened on demand.
    pool: Vec<FtpRemote>,
    stats: Stats,
}

impl FtpRemote {
    pub fn connect(
        target: &model::Target,
        password: &Secret,
        connections: Option<usize>,
        access: Access,
    ) -> RemoteResult<Self> {
        let TargetUrl::Ftp {
            tls,
            host,
            port,
            path,
        } = &target.url
        else {
            return Err(RemoteError::new(Cause::Refused, "not an FTP URL"));
        };
        let addr = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(|e| RemoteError::new(Cause::Refused, format!("cannot resolve {host}: {e}")))?
            .next()
            .ok_or_else(|| RemoteError::new(Cause::Refused, format!("{host} has no address")))?;
        // They go on the control connection as they are: a line break in
        // one would be a second command.
        for (field, value) in [
            ("target.user", target.user.as_str()),
            ("target.password", password.expose()),
            ("the URL's path", path.as_str()),
        ] {
            check_command_line(value).map_err(|_| {
                RemoteError::new(
                    Cause::Refused,
                    format!("{field} holds CR, LF or NUL, which FTP cannot send"),
                )
            })?;
        }
        let tls = if *tls {
            Some(Arc::new(tls_config(target.ca_file.as_deref())?))
        } else {
            None
        };
        Self::login(
            Settings {
                connections,
                addr,
                host: host.clone(),
                tls,
                timeout: target.timeout,
                user: target.user.clone(),
                password: password.clone(),
                path: path.clone(),
                access,
                counter: Arc::default(),
                retried: Arc::default(),
            },
            None,
            true,
        )
    }

    /// A new logged-in connection; with `data_ahead`, one that opens a data
    /// connection as it logs in (on servers whose login is pipelined).
    fn login(settings: Settings, learnt: Option<Learnt>, data_ahead: bool) -> RemoteResult<Self> {
        let mut t = FtpRemote {
            settings,
            conn: None,
            watchdog: Watchdog::new(),
            server: learnt.unwrap_or_default(),
            probed: learnt.is_some(),
            pipeline: true,
            data: None,
            data_ahead,
            home: None,
            clean: true,
            pool: Vec::new(),
            stats: Stats::default(),
        };
        if t.resume() {
            return Ok(t);
        }
        // A TLS handshake that met plaintext (a server that wrote a late
        // reply after AUTH TLS) is worth another try; nothing else is.
        let mut attempt = 1;
        loop {
            match t.reconnect() {
                Err(e) if e.message.contains("corrupt message") && attempt < ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(FIRST_BACKOFF);
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(t),
            }
        }
    }

    /// How to open another connection like this one; `data_ahead`: for
    /// work that transfers files.
    fn template(&self, data_ahead: bool) -> Template {
        Template {
            settings: self.settings.clone(),
            learnt: self.probed.then_some(self.server),
            data_ahead,
        }
    }

    /// How many connections parallel work of `items` items may use, this
    /// one included. On a far server each transfer waits for round trips
    /// on its connection, so sessions side by side pay, but each costs a
    /// login (server CPU, a process or two on most servers): with n
    /// transfers and k sessions the wait is about n/k transfers, and one
    /// more session saves about n/k² of them, less than one once k is
    /// past √n. So about √n sessions, at most `CONNECTIONS_FAR`.
    fn connection_limit(&self, job: Job, items: usize) -> usize {
        self.settings
            .connections
            .unwrap_or(match job {
                // Hashing is pipelined: more commands in flight, not more
                // sessions, is what pays on a slow link.
                Job::Hash => CONNECTIONS_HASHING,
                _ if self.server.round_trip >= FAR => CONNECTIONS_FAR
                    .min(items.isqrt() + 1)
                    .max(CONNECTIONS_DOWNLOAD),
                Job::Download => CONNECTIONS_DOWNLOAD,
                Job::Upload => CONNECTIONS_UPLOAD,
            })
            .max(1)
    }

    /// Hash commands one connection sends before reading their replies.
    fn hash_pipeline(&self) -> usize {
        if self.server.round_trip >= FAR {
            HASH_PIPELINE_FAR
        } else {
            HASH_PIPELINE
        }
    }

    /// Hash `names` on this connection: pipelined on plain connections,
    /// one command at a time under TLS.
    fn hash_chunk(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<Option<String>>> {
        let Some(cmd) = self.server.hash else {
            return Err(RemoteError::new(
                Cause::Refused,
                "the server cannot hash files",
            ));
        };
        let access = self.settings.access;
        let lines: Vec<String> = names
            .iter()
            .map(|n| wire::line(access, cmd.verb(), n))
            .collect::<Result<_, _>>()
            .map_err(|e| classify("hashing files", e))?;
        // An XSHA256 reply does not name its file either (see size_chunk).
        let together = self.server.sequential;
        let replies = self.retry("hashing files", |c, w| c.batch(w, &lines, together))?;
        self.stats.hashes += names.len();
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                200..=299 => wire::hex_digest(&text).map(Some).ok_or_else(|| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("hashing {name}: unexpected reply {}", text.trim()),
                    )
                }),
                550 => Ok(None),
                _ => Err(classify(
                    &format!("hashing {name}"),
                    unexpected(code, &text),
                )),
            })
            .collect()
    }

    /// `SIZE` of each name, pipelined: `213 <bytes>`, or 550 for a file
    /// that is absent (RFC 3659).
    fn size_chunk(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<Option<u64>>> {
        let access = self.settings.access;
        let lines: Vec<String> = names
            .iter()
            .map(|n| wire::line(access, "SIZE", n))
            .collect::<Result<_, _>>()
            .map_err(|e| classify("reading sizes", e))?;
        // SIZE replies do not name their file: pipelined, they can be
        // matched to their commands only on a server known to answer in
        // order.
        let together = self.server.sequential;
        let replies = self.retry("reading sizes", |c, w| c.batch(w, &lines, together))?;
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                213 => text
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse::<u64>().ok())
                    .map(Some)
                    .ok_or_else(|| {
                        RemoteError::new(
                            Cause::Refused,
                            format!("size of {name}: unexpected reply {}", text.trim()),
                        )
                    }),
                550 => Ok(None),
                _ => Err(classify(
                    &format!("size of {name}"),
                    unexpected(code, &text),
                )),
            })
            .collect()
    }

    fn reconnect(&mut self) -> RemoteResult<()> {
        self.quit();
        self.data = None;
        self.home = None;
        let result = self.connect_and_log_in();
        self.watchdog.disarm();
        let conn = result?;
        self.conn = Some(conn);
        self.clean = true;
        Ok(())
    }

    /// Who may hand this target a session, or take one from it.
    fn key(&self) -> idle::Key {
        let s = &self.settings;
        idle::Key::new(s.addr, &s.user, s.password.expose(), s.access)
    }

    /// Take a session another target of this server and account left
    /// (see `idle`), and move it to this target's folder; whether one
    /// was taken.
    fn resume(&mut self) -> bool {
        if self.settings.tls.is_some() {
            return false;
        }
        let key = self.key();
        while let Some(session) = idle::take(&key) {
            match self.adopt(session) {
                Adopted::Yes => return true,
                // The next one would fail the same way: a fresh login
                // reports why.
                Adopted::Refused => return false,
                Adopted::Ended => {}
            }
        }
        false
    }

    /// Use `session`: its folder set from its home in one round trip,
    /// with the passive command of the first transfer (with `data_ahead`).
    /// A session that does not answer is ended; one that refuses the
    /// folder is kept for others.
    fn adopt(&mut self, session: idle::Idle) -> Adopted {
        let idle::Idle {
            key,
            conn,
            watchdog,
            server,
            home,
        } = session;
        let timeout = self.settings.timeout;
        let w = wire_of(&self.settings, &watchdog);
        let mut lines = vec![format!("CWD {home}")];
        if !self.settings.path.is_empty() {
            lines.push(format!("CWD {}", self.settings.path));
        }
        let folders = lines.len();
        if self.data_ahead {
            lines.push(wire::passive_command(self.settings.addr).to_owned());
        }
        let timed = {
            let socket: &TcpStream = &conn.get_ref();
            set_timeouts(socket, timeout)
        };
        let replies = timed.and_then(|()| {
            watchdog.arm(timeout);
            let replies = wire::pipelined(&conn, w, &lines);
            watchdog.disarm();
            replies.map_err(|e| deadline_error(&watchdog, timeout, "changing folders", e))
        });
        let Ok(replies) = replies else {
            wire::quit(&conn, w);
            return Adopted::Ended;
        };
        if !replies[..folders].iter().all(|r| (200..300).contains(&r.0)) {
            let kept = idle::park(idle::Idle {
                key,
                conn,
                watchdog,
                server,
                home,
            });
            if let Some(back) = kept {
                wire::quit(&back.conn, wire_of(&self.settings, &back.watchdog));
            }
            return Adopted::Refused;
        }
        self.data = replies
            .get(folders)
            .and_then(|r| wire::passive_addr(self.settings.addr, r).ok());
        self.conn = Some(Conn::Plain(conn));
        self.watchdog = watchdog;
        self.server = server;
        self.probed = true;
        self.home = Some(home);
        Adopted::Yes
    }

    /// Keep this session for another target (see `idle`) if it can be
    /// trusted to be in step; whether it was kept.
    fn park(&mut self) -> bool {
        let fit = self.clean
            && self.pipeline
            && self.server.sequential
            && self.home.is_some()
            && !self.watchdog.fired()
            && matches!(self.conn, Some(Conn::Plain(_)));
        if !fit {
            return false;
        }
        let (Some(Conn::Plain(conn)), Some(home)) = (self.conn.take(), self.home.take()) else {
            return false;
        };
        let session = idle::Idle {
            key: self.key(),
            conn,
            watchdog: self.watchdog.clone(),
            server: self.server,
            home,
        };
        match idle::park(session) {
            None => true,
            Some(back) => {
                self.conn = Some(Conn::Plain(back.conn));
                false
            }
        }
    }

    /// A session that failed other than by a file being absent may hold a
    /// reply nobody read: it is not handed on.
    fn taint<T>(&mut self, result: RemoteResult<T>) -> RemoteResult<T> {
        if result.as_ref().is_err_and(|e| e.cause != Cause::NotFound) {
            self.clean = false;
        }
        result
    }

    /// Connect, read the greeting, log in and set the session up: each
    /// step under its own deadline, so a server that accepts but never
    /// greets, or answers a byte at a time, cannot hold polyops.
    fn connect_and_log_in(&mut self) -> RemoteResult<Conn> {
        let s = &self.settings;
        let timeout = s.timeout;
        let dog = self.watchdog.clone();
        let passive = move |addr: SocketAddr| wire::open_data_watched(addr, timeout, &dog);
        let socket = TcpStream::connect_timeout(&s.addr, timeout).map_err(|e| {
            RemoteError::new(Cause::Transient, format!("connecting to {}: {e}", s.addr))
        })?;
        set_timeouts(&socket, timeout)?;
        self.watchdog.control(&socket);
        let dog = &self.watchdog;
        let step = |what: &str, e: FtpError| deadline_error(dog, timeout, what, e);
        dog.arm(timeout);
        let mut conn = match &s.tls {
            None => Conn::Plain({
                let mut c = FtpStream::connect_with_stream(socket)
                    .map_err(|e| step("waiting for the greeting", e))?
                    .passive_stream_builder(passive);
                c.set_passive_nat_workaround(true);
                c
            }),
            Some(cfg) => {
                let mut plain = RustlsFtpStream::connect_with_stream(socket)
                    .map_err(|e| step("waiting for the greeting", e))?
                    .passive_stream_builder(passive);
                // The data connection goes to the server's own host,
                // whatever address its PASV reply names.
                plain.set_passive_nat_workaround(true);
                dog.arm(timeout);
                Conn::Tls(
                    plain
                        .into_secure(RustlsConnector::from(Arc::clone(cfg)), &s.host)
                        .map_err(|e| step("starting TLS", e))?,
                )
            }
        };
        if let Conn::Plain(c) = &conn {
            if c.get_welcome_msg().is_some_and(wire::sequential) {
                self.log_in_at_once(c)?;
                return Ok(conn);
            }
        }
        on!(&mut conn, c => {
            dog.arm(timeout);
            c.login(s.user.as_str(), s.password.expose())
                .map_err(|e| login_error(&s.user, step("logging in", e)))?;
            // Through suppaftp, which converts line ends on upload unless
            // it knows the type is binary.
            dog.arm(timeout);
            c.transfer_type(FileType::Binary)
                .map_err(|e| step("setting binary mode", e))?;
        });
        self.set_up(&mut conn)?;
        Ok(conn)
    }

    /// Log in and set the session up in one round trip, on a plain
    /// connection to a server that reads one command at a time (see
    /// `wire::sequential`): USER, PASS, TYPE I, FEAT at the first login,
    /// the session's options, and (with `data_ahead`) the passive command
    /// of the first transfer go in one write. The password goes before
    /// the server asked for it, to the same server that would ask.
    fn log_in_at_once(&mut self, c: &FtpStream) -> RemoteResult<()> {
        let dog = self.watchdog.clone();
        let s = self.settings.clone();
        let (timeout, w) = (s.timeout, wire_of(&s, &dog));
        let probe = !self.probed;
        let mut lines = vec![
            format!("USER {}", s.user),
            format!("PASS {}", s.password.expose()),
            "TYPE I".to_owned(),
            "PWD".to_owned(),
        ];
        if probe {
            lines.push("FEAT".to_owned());
        }
        let options = self.session_options();
        lines.extend(options.iter().cloned());
        if self.data_ahead {
            lines.push(wire::passive_command(s.addr).to_owned());
        }
        dog.arm(timeout);
        let (replies, round_trip) = wire::pipelined_timed(c, w, &lines)
            .map_err(|e| deadline_error(&dog, timeout, "logging in", e))?;
        let mut replies = replies.into_iter();
        let mut next = || {
            replies
                .next()
                .ok_or_else(|| RemoteError::new(Cause::Transient, "logging in: a reply is missing"))
        };
        let (user, pass) = (next()?, next()?);
        match (user.0, pass.0) {
            // No password needed: PASS is then refused or ignored.
            (230, _) | (331 | 332, 230 | 202) => {}
            (331 | 332, _) => return Err(login_error(&s.user, login_refusal(&pass))),
            _ => return Err(login_error(&s.user, login_refusal(&user))),
        }
        expect_ok("setting binary mode", &next()?)?;
        self.home = wire::current_folder(&next()?);
        if probe {
            let feat = next()?;
            self.learn(c.get_welcome_msg(), &feat.1, round_trip);
        }
        let option_replies = options
            .iter()
            .map(|_| next())
            .collect::<RemoteResult<Vec<_>>>()?;
        self.settle_options(&options, &option_replies)?;
        if self.data_ahead {
            self.data = wire::passive_addr(s.addr, &next()?).ok();
        }
        if probe && self.server.hash == Some(HashCommand::Hash) {
            // Learnt only now: one more round trip, at the first login.
            let lines = ["OPTS HASH SHA-256".to_owned()];
            dog.arm(timeout);
            let replies = wire::pipelined(c, w, &lines)
                .map_err(|e| deadline_error(&dog, timeout, "setting up the session", e))?;
            self.settle_options(&lines, &replies)?;
        }
        self.probed = true;
        Ok(())
    }

    /// After login and TYPE I: what the server offers (first login only),
    /// the hash algorithm, the folder. Commands go in two round trips at
    /// the first login, one at every later one.
    fn set_up(&mut self, conn: &mut Conn) -> RemoteResult<()> {
        let dog = self.watchdog.clone();
        let (w, timeout) = (wire_of(&self.settings, &dog), self.settings.timeout);
        if !self.probed {
            let started = Instant::now();
            self.watchdog.arm(timeout);
            let replies = conn.batch(w, &["FEAT".to_owned()], true).map_err(|e| {
                deadline_error(
                    &self.watchdog,
                    timeout,
                    "asking for the server's features",
                    e,
                )
            })?;
            let round_trip = started.elapsed();
            let greeting = on!(&*conn, c => c.get_welcome_msg().map(str::to_owned));
            self.learn(greeting.as_deref(), &replies[0].1, round_trip);
        }
        let lines = self.session_options();
        self.watchdog.arm(timeout);
        let replies = conn
            .batch(w, &lines, true)
            .map_err(|e| deadline_error(&self.watchdog, timeout, "setting up the session", e))?;
        self.settle_options(&lines, &replies)?;
        self.probed = true;
        Ok(())
    }

    /// What the greeting and the reply to FEAT say about the server, and
    /// how long one round trip takes.
    fn learn(&mut self, greeting: Option<&str>, feat: &str, round_trip: Duration) {
        // A server without FEAT answers 500: no features.
        let features = wire::features(feat);
        let has = |name: &str| features.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        // RFC 3659 announces MLSD through the MLST feature.
        self.server.mlsd = has("MLSD") || has("MLST");
        self.server.size = has("SIZE");
        let hash_sha256 = features.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("HASH")
                && v.as_deref()
                    .is_some_and(|v| v.to_ascii_uppercase().contains("SHA-256"))
        });
        self.server.hash = if has("XSHA256") {
            Some(HashCommand::Xsha256)
        } else if hash_sha256 {
            Some(HashCommand::Hash)
        } else {
            None
        };
        self.server.round_trip = round_trip;
        self.server.sequential = greeting.is_some_and(wire::sequential);
    }

    /// What the replies to `session_options` lines mean.
    fn settle_options(&mut self, lines: &[String], replies: &[Reply]) -> RemoteResult<()> {
        for (line, reply) in lines.iter().zip(replies) {
            if line.starts_with("OPTS HASH") {
                if reply.0 != 200 {
                    self.server.hash = None;
                }
            } else {
                expect_ok(&format!("changing to folder {}", self.settings.path), reply)?;
            }
        }
        Ok(())
    }

    /// The commands every session needs after TYPE I.
    fn session_options(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.server.hash == Some(HashCommand::Hash) {
            lines.push("OPTS HASH SHA-256".to_owned());
        }
        if !self.settings.path.is_empty() {
            lines.push(format!("CWD {}", self.settings.path));
        }
        lines
    }

    /// Upload `files` on this connection, each under its temporary name,
    /// then renamed into place. On a plain connection a file costs two
    /// round trips: its data follows the STOR at once, and its rename
    /// travels with the next upload's PASV (the last one's too: the next
    /// batch, or whatever this connection does next, uses it). Renames run
    /// in order, so the files that landed are a prefix of `files`. Stops
    /// before the next file once `stop` is set.
    fn upload_batch(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
    ) -> pool::Partial<()> {
        if self.fuses_uploads() {
            return self.upload_fused(files, stop);
        }
        let mut landed = 0;
        // Stored under its temporary name, not renamed yet.
        let mut pending: Option<&RemoteName> = None;
        let mut error = None;
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(prev) = pending.take() {
                if let Err(e) = self.rename_then_passive(prev) {
                    error = Some(e);
                    break;
                }
                landed += 1;
            }
            self.stats.uploads += 1;
            let temp = match temp_name(name) {
                Ok(t) => t,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Err(e) = self.store(&temp, bytes) {
                let _ = self.delete(&temp);
                error = Some(e);
                break;
            }
            pending = Some(name);
        }
        if let Some(last) = pending {
            match self.rename_then_passive(last) {
                Ok(()) => landed += 1,
                Err(e) => error = Some(e),
            }
        }
        (vec![(); landed], error)
    }

    /// Whether an upload's rename and the next upload's PASV can travel
    /// with it (see `store_and_rename`): on a plain connection to a server
    /// that reads commands in turn and has answered them in order.
    fn fuses_uploads(&self) -> bool {
        self.pipeline && self.server.sequential && matches!(self.conn, Some(Conn::Plain(_)))
    }

    /// `upload_batch` with `store_and_rename`: the files that landed are
    /// a prefix of `files`.
    fn upload_fused(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
    ) -> pool::Partial<()> {
        let mut landed = 0;
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            self.stats.uploads += 1;
            if let Err(e) = self.store_and_rename(name, bytes) {
                return (vec![(); landed], Some(e));
            }
            landed += 1;
        }
        (vec![(); landed], None)
    }

    /// Upload `name` under its temporary name and rename it into place,
    /// on a plain connection to a server that reads commands in turn: the
    /// next upload's PASV travels with the STOR, and RNFR + RNTO go the
    /// moment the 226 says the whole file landed (never before it), so a
    /// file waits for two round trips, not three. Retried after passing
    /// failures from the STOR on (the same bytes land under the same
    /// name); the temporary file is removed if it cannot be renamed.
    fn store_and_rename(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        let temp = temp_name(name)?;
        let peer = self.settings.addr;
        let what = format!("renaming {temp} to {name}");
        let lines = rename_lines(wire_of(&self.settings, &self.watchdog), &temp, name)
            .map_err(|e| classify(&what, e))?;
        let mut data_addr = self.data.take();
        let mut next = None;
        let mut renames = Vec::new();
        let stored = self.retry_sized(&format!("uploading {temp}"), bytes.len() as u64, |c, w| {
            next = None;
            let Conn::Plain(s) = c else {
                return Err(FtpError::BadResponse);
            };
            let addr = match data_addr.take() {
                Some(a) => a,
                None => wire::passive(s, w, peer)?,
            };
            let then = Some(wire::passive_command(peer));
            let out = wire::store(s, w, &temp, bytes, addr, then, &lines)?;
            next = out.then.and_then(|r| wire::passive_addr(peer, &r).ok());
            renames = out.after;
            Ok(())
        });
        self.data = next;
        if let Err(e) = stored {
            let _ = self.delete(&temp);
            return Err(e);
        }
        let w = wire_of(&self.settings, &self.watchdog);
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| RemoteError::new(Cause::Transient, "not connected"))?;
        let [rnfr, rnto] = &renames[..] else {
            return Err(RemoteError::new(
                Cause::Transient,
                format!("{what}: no reply"),
            ));
        };
        w.watchdog.arm(w.timeout);
        let renamed = settle_rename(c, w, &temp, name, rnfr, rnto, &mut self.pipeline, true);
        w.watchdog.disarm();
        if let Err(e) = renamed {
            let e = deadline_error(w.watchdog, w.timeout, &what, e);
            self.clean = false;
            let _ = self.delete(&temp);
            return Err(e);
        }
        Ok(())
    }

    /// Rename `name`'s temporary file into place; on a plain connection
    /// also open the next upload's data connection (kept in `self.data`
    /// when the server answered in order). The temporary file is removed
    /// if the rename fails.
    fn rename_then_passive(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let temp = temp_name(name)?;
        let w = wire_of(&self.settings, &self.watchdog);
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| RemoteError::new(Cause::Transient, "not connected"))?;
        // The passive command below replaces any data connection open.
        self.data = None;
        w.watchdog.arm(w.timeout);
        let (renamed, addr) =
            rename_and_passive(c, w, self.settings.addr, &temp, name, &mut self.pipeline);
        w.watchdog.disarm();
        if let Err(e) = renamed {
            self.clean = false;
            let _ = self.delete(&temp);
            return Err(classify(&format!("renaming {temp} to {name}"), e));
        }
        self.data = addr;
        Ok(())
    }

    /// STOR `bytes` as `name`, over the data connection in `self.data` if
    /// one is open; retried (after a fresh login) on transient failures.
    /// On a plain connection to a server that reads commands in turn, the
    /// next data connection is opened in the same round trip.
    fn store(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        let peer = self.settings.addr;
        let then = (self.pipeline && self.server.sequential).then(|| wire::passive_command(peer));
        let mut data_addr = self.data.take();
        let mut next = None;
        let stored =
            self.retry_sized(
                &format!("uploading {name}"),
                bytes.len() as u64,
                |c, w| match c {
                    Conn::Plain(s) => {
                        next = None;
                        let addr = match data_addr.take() {
                            Some(a) => a,
                            None => wire::passive(s, w, peer)?,
                        };
                        let out = wire::store(s, w, name, bytes, addr, then, &[])?;
                        next = out.then.and_then(|r| wire::passive_addr(peer, &r).ok());
                        Ok(())
                    }
                    Conn::Tls(s) => {
                        wire::line(w.access, "STOR", name)?;
                        let mut data = ReleaseAtEnd {
                            bytes: Cursor::new(bytes),
                            watchdog: w.watchdog,
                        };
                        s.put_file(name, &mut data).map(|_| ())
                    }
                },
            );
        self.data = next;
        stored
    }

    /// How many files one connection transfers at a time: batches small
    /// enough that every connection gets several.
    fn batch_size(&self, files: usize, job: Job) -> usize {
        (files / (self.connection_limit(job, files) * 4)).clamp(1, TRANSFER_BATCH)
    }

    /// Read `names` on this connection, `None` for each file the server
    /// does not have and each that `skip` (asked just before its turn)
    /// leaves out. On a plain connection to a server that runs commands
    /// one at a time, each RETR carries the next file's PASV (the last
    /// one's too, for whatever this connection does next), so a file
    /// costs one round trip.
    fn read_batch(
        &mut self,
        names: &[RemoteName],
        skip: &dyn Fn(&RemoteName) -> bool,
    ) -> pool::Partial<Option<Fetched>> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if skip(name) {
                out.push(None);
                continue;
            }
            let limit = Limit::File {
                keep: KEEP_BYTES,
                max: MAX_FILE_BYTES,
            };
            match self.fetch(name, limit) {
                Ok(fetched) => out.push(Some(fetched)),
                Err(e) if e.cause == Cause::NotFound => out.push(None),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// RETR `name`, over the data connection in `self.data` if one is
    /// open; retried (after a fresh login) on transient failures. On a
    /// plain connection to a server that runs commands one at a time, the
    /// next data connection is opened in the same round trip (into
    /// `self.data`), whether or not the file was there.
    fn fetch(&mut self, name: &RemoteName, limit: Limit) -> RemoteResult<Fetched> {
        self.stats.downloads += 1;
        let peer = self.settings.addr;
        let then = (self.pipeline && self.server.sequential).then(|| wire::passive_command(peer));
        let command = wire::line(self.settings.access, "RETR", name)
            .map_err(|e| classify(&format!("reading {name}"), e))?;
        let mut data_addr = self.data.take();
        let mut in_order = true;
        let mut next = None;
        let fetched = self.retry(&format!("reading {name}"), |c, w| match c {
            Conn::Plain(s) => {
                next = None;
                let addr = match data_addr.take() {
                    Some(a) => a,
                    None => wire::passive(s, w, peer)?,
                };
                let received = wire::receive(s, w, &command, addr, then, limit)?;
                in_order &= received.in_order;
                next = match (&received.then, received.in_order) {
                    (Some(reply), true) => wire::passive_addr(peer, reply).ok(),
                    _ => None,
                };
                let (fetched, _) = received
                    .outcome
                    .map_err(|(code, text)| wire::unexpected(code, &text))?;
                Ok(fetched)
            }
            Conn::Tls(s) => {
                let mut sink = limit.sink();
                s.retr(name.as_str(), |r| {
                    let drained = wire::drain(r, &mut sink, w).map_err(FtpError::ConnectionError);
                    w.watchdog.release_data();
                    drained
                })?;
                Ok(sink.finish())
            }
        });
        self.data = next;
        if !in_order {
            self.pipeline = false;
        }
        fetched
    }

    /// Send QUIT and end the session. On a plain connection nothing is
    /// awaited (see `wire::quit`); under TLS the close is polite, bounded
    /// by a short deadline.
    fn quit(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let w = wire_of(&self.settings, &self.watchdog);
        match &mut conn {
            Conn::Plain(s) => wire::quit(s, w),
            Conn::Tls(s) => {
                w.watchdog.arm(QUIT_WAIT.min(w.timeout));
                let _ = s.quit();
                w.watchdog.disarm();
            }
        }
    }

    /// Run `op`, reconnecting and retrying after transient failures. Each
    /// attempt must end within `timeout_seconds` (a transfer that keeps
    /// moving, longer: see `Watchdog::progress`).
    fn retry<R>(
        &mut self,
        what: &str,
        op: impl FnMut(&mut Conn, Wire<'_>) -> Result<R, FtpError>,
    ) -> RemoteResult<R> {
        self.retry_sized(what, 0, op)
    }

    /// `retry` for an operation that sends `bytes`: its deadline grows with
    /// them.
    fn retry_sized<R>(
        &mut self,
        what: &str,
        bytes: u64,
        mut op: impl FnMut(&mut Conn, Wire<'_>) -> Result<R, FtpError>,
    ) -> RemoteResult<R> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let w = wire_of(&self.settings, &self.watchdog);
            let result = match self.conn.as_mut() {
                Some(c) => {
                    w.watchdog.arm(w.timeout);
                    w.watchdog.progress(Instant::now(), w.timeout, bytes);
                    let r = op(c, w);
                    w.watchdog.disarm();
                    r.map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))
                }
                None => Err(RemoteError::new(Cause::Transient, "not connected")),
            };
            match result {
                Err(e) if e.cause == Cause::Transient && attempt < ATTEMPTS => {
                    if let Ok(mut log) = self.settings.retried.lock() {
                        log.push(e.message);
                    }
                    std::thread::sleep(backoff);
                    backoff *= 3;
                    attempt += 1;
                    // A failed reconnect is itself retried on the next turn.
                    // The next attempt opens its own data connection.
                    let reconnected = self.reconnect();
                    self.data = None;
                    if let Err(e) = reconnected {
                        if e.cause != Cause::Transient {
                            return Err(e);
                        }
                        self.conn = None;
                    }
                }
                other => return self.taint(other),
            }
        }
    }
}

/// RNFR + RNTO, replacing `to` if it exists; on plain connections both go
/// in one round trip, unless the server showed it does not take them in
/// order (`*pipeline` is then cleared for this connection).
fn rename_once(
    c: &mut Conn,
    w: Wire<'_>,
    from: &RemoteName,
    to: &RemoteName,
    pipeline: &mut bool,
) -> Result<(), FtpError> {
    let replies = c.batch(w, &rename_lines(w, from, to)?, *pipeline)?;
    settle_rename(c, w, from, to, &replies[0], &replies[1], pipeline, true)
}

fn rename_lines(w: Wire<'_>, from: &RemoteName, to: &RemoteName) -> Result<Vec<String>, FtpError> {
    Ok(vec![
        wire::line(w.access, "RNFR", from)?,
        wire::line(w.access, "RNTO", to)?,
    ])
}

/// What the replies to RNFR + RNTO mean, and the second try they may call
/// for.
#[allow(clippy::too_many_arguments)]
fn settle_rename(
    c: &mut Conn,
    w: Wire<'_>,
    from: &RemoteName,
    to: &RemoteName,
    rnfr: &Reply,
    rnto: &Reply,
    pipeline: &mut bool,
    replace: bool,
) -> Result<(), FtpError> {
    match (rnfr.0, rnto.0) {
        (350, 200..=299) => Ok(()),
        // RNTO overtook RNFR (a server that runs commands concurrently,
        // whose replies may come in either order): nothing was renamed;
        // rename one command at a time from now on.
        (350, 450 | 503) | (450 | 503, 350) if *pipeline => {
            *pipeline = false;
            let replies = c.batch(w, &rename_lines(w, from, to)?, false)?;
            settle_rename(c, w, from, to, &replies[0], &replies[1], pipeline, replace)
        }
        // Some servers refuse to rename over an existing file: remove it
        // first. The final name is briefly absent, never half-written.
        (350, 550 | 553) if replace => {
            let _ = c.batch(w, &[wire::line(w.access, "DELE", to)?], false);
            let replies = c.batch(w, &rename_lines(w, from, to)?, *pipeline)?;
            settle_rename(c, w, from, to, &replies[0], &replies[1], pipeline, false)
        }
        (350, _) => Err(unexpected(rnto.0, &rnto.1)),
        // RNFR's refusal is the cause; RNTO then only says "bad sequence".
        _ => Err(unexpected(rnfr.0, &rnfr.1)),
    }
}

/// RNFR + RNTO of one file and the PASV (EPSV) of the next upload, in one
/// round trip on a plain connection: the rename's outcome, and the data
/// address if the PASV came through in order.
fn rename_and_passive(
    c: &mut Conn,
    w: Wire<'_>,
    peer: SocketAddr,
    from: &RemoteName,
    to: &RemoteName,
    pipeline: &mut bool,
) -> (Result<(), FtpError>, Option<SocketAddr>) {
    let s = match c {
        Conn::Plain(s) if *pipeline => s,
        other => return (rename_once(other, w, from, to, pipeline), None),
    };
    let mut lines = match rename_lines(w, from, to) {
        Ok(l) => l,
        Err(e) => return (Err(e), None),
    };
    lines.push(wire::passive_command(peer).to_owned());
    let mut replies = match pipelined(s, w, &lines) {
        Ok(r) => r,
        Err(e) => return (Err(e), None),
    };
    // Told apart by its code: a server that runs commands concurrently may
    // answer out of order.
    let at = replies
        .iter()
        .position(|r| matches!(r.0, 227 | 229))
        .unwrap_or(2);
    let passive = replies.remove(at);
    let clean = at == 2 && replies[0].0 == 350 && (200..300).contains(&replies[1].0);
    let renamed = settle_rename(c, w, from, to, &replies[0], &replies[1], pipeline, true);
    if at != 2 {
        *pipeline = false;
    }
    let addr = if clean {
        wire::passive_addr(peer, &passive).ok()
    } else {
        None
    };
    (renamed, addr)
}

/// A login's failure as polyops reports it: refused (a wrong password, an
/// unknown user), unless another try may work (421 too many sessions).
fn login_error(user: &str, e: RemoteError) -> RemoteError {
    if e.cause == Cause::Transient {
        return e;
    }
    RemoteError::new(
        Cause::Refused,
        format!(
            "logging in as {user}: {}",
            e.message.trim_start_matches("logging in: ")
        ),
    )
}

/// The error a reply to USER or PASS is.
fn login_refusal((code, text): &Reply) -> RemoteError {
    classify("logging in", unexpected(*code, text))
}

/// A positive completion reply, or the error it is.
fn expect_ok(what: &str, (code, text): &Reply) -> RemoteResult<()> {
    if (200..300).contains(code) {
        Ok(())
    } else {
        Err(classify(what, unexpected(*code, text)))
    }
}

/// An upload's bytes that, once read to the end, let the watchdog forget
/// the data connection, so that suppaftp's close of it is the last.
struct ReleaseAtEnd<'a> {
    bytes: Cursor<&'a [u8]>,
    watchdog: &'a Watchdog,
}

impl std::io::Read for ReleaseAtEnd<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.bytes.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.watchdog.release_data();
        }
        Ok(n)
    }
}

/// The wire of a connection: its access and watchdog.
fn wire_of<'a>(settings: &Settings, watchdog: &'a Watchdog) -> Wire<'a> {
    Wire {
        access: settings.access,
        watchdog,
        timeout: settings.timeout,
    }
}

/// `classify`, but an exchange the watchdog cut says so: the server did
/// not answer in time (worth another session, as any timeout).
fn deadline_error(dog: &Watchdog, timeout: Duration, what: &str, e: FtpError) -> RemoteError {
    if dog.fired() {
        return RemoteError::new(
            Cause::Transient,
            format!(
                "{what}: no complete answer from the server within {} s (target.timeout_seconds)",
                timeout.as_secs()
            ),
        );
    }
    classify(what, e)
}

impl Drop for FtpRemote {
    /// Every session ends at once, or is kept for another target of the
    /// same server (see `idle`): a plain one waits for nothing, and the
    /// TLS ones end side by side, each within `QUIT_WAIT`.
    fn drop(&mut self) {
        let pool = std::mem::take(&mut self.pool);
        if pool.iter().any(|p| matches!(p.conn, Some(Conn::Tls(_)))) {
            std::thread::scope(|scope| {
                for p in pool {
                    scope.spawn(move || drop(p));
                }
            });
        } else {
            drop(pool);
        }
        if !self.park() {
            self.quit();
        }
    }
}

/// Timeouts on every read and write, and no Nagle delay: FTP is a
/// request/reply protocol of small lines, which Nagle plus delayed ACKs
/// would hold back ~40 ms each.
fn set_timeouts(socket: &TcpStream, timeout: Duration) -> RemoteResult<()> {
    socket
        .set_read_timeout(Some(timeout))
        .and_then(|_| socket.set_write_timeout(Some(timeout)))
        .and_then(|_| socket.set_nodelay(true))
        .map_err(|e| RemoteError::new(Cause::Transient, format!("setting timeouts: {e}")))
}

/// The certificates a server's own may chain to: `target.ca_file`, or the
/// system trust store.
fn root_store(ca_file: Option<&std::path::Path>) -> RemoteResult<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                RemoteError::new(
                    Cause::Refused,
                    format!("error reading CA file {}: {e}", path.display()),
                )
            })?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(RemoteError::new(
                    Cause::Refused,
                    format!("no certificates in CA file {}", path.display()),
                ));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    Ok(roots)
}

fn tls_config(ca_file: Option<&std::path::Path>) -> RemoteResult<rustls::ClientConfig> {
    let roots = root_store(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::new(Cause::Refused, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn reply_code(e: &FtpError) -> Option<u32> {
    match e {
        FtpError::UnexpectedResponse(r) => Some(r.status.code()),
        _ => None,
    }
}

fn reply_text(e: &FtpError) -> String {
    match e {
        FtpError::UnexpectedResponse(r) => {
            let body = String::from_utf8_lossy(&r.body);
            let body = body.trim();
            if body.is_empty() {
                r.status.code().to_string()
            } else {
                body.lines().next().unwrap_or(body).to_owned()
            }
        }
        other => other.to_string(),
    }
}

fn classify(what: &str, e: FtpError) -> RemoteError {
    let kind = match (&e, reply_code(&e)) {
        // Refused before it was sent (a name with a line break, a change
        // on a read-only connection), or a file or reply over polyops's
        // limits: another try would do the same.
        (FtpError::ConnectionError(io), _)
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput
                    | std::io::ErrorKind::FileTooLarge
                    | std::io::ErrorKind::InvalidData
            ) =>
        {
            Cause::Refused
        }
        (FtpError::ConnectionError(_) | FtpError::BadResponse, _) => Cause::Transient,
        (_, Some(421 | 425 | 426 | 450)) => Cause::Transient,
        // vsftpd's "500 OOPS: …" ends a session that hit a local failure
        // (e.g. binding a busy passive port); a fresh session may succeed.
        (FtpError::UnexpectedResponse(r), Some(500))
            if String::from_utf8_lossy(&r.body).contains("OOPS") =>
        {
            Cause::Transient
        }
        (_, Some(550)) => Cause::NotFound,
        _ => Cause::Refused,
    };
    RemoteError::new(kind, format!("{what}: {}", reply_text(&e)))
}

/// Entries of a listing, without `.`/`..`; the
/// names that cannot be a [`RemoteName`], made printable.
fn entries(lines: &[String], mlsd: bool) -> (Vec<Entry>, Vec<String>) {
    let mut out = Vec::new();
    for line in lines {
        let parsed = if mlsd {
            ListParser::parse_mlsd(line).ok()
        } else {
            ListParser::parse_posix(line)
                .or_else(|_| ListParser::parse_dos(line))
                .ok()
        };
        let Some(f) = parsed else { continue };
        // A name with a path in it is refused below, not cut to its last
        // segment: `a/../../x` is not `x`.
        let name = f.name().to_owned();
        if name == "." || name == ".." {
            continue;
        }
        if mlsd {
            // MLSD marks the listed folder and its parent as cdir / pdir.
            let lower = line.to_ascii_lowercase();
            if lower.contains("type=cdir") || lower.contains("type=pdir") {
                continue;
            }
        }
        out.push((name, f.is_directory()));
    }
    checked_entries(out)
}

impl Reader for FtpRemote {
    fn list(&mut self) -> RemoteResult<Vec<Entry>> {
        let mlsd = self.server.mlsd;
        let command = if mlsd { "MLSD" } else { "LIST -a" };
        let peer = self.settings.addr;
        let then = (self.pipeline && self.server.sequential).then(|| wire::passive_command(peer));
        let mut data_addr = self.data.take();
        let mut in_order = true;
        let listing = self.retry("listing", |c, w| match c {
            Conn::Plain(s) => {
                let l = wire::list(s, w, peer, command, data_addr.take(), then)?;
                in_order &= l.in_order;
                Ok(l)
            }
            Conn::Tls(s) => {
                let lines = if mlsd {
                    s.mlsd(None)
                } else {
                    s.list(Some("-a"))
                }?;
                Ok(wire::Listing {
                    lines,
                    done: String::new(),
                    next: None,
                    in_order: true,
                })
            }
        });
        if !in_order {
            self.pipeline = false;
        }
        let listing = listing?;
        self.data = listing.next;
        let done = listing.done;
        if done.to_ascii_lowercase().contains("truncat") {
            self.stats.listing_cut =
                Some(done.lines().last().unwrap_or_default().trim().to_owned());
        }
        let (entries, refused) = entries(&listing.lines, mlsd);
        self.stats.refused_names.extend(refused);
        Ok(entries)
    }

    fn read(&mut self, name: &RemoteName, max: u64) -> RemoteResult<Vec<u8>> {
        let limit = Limit::File {
            keep: usize::try_from(max).unwrap_or(usize::MAX),
            max,
        };
        let fetched = self.fetch(name, limit)?;
        fetched.bytes.ok_or_else(|| {
            RemoteError::new(Cause::Refused, format!("{name} is larger than {max} bytes"))
        })
    }

    fn read_many(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<(RemoteName, Fetched)>> {
        let mut out: Vec<Option<Fetched>> = vec![None; names.len()];
        let counter = Arc::clone(&self.settings.counter);
        self.parallel(
            Job::Download,
            names.len(),
            self.batch_size(names.len(), Job::Download),
            None,
            &|c, r| c.read_batch(&names[r], &|_| false),
            &mut |i, bytes| {
                out[i] = bytes;
                counter.fetch_add(1, Ordering::Relaxed);
            },
        )?;
        Ok(names
            .iter()
            .cloned()
            .zip(out)
            .filter_map(|(n, b)| b.map(|b| (n, b)))
            .collect())
    }

    fn hash_many(&mut self, names: &[RemoteName]) -> RemoteResult<Option<Hashes>> {
        if self.server.hash.is_none() {
            return Ok(None);
        }
        let mut out: Vec<Option<String>> = vec![None; names.len()];
        let counter = Arc::clone(&self.settings.counter);
        self.parallel(
            Job::Hash,
            names.len(),
            self.hash_pipeline(),
            None,
            &|c, r| whole(c.hash_chunk(&names[r])),
            &mut |i, sha| {
                out[i] = sha;
                counter.fetch_add(1, Ordering::Relaxed);
            },
        )?;
        Ok(Some(names.iter().cloned().zip(out).collect()))
    }

    fn sizes_many(&mut self, names: &[RemoteName]) -> RemoteResult<Option<Sizes>> {
        if !self.server.size {
            return Ok(None);
        }
        let mut out: Vec<Option<u64>> = vec![None; names.len()];
        self.parallel(
            Job::Hash,
            names.len(),
            HASH_PIPELINE,
            None,
            &|c, r| whole(c.size_chunk(&names[r])),
            &mut |i, size| out[i] = size,
        )?;
        Ok(Some(names.iter().cloned().zip(out).collect()))
    }

    /// Everything at once, over as many connections as the work takes
    /// (logging in side by side): the state file on one, the listing on
    /// another, the wanted files hashed (or read) in batches on the rest
    /// and on those two when they are done, and the `if_listed` files last,
    /// once the listing has said which are there. Until the state file is
    /// known to be absent, every wanted file is asked for by name; after
    /// that (a first apply), only those the listing shows.
    fn survey(
        &mut self,
        state: &RemoteName,
        max_state: u64,
        wanted: &[RemoteName],
        if_listed: &[RemoteName],
    ) -> RemoteResult<Survey> {
        let hashing = self.server.hash.is_some();
        let job = if hashing { Job::Hash } else { Job::Download };
        let first_listed = SURVEY_FILES + wanted.len();
        let per = if hashing {
            self.hash_pipeline()
        } else {
            self.batch_size(wanted.len(), job)
        };
        let mut ranges = vec![SURVEY_STATE..SURVEY_STATE + 1, SURVEY_LIST..SURVEY_LIST + 1];
        ranges.extend(chunks(SURVEY_FILES..first_listed, per));
        ranges.extend(chunks(
            first_listed..first_listed + if_listed.len(),
            self.batch_size(if_listed.len(), Job::Download),
        ));
        let known = Known::default();
        let counter = Arc::clone(&self.settings.counter);
        let mut state_bytes = None;
        let mut entries = None;
        let mut hashes: Vec<Option<String>> = vec![None; wanted.len()];
        let mut files: Vec<Option<Fetched>> = vec![None; wanted.len() + if_listed.len()];
        let work = |c: &mut FtpRemote, r: Range<usize>| -> pool::Partial<Piece> {
            match r.start {
                SURVEY_STATE => {
                    let read = match c.read(state, max_state) {
                        Ok(b) => Ok(Some(b)),
                        Err(e) if e.cause == Cause::NotFound => Ok(None),
                        Err(e) => Err(e),
                    };
                    if let Ok(b) = &read {
                        known.state_absent(b.is_none());
                    }
                    whole(read.map(|b| vec![Piece::State(b)]))
                }
                SURVEY_LIST => {
                    let mut publish = known.publisher();
                    let listed = c.list();
                    if let Ok(entries) = &listed {
                        publish.names = Some(
                            entries
                                .iter()
                                .filter(|e| !e.is_dir)
                                .map(|e| e.name.as_str().to_owned())
                                .collect(),
                        );
                    }
                    drop(publish);
                    whole(listed.map(|e| vec![Piece::Listing(e)]))
                }
                start if start < first_listed => {
                    let names = &wanted[start - SURVEY_FILES..r.end - SURVEY_FILES];
                    if hashing {
                        whole(
                            c.hash_chunk(names)
                                .map(|h| h.into_iter().map(Piece::Hash).collect()),
                        )
                    } else {
                        let (read, e) = c.read_batch(names, &|n| known.skip_unlisted(n));
                        (read.into_iter().map(Piece::File).collect(), e)
                    }
                }
                start => {
                    let names = &if_listed[start - first_listed..r.end - first_listed];
                    // A failed listing has stopped the work already.
                    let Some(listed) = known.listing() else {
                        return (Vec::new(), None);
                    };
                    let (read, e) = c.read_batch(names, &|n| !listed.contains(n.as_str()));
                    (read.into_iter().map(Piece::File).collect(), e)
                }
            }
        };
        // The files that may be read after the listing are few where they
        // are there at all (phones' own override files).
        self.parallel_ranges(
            job,
            true,
            SURVEY_FILES + wanted.len(),
            &ranges,
            None,
            &work,
            &mut |i, piece| match piece {
                Piece::State(b) => state_bytes = Some(b),
                Piece::Listing(e) => entries = Some(e),
                Piece::Hash(h) => {
                    hashes[i - SURVEY_FILES] = h;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Piece::File(f) => {
                    files[i - SURVEY_FILES] = f;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            },
        )?;
        let missing =
            || RemoteError::new(Cause::Transient, "observing: part of the work was not done");
        let state = state_bytes.ok_or_else(missing)?;
        let entries = entries.ok_or_else(missing)?;
        let pair =
            |names: &[RemoteName], found: Vec<Option<Fetched>>| -> Vec<(RemoteName, Fetched)> {
                names
                    .iter()
                    .cloned()
                    .zip(found)
                    .filter_map(|(n, f)| f.map(|f| (n, f)))
                    .collect()
            };
        let listed = pair(if_listed, files.split_off(wanted.len()));
        let wanted = if hashing {
            Found::Hashed(wanted.iter().cloned().zip(hashes).collect())
        } else {
            Found::Read(pair(wanted, files))
        };
        Ok(Survey {
            state,
            entries,
            wanted,
            listed,
        })
    }

    fn traces(&mut self, request: &TraceRequest<'_>) -> RemoteResult<Option<Traces>> {
        self.phone_traces(request).map(Some)
    }

    fn stats(&self) -> Stats {
        let mut total = Stats {
            connections: 1 + self.pool.len(),
            retries: self
                .settings
                .retried
                .lock()
                .map(|log| log.clone())
                .unwrap_or_default(),
            ..self.stats.clone()
        };
        for p in &self.pool {
            total.downloads += p.stats.downloads;
            total.hashes += p.stats.hashes;
            total.uploads += p.stats.uploads;
            total
                .refused_names
                .extend(p.stats.refused_names.iter().cloned());
            if total.listing_cut.is_none() {
                total.listing_cut.clone_from(&p.stats.listing_cut);
            }
        }
        total
    }

    fn counter(&self) -> Arc<std::sync::atomic::AtomicUsize> {
        Arc::clone(&self.settings.counter)
    }
}

/// What became of a session offered to a target (`FtpRemote::adopt`).
enum Adopted {
    Yes,
    /// It answered, but refused the target's folder.
    Refused,
    /// It did not answer as a session should: ended.
    Ended,
}

/// The job indices of a survey: the state file, the listing, then the
/// files.
const SURVEY_STATE: usize = 0;
const SURVEY_LIST: usize = 1;
const SURVEY_FILES: usize = 2;

/// One result of a survey's work.
enum Piece {
    State(Option<Vec<u8>>),
    Listing(Vec<Entry>),
    Hash(Option<String>),
    File(Option<Fetched>),
}

/// `range` cut into consecutive ranges of at most `size`.
fn chunks(range: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    let size = size.max(1);
    let end = range.end;
    range.step_by(size).map(move |s| s..(s + size).min(end))
}

/// What a survey's connections learn from each other as they go: whether
/// there is a state file, and which files the listing shows.
#[derive(Default)]
struct Known {
    /// 0: not known yet; 1: there is a state file; 2: there is none.
    state: std::sync::atomic::AtomicU8,
    /// `None` until the listing is done; then its file names, or `None`
    /// if it failed.
    listing: Mutex<Option<Option<Arc<BTreeSet<String>>>>>,
    done: Condvar,
}

impl Known {
    fn state_absent(&self, absent: bool) {
        self.state
            .store(if absent { 2 } else { 1 }, Ordering::SeqCst);
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Option<Arc<BTreeSet<String>>>>> {
        // A panic while holding this lock leaves nothing half-changed.
        self.listing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `name` need not be asked for: there is no state file (a
    /// first apply: most wanted files are not there yet), and the listing
    /// does not show it.
    fn skip_unlisted(&self, name: &RemoteName) -> bool {
        self.state.load(Ordering::SeqCst) == 2
            && matches!(&*self.slot(), Some(Some(names)) if !names.contains(name.as_str()))
    }

    /// The listing's file names, once it is done; `None` if it failed.
    fn listing(&self) -> Option<Arc<BTreeSet<String>>> {
        let mut slot = self.slot();
        loop {
            if let Some(names) = &*slot {
                return names.clone();
            }
            slot = self
                .done
                .wait(slot)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// The one who lists publishes what it found when it is dropped, even
    /// on an early return or a panic, so no one waits for it for ever.
    fn publisher(&self) -> Publisher<'_> {
        Publisher {
            known: self,
            names: None,
        }
    }
}

struct Publisher<'a> {
    known: &'a Known,
    /// The listing's file names; `None`: it failed.
    names: Option<BTreeSet<String>>,
}

impl Drop for Publisher<'_> {
    fn drop(&mut self) {
        *self.known.slot() = Some(self.names.take().map(Arc::new));
        self.known.done.notify_all();
    }
}

impl FtpRemote {
    /// One command with a name, answered 2xx, on this connection; not
    /// retried (a lost reply may hide that it happened).
    fn once(&mut self, what: &str, verb: &str, name: &RemoteName) -> RemoteResult<()> {
        let w = wire_of(&self.settings, &self.watchdog);
        let line = wire::line(w.access, verb, name).map_err(|e| classify(what, e))?;
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| RemoteError::new(Cause::Transient, "not connected"))?;
        w.watchdog.arm(w.timeout);
        let replies = c.batch(w, &[line], false);
        w.watchdog.disarm();
        let result = replies
            .map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))
            .and_then(|replies| expect_ok(what, &replies[0]));
        self.taint(result)
    }

    /// `once`, retried after passing failures: for what is safe to repeat.
    fn repeatable(&mut self, what: &str, verb: &str, name: &RemoteName) -> RemoteResult<()> {
        let line = wire::line(self.settings.access, verb, name).map_err(|e| classify(what, e))?;
        let reply = self.retry(what, |c, w| {
            let (code, text) = c.batch(w, std::slice::from_ref(&line), false)?.remove(0);
            if (200..300).contains(&code) {
                Ok(())
            } else {
                Err(unexpected(code, &text))
            }
        });
        reply
    }
}

impl Writer for FtpRemote {
    fn upload_many(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&RemoteName),
    ) -> RemoteResult<()> {
        let batch = self.batch_size(files.len(), Job::Upload);
        self.parallel(
            Job::Upload,
            files.len(),
            batch,
            Some(stop),
            &|c, r| c.upload_batch(&files[r], stop),
            &mut |i, ()| done(files[i].0),
        )
    }

    fn write(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        self.store(name, bytes)
    }

    fn rename(&mut self, from: &RemoteName, to: &RemoteName) -> RemoteResult<()> {
        // Not retried: if the reply was lost the rename may have happened.
        let w = wire_of(&self.settings, &self.watchdog);
        let what = format!("renaming {from} to {to}");
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| RemoteError::new(Cause::Transient, "not connected"))?;
        w.watchdog.arm(w.timeout);
        let renamed = rename_once(c, w, from, to, &mut self.pipeline);
        w.watchdog.disarm();
        let result = renamed.map_err(|e| deadline_error(w.watchdog, w.timeout, &what, e));
        self.taint(result)
    }

    fn delete(&mut self, name: &RemoteName) -> RemoteResult<()> {
        self.repeatable(&format!("deleting {name}"), "DELE", name)
    }

    fn make_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        self.once(&format!("creating folder {name}"), "MKD", name)
            .map_err(|mut err| {
                if err.cause == Cause::NotFound {
                    err.cause = Cause::Refused;
                }
                err
            })
    }

    fn remove_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        self.repeatable(&format!("removing folder {name}"), "RMD", name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_worth_another_session_are_transient() {
        for (code, text, kind) in [
            (421, "421 Timeout", Cause::Transient),
            (425, "425 Can't open data", Cause::Transient),
            (500, "500 OOPS: vsf_sysutil_bind", Cause::Transient),
            (500, "500 Unknown command.", Cause::Refused),
            (550, "550 No such file", Cause::NotFound),
        ] {
            assert_eq!(classify("x", unexpected(code, text)).cause, kind, "{text}");
        }
        // Refused before sending, or over a limit: another try would do the same.
        for kind in [
            std::io::ErrorKind::InvalidInput,
            std::io::ErrorKind::FileTooLarge,
            std::io::ErrorKind::InvalidData,
        ] {
            let e = FtpError::ConnectionError(std::io::Error::new(kind, "x"));
            assert_eq!(classify("x", e).cause, Cause::Refused);
        }
    }

    proptest::proptest! {
        /// Whatever a server lists, parsing it neither panics nor yields a
        /// name that is not a valid one.
        #[test]
        fn any_listing_line_parses_to_valid_names_or_none(line in "\\PC{0,80}|type=file; .{0,40}|[-d]rw.{0,60}") {
            for mlsd in [true, false] {
                let (entries, _) = entries(std::slice::from_ref(&line), mlsd);
                for e in entries {
                    proptest::prop_assert!(RemoteName::new(e.name.as_str()).is_ok());
                }
            }
        }
    }

    #[test]
    fn chunks_cover_a_range_in_order_without_overlap() {
        let c: Vec<Range<usize>> = chunks(2..9, 3).collect();
        assert_eq!(c, vec![2..5, 5..8, 8..9]);
        assert_eq!(chunks(4..4, 3).count(), 0);
        // A size of 0 is taken as 1, not as a loop without end.
        assert_eq!(chunks(0..2, 0).count(), 2);
    }

    #[test]
    fn unlisted_files_are_skipped_only_without_a_state_file_and_once_listed() {
        let name = |n: &str| RemoteName::new(n).expect("valid");
        let known = Known::default();
        // Nothing known yet: every file is asked for.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        let mut publish = known.publisher();
        publish.names = Some(["altigen.cfg".to_owned()].into_iter().collect());
        drop(publish);
        // A listing, but the state file's fate is not known: still asked.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        known.state_absent(false);
        // There is a state file: everything is asked for by name.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        known.state_absent(true);
        assert!(known.skip_unlisted(&name("201.cfg")));
        assert!(!known.skip_unlisted(&name("altigen.cfg")));
        assert_eq!(known.listing().map(|l| l.len()), Some(1));
    }

    #[test]
    fn a_listing_that_failed_wakes_those_who_wait_for_it() {
        let known = Known::default();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| known.listing());
            // Dropped without names: the listing failed.
            drop(known.publisher());
            assert!(waiter.join().expect("no panic").is_none());
        });
    }

    #[test]
    fn listings_drop_dot_entries_and_refuse_hostile_names() {
        let mlsd = vec![
            "type=cdir;modify=20260101000000; .".to_owned(),
            "type=pdir;modify=20260101000000; ..".to_owned(),
            "type=file;size=12;modify=20260101000000; 201.cfg".to_owned(),
            "type=dir;modify=20260101000000; .polyops-lock".to_owned(),
            "type=file;size=1;modify=20260101000000; \x1b]0;owned\x07.cfg".to_owned(),
            "type=file;size=1;modify=20260101000000; a/../../etc".to_owned(),
        ];
        let (e, refused) = entries(&mlsd, true);
        let name = |n: &str| RemoteName::new(n).expect("valid");
        assert_eq!(
            e,
            vec![
                Entry {
                    name: name("201.cfg"),
                    is_dir: false
                },
                Entry {
                    name: name(".polyops-lock"),
                    is_dir: true
                },
            ]
        );
        assert_eq!(refused, ["]0;owned.cfg", "a/../../etc"]);
        let list = vec![
            "total 8".to_owned(),
            "-rw-r--r--    1 1000     1000          620 Nov 24 22:40 altigen.cfg".to_owned(),
            "drwxr-xr-x    2 1000     1000         4096 Nov 24 22:40 firmware".to_owned(),
        ];
        let (e, _) = entries(&list, false);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name.as_str(), "altigen.cfg");
        assert!(e[1].is_dir);
    }
}
