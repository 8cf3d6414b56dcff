//! Progress of a long read or write, on standard error: a bar on a
//! terminal, a line every few seconds elsewhere (a CI log), nothing for a
//! small site. The per-file lines of apply are for `-v`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Below this many files a run is quick: no progress is shown.
pub const MIN_FILES: usize = 50;
/// How often a log line is written where there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Shows `done` of `total` files until dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    /// Start showing the count `done` of `total` files, for `what`
    /// ("lab: reading", "lab: uploading"). Nothing is shown below
    /// [`MIN_FILES`].
    pub fn start(what: String, total: usize, done: Arc<AtomicUsize>) -> Ticker {
        Self::counting(what, total, done, "files", MIN_FILES)
    }

    /// The sites of a run done so far ("plan: 12/40 sites"), above the
    /// bars of the sites in flight.
    pub fn sites(what: String, total: usize, done: Arc<AtomicUsize>) -> Ticker {
        Self::counting(what, total, done, "sites", 2)
    }

    fn counting(
        what: String,
        total: usize,
        done: Arc<AtomicUsize>,
        unit: &'static str,
        min: usize,
    ) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        if total < min {
            return Ticker { stop, thread: None };
        }
        let halt = Arc::clone(&stop);
        let terminal = std::io::stderr().is_terminal();
        let thread = std::thread::spawn(move || {
            if terminal {
                bar(&what, total, &done, &halt, unit);
            } else {
                lines(&what, total, &done, &halt, unit);
            }
        });
        Ticker {
            stop,
            thread: Some(thread),
        }
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
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bar(what: &str, total: usize, done: &AtomicUsize, stop: &AtomicBool, unit: &str) {
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}})"
    ))
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let pb = bars().add(
        indicatif::ProgressBar::new(total as u64)
            .with_style(style)
            .with_message(what.to_owned()),
    );
    while !stop.load(Ordering::SeqCst) {
        pb.set_position(done.load(Ordering::SeqCst).min(total) as u64);
        std::thread::sleep(Duration::from_millis(100));
    }
    pb.finish_and_clear();
    bars().remove(&pb);
}

fn lines(what: &str, total: usize, done: &AtomicUsize, stop: &AtomicBool, unit: &str) {
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= LOG_EVERY {
            last = Instant::now();
            eprintln!(
                "{what}: {} of {total} {unit}",
                done.load(Ordering::SeqCst).min(total)
            );
        }
    }
}
