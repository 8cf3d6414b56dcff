//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream, Status};

use super::{upload_one, Entry, Hashes, Kind, Stats, TResult, Target, TargetError};
use crate::model::{self, TargetUrl};
use crate::secret::Secret;

/// Attempts for an operation that fails transiently (421, 425, 426, resets).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Connections when the server hashes files itself (cheap commands, many
/// in flight) and when every file must be downloaded. Measured on 2-core
/// machines with vsftpd and proftpd: more connections cost server CPU
/// (every login, every data connection) without going faster.
const CONNECTIONS_HASHING: usize = 4;
const CONNECTIONS_TRANSFER: usize = 2;
/// Where every reply takes this long or more, the server is far away (a
/// WAN link, a loaded server): time goes to waiting, not to server CPU, so
/// more sessions in flight pay off.
const FAR: Duration = Duration::from_millis(2);
const CONNECTIONS_FAR: usize = 12;
/// Hash commands sent before reading their replies (on a slow link, more).
const HASH_PIPELINE: usize = 16;
const HASH_PIPELINE_FAR: usize = 128;

/// Work on one connection over a range of job indices.
type Work<'a, R> = dyn Fn(&mut FtpTarget, Range<usize>) -> TResult<Vec<R>> + Sync + 'a;

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
}

