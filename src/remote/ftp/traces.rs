//! The phones' traces on an FTP root (docs/phones.md), in one survey like
//! drift's: the listing on one connection while MDTM of every wanted file
//! goes pipelined on another, then the tails of the phones' app logs over
//! the same sessions. Times are MDTM's (to the second) where the server
//! answers it, else the listing's: MLSD `modify` (to the second) or a
//! LIST line's (to the minute; to the day for older files).

use std::collections::BTreeMap;
use std::ops::Range;

use suppaftp::list::ListParser;
use suppaftp::FtpError;

use super::conn::Conn;
use super::pool::{chunks, whole, Partial, Spread};
use super::reply::unexpected;
use super::retry::classify;
use super::wire::{self, Limit};
use super::{FtpRemote, Job};
use crate::clock::{self, Civil};
use crate::remote::traces::{
    self, Fact, Kind, Precision, Stamp, Tail, TimeSource, TraceRequest, Traces, GROWTH,
};
use crate::remote::{Cause, RemoteName, RemoteResult};

/// What MDTM said of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mdtm {
    Time(Stamp),
    /// 550: absent, or not a plain file.
    Absent,
    /// The server does not have MDTM, or gave a reply that is not a time.
    Unknown,
}

/// The job index of the listing in the survey's first round.
const LISTING: usize = 0;

/// One result of the survey's first round.
enum Traced {
    Listing { lines: Vec<String>, done: String },
    Time(Mdtm),
}

impl FtpRemote {
    /// See [`crate::remote::Reader::traces`].
    pub(super) fn phone_traces(&mut self, request: &TraceRequest<'_>) -> RemoteResult<Traces> {
        let timed = request.timed;
        // The listing is job 0; the MDTM batches follow.
        let ranges: Vec<Range<usize>> = std::iter::once(LISTING..LISTING + 1)
            .chain(chunks(1..1 + timed.len(), self.hash_pipeline()))
            .collect();
        let mut listing = None;
        let mut mdtm = vec![Mdtm::Unknown; timed.len()];
        let work = |c: &mut FtpRemote, r: Range<usize>| -> Partial<Traced> {
            if r.start == LISTING {
                whole(
                    c.listing_lines()
                        .map(|(lines, done)| vec![Traced::Listing { lines, done }]),
                )
            } else {
                whole(
                    c.mdtm_chunk(&timed[r.start - 1..r.end - 1])
                        .map(|t| t.into_iter().map(Traced::Time).collect()),
                )
            }
        };
        let spread = Spread {
            job: Job::Download,
            transfers: true,
            items: 1 + timed.len(),
            ranges: &ranges,
            stop: None,
        };
        self.parallel_ranges(&spread, &work, &mut |i, part| match part {
            Traced::Listing { lines, done } => listing = Some((lines, done)),
            Traced::Time(t) => mdtm[i - 1] = t,
        })?;
        let (lines, done) = listing.ok_or_else(|| {
            crate::remote::RemoteError::new(Cause::Transient, "listing: no listing came back")
        })?;
        if done.to_ascii_lowercase().contains("truncat") {
            self.stats.listing_cut =
                Some(done.lines().last().unwrap_or_default().trim().to_owned());
        }
        let (facts, refused) = facts(&lines, self.server.mlsd, clock::now());
        self.stats.refused_names.extend(refused);
        let (times, source) = merge_times(timed, &mdtm, &facts, self.server.mlsd);
        let tails = self.tails(request, &facts)?;
        Ok(Traces {
            facts,
            times,
            source,
            tails,
        })
    }

    /// The raw lines of a listing of the folder (MLSD where the server
    /// has it, else `LIST -a`) and the text of its final reply.
    fn listing_lines(&mut self) -> RemoteResult<(Vec<String>, String)> {
        let listing = self.listing(false)?;
        Ok((listing.lines, listing.done))
    }

