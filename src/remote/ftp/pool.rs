//! Work spread over several logged-in connections to one server.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::{FtpRemote, Job};
use crate::remote::{RemoteError, RemoteResult};

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
        let ranges: Vec<Range<usize>> = super::chunks(0..total, chunk).collect();
        self.parallel_ranges(job, job != Job::Hash, total, &ranges, stop, work, on_result)
    }

    /// Run `work` (a `job` of about `items` files) over each of `ranges`,
    /// in their order, spread over up to `connection_limit(job, items)`
    /// connections. Work starts at once
    /// on the connections already open; the missing ones log in meanwhile,
    /// side by side (a login is round trips of waiting, which need not
    /// wait for each other), each opening a data connection ahead when
    /// `transfers`, and join as they come. They stay open for the next
    /// call. `on_result` hears each index's result on this thread. The
    /// first error stops the rest.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn parallel_ranges<R: Send>(
        &mut self,
        job: Job,
        transfers: bool,
        items: usize,
        ranges: &[Range<usize>],
        stop: Option<&AtomicBool>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> RemoteResult<()> {
        let want = self.connection_limit(job, items).min(ranges.len());
        let mut pool = std::mem::take(&mut self.pool);
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
        let run = |conn: &mut FtpRemote, tx: &mpsc::Sender<Message<R>>| {
            while more() {
                let Some(range) = ranges.get(next.fetch_add(1, Ordering::SeqCst)) else {
                    break;
                };
                let (results, error) = work(conn, range.clone());
                let _ = tx.send(Ok(range.clone().zip(results).collect()));
                if let Some(e) = error {
                    failed.store(true, Ordering::SeqCst);
                    let _ = tx.send(Err(e));
                    break;
                }
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
                    let _ = back_tx.send(conn);
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
        self.pool = pool;
        result
    }
}
