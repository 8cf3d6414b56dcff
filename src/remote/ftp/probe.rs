//! What `polyops doctor` asks an FTP server beyond what plan and apply do:
//! the raw answers (a PASV reply's address, a rename onto an existing file
//! without apply's fallback, a file's modification time, the server's
//! certificate, whether a plain login is taken). Facts only; what they
//! mean is `setup::doctor`'s to say. Every exchange has the target's
//! deadline, as everywhere else.

use std::io::{BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::conn::{wire_of, Conn};
use super::data::connected;
use super::reply::{self, Reply};
use super::retry::deadline_error;
use super::session::set_timeouts;
use super::tls::root_store;
use super::upload::rename_lines;
use super::watchdog::Watchdog;
use super::wire;
use super::{Cause, FtpRemote, RemoteError, RemoteName, RemoteResult};
use crate::remote::Access;
use crate::site::model::{self, TargetUrl};

/// What the server answered to PASV (EPSV on IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passive {
    pub command: &'static str,
    /// The reply's text.
    pub reply: String,
    /// The address a PASV reply names (EPSV names none).
    pub named: Option<IpAddr>,
    /// The address of the control connection.
    pub peer: IpAddr,
}

/// How a rename onto an existing file went, without apply's fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// The existing file was replaced.
    Replaced,
    /// RNFR was taken, RNTO refused (a FileZilla-style server that will not
    /// rename onto an existing file): its reply.
    Refused(String),
}

impl FtpRemote {
    /// The server's greeting, as it sent it (outside text: clean it before
    /// printing).
    pub fn greeting(&self) -> Option<String> {
        match &self.conn.as_ref()?.conn {
            Conn::Plain(s) => s.get_welcome_msg().map(str::to_owned),
            Conn::Tls(s) => s.get_welcome_msg().map(str::to_owned),
        }
    }

    /// The command this session has the server hash files with (`XSHA256`,
    /// `HASH`), if any.
    pub fn hash_command(&self) -> Option<&'static str> {
        self.server.hash.map(super::hashes::HashCommand::verb)
    }

    /// The command that lists the root: `MLSD`, or `LIST -a`.
    pub fn listing_command(&self) -> &'static str {
        if self.server.mlsd {
            "MLSD"
        } else {
            "LIST -a"
        }
    }

    /// One command and its reply, whatever its code; not retried.
    fn exchange(&mut self, what: &str, line: String) -> RemoteResult<Reply> {
        let w = wire_of(&self.settings, &self.watchdog);
        let c = connected(&mut self.conn)?;
        w.watchdog.arm(w.timeout);
        let replies = c.batch(w, std::slice::from_ref(&line), false);
        w.watchdog.disarm();
        let mut replies = replies.map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))?;
        Ok(replies.remove(0))
    }

    /// Ask for a passive data port and report the reply. The port is not
    /// used: the next transfer asks again (servers drop an unused one).
    pub fn passive_reply(&mut self) -> RemoteResult<Passive> {
        let peer = self.settings.addr;
        let command = wire::passive_command(peer);
        let (code, text) = self.exchange("opening a data port", command.to_owned())?;
        if !matches!(code, 227 | 229) {
            return Err(RemoteError::new(
                Cause::Refused,
                format!("{command}: {}", text.trim()),
            ));
        }
        Ok(Passive {
            command,
            named: (code == 227).then(|| pasv_host(&text)).flatten(),
            reply: text.trim().to_owned(),
            peer: peer.ip(),
        })
    }

    /// Rename `from` onto the existing `to` with RNFR and RNTO alone: no
    /// deleting `to` first when the server refuses, as apply does.
    pub fn rename_without_fallback(
        &mut self,
        from: &RemoteName,
        to: &RemoteName,
    ) -> RemoteResult<Rename> {
        let what = format!("renaming {from} to {to}");
        let w = wire_of(&self.settings, &self.watchdog);
        let lines = rename_lines(w, from, to).map_err(|e| super::retry::classify(&what, e))?;
        let [rnfr, rnto] = <[String; 2]>::try_from(lines)
            .map_err(|_| RemoteError::new(Cause::Refused, format!("{what}: no rename commands")))?;
        let (code, text) = self.exchange(&what, rnfr)?;
        if code != 350 {
            return Err(RemoteError::new(
                Cause::Refused,
                format!("{what}: RNFR: {}", text.trim()),
            ));
        }
        let (code, text) = self.exchange(&what, rnto)?;
        match code {
            200..=299 => Ok(Rename::Replaced),
            450 | 550 | 553 => Ok(Rename::Refused(text.trim().to_owned())),
            _ => Err(RemoteError::new(
                Cause::Refused,
                format!("{what}: RNTO: {}", text.trim()),
            )),
        }
    }

    /// When the server says `name` was last changed (MDTM, RFC 3659: UTC).
    /// `Ok(None)`: the server has no MDTM.
    pub fn modified(&mut self, name: &RemoteName) -> RemoteResult<Option<SystemTime>> {
        let what = format!("asking for the time of {name}");
        let line = wire::line(self.settings.access, "MDTM", name)
            .map_err(|e| super::retry::classify(&what, e))?;
        let (code, text) = self.exchange(&what, line)?;
        match code {
            213 => mdtm_time(&text).map(Some).ok_or_else(|| {
                RemoteError::new(
                    Cause::Refused,
                    format!("{what}: unexpected reply {}", text.trim()),
                )
            }),
            500 | 501 | 502 | 504 => Ok(None),
            550 => Err(RemoteError::new(
                Cause::NotFound,
                format!("{what}: {}", text.trim()),
            )),
            _ => Err(RemoteError::new(
                Cause::Refused,
                format!("{what}: {}", text.trim()),
            )),
        }
    }
}

