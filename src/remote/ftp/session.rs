//! One login session: connect, greet, log in, learn what the server
//! offers, set the folder; end it, replace it, or keep it for another
//! target of the same server and account (see `idle`). Its seat at the
//! server's gate, and logging in again, are in `seat`.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, RustlsConnector, RustlsFtpStream};

use super::conn::{wire_of, Conn};
use super::data::Session;
use super::demand::{self, Account};
use super::hashes::HashCommand;
use super::idle::{self, Idle};
use super::reply::{self, unexpected, Reply};
use super::retry::{classify, deadline_error, ends_session};
use super::watchdog::Watchdog;
use super::wire;
use super::{FtpRemote, ServerProfile, Settings, Template, QUIT_WAIT};
use crate::remote::{Cause, RemoteError, RemoteResult, Stats};

/// Run the same code on either kind of connection.
macro_rules! on {
    ($conn:expr, $s:ident => $body:expr) => {
        match $conn {
            Conn::Plain($s) => $body,
            Conn::Tls($s) => $body,
        }
    };
}

impl FtpRemote {
    /// A new logged-in connection; with `data_ahead`, one that opens a data
    /// connection as it logs in (on servers whose login is pipelined). A
    /// target's first session waits for a seat at its server's gate; an
    /// `extra` one fails at once where there is none (see `admission`).
    pub(super) fn login(
        settings: Settings,
        profile: Option<ServerProfile>,
        data_ahead: bool,
        extra: bool,
    ) -> RemoteResult<Self> {
        let mut t = FtpRemote {
            settings,
            conn: None,
            watchdog: Watchdog::new(),
            server: profile.unwrap_or_default(),
            probed: profile.is_some(),
            pipeline: true,
            data_ahead,
            home: None,
            clean: true,
            pool: Vec::new(),
            seat: None,
            ended: false,
            extra,
            stats: Stats::default(),
        };
        let parked = t.take_seat()?;
        if !t.resume(parked) {
            t.log_in_patiently()?;
        }
        t.settings.sessions.fetch_add(1, Ordering::Relaxed);
        Ok(t)
    }

    /// How to open another connection like this one; `data_ahead`: for
    /// work that transfers files.
    pub(super) fn template(&self, data_ahead: bool) -> Template {
        Template {
            settings: self.settings.clone(),
            profile: self.probed.then_some(self.server),
            data_ahead,
        }
    }

    /// One login on this session's seat (see `seat` for logging in
    /// again after a failure).
    pub(super) fn log_in_once(&mut self) -> RemoteResult<()> {
        self.quit();
        self.home = None;
        self.ended = false;
        let result = self.connect_and_log_in();
        self.watchdog.disarm();
        let conn = result?;
        self.conn = Some(conn);
        self.clean = true;
        if let Some(seat) = &mut self.seat {
            seat.logged_in();
        }
        Ok(())
    }

    /// Whose sessions this target's are, as its site file names it.
    pub(super) fn account(&self) -> Account {
        let s = &self.settings;
        Account::new(&s.host, s.addr.port(), &s.user)
    }

    /// Who may hand this target a session, or take one from it.
    pub(super) fn key(&self) -> idle::Key {
        let s = &self.settings;
        idle::Key::new(
            s.addr,
            &s.user,
            s.password.expose(),
            s.access,
            s.tls.is_some(),
        )
    }

    /// Take `session`, or else one parked at the gate for this target's
    /// key (another target of this server and account left it, see
    /// `idle`), and move it to this target's folder; whether one was
    /// taken.
    pub(super) fn resume(&mut self, mut session: Option<Idle>) -> bool {
        let key = self.key();
        loop {
            let next = session
                .take()
                .or_else(|| self.seat.as_mut()?.take_parked(&key));
            let Some(next) = next else {
                return false;
            };
            match self.adopt(next) {
                Adopted::Yes => return true,
                // The next one would fail the same way: a fresh login
                // reports why.
                Adopted::Refused => return false,
                Adopted::Ended => {}
            }
        }
    }

