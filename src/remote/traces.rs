//! What a backend reports of the files the phones leave on a root
//! (docs/phones.md): each entry's kind, size and time as a listing gives
//! them, the server's own modification times, and the last bytes of the
//! phones' logs. Every time is the server's clock, with its precision.

use serde::Serialize;

use super::RemoteName;
use crate::clock::Civil;

/// How finely a time was given: MDTM, MLSD and a file system to the
/// second, a LIST line to the minute (or, for a file older than about
/// six months, to the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Second,
    Minute,
    Day,
}

impl Precision {
    /// The precision's length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Precision::Second => 1,
            Precision::Minute => 60,
            Precision::Day => 86_400,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Precision::Second => "second",
            Precision::Minute => "minute",
            Precision::Day => "day",
        }
    }
}

/// A file's modification time by the server's clock (UTC), to its
/// precision: `seconds` is the start of the second, minute or day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub seconds: i64,
    pub precision: Precision,
}

impl Stamp {
    pub fn new(seconds: i64, precision: Precision) -> Self {
        let step = precision.seconds();
        Stamp {
            seconds: seconds.div_euclid(step) * step,
            precision,
        }
    }

    /// Whether this time is surely after `other`: compared at the coarser
    /// of the two precisions, so that two times in the same minute of a
    /// LIST are not called one after the other.
    pub fn surely_after(&self, other: &Stamp) -> bool {
        let step = self.precision.max(other.precision).seconds();
        self.seconds.div_euclid(step) > other.seconds.div_euclid(step)
    }

    /// `2026-03-04 12:15:30Z`, `2026-03-04 12:15Z` or `2026-03-04`, as
    /// precise as the time is.
    pub fn display(&self) -> String {
        let c = Civil::from_seconds(self.seconds);
        match self.precision {
            Precision::Second => format!("{c}Z"),
            Precision::Minute => format!("{}Z", &c.to_string()[..16]),
            Precision::Day => c.to_string()[..10].to_owned(),
        }
    }

    /// RFC 3339, for JSON: `2026-03-04T12:15:30Z`.
    pub fn rfc3339(&self) -> String {
        let c = Civil::from_seconds(self.seconds);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

/// In JSON: `{"at": "2026-03-04T12:15:30Z", "precision": "second"}`
/// (a time to the minute or day is the start of it).
impl Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Stamp", 2)?;
        s.serialize_field("at", &self.rfc3339())?;
        s.serialize_field("precision", &self.precision)?;
        s.end()
    }
}

/// Where a backend's times came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// MDTM, to the second (RFC 3659).
    Mdtm,
    /// An MLSD listing's `modify` facts, to the second.
    Mlsd,
    /// A LIST listing, to the minute (the day for older files).
    List,
    /// A `dir:` folder's file metadata, to the second.
    FileSystem,
}

impl TimeSource {
    pub fn word(self) -> &'static str {
        match self {
            TimeSource::Mdtm => "MDTM",
            TimeSource::Mlsd => "MLSD",
            TimeSource::List => "LIST",
            TimeSource::FileSystem => "file system",
        }
    }
}

/// What kind of entry a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symbolic link (whatever it points at).
    Link,
    /// Anything else: a device, a FIFO, a socket, a kind the server
    /// names in a way polyops does not know.
    Other,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::File => "a plain file",
            Kind::Dir => "a folder",
            Kind::Link => "a link",
            Kind::Other => "not a plain file",
        }
    }
}

/// One entry of a listing, with what the listing says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub name: RemoteName,
    pub kind: Kind,
    pub size: Option<u64>,
    /// The listing's own time of the entry (MLSD, LIST), if it gave one.
    pub modified: Option<Stamp>,
}

/// What to find out about a root's phones' files.
#[derive(Debug, Clone, Copy)]
pub struct TraceRequest<'a> {
    /// Files whose modification time is wanted.
    pub timed: &'a [RemoteName],
    /// Files whose last bytes are wanted (the phones' app logs): read
    /// only when the listing shows a plain file of at most `max_bytes`.
    pub tails: &'a [RemoteName],
    /// The most bytes of a tail read.
    pub tail_bytes: u64,
    /// A larger file is not read at all.
    pub max_bytes: u64,
}

/// The end of a file, or why it was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// Its last bytes (all of them when `whole`).
    Read { bytes: Vec<u8>, whole: bool },
    /// Why it was not read: not a plain file, or larger than the request's
    /// `max_bytes`, or changed while it was read.
    Unreadable(String),
}

/// What [`super::Reader::traces`] found.
#[derive(Debug, Clone)]
pub struct Traces {
    /// Every entry of the listing.
    pub facts: Vec<Fact>,
    /// The request's `timed` files that exist, with their times.
    pub times: Vec<(RemoteName, Stamp)>,
    /// Where those times came from.
    pub source: TimeSource,
    /// Each of the request's `tails` that the listing shows.
    pub tails: Vec<(RemoteName, Tail)>,
}

/// How much a log may grow while its tail is read (a phone appends to
/// it): more is "changed while it was read".
pub const GROWTH: u64 = 256 * 1024;

/// `bytes`'s last `tail_bytes` (all of them when they fit).
pub fn last_bytes(mut bytes: Vec<u8>, tail_bytes: u64, whole: bool) -> Tail {
    let keep = usize::try_from(tail_bytes).unwrap_or(usize::MAX);
    if bytes.len() > keep {
        bytes.drain(..bytes.len() - keep);
        return Tail::Read {
            bytes,
            whole: false,
        };
    }
    Tail::Read { bytes, whole }
}

/// The tail a request wants of a listed entry: `None` to read it, or
/// why not.
pub fn unreadable(fact: &Fact, request: &TraceRequest<'_>) -> Option<String> {
    if fact.kind != Kind::File {
        return Some(format!("{}, not a plain file", fact.kind.word()));
    }
    match fact.size {
        Some(size) if size > request.max_bytes => Some(format!(
            "{size} bytes, larger than the {} MiB a phone's log may be",
            request.max_bytes / (1024 * 1024)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_same_minute_of_a_listing_are_not_ordered() {
        let a = Stamp::new(1_700_000_000, Precision::Second);
        let b = Stamp::new(1_700_000_001, Precision::Second);
        assert!(b.surely_after(&a));
        assert!(!a.surely_after(&b));
        assert!(!a.surely_after(&a));
        let minute = Stamp::new(1_700_000_010, Precision::Minute);
        // 22:13:20 and 22:13:21 are both in the minute 22:13.
        assert!(!b.surely_after(&minute));
        assert!(!minute.surely_after(&a));
        let later = Stamp::new(1_700_000_100, Precision::Second);
        assert!(later.surely_after(&minute));
        assert_eq!(minute.display(), "2023-11-14 22:13Z");
        assert_eq!(a.display(), "2023-11-14 22:13:20Z");
        assert_eq!(a.rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(
            Stamp::new(1_700_000_000, Precision::Day).display(),
            "2023-11-14"
        );
    }

    #[test]
    fn a_tail_keeps_the_last_bytes() {
        assert_eq!(
            last_bytes(b"abcdef".to_vec(), 4, true),
            Tail::Read {
                bytes: b"cdef".to_vec(),
                whole: false
            }
        );
        assert_eq!(
            last_bytes(b"ab".to_vec(), 4, true),
            Tail::Read {
                bytes: b"ab".to_vec(),
                whole: true
            }
        );
    }
}
