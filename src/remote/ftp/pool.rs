//! Work spread over several logged-in connections to one server.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use super::locks::lock;
use super::{FtpRemote, Job};
use crate::remote::{Cause, RemoteError, RemoteResult};

/// What one connection did with a range of job indices: the results of a
/// prefix of the range, and the error that stopped it there, if any.
pub type Partial<R> = (Vec<R>, Option<RemoteError>);

/// Work on one connection over a range of job indices.
pub type Work<'a, R> = dyn Fn(&mut FtpRemote, Range<usize>) -> Partial<R> + Sync + 'a;

/// All of a range's results, or none of them.
pub fn whole<R>(result: RemoteResult<Vec<R>>) -> Partial<R> {
    match result {
        Ok(results) => (results, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

type Message<R> = Result<Vec<(usize, R)>, RemoteError>;

/// What parallel work is: its kind, whether it transfers files (its
/// sessions then open a data connection as they log in), about how many
/// files it touches, its ranges of job indices, and what stops it early.
#[derive(Clone, Copy)]
pub struct Spread<'a> {
    pub job: Job,
    pub transfers: bool,
    pub items: usize,
    pub ranges: &'a [Range<usize>],
    pub stop: Option<&'a AtomicBool>,
}

impl FtpRemote {
    /// Run `work` (a `job`) over `0..total` in chunks of `chunk`: see
    /// [`FtpRemote::parallel_ranges`].
    pub(super) fn parallel<R: Send>(
        &mut self,
        job: Job,
        total: usize,
        chunk: usize,
        stop: Option<&AtomicBool>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> RemoteResult<()> {
        let ranges: Vec<Range<usize>> = chunks(0..total, chunk).collect();
        let spread = Spread {
            job,
            transfers: job != Job::Hash,
            items: total,
            ranges: &ranges,
            stop,
        };
        self.parallel_ranges(&spread, work, on_result)
    }

    /// Run `work` over each of `spread.ranges`, in their order, spread
    /// over up to `connection_limit(job, items)` connections. Work starts
    /// at once on the connections already open; the missing ones log in
    /// meanwhile, side by side (a login is round trips of waiting, which
    /// need not wait for each other), each opening a data connection ahead
    /// when `transfers`, and join as they come. They stay open for the
    /// next call. `on_result` hears each index's result on this thread.
    /// The first error stops the rest, but for a passing failure of an
    /// extra session: that session ends, and what its range had left is
    /// done on this one after the others (a server that ends sessions, or
    /// runs out of what they share, gets fewer of them; see `admission`).
    /// An extra session also ends where the server's gate is crowded.
    pub(super) fn parallel_ranges<R: Send>(
        &mut self,
        spread: &Spread<'_>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> RemoteResult<()> {
        let Spread {
            job,
            transfers,
            items,
            ranges,
            stop,
        } = *spread;
        let want = self.connection_limit(job, items).min(ranges.len());
        let mut pool = std::mem::take(&mut self.pool);
        while pool.last().is_some_and(FtpRemote::crowded) {
            pool.pop();
        }
        let ready = pool.len().min(want.saturating_sub(1));
        let to_open = want.saturating_sub(1 + ready);
        let template = self.template(transfers);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let more = || {
            !failed.load(Ordering::SeqCst)
                && !stop.is_some_and(|s| s.load(Ordering::SeqCst))
                && next.load(Ordering::SeqCst) < ranges.len()
        };
        // What extra sessions that ended left of their ranges.
        let left = Mutex::new(Vec::<Range<usize>>::new());
        let run = |conn: &mut FtpRemote, tx: &mpsc::Sender<Message<R>>| {
            while more() && !conn.crowded() {
                let Some(range) = ranges.get(next.fetch_add(1, Ordering::SeqCst)) else {
                    break;
                };
                let (results, error) = work(conn, range.clone());
                let rest = range.start + results.len()..range.end;
                let _ = tx.send(Ok(range.clone().zip(results).collect()));
                let Some(e) = error else { continue };
                if conn.extra && e.cause == Cause::Transient {
                    conn.end();
                    lock(&left).push(rest);
                } else {
                    failed.store(true, Ordering::SeqCst);
                    let _ = tx.send(Err(e));
                }
                break;
            }
            if conn.crowded() {
                conn.end();
            }
        };
        let (tx, rx) = mpsc::channel::<Message<R>>();
        let (back_tx, back_rx) = mpsc::channel::<FtpRemote>();
        let result = std::thread::scope(|scope| {
            let (run, more, template) = (&run, &more, &template);
            for conn in std::iter::once(&mut *self).chain(pool.iter_mut().take(ready)) {
                let tx = tx.clone();
                scope.spawn(move || run(conn, &tx));
            }
            for _ in 0..to_open {
                let (tx, back_tx) = (tx.clone(), back_tx.clone());
                scope.spawn(move || {
                    if !more() {
                        return;
                    }
                    // A server that caps sessions per user: work with fewer.
                    let Ok(mut conn) = template.open() else {
                        return;
                    };
                    run(&mut conn, &tx);
                    if conn.seat.is_some() {
                        let _ = back_tx.send(conn);
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
        pool.extend(back_rx.try_iter());
        pool.retain(|p| p.seat.is_some());
        self.pool = pool;
        result?;
        let left = left.into_inner().unwrap_or_default();
        self.do_left(&left, stop, work, on_result)
    }

    /// Run `work` on this session over `ranges`, what extra sessions that
    /// ended left (see `parallel_ranges`).
    fn do_left<R>(
        &mut self,
        ranges: &[Range<usize>],
        stop: Option<&AtomicBool>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> RemoteResult<()> {
        for range in ranges {
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                break;
            }
            let (results, error) = work(self, range.clone());
            for (i, r) in range.clone().zip(results) {
                on_result(i, r);
            }
            if let Some(e) = error {
                return Err(e);
            }
        }
        Ok(())
    }
}

impl FtpRemote {
    /// Whether the server is far away ([`FAR`]).
    pub(super) fn far(&self) -> bool {
        self.server.round_trip >= FAR
    }

    /// How many connections parallel work of `items` items may use, this
    /// one included. On a far server each transfer waits for round trips
    /// on its connection, so sessions side by side pay, but each costs a
    /// login (server CPU, a process or two on most servers): with n
    /// transfers and k sessions the wait is about n/k transfers, and one
    /// more session saves about n/k² of them, less than one once k is
    /// past √n. So about √n sessions, at most `CONNECTIONS_FAR`.
    pub(super) fn connection_limit(&self, job: Job, items: usize) -> usize {
        self.settings
            .connections
            .unwrap_or(match job {
                // Hashing is pipelined: more commands in flight, not more
                // sessions, is what pays on a slow link.
                Job::Hash => CONNECTIONS_HASHING,
                _ if self.far() => CONNECTIONS_FAR
                    .min(items.isqrt() + 1)
                    .max(CONNECTIONS_DOWNLOAD),
                Job::Download => CONNECTIONS_DOWNLOAD,
                Job::Upload => CONNECTIONS_UPLOAD,
            })
            .max(1)
    }

    /// Hash commands one connection sends before reading their replies.
    pub(super) fn hash_pipeline(&self) -> usize {
        if self.far() {
            HASH_PIPELINE_FAR
        } else {
            HASH_PIPELINE
        }
    }

    /// How many files one connection transfers at a time: batches small
    /// enough that every connection gets several.
    pub(super) fn batch_size(&self, files: usize, job: Job) -> usize {
        (files / (self.connection_limit(job, files) * 4)).clamp(1, TRANSFER_BATCH)
    }
}

/// Connections for each kind of parallel work on a nearby server, measured
/// on 2-core machines with vsftpd and proftpd (BENCHMARKS.md, the
/// `--connections` sweep): more cost server CPU (every login, every data
/// connection) without going faster. Downloads are best at 2; uploads
/// (which also rename each file) at 4; hashes (cheap commands, many in
/// flight) at 4.
pub(super) const CONNECTIONS_HASHING: usize = 4;
pub(super) const CONNECTIONS_DOWNLOAD: usize = 2;
pub(super) const CONNECTIONS_UPLOAD: usize = 4;

/// Where every reply takes this long or more, the server is far away (a
/// WAN link, a loaded server): time goes to waiting, not to server CPU, so
/// more sessions in flight pay off.
pub(super) const FAR: Duration = Duration::from_millis(2);
pub(super) const CONNECTIONS_FAR: usize = 16;

/// Hash commands sent before reading their replies (on a slow link, more).
pub(super) const HASH_PIPELINE: usize = 16;
pub(super) const HASH_PIPELINE_FAR: usize = 128;

/// Most transfers one connection takes at a time: more leaves connections
/// idle at the end of a run. Fewer costs nothing: the last transfer of a
/// batch opens the data connection of the next.
pub(super) const TRANSFER_BATCH: usize = 16;

/// `range` cut into consecutive ranges of at most `size`.
pub(super) fn chunks(range: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    let size = size.max(1);
    let end = range.end;
    range.step_by(size).map(move |s| s..(s + size).min(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_a_range_in_order_without_overlap() {
        let c: Vec<Range<usize>> = chunks(2..9, 3).collect();
        assert_eq!(c, vec![2..5, 5..8, 8..9]);
        assert_eq!(chunks(4..4, 3).count(), 0);
        // A size of 0 is taken as 1, not as a loop without end.
        assert_eq!(chunks(0..2, 0).count(), 2);
    }
}
