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
    choose_dialplan, choose_server, map_extension, map_site, ExtFile, Sightings,
};
use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::typos::{is_phonel, normalise};
use crate::import::{Draft, DraftTarget, Field, Imported, Phone, Secrets};
use crate::polycom::reader::{application, parameter_map, Application, Parameters};
use crate::remote::{Reader, RemoteName, RemoteResult};
use crate::site::file::{Model, MODELS};
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

/// A master file as read.
struct MasterFile {
    mac: Mac,
    /// Its name on the target.
    name: String,
    app: Application,
    /// Its CONFIG_FILES as written, for the comparison.
    raw_config_files: String,
}

/// What the import gathers besides the draft while it reads: its notes,
/// the hand-made files it read (rendered name → (name on the target,
/// bytes), for `verify`), and the names of the files it read.
#[derive(Default)]
struct Gathered {
    notes: ImportNotes,
    originals: BTreeMap<String, (String, Vec<u8>)>,
    read: BTreeSet<String>,
}

/// Files by name on the target: their bytes, `None` where they could not
/// be read whole.
type Fetched = BTreeMap<RemoteName, Option<Vec<u8>>>;

fn fetch(reader: &mut dyn Reader, names: &[RemoteName]) -> RemoteResult<Fetched> {
    Ok(reader
        .read_many(names)?
        .into_iter()
        .map(|(n, f)| (n, f.bytes))
        .collect())
}

/// Read the root into a draft: the master files, the extension file each
/// names, `altigen.cfg` and the phones' logs.
pub fn import(reader: &mut dyn Reader, opts: &Options) -> RemoteResult<Imported> {
    let mut g = Gathered::default();
    let listing = Listing {
        names: reader
            .list()?
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name)
            .collect(),
    };
    report_refused_names(reader, &mut g.notes);
    let masters = read_masters(reader, &listing, &mut g)?;
    let numbers = extension_of_each(&masters, &listing, &mut g.notes);
    let altigen = listing.find(ALTIGEN_CFG).cloned();
    let mut to_read: Vec<RemoteName> = numbers.values().map(|(_, n)| n.clone()).collect();
    to_read.extend(altigen.iter().cloned());
    let fetched = fetch(reader, &to_read)?;
    let site_params = read_altigen(altigen.as_ref(), &fetched, &mut g);
    let ext_files = read_extensions(&numbers, &fetched, &mut g);
    let kept = phones_kept(&masters, &numbers, &ext_files, &mut g);

    let mut draft = Draft::new(&opts.site, &opts.target.url, opts.target.clone());
    let mut secrets = Secrets::default();
    map_files(
        &mut draft,
        &mut secrets,
        site_params.as_ref(),
        &ext_files,
        kept.len(),
        &mut g.notes,
    );
    let logs = read_logs(reader, &listing, &kept)?;
    for m in &kept {
        let (model, model_note) = phone_model(m.mac, &logs, opts.model, &mut g.notes);
        draft.phones.push(Phone {
            mac: m.mac,
            model,
            model_note,
            extension: numbers[&m.mac].0.clone(),
        });
    }
    shared_config_files(&kept, &listing, &mut draft, &mut g);
    for m in &kept {
        compare_config_files(m, &draft, &numbers[&m.mac].0, &mut g.notes);
    }
    notes_about_the_rest(&listing, &g.read, &kept, &draft, &mut g.notes);
    Ok(Imported {
        draft,
        secrets,
        notes: g.notes,
        originals: g.originals,
    })
}

