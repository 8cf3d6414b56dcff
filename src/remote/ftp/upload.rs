//! Uploads: each file stored under its temporary name, then renamed into
//! place; on a server that reads commands in turn, the rename and the next
//! upload's passive command travel with the transfer.

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use suppaftp::FtpError;

use super::conn::{wire_of, Conn};
use super::data;
use super::data::connected;
use super::pool;
use super::reply::{unexpected, Reply};
use super::retry::{classify, deadline_error, ends_session};
use super::watchdog::Watchdog;
use super::wire::{self, pipelined, Wire};
use super::FtpRemote;
use crate::remote::{temp_name, Cause, RemoteError, RemoteName, RemoteResult, Writer};

impl FtpRemote {
    /// Upload `files` on this connection, each under its temporary name,
    /// then renamed into place. On a plain connection a file costs two
    /// round trips: its data follows the STOR at once, and its rename
    /// travels with the next upload's PASV (the last one's too: the next
    /// batch, or whatever this connection does next, uses it). Renames run
    /// in order, so the files that landed are a prefix of `files`. Stops
    /// before the next file once `stop` is set.
    pub(super) fn upload_batch(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
    ) -> pool::Partial<()> {
        if self.fuses_uploads() {
            return self.upload_fused(files, stop);
        }
        let mut landed = 0;
        // Stored under its temporary name, not renamed yet.
        let mut pending: Option<&RemoteName> = None;
        let mut error = None;
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(prev) = pending.take() {
                if let Err(e) = self.rename_then_passive(prev) {
                    error = Some(e);
                    break;
                }
                landed += 1;
            }
            self.stats.uploads += 1;
            let temp = match temp_name(name) {
                Ok(t) => t,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Err(e) = self.store(&temp, bytes) {
                let _ = self.delete(&temp);
                error = Some(e);
                break;
            }
            pending = Some(name);
        }
        if let Some(last) = pending {
            match self.rename_then_passive(last) {
                Ok(()) => landed += 1,
                Err(e) => error = Some(e),
            }
        }
        (vec![(); landed], error)
    }

    /// Whether an upload's rename and the next upload's PASV can travel
    /// with it (see `store_and_rename`): on a plain connection to a server
    /// that reads commands in turn and has answered them in order.
    pub(super) fn fuses_uploads(&self) -> bool {
        self.pipeline
            && self.server.sequential
            && matches!(self.conn.as_ref().map(|s| &s.conn), Some(Conn::Plain(_)))
    }

    /// `upload_batch` with `store_and_rename`: the files that landed are
    /// a prefix of `files`.
    pub(super) fn upload_fused(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
    ) -> pool::Partial<()> {
        let mut landed = 0;
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            self.stats.uploads += 1;
            if let Err(e) = self.store_and_rename(name, bytes) {
                return (vec![(); landed], Some(e));
            }
            landed += 1;
        }
        (vec![(); landed], None)
    }

    /// Upload `name` under its temporary name and rename it into place,
    /// on a plain connection to a server that reads commands in turn: the
    /// next upload's PASV travels with the STOR, and RNFR + RNTO go the
    /// moment the 226 says the whole file landed (never before it), so a
    /// file waits for two round trips, not three. Retried after passing
    /// failures from the STOR on (the same bytes land under the same
    /// name); the temporary file is removed if it cannot be renamed.
    pub(super) fn store_and_rename(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        let temp = temp_name(name)?;
        let peer = self.settings.addr;
        let what = format!("renaming {temp} to {name}");
        let lines = rename_lines(wire_of(&self.settings, &self.watchdog), &temp, name)
            .map_err(|e| classify(&what, e))?;
        let mut ended = false;
        let mut renames = Vec::new();
        let stored = self.retry_sized(&format!("uploading {temp}"), bytes.len() as u64, |c, w| {
            let Conn::Plain(s) = &c.conn else {
                return Err(FtpError::BadResponse);
            };
            let addr = c.data.open(s, w, peer)?;
            let then = Some(wire::passive_command(peer));
            let out = data::store(s, w, &temp, bytes, addr, then, &lines)?;
            ended = out.then.as_ref().is_some_and(ends_session);
            c.data.prove();
            if let Some(reply) = &out.then {
                c.data.keep(peer, reply);
            }
            renames = out.after;
            Ok(())
        });
        self.ended |= ended;
        if let Err(e) = stored {
            let _ = self.delete(&temp);
            return Err(e);
        }
        let w = wire_of(&self.settings, &self.watchdog);
        let c = connected(&mut self.conn)?;
        let [rnfr, rnto] = &renames[..] else {
            return Err(RemoteError::new(
                Cause::Transient,
                format!("{what}: no reply"),
            ));
        };
        w.watchdog.arm(w.timeout);
        let r = Renaming::new(&temp, name);
        let renamed = settle_rename(&mut c.conn, w, r, (rnfr, rnto), &mut self.pipeline);
        w.watchdog.disarm();
        if let Err(e) = renamed {
            let e = deadline_error(w.watchdog, w.timeout, &what, e);
            let e = self.fail(e);
            let _ = self.delete(&temp);
            return Err(e);
        }
        Ok(())
    }

    /// Rename `name`'s temporary file into place; on a plain connection
    /// also ask for the next upload's data address (kept in the session
    /// when the server answered in order). The temporary file is removed
    /// if the rename fails.
    pub(super) fn rename_then_passive(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let temp = temp_name(name)?;
        self.ensure_live()?;
        let w = wire_of(&self.settings, &self.watchdog);
        let c = connected(&mut self.conn)?;
        // The passive command below replaces any data address held.
        c.data.clear();
        w.watchdog.arm(w.timeout);
        let (renamed, passive) = rename_and_passive(
            &mut c.conn,
            w,
            self.settings.addr,
            &temp,
            name,
            &mut self.pipeline,
        );
        w.watchdog.disarm();
        self.ended |= passive.as_ref().is_some_and(ends_session);
        if let Some(reply) = passive.filter(|_| renamed.is_ok()) {
            c.data.keep(self.settings.addr, &reply);
        }
        if let Err(e) = renamed {
            let e = classify(&format!("renaming {temp} to {name}"), e);
            let e = self.fail(e);
            let _ = self.delete(&temp);
            return Err(e);
        }
        Ok(())
    }

    /// STOR `bytes` as `name`, over the data address the session holds if
    /// one is fresh; retried (after a fresh login) on transient failures.
    /// On a plain connection to a server that reads commands in turn, the
    /// next data address is asked for in the same round trip.
    pub(super) fn store(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        let peer = self.settings.addr;
        let then = (self.pipeline && self.server.sequential).then(|| wire::passive_command(peer));
        let mut ended = false;
        let stored =
            self.retry_sized(
                &format!("uploading {name}"),
                bytes.len() as u64,
                |c, w| match &mut c.conn {
                    Conn::Plain(s) => {
                        let addr = c.data.open(s, w, peer)?;
                        let out = data::store(s, w, name, bytes, addr, then, &[])?;
                        ended = out.then.as_ref().is_some_and(ends_session);
                        c.data.prove();
                        if let Some(reply) = &out.then {
                            c.data.keep(peer, reply);
                        }
                        Ok(())
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
            );
        self.ended |= ended;
        stored
    }
}

/// RNFR + RNTO, replacing `to` if it exists; on plain connections both go
/// in one round trip, unless the server showed it does not take them in
/// order (`*pipeline` is then cleared for this connection).
pub(super) fn rename_once(
    c: &mut Conn,
    w: Wire<'_>,
    from: &RemoteName,
    to: &RemoteName,
    pipeline: &mut bool,
) -> Result<(), FtpError> {
    let replies = c.batch(w, &rename_lines(w, from, to)?, *pipeline)?;
    let r = Renaming::new(from, to);
    settle_rename(c, w, r, (&replies[0], &replies[1]), pipeline)
}

pub(super) fn rename_lines(
    w: Wire<'_>,
    from: &RemoteName,
    to: &RemoteName,
) -> Result<Vec<String>, FtpError> {
    Ok(vec![
        wire::line(w.access, "RNFR", from)?,
        wire::line(w.access, "RNTO", to)?,
    ])
}

/// One rename into place: its names, and whether an existing `to` may
/// still be removed first when the server will not rename onto it
/// (cleared after that one try).
#[derive(Clone, Copy)]
pub(super) struct Renaming<'a> {
    pub from: &'a RemoteName,
    pub to: &'a RemoteName,
    pub replace: bool,
}

