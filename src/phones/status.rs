//! A phone's status (docs/phones.md), from its traces. When several apply
//! the first of `never`, `silent`, `error`, `pending`, `current` wins: a
//! phone that is silent and pending is `silent`.

use serde::Serialize;

use super::report::FileTime;
use crate::remote::traces::Stamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No boot log and no app log on the root.
    Never,
    /// No log newer than `--silent-after` before now.
    Silent,
    /// Its app log, uploaded after its last boot, has an error line since
    /// that boot that names a file it reads.
    Error,
    /// A file it reads changed after its last boot.
    Pending,
    /// It booted after the newest change to a file it reads.
    Current,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Never => "never",
            Status::Silent => "silent",
            Status::Error => "error",
            Status::Pending => "pending",
            Status::Current => "current",
        }
    }
}

/// What a phone's status is decided on.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The server's time of its boot log, if it is there and a plain file.
    pub boot: Option<Stamp>,
    /// The server's time of its app log, likewise.
    pub heard: Option<Stamp>,
    /// The newest change to a file it reads.
    pub newest: Option<&'a FileTime>,
    /// The file an error line of its app log names, when that log was
    /// uploaded after the last boot and the line was logged since.
    pub error_file: Option<&'a str>,
    /// The local clock, and how long a phone may go unheard.
    pub now: i64,
    pub silent_after: i64,
    /// `provisioning.polling.time`.
    pub polling: Option<&'a str>,
}

/// The status, and why in a sentence.
pub fn decide(e: &Evidence<'_>) -> (Status, String) {
    let latest = match (e.boot, e.heard) {
        (None, None) => {
            return (
                Status::Never,
                "no boot log and no app log on the root".to_owned(),
            )
        }
        (Some(b), Some(h)) => {
            if h.surely_after(&b) {
                h
            } else {
                b
            }
        }
        (Some(t), None) | (None, Some(t)) => t,
    };
    // The start of its last second, minute or day: silent only when even
    // the end of it is too long ago.
    if latest.seconds + latest.precision.seconds() - 1 < e.now - e.silent_after {
        return (
            Status::Silent,
            format!(
                "nothing heard from it since {} (more than {} ago)",
                latest.display(),
                humantime::format_duration(std::time::Duration::from_secs(
                    u64::try_from(e.silent_after).unwrap_or(0)
                ))
            ),
        );
    }
    if let Some(file) = e.error_file {
        return (
            Status::Error,
            format!("its app log reports an error on {file} since its last boot"),
        );
    }
    let polling = |text: String| match e.polling {
        Some(at) => format!("{text}; with polling it picks it up at {at}"),
        None => text,
    };
    match (e.boot, e.newest) {
        (_, None) => (
            Status::Current,
            "none of the files it reads is on the root".to_owned(),
        ),
        (None, Some(n)) => (
            Status::Pending,
            polling(format!(
                "no boot log: polyops cannot tell whether it took {} (changed {})",
                n.file,
                n.time.display()
            )),
        ),
        (Some(b), Some(n)) if b.surely_after(&n.time) => (
            Status::Current,
            format!(
                "booted {}, after the newest change ({} at {})",
                b.display(),
                n.file,
                n.time.display()
            ),
        ),
        (Some(b), Some(n)) if n.time.surely_after(&b) => (
            Status::Pending,
            polling(format!(
                "{} changed {}, after its last boot {}",
                n.file,
                n.time.display(),
                b.display()
            )),
        ),
        (Some(b), Some(n)) => (
            Status::Pending,
            polling(format!(
                "{} changed {}, within the {} of its last boot {}: polyops cannot tell which came first",
                n.file,
                n.time.display(),
                n.time.precision.max(b.precision).word(),
                b.display()
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::traces::Precision;

    const NOW: i64 = 1_700_000_000;
    const DAY: i64 = 86_400;

    fn at(seconds: i64) -> Option<Stamp> {
        Some(Stamp::new(seconds, Precision::Second))
    }

    fn evidence<'a>(newest: Option<&'a FileTime>) -> Evidence<'a> {
        Evidence {
            boot: at(NOW - 3600),
            heard: at(NOW - 1800),
            newest,
            error_file: None,
            now: NOW,
            silent_after: 3 * DAY,
            polling: None,
        }
    }

    fn changed(seconds: i64) -> FileTime {
        FileTime {
            file: "201.cfg".into(),
            time: Stamp::new(seconds, Precision::Second),
        }
    }

    #[test]
    fn a_phone_that_booted_after_the_change_is_current_and_one_before_it_pending() {
        let old = changed(NOW - 7200);
        assert_eq!(decide(&evidence(Some(&old))).0, Status::Current);
        let new = changed(NOW - 60);
        let (status, why) = decide(&evidence(Some(&new)));
        assert_eq!(status, Status::Pending);
        assert!(why.starts_with("201.cfg changed"), "{why}");
        let polled = Evidence {
            polling: Some("03:00"),
            ..evidence(Some(&new))
        };
        assert!(decide(&polled).1.ends_with("picks it up at 03:00"));
    }

    #[test]
    fn statuses_take_the_first_of_never_silent_error_pending_current() {
        let new = changed(NOW - 60);
        let none = Evidence {
            boot: None,
            heard: None,
            ..evidence(Some(&new))
        };
        assert_eq!(decide(&none).0, Status::Never);
        let quiet = Evidence {
            boot: at(NOW - 5 * DAY),
            heard: at(NOW - 4 * DAY),
            error_file: Some("203.cfg"),
            newest: Some(&new),
            ..evidence(None)
        };
        assert_eq!(decide(&quiet).0, Status::Silent);
        let failing = Evidence {
            error_file: Some("203.cfg"),
            ..evidence(Some(&new))
        };
        let (status, why) = decide(&failing);
        assert_eq!(status, Status::Error);
        assert!(why.contains("203.cfg"), "{why}");
    }

    #[test]
    fn the_same_minute_of_a_listing_is_pending_not_current() {
        let boot = Some(Stamp::new(NOW - 3600, Precision::Minute));
        let same = changed(NOW - 3600 + 10);
        let e = Evidence {
            boot,
            ..evidence(Some(&same))
        };
        let (status, why) = decide(&e);
        assert_eq!(status, Status::Pending);
        assert!(why.contains("cannot tell"), "{why}");
    }

    #[test]
    fn a_phone_heard_within_the_silence_limit_is_not_silent() {
        let e = Evidence {
            boot: at(NOW - 3 * DAY + 1),
            heard: None,
            ..evidence(None)
        };
        assert_eq!(decide(&e).0, Status::Current);
        let e = Evidence {
            boot: at(NOW - 3 * DAY - 1),
            ..e
        };
        assert_eq!(decide(&e).0, Status::Silent);
    }
}
