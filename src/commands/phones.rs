//! `phones`: did each phone take what was applied? Read-only: every site's
//! target is opened with `remote::open_reader` and surveyed once for the
//! phones' traces; sites run `--parallel` at a time, like drift. Exit 0
//! when every phone is current, 2 when any is not, 1 on an error.

use std::io::Write;
use std::sync::atomic::AtomicBool;

use super::prepare::masker;
use super::print::{connections, remote_error, retried, warn};
use super::{checked_sites, fleet, secret_store};
use crate::cli::{Config, Format, PhonesOptions};
use crate::error::Error;
use crate::mask::Masker;
use crate::output::phones as render;
use crate::phones::gather::{gather, Settings};
use crate::phones::report::{PhonesReport, SitePhones, FORMAT_VERSION};
use crate::reconcile::outcome::{one_line, Why};
use crate::remote::traces::{Precision, Stamp};
use crate::remote::{self, Reader};
use crate::render::inputs::Inputs;
use crate::site::model::Site;
use crate::site::secret::SecretStore;

pub fn run(config: &Config, opts: &PhonesOptions, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let settings = settings(opts);
    let sites: Vec<&Site> = catalog.selected().collect();
    let outcomes = fleet(config).run(
        "phones",
        &sites,
        &AtomicBool::new(false),
        |site| site_phones(config, site, &store, &settings),
        Result::is_err,
        |_, _| {},
    );
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (site, outcome) in sites.iter().zip(outcomes) {
        match outcome {
            Some(Ok(p)) => reports.push(p),
            Some(Err(e)) => {
                reports.push(SitePhones::failed(
                    &site.name,
                    &site.target.display,
                    one_line(&e),
                ));
                errors.push(e);
            }
            None => reports.push(SitePhones::failed(
                &site.name,
                &site.target.display,
                format!("not started: {}", Why::FailFast),
            )),
        }
    }
    let report = PhonesReport {
        format_version: FORMAT_VERSION,
        now: Stamp::new(settings.now, Precision::Second).rfc3339(),
        silent_after_seconds: u64::try_from(settings.silent_after).unwrap_or(0),
        sites: reports,
    };
    print(&report, opts.format, out)?;
    if !errors.is_empty() {
        return Err(Error::Many(errors));
    }
    Ok(if report.all_current() { 0 } else { 2 })
}

/// What the phones are compared with: the local clock now, and
/// `--silent-after`.
pub(super) fn settings(opts: &PhonesOptions) -> Settings {
    Settings {
        now: crate::clock::now(),
        silent_after: i64::try_from(opts.silent_after.as_secs()).unwrap_or(i64::MAX),
    }
}

/// Survey one site's phones. The site's secrets are needed as for drift:
/// anything a log says is masked with them.
pub(super) fn site_phones(
    config: &Config,
    site: &Site,
    store: &SecretStore,
    settings: &Settings,
) -> Result<SitePhones, Error> {
    let (masker, mut reader) = open(config, site, store)?;
    let phones = gather(site, reader.as_mut(), settings, &masker)
        .map_err(|e| remote_error(site, &masker, e))?;
    let st = reader.stats();
    if let Some(reply) = &st.listing_cut {
        warn(
            site,
            &masker,
            &format!(
            "{} cut its listing short ({reply}): each phone's logs were still asked for by name",
            site.target.display
        ),
        );
    }
    if !st.refused_names.is_empty() {
        warn(
            site,
            &masker,
            &format!(
                "the listing holds {} name(s) polyops cannot use (control characters, path separators or . / ..), left out",
                st.refused_names.len()
            ),
        );
    }
    if config.verbose {
        eprintln!(
            "{}: read the phones' traces over {}: {} log tails downloaded{}",
            site.name,
            connections(&st),
            st.downloads,
            retried(&st.retries, &masker)
        );
    }
    Ok(phones)
}

/// The site's masker and a read-only handle on its target, opened while
/// the secrets are resolved (logging in takes round trips).
fn open(
    config: &Config,
    site: &Site,
    store: &SecretStore,
) -> Result<(Masker, Box<dyn Reader + Send>), Error> {
    let (masker, reader) = std::thread::scope(|scope| {
        let opened = scope.spawn(|| remote::open_reader(site, store, config.connections));
        let masker = Inputs::gather(site, store)
            .map_err(Error::Many)
            .map(|inputs| masker(site, &inputs, store));
        let reader = opened
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (masker, reader)
    });
    Ok((masker?, reader?))
}

fn print(report: &PhonesReport, format: Format, out: &mut dyn Write) -> Result<(), Error> {
    let result = match format {
        Format::Text => render::text::write(report, out),
        Format::Json => render::json::write(report, out),
        Format::Markdown => render::markdown::write(report, out),
        Format::Html => crate::output::html::phones::write(report, out),
    };
    result.map_err(|e| Error::Write {
        path: "standard output".into(),
        source: e,
    })
}