impl<'a> Renaming<'a> {
    pub(super) fn new(from: &'a RemoteName, to: &'a RemoteName) -> Self {
        Renaming {
            from,
            to,
            replace: true,
        }
    }
}

/// What the replies to RNFR + RNTO mean, and the second try they may call
/// for.
pub(super) fn settle_rename(
    c: &mut Conn,
    w: Wire<'_>,
    r: Renaming<'_>,
    (rnfr, rnto): (&Reply, &Reply),
    pipeline: &mut bool,
) -> Result<(), FtpError> {
    let Renaming { from, to, replace } = r;
    match (rnfr.0, rnto.0) {
        (350, 200..=299) => Ok(()),
        // RNTO overtook RNFR (a server that runs commands concurrently,
        // whose replies may come in either order): nothing was renamed;
        // rename one command at a time from now on.
        (350, 450 | 503) | (450 | 503, 350) if *pipeline => {
            *pipeline = false;
            let replies = c.batch(w, &rename_lines(w, from, to)?, false)?;
            settle_rename(c, w, r, (&replies[0], &replies[1]), pipeline)
        }
        // Some servers refuse to rename over an existing file: remove it
        // first. The final name is briefly absent, never half-written.
        (350, 550 | 553) if replace => {
            let _ = c.batch(w, &[wire::line(w.access, "DELE", to)?], false);
            let replies = c.batch(w, &rename_lines(w, from, to)?, *pipeline)?;
            let again = Renaming {
                replace: false,
                ..r
            };
            settle_rename(c, w, again, (&replies[0], &replies[1]), pipeline)
        }
        (350, _) => Err(unexpected(rnto.0, &rnto.1)),
        // RNFR's refusal is the cause; RNTO then only says "bad sequence".
        _ => Err(unexpected(rnfr.0, &rnfr.1)),
    }
}

/// RNFR + RNTO of one file and the PASV (EPSV) of the next upload, in one
/// round trip on a plain connection: the rename's outcome, and the reply
/// to the PASV if it came through in order.
pub(super) fn rename_and_passive(
    c: &mut Conn,
    w: Wire<'_>,
    peer: SocketAddr,
    from: &RemoteName,
    to: &RemoteName,
    pipeline: &mut bool,
) -> (Result<(), FtpError>, Option<Reply>) {
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
    let r = Renaming::new(from, to);
    let renamed = settle_rename(c, w, r, (&replies[0], &replies[1]), pipeline);
    if at != 2 {
        *pipeline = false;
    }
    (renamed, clean.then_some(passive))
}

/// An upload's bytes that, once read to the end, let the watchdog forget
/// the data connection, so that suppaftp's close of it is the last.
pub(super) struct ReleaseAtEnd<'a> {
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
