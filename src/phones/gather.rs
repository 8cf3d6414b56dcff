//! Read a site's phones' traces in one survey (`Reader::traces`) and make
//! each declared phone's report. The names asked for are polyops's own
//! (`<mac>-boot.log`, the files the site's master files name); what
//! comes back (times, kinds, log lines) is the server's and the phones'
//! word, checked before it is used and masked before it is kept.

use std::collections::BTreeMap;

use super::log::{self, Line};
use super::phone_clock::PhoneClock;
use super::report::{ErrorLine, FileTime, PhoneReport, SitePhones, Summary, Times, Unreadable};
use super::status::{decide, Evidence, Status};
use super::{MAX_ERROR_LINES, MAX_LOG_BYTES, TAIL_BYTES};
use crate::mask::Masker;
use crate::reconcile::record::SiteStatus;
use crate::remote::traces::{Fact, Kind, Precision, Stamp, Tail, TimeSource};
use crate::remote::{Cause, Reader, RemoteError, RemoteName, TraceRequest, Traces};
use crate::site::model::{Phone, Site};

/// How far before its last boot (by the server's clock, seen on the
/// phone's) an error line may be and still count as logged since: the
/// two clocks may differ by this much.
pub const CLOCK_SLACK: i64 = 300;

/// What a survey is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The local clock (for `silent` only).
    pub now: i64,
    pub silent_after: i64,
}

/// The names one phone leaves or reads.
struct Names {
    boot: String,
    app: String,
    overrides: [String; 2],
    /// Its master file, every CONFIG_FILES entry and APP_FILE_PATH, in
    /// that order.
    reads: Vec<String>,
}

impl Names {
    fn of(site: &Site, phone: &Phone) -> Self {
        let mac = phone.mac.to_string();
        let mut reads = vec![format!("{mac}.cfg")];
        reads.extend(site.config_files_for(phone));
        reads.push(crate::render::APP_FILE_PATH.to_owned());
        Names {
            boot: format!("{mac}-boot.log"),
            app: format!("{mac}-app.log"),
            overrides: [format!("{mac}-phone.cfg"), format!("{mac}-web.cfg")],
            reads,
        }
    }
}

/// The files a phone reads: its master file, every CONFIG_FILES entry and
/// APP_FILE_PATH, in that order.
pub fn reads(site: &Site, phone: &Phone) -> Vec<String> {
    Names::of(site, phone).reads
}

/// Survey the site's root and report on every declared phone.
pub fn gather(
    site: &Site,
    reader: &mut dyn Reader,
    settings: &Settings,
    masker: &Masker,
) -> Result<SitePhones, RemoteError> {
    let names: Vec<Names> = site.phones.iter().map(|p| Names::of(site, p)).collect();
    let mut timed: Vec<RemoteName> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for n in &names {
        let all = n
            .reads
            .iter()
            .chain([&n.boot, &n.app])
            .chain(n.overrides.iter());
        for name in all {
            // The site's own names are checked names; one that is not
            // cannot be on the root either.
            if seen.insert(name.as_str()) {
                if let Ok(r) = RemoteName::new(name) {
                    timed.push(r);
                }
            }
        }
    }
    let tails: Vec<RemoteName> = names
        .iter()
        .filter_map(|n| RemoteName::new(&n.app).ok())
        .collect();
    let request = TraceRequest {
        timed: &timed,
        tails: &tails,
        tail_bytes: TAIL_BYTES,
        max_bytes: MAX_LOG_BYTES,
    };
    let traces = reader.traces(&request)?.ok_or_else(|| {
        RemoteError::new(Cause::Refused, "this target cannot report its files' times")
    })?;
    let context = Context {
        site,
        found: Found::new(&traces),
        clock: PhoneClock::of(&site.time),
        settings,
        masker,
    };
    let mut summary = Summary::default();
    let mut phones = Vec::new();
    for (phone, n) in site.phones.iter().zip(&names) {
        let report = context.phone_report(phone, n);
        summary.count(report.status);
        phones.push(report);
    }
    Ok(SitePhones {
        site: site.name.clone(),
        target: site.target.display.clone(),
        status: SiteStatus::Ok,
        error: None,
        times: Some(Times {
            source: traces.source,
            precision: match traces.source {
                TimeSource::List => Precision::Minute,
                _ => Precision::Second,
            },
        }),
        polling: site.polling.clone(),
        summary,
        phones,
    })
}

/// The survey's findings by name.
struct Found<'a> {
    facts: BTreeMap<&'a str, &'a Fact>,
    times: BTreeMap<&'a str, Stamp>,
    tails: BTreeMap<&'a str, &'a Tail>,
}

impl<'a> Found<'a> {
    fn new(t: &'a Traces) -> Self {
        Found {
            facts: t.facts.iter().map(|f| (f.name.as_str(), f)).collect(),
            times: t.times.iter().map(|(n, s)| (n.as_str(), *s)).collect(),
            tails: t.tails.iter().map(|(n, t)| (n.as_str(), t)).collect(),
        }
    }