    /// MDTM of each name, pipelined where the server answers in order (its
    /// replies do not name their file).
    fn mdtm_chunk(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<Mdtm>> {
        let access = self.settings.access;
        let lines: Vec<String> = names
            .iter()
            .map(|n| wire::line(access, "MDTM", n))
            .collect::<Result<_, _>>()
            .map_err(|e| classify("reading file times", e))?;
        let together = self.server.sequential;
        let replies = self.retry("reading file times", |c, w| c.batch(w, &lines, together))?;
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                213 => Ok(mdtm_time(&text).map_or(Mdtm::Unknown, Mdtm::Time)),
                550 => Ok(Mdtm::Absent),
                // Not implemented, not understood: the listing's times.
                500..=504 => Ok(Mdtm::Unknown),
                _ => Err(classify(
                    &format!("time of {name}"),
                    unexpected(code, &text),
                )),
            })
            .collect()
    }

    /// The tails the request wants of the files the listing shows, over
    /// the sessions already open.
    fn tails(
        &mut self,
        request: &TraceRequest<'_>,
        facts: &[Fact],
    ) -> RemoteResult<Vec<(RemoteName, Tail)>> {
        let by_name: BTreeMap<&str, &Fact> = facts.iter().map(|f| (f.name.as_str(), f)).collect();
        let mut out = Vec::new();
        let mut to_read: Vec<(RemoteName, Option<u64>)> = Vec::new();
        for name in request.tails {
            let Some(fact) = by_name.get(name.as_str()) else {
                continue;
            };
            match traces::unreadable(fact, request) {
                Some(why) => out.push((name.clone(), Tail::Unreadable(why))),
                None => to_read.push((name.clone(), fact.size)),
            }
        }
        let mut read: Vec<Option<Tail>> = vec![None; to_read.len()];
        let batch = self.batch_size(to_read.len(), Job::Download);
        self.parallel(
            Job::Download,
            to_read.len(),
            batch,
            None,
            &|c, r| {
                let mut tails = Vec::new();
                for (name, size) in &to_read[r] {
                    match c.tail_of(name, *size, request) {
                        Ok(t) => tails.push(t),
                        Err(e) => return (tails, Some(e)),
                    }
                }
                (tails, None)
            },
            &mut |i, tail| read[i] = tail,
        )?;
        out.extend(
            to_read
                .into_iter()
                .zip(read)
                .filter_map(|((name, _), tail)| tail.map(|t| (name, t))),
        );
        Ok(out)
    }

    /// The last `request.tail_bytes` of a file of `size` bytes (as listed):
    /// from the offset that leaves them (REST) when it is larger, else the
    /// whole file. `None`: gone since the listing.
    fn tail_of(
        &mut self,
        name: &RemoteName,
        size: Option<u64>,
        request: &TraceRequest<'_>,
    ) -> RemoteResult<Option<Tail>> {
        let from = size.map_or(0, |s| s.saturating_sub(request.tail_bytes));
        // A phone may append while the tail is read; a file listed
        // without a size is read whole, up to the largest a log may be.
        let most = match size {
            Some(_) => request.tail_bytes + GROWTH,
            None => request.max_bytes,
        };
        let limit = Limit::File {
            keep: usize::try_from(most).unwrap_or(usize::MAX),
            max: most,
        };
        let fetched = if from == 0 {
            self.fetch(name, limit)
        } else {
            self.fetch_from(name, from, limit)
        };
        match fetched {
            Ok(f) => Ok(Some(match f.bytes {
                Some(bytes) => traces::last_bytes(bytes, request.tail_bytes, from == 0),
                None => Tail::Unreadable("changed while it was read".to_owned()),
            })),
            Err(e) if e.cause == Cause::NotFound => Ok(None),
            // Over the limit: it grew while it was read. The session that
            // read it was ended; the next command opens another.
            Err(e) if e.cause == Cause::Refused => Ok(Some(Tail::Unreadable(
                "changed while it was read".to_owned(),
            ))),
            Err(e) => Err(e),
        }
    }

    /// RETR `name` from byte `from` on (REST first, RFC 3659), retried
    /// after passing failures like any download.
    fn fetch_from(
        &mut self,
        name: &RemoteName,
        from: u64,
        limit: Limit,
    ) -> RemoteResult<crate::remote::Fetched> {
        self.stats.downloads += 1;
        let peer = self.settings.addr;
        let command = wire::line(self.settings.access, "RETR", name)
            .map_err(|e| classify(&format!("reading {name}"), e))?;
        let rest = format!("REST {from}");
        let beside = self.far();
        self.retry(&format!("reading the end of {name}"), |c, w| {
            match &mut c.conn {
                Conn::Plain(s) => {
                    let addr = c.data.open(s, w, peer)?;
                    let (code, text) =
                        wire::pipelined(s, w, std::slice::from_ref(&rest))?.remove(0);
                    if code != 350 {
                        return Err(unexpected(code, &text));
                    }
                    let data = addr.connect(w)?;
                    let received = wire::receive(s, w, &command, data, None, limit, beside)?;
                    let (fetched, _) = received
                        .outcome
                        .map_err(|(code, text)| unexpected(code, &text))?;
                    Ok(fetched)
                }
                Conn::Tls(s) => {
                    s.resume_transfer(usize::try_from(from).unwrap_or(usize::MAX))?;
                    let mut sink = limit.sink();
                    s.retr(name.as_str(), |r| {
                        let drained =
                            wire::drain(r, &mut sink, w).map_err(FtpError::ConnectionError);
                        w.watchdog.release_data();
                        drained
                    })?;
                    Ok(sink.finish())
                }
            }
        })
    }
}

