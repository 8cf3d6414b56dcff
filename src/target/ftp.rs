//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

use std::io::Cursor;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream};

use super::{Entry, Kind, TResult, Target, TargetError};
use crate::model::{self, TargetUrl};
use crate::secret::Secret;

/// Attempts for an operation that fails transiently (421, 425, 426, resets).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

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

struct Settings {
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
}

impl FtpTarget {
    pub fn connect(target: &model::Target, password: &Secret) -> TResult<Self> {
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
        let mut t = FtpTarget {
            settings: Settings {
                addr,
                host: host.clone(),
                tls,
                timeout: target.timeout,
                user: target.user.clone(),
                password: password.clone(),
                path: path.clone(),
            },
            conn: None,
            mlsd: false,
        };
        t.reconnect()?;
        Ok(t)
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
            self.mlsd = c
                .feat()
                .map(|f| f.keys().any(|k| k.eq_ignore_ascii_case("MLSD")))
                .unwrap_or(false);
            if !s.path.is_empty() {
                c.cwd(&s.path)
                    .map_err(|e| classify(&format!("changing to folder {}", s.path), e))?;
            }
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
            |c| on!(c, s => if mlsd { s.mlsd(None) } else { s.list(None) }),
        )?;
        Ok(entries(&lines, mlsd))
    }

    fn read(&mut self, name: &str) -> TResult<Vec<u8>> {
        self.retry(
            &format!("reading {name}"),
            |c| on!(c, s => s.retr_as_buffer(name).map(Cursor::into_inner)),
        )
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
        let result = on!(c, s => s.rename(from, to));
        match result {
            Ok(()) => Ok(()),
            // Some servers refuse to rename over an existing file: remove it
            // first. The final name is briefly absent, never half-written.
            Err(e) if reply_code(&e).is_some_and(|c| c == 550 || c == 553) => {
                let _ = on!(c, s => s.rm(to));
                on!(c, s => s.rename(from, to))
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
