//! A control connection, plain or TLS, and the one way to send commands
//! on either and read their replies.

use suppaftp::{FtpError, FtpStream, RustlsFtpStream};

use super::reply::Reply;
use super::watchdog::Watchdog;
use super::wire::{self, pipelined, Wire};
use super::Settings;

pub(super) enum Conn {
    Plain(FtpStream),
    Tls(RustlsFtpStream),
}

impl Conn {
    /// Send `lines` and read their replies, whatever the codes: `together`
    /// in one round trip on plain connections, else (and always under TLS)
    /// one command at a time.
    pub(super) fn batch(
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

/// The wire of a connection: its access and watchdog.
pub(super) fn wire_of<'a>(settings: &Settings, watchdog: &'a Watchdog) -> Wire<'a> {
    Wire {
        access: settings.access,
        watchdog,
        timeout: settings.timeout,
    }
}