/// The time in a reply to MDTM: `213 YYYYMMDDHHMMSS[.sss]`, UTC.
fn mdtm_time(text: &str) -> Option<Stamp> {
    let last = text.lines().last()?.trim();
    let value = last.strip_prefix("213")?.trim();
    Civil::parse_compact(value).map(|c| Stamp::new(c.seconds(), Precision::Second))
}

/// The timed names' times: MDTM's where it gave one; the listing's where
/// MDTM could not say (a server without it). A name MDTM calls absent is
/// absent.
fn merge_times(
    timed: &[RemoteName],
    mdtm: &[Mdtm],
    facts: &[Fact],
    mlsd: bool,
) -> (Vec<(RemoteName, Stamp)>, TimeSource) {
    let listed: BTreeMap<&str, &Fact> = facts.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut times = Vec::new();
    let mut from_listing = false;
    for (name, m) in timed.iter().zip(mdtm) {
        let stamp = match m {
            Mdtm::Time(t) => Some(*t),
            Mdtm::Absent => None,
            Mdtm::Unknown => {
                from_listing = true;
                listed.get(name.as_str()).and_then(|f| f.modified)
            }
        };
        if let Some(t) = stamp {
            times.push((name.clone(), t));
        }
    }
    let source = match (from_listing, mlsd) {
        (false, _) => TimeSource::Mdtm,
        (true, true) => TimeSource::Mlsd,
        (true, false) => TimeSource::List,
    };
    (times, source)
}

/// What a listing line says of its entry.
#[derive(Debug, Clone, Copy)]
struct Listed {
    kind: Kind,
    size: Option<u64>,
    modified: Option<Stamp>,
}

/// The entries of a listing with what it says of each (`.`/`..` left
/// out); the names that cannot be a [`RemoteName`], made printable.
/// `now` (the local clock) gives the year a LIST line leaves out.
fn facts(lines: &[String], mlsd: bool, now: i64) -> (Vec<Fact>, Vec<String>) {
    let mut facts = Vec::new();
    let mut refused = Vec::new();
    for line in lines {
        let parsed = if mlsd {
            mlsd_fact(line)
        } else {
            list_fact(line, now)
        };
        let Some((name, listed)) = parsed else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        match RemoteName::new(&name) {
            Ok(name) => facts.push(Fact {
                name,
                kind: listed.kind,
                size: listed.size,
                modified: listed.modified,
            }),
            Err(_) => refused.push(crate::mask::printable(&name)),
        }
    }
    (facts, refused)
}