    /// A log's time, if it is a plain file of a size a log may be;
    /// else why it is not trusted. A log the listing does not show (a
    /// listing cut short) is taken at its time.
    fn log_time(&self, name: &str) -> Result<Option<Stamp>, String> {
        if let Some(fact) = self.facts.get(name) {
            if fact.kind != Kind::File {
                return Err(format!("{}, not a plain file", fact.kind.word()));
            }
            if fact.size.is_some_and(|s| s > MAX_LOG_BYTES) {
                return Err(format!(
                    "larger than the {} MiB a phone's log may be",
                    MAX_LOG_BYTES / (1024 * 1024)
                ));
            }
        }
        Ok(self.times.get(name).copied())
    }
}

/// What every phone of a site is judged with.
struct Context<'a> {
    site: &'a Site,
    found: Found<'a>,
    clock: PhoneClock,
    settings: &'a Settings,
    masker: &'a Masker,
}

impl Context<'_> {
    /// One phone's report.
    fn phone_report(&self, phone: &Phone, n: &Names) -> PhoneReport {
        let Context {
            site,
            found,
            clock,
            settings,
            masker,
        } = self;
        let clock = *clock;
        let mut unreadable = Vec::new();
        let mut trusted = |file: &str| match found.log_time(file) {
            Ok(t) => t,
            Err(why) => {
                unreadable.push(Unreadable {
                    file: file.to_owned(),
                    why,
                });
                None
            }
        };
        let boot = trusted(&n.boot);
        let mut heard = trusted(&n.app);
        let lines = match heard.and(found.tails.get(n.app.as_str())) {
            Some(tail) => match app_lines(tail) {
                Ok(lines) => lines,
                Err(why) => {
                    unreadable.push(Unreadable {
                        file: n.app.clone(),
                        why,
                    });
                    heard = None;
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let newest = n
            .reads
            .iter()
            .filter_map(|f| found.times.get(f.as_str()).map(|t| (f, *t)))
            .fold(None::<FileTime>, |best, (file, time)| match best {
                Some(b) if !time.surely_after(&b.time) => Some(b),
                _ => Some(FileTime {
                    file: file.clone(),
                    time,
                }),
            });
        let error_file = heard.and_then(|h| {
            // Uploaded after its last boot (not surely before it).
            if boot.is_some_and(|b| b.surely_after(&h)) {
                return None;
            }
            error_since_boot(&lines, &n.reads, boot, h, clock)
        });
        let (status, mut reason) = decide(&Evidence {
            boot,
            heard,
            newest: newest.as_ref(),
            error_file: error_file.as_deref(),
            now: settings.now,
            silent_after: settings.silent_after,
            polling: site.polling.as_deref(),
        });
        if status == Status::Never && !unreadable.is_empty() {
            reason = "no boot log or app log on the root that polyops can use (see unreadable)"
                .to_owned();
        }
        PhoneReport {
            mac: phone.mac.to_string(),
            model: format!("{:?}", phone.model),
            extension: phone.extension.clone(),
            address: phone.address.clone(),
            status,
            reason: masker.clean(&reason),
            last_boot: boot,
            last_heard: heard,
            newest_change: newest,
            picks_up_at: site.polling.clone().filter(|_| status == Status::Pending),
            error_file: error_file.filter(|_| status == Status::Error),
            overrides: n
                .overrides
                .iter()
                .filter(|o| {
                    found.times.contains_key(o.as_str()) || found.facts.contains_key(o.as_str())
                })
                .cloned()
                .collect(),
            unreadable: unreadable
                .into_iter()
                .map(|u| Unreadable {
                    why: masker.clean(&u.why),
                    ..u
                })
                .collect(),
            errors: newest_errors(&lines, heard, clock, masker),
        }
    }
}

/// The lines of an app log's tail, or why it is unreadable.
fn app_lines(tail: &Tail) -> Result<Vec<Line>, String> {
    match tail {
        Tail::Read { bytes, whole } => log::parse(bytes, *whole),
        Tail::Unreadable(why) => Err(why.clone()),
    }
}

/// The file the newest error line logged since the last boot names, of
/// the files the phone reads. A line's time is the phone's clock, its
/// year inferred from the app log's own time; a line without a time
/// counts (it cannot be shown to be older). Without a boot log every
/// line counts.
fn error_since_boot(
    lines: &[Line],
    reads: &[String],
    boot: Option<Stamp>,
    heard: Stamp,
    clock: PhoneClock,
) -> Option<String> {
    let since = boot.map(|b| clock.local(b.seconds) - CLOCK_SLACK);
    lines.iter().rev().filter(|l| l.is_error()).find_map(|l| {
        let logged = l.time.and_then(|t| clock.dated(t, heard.seconds));
        let recent = match (since, logged) {
            (Some(since), Some(at)) => at >= since,
            _ => true,
        };
        if !recent {
            return None;
        }
        reads.iter().find(|f| l.names(f)).cloned()
    })
}

/// The last error lines of the log, oldest first, fit to print.
fn newest_errors(
    lines: &[Line],
    heard: Option<Stamp>,
    clock: PhoneClock,
    masker: &Masker,
) -> Vec<ErrorLine> {
    let errors: Vec<&Line> = lines.iter().filter(|l| l.is_error()).collect();
    errors[errors.len().saturating_sub(MAX_ERROR_LINES)..]
        .iter()
        .map(|l| ErrorLine {
            time: heard.and_then(|h| {
                l.time
                    .and_then(|t| clock.dated(t, h.seconds))
                    .map(|s| crate::clock::Civil::from_seconds(s).to_string())
            }),
            component: masker.clean(&l.component),
            level: l.level,
            text: masker.clean(&l.text),
        })
        .collect()
}
