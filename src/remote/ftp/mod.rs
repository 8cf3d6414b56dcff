//! `ftp://` and `ftps://` targets (explicit TLS, AUTH TLS, certificate
//! verified). Binary mode always; every connect and read has a timeout;
//! only what is safe to repeat is retried, after a fresh login.

mod admission;
mod backoff;
mod conn;
mod data;
mod demand;
mod download;
mod hashes;
mod idle;
mod listing;
mod locks;
mod pool;
pub mod probe;
mod reply;
mod retry;
mod seat;
mod session;
mod survey;
mod tls;
mod traces;
mod upload;
mod watchdog;
mod wire;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{
    Access, Cause, Entry, Fetched, Hashes, Reader, RemoteError, RemoteName, RemoteResult, Sizes,
    Stats, Survey, TraceRequest, Traces, Writer,
};
use crate::site::model::{self, TargetUrl};
use crate::site::name::check_command_line;
use crate::site::secret::Secret;
use admission::Seat;
use conn::{wire_of, Conn};
use data::connected;
use data::Session;
use hashes::HashCommand;
use idle::Idle;
use pool::{whole, HASH_PIPELINE};
use retry::deadline_error;
use tls::tls_config;
use upload::rename_once;
use watchdog::Watchdog;
use wire::Limit;

/// How long a TLS session's end may take (its QUIT and close_notify).
const QUIT_WAIT: Duration = Duration::from_secs(2);

/// What parallel work does: how many sessions pay off depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Hash,
    Download,
    Upload,
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
    /// Sessions this target logged in, its first one and its extra ones.
    sessions: Arc<std::sync::atomic::AtomicUsize>,
}

/// What the first login learnt of the server: later logins to it
/// (retries, parallel connections) do not ask again.
#[derive(Clone, Copy, Default)]
struct ServerProfile {
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
    profile: Option<ServerProfile>,
    /// Whether the connection will transfer files (see `FtpRemote::data`).
    data_ahead: bool,
}

impl Template {
    /// Another session: only if the server's gate has room for one now
    /// (see `admission`).
    fn open(&self) -> RemoteResult<FtpRemote> {
        FtpRemote::login(self.settings.clone(), self.profile, self.data_ahead, true)
    }
}

pub struct FtpRemote {
    settings: Settings,
    /// The logged-in control connection, with the data address its own
    /// last passive command was answered with (see `data`).
    conn: Option<Session>,
    /// Ends an exchange on this connection that outlives its deadline.
    watchdog: Watchdog,
    /// What this connection uses (`hash` is `None` where this session
    /// refused `OPTS HASH SHA-256`); handed on to later connections.
    server: ServerProfile,
    /// Whether `server` holds what a login learnt yet.
    probed: bool,
    /// Whether commands may go out before the previous ones are answered
    /// (cleared for a server that answered out of order).
    pipeline: bool,
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
    /// This session's place at its server's gate (see `admission`);
    /// `None` once an extra session gave it up.
    seat: Option<Seat<Idle>>,
    /// Whether the server ended this session (see `retry::ends_session`)
    /// after the last exchange answered: the next command goes on a
    /// fresh login, never into a closed session.
    ended: bool,
    /// Whether this is an extra session of a target's pool: one that
    /// gives its seat up rather than wait for one.
    extra: bool,
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
                sessions: Arc::default(),
            },
            None,
            true,
            false,
        )
    }
}

/// The run will open each of `targets` once: the sessions of an account
/// are parked only while a target of it may still come (see `demand`).
pub fn expect_targets<'a>(targets: impl IntoIterator<Item = &'a model::Target>) {
    demand::expect(targets);
}

impl Drop for FtpRemote {
    /// Every session ends at once, or is kept for another target of the
    /// same server and account (see `idle`, `demand`): a plain one waits
    /// for nothing, and the TLS ones end side by side, each within
    /// `QUIT_WAIT`. The last target of an account also ends the sessions
    /// parked for it.
    fn drop(&mut self) {
        if !self.extra {
            demand::done(&self.account());
        }
        let pool = std::mem::take(&mut self.pool);
        if pool.iter().any(|p| {
            matches!(
                p.conn,
                Some(Session {
                    conn: Conn::Tls(_),
                    ..
                })
            )
        }) {
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
        if !self.extra && !demand::wanted(&self.account()) {
            let user = &self.settings.user;
            let gate = idle::gate(self.settings.addr);
            for session in gate.close_parked(|p| p.key.user != *user) {
                self.end_parked(&session);
            }
        }
    }
}

impl Reader for FtpRemote {
    fn list(&mut self) -> RemoteResult<Vec<Entry>> {
        self.list_entries()
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

    fn survey(
        &mut self,
        state: &RemoteName,
        max_state: u64,
        wanted: &[RemoteName],
        if_listed: &[RemoteName],
    ) -> RemoteResult<Survey> {
        self.survey_all(state, max_state, wanted, if_listed)
    }

    fn traces(&mut self, request: &TraceRequest<'_>) -> RemoteResult<Option<Traces>> {
        self.phone_traces(request).map(Some)
    }

    fn stats(&self) -> Stats {
        let mut total = Stats {
            connections: self.settings.sessions.load(Ordering::Relaxed).max(1),
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
        // So it goes on a session known to be alive.
        self.ensure_live()?;
        self.awake()?;
        let w = wire_of(&self.settings, &self.watchdog);
        let what = format!("renaming {from} to {to}");
        let c = connected(&mut self.conn)?;
        w.watchdog.arm(w.timeout);
        let renamed = rename_once(&mut c.conn, w, from, to, &mut self.pipeline);
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
