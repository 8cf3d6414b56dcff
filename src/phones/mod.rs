//! The phones' side (docs/phones.md): takes a checked `Site` and a
//! read-only `Reader`, reads what each declared phone left on the root
//! (its logs, its override files) against the server's times of the files
//! it reads, and hands on a plain report (`report::SitePhones`) for the
//! renderers of `output::phones`.

pub mod gather;
pub mod log;
pub mod phone_clock;
pub mod report;
pub mod status;

/// The most of a phone's app log read: its last MiB.
pub const TAIL_BYTES: u64 = 1024 * 1024;
/// A phone's log larger than this is not read at all: Polycom's own
/// upload limit (`log.render.file.upload.append.sizeLimit`) keeps logs
/// far below it.
pub const MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;
/// The newest error lines reported per phone.
pub const MAX_ERROR_LINES: usize = 5;
/// How long a phone may go unheard before it is `silent`, unless
/// `--silent-after` says otherwise: longer than the two days between
/// app log uploads (`log.render.file.upload.period` in the 3.2.7
/// `sip.cfg`).
pub const DEFAULT_SILENT_AFTER: std::time::Duration = std::time::Duration::from_secs(3 * 86_400);
