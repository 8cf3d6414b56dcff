//! The report `polyops phones` prints: a plain value, serialised as is
//! for JSON (docs/phones.md documents every field) and read by the text
//! and markdown renderers. Everything in it that came from a target has
//! passed the site's masker.

use serde::Serialize;

use super::status::Status;
use crate::reconcile::record::SiteStatus;
use crate::remote::traces::{Precision, Stamp, TimeSource};

/// Version of the phones report's JSON; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct PhonesReport {
    pub format_version: u32,
    /// The local clock when the report was made: what `silent` compares
    /// with (RFC 3339, UTC).
    pub now: String,
    pub silent_after_seconds: u64,
    pub sites: Vec<SitePhones>,
}

impl PhonesReport {
    /// Whether every phone of every site that was read is `current`.
    pub fn all_current(&self) -> bool {
        self.sites
            .iter()
            .all(|s| s.phones.iter().all(|p| p.status == Status::Current))
    }

    /// The counts over every site that was read.
    pub fn total(&self) -> Summary {
        let mut t = Summary::default();
        for s in self.sites.iter().filter(|s| s.error.is_none()) {
            t.add(&s.summary);
        }
        t
    }
}

/// One site's phones, or why they could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct SitePhones {
    pub site: String,
    pub target: String,
    /// `ok`, or `error` (then `error` says why and there are no phones).
    pub status: SiteStatus,
    pub error: Option<String>,
    /// Where the times came from and how precise they are.
    pub times: Option<Times>,
    /// `provisioning.polling.time`: when the phones look for new files.
    pub polling: Option<String>,
    pub summary: Summary,
    pub phones: Vec<PhoneReport>,
}

impl SitePhones {
    /// A site whose phones could not be read.
    pub fn failed(site: &str, target: &str, error: String) -> Self {
        SitePhones {
            site: site.to_owned(),
            target: target.to_owned(),
            status: SiteStatus::Error,
            error: Some(error),
            times: None,
            polling: None,
            summary: Summary::default(),
            phones: Vec::new(),
        }
    }
}

/// Where a site's times came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Times {
    pub source: TimeSource,
    /// The finest the times are (a LIST time of an old file may be to
    /// the day: each time says its own precision too).
    pub precision: Precision,
}

/// How many phones of a site are in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub phones: usize,
    pub current: usize,
    pub pending: usize,
    pub silent: usize,
    pub never: usize,
    pub error: usize,
}

impl Summary {
    pub fn count(&mut self, status: Status) {
        self.phones += 1;
        *match status {
            Status::Current => &mut self.current,
            Status::Pending => &mut self.pending,
            Status::Silent => &mut self.silent,
            Status::Never => &mut self.never,
            Status::Error => &mut self.error,
        } += 1;
    }

    fn add(&mut self, other: &Summary) {
        self.phones += other.phones;
        self.current += other.current;
        self.pending += other.pending;
        self.silent += other.silent;
        self.never += other.never;
        self.error += other.error;
    }

    /// `3 phones: 1 current, 1 pending, 1 never` (statuses with no phone
    /// left out).
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        for (n, word) in [
            (self.current, "current"),
            (self.pending, "pending"),
            (self.error, "error"),
            (self.silent, "silent"),
            (self.never, "never"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let phones = format!(
            "{} phone{}",
            self.phones,
            if self.phones == 1 { "" } else { "s" }
        );
        if parts.is_empty() {
            phones
        } else {
            format!("{phones}: {}", parts.join(", "))
        }
    }
}

/// One declared phone.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneReport {
    pub mac: String,
    pub model: String,
    pub extension: String,
    pub address: Option<String>,
    pub status: Status,
    /// Why, in a sentence, naming the file that decided it.
    pub reason: String,
    /// The server's time of `<mac>-boot.log`.
    pub last_boot: Option<Stamp>,
    /// The server's time of `<mac>-app.log`.
    pub last_heard: Option<Stamp>,
    /// The newest change to a file the phone reads, and that file.
    pub newest_change: Option<FileTime>,
    /// With polling on, a pending phone's next look for new files (its
    /// local time, `HH:MM`).
    pub picks_up_at: Option<String>,
    /// For `error`: the file the error line names.
    pub error_file: Option<String>,
    /// The phone's override files on the root (`<mac>-phone.cfg`,
    /// `<mac>-web.cfg`).
    pub overrides: Vec<String>,
    /// Its logs that were not read, and why.
    pub unreadable: Vec<Unreadable>,
    /// The newest error lines of its app log, oldest first (at most
    /// [`super::MAX_ERROR_LINES`]).
    pub errors: Vec<ErrorLine>,
}

/// A file and its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileTime {
    pub file: String,
    #[serde(flatten)]
    pub time: Stamp,
}

impl FileTime {
    /// `FILE TIME`, as every report format prints it.
    pub fn display(&self) -> String {
        format!("{} {}", self.file, self.time.display())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub file: String,
    pub why: String,
}

/// An error line of an app log, masked and stripped of control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorLine {
    /// By the phone's clock, the year inferred (`2026-03-04 12:15:30`);
    /// `None` when the line's time is not `MMDDHHMMSS`.
    pub time: Option<String>,
    pub component: String,
    pub level: u8,
    pub text: String,
}