/// The host a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` reply names.
pub fn pasv_host(text: &str) -> Option<IpAddr> {
    let start = text.find('(')?;
    let end = start + text[start..].find(')')?;
    let n: Vec<u8> = text[start + 1..end]
        .split(',')
        .map(|p| p.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d, _, _] = n[..] else {
        return None;
    };
    Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
}

/// The time in a `213 YYYYMMDDHHMMSS[.sss]` reply.
pub fn mdtm_time(reply: &str) -> Option<SystemTime> {
    let digits = reply.trim().strip_prefix("213")?.trim();
    let d = digits.get(..14)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[..4],
        &d[4..6],
        &d[6..8],
        &d[8..10],
        &d[10..12],
        &d[12..14]
    ))
    .ok()
}

/// The server's TLS certificate, and whether this machine trusts it for
/// the target's host.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The end-entity certificate (DER), when the server sent one.
    pub der: Option<Vec<u8>>,
    /// `Err`: why the handshake failed (an untrusted certificate, a name
    /// that does not match, an expired one…).
    pub verified: Result<(), String>,
}

/// Keeps the end-entity certificate it is asked to verify, and verifies it
/// exactly as polyops's FTPS connections do.
#[derive(Debug)]
struct Keeper {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    seen: Mutex<Option<Vec<u8>>>,
}