/// The master files, one per MAC, in name order (the lower-case name
/// first), read and parsed.
fn read_masters(
    reader: &mut dyn Reader,
    listing: &Listing,
    g: &mut Gathered,
) -> RemoteResult<Vec<MasterFile>> {
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
            g.notes.unusable(
                name.as_str(),
                format!("another master file of phone {mac} is on the target, and the phone asks for {mac}.cfg: this one is not read"),
            );
            continue;
        }
        chosen.push((mac, name.clone()));
    }
    let names: Vec<RemoteName> = chosen.iter().map(|(_, n)| n.clone()).collect();
    let fetched = fetch(reader, &names)?;
    let mut masters = Vec::new();
    for (mac, name) in chosen {
        g.read.insert(name.to_string());
        let Some(bytes) = fetched.get(&name).cloned().flatten() else {
            g.notes.unusable(
                name.as_str(),
                "could not be read whole (gone, or over 1 MiB): the phone is not imported",
            );
            continue;
        };
        let app = match application(&bytes) {
            Ok(app) => app,
            Err(why) => {
                g.notes
                    .unusable(name.as_str(), format!("{why}: the phone is not imported"));
                continue;
            }
        };
        let raw_config_files = parameter_map(&bytes)
            .ok()
            .and_then(|p| p.values.get("CONFIG_FILES").cloned())
            .unwrap_or_default();
        if name.as_str() != format!("{mac}.cfg") {
            g.notes.add(
                name.as_str(),
                NoteKind::Changed,
                format!("the phone asks for {mac}.cfg (lower case), which apply creates; this file stays on the target as it is (remove it once apply is done)"),
            );
        }
        g.originals
            .insert(format!("{mac}.cfg"), (name.to_string(), bytes));
        masters.push(MasterFile {
            mac,
            name: name.to_string(),
            app,
            raw_config_files,
        });
    }
    Ok(masters)
}

/// The extension each phone's master file names, where the root has its
/// file: MAC → (number, the file's name on the target).
fn extension_of_each(
    masters: &[MasterFile],
    listing: &Listing,
    notes: &mut ImportNotes,
) -> BTreeMap<Mac, (String, RemoteName)> {
    let mut numbers = BTreeMap::new();
    for m in masters {
        let entry = m
            .app
            .config_files
            .iter()
            .find_map(|e| extension_entry(e).map(|n| (n, e.clone())));
        let Some((number, entry)) = entry else {
            notes.unusable(
                &m.name,
                "its CONFIG_FILES names no <number>.cfg: the phone is not imported",
            );
            continue;
        };
        match listing.find(&entry) {
            Some(found) => {
                numbers.insert(m.mac, (number, found.clone()));
            }
            None => notes.unusable(
                &m.name,
                format!("its CONFIG_FILES names {entry}, which is not on the target: the phone is not imported"),
            ),
        }
    }
    numbers
}

/// A fetched file's parameters, or a note on why there are none.
fn parse_fetched(
    name: &RemoteName,
    fetched: &Fetched,
    g: &mut Gathered,
) -> Option<(Vec<u8>, Parameters)> {
    g.read.insert(name.to_string());
    let Some(bytes) = fetched.get(name).cloned().flatten() else {
        g.notes.unusable(
            name.as_str(),
            "could not be read whole (gone, or over 1 MiB)",
        );
        return None;
    };
    match parameter_map(&bytes) {
        Ok(p) => Some((bytes, p)),
        Err(why) => {
            g.notes.unusable(name.as_str(), why.to_string());
            None
        }
    }
}

/// `altigen.cfg`'s name and parameters, when it is there and readable.
fn read_altigen(
    altigen: Option<&RemoteName>,
    fetched: &Fetched,
    g: &mut Gathered,
) -> Option<(String, Vec<(String, String)>)> {
    let Some(name) = altigen else {
        g.notes.add(
            ALTIGEN_CFG,
            NoteKind::Changed,
            "is not on the target: the site takes polyops's defaults and apply creates it",
        );
        return None;
    };
    match parse_fetched(name, fetched, g) {
        Some((bytes, p)) => {
            g.originals
                .insert(ALTIGEN_CFG.to_owned(), (name.to_string(), bytes));
            Some((name.to_string(), normalise(name.as_str(), &p, &mut g.notes)))
        }
        None => {
            if let Some(l) = g.notes.lines.last_mut() {
                l.text.push_str(": its settings are not imported; the site takes polyops's defaults (check time and dialplan)");
            }
            None
        }
    }
}

