//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

mod pool;
pub mod probe;
mod watchdog;
mod wire;

use std::io::Cursor;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream};

use super::{
    checked_entries, temp_name, Access, Entry, Fetched, Hashes, Kind, Reader, RemoteName, Sizes,
    Stats, TResult, Target, TargetError, KEEP_BYTES, MAX_FILE_BYTES,
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
        access: Access,
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
        // They go on the control connection as they are: a line break in
        // one would be a second command.
        for (field, value) in [
            ("target.user", target.user.as_str()),
            ("target.password", password.expose()),
            ("the URL's path", path.as_str()),
        ] {
            check_command_line(value).map_err(|_| {
                TargetError::new(
                    Kind::Refused,
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
        )
    }

    /// A new logged-in connection.
    fn login(settings: Settings, learnt: Option<Learnt>) -> TResult<Self> {
        let mut t = FtpTarget {
            settings,
            conn: None,
            watchdog: Watchdog::new(),
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
    fn hash_chunk(&mut self, names: &[RemoteName]) -> TResult<Vec<Option<String>>> {
        let Some(cmd) = self.server.hash else {
            return Err(TargetError::new(
                Kind::Refused,
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

    /// `SIZE` of each name, pipelined: `213 <bytes>`, or 550 for a file
    /// that is absent (RFC 3659).
    fn size_chunk(&mut self, names: &[RemoteName]) -> TResult<Vec<Option<u64>>> {
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
                        TargetError::new(
                            Kind::Refused,
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

    fn reconnect(&mut self) -> TResult<()> {
        if let Some(mut old) = self.conn.take() {
            let _ = on!(&mut old, s => s.quit());
        }
        let result = self.connect_and_log_in();
        self.watchdog.disarm();
        let conn = result?;
        self.conn = Some(conn);
        Ok(())
    }

    /// Connect, read the greeting, log in and set the session up: each
    /// step under its own deadline, so a server that accepts but never
    /// greets, or answers a byte at a time, cannot hold polyops.
    fn connect_and_log_in(&mut self) -> TResult<Conn> {
        let s = &self.settings;
        let timeout = s.timeout;
        let dog = self.watchdog.clone();
        let passive = move |addr: SocketAddr| wire::open_data_watched(addr, timeout, &dog);
        let socket = TcpStream::connect_timeout(&s.addr, timeout).map_err(|e| {
            TargetError::new(Kind::Transient, format!("connecting to {}: {e}", s.addr))
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
        on!(&mut conn, c => {
            dog.arm(timeout);
            c.login(s.user.as_str(), s.password.expose())
                .map_err(|e| match step("logging in", e) {
                    e if e.kind == Kind::Transient => e,
                    e => TargetError::new(Kind::Refused, format!("logging in as {}: {}", s.user, e.message.trim_start_matches("logging in: "))),
                })?;
            // Through suppaftp, which converts line ends on upload unless
            // it knows the type is binary.
            dog.arm(timeout);
            c.transfer_type(FileType::Binary)
                .map_err(|e| step("setting binary mode", e))?;
        });
        self.set_up(&mut conn)?;
        Ok(conn)
    }

    /// After login and TYPE I: what the server offers (first login only),
    /// the hash algorithm, the folder. Commands go in two round trips at
    /// the first login, one at every later one.
    fn set_up(&mut self, conn: &mut Conn) -> TResult<()> {
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
            // A server without FEAT answers 500: no features.
            let features = wire::features(&replies[0].1);
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
            self.server.sequential =
                on!(&*conn, c => c.get_welcome_msg()).is_some_and(wire::sequential);
        }
        let lines = self.session_options();
        self.watchdog.arm(timeout);
        let replies = conn
            .batch(w, &lines, true)
            .map_err(|e| deadline_error(&self.watchdog, timeout, "setting up the session", e))?;
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
    fn upload_batch(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
    ) -> pool::Partial<()> {
        let mut landed = 0;
        // Stored under its temporary name, not renamed yet.
        let mut pending: Option<&RemoteName> = None;
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
            let temp = match temp_name(name) {
                Ok(t) => t,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Err(e) = self.store(&temp, bytes, data_addr.take()) {
                let _ = self.delete(&temp);
                error = Some(e);
                break;
            }
            pending = Some(name);
        }
        if let Some(last) = pending {
            let renamed = temp_name(last).and_then(|temp| {
                self.rename(&temp, last).inspect_err(|_| {
                    let _ = self.delete(&temp);
                })
            });
            match renamed {
                Ok(()) => landed += 1,
                Err(e) => error = Some(e),
            }
        }
        (vec![(); landed], error)
    }

    /// Rename `name`'s temporary file into place; on a plain connection
    /// also open the next upload's data connection, whose address comes
    /// back when the server answered in order.
    fn rename_then_passive(&mut self, name: &RemoteName) -> TResult<Option<SocketAddr>> {
        let temp = temp_name(name)?;
        let w = wire_of(&self.settings, &self.watchdog);
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        w.watchdog.arm(w.timeout);
        let (renamed, addr) =
            rename_and_passive(c, w, self.settings.addr, &temp, name, &mut self.pipeline);
        w.watchdog.disarm();
        if let Err(e) = renamed {
            let _ = self.delete(&temp);
            return Err(classify(&format!("renaming {temp} to {name}"), e));
        }
        Ok(addr)
    }

    /// STOR `bytes` as `name`, over the data connection at `data_addr` if
    /// one is open; retried (after a fresh login) on transient failures.
    fn store(
        &mut self,
        name: &RemoteName,
        bytes: &[u8],
        data_addr: Option<SocketAddr>,
    ) -> TResult<()> {
        let peer = self.settings.addr;
        let mut data_addr = data_addr;
        self.retry_sized(
            &format!("uploading {name}"),
            bytes.len() as u64,
            |c, w| match c {
                Conn::Plain(s) => {
                    let addr = match data_addr.take() {
                        Some(a) => a,
                        None => wire::passive(s, w, peer)?,
                    };
                    wire::store(s, w, name, bytes, addr)
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
        )
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
    fn read_batch(&mut self, names: &[RemoteName]) -> pool::Partial<Option<Fetched>> {
        let mut out = Vec::with_capacity(names.len());
        let mut data_addr = None;
        for (i, name) in names.iter().enumerate() {
            let more = i + 1 < names.len();
            let limit = Limit::File {
                keep: KEEP_BYTES,
                max: MAX_FILE_BYTES,
            };
            match self.fetch(name, data_addr.take(), more, limit) {
                Ok((fetched, next)) => {
                    out.push(Some(fetched));
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
        name: &RemoteName,
        data_addr: Option<SocketAddr>,
        then_passive: bool,
        limit: Limit,
    ) -> TResult<(Fetched, Option<SocketAddr>)> {
        self.stats.downloads += 1;
        let peer = self.settings.addr;
        let then = (then_passive && self.pipeline && self.server.sequential)
            .then(|| wire::passive_command(peer));
        let command = wire::line(self.settings.access, "RETR", name)
            .map_err(|e| classify(&format!("reading {name}"), e))?;
        let mut data_addr = data_addr;
        let mut in_order = true;
        let fetched = self.retry(&format!("reading {name}"), |c, w| match c {
            Conn::Plain(s) => {
                let addr = match data_addr.take() {
                    Some(a) => a,
                    None => wire::passive(s, w, peer)?,
                };
                let received = wire::receive(s, w, &command, addr, then, limit)?;
                in_order &= received.in_order;
                let (fetched, _) = received
                    .outcome
                    .map_err(|(code, text)| wire::unexpected(code, &text))?;
                let next = match (received.then, received.in_order) {
                    (Some(reply), true) => wire::passive_addr(peer, &reply).ok(),
                    _ => None,
                };
                Ok((fetched, next))
            }
            Conn::Tls(s) => {
                let mut sink = limit.sink();
                s.retr(name.as_str(), |r| {
                    let drained = wire::drain(r, &mut sink, w).map_err(FtpError::ConnectionError);
                    w.watchdog.release_data();
                    drained
                })?;
                Ok((sink.finish(), None))
            }
        });
        if !in_order {
            self.pipeline = false;
        }
        fetched
    }

    /// Run `op`, reconnecting and retrying after transient failures. Each
    /// attempt must end within `timeout_seconds` (a transfer that keeps
    /// moving, longer: see `Watchdog::progress`).
    fn retry<R>(
        &mut self,
        what: &str,
        op: impl FnMut(&mut Conn, Wire<'_>) -> Result<R, FtpError>,
    ) -> TResult<R> {
        self.retry_sized(what, 0, op)
    }

    /// `retry` for an operation that sends `bytes`: its deadline grows with
    /// them.
    fn retry_sized<R>(
        &mut self,
        what: &str,
        bytes: u64,
        mut op: impl FnMut(&mut Conn, Wire<'_>) -> Result<R, FtpError>,
    ) -> TResult<R> {
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

/// A positive completion reply, or the error it is.
fn expect_ok(what: &str, (code, text): &Reply) -> TResult<()> {
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
fn deadline_error(dog: &Watchdog, timeout: Duration, what: &str, e: FtpError) -> TargetError {
    if dog.fired() {
        return TargetError::new(
            Kind::Transient,
            format!(
                "{what}: no complete answer from the server within {} s (target.timeout_seconds)",
                timeout.as_secs()
            ),
        );
    }
    classify(what, e)
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

/// The certificates a server's own may chain to: `target.ca_file`, or the
/// system trust store.
fn root_store(ca_file: Option<&std::path::Path>) -> TResult<rustls::RootCertStore> {
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
    Ok(roots)
}

fn tls_config(ca_file: Option<&std::path::Path>) -> TResult<rustls::ClientConfig> {
    let roots = root_store(ca_file)?;
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
            Kind::Refused
        }
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

impl Reader for FtpTarget {
    fn list(&mut self) -> TResult<Vec<Entry>> {
        let mlsd = self.server.mlsd;
        let command = if mlsd { "MLSD" } else { "LIST -a" };
        let peer = self.settings.addr;
        let (lines, done) = self.retry("listing", |c, w| match c {
            Conn::Plain(s) => wire::list(s, w, peer, command),
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
        let (entries, refused) = entries(&lines, mlsd);
        self.stats.refused_names.extend(refused);
        Ok(entries)
    }

    fn read(&mut self, name: &RemoteName, max: u64) -> TResult<Vec<u8>> {
        let limit = Limit::File {
            keep: usize::try_from(max).unwrap_or(usize::MAX),
            max,
        };
        let (fetched, _) = self.fetch(name, None, false, limit)?;
        fetched.bytes.ok_or_else(|| {
            TargetError::new(Kind::Refused, format!("{name} is larger than {max} bytes"))
        })
    }

    fn read_many(&mut self, names: &[RemoteName]) -> TResult<Vec<(RemoteName, Fetched)>> {
        let mut out: Vec<Option<Fetched>> = vec![None; names.len()];
        let counter = Arc::clone(&self.settings.counter);
        self.parallel(
            Job::Download,
            names.len(),
            self.batch_size(names.len(), Job::Download),
            None,
            &|c, r| c.read_batch(&names[r]),
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

    fn hash_many(&mut self, names: &[RemoteName]) -> TResult<Option<Hashes>> {
        if self.server.hash.is_none() {
            return Ok(None);
        }
        let mut out: Vec<Option<String>> = vec![None; names.len()];
        let counter = Arc::clone(&self.settings.counter);
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
            &mut |i, sha| {
                out[i] = sha;
                counter.fetch_add(1, Ordering::Relaxed);
            },
        )?;
        Ok(Some(names.iter().cloned().zip(out).collect()))
    }

    fn sizes_many(&mut self, names: &[RemoteName]) -> TResult<Option<Sizes>> {
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

    /// The listing runs on a connection of its own while the others hash:
    /// on proftpd an MLSD of 2,000 files takes about as long as hashing
    /// them.
    fn list_and_hash(&mut self, names: &[RemoteName]) -> TResult<(Vec<Entry>, Option<Hashes>)> {
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
}

impl FtpTarget {
    /// One command with a name, answered 2xx, on this connection; not
    /// retried (a lost reply may hide that it happened).
    fn once(&mut self, what: &str, verb: &str, name: &RemoteName) -> TResult<()> {
        let w = wire_of(&self.settings, &self.watchdog);
        let line = wire::line(w.access, verb, name).map_err(|e| classify(what, e))?;
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        w.watchdog.arm(w.timeout);
        let replies = c.batch(w, &[line], false);
        w.watchdog.disarm();
        let replies = replies.map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))?;
        expect_ok(what, &replies[0])
    }

    /// `once`, retried after passing failures: for what is safe to repeat.
    fn repeatable(&mut self, what: &str, verb: &str, name: &RemoteName) -> TResult<()> {
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

impl Target for FtpTarget {
    fn upload_many(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&RemoteName),
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

    fn write(&mut self, name: &RemoteName, bytes: &[u8]) -> TResult<()> {
        self.store(name, bytes, None)
    }

    fn rename(&mut self, from: &RemoteName, to: &RemoteName) -> TResult<()> {
        // Not retried: if the reply was lost the rename may have happened.
        let w = wire_of(&self.settings, &self.watchdog);
        let what = format!("renaming {from} to {to}");
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        w.watchdog.arm(w.timeout);
        let renamed = rename_once(c, w, from, to, &mut self.pipeline);
        w.watchdog.disarm();
        renamed.map_err(|e| deadline_error(w.watchdog, w.timeout, &what, e))
    }

    fn delete(&mut self, name: &RemoteName) -> TResult<()> {
        self.repeatable(&format!("deleting {name}"), "DELE", name)
    }

    fn make_dir(&mut self, name: &RemoteName) -> TResult<()> {
        self.once(&format!("creating folder {name}"), "MKD", name)
            .map_err(|mut err| {
                if err.kind == Kind::NotFound {
                    err.kind = Kind::Refused;
                }
                err
            })
    }

    fn remove_dir(&mut self, name: &RemoteName) -> TResult<()> {
        self.repeatable(&format!("removing folder {name}"), "RMD", name)
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
        // Refused before sending, or over a limit: another try would do the same.
        for kind in [
            std::io::ErrorKind::InvalidInput,
            std::io::ErrorKind::FileTooLarge,
            std::io::ErrorKind::InvalidData,
        ] {
            let e = FtpError::ConnectionError(std::io::Error::new(kind, "x"));
            assert_eq!(classify("x", e).kind, Kind::Refused);
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
