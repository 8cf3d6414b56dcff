//! Many sites (docs/many-sites.md): each site's work runs `parallel` at a time, and
//! what it gives back is handed on in site order, as soon as every site
//! before it is done. One site's failure stops no other, unless
//! `--fail-fast`: then no site starts after it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use crate::output::progress::Ticker;
use crate::site::model::Site;

/// How sites are run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fleet {
    pub(super) parallel: usize,
    pub(super) fail_fast: bool,
}

impl Fleet {
    /// Run `work` for every site; `each` sees what each gave back in site
    /// order, on the calling thread, as soon as the sites before it are
    /// done. `None` for a site that never started (`--fail-fast` after a
    /// failure, or a signal).
    /// `stop` (a signal) keeps sites not yet started from starting, and so
    /// does a result `fails` calls a failure under `--fail-fast`.
    pub(super) fn run<T: Send>(
        self,
        what: &str,
        sites: &[&Site],
        stop: &AtomicBool,
        work: impl Fn(&Site) -> T + Sync,
        fails: impl Fn(&T) -> bool + Sync,
        mut each: impl FnMut(&Site, &Option<T>),
    ) -> Vec<Option<T>> {
        crate::remote::ftp::expect_targets(sites.iter().map(|s| &s.target));
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let finished = Arc::new(AtomicUsize::new(0));
        let workers = self.parallel.clamp(1, sites.len().max(1));
        let ticker = (sites.len() > 1)
            .then(|| Ticker::sites(what.to_owned(), sites.len(), Arc::clone(&finished)));
        let mut ran: Vec<Option<Option<T>>> = (0..sites.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<(usize, Option<T>)>();
            for _ in 0..workers {
                let tx = tx.clone();
                let (next, failed, work, fails, finished) =
                    (&next, &failed, &work, &fails, &finished);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(site) = sites.get(i) else { break };
                    let skip = stop.load(Ordering::SeqCst)
                        || (self.fail_fast && failed.load(Ordering::SeqCst));
                    let result = if skip {
                        None
                    } else {
                        let r = work(site);
                        if fails(&r) {
                            failed.store(true, Ordering::SeqCst);
                        }
                        Some(r)
                    };
                    finished.fetch_add(1, Ordering::SeqCst);
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let mut shown = 0;
            for (i, result) in rx {
                ran[i] = Some(result);
                while let Some(Some(done)) = ran.get(shown) {
                    each(sites[shown], done);
                    shown += 1;
                }
            }
        });
        drop(ticker);
        ran.into_iter().map(Option::flatten).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::site::parse::parse_site;
    use crate::site::rules::check_site;
    use std::time::Duration;

    fn sites(n: usize) -> Vec<Site> {
        (0..n)
            .map(|i| {
                let text = format!(
                    "site: s{i}\ntarget: {{url: dir:r{i}}}\nserver: {{address: 10.0.0.1}}\ntime: {{zone: pacific}}\n"
                );
                let (sf, pos) = parse_site("s.yaml", &text).expect("valid");
                check_site("s.yaml", &sf, &pos).0.expect("valid")
            })
            .collect()
    }

    #[test]
    fn outcomes_come_in_site_order_whatever_order_sites_finish_in() {
        let all = sites(6);
        let refs: Vec<&Site> = all.iter().collect();
        let mut seen = Vec::new();
        let fleet = Fleet {
            parallel: 3,
            fail_fast: false,
        };
        let out = fleet.run(
            "test",
            &refs,
            &AtomicBool::new(false),
            |site| {
                // Earlier sites take longer.
                let n: u64 = site.name[1..].parse().expect("number");
                std::thread::sleep(Duration::from_millis(60 - 10 * n));
                if n == 2 {
                    Err(Error::NeedsSite { command: "two" })
                } else {
                    Ok(n)
                }
            },
            Result::is_err,
            |site, _| seen.push(site.name.clone()),
        );
        assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4", "s5"]);
        assert!(matches!(out[2], Some(Err(_))));
        assert_eq!(
            out.iter()
                .filter_map(|o| o.as_ref().and_then(|r| r.as_ref().ok()))
                .copied()
                .collect::<Vec<_>>(),
            [0, 1, 3, 4, 5],
            "a failure stops no other site"
        );
    }

    #[test]
    fn fail_fast_starts_no_site_after_a_failure() {
        let all = sites(5);
        let refs: Vec<&Site> = all.iter().collect();
        let fleet = Fleet {
            parallel: 1,
            fail_fast: true,
        };
        let out = fleet.run(
            "test",
            &refs,
            &AtomicBool::new(false),
            |site| {
                if site.name == "s1" {
                    Err(Error::NeedsSite { command: "x" })
                } else {
                    Ok(())
                }
            },
            Result::is_err,
            |_, _| {},
        );
        assert!(matches!(out[0], Some(Ok(()))));
        assert!(matches!(out[1], Some(Err(_))));
        assert!(out[2..].iter().all(Option::is_none));
    }

    #[test]
    fn at_most_parallel_sites_run_at_once() {
        let all = sites(8);
        let refs: Vec<&Site> = all.iter().collect();
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        Fleet {
            parallel: 3,
            fail_fast: false,
        }
        .run(
            "test",
            &refs,
            &AtomicBool::new(false),
            |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Wait (boundedly) for the others to be running too: with
                // three workers, three sites are in here at once.
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while most.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                running.fetch_sub(1, Ordering::SeqCst);
            },
            |_| false,
            |_, _| {},
        );
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}