/// An MLSD line (RFC 3659 §7): `fact=value;…; name`. `cdir`/`pdir`
/// entries are left out.
fn mlsd_fact(line: &str) -> Option<(String, Listed)> {
    let (facts, name) = line.split_once("; ")?;
    let mut kind = Kind::Other;
    let mut size = None;
    let mut modified = None;
    for fact in facts.split(';') {
        let Some((key, value)) = fact.split_once('=') else {
            continue;
        };
        match key.to_ascii_lowercase().as_str() {
            "type" => {
                kind = match value.to_ascii_lowercase().as_str() {
                    "file" => Kind::File,
                    "dir" => Kind::Dir,
                    "cdir" | "pdir" => return None,
                    // ProFTPD: OS.unix=symlink; Pure-FTPd: OS.unix=slink:…
                    v if v.contains("link") => Kind::Link,
                    _ => Kind::Other,
                }
            }
            "size" => size = value.parse().ok(),
            "modify" => {
                modified =
                    Civil::parse_compact(value).map(|c| Stamp::new(c.seconds(), Precision::Second));
            }
            _ => {}
        }
    }
    Some((
        name.to_owned(),
        Listed {
            kind,
            size,
            modified,
        },
    ))
}

/// A LIST line, Unix style (`-rw-r--r-- 1 u g 620 Nov 24 22:40 name`) or
/// DOS style. A time without a year (`Nov 24 22:40`) is to the minute and
/// in the last year: the year that puts it no later than a day after
/// `now`; a date with a year (`Nov 24  2023`) is to the day.
fn list_fact(line: &str, now: i64) -> Option<(String, Listed)> {
    let (file, kind) = match ListParser::parse_posix(line) {
        Ok(f) => {
            let kind = match line.as_bytes().first() {
                Some(b'-') => Kind::File,
                Some(b'd') => Kind::Dir,
                Some(b'l') => Kind::Link,
                _ => Kind::Other,
            };
            (f, kind)
        }
        Err(_) => {
            let f = ListParser::parse_dos(line).ok()?;
            let kind = if f.is_directory() {
                Kind::Dir
            } else {
                Kind::File
            };
            let modified = Some(Stamp::new(
                clock::seconds_of(f.modified()),
                Precision::Minute,
            ));
            let size = (kind == Kind::File).then_some(f.size() as u64);
            let listed = Listed {
                kind,
                size,
                modified,
            };
            return Some((f.name().to_owned(), listed));
        }
    };
    Some((
        file.name().to_owned(),
        Listed {
            kind,
            size: Some(file.size() as u64),
            modified: posix_time(line, now),
        },
    ))
}

