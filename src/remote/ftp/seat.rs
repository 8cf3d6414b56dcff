//! A session's seat at its server's gate (see `admission`): taking one,
//! logging in on it, again and patiently where the server refused, and
//! giving it up where the server takes fewer sessions now.

use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::conn::wire_of;
use super::idle::{self, Idle};
use super::wire;
use super::FtpRemote;
use crate::remote::{Cause, RemoteError, RemoteResult};

/// The pauses between logins a server refused: 0.1 s, growing threefold
/// to 2 s at most (see `Backoff`).
const LOGIN_PAUSE: Duration = Duration::from_millis(100);
const LOGIN_MOST_PAUSE: Duration = Duration::from_secs(2);

impl FtpRemote {
    /// A seat at the server's gate and, where a session of this target's
    /// key was parked there, that session. A target's first session waits
    /// for room up to `timeout_seconds`; an extra one does not wait.
    pub(super) fn take_seat(&mut self) -> RemoteResult<Option<Idle>> {
        let gate = idle::gate(self.settings.addr);
        let wait = (!self.extra).then(|| Instant::now() + self.settings.timeout);
        let entered = gate.enter(&self.key(), wait).ok_or_else(|| {
            RemoteError::new(Cause::Transient, "the server takes no more sessions now")
        })?;
        if let Some(other) = entered.close {
            self.end_parked(&other);
        }
        self.seat = Some(entered.seat);
        Ok(entered.parked)
    }

    /// End a session that was parked (its seat is accounted for already).
    pub(super) fn end_parked(&self, session: &Idle) {
        wire::quit(&session.conn, wire_of(&self.settings, &session.watchdog));
    }

    /// Log in, and again after a passing failure (a 421, a refused or
    /// reset connect, a session the server ended as it logged in), with
    /// growing, jittered pauses, for up to `timeout_seconds`: a server
    /// that caps its sessions, or restarts its listener, lets the session
    /// in a moment later. Each failure lowers the gate's cap to the other
    /// sessions logged in (see `admission`); a refusal also ends the
    /// sessions parked there for other keys, to make room. Where that
    /// leaves the gate crowded, the session gives its seat up and waits in
    /// turn for another (time that does not count), or, an extra one,
    /// fails. A TLS handshake that met plaintext (a server that wrote a
    /// late reply after AUTH TLS) is passing too; a wrong password or
    /// folder is not.
    pub(super) fn log_in_patiently(&mut self) -> RemoteResult<()> {
        let mut deadline = Instant::now() + self.settings.timeout;
        let mut backoff = Backoff::new(LOGIN_PAUSE, LOGIN_MOST_PAUSE);
        let key = self.key();
        loop {
            let e = match self.log_in_once() {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if e.cause != Cause::Transient && !e.message.contains("corrupt message") {
                return Err(e);
            }
            let refused = e.message.contains(": 421") || e.message.contains("Connection refused");
            let closed = self
                .seat
                .as_ref()
                .map(|seat| seat.failed(&key, refused))
                .unwrap_or_default();
            for session in &closed {
                self.end_parked(session);
            }
            if !backoff.sleep_until_before(deadline) {
                return Err(e);
            }
            self.note_retry(&e);
            let parked = if self.seat.as_ref().is_none_or(|s| s.gate().crowded()) {
                self.seat = None;
                if self.extra {
                    return Err(e);
                }
                let waiting = Instant::now();
                let parked = self.take_seat()?;
                deadline += waiting.elapsed();
                parked
            } else {
                None
            };
            if self.resume(parked) {
                return Ok(());
            }
        }
    }

    /// Why an operation was run again (see `Stats::retries`).
    pub(super) fn note_retry(&self, e: &RemoteError) {
        if let Ok(mut log) = self.settings.retried.lock() {
            log.push(e.message.clone());
        }
    }

    /// Log in again after a failure. Where the server's gate is crowded
    /// (its cap shrank under the seats taken), an extra session gives its
    /// seat up instead (an error: its work goes to the target's other
    /// sessions), and a target's first session ends its extra ones that
    /// are idle (the others end as their work does) but keeps its own
    /// seat: the server ended the session that held it, so a new login
    /// replaces that session rather than adding one. Waiting for room
    /// there could wait for nothing but this target's own idle sessions,
    /// which end only when its work does. A server that refuses the new
    /// login makes it wait for room all the same (`log_in_patiently`).
    pub(super) fn reconnect(&mut self) -> RemoteResult<()> {
        self.quit();
        let crowded = self.seat.as_ref().is_none_or(|s| s.gate().crowded());
        if crowded && self.extra {
            self.seat = None;
            return Err(RemoteError::new(
                Cause::Transient,
                "the server takes fewer sessions now",
            ));
        }
        if crowded {
            self.pool.clear();
        }
        if self.seat.is_none() {
            let parked = self.take_seat()?;
            if self.resume(parked) {
                return Ok(());
            }
        }
        self.log_in_patiently()
    }

    /// Log in again first where the server ended this session or there
    /// is none: a command is never sent into a closed session.
    pub(super) fn ensure_live(&mut self) -> RemoteResult<()> {
        if self.ended || self.conn.is_none() {
            self.reconnect()?;
        }
        Ok(())
    }

    /// Whether this is an extra session of a crowded server: it should
    /// end.
    pub(super) fn crowded(&self) -> bool {
        self.extra && self.seat.as_ref().is_none_or(|s| s.gate().crowded())
    }

    /// End this session and give its seat up.
    pub(super) fn end(&mut self) {
        self.quit();
        self.seat = None;
    }
}