/// The extension files read, by number: only those polyops can carry (3
/// or 4 digits, all of one length).
fn read_extensions(
    numbers: &BTreeMap<Mac, (String, RemoteName)>,
    fetched: &Fetched,
    g: &mut Gathered,
) -> BTreeMap<String, ExtFile> {
    let wanted: BTreeMap<&String, &RemoteName> = numbers.values().map(|(n, f)| (n, f)).collect();
    let mut ext_files: BTreeMap<String, ExtFile> = BTreeMap::new();
    for (number, name) in wanted {
        if let Some((bytes, p)) = parse_fetched(name, fetched, g) {
            g.originals
                .insert(format!("{number}.cfg"), (name.to_string(), bytes));
            ext_files.insert(
                number.clone(),
                ExtFile {
                    name: name.to_string(),
                    params: normalise(name.as_str(), &p, &mut g.notes),
                },
            );
        } else if let Some(l) = g.notes.lines.last_mut() {
            l.text.push_str(&format!(
                ": extension {number} and the phones on it are not imported"
            ));
        }
    }
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
            g.notes.unusable(
                &f.name,
                format!("extension {number} {why}: it and the phones on it are not imported"),
            );
            g.originals.remove(&format!("{number}.cfg"));
        }
    }
    ext_files.retain(|n, _| fits(n));
    ext_files
}

/// The phones imported: those whose extension was, the first master in
/// name order keeping an extension.
fn phones_kept<'a>(
    masters: &'a [MasterFile],
    numbers: &BTreeMap<Mac, (String, RemoteName)>,
    ext_files: &BTreeMap<String, ExtFile>,
    g: &mut Gathered,
) -> Vec<&'a MasterFile> {
    let mut taken: BTreeMap<String, Mac> = BTreeMap::new();
    let mut kept: Vec<&MasterFile> = Vec::new();
    for m in masters {
        let number = match numbers.get(&m.mac) {
            Some((number, _)) if ext_files.contains_key(number) => number,
            _ => {
                g.originals.remove(&format!("{}.cfg", m.mac));
                continue;
            }
        };
        if let Some(first) = taken.get(number) {
            g.notes.unusable(
                &m.name,
                format!("extension {number} is already on phone {first} (the first master file in name order keeps it; MaxCS registers an extension from one SIP phone at a time): this phone is not imported"),
            );
            g.originals.remove(&format!("{}.cfg", m.mac));
            continue;
        }
        taken.insert(number.clone(), m.mac);
        kept.push(m);
    }
    kept
}

/// `altigen.cfg` and the extension files, in number order, onto the
/// draft; then what the extensions decide together.
fn map_files(
    draft: &mut Draft,
    secrets: &mut Secrets,
    site_params: Option<&(String, Vec<(String, String)>)>,
    ext_files: &BTreeMap<String, ExtFile>,
    phones: usize,
    notes: &mut ImportNotes,
) {
    let mut digitmap_raw: Option<String> = None;
    if let Some((file, params)) = site_params {
        map_site(file, params, draft, secrets, notes, &mut digitmap_raw);
    } else {
        draft.gmt_note = Some(format!(
            "{ALTIGEN_CFG} could not be read: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
        ));
    }
    let mut seen = Sightings::default();
    for (number, f) in ext_files {
        let ext = map_extension(number, f, &draft.site, secrets, notes, &mut seen);
        draft.extensions.push(ext);
    }
    choose_server(draft, &seen, phones, notes);
    choose_dialplan(
        draft,
        digitmap_raw.as_deref(),
        site_params.map(|(file, _)| file.as_str()),
        notes,
    );
}

/// The CONFIG_FILES entries besides the phone's own: kept as
/// `config_files` when every phone names the same shareable file on the
/// root, else left out.
fn shared_config_files(
    kept: &[&MasterFile],
    listing: &Listing,
    draft: &mut Draft,
    g: &mut Gathered,
) {
    let mut extra: Vec<(String, BTreeSet<Mac>)> = Vec::new();
    for m in kept {
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
                g.notes.not_understood.insert(entry.clone());
                g.notes.add(
                    &shown_name(entry),
                    NoteKind::LeftOut,
                    format!("CONFIG_FILES entry not imported: {why}"),
                );
            }
            None => {
                g.read.insert(entry.clone());
                g.notes.add(
                    entry,
                    NoteKind::Kept,
                    "CONFIG_FILES entry of every phone: kept in config_files; polyops names it and leaves the file as it is (unmanaged)",
                );
                draft.config_files.push(entry.clone());
            }
        }
    }
}

