//! What plan and drift need of a target, at once over several sessions:
//! the state file, the listing, and the wanted files hashed or read.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::locks::{lock, wait};
use super::pool::{self, chunks, whole};
use super::{FtpRemote, Job};
use crate::remote::{
    Cause, Entry, Fetched, Found, Reader, RemoteError, RemoteName, RemoteResult, Survey,
};

impl FtpRemote {
    /// A survey's job ranges: the state file, the listing, the `wanted`
    /// files in batches (hashed or read, as `job` says), then the files
    /// read only if listed.
    fn survey_ranges(&self, job: Job, wanted: usize, if_listed: usize) -> Vec<Range<usize>> {
        let first_listed = SURVEY_FILES + wanted;
        let per = if job == Job::Hash {
            self.hash_pipeline()
        } else {
            self.batch_size(wanted, job)
        };
        let mut ranges = vec![SURVEY_STATE..SURVEY_STATE + 1, SURVEY_LIST..SURVEY_LIST + 1];
        ranges.extend(chunks(SURVEY_FILES..first_listed, per));
        ranges.extend(chunks(
            first_listed..first_listed + if_listed,
            self.batch_size(if_listed, Job::Download),
        ));
        ranges
    }

    /// Everything at once, over as many connections as the work takes
    /// (logging in side by side): the state file on one, the listing on
    /// another, the wanted files hashed (or read) in batches on the rest
    /// and on those two when they are done, and the `if_listed` files last,
    /// once the listing has said which are there. Until the state file is
    /// known to be absent, every wanted file is asked for by name; after
    /// that (a first apply), only those the listing shows.
    pub(super) fn survey_all(
        &mut self,
        state: &RemoteName,
        max_state: u64,
        wanted: &[RemoteName],
        if_listed: &[RemoteName],
    ) -> RemoteResult<Survey> {
        let hashing = self.server.hash.is_some();
        let job = if hashing { Job::Hash } else { Job::Download };
        let first_listed = SURVEY_FILES + wanted.len();
        let ranges = self.survey_ranges(job, wanted.len(), if_listed.len());
        let known = Known::default();
        let counter = Arc::clone(&self.settings.counter);
        let mut state_bytes = None;
        let mut entries = None;
        let mut hashes: Vec<Option<String>> = vec![None; wanted.len()];
        let mut files: Vec<Option<Fetched>> = vec![None; wanted.len() + if_listed.len()];
        let work = |c: &mut FtpRemote, r: Range<usize>| -> pool::Partial<Surveyed> {
            match r.start {
                SURVEY_STATE => {
                    let read = match c.read(state, max_state) {
                        Ok(b) => Ok(Some(b)),
                        Err(e) if e.cause == Cause::NotFound => Ok(None),
                        Err(e) => Err(e),
                    };
                    if let Ok(b) = &read {
                        known.state_absent(b.is_none());
                    }
                    whole(read.map(|b| vec![Surveyed::State(b)]))
                }
                SURVEY_LIST => {
                    let mut publish = known.publisher();
                    let listed = c.list();
                    if let Ok(entries) = &listed {
                        publish.names = Some(
                            entries
                                .iter()
                                .filter(|e| !e.is_dir)
                                .map(|e| e.name.as_str().to_owned())
                                .collect(),
                        );
                    }
                    drop(publish);
                    whole(listed.map(|e| vec![Surveyed::Listing(e)]))
                }
                start if start < first_listed => {
                    let names = &wanted[start - SURVEY_FILES..r.end - SURVEY_FILES];
                    if hashing {
                        whole(
                            c.hash_chunk(names)
                                .map(|h| h.into_iter().map(Surveyed::Hash).collect()),
                        )
                    } else {
                        let (read, e) = c.read_batch(names, &|n| known.skip_unlisted(n));
                        (read.into_iter().map(Surveyed::File).collect(), e)
                    }
                }
                start => {
                    let names = &if_listed[start - first_listed..r.end - first_listed];
                    // A failed listing has stopped the work already.
                    let Some(listed) = known.listing() else {
                        return (Vec::new(), None);
                    };
                    let (read, e) = c.read_batch(names, &|n| !listed.contains(n.as_str()));
                    (read.into_iter().map(Surveyed::File).collect(), e)
                }
            }
        };
        // The files that may be read after the listing are few where they
        // are there at all (phones' own override files).
        let spread = pool::Spread {
            job,
            transfers: true,
            items: SURVEY_FILES + wanted.len(),
            ranges: &ranges,
            stop: None,
        };
        self.parallel_ranges(&spread, &work, &mut |i, part| match part {
            Surveyed::State(b) => state_bytes = Some(b),
            Surveyed::Listing(e) => entries = Some(e),
            Surveyed::Hash(h) => {
                hashes[i - SURVEY_FILES] = h;
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Surveyed::File(f) => {
                files[i - SURVEY_FILES] = f;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })?;
        let missing =
            || RemoteError::new(Cause::Transient, "observing: part of the work was not done");
        let state = state_bytes.ok_or_else(missing)?;
        let entries = entries.ok_or_else(missing)?;
        let pair =
            |names: &[RemoteName], found: Vec<Option<Fetched>>| -> Vec<(RemoteName, Fetched)> {
                names
                    .iter()
                    .cloned()
                    .zip(found)
                    .filter_map(|(n, f)| f.map(|f| (n, f)))
                    .collect()
            };
        let listed = pair(if_listed, files.split_off(wanted.len()));
        let wanted = if hashing {
            Found::Hashed(wanted.iter().cloned().zip(hashes).collect())
        } else {
            Found::Read(pair(wanted, files))
        };
        Ok(Survey {
            state,
            entries,
            wanted,
            listed,
        })
    }
}

/// The job indices of a survey: the state file, the listing, then the
/// files.
pub(super) const SURVEY_STATE: usize = 0;

pub(super) const SURVEY_LIST: usize = 1;

pub(super) const SURVEY_FILES: usize = 2;

/// One result of a survey's work.
pub(super) enum Surveyed {
    State(Option<Vec<u8>>),
    Listing(Vec<Entry>),
    Hash(Option<String>),
    File(Option<Fetched>),
}

/// What a survey's connections learn from each other as they go: whether
/// there is a state file, and which files the listing shows.
#[derive(Default)]
pub(super) struct Known {
    /// Whether the state file is absent; `None` until it has been read.
    state_absent: Mutex<Option<bool>>,
    /// `None` until the listing is done; then its file names, or `None`
    /// if it failed.
    listing: Mutex<Option<Option<Arc<BTreeSet<String>>>>>,
    done: Condvar,
}

impl Known {
    fn state_absent(&self, absent: bool) {
        *lock(&self.state_absent) = Some(absent);
    }

    fn listing_lock(&self) -> MutexGuard<'_, Option<Option<Arc<BTreeSet<String>>>>> {
        lock(&self.listing)
    }

    /// Whether `name` need not be asked for: there is no state file (a
    /// first apply: most wanted files are not there yet), and the listing
    /// does not show it.
    fn skip_unlisted(&self, name: &RemoteName) -> bool {
        *lock(&self.state_absent) == Some(true)
            && matches!(&*self.listing_lock(), Some(Some(names)) if !names.contains(name.as_str()))
    }

    /// The listing's file names, once it is done; `None` if it failed.
    fn listing(&self) -> Option<Arc<BTreeSet<String>>> {
        let mut listing = self.listing_lock();
        loop {
            if let Some(names) = &*listing {
                return names.clone();
            }
            listing = wait(&self.done, listing);
        }
    }

    /// The one who lists publishes what it found when it is dropped, even
    /// on an early return or a panic, so no one waits for it for ever.
    fn publisher(&self) -> Publisher<'_> {
        Publisher {
            known: self,
            names: None,
        }
    }
}

