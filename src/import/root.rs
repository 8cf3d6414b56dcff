//! A hand-made provisioning root → a draft site. The master files
//! (`<mac>.cfg`, any case), the `<number>.cfg` each names and `altigen.cfg`
//! are read with a real XML parser; every parameter maps to the field that
//! renders it where one exists, else to `params` at the level where it was
//! found. Whatever cannot be carried over as it is goes into the report.
//!
//! Choices where the contract leaves room:
//! - Masters are taken in name order, case aside; where both `0004f2…cfg`
//!   and `0004F2…cfg` exist, the lower-case one (the one the phone asks
//!   for) is read and the other left out.
//! - The guide's scanning typos (`msg.mwi.l.callBackMode`, `tcplpApp.…`,
//!   `phonel.cfg`) are read as what they mean: the phone ignores the
//!   misspelt name, so the import names the change and carries the value
//!   over to the parameter the installer meant (unless the file sets that
//!   one too).
//! - A site-wide value that extensions disagree on (the server address,
//!   the registration expiry) takes the value most extensions have; each
//!   other extension is reported.
//! - An extra CONFIG_FILES entry on the root that every phone names is
//!   kept as `config_files`; one that is missing, or that only some phones
//!   name, is left out.

use std::collections::{BTreeMap, BTreeSet};

use crate::import::logs::models_named;
use crate::import::map::{
    choose_dialplan, choose_server, map_extension, map_site, shown, ExtFile, Sightings,
};
use crate::import::report::{Kind, Report};
use crate::import::{Draft, DraftTarget, Field, Imported, Phone, Secrets, MODELS};
use crate::polycom::catalog::catalog;
use crate::polycom::reader::{application, parameter_map, Application, Parameters};
use crate::remote::{Reader, RemoteName, RemoteResult};
use crate::site::file::Model;
use crate::site::mac::Mac;
use crate::site::model::{is_params_file, is_phone_written, ALTIGEN_CFG};

pub struct Options {
    pub site: String,
    pub target: DraftTarget,
    /// The model of every phone whose logs do not name one.
    pub model: Option<Model>,
}

/// What the firmware package puts on the root (guide §5), read by the
/// phones but not by import.
const PACKAGE: [&str; 5] = [
    "sip.cfg",
    "phone1.cfg",
    "sip_212.cfg",
    "phone1_212.cfg",
    "000000000000.cfg",
];

/// The root's file names, found exactly or, failing that, case aside (a
/// Windows FTP server answers for `201.CFG` what it lists as `201.cfg`).
struct Listing {
    names: Vec<RemoteName>,
}

impl Listing {
    fn find(&self, name: &str) -> Option<&RemoteName> {
        self.names.iter().find(|n| n.as_str() == name).or_else(|| {
            self.names
                .iter()
                .find(|n| n.as_str().eq_ignore_ascii_case(name))
        })
    }
}

/// The MAC of a master file's name: 12 hex digits and `.cfg`, any case.
fn master_mac(name: &str) -> Option<Mac> {
    let (stem, ext) = name.split_at_checked(12)?;
    if !ext.eq_ignore_ascii_case(".cfg") || !stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Mac::parse(stem).ok()
}

/// The number of an extension file a CONFIG_FILES entry names (`201.cfg`).
fn extension_entry(entry: &str) -> Option<String> {
    let stem = entry.get(..entry.len().checked_sub(4)?)?;
    let ext = entry.get(entry.len() - 4..)?;
    (ext.eq_ignore_ascii_case(".cfg")
        && !stem.is_empty()
        && stem.bytes().all(|b| b.is_ascii_digit()))
    .then(|| stem.to_owned())
}

