//! `explain SITE PHONE`: the parameters one phone runs after apply (or, with
//! `--observed`, as the target is now), each with the file it comes from
//! and the files it shadows. Read-only: the target is opened with
//! `remote::open_reader`, whose handle has no method that writes.

use std::io::Write;

use super::prepare::render_and_open;
use super::print::{remote_error, warn};
use super::{checked_sites, secret_store};
use crate::cli::{Config, ExplainFormat, ExplainOptions};
use crate::error::Error;
use crate::output::explain::{write_json, write_text};
use crate::reconcile::explain::{explain, Request};
use crate::remote;
use crate::site::mac::Mac;
use crate::site::model::{Phone, Site};

/// How many phones an unknown-phone error lists as examples.
const PHONES_SHOWN: usize = 5;

pub fn run(config: &Config, opts: &ExplainOptions, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let site = catalog
        .selected()
        .next()
        .ok_or(Error::NeedsSite { command: "explain" })?;
    let phone = find_phone(site, &opts.phone)?;
    // Missing secrets fail here, as they fail plan: the rendered files
    // need every password of the site.
    let (local, mut reader) = render_and_open(site, &store, || {
        remote::open_reader(site, &store, config.connections)
    })?;
    let request = Request {
        site,
        phone,
        desired: &local.desired,
        observed: opts.observed,
        params: &opts.params,
        masker: &local.masker,
    };
    let explanation =
        explain(&request, reader.as_mut()).map_err(|e| remote_error(site, &local.masker, e))?;
    for w in &explanation.warnings {
        warn(site, &local.masker, w);
    }
    let written = match opts.format {
        ExplainFormat::Text => write_text(&explanation, out),
        ExplainFormat::Json => write_json(&explanation, out),
    };
    written.map_err(|e| Error::Write {
        path: "standard output".into(),
        source: e,
    })?;
    Ok(0)
}

/// The phone PHONE names: the one on that extension number, or the one
/// with that MAC address in any spelling.
pub(super) fn find_phone<'a>(site: &'a Site, given: &str) -> Result<&'a Phone, Error> {
    let given = given.trim();
    if let Some(p) = site.phones.iter().find(|p| p.extension == given) {
        return Ok(p);
    }
    let shown: String = crate::mask::printable(given).chars().take(40).collect();
    let what = match Mac::parse(given) {
        Ok(mac) => match site.phones.iter().find(|p| p.mac == mac) {
            Some(p) => return Ok(p),
            None => format!("no phone has the MAC address {mac}"),
        },
        Err(_) if site.extensions.iter().any(|e| e.number == given) => {
            format!("extension {shown} is on no phone")
        }
        Err(_) if !given.is_empty() && given.bytes().all(|b| b.is_ascii_digit()) => {
            format!("no phone is on extension {shown}")
        }
        Err(_) => format!("{shown:?} is neither an extension number nor a MAC address"),
    };
    let mut examples: Vec<String> = site
        .phones
        .iter()
        .take(PHONES_SHOWN)
        .map(|p| format!("{} on {}", p.mac, p.extension))
        .collect();
    if site.phones.len() > PHONES_SHOWN {
        examples.push(format!("{} more", site.phones.len() - PHONES_SHOWN));
    }
    let phones = if examples.is_empty() {
        " (the site declares none)".to_owned()
    } else {
        format!(": {}", examples.join(", "))
    };
    Err(Error::UnknownPhone {
        site: site.name.clone(),
        file: site.file.clone(),
        what,
        phones,
    })
}