pub(super) struct Publisher<'a> {
    known: &'a Known,
    /// The listing's file names; `None`: it failed.
    names: Option<BTreeSet<String>>,
}

impl Drop for Publisher<'_> {
    fn drop(&mut self) {
        *self.known.listing_lock() = Some(self.names.take().map(Arc::new));
        self.known.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_files_are_skipped_only_without_a_state_file_and_once_listed() {
        let name = |n: &str| RemoteName::new(n).expect("valid");
        let known = Known::default();
        // Nothing known yet: every file is asked for.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        let mut publish = known.publisher();
        publish.names = Some(["altigen.cfg".to_owned()].into_iter().collect());
        drop(publish);
        // A listing, but the state file's fate is not known: still asked.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        known.state_absent(false);
        // There is a state file: everything is asked for by name.
        assert!(!known.skip_unlisted(&name("201.cfg")));
        known.state_absent(true);
        assert!(known.skip_unlisted(&name("201.cfg")));
        assert!(!known.skip_unlisted(&name("altigen.cfg")));
        assert_eq!(known.listing().map(|l| l.len()), Some(1));
    }

    #[test]
    fn a_listing_that_failed_wakes_those_who_wait_for_it() {
        let known = Known::default();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| known.listing());
            // Dropped without names: the listing failed.
            drop(known.publisher());
            assert!(waiter.join().expect("no panic").is_none());
        });
    }
}
