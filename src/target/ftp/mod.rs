//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

mod pool;
mod wire;

use std::io::Cursor;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream};

use super::{Entry, Hashes, Kind, Stats, TResult, Target, TargetError, TEMP_SUFFIX};
use crate::model::{self, TargetUrl};
use crate::secret::Secret;
use pool::whole;
use wire::{pipelined, unexpected, Reply};

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
/// idle at the end of a run, fewer costs a round trip per batch (the last
/// file of a batch cannot open the next one's data connection).
const TRANSFER_BATCH: usize = 16;

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
    fn batch(&mut self, lines: &[String], together: bool) -> Result<Vec<Reply>, FtpError> {
        match self {
            Conn::Plain(s) if together => pipelined(s, lines),
            Conn::Plain(s) => lines
                .iter()
                .map(|l| pipelined(s, std::slice::from_ref(l)).map(|mut r| r.remove(0)))
                .collect(),
            Conn::Tls(s) => lines
                .iter()
                .map(|l| match s.custom_command(l.as_str(), &[]) {
                    // No code is expected: every reply is "unexpected".
                    Ok(r) | Err(FtpError::UnexpectedResponse(r)) => Ok((
                        r.status.code(),
                        String::from_utf8_lossy(&r.body).into_owned(),
                    )),
                    Err(e) => Err(e),
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
    /// Why operations were retried, in the order they failed: one log for
    /// every connection to this target.
    retried: Arc<Mutex<Vec<String>>>,
}

/// What the first login learnt of the server: later logins to it (retries,
/// parallel connections) do not ask again.
#[derive(Clone, Copy, Default)]
struct Learnt {
    mlsd: bool,
    hash: Option<HashCommand>,
    /// Time of one round trip, measured at the first login.
    round_trip: Duration,
    /// Whether the server is known to run commands one at a time, so that
    /// one may follow a transfer before it ends (see `wire::sequential`).
    sequential: bool,
}

/// A login running on a thread of its own.
type Login = std::thread::JoinHandle<TResult<FtpTarget>>;

/// Wait for a background login.
fn finish(login: Login) -> TResult<FtpTarget> {
    login
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// How to open another connection like an existing one.
struct Template {
    settings: Settings,
    learnt: Option<Learnt>,
}

impl Template {
    fn open(&self) -> TResult<FtpTarget> {
        FtpTarget::login(self.settings.clone(), self.learnt)
    }
}

pub struct FtpTarget {
    settings: Settings,
    conn: Option<Conn>,
    /// What this connection uses (`hash` is `None` where this session
    /// refused `OPTS HASH SHA-256`); handed on to later connections.
    server: Learnt,
    /// Whether `server` holds what a login learnt yet.
    probed: bool,
    /// Whether commands may go out before the previous ones are answered
    /// (cleared for a server that answered out of order).
    pipeline: bool,
    /// Pool connections busy with other work meanwhile (the listing beside
    /// the hashing): the limit counts them too.
    lent: usize,
    /// Extra logged-in connections for parallel work, opened on demand.
    pool: Vec<FtpTarget>,
    /// Another connection logging in meanwhile, for the pool.
    spare: Option<Login>,
    stats: Stats,
}

impl FtpTarget {
    pub fn connect(
        target: &model::Target,
        password: &Secret,
        connections: Option<usize>,
    ) -> TResult<Self> {
        let TargetUrl::Ftp {
            tls,
            host,
            port,
            path,
        } = &target.url
        else {
            return Err(TargetError::new(Kind::Refused, "not an FTP URL"));
        };
        let addr = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(|e| TargetError::new(Kind::Refused, format!("cannot resolve {host}: {e}")))?
            .next()
            .ok_or_else(|| TargetError::new(Kind::Refused, format!("{host} has no address")))?;
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
                retried: Arc::default(),
            },
            None,
        )
    }

    /// A new logged-in connection.
    fn login(settings: Settings, learnt: Option<Learnt>) -> TResult<Self> {
        let mut t = FtpTarget {
            settings,
            conn: None,
            server: learnt.unwrap_or_default(),
            probed: learnt.is_some(),
            pipeline: true,
            lent: 0,
            pool: Vec::new(),
            spare: None,
            stats: Stats::default(),
        };
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

    /// How to open another connection like this one.
    fn template(&self) -> Template {
        Template {
            settings: self.settings.clone(),
            learnt: self.probed.then_some(self.server),
        }
    }

    /// Another logged-in connection: from the pool, the login under way,
    /// or a new login.
    fn sibling(&mut self) -> TResult<FtpTarget> {
        match (self.pool.pop(), self.spare.take()) {
            (Some(c), spare) => {
                self.spare = spare;
                Ok(c)
            }
            (None, Some(login)) => finish(login),
            (None, None) => self.template().open(),
        }
    }

    /// How many connections parallel work may use, this one included.
    fn connection_limit(&self, job: Job) -> usize {
        self.settings
            .connections
            .unwrap_or(match job {
                // Hashing is pipelined: more commands in flight, not more
                // sessions, is what pays on a slow link.
                Job::Hash => CONNECTIONS_HASHING,
                _ if self.server.round_trip >= FAR => CONNECTIONS_FAR,
                Job::Download => CONNECTIONS_DOWNLOAD,
                Job::Upload => CONNECTIONS_UPLOAD,
            })
            .saturating_sub(self.lent)
            .max(1)
    }

    /// Hash `names` on this connection: pipelined on plain connections,
    /// one command at a time under TLS.
    fn hash_chunk(&mut self, names: &[String]) -> TResult<Vec<Option<String>>> {
        let Some(cmd) = self.server.hash else {
            return Err(TargetError::new(
                Kind::Refused,
                "the server cannot hash files",
            ));
        };
        let lines: Vec<String> = names
            .iter()
            .map(|n| format!("{} {n}", cmd.verb()))
            .collect();
        let replies = self.retry("hashing files", |c| c.batch(&lines, true))?;
        self.stats.hashes += names.len();
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                200..=299 => wire::hex_digest(&text).map(Some).ok_or_else(|| {
                    TargetError::new(
                        Kind::Refused,
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

    fn reconnect(&mut self) -> TResult<()> {
        if let Some(mut old) = self.conn.take() {
            let _ = on!(&mut old, s => s.quit());
        }
        let s = &self.settings;
        let timeout = s.timeout;
        let passive = move |addr: SocketAddr| wire::open_data(addr, timeout);
        let mut conn = match &s.tls {
            None => Conn::Plain(
                FtpStream::connect_timeout(s.addr, timeout)
                    .map_err(|e| classify("connecting", e))?
                    .passive_stream_builder(passive),
            ),
            Some(cfg) => {
                let plain = RustlsFtpStream::connect_timeout(s.addr, timeout)
                    .map_err(|e| classify("connecting", e))?
                    .passive_stream_builder(passive);
                set_timeouts(&plain.get_ref(), timeout)?;
                Conn::Tls(
                    plain
                        .into_secure(RustlsConnector::from(Arc::clone(cfg)), &s.host)
                        .map_err(|e| classify("starting TLS", e))?,
                )
            }
        };
        on!(&mut conn, c => {
            set_timeouts(&c.get_ref(), timeout)?;
            c.login(s.user.as_str(), s.password.expose())
                .map_err(|e| login_error(&s.user, e))?;
            // Through suppaftp, which converts line ends on upload unless
            // it knows the type is binary.
            c.transfer_type(FileType::Binary)
                .map_err(|e| classify("setting binary mode", e))?;
        });
        self.set_up(&mut conn)?;
        self.conn = Some(conn);
        Ok(())
    }

    /// After login and TYPE I: what the server offers (first login only),
    /// the hash algorithm, the folder. Commands go in two round trips at
    /// the first login, one at every later one.
    fn set_up(&mut self, conn: &mut Conn) -> TResult<()> {
        if !self.probed {
            let started = Instant::now();
            let replies = conn
                .batch(&["FEAT".to_owned()], true)
                .map_err(|e| classify("asking for the server's features", e))?;
            let round_trip = started.elapsed();
            // A server without FEAT answers 500: no features.
            let features = wire::features(&replies[0].1);
            let has = |name: &str| features.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
            // RFC 3659 announces MLSD through the MLST feature.
            self.server.mlsd = has("MLSD") || has("MLST");
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
            self.server.sequential =
                on!(&*conn, c => c.get_welcome_msg()).is_some_and(wire::sequential);
        }
        let lines = self.session_options();
        let replies = conn
            .batch(&lines, true)
            .map_err(|e| classify("setting up the session", e))?;
        for (line, reply) in lines.iter().zip(&replies) {
            if line.starts_with("OPTS HASH") {
                if reply.0 != 200 {
                    self.server.hash = None;
                }
            } else {
                expect_ok(&format!("changing to folder {}", self.settings.path), reply)?;
            }
        }
        self.probed = true;
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
    /// travels with the next file's PASV. Renames run in order, so the
    /// files that landed are a prefix of `files`. Stops before the next
    /// file once `stop` is set.
    fn upload_batch(&mut self, files: &[(&str, &[u8])], stop: &AtomicBool) -> pool::Partial<()> {
        let mut landed = 0;
        // Stored under its temporary name, not renamed yet.
        let mut pending: Option<&str> = None;
        let mut data_addr = None;
        let mut error = None;
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(prev) = pending.take() {
                match self.rename_then_passive(prev) {
                    Ok(addr) => {
                        landed += 1;
                        data_addr = addr;
                    }
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            self.stats.uploads += 1;
            let temp = temp_name(name);
            if let Err(e) = self.store(&temp, bytes, data_addr.take()) {
                let _ = self.delete(&temp);
                error = Some(e);
                break;
            }
            pending = Some(name);
        }
        if let Some(last) = pending {
            let temp = temp_name(last);
            match self.rename(&temp, last) {
                Ok(()) => landed += 1,
                Err(e) => {
                    let _ = self.delete(&temp);
                    error = Some(e);
                }
            }
        }
        (vec![(); landed], error)
    }

    /// Rename `name`'s temporary file into place; on a plain connection
    /// also open the next upload's data connection, whose address comes
    /// back when the server answered in order.
    fn rename_then_passive(&mut self, name: &str) -> TResult<Option<SocketAddr>> {
        let temp = temp_name(name);
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        let (renamed, addr) =
            rename_and_passive(c, self.settings.addr, &temp, name, &mut self.pipeline);
        if let Err(e) = renamed {
            let _ = self.delete(&temp);
            return Err(classify(&format!("renaming {temp} to {name}"), e));
        }
        Ok(addr)
    }

    /// STOR `bytes` as `name`, over the data connection at `data_addr` if
    /// one is open; retried (after a fresh login) on transient failures.
    fn store(&mut self, name: &str, bytes: &[u8], data_addr: Option<SocketAddr>) -> TResult<()> {
        let (timeout, peer) = (self.settings.timeout, self.settings.addr);
        let mut data_addr = data_addr;
        self.retry(&format!("uploading {name}"), |c| match c {
            Conn::Plain(s) => {
                let addr = match data_addr.take() {
                    Some(a) => a,
                    None => wire::passive(s, peer)?,
                };
                wire::store(s, name, bytes, addr, timeout)
            }
            Conn::Tls(s) => s.put_file(name, &mut Cursor::new(bytes)).map(|_| ()),
        })
    }

    /// How many files one connection transfers at a time: batches small
    /// enough that every connection gets several.
    fn batch_size(&self, files: usize, job: Job) -> usize {
        (files / (self.connection_limit(job) * 4)).clamp(1, TRANSFER_BATCH)
    }

    /// Read `names` on this connection, `None` for each file the server
    /// does not have. On a plain connection to a server that runs commands
    /// one at a time, each RETR carries the next file's PASV, so a file
    /// costs one round trip.
    fn read_batch(&mut self, names: &[String]) -> pool::Partial<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(names.len());
        let mut data_addr = None;
        for (i, name) in names.iter().enumerate() {
            let more = i + 1 < names.len();
            match self.fetch(name, data_addr.take(), more) {
                Ok((bytes, next)) => {
                    out.push(Some(bytes));
                    data_addr = next;
                }
                Err(e) if e.kind == Kind::NotFound => out.push(None),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// RETR `name`, over the data connection at `data_addr` if one is open;
    /// retried (after a fresh login) on transient failures. With
    /// `then_passive`, a plain connection opens the next data connection
    /// in the same round trip and returns its address.
    fn fetch(
        &mut self,
        name: &str,
        data_addr: Option<SocketAddr>,
        then_passive: bool,
    ) -> TResult<(Vec<u8>, Option<SocketAddr>)> {
        self.stats.downloads += 1;
        let (timeout, peer) = (self.settings.timeout, self.settings.addr);
        let then = (then_passive && self.pipeline && self.server.sequential)
            .then(|| wire::passive_command(peer));
        let command = format!("RETR {name}");
        let mut data_addr = data_addr;
        let mut in_order = true;
        let fetched = self.retry(&format!("reading {name}"), |c| match c {
            Conn::Plain(s) => {
                let addr = match data_addr.take() {
                    Some(a) => a,
                    None => wire::passive(s, peer)?,
                };
                let received = wire::receive(s, &command, addr, then, timeout)?;
                in_order &= received.in_order;
                let (bytes, _) = received
                    .outcome
                    .map_err(|(code, text)| wire::unexpected(code, &text))?;
                let next = match (received.then, received.in_order) {
                    (Some(reply), true) => wire::passive_addr(peer, &reply).ok(),
                    _ => None,
                };
                Ok((bytes, next))
            }
            Conn::Tls(s) => Ok((s.retr_as_buffer(name)?.into_inner(), None)),
        });
        if !in_order {
            self.pipeline = false;
        }
        fetched
    }

    /// Run `op`, reconnecting and retrying after transient failures.
    fn retry<R>(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut Conn) -> Result<R, FtpError>,
    ) -> TResult<R> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let result = match self.conn.as_mut() {
                Some(c) => op(c).map_err(|e| classify(what, e)),
                None => Err(TargetError::new(Kind::Transient, "not connected")),
            };
            match result {
                Err(e) if e.kind == Kind::Transient && attempt < ATTEMPTS => {
                    if let Ok(mut log) = self.settings.retried.lock() {
                        log.push(e.message);
                    }
                    std::thread::sleep(backoff);
                    backoff *= 3;
                    attempt += 1;
                    // A failed reconnect is itself retried on the next turn.
                    if let Err(e) = self.reconnect() {
                        if e.kind != Kind::Transient {
                            return Err(e);
                        }
                        self.conn = None;
                    }
                }
                other => return other,
            }
        }
    }
}

/// RNFR + RNTO, replacing `to` if it exists; on plain connections both go
/// in one round trip, unless the server showed it does not take them in
/// order (`*pipeline` is then cleared for this connection).
fn rename_once(c: &mut Conn, from: &str, to: &str, pipeline: &mut bool) -> Result<(), FtpError> {
    let replies = c.batch(&rename_lines(from, to), *pipeline)?;
    settle_rename(c, from, to, &replies[0], &replies[1], pipeline, true)
}

fn rename_lines(from: &str, to: &str) -> [String; 2] {
    [format!("RNFR {from}"), format!("RNTO {to}")]
}

/// What the replies to RNFR + RNTO mean, and the second try they may call
/// for.
fn settle_rename(
    c: &mut Conn,
    from: &str,
    to: &str,
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
            let replies = c.batch(&rename_lines(from, to), false)?;
            settle_rename(c, from, to, &replies[0], &replies[1], pipeline, replace)
        }
        // Some servers refuse to rename over an existing file: remove it
        // first. The final name is briefly absent, never half-written.
        (350, 550 | 553) if replace => {
            let _ = on!(c, s => s.rm(to));
            let replies = c.batch(&rename_lines(from, to), *pipeline)?;
            settle_rename(c, from, to, &replies[0], &replies[1], pipeline, false)
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
    peer: SocketAddr,
    from: &str,
    to: &str,
    pipeline: &mut bool,
) -> (Result<(), FtpError>, Option<SocketAddr>) {
    let s = match c {
        Conn::Plain(s) if *pipeline => s,
        other => return (rename_once(other, from, to, pipeline), None),
    };
    let [rnfr, rnto] = rename_lines(from, to);
    let mut replies = match pipelined(s, &[rnfr, rnto, wire::passive_command(peer).to_owned()]) {
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
    let renamed = settle_rename(c, from, to, &replies[0], &replies[1], pipeline, true);
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

/// A positive completion reply, or the error it is.
fn expect_ok(what: &str, (code, text): &Reply) -> TResult<()> {
    if (200..300).contains(code) {
        Ok(())
    } else {
        Err(classify(what, unexpected(*code, text)))
    }
}

fn temp_name(name: &str) -> String {
    format!("{name}{TEMP_SUFFIX}")
}

impl Drop for FtpTarget {
    fn drop(&mut self) {
        if let Some(c) = self.conn.as_mut() {
            let _ = on!(c, s => s.quit());
        }
    }
}

/// Timeouts on every read and write, and no Nagle delay: FTP is a
/// request/reply protocol of small lines, which Nagle plus delayed ACKs
/// would hold back ~40 ms each.
fn set_timeouts(socket: &TcpStream, timeout: Duration) -> TResult<()> {
    socket
        .set_read_timeout(Some(timeout))
        .and_then(|_| socket.set_write_timeout(Some(timeout)))
        .and_then(|_| socket.set_nodelay(true))
        .map_err(|e| TargetError::new(Kind::Transient, format!("setting timeouts: {e}")))
}

fn tls_config(ca_file: Option<&std::path::Path>) -> TResult<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                TargetError::new(
                    Kind::Refused,
                    format!("error reading CA file {}: {e}", path.display()),
                )
            })?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    TargetError::new(
                        Kind::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    TargetError::new(
                        Kind::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(TargetError::new(
                    Kind::Refused,
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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TargetError::new(Kind::Refused, format!("TLS setup: {e}")))?
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

fn classify(what: &str, e: FtpError) -> TargetError {
    let kind = match (&e, reply_code(&e)) {
        (FtpError::ConnectionError(_) | FtpError::BadResponse, _) => Kind::Transient,
        (_, Some(421 | 425 | 426 | 450)) => Kind::Transient,
        // vsftpd's "500 OOPS: …" ends a session that hit a local failure
        // (e.g. binding a busy passive port); a fresh session may succeed.
        (FtpError::UnexpectedResponse(r), Some(500))
            if String::from_utf8_lossy(&r.body).contains("OOPS") =>
        {
            Kind::Transient
        }
        (_, Some(550)) => Kind::NotFound,
        _ => Kind::Refused,
    };
    TargetError::new(kind, format!("{what}: {}", reply_text(&e)))
}

fn login_error(user: &str, e: FtpError) -> TargetError {
    let mut err = classify(&format!("logging in as {user}"), e);
    // A wrong password is not worth retrying.
    if err.kind != Kind::Transient {
        err.kind = Kind::Refused;
    }
    err
}

/// Entries of a listing, without `.`/`..` and without path prefixes.
fn entries(lines: &[String], mlsd: bool) -> Vec<Entry> {
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
        let name = f.name().rsplit('/').next().unwrap_or_default().to_owned();
        if name.is_empty() || name == "." || name == ".." {
            continue;
        }
        if mlsd {
            // MLSD marks the listed folder and its parent as cdir / pdir.
            let lower = line.to_ascii_lowercase();
            if lower.contains("type=cdir") || lower.contains("type=pdir") {
                continue;
            }
        }
        out.push(Entry {
            name,
            is_dir: f.is_directory(),
        });
    }
    out
}

impl Target for FtpTarget {
    fn list(&mut self) -> TResult<Vec<Entry>> {
        let mlsd = self.server.mlsd;
        let command = if mlsd { "MLSD" } else { "LIST -a" };
        let (timeout, peer) = (self.settings.timeout, self.settings.addr);
        let (lines, done) = self.retry("listing", |c| match c {
            Conn::Plain(s) => wire::list(s, peer, command, timeout),
            Conn::Tls(s) => {
                let lines = if mlsd {
                    s.mlsd(None)
                } else {
                    s.list(Some("-a"))
                }?;
                Ok((lines, String::new()))
            }
        })?;
        if done.to_ascii_lowercase().contains("truncat") {
            self.stats.listing_cut =
                Some(done.lines().last().unwrap_or_default().trim().to_owned());
        }
        Ok(entries(&lines, mlsd))
    }

    fn read(&mut self, name: &str) -> TResult<Vec<u8>> {
        self.fetch(name, None, false).map(|(bytes, _)| bytes)
    }

    fn read_many(&mut self, names: &[String]) -> TResult<Vec<(String, Vec<u8>)>> {
        let mut out: Vec<Option<Vec<u8>>> = vec![None; names.len()];
        self.parallel(
            Job::Download,
            names.len(),
            self.batch_size(names.len(), Job::Download),
            None,
            &|c, r| c.read_batch(&names[r]),
            &mut |i, bytes| out[i] = bytes,
        )?;
        Ok(names
            .iter()
            .cloned()
            .zip(out)
            .filter_map(|(n, b)| b.map(|b| (n, b)))
            .collect())
    }

    fn hash_many(&mut self, names: &[String]) -> TResult<Option<Hashes>> {
        if self.server.hash.is_none() {
            return Ok(None);
        }
        let mut out: Vec<Option<String>> = vec![None; names.len()];
        self.parallel(
            Job::Hash,
            names.len(),
            if self.server.round_trip >= FAR {
                HASH_PIPELINE_FAR
            } else {
                HASH_PIPELINE
            },
            None,
            &|c, r| whole(c.hash_chunk(&names[r])),
            &mut |i, sha| out[i] = sha,
        )?;
        Ok(Some(names.iter().cloned().zip(out).collect()))
    }

    /// The listing runs on a connection of its own while the others hash:
    /// on proftpd an MLSD of 2,000 files takes about as long as hashing
    /// them.
    fn list_and_hash(&mut self, names: &[String]) -> TResult<(Vec<Entry>, Option<Hashes>)> {
        if self.server.hash.is_none() {
            return Ok((self.list()?, None));
        }
        if self.connection_limit(Job::Hash) < 2 {
            let entries = self.list()?;
            return Ok((entries, self.hash_many(names)?));
        }
        // Logged in before the hashing opens its own connections: servers
        // stall on logins that arrive at the same instant.
        let spare = self.sibling();
        let (lister, hashes) = std::thread::scope(|scope| {
            let lister = scope.spawn(move || {
                let mut conn = spare?;
                let listing = conn.list();
                Ok::<_, TargetError>((conn, listing))
            });
            self.lent = 1;
            let hashes = self.hash_many(names);
            self.lent = 0;
            (lister.join(), hashes)
        });
        let hashes = hashes?;
        let entries = match lister {
            Ok(Ok((conn, listing))) => {
                self.pool.push(conn);
                listing?
            }
            // No second session (a server that caps them): list here.
            Ok(Err(_)) => self.list()?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Ok((entries, hashes))
    }

    fn upload_many(
        &mut self,
        files: &[(&str, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&str),
    ) -> TResult<()> {
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

    fn stats(&self) -> Stats {
        let mut total = Stats {
            // A login still under way is a session too.
            connections: 1 + self.pool.len() + usize::from(self.spare.is_some()),
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
            if total.listing_cut.is_none() {
                total.listing_cut.clone_from(&p.stats.listing_cut);
            }
        }
        total
    }

    /// Parallel work needs a second session: its login (for a server that
    /// checks passwords slowly, the costliest command) runs while this one
    /// reads the state file and lists the folder.
    fn expect_many(&mut self) {
        if self.spare.is_none() && self.pool.is_empty() && self.connection_limit(Job::Download) >= 2
        {
            let template = self.template();
            self.spare = Some(std::thread::spawn(move || template.open()));
        }
    }

    fn write(&mut self, name: &str, bytes: &[u8]) -> TResult<()> {
        self.store(name, bytes, None)
    }

    fn rename(&mut self, from: &str, to: &str) -> TResult<()> {
        // Not retried: if the reply was lost the rename may have happened.
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        rename_once(c, from, to, &mut self.pipeline)
            .map_err(|e| classify(&format!("renaming {from} to {to}"), e))
    }

    fn delete(&mut self, name: &str) -> TResult<()> {
        self.retry(&format!("deleting {name}"), |c| on!(c, s => s.rm(name)))
    }

    fn make_dir(&mut self, name: &str) -> TResult<()> {
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        on!(c, s => s.mkdir(name)).map_err(|e| {
            let mut err = classify(&format!("creating folder {name}"), e);
            if err.kind == Kind::NotFound {
                err.kind = Kind::Refused;
            }
            err
        })
    }

    fn remove_dir(&mut self, name: &str) -> TResult<()> {
        self.retry(
            &format!("removing folder {name}"),
            |c| on!(c, s => s.rmdir(name)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_worth_another_session_are_transient() {
        for (code, text, kind) in [
            (421, "421 Timeout", Kind::Transient),
            (425, "425 Can't open data", Kind::Transient),
            (500, "500 OOPS: vsf_sysutil_bind", Kind::Transient),
            (500, "500 Unknown command.", Kind::Refused),
            (550, "550 No such file", Kind::NotFound),
        ] {
            assert_eq!(classify("x", unexpected(code, text)).kind, kind, "{text}");
        }
        assert_eq!(
            login_error("PlcmSpIp", unexpected(530, "530 Login incorrect.")).kind,
            Kind::Refused
        );
    }

    #[test]
    fn listings_drop_dot_entries_and_path_prefixes() {
        let mlsd = vec![
            "type=cdir;modify=20260101000000; .".to_owned(),
            "type=pdir;modify=20260101000000; ..".to_owned(),
            "type=file;size=12;modify=20260101000000; 201.cfg".to_owned(),
            "type=dir;modify=20260101000000; .polyops-lock".to_owned(),
        ];
        let e = entries(&mlsd, true);
        assert_eq!(
            e,
            vec![
                Entry {
                    name: "201.cfg".into(),
                    is_dir: false
                },
                Entry {
                    name: ".polyops-lock".into(),
                    is_dir: true
                },
            ]
        );
        let list = vec![
            "total 8".to_owned(),
            "-rw-r--r--    1 1000     1000          620 Nov 24 22:40 altigen.cfg".to_owned(),
            "drwxr-xr-x    2 1000     1000         4096 Nov 24 22:40 firmware".to_owned(),
        ];
        let e = entries(&list, false);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "altigen.cfg");
        assert!(e[1].is_dir);
    }
}