/// The parameter a name scanned from the guide stands for, when the name
/// is unknown and the fix is known: an `l`, `I` or `|` read for a `1` (or
/// `O` for `0`) in an index (`msg.mwi.l.callBackMode`), `lp` for `Ip`
/// (`volpProt`, `tcplpApp`).
pub fn guide_typo(name: &str) -> Option<String> {
    let cat = catalog();
    if cat.knows(name) {
        return None;
    }
    let fixed: Vec<String> = name
        .split('.')
        .map(|seg| {
            let looks_numeric = !seg.is_empty()
                && seg.len() <= 3
                && seg.chars().all(|c| "lI|Oo0123456789".contains(c))
                && seg.chars().any(|c| "lI|Oo".contains(c));
            if looks_numeric {
                seg.chars()
                    .map(|c| match c {
                        'l' | 'I' | '|' => '1',
                        'O' | 'o' => '0',
                        c => c,
                    })
                    .collect()
            } else {
                seg.replace("lp", "Ip")
            }
        })
        .collect();
    let fixed = fixed.join(".");
    (fixed != name && cat.knows(&fixed)).then_some(fixed)
}

/// A master file as read.
struct Master {
    mac: Mac,
    /// Its name on the target.
    name: String,
    app: Application,
    /// Its CONFIG_FILES as written, for the comparison.
    raw_config_files: String,
}

