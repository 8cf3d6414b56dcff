//! Downloads: RETR over the data connection opened ahead, the next one
//! opened in the same round trip.

use suppaftp::FtpError;

use super::conn::Conn;
use super::pool;
use super::reply;
use super::retry::{classify, ends_session};
use super::wire::{self, Limit};
use super::FtpRemote;
use crate::remote::{Cause, Fetched, RemoteName, RemoteResult, KEEP_BYTES, MAX_FILE_BYTES};

impl FtpRemote {
    /// Read `names` on this connection, `None` for each file the server
    /// does not have and each that `skip` (asked just before its turn)
    /// leaves out. On a plain connection to a server that runs commands
    /// one at a time, each RETR carries the next file's PASV (the last
    /// one's too, for whatever this connection does next), so a file
    /// costs one round trip.
    pub(super) fn read_batch(
        &mut self,
        names: &[RemoteName],
        skip: &dyn Fn(&RemoteName) -> bool,
    ) -> pool::Partial<Option<Fetched>> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if skip(name) {
                out.push(None);
                continue;
            }
            let limit = Limit::File {
                keep: KEEP_BYTES,
                max: MAX_FILE_BYTES,
            };
            match self.fetch(name, limit) {
                Ok(fetched) => out.push(Some(fetched)),
                Err(e) if e.cause == Cause::NotFound => out.push(None),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// RETR `name`, over the data address the session holds if one is
    /// fresh; retried (after a fresh login) on transient failures. On a
    /// plain connection to a server that runs commands one at a time, the
    /// next data address is asked for in the same round trip (kept in the
    /// session), whether or not the file was there.
    pub(super) fn fetch(&mut self, name: &RemoteName, limit: Limit) -> RemoteResult<Fetched> {
        self.stats.downloads += 1;
        let peer = self.settings.addr;
        let then = (self.pipeline && self.server.sequential).then(|| wire::passive_command(peer));
        let command = wire::line(self.settings.access, "RETR", name)
            .map_err(|e| classify(&format!("reading {name}"), e))?;
        let beside = self.far();
        let mut in_order = true;
        let mut ended = false;
        let fetched = self.retry(&format!("reading {name}"), |c, w| match &mut c.conn {
            Conn::Plain(s) => {
                let data = c.data.open(s, w, peer)?.connect(w)?;
                let received = wire::receive(s, w, &command, data, then, limit, beside)?;
                in_order &= received.in_order;
                ended = received.then.as_ref().is_some_and(ends_session);
                if let (Some(reply), true) = (&received.then, received.in_order) {
                    c.data.keep(peer, reply);
                }
                let (fetched, _) = received
                    .outcome
                    .map_err(|(code, text)| reply::unexpected(code, &text))?;
                c.data.prove();
                Ok(fetched)
            }
            Conn::Tls(s) => {
                let mut sink = limit.sink();
                s.retr(name.as_str(), |r| {
                    let drained = wire::drain(r, &mut sink, w).map_err(FtpError::ConnectionError);
                    w.watchdog.release_data();
                    drained
                })?;
                Ok(sink.finish())
            }
        });
        self.ended |= ended;
        if !in_order {
            self.pipeline = false;
        }
        fetched
    }
}
