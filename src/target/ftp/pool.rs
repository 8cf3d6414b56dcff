//! Work spread over several logged-in connections to one server.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::{FtpTarget, Job};
use crate::target::{TResult, TargetError};

/// What one connection did with a range of job indices: the results of a
/// prefix of the range, and the error that stopped it there, if any.
pub type Partial<R> = (Vec<R>, Option<TargetError>);

/// Work on one connection over a range of job indices.
pub type Work<'a, R> = dyn Fn(&mut FtpTarget, Range<usize>) -> Partial<R> + Sync + 'a;

/// All of a range's results, or none of them.
pub fn whole<R>(result: TResult<Vec<R>>) -> Partial<R> {
    match result {
        Ok(results) => (results, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

type Message<R> = Result<Vec<(usize, R)>, TargetError>;

impl FtpTarget {
    /// Run `work` (a `job`) over `0..total` in chunks of `chunk`, spread
    /// over up to `connection_limit(job)` connections. Work starts at once on the
    /// connections already open; the missing ones log in meanwhile, one
    /// after another (servers stall on logins that arrive at the same
    /// instant), and join as they come. They stay open for the next call.
    /// `on_result` hears each index's result on this thread. The first
    /// error stops the rest.
    pub(super) fn parallel<R: Send>(
        &mut self,
        job: Job,
        total: usize,
        chunk: usize,
        stop: Option<&AtomicBool>,
        work: &Work<'_, R>,
        on_result: &mut dyn FnMut(usize, R),
    ) -> TResult<()> {
        let chunk = chunk.max(1);
        let want = self.connection_limit(job).min(total.div_ceil(chunk));
        let mut pool = std::mem::take(&mut self.pool);
        let ready = pool.len().min(want.saturating_sub(1));
        let to_open = want.saturating_sub(1 + ready);
        // A login under way is the first to join; unused, it stays spare.
        let spare = if to_open > 0 { self.spare.take() } else { None };
        let template = self.template();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let more = || {
            !failed.load(Ordering::SeqCst)
                && !stop.is_some_and(|s| s.load(Ordering::SeqCst))
                && next.load(Ordering::SeqCst) < total
        };
        let run = |conn: &mut FtpTarget, tx: &mpsc::Sender<Message<R>>| {
            while more() {
                let start = next.fetch_add(chunk, Ordering::SeqCst);
                if start >= total {
                    break;
                }
                let range = start..(start + chunk).min(total);
                let (results, error) = work(conn, range.clone());
                let _ = tx.send(Ok(range.zip(results).collect()));
                if let Some(e) = error {
                    failed.store(true, Ordering::SeqCst);
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        };
        let (tx, rx) = mpsc::channel::<Message<R>>();
        let (back_tx, back_rx) = mpsc::channel::<FtpTarget>();
        let (result, unused) = std::thread::scope(|scope| {
            let (run, more, template) = (&run, &more, &template);
            for conn in std::iter::once(&mut *self).chain(pool.iter_mut().take(ready)) {
                let tx = tx.clone();
                scope.spawn(move || run(conn, &tx));
            }
            let opener = (to_open > 0).then(|| {
                let tx = tx.clone();
                scope.spawn(move || {
                    let mut spare = spare;
                    for _ in 0..to_open {
                        if !more() {
                            break;
                        }
                        let opened = match spare.take() {
                            Some(login) => super::finish(login),
                            None => template.open(),
                        };
                        // A server that caps sessions per user: work with fewer.
                        let Ok(mut conn) = opened else { break };
                        let (tx, back_tx) = (tx.clone(), back_tx.clone());
                        scope.spawn(move || {
                            run(&mut conn, &tx);
                            let _ = back_tx.send(conn);
                        });
                    }
                    spare
                })
            });
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
            let unused = opener.and_then(|opener| {
                opener
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            (first_error.map_or(Ok(()), Err), unused)
        });
        if unused.is_some() {
            self.spare = unused;
        }
        pool.extend(back_rx.try_iter());
        self.pool = pool;
        result
    }
}