pub fn import(reader: &mut dyn Reader, opts: &Options) -> RemoteResult<Imported> {
    let mut report = Report::default();
    let listing = Listing {
        names: reader
            .list()?
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name)
            .collect(),
    };
    report_refused_names(reader, &mut report);
    let mut originals = BTreeMap::new();
    let mut read: BTreeSet<String> = BTreeSet::new();

    // The master files, one per MAC, in name order.
    let mut candidates: Vec<(Mac, &RemoteName)> = listing
        .names
        .iter()
        .filter_map(|n| master_mac(n.as_str()).map(|m| (m, n)))
        .filter(|(m, _)| m.as_str() != "000000000000")
        .collect();
    if candidates.is_empty() && listing.find(ALTIGEN_CFG).is_none() {
        return Err(crate::remote::RemoteError::new(
            crate::remote::Cause::NotFound,
            "no master file (<mac>.cfg) and no altigen.cfg at the root: nothing to import (is this the phones' provisioning root?)",
        ));
    }
    candidates.sort_by_key(|(m, n)| (*m, n.as_str() != format!("{m}.cfg"), n.as_str().to_owned()));
    let mut chosen: Vec<(Mac, RemoteName)> = Vec::new();
    for (mac, name) in candidates {
        if chosen.iter().any(|(m, _)| *m == mac) {
            report.unusable(
                name.as_str(),
                format!("another master file of phone {mac} is on the target, and the phone asks for {mac}.cfg: this one is not read"),
            );
            continue;
        }
        chosen.push((mac, name.clone()));
    }
    let names: Vec<RemoteName> = chosen.iter().map(|(_, n)| n.clone()).collect();
    let fetched: BTreeMap<RemoteName, Option<Vec<u8>>> = reader
        .read_many(&names)?
        .into_iter()
        .map(|(n, f)| (n, f.bytes))
        .collect();
    let mut masters = Vec::new();
    for (mac, name) in &chosen {
        read.insert(name.to_string());
        let Some(bytes) = fetched.get(name).cloned().flatten() else {
            report.unusable(
                name.as_str(),
                "could not be read whole (gone, or over 1 MiB): the phone is not imported",
            );
            continue;
        };
        match application(&bytes) {
            Ok(app) => {
                let raw_config_files = parameter_map(&bytes)
                    .ok()
                    .and_then(|p| p.values.get("CONFIG_FILES").cloned())
                    .unwrap_or_default();
                if name.as_str() != format!("{mac}.cfg") {
                    report.add(
                        name.as_str(),
                        Kind::Changed,
                        format!("the phone asks for {mac}.cfg (lower case), which apply creates; this file stays on the target as it is (remove it once apply is done)"),
                    );
                }
                originals.insert(format!("{mac}.cfg"), (name.to_string(), bytes));
                masters.push(Master {
                    mac: *mac,
                    name: name.to_string(),
                    app,
                    raw_config_files,
                });
            }
            Err(why) => report.unusable(name.as_str(), format!("{why}: the phone is not imported")),
        }
    }

    // The extension file each master names, and altigen.cfg.
    let mut wanted: BTreeMap<String, RemoteName> = BTreeMap::new();
    let mut phone_ext: BTreeMap<Mac, Option<(String, String)>> = BTreeMap::new();
    for m in &masters {
        let entry = m
            .app
            .config_files
            .iter()
            .find_map(|e| extension_entry(e).map(|n| (n, e.clone())));
        let Some((number, entry)) = entry else {
            report.unusable(
                &m.name,
                "its CONFIG_FILES names no <number>.cfg: the phone is not imported",
            );
            phone_ext.insert(m.mac, None);
            continue;
        };
        match listing.find(&entry) {
            Some(found) => {
                wanted.insert(number.clone(), found.clone());
                phone_ext.insert(m.mac, Some((number, found.to_string())));
            }
            None => {
                report.unusable(
                    &m.name,
                    format!("its CONFIG_FILES names {entry}, which is not on the target: the phone is not imported"),
                );
                phone_ext.insert(m.mac, None);
            }
        }
    }
    let altigen = listing.find(ALTIGEN_CFG).cloned();
    let mut to_read: Vec<RemoteName> = wanted.values().cloned().collect();
    to_read.extend(altigen.iter().cloned());
    let fetched: BTreeMap<RemoteName, Option<Vec<u8>>> = reader
        .read_many(&to_read)?
        .into_iter()
        .map(|(n, f)| (n, f.bytes))
        .collect();
    let mut parse = |name: &RemoteName, report: &mut Report| -> Option<(Vec<u8>, Parameters)> {
        read.insert(name.to_string());
        let Some(bytes) = fetched.get(name).cloned().flatten() else {
            report.unusable(
                name.as_str(),
                "could not be read whole (gone, or over 1 MiB)",
            );
            return None;
        };
        match parameter_map(&bytes) {
            Ok(p) => Some((bytes, p)),
            Err(why) => {
                report.unusable(name.as_str(), why);
                None
            }
        }
    };

    let site_params = match &altigen {
        Some(name) => match parse(name, &mut report) {
            Some((bytes, p)) => {
                originals.insert(ALTIGEN_CFG.to_owned(), (name.to_string(), bytes));
                Some((name.to_string(), normalise(name.as_str(), &p, &mut report)))
            }
            None => {
                if let Some(l) = report.lines.last_mut() {
                    l.text.push_str(": its settings are not imported; the site takes polyops's defaults (check time and dialplan)");
                }
                None
            }
        },
        None => {
            report.add(
                ALTIGEN_CFG,
                Kind::Changed,
                "is not on the target: the site takes polyops's defaults and apply creates it",
            );
            None
        }
    };

    let mut ext_files: BTreeMap<String, ExtFile> = BTreeMap::new();
    for (number, name) in &wanted {
        if let Some((bytes, p)) = parse(name, &mut report) {
            originals.insert(format!("{number}.cfg"), (name.to_string(), bytes));
            ext_files.insert(
                number.clone(),
                ExtFile {
                    name: name.to_string(),
                    params: normalise(name.as_str(), &p, &mut report),
                },
            );
        } else if let Some(l) = report.lines.last_mut() {
            l.text.push_str(&format!(
                ": extension {number} and the phones on it are not imported"
            ));
        }
    }

    // Extensions polyops can carry: 3 or 4 digits, all of one length.
    let mut lengths: BTreeMap<usize, usize> = BTreeMap::new();
    for number in ext_files.keys() {
        *lengths.entry(number.len()).or_default() += 1;
    }
    let digits = lengths
        .iter()
        .filter(|(len, _)| matches!(len, 3 | 4))
        .max_by_key(|(len, n)| (**n, std::cmp::Reverse(**len)))
        .map(|(len, _)| *len);
    let fits = |n: &str| Some(n.len()) == digits && !n.starts_with('0');
    for (number, f) in &ext_files {
        if !fits(number) {
            let why = match digits {
                Some(d) if number.len() == d => "starts with 0".to_owned(),
                Some(d) => format!(
                    "has {} digits and most extensions of the site have {d}",
                    number.len()
                ),
                None => "polyops handles extensions of 3 or 4 digits".to_owned(),
            };
            report.unusable(
                &f.name,
                format!("extension {number} {why}: it and the phones on it are not imported"),
            );
            originals.remove(&format!("{number}.cfg"));
        }
    }
    ext_files.retain(|n, _| fits(n));

    // Phones: the first master in name order keeps an extension.
    let mut taken: BTreeMap<String, Mac> = BTreeMap::new();
    let mut kept: Vec<&Master> = Vec::new();
    for m in &masters {
        let Some(Some((number, _))) = phone_ext.get(&m.mac) else {
            originals.remove(&format!("{}.cfg", m.mac));
            continue;
        };
        if !ext_files.contains_key(number) {
            originals.remove(&format!("{}.cfg", m.mac));
            continue;
        }
        if let Some(first) = taken.get(number) {
            report.unusable(
                &m.name,
                format!("extension {number} is already on phone {first} (the first master file in name order keeps it; MaxCS registers an extension from one SIP phone at a time): this phone is not imported"),
            );
            originals.remove(&format!("{}.cfg", m.mac));
            continue;
        }
        taken.insert(number.clone(), m.mac);
        kept.push(m);
    }

    let mut draft = Draft::new(&opts.site, &opts.target.url, opts.target.clone());
    let mut secrets = Secrets::default();
    let phones_count = kept.len();

    // altigen.cfg
    let mut digitmap_raw: Option<String> = None;
    if let Some((file, params)) = &site_params {
        map_site(
            file,
            params,
            &mut draft,
            &mut secrets,
            &mut report,
            &mut digitmap_raw,
        );
    } else {
        draft.gmt_note = Some(format!(
            "{ALTIGEN_CFG} could not be read: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
        ));
    }

    // Extensions, in number order.
    let mut seen = Sightings::default();
    for (number, f) in &ext_files {
        let ext = map_extension(number, f, &opts.site, &mut secrets, &mut report, &mut seen);
        draft.extensions.push(ext);
    }
    choose_server(&mut draft, &seen, phones_count, &mut report);
    choose_dialplan(
        &mut draft,
        digitmap_raw.as_deref(),
        site_params.as_ref().map(|(file, _)| file.as_str()),
        &mut report,
    );

    // Phones, their models, and their CONFIG_FILES.
    let logs = read_logs(reader, &listing, &kept)?;
    let mut extra: Vec<(String, BTreeSet<Mac>)> = Vec::new();
    for m in &kept {
        let Some(Some((number, _))) = phone_ext.get(&m.mac) else {
            continue;
        };
        let (model, model_note) = phone_model(m.mac, &logs, opts.model, &mut report);
        draft.phones.push(Phone {
            mac: m.mac,
            model,
            model_note,
            extension: number.clone(),
        });
        let own = m
            .app
            .config_files
            .iter()
            .position(|e| extension_entry(e).is_some());
        for (i, entry) in m.app.config_files.iter().enumerate() {
            let lower = entry.to_ascii_lowercase();
            if Some(i) == own
                || [ALTIGEN_CFG, "phone1.cfg", "sip.cfg"].contains(&lower.as_str())
                || is_phonel(entry)
            {
                continue;
            }
            match extra.iter_mut().find(|(e, _)| e == entry) {
                Some((_, macs)) => {
                    macs.insert(m.mac);
                }
                None => extra.push((entry.clone(), BTreeSet::from([m.mac]))),
            }
        }
    }
    for (entry, macs) in &extra {
        let why = if RemoteName::new(entry).is_err() {
            Some("it is not a name a file on the target can have (a control character, a path separator or a direction mark)".to_owned())
        } else if extension_entry(entry).is_some() {
            Some("a second extension file: polyops names one per phone".to_owned())
        } else if listing.find(entry).is_none() {
            Some("it is not on the target (the phones fail to load it today)".to_owned())
        } else if macs.len() < kept.len() {
            Some(format!(
                "only {} of the {} phones name it, and config_files is for every phone",
                macs.len(),
                kept.len()
            ))
        } else if entry.contains('\\')
            || master_mac(entry).is_some()
            || is_phone_written(entry)
            || is_params_file(entry)
        {
            Some("it is not a file every phone can share".to_owned())
        } else {
            None
        };
        match why {
            Some(why) => {
                report.not_understood.insert(entry.clone());
                report.add(
                    &shown_name(entry),
                    Kind::LeftOut,
                    format!("CONFIG_FILES entry not imported: {why}"),
                );
            }
            None => {
                read.insert(entry.clone());
                report.add(
                    entry,
                    Kind::Kept,
                    "CONFIG_FILES entry of every phone: kept in config_files; polyops names it and leaves the file as it is (unmanaged)",
                );
                draft.config_files.push(entry.clone());
            }
        }
    }
    for m in &kept {
        compare_config_files(m, &draft, phone_ext.get(&m.mac), &mut report);
    }

    notes_about_the_rest(&listing, &read, &kept, &draft, &mut report);
    Ok(Imported {
        draft,
        secrets,
        report,
        originals,
    })
}