/// The time of a Unix-style LIST line: the month, day and time (or year)
/// that follow the size.
fn posix_time(line: &str, now: i64) -> Option<Stamp> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let at = (4..tokens.len().saturating_sub(3)).find(|&i| {
        MONTHS.contains(&tokens[i].to_ascii_lowercase().as_str())
            && tokens[i - 1].bytes().all(|b| b.is_ascii_digit())
    })?;
    let month = u32::try_from(
        MONTHS
            .iter()
            .position(|m| *m == tokens[at].to_ascii_lowercase())?
            + 1,
    )
    .ok()?;
    let day: u32 = tokens[at + 1].parse().ok()?;
    let last = tokens[at + 2];
    if let Some((h, m)) = last.split_once(':') {
        let (hour, minute) = (h.parse().ok()?, m.parse().ok()?);
        let this_year = Civil::from_seconds(now).year;
        // The year that puts it no more than a day after now.
        [this_year, this_year - 1]
            .into_iter()
            .filter_map(|y| Civil::new(y, month, day, hour, minute, 0))
            .map(Civil::seconds)
            .find(|&s| s <= now + 86_400)
            .map(|s| Stamp::new(s, Precision::Minute))
    } else {
        let year: i64 = last.parse().ok()?;
        Civil::new(year, month, day, 0, 0, 0).map(|c| Stamp::new(c.seconds(), Precision::Day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_580_000; // 2026-12-06 17:20:00

    #[test]
    fn mdtm_replies_give_times_to_the_second_or_nothing() {
        assert_eq!(
            mdtm_time("213 20231114221320\r\n"),
            Some(Stamp::new(1_700_000_000, Precision::Second))
        );
        assert_eq!(
            mdtm_time("213 20231114221320.250\r\n").map(|s| s.seconds),
            Some(1_700_000_000)
        );
        for bad in [
            "213 yesterday\r\n",
            "213 \r\n",
            "213 2023111422132\x1b[0m\r\n",
            "",
        ] {
            assert_eq!(mdtm_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn mlsd_lines_of_proftpd_and_pure_ftpd_give_kinds_sizes_and_times() {
        let lines: Vec<String> = [
            "modify=20261206175706;perm=adfrw;size=5;type=OS.unix=symlink;unique=FE00U99C2A3; l.log",
            "type=OS.unix=slink:;size=5;modify=20261206175706;UNIX.mode=0777; s.log",
            "modify=20261206175706;perm=fle;type=dir;unique=FE00U99C2A5; dir.log",
            "modify=20261206175706;perm=flcdmpe;type=cdir;unique=FE00U99C2A2; .",
            "type=file;size=10;modify=20231114221320;UNIX.mode=0644; a.log",
            "type=file;size=1;modify=20231114221320; \x1b]0;x\x07.log",
        ]
        .map(str::to_owned)
        .to_vec();
        let (facts, refused) = facts(&lines, true, NOW);
        let kinds: Vec<(&str, Kind)> = facts.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("l.log", Kind::Link),
                ("s.log", Kind::Link),
                ("dir.log", Kind::Dir),
                ("a.log", Kind::File)
            ]
        );
        assert_eq!(facts[3].size, Some(10));
        assert_eq!(
            facts[3].modified,
            Some(Stamp::new(1_700_000_000, Precision::Second))
        );
        assert_eq!(refused.len(), 1);
    }

    #[test]
    fn list_lines_of_vsftpd_give_minutes_this_year_and_days_for_old_files() {
        let lines: Vec<String> = [
            "drwxr-xr-x    3 1001     1001         4096 Dec 06 17:57 .",
            "-rw-r--r--    1 1001     1001           10 Nov 14  2023 a.log",
            "drwxr-xr-x    2 0        0            4096 Dec 06 17:57 dir.log",
            "lrwxrwxrwx    1 0        0               5 Dec 06 17:57 l.log -> a.log",
            "-rw-r--r--    1 1001     1001         2048 Dec 31 23:59 last-year.log",
        ]
        .map(str::to_owned)
        .to_vec();
        let (facts, _) = facts(&lines, false, NOW);
        let a = &facts[0];
        assert_eq!(
            (a.name.as_str(), a.kind, a.size),
            ("a.log", Kind::File, Some(10))
        );
        assert_eq!(
            a.modified.map(|m| m.display()).as_deref(),
            Some("2023-11-14")
        );
        assert_eq!(facts[1].kind, Kind::Dir);
        assert_eq!(
            (facts[2].name.as_str(), facts[2].kind),
            ("l.log", Kind::Link)
        );
        assert_eq!(
            facts[2].modified.map(|m| m.display()).as_deref(),
            Some("2026-12-06 17:57Z")
        );
        // Dec 31 of this year is weeks away: it was last year's.
        assert_eq!(
            facts[3].modified.map(|m| m.display()).as_deref(),
            Some("2025-12-31 23:59Z")
        );
    }

    #[test]
    fn mdtm_wins_and_the_listing_answers_only_where_mdtm_cannot() {
        let name = |n: &str| RemoteName::new(n).expect("valid");
        let listed = Stamp::new(1_700_000_040, Precision::Minute);
        let facts = vec![Fact {
            name: name("b.log"),
            kind: Kind::File,
            size: Some(1),
            modified: Some(listed),
        }];
        let exact = Stamp::new(1_700_000_000, Precision::Second);
        let (times, source) = merge_times(
            &[name("a.log"), name("gone.log")],
            &[Mdtm::Time(exact), Mdtm::Absent],
            &facts,
            false,
        );
        assert_eq!(times, [(name("a.log"), exact)]);
        assert_eq!(source, TimeSource::Mdtm);
        let (times, source) = merge_times(&[name("b.log")], &[Mdtm::Unknown], &facts, false);
        assert_eq!(times, [(name("b.log"), listed)]);
        assert_eq!(source, TimeSource::List);
    }
}