pub struct FtpTarget {
    settings: Settings,
    conn: Option<Conn>,
    mlsd: bool,
    hash: Option<HashCommand>,
    /// Time of one command's round trip, measured after login.
    round_trip: Duration,
    /// Whether RNFR and RNTO may be sent together.
    pipeline_renames: bool,
    /// Extra logged-in connections for parallel work, opened on demand.
    pool: Vec<FtpTarget>,
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
        Self::login(Settings {
            connections,
            addr,
            host: host.clone(),
            tls,
            timeout: target.timeout,
            user: target.user.clone(),
            password: password.clone(),
            path: path.clone(),
        })
    }

    /// A new logged-in connection.
    fn login(settings: Settings) -> TResult<Self> {
        let mut t = FtpTarget {
            settings,
            conn: None,
            mlsd: false,
            hash: None,
            round_trip: Duration::ZERO,
            pipeline_renames: true,
            pool: Vec::new(),
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

    /// Another connection with the same settings, logged in.
    fn sibling(&self) -> TResult<FtpTarget> {
        Self::login(self.settings.clone())
    }

    fn connection_limit(&self) -> usize {
        self.settings
            .connections
            .unwrap_or(if self.hash.is_some() {
                // Hashing is pipelined: more commands in flight, not more
                // sessions, is what pays on a slow link.
                CONNECTIONS_HASHING
            } else if self.round_trip >= FAR {
                CONNECTIONS_FAR
            } else {
                CONNECTIONS_TRANSFER
            })
            .max(1)
    }

    /// Run `work` over `0..total` in chunks of `chunk`, spread over up to
    /// `connection_limit()` connections (opened one after another: servers
    /// stall on logins that arrive at the same instant). `on_result` hears
    /// each index's result on this thread. The first error stops the rest.
    fn parallel<R: Send>(
        &mut self,
        total: usize,
        chunk: usize,
        stop: Option<&AtomicBool>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> TResult<()> {
        let want = self.connection_limit().min(total.div_ceil(chunk.max(1)));
        while self.pool.len() + 1 < want {
            match self.sibling() {
                Ok(t) => self.pool.push(t),
                // A server that caps sessions per user: work with fewer.
                Err(_) if !self.pool.is_empty() || want > 1 => break,
                Err(e) => return Err(e),
            }
        }
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<TResult<Vec<(usize, R)>>>();
        let mut pool = std::mem::take(&mut self.pool);
        let extra = want.saturating_sub(1);
        let result = std::thread::scope(|scope| {
            let mut workers: Vec<&mut FtpTarget> = vec![&mut *self];
            workers.extend(pool.iter_mut().take(extra));
            for conn in workers {
                let tx = tx.clone();
                let (next, failed) = (&next, &failed);
                scope.spawn(move || loop {
                    if failed.load(Ordering::SeqCst)
                        || stop.is_some_and(|s| s.load(Ordering::SeqCst))
                    {
                        break;
                    }
                    let start = next.fetch_add(chunk, Ordering::SeqCst);
                    if start >= total {
                        break;
                    }
                    let range = start..(start + chunk).min(total);
                    match work(conn, range.clone()) {
                        Ok(results) => {
                            let _ = tx.send(Ok(range.zip(results).collect()));
                        }
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            let _ = tx.send(Err(e));
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut first_error = None;
            for message in rx {
                match message {
                    Ok(results) => {
                        for (i, r) in results {
                            on_result(i, r);
                        }
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        });
        self.pool = pool;
        result
    }

    /// Hash `names` on this connection: pipelined on plain connections,
    /// one command at a time under TLS.
    fn hash_chunk(&mut self, names: &[String]) -> TResult<Vec<Option<String>>> {
        let Some(cmd) = self.hash else {
            return Err(TargetError::new(
                Kind::Refused,
                "the server cannot hash files",
            ));
        };
        let lines: Vec<String> = names
            .iter()
            .map(|n| format!("{} {n}", cmd.verb()))
            .collect();
        let replies = self.retry("hashing files", |c| match c {
            Conn::Plain(s) => pipelined(s, &lines),
            Conn::Tls(s) => lines
                .iter()
                .map(|l| {
                    match s
                        .custom_command(l.as_str(), &[Status::File, Status::RequestedFileActionOk])
                    {
                        Ok(r) => Ok((
                            r.status.code(),
                            String::from_utf8_lossy(&r.body).into_owned(),
                        )),
                        Err(FtpError::UnexpectedResponse(r)) => Ok((
                            r.status.code(),
                            String::from_utf8_lossy(&r.body).into_owned(),
                        )),
                        Err(e) => Err(e),
                    }
                })
                .collect(),
        })?;
        self.stats.hashes += names.len();
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                200..=299 => hex_digest(&text).map(Some).ok_or_else(|| {
                    TargetError::new(
                        Kind::Refused,
                        format!("hashing {name}: unexpected reply {}", text.trim()),
                    )
                }),
                550 => Ok(None),
                _ => Err(TargetError::new(
                    if matches!(code, 421 | 425 | 426 | 450) {
                        Kind::Transient
                    } else {
                        Kind::Refused
                    },
                    format!("hashing {name}: {}", text.trim()),
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
        let passive = move |addr: SocketAddr| {
            let stream =
                TcpStream::connect_timeout(&addr, timeout).map_err(FtpError::ConnectionError)?;
            stream
                .set_read_timeout(Some(timeout))
                .and_then(|_| stream.set_write_timeout(Some(timeout)))
                .and_then(|_| stream.set_nodelay(true))
                .map_err(FtpError::ConnectionError)?;
            Ok(stream)
        };
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
            c.transfer_type(FileType::Binary)
                .map_err(|e| classify("setting binary mode", e))?;
            let features = c.feat().unwrap_or_default();
            // RFC 3659 announces MLSD through the MLST feature.
            self.mlsd = features
                .keys()
                .any(|k| k.eq_ignore_ascii_case("MLSD") || k.eq_ignore_ascii_case("MLST"));
            let hash_sha256 = features.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("HASH")
                    && v.as_deref().is_some_and(|v| v.to_ascii_uppercase().contains("SHA-256"))
            });
            self.hash = if features.keys().any(|k| k.eq_ignore_ascii_case("XSHA256")) {
                Some(HashCommand::Xsha256)
            } else if hash_sha256
                && c.custom_command("OPTS HASH SHA-256", &[Status::CommandOk]).is_ok()
            {
                Some(HashCommand::Hash)
            } else {
                None
            };
            if !s.path.is_empty() {
                c.cwd(&s.path)
                    .map_err(|e| classify(&format!("changing to folder {}", s.path), e))?;
            }
            let started = std::time::Instant::now();
            c.noop().map_err(|e| classify("NOOP", e))?;
            self.round_trip = started.elapsed();
        });
        self.conn = Some(conn);
        Ok(())
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

/// Send every command, then read every reply: one round trip for many
/// cheap commands. Only for commands without a data connection.
fn pipelined(s: &mut FtpStream, lines: &[String]) -> Result<Vec<(u32, String)>, FtpError> {
    let socket = s.get_ref();
    let stream: &TcpStream = &socket;
    let mut batch = String::new();
    for l in lines {
        batch.push_str(l);
        batch.push_str("\r\n");
    }
    let mut writer = stream;
    writer
        .write_all(batch.as_bytes())
        .map_err(FtpError::ConnectionError)?;
    let mut reader = BufReader::new(stream);
    lines.iter().map(|_| read_reply(&mut reader)).collect()
}

/// RNFR + RNTO; on plain connections both go in one round trip, unless
/// the server showed it does not take them in order (`*pipeline` is then
/// cleared for this connection).
fn rename_once(c: &mut Conn, from: &str, to: &str, pipeline: &mut bool) -> Result<(), FtpError> {
    let s = match c {
        Conn::Plain(s) if *pipeline => s,
        other => return on!(other, s => s.rename(from, to)),
    };
    let replies = pipelined(s, &[format!("RNFR {from}"), format!("RNTO {to}")])?;
    let refused = |(code, text): &(u32, String)| unexpected(*code, text);
    match (replies[0].0, replies[1].0) {
        (350, 200..=299) => Ok(()),
        // RNTO overtook RNFR (a server that runs commands concurrently,
        // whose replies may come in either order): nothing was renamed;
        // rename one command at a time from now on.
        (350, 450 | 503) | (450 | 503, 350) => {
            *pipeline = false;
            s.rename(from, to)
        }
        (350, _) => Err(refused(&replies[1])),
        // RNFR's refusal is the cause; RNTO then only says "bad sequence".
        _ => Err(refused(&replies[0])),
    }
}

/// A reply the caller did not expect, as suppaftp reports one.
fn unexpected(code: u32, text: &str) -> FtpError {
    FtpError::UnexpectedResponse(suppaftp::types::Response::new(
        Status::from(code),
        text.as_bytes().to_vec(),
    ))
}

/// One FTP reply (multi-line ones whole): its code and text.
fn read_reply(reader: &mut impl BufRead) -> Result<(u32, String), FtpError> {
    let mut text = String::new();
    let mut line = String::new();
    if reader
        .read_line(&mut line)
        .map_err(FtpError::ConnectionError)?
        == 0
    {
        return Err(FtpError::ConnectionError(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the reply",
        )));
    }
    let code: u32 = line
        .get(..3)
        .and_then(|c| c.parse().ok())
        .ok_or(FtpError::BadResponse)?;
    text.push_str(&line);
    if line.as_bytes().get(3) == Some(&b'-') {
        let end = format!("{code} ");
        loop {
            line.clear();
            if reader
                .read_line(&mut line)
                .map_err(FtpError::ConnectionError)?
                == 0
            {
                return Err(FtpError::BadResponse);
            }
            text.push_str(&line);
            if line.starts_with(&end) {
                break;
            }
        }
    }
    Ok((code, text))
}

/// The 64-hex-digit SHA-256 in a hash reply, lowercased.
fn hex_digest(reply: &str) -> Option<String> {
    reply
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|t| t.len() == 64)
        .map(str::to_ascii_lowercase)
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
        let mlsd = self.mlsd;
        let lines = self.retry(
            "listing",
            |c| on!(c, s => if mlsd { s.mlsd(None) } else { s.list(Some("-a")) }),
        )?;
        Ok(entries(&lines, mlsd))
    }

    fn read(&mut self, name: &str) -> TResult<Vec<u8>> {
        self.stats.downloads += 1;
        self.retry(
            &format!("reading {name}"),
            |c| on!(c, s => s.retr_as_buffer(name).map(Cursor::into_inner)),
        )
    }

    fn read_many(&mut self, names: &[String]) -> TResult<Vec<(String, Vec<u8>)>> {
        let mut out: Vec<Option<Vec<u8>>> = vec![None; names.len()];
        self.parallel(
            names.len(),
            1,
            None,
            &|c, r| c.read(&names[r.start]).map(|b| vec![b]),
            &mut |i, bytes| out[i] = Some(bytes),
        )?;
        Ok(names
            .iter()
            .cloned()
            .zip(out)
            .filter_map(|(n, b)| b.map(|b| (n, b)))
            .collect())
    }

    fn hash_many(&mut self, names: &[String]) -> TResult<Option<Hashes>> {
        if self.hash.is_none() {
            return Ok(None);
        }
        let mut out: Vec<Option<String>> = vec![None; names.len()];
        self.parallel(
            names.len(),
            if self.round_trip >= FAR {
                HASH_PIPELINE_FAR
            } else {
                HASH_PIPELINE
            },
            None,
            &|c, r| c.hash_chunk(&names[r]),
            &mut |i, sha| out[i] = sha,
        )?;
        Ok(Some(names.iter().cloned().zip(out).collect()))
    }

    fn upload_many(
        &mut self,
        files: &[(&str, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&str),
    ) -> TResult<()> {
        self.parallel(
            files.len(),
            1,
            Some(stop),
            &|c, r| {
                let (name, bytes) = files[r.start];
                c.stats.uploads += 1;
                upload_one(c, name, bytes).map(|()| vec![()])
            },
            &mut |i, ()| done(files[i].0),
        )
    }

    fn stats(&self) -> Stats {
        let mut total = Stats {
            connections: 1 + self.pool.len(),
            ..self.stats
        };
        for p in &self.pool {
            total.downloads += p.stats.downloads;
            total.hashes += p.stats.hashes;
            total.uploads += p.stats.uploads;
        }
        total
    }

    fn write(&mut self, name: &str, bytes: &[u8]) -> TResult<()> {
        self.retry(
            &format!("uploading {name}"),
            |c| on!(c, s => s.put_file(name, &mut Cursor::new(bytes)).map(|_| ())),
        )
    }

    fn rename(&mut self, from: &str, to: &str) -> TResult<()> {
        // Not retried: if the reply was lost the rename may have happened.
        let c = self
            .conn
            .as_mut()
            .ok_or_else(|| TargetError::new(Kind::Transient, "not connected"))?;
        let result = rename_once(c, from, to, &mut self.pipeline_renames);
        match result {
            Ok(()) => Ok(()),
            // Some servers refuse to rename over an existing file: remove it
            // first. The final name is briefly absent, never half-written.
            Err(e) if reply_code(&e).is_some_and(|c| c == 550 || c == 553) => {
                let _ = on!(c, s => s.rm(to));
                rename_once(c, from, to, &mut self.pipeline_renames)
                    .map_err(|e| classify(&format!("renaming {from} to {to}"), e))
            }
            Err(e) => Err(classify(&format!("renaming {from} to {to}"), e)),
        }
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
        assert_eq!(
            classify("x", unexpected(421, "421 Timeout")).kind,
            Kind::Transient
        );
        assert_eq!(
            classify("x", unexpected(425, "425 Can't open data")).kind,
            Kind::Transient
        );
        assert_eq!(
            classify("x", unexpected(500, "500 OOPS: vsf_sysutil_bind")).kind,
            Kind::Transient
        );
        assert_eq!(
            classify("x", unexpected(500, "500 Unknown command.")).kind,
            Kind::Refused
        );
        assert_eq!(
            classify("x", unexpected(550, "550 No such file")).kind,
            Kind::NotFound
        );
        assert_eq!(
            login_error("PlcmSpIp", unexpected(530, "530 Login incorrect.")).kind,
            Kind::Refused
        );
    }

    #[test]
    fn hash_replies_of_proftpd_parse_to_lowercase_sha256() {
        let xsha = "250-Computing SHA256 digest\r\n250 8662D5332B0E40F7E3D1A4E1E9A3A0F1C6E3F2B1A0D9C8B7A6F5E4D3C2B1A0F9\r\n";
        let hash = "213-Computing SHA-256 digest\r\n213 SHA-256 0-1629 933857f3ee8b5eca82435958d91e5420f7a74fcd8aa309050c701e791b9ff054 altigen.cfg\r\n";
        let bytes = format!("{xsha}{hash}").into_bytes();
        let mut r = std::io::BufReader::new(bytes.as_slice());
        let (code, text) = read_reply(&mut r).expect("first reply");
        assert_eq!(code, 250);
        assert_eq!(
            hex_digest(&text).as_deref(),
            Some("8662d5332b0e40f7e3d1a4e1e9a3a0f1c6e3f2b1a0d9c8b7a6f5e4d3c2b1a0f9")
        );
        let (code, text) = read_reply(&mut r).expect("second reply");
        assert_eq!(code, 213);
        assert_eq!(
            hex_digest(&text).as_deref(),
            Some("933857f3ee8b5eca82435958d91e5420f7a74fcd8aa309050c701e791b9ff054")
        );
        assert!(read_reply(&mut r).is_err(), "no third reply");
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
