//! Retry and classification: which failures are worth another session,
//! and running an operation again after a fresh login when they happen.

use std::time::{Duration, Instant};

use suppaftp::FtpError;

use super::backoff::Backoff;
use super::conn::wire_of;
use super::data::connected;
use super::data::{Session, FRESH};
use super::reply::{unexpected, Reply};
use super::session::expect_ok;
use super::watchdog::Watchdog;
use super::wire::{self, Wire};
use super::FtpRemote;
use crate::remote::{Cause, RemoteError, RemoteName, RemoteResult};

impl FtpRemote {
    /// Run `op`, reconnecting and retrying after transient failures, with
    /// growing, jittered pauses. Each attempt must end within
    /// `timeout_seconds` (a transfer that keeps moving, longer: see
    /// `Watchdog::progress`). A failure that says the server is short of
    /// something its sessions share lowers its gate's cap (see
    /// `admission`); an extra session that gives its seat up for it
    /// returns the error, for the target's other sessions to do the
    /// work.
    pub(super) fn retry<R>(
        &mut self,
        what: &str,
        op: impl FnMut(&mut Session, Wire<'_>) -> Result<R, FtpError>,
    ) -> RemoteResult<R> {
        self.retry_sized(what, 0, op)
    }

    /// `retry` for an operation that sends `bytes`: its deadline grows with
    /// them.
    pub(super) fn retry_sized<R>(
        &mut self,
        what: &str,
        bytes: u64,
        mut op: impl FnMut(&mut Session, Wire<'_>) -> Result<R, FtpError>,
    ) -> RemoteResult<R> {
        let mut backoff = Backoff::new(FIRST_BACKOFF, FIRST_BACKOFF * 9);
        let mut attempt = 1;
        let key = self.key();
        loop {
            let live = self.ensure_live();
            let w = wire_of(&self.settings, &self.watchdog);
            let result = match (live, self.conn.as_mut()) {
                (Err(e), _) => Err(e),
                (Ok(()), Some(c)) => {
                    w.watchdog.arm(w.timeout);
                    w.watchdog.progress(Instant::now(), w.timeout, bytes);
                    let r = op(c, w);
                    w.watchdog.disarm();
                    r.map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))
                }
                (Ok(()), None) => Err(RemoteError::new(Cause::Transient, "not connected")),
            };
            match result {
                Err(e) if self.seat.is_none() => return self.taint(Err(e)),
                Err(e) if e.cause == Cause::Transient && attempt < ATTEMPTS => {
                    self.note_retry(&e);
                    if let Some(seat) = self.seat.as_ref().filter(|_| crowds(&e)) {
                        seat.failed(&key, false);
                    }
                    std::thread::sleep(backoff.next_pause());
                    attempt += 1;
                    // The next attempt logs in again (a failed login is
                    // itself retried on the next turn) and opens its own
                    // data connection.
                    self.quit();
                }
                other => return self.taint(other),
            }
        }
    }

    /// Before a command that is not safe to repeat: a session idle for
    /// longer than [`FRESH`] may have been ended by the server meanwhile
    /// (an idle timeout's `421 Timeout.`, a killed session process), and
    /// the command would be lost with it. Such a session is checked
    /// (closed, or unread bytes on it; else a NOOP) and, if it is gone,
    /// replaced by a fresh login before the command goes out.
    pub(super) fn awake(&mut self) -> RemoteResult<()> {
        let alive = match self.conn.as_mut() {
            None => false,
            Some(_) if self.watchdog.idle() <= FRESH => return Ok(()),
            Some(c) => {
                let w = wire_of(&self.settings, &self.watchdog);
                c.quiet() && {
                    w.watchdog.arm(w.timeout);
                    let replies = c.batch(w, &["NOOP".to_owned()], false);
                    w.watchdog.disarm();
                    matches!(replies.as_deref(), Ok([(200..=299, _)]))
                }
            }
        };
        if alive {
            return Ok(());
        }
        self.reconnect()
    }