/// A name as a report line shows it: as it is when it can be a file's
/// name on the target, else quoted with its unprintable characters as
/// escapes (`"20\x0d2.cfg"`), so that it never reads as a real name.
fn shown_name(name: &str) -> String {
    match RemoteName::new(name) {
        Ok(_) => name.to_owned(),
        Err(_) => format!("\"{}\"", crate::mask::escaped(name)),
    }
}

/// A line for each name at the root that cannot be a file's name polyops
/// reads (a control character, a line break, a path separator, a
/// direction mark), or that is a symbolic link of a `dir:` root: the
/// listing leaves those out, and the report says so.
fn report_refused_names(reader: &dyn Reader, report: &mut Report) {
    for name in reader.stats().refused_names {
        let shown = format!("\"{name}\"");
        report.not_understood.insert(shown.clone());
        report.add(
            &shown,
            Kind::LeftOut,
            "not read: polyops reads no name with a control character, a line break, a path separator or a direction mark, nor a symbolic link",
        );
    }
}

/// `phonel.cfg` (and `phoneI.cfg`): the guide's CONFIG_FILES typo.
fn is_phonel(entry: &str) -> bool {
    matches!(entry, "phonel.cfg" | "phoneI.cfg" | "phone|.cfg")
}

/// A file's parameters in order, each once, with the guide's typos read
/// as what they mean.
fn normalise(file: &str, p: &Parameters, report: &mut Report) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in &p.order {
        let value = p.values.get(name).cloned().unwrap_or_default();
        match guide_typo(name) {
            Some(fixed) if p.values.contains_key(&fixed) => report.about(
                file,
                Kind::LeftOut,
                &[name.as_str()],
                format!("{name} is the guide's typo for {fixed}, which the file sets too: the phone ignores it, and it is not imported"),
            ),
            Some(fixed) => {
                let today = match catalog().get(&fixed).and_then(|e| e.default) {
                    Some(d) => format!("{fixed}'s default, {d:?}, today"),
                    None => format!("{fixed}'s default today"),
                };
                report.about(
                    file,
                    Kind::Changed,
                    &[name.as_str(), fixed.as_str()],
                    format!(
                        "{name} is the guide's typo for {fixed}: the phone ignores the misspelt name (so it runs {today}); imported as {fixed}={}",
                        shown(&fixed, &value)
                    ),
                );
                out.push((fixed, value));
            }
            None => out.push((name.clone(), value)),
        }
    }
    let repeated: BTreeSet<&String> = p.repeated.iter().collect();
    for name in repeated {
        report.add(
            file,
            Kind::Note,
            format!("{name} is set more than once; the phone takes the first, and so does the site file"),
        );
    }
    out
}

