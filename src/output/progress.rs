//! Progress of a long read or write, on standard error: a bar on a
//! terminal, a line every few seconds elsewhere (a CI log), nothing for a
//! small site. The per-file lines of apply are for `-v`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Below this many files a run is quick: no progress is shown.
pub const MIN_FILES: usize = 50;
/// How often a log line is written where there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// How often the count is looked at.
const TICK: Duration = Duration::from_millis(100);

/// Shows `done` of `total` files until dropped. Dropping it ends the
/// showing at once: the run it reports on does not wait for the next tick.
pub struct Ticker {
    /// Dropped to stop the thread: its wait for the next tick ends then.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    /// Start showing the count `done` of `total` files, for `what`
    /// ("lab: reading", "lab: uploading"). Nothing is shown below
    /// [`MIN_FILES`].
    pub fn start(what: String, total: usize, done: Arc<AtomicUsize>) -> Ticker {
        Self::counting(what, total, done, "files", MIN_FILES, TICK)
    }

    /// The sites of a run done so far ("plan: 12/40 sites"), above the
    /// bars of the sites in flight.
    pub fn sites(what: String, total: usize, done: Arc<AtomicUsize>) -> Ticker {
        Self::counting(what, total, done, "sites", 2, TICK)
    }

    fn counting(
        what: String,
        total: usize,
        done: Arc<AtomicUsize>,
        unit: &'static str,
        min: usize,
        tick: Duration,
    ) -> Ticker {
        if total < min {
            return Ticker {
                stop: None,
                thread: None,
            };
        }
        let (stop, ticks) = mpsc::channel();
        let terminal = std::io::stderr().is_terminal();
        let thread = std::thread::spawn(move || {
            let show = Show {
                what: &what,
                total,
                done: &done,
                unit,
            };
            let next = || ticks.recv_timeout(tick) == Err(mpsc::RecvTimeoutError::Timeout);
            if terminal {
                bar(&show, next);
            } else {
                lines(&show, next);
            }
        });
        Ticker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// What a ticker shows.
struct Show<'a> {
    what: &'a str,
    total: usize,
    done: &'a AtomicUsize,
    unit: &'a str,
}

impl Show<'_> {
    fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst).min(self.total)
    }
}

/// Every bar of the process, stacked: sites run in parallel, each with
/// its own.
fn bars() -> &'static indicatif::MultiProgress {
    static BARS: std::sync::OnceLock<indicatif::MultiProgress> = std::sync::OnceLock::new();
    BARS.get_or_init(indicatif::MultiProgress::new)
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // The thread's wait ends as the sender goes.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A bar, moved every tick while `next` says the ticker goes on.
fn bar(show: &Show<'_>, next: impl Fn() -> bool) {
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {} ({{eta}})",
        show.unit
    ))
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let pb = bars().add(
        indicatif::ProgressBar::new(show.total as u64)
            .with_style(style)
            .with_message(show.what.to_owned()),
    );
    loop {
        pb.set_position(show.done() as u64);
        if !next() {
            break;
        }
    }
    pb.finish_and_clear();
    bars().remove(&pb);
}

/// A line every [`LOG_EVERY`] while `next` says the ticker goes on.
fn lines(show: &Show<'_>, next: impl Fn() -> bool) {
    let mut last = Instant::now();
    while next() {
        if last.elapsed() >= LOG_EVERY {
            last = Instant::now();
            eprintln!(
                "{}: {} of {} {}",
                show.what,
                show.done(),
                show.total,
                show.unit
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_ticker_does_not_wait_for_its_next_tick() {
        // A tick of a day: a drop that waited for it would not return.
        let done = Arc::new(AtomicUsize::new(0));
        let day = Duration::from_secs(24 * 3600);
        let ticker = Ticker::counting("test".to_owned(), 10, done, "files", 1, day);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            drop(ticker);
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(60)).is_ok(),
            "dropping the ticker waited for its next tick"
        );
    }
}