    /// Use `session` (on this target's seat): its folder set from its
    /// home in one round trip, with the passive command of the first
    /// transfer (with `data_ahead`). A session that does not answer, or
    /// refuses the folder, is ended.
    pub(super) fn adopt(&mut self, session: Idle) -> Adopted {
        let Idle {
            key: _,
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
        let outcome = match &replies {
            Ok(r) if r.iter().any(ends_session) => Adopted::Ended,
            Ok(r) if !r[..folders].iter().all(|r| (200..300).contains(&r.0)) => Adopted::Refused,
            Ok(_) => Adopted::Yes,
            Err(_) => Adopted::Ended,
        };
        let (Adopted::Yes, Ok(replies)) = (&outcome, replies) else {
            wire::quit(&conn, w);
            if let Some(seat) = &mut self.seat {
                seat.logged_out();
            }
            return outcome;
        };
        // A session taken from another target waits for the 150 of its
        // first upload before sending a byte (see `data`).
        let mut session = Session::new(Conn::Plain(conn));
        if let Some(reply) = replies.get(folders) {
            session.data.keep(self.settings.addr, reply);
        }
        self.conn = Some(session);
        self.watchdog = watchdog;
        self.server = server;
        self.probed = true;
        self.home = Some(home);
        Adopted::Yes
    }

    /// Keep this session for another target (see `idle`) if it can be
    /// trusted to be in step; whether it was kept.
    pub(super) fn park(&mut self) -> bool {
        let fit = self.clean
            && self.pipeline
            && self.server.sequential
            && self.home.is_some()
            && !self.watchdog.fired()
            && !self.ended
            && self.seat.is_some()
            && demand::wanted(&self.account())
            && matches!(
                self.conn,
                Some(Session {
                    conn: Conn::Plain(_),
                    ..
                })
            );
        if !fit {
            return false;
        }
        // Its data address stays behind: the next user asks anew.
        let (
            Some(Session {
                conn: Conn::Plain(conn),
                ..
            }),
            Some(home),
            Some(seat),
        ) = (self.conn.take(), self.home.take(), self.seat.take())
        else {
            return false;
        };
        let session = Idle {
            key: self.key(),
            conn,
            watchdog: self.watchdog.clone(),
            server: self.server,
            home,
        };
        let gate = Arc::clone(seat.gate());
        match gate.park(seat, session) {
            Ok(()) => true,
            Err((seat, back)) => {
                self.conn = Some(Session::new(Conn::Plain(back.conn)));
                self.seat = Some(seat);
                false
            }
        }
    }

    /// A session that failed other than by a file being absent may hold a
    /// reply nobody read: it is not handed on.
    /// Its data address dies with the failure: the next transfer asks
    /// for a port anew, which shows whether the session is still there.
    pub(super) fn taint<T>(&mut self, result: RemoteResult<T>) -> RemoteResult<T> {
        result.map_err(|e| self.fail(e))
    }

    /// `taint` for an error already in hand.
    pub(super) fn fail(&mut self, e: RemoteError) -> RemoteError {
        if e.cause != Cause::NotFound {
            self.clean = false;
            if let Some(session) = self.conn.as_mut() {
                session.data.clear();
            }
        }
        e
    }

    /// Connect, read the greeting, log in and set the session up: each
    /// step under its own deadline, so a server that accepts but never
    /// greets, or answers a byte at a time, cannot hold polyops.
    pub(super) fn connect_and_log_in(&mut self) -> RemoteResult<Session> {
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
                let peer = s.addr;
                let passive = self.log_in_at_once(c)?;
                let mut session = Session::new(conn);
                if let Some(reply) = passive {
                    session.data.keep(peer, &reply);
                }
                return Ok(session);
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
        Ok(Session::new(conn))
    }

    /// Log in and set the session up in one round trip, on a plain
    /// connection to a server that reads one command at a time (see
    /// `wire::sequential`): USER, PASS, TYPE I, FEAT at the first login,
    /// the session's options, and (with `data_ahead`) the passive command
    /// of the first transfer go in one write. The password goes before
    /// the server asked for it, to the same server that would ask. The
    /// reply to that passive command, if one was sent.
    pub(super) fn log_in_at_once(&mut self, c: &FtpStream) -> RemoteResult<Option<Reply>> {
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
        self.home = reply::current_folder(&next()?);
        if probe {
            let feat = next()?;
            self.learn(c.get_welcome_msg(), &feat.1, round_trip);
        }
        let option_replies = options
            .iter()
            .map(|_| next())
            .collect::<RemoteResult<Vec<_>>>()?;
        self.settle_options(&options, &option_replies)?;
        let passive = if self.data_ahead {
            let passive = next()?;
            // A server out of passive ports may end the session here.
            if ends_session(&passive) {
                return Err(login_refusal(&passive));
            }
            Some(passive)
        } else {
            None
        };
        if probe && self.server.hash == Some(HashCommand::Hash) {
            // Learnt only now: one more round trip, at the first login.
            let lines = ["OPTS HASH SHA-256".to_owned()];
            dog.arm(timeout);
            let replies = wire::pipelined(c, w, &lines)
                .map_err(|e| deadline_error(&dog, timeout, "setting up the session", e))?;
            self.settle_options(&lines, &replies)?;
        }
        self.probed = true;
        Ok(passive)
    }

    /// After login and TYPE I: what the server offers (first login only),
    /// the hash algorithm, the folder. Commands go in two round trips at
    /// the first login, one at every later one.
    pub(super) fn set_up(&mut self, conn: &mut Conn) -> RemoteResult<()> {
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
    pub(super) fn learn(&mut self, greeting: Option<&str>, feat: &str, round_trip: Duration) {
        // A server without FEAT answers 500: no features.
        let features = reply::features(feat);
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
    pub(super) fn settle_options(
        &mut self,
        lines: &[String],
        replies: &[Reply],
    ) -> RemoteResult<()> {
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
    pub(super) fn session_options(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.server.hash == Some(HashCommand::Hash) {
            lines.push("OPTS HASH SHA-256".to_owned());
        }
        if !self.settings.path.is_empty() {
            lines.push(format!("CWD {}", self.settings.path));
        }
        lines
    }

    /// Send QUIT and end the session. On a plain connection nothing is
    /// awaited (see `wire::quit`); under TLS the close is polite, bounded
    /// by a short deadline.
    pub(super) fn quit(&mut self) {
        let Some(mut session) = self.conn.take() else {
            return;
        };
        if let Some(seat) = &mut self.seat {
            seat.logged_out();
        }
        let w = wire_of(&self.settings, &self.watchdog);
        match &mut session.conn {
            Conn::Plain(s) => wire::quit(s, w),
            Conn::Tls(s) => {
                w.watchdog.arm(QUIT_WAIT.min(w.timeout));
                let _ = s.quit();
                w.watchdog.disarm();
            }
        }
    }
}

/// What became of a session offered to a target (`FtpRemote::adopt`).
pub(super) enum Adopted {
    Yes,
    /// It answered, but refused the target's folder.
    Refused,
    /// It did not answer as a session should: ended.
    Ended,
}

/// A login's failure as polyops reports it: refused (a wrong password, an
/// unknown user), unless another try may work (421 too many sessions).
pub(super) fn login_error(user: &str, e: RemoteError) -> RemoteError {
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
pub(super) fn login_refusal((code, text): &Reply) -> RemoteError {
    classify("logging in", unexpected(*code, text))
}

/// A positive completion reply, or the error it is.
pub(super) fn expect_ok(what: &str, (code, text): &Reply) -> RemoteResult<()> {
    if (200..300).contains(code) {
        Ok(())
    } else {
        Err(classify(what, unexpected(*code, text)))
    }
}

/// Timeouts on every read and write, and no Nagle delay: FTP is a
/// request/reply protocol of small lines, which Nagle plus delayed ACKs
/// would hold back ~40 ms each.
pub(super) fn set_timeouts(socket: &TcpStream, timeout: Duration) -> RemoteResult<()> {
    socket
        .set_read_timeout(Some(timeout))
        .and_then(|_| socket.set_write_timeout(Some(timeout)))
        .and_then(|_| socket.set_nodelay(true))
        .map_err(|e| RemoteError::new(Cause::Transient, format!("setting timeouts: {e}")))
}