/// Log files by phone: (name, bytes).
type Logs = BTreeMap<Mac, Vec<(String, Vec<u8>)>>;

/// The boot and application logs of the kept phones, by MAC.
/// A name as a report line shows it: as it is when it can be a file's
/// name on the target, else quoted with its unprintable characters as
/// escapes (`"20\x0d2.cfg"`), so that it never reads as a real name.
fn shown_name(name: &str) -> String {
    match RemoteName::new(name) {
        Ok(_) => name.to_owned(),
        Err(_) => format!("\"{}\"", crate::printable::escaped(name)),
    }
}

/// A line for each name at the root that cannot be a file's name polyops
/// reads (a control character, a line break, a path separator, a
/// direction mark), or that is a symbolic link of a `dir:` root: the
/// listing leaves those out, and the report says so.
fn report_refused_names(reader: &dyn Reader, notes: &mut ImportNotes) {
    for name in reader.stats().refused_names {
        let shown = format!("\"{name}\"");
        notes.not_understood.insert(shown.clone());
        notes.add(
            &shown,
            NoteKind::LeftOut,
            "not read: polyops reads no name with a control character, a line break, a path separator or a direction mark, nor a symbolic link",
        );
    }
}

fn read_logs(
    reader: &mut dyn Reader,
    listing: &Listing,
    kept: &[&MasterFile],
) -> RemoteResult<Logs> {
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
    notes: &mut ImportNotes,
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
            notes.add(
                &format!("{mac}-boot.log"),
                NoteKind::Note,
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
            notes.add(
                &format!("{mac}.cfg"),
                NoteKind::FillIn,
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
fn compare_config_files(m: &MasterFile, draft: &Draft, number: &str, notes: &mut ImportNotes) {
    let mut ours = vec![format!("{number}.cfg"), ALTIGEN_CFG.to_owned()];
    ours.extend(draft.config_files.iter().cloned());
    ours.push("phone1.cfg".to_owned());
    ours.push("sip.cfg".to_owned());
    let theirs = &m.app.config_files;
    let param = ["CONFIG_FILES"];
    let typo = theirs.iter().find(|e| is_phonel(e));
    if let Some(t) = typo {
        notes.about(
            &m.name,
            NoteKind::Changed,
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
        notes.about(
            &m.name,
            NoteKind::Changed,
            &param,
            format!(
                "CONFIG_FILES becomes {:?} (was {:?})",
                ours.join(", "),
                theirs.join(", ")
            ),
        );
    } else if typo.is_none() && m.raw_config_files != ours.join(", ") {
        notes.about(
            &m.name,
            NoteKind::Note,
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
    kept: &[&MasterFile],
    draft: &Draft,
    notes: &mut ImportNotes,
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
            notes.add(
                n,
                NoteKind::Note,
                "the firmware's default master file, for phones without one of their own: left as it is",
            );
        } else if let Some(m) = kept.iter().find(|m| {
            [format!("{}-phone.cfg", m.mac), format!("{}-web.cfg", m.mac)].contains(&lower)
        }) {
            notes.add(
                n,
                NoteKind::Note,
                format!("settings phone {} keeps for itself (changed on the handset or its web page): they override the site file, and polyops never touches them; drift names the declared ones they shadow", m.mac),
            );
        } else if !PACKAGE.contains(&lower.as_str())
            && !is_phone_written(n)
            && master_mac(n).is_none()
        {
            notes.not_understood.insert(n.to_owned());
            notes.add(
                n,
                NoteKind::Note,
                "not read: no imported phone names it; it stays on the target as it is (unmanaged)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