impl ServerCertVerifier for Keeper {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(end_entity.as_ref().to_vec());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A control connection to the target's server, greeted, under a watchdog
/// that ends it after `budget` exchanges' worth of time.
fn greeted(target: &model::Target, budget: u32) -> RemoteResult<(TcpStream, Watchdog, String)> {
    let TargetUrl::Ftp { host, port, .. } = &target.url else {
        return Err(RemoteError::new(Cause::Refused, "not an FTP URL"));
    };
    let addr: SocketAddr = (host.as_str(), *port)
        .to_socket_addrs()
        .map_err(|e| RemoteError::new(Cause::Refused, format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| RemoteError::new(Cause::Refused, format!("{host} has no address")))?;
    let timeout = target.timeout;
    let socket = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| RemoteError::new(Cause::Transient, format!("connecting to {addr}: {e}")))?;
    set_timeouts(&socket, timeout)?;
    let dog = Watchdog::new();
    dog.control(&socket);
    dog.arm(timeout * budget);
    let (code, text) = read(&socket, &dog, timeout, "waiting for the greeting")?;
    if code != 220 {
        return Err(RemoteError::new(
            Cause::Refused,
            format!("greeting: {}", text.trim()),
        ));
    }
    Ok((socket, dog, host.clone()))
}

/// The next reply on `socket`. Nothing is read past it: FTP is request and
/// reply, so nothing follows until the next command.
fn read(
    socket: &TcpStream,
    dog: &Watchdog,
    timeout: std::time::Duration,
    what: &str,
) -> RemoteResult<Reply> {
    reply::read_reply(&mut BufReader::new(socket))
        .map_err(|e| deadline_error(dog, timeout, what, e))
}

/// Send one command line (checked like every other).
fn send(mut socket: &TcpStream, line: &str) -> RemoteResult<()> {
    wire::check(Access::ReadOnly, line)
        .map_err(|e| super::retry::classify("sending a command", e))?;
    socket
        .write_all(format!("{line}\r\n").as_bytes())
        .map_err(|e| RemoteError::new(Cause::Transient, format!("sending a command: {e}")))
}

/// Start TLS as an FTPS login does (AUTH TLS) and keep the certificate the
/// server shows; no login follows. A handshake that met plaintext (a
/// server that wrote a late reply after AUTH TLS) is tried again, as a
/// login's is.
pub fn certificate(target: &model::Target) -> RemoteResult<Certificate> {
    let mut attempt = 1;
    loop {
        let c = certificate_once(target)?;
        let garbled = c.der.is_none()
            && c.verified
                .as_ref()
                .is_err_and(|e| e.contains("corrupt message"));
        if !garbled || attempt == super::retry::ATTEMPTS {
            return Ok(c);
        }
        attempt += 1;
        std::thread::sleep(super::retry::FIRST_BACKOFF);
    }
}

fn certificate_once(target: &model::Target) -> RemoteResult<Certificate> {
    let (socket, dog, host) = greeted(target, 3)?;
    let timeout = target.timeout;
    send(&socket, "AUTH TLS")?;
    let (code, text) = read(&socket, &dog, timeout, "AUTH TLS")?;
    if code != 234 {
        return Err(RemoteError::new(
            Cause::Refused,
            format!("AUTH TLS: {}", text.trim()),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(root_store(target.ca_file.as_deref())?);
    let setup =
        |e: &dyn std::fmt::Display| RemoteError::new(Cause::Refused, format!("TLS setup: {e}"));
    let inner =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|e| setup(&e))?;
    let keeper = Arc::new(Keeper {
        inner,
        seen: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(&e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&keeper) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone())
        .map_err(|e| RemoteError::new(Cause::Refused, format!("{host}: {e}")))?;
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| setup(&e))?;
    let mut stream = &socket;
    let mut verified = Ok(());
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut stream) {
            verified = Err(if dog.fired() {
                format!(
                    "no complete TLS handshake within {} s (target.timeout_seconds)",
                    timeout.as_secs()
                )
            } else {
                e.to_string()
            });
            break;
        }
    }
    if verified.is_ok() {
        tls.send_close_notify();
        let _ = tls.complete_io(&mut stream);
    }
    dog.disarm();
    let _ = socket.shutdown(std::net::Shutdown::Both);
    let der = keeper.seen.lock().ok().and_then(|mut s| s.take());
    Ok(Certificate { der, verified })
}

/// The reply a plain (not TLS) session gets to `USER <target.user>`, as a
/// phone's would. Only the user name is sent, never a password.
pub fn plain_login(target: &model::Target) -> RemoteResult<Reply> {
    let (socket, dog, _) = greeted(target, 3)?;
    send(&socket, &format!("USER {}", target.user))?;
    let reply = read(&socket, &dog, target.timeout, "USER")?;
    let _ = send(&socket, "QUIT");
    let _ = read(&socket, &dog, target.timeout, "QUIT");
    dog.disarm();
    let _ = socket.shutdown(std::net::Shutdown::Both);
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasv_reply_names_its_host() {
        assert_eq!(
            pasv_host("227 Entering Passive Mode (10,0,0,5,156,64)."),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)))
        );
        assert_eq!(pasv_host("227 Entering Passive Mode (10,0,0,5,156)"), None);
        assert_eq!(pasv_host("227 nothing"), None);
        assert_eq!(pasv_host("227 (300,0,0,1,1,1)"), None);
    }

    #[test]
    fn mdtm_replies_are_utc_with_or_without_fractions() {
        let t = mdtm_time("213 20260102030405\r\n").expect("a time");
        assert_eq!(
            humantime::format_rfc3339_seconds(t).to_string(),
            "2026-01-02T03:04:05Z"
        );
        let t = mdtm_time("213 20260102030405.123").expect("a time");
        assert_eq!(
            humantime::format_rfc3339_seconds(t).to_string(),
            "2026-01-02T03:04:05Z"
        );
        for bad in [
            "213 2026",
            "213 2026010203040x",
            "550 No such file",
            "213 20261302030405",
        ] {
            assert!(mdtm_time(bad).is_none(), "{bad}");
        }
    }
}