/// Log files by phone: (name, bytes).
type Logs = BTreeMap<Mac, Vec<(String, Vec<u8>)>>;

/// The boot and application logs of the kept phones, by MAC.
fn read_logs(reader: &mut dyn Reader, listing: &Listing, kept: &[&Master]) -> RemoteResult<Logs> {
    let mut names: Vec<(Mac, RemoteName)> = Vec::new();
    for m in kept {
        for suffix in ["-boot.log", "-app.log"] {
            if let Some(n) = listing.find(&format!("{}{suffix}", m.mac)) {
                names.push((m.mac, n.clone()));
            }
        }
    }
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let only: Vec<RemoteName> = names.iter().map(|(_, n)| n.clone()).collect();
    let fetched: BTreeMap<RemoteName, Option<Vec<u8>>> = reader
        .read_many(&only)?
        .into_iter()
        .map(|(n, f)| (n, f.bytes))
        .collect();
    let mut out = Logs::new();
    for (mac, name) in names {
        if let Some(Some(bytes)) = fetched.get(&name) {
            out.entry(mac)
                .or_default()
                .push((name.to_string(), bytes.clone()));
        }
    }
    Ok(out)
}

/// A phone's model: from its logs, else `--model`, else to fill in.
fn phone_model(
    mac: Mac,
    logs: &Logs,
    model: Option<Model>,
    report: &mut Report,
) -> (Field<Model>, Option<String>) {
    let mut named: Vec<(Model, String)> = Vec::new();
    for (file, bytes) in logs.get(&mac).into_iter().flatten() {
        for m in models_named(bytes) {
            if !named.iter().any(|(n, _)| *n == m) {
                named.push((m, file.clone()));
            }
        }
    }
    match named.as_slice() {
        [(m, file)] => return (Field::Value(*m), Some(format!("named in {file}"))),
        [] => {}
        several => {
            let list: Vec<String> = several.iter().map(|(m, _)| format!("{m:?}")).collect();
            report.add(
                &format!("{mac}-boot.log"),
                Kind::Note,
                format!(
                    "the logs of phone {mac} name several models ({}): not used",
                    list.join(", ")
                ),
            );
        }
    }
    match model {
        Some(m) => (Field::Value(m), Some("from --model".to_owned())),
        None => {
            report.add(
                &format!("{mac}.cfg"),
                Kind::FillIn,
                format!("no log of phone {mac} names its model: fill in its model ({MODELS}), or import again with --model"),
            );
            (
                Field::FillIn(format!(
                    "FILL-IN the model on the back of the phone: {MODELS}"
                )),
                None,
            )
        }
    }
}