    /// One command with a name, answered 2xx, on this connection; not
    /// retried (a lost reply may hide that it happened), but sent on a
    /// session known to be alive (see `awake`).
    pub(super) fn once(&mut self, what: &str, verb: &str, name: &RemoteName) -> RemoteResult<()> {
        self.ensure_live()?;
        let w = wire_of(&self.settings, &self.watchdog);
        let line = wire::line(w.access, verb, name).map_err(|e| classify(what, e))?;
        self.awake()?;
        let w = wire_of(&self.settings, &self.watchdog);
        let c = connected(&mut self.conn)?;
        w.watchdog.arm(w.timeout);
        let replies = c.batch(w, &[line], false);
        w.watchdog.disarm();
        let result = replies
            .map_err(|e| deadline_error(w.watchdog, w.timeout, what, e))
            .and_then(|replies| expect_ok(what, &replies[0]));
        self.taint(result)
    }

    /// `once`, retried after passing failures: for what is safe to repeat.
    pub(super) fn repeatable(
        &mut self,
        what: &str,
        verb: &str,
        name: &RemoteName,
    ) -> RemoteResult<()> {
        let line = wire::line(self.settings.access, verb, name).map_err(|e| classify(what, e))?;
        // A failed login here is tried again by `retry`, with backoff.
        let _ = self.awake();
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

/// Attempts for an operation that fails transiently (421, 425, 426, resets).
pub(super) const ATTEMPTS: u32 = 4;

/// The first pause between attempts (then at most 0.6 s, 1.8 s).
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Whether a reply says the server ended the session: 421 (RFC 959:
/// the service closes the control connection), or vsftpd's "500 OOPS: …",
/// which it sends as its session process exits (one that found no
/// passive port free, say).
pub(super) fn ends_session((code, text): &Reply) -> bool {
    *code == 421 || (*code == 500 && text.contains("OOPS"))
}

/// Whether a passing failure says the server is short of what sessions
/// share (it ended the session, refused it, ran out of passive ports or
/// time): all but a file that is busy (450), which one session fewer
/// would not help.
fn crowds(e: &RemoteError) -> bool {
    !e.message.contains(": 450")
}

/// `classify`, but an exchange the watchdog cut says so: the server did
/// not answer in time (worth another session, as any timeout).
pub(super) fn deadline_error(
    dog: &Watchdog,
    timeout: Duration,
    what: &str,
    e: FtpError,
) -> RemoteError {
    if dog.fired() || socket_timed_out(&e) {
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

/// The socket's own read or write timeout ended the wait: the same
/// deadline as the watchdog's (both are `target.timeout_seconds`). On a
/// busy machine it can end a read before the watchdog's thread is run.
fn socket_timed_out(e: &FtpError) -> bool {
    matches!(e, FtpError::ConnectionError(io)
        if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
}

pub(super) fn reply_code(e: &FtpError) -> Option<u32> {
    match e {
        FtpError::UnexpectedResponse(r) => Some(r.status.code()),
        _ => None,
    }
}

pub(super) fn reply_text(e: &FtpError) -> String {
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

pub(super) fn classify(what: &str, e: FtpError) -> RemoteError {
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

    #[test]
    fn a_socket_timeout_before_the_watchdog_fires_is_the_same_deadline() {
        let dog = Watchdog::new();
        for kind in [std::io::ErrorKind::WouldBlock, std::io::ErrorKind::TimedOut] {
            let e = FtpError::ConnectionError(std::io::Error::new(kind, "os error 11"));
            let err = deadline_error(&dog, Duration::from_secs(2), "waiting for the greeting", e);
            assert_eq!(err.cause, Cause::Transient);
            assert_eq!(
                err.to_string(),
                "waiting for the greeting: no complete answer from the server within 2 s (target.timeout_seconds)"
            );
        }
        let reset = FtpError::ConnectionError(std::io::ErrorKind::ConnectionReset.into());
        let err = deadline_error(
            &dog,
            Duration::from_secs(2),
            "waiting for the greeting",
            reset,
        );
        assert!(!err.to_string().contains("within"), "{err}");
    }
}
