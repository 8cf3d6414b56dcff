//! `resync SITE [PHONE...] [--pending]`, and `apply --resync`: ask phones
//! to fetch their files now with a SIP NOTIFY (check-sync) to the address
//! the site declares for each (docs/phones.md). A phone without an address
//! is skipped; nothing is ever sent to an address the site does not
//! declare. Exit 0 when every phone asked answered 2xx.

use std::collections::BTreeSet;
use std::io::Write;

use super::explain::find_phone;
use super::phones::{settings, site_phones};
use super::{checked_sites, secret_store, write_out};
use crate::cli::{Config, Format, PhonesOptions, ResyncOptions};
use crate::error::Error;
use crate::phones::gather::reads;
use crate::phones::status::Status;
use crate::reconcile::outcome::SiteOutcome;
use crate::reconcile::plan::Action;
use crate::sip::transaction::{notify_all, Destination, DEADLINE};
use crate::sip::Answer;
use crate::site::model::{Phone, Site};

pub fn run(config: &Config, opts: &ResyncOptions, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let site = catalog
        .selected()
        .next()
        .ok_or(Error::NeedsSite { command: "resync" })?;
    let mut chosen: Vec<&Phone> = if opts.phones.is_empty() {
        site.phones.iter().collect()
    } else {
        let mut named = Vec::new();
        for given in &opts.phones {
            let phone = find_phone(site, given)?;
            if !named.iter().any(|p: &&Phone| p.mac == phone.mac) {
                named.push(phone);
            }
        }
        named
    };
    if opts.pending {
        let store = secret_store(config)?;
        let report = site_phones(
            config,
            site,
            &store,
            &settings(&PhonesOptions {
                format: Format::Text,
                silent_after: crate::phones::DEFAULT_SILENT_AFTER,
            }),
        )?;
        let pending: BTreeSet<&str> = report
            .phones
            .iter()
            .filter(|p| p.status == Status::Pending)
            .map(|p| p.mac.as_str())
            .collect();
        chosen.retain(|p| pending.contains(p.mac.to_string().as_str()));
        if chosen.is_empty() {
            write_out(
                out,
                format!("resync {}: no phone is pending\n", site.name).as_bytes(),
            )?;
            return Ok(0);
        }
    }
    resync(site, &chosen, out)?;
    Ok(0)
}

/// After a successful apply (`apply --resync`): NOTIFY, for each site
/// applied, the phones that read a file the plan created or updated.
/// `out` is standard output for a text report; with JSON or markdown the
/// lines go to standard error, so the report stays whole.
pub(super) fn after_apply(
    sites: &[&Site],
    outcomes: &[SiteOutcome],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut errors = Vec::new();
    for plan in outcomes.iter().filter_map(SiteOutcome::plan) {
        let Some(site) = sites.iter().find(|s| s.name == plan.site.name) else {
            continue;
        };
        let changed: BTreeSet<&str> = plan
            .files
            .iter()
            .filter(|f| matches!(f.action, Action::Create | Action::Update))
            .map(|f| f.name.as_str())
            .collect();
        let phones: Vec<&Phone> = site
            .phones
            .iter()
            .filter(|p| reads(site, p).iter().any(|f| changed.contains(f.as_str())))
            .collect();
        if phones.is_empty() {
            continue;
        }
        let result = if format == Format::Text {
            resync(site, &phones, out)
        } else {
            resync(site, &phones, &mut std::io::stderr())
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Many(errors))
    }
}

/// NOTIFY `phones` of `site` (those with an address), a line each, and a
/// summary; an error unless every phone asked answered 2xx.
fn resync(site: &Site, phones: &[&Phone], out: &mut dyn Write) -> Result<(), Error> {
    let port = site.server.sip_port;
    let asked: Vec<(&Phone, Destination)> = phones
        .iter()
        .filter_map(|p| {
            p.address.as_ref().map(|host| {
                (
                    *p,
                    Destination {
                        host: host.clone(),
                        port,
                        extension: p.extension.clone(),
                    },
                )
            })
        })
        .collect();
    let destinations: Vec<Destination> = asked.iter().map(|(_, d)| d.clone()).collect();
    let answers = notify_all(&destinations, DEADLINE);
    let mut text = format!(
        "resync {}: {} phone{}\n",
        site.name,
        phones.len(),
        if phones.len() == 1 { "" } else { "s" }
    );
    let mut failed = 0;
    for phone in phones {
        let line = match asked.iter().position(|(p, _)| p.mac == phone.mac) {
            Some(i) => {
                let answer = &answers[i];
                if !answer.is_ok() {
                    failed += 1;
                }
                format!(
                    "{}:{port}: {answer}",
                    crate::sip::request::uri_host(&asked[i].1.host)
                )
            }
            None => "skipped: no address".to_owned(),
        };
        text.push_str(&format!("  {} ({}) {line}\n", phone.mac, phone.extension));
    }
    let count = |f: fn(&Answer) -> bool| answers.iter().filter(|a| f(a)).count();
    let mut counts = vec![
        format!("{} ok", count(Answer::is_ok)),
        format!(
            "{} refused",
            count(|a| matches!(a, Answer::Final { .. }) && !a.is_ok())
        ),
        format!("{} no answer", count(|a| *a == Answer::NoAnswer)),
    ];
    let not_sent = count(|a| matches!(a, Answer::Failed(_)));
    if not_sent > 0 {
        counts.push(format!("{not_sent} not sent"));
    }
    counts.push(format!("{} skipped", phones.len() - asked.len()));
    text.push_str(&format!("resync {}: {}.\n", site.name, counts.join(", ")));
    write_out(out, text.as_bytes())?;
    if failed > 0 {
        return Err(Error::Resync {
            site: site.name.clone(),
            failed,
            asked: asked.len(),
        });
    }
    Ok(())
}