/// A phone's CONFIG_FILES as polyops writes it, against the hand-made one.
fn compare_config_files(
    m: &Master,
    draft: &Draft,
    ext: Option<&Option<(String, String)>>,
    report: &mut Report,
) {
    let Some(Some((number, _))) = ext else {
        return;
    };
    let mut ours = vec![format!("{number}.cfg"), ALTIGEN_CFG.to_owned()];
    ours.extend(draft.config_files.iter().cloned());
    ours.push("phone1.cfg".to_owned());
    ours.push("sip.cfg".to_owned());
    let theirs = &m.app.config_files;
    let param = ["CONFIG_FILES"];
    let typo = theirs.iter().find(|e| is_phonel(e));
    if let Some(t) = typo {
        report.about(
            &m.name,
            Kind::Changed,
            &param,
            format!("CONFIG_FILES names {t}, the guide's typo for phone1.cfg (the phone finds no such file, so it runs without phone1.cfg today): polyops names phone1.cfg"),
        );
    }
    let fixed: Vec<String> = theirs
        .iter()
        .map(|e| {
            if is_phonel(e) {
                "phone1.cfg".to_owned()
            } else {
                e.clone()
            }
        })
        .collect();
    if fixed != ours {
        report.about(
            &m.name,
            Kind::Changed,
            &param,
            format!(
                "CONFIG_FILES becomes {:?} (was {:?})",
                ours.join(", "),
                theirs.join(", ")
            ),
        );
    } else if typo.is_none() && m.raw_config_files != ours.join(", ") {
        report.about(
            &m.name,
            Kind::Note,
            &param,
            "CONFIG_FILES names the same files; polyops writes them with its own spacing",
        );
    }
}

/// What import did not read: `.cfg` files no master names, the firmware's
/// default master, the phones' own override files.
fn notes_about_the_rest(
    listing: &Listing,
    read: &BTreeSet<String>,
    kept: &[&Master],
    draft: &Draft,
    report: &mut Report,
) {
    for name in &listing.names {
        let n = name.as_str();
        let lower = n.to_ascii_lowercase();
        if read.contains(n)
            || !lower.ends_with(".cfg")
            || draft.config_files.iter().any(|c| c.as_str() == n)
        {
            continue;
        }
        if lower == "000000000000.cfg" {
            report.add(
                n,
                Kind::Note,
                "the firmware's default master file, for phones without one of their own: left as it is",
            );
        } else if let Some(m) = kept.iter().find(|m| {
            [format!("{}-phone.cfg", m.mac), format!("{}-web.cfg", m.mac)].contains(&lower)
        }) {
            report.add(
                n,
                Kind::Note,
                format!("settings phone {} keeps for itself (changed on the handset or its web page): they override the site file, and polyops never touches them; drift names the declared ones they shadow", m.mac),
            );
        } else if !PACKAGE.contains(&lower.as_str())
            && !is_phone_written(n)
            && master_mac(n).is_none()
        {
            report.not_understood.insert(n.to_owned());
            report.add(
                n,
                Kind::Note,
                "not read: no imported phone names it; it stays on the target as it is (unmanaged)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_scanning_typos_are_read_as_what_they_mean() {
        assert_eq!(
            guide_typo("msg.mwi.l.callBackMode").as_deref(),
            Some("msg.mwi.1.callBackMode")
        );
        assert_eq!(
            guide_typo("tcplpApp.sntp.gmtOffset").as_deref(),
            Some("tcpIpApp.sntp.gmtOffset")
        );
        assert_eq!(
            guide_typo("volpProt.SIP.local.port").as_deref(),
            Some("voIpProt.SIP.local.port")
        );
        assert_eq!(guide_typo("msg.mwi.1.callBackMode"), None);
        assert_eq!(guide_typo("made.up.name"), None);
        assert!(is_phonel("phonel.cfg") && !is_phonel("phone1.cfg"));
    }

    #[test]
    fn master_and_extension_names_are_read_in_any_case() {
        assert_eq!(
            master_mac("0004F2000607.CFG")
                .map(|m| m.to_string())
                .as_deref(),
            Some("0004f2000607")
        );
        assert_eq!(master_mac("0004f2000607-phone.cfg"), None);
        assert_eq!(master_mac("201.cfg"), None);
        assert_eq!(extension_entry("201.cfg").as_deref(), Some("201"));
        assert_eq!(extension_entry("2001.CFG").as_deref(), Some("2001"));
        assert_eq!(extension_entry("altigen.cfg"), None);
        assert_eq!(extension_entry(".cfg"), None);
        assert_eq!(extension_entry("é.cfg"), None);
    }
}
