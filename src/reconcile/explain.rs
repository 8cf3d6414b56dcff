//! `explain`: the files one phone loads, where each would come from
//! (rendered by polyops, or read from the target), and the parameters the
//! phone runs once they are merged (`polycom::effective`). It only reads:
//! it gets a `Reader`, which has no method that writes.
//!
//! Everything read from the target is untrusted (every phone's account can
//! write there): no read is larger than polyops's caps, and every name and
//! value reaches the [`Explanation`] masked, printable and cut to a bounded
//! length, so an output can print it as it is.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::mask::{printable, visible, Masker};
use crate::polycom::effective::{self, Effective};
use crate::polycom::reader::{application, parameter_map, Application, Parameters};
use crate::reconcile::plan::OVERRIDE_SUFFIXES;
use crate::reconcile::state::{State, STATE_FILE};
use crate::remote::{
    Cause, Fetched, Reader, RemoteError, RemoteName, RemoteResult, KEEP_BYTES, MAX_STATE_BYTES,
};
use crate::render::Rendered;
use crate::site::model::{Phone, Site};
use crate::site::secret::MASK;

/// Version of the JSON shape of an explanation; bumped only with an
/// incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The most characters of a value an explanation shows: Polycom values are
/// at most a few thousand characters (a long digit map), so a longer one
/// came from someone who wants to flood a terminal.
pub const MAX_VALUE_CHARS: usize = 4096;

/// The master file a phone falls back to when the target has no
/// `<mac>.cfg` (the firmware package's default).
pub const DEFAULT_MASTER: &str = "000000000000.cfg";

/// Where a file the phone loads comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Rendered by polyops: the bytes apply uploads.
    Rendered,
    /// Read from the target (a file polyops does not render, or any file
    /// with `--observed`).
    Target,
    /// Neither: the phone does not get it.
    Missing,
}

impl Source {
    pub fn word(self) -> &'static str {
        match self {
            Source::Rendered => "rendered",
            Source::Target => "target",
            Source::Missing => "missing",
        }
    }
}

/// Why the phone loads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The phone's own settings (`<mac>-phone.cfg`, `<mac>-web.cfg`):
    /// before every other file.
    Override,
    /// Named in CONFIG_FILES.
    Config,
}

/// One file of the phone, in the order it counts (leftmost wins).
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub role: Role,
    pub source: Source,
    /// How many parameters it sets (each name once).
    pub parameters: usize,
    /// Why it gives no parameters though it is there, or why it is missing
    /// when that is not plain absence.
    pub error: Option<String>,
}

/// The phone's master file, which names its CONFIG_FILES.
#[derive(Debug, Clone, Serialize)]
pub struct MasterFile {
    pub name: String,
    pub source: Source,
    pub config_files: Vec<String>,
    pub error: Option<String>,
}

/// One parameter as the phone runs it: masked, printable, bounded.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    pub value: String,
    pub file: String,
    pub shadows: Vec<String>,
}

/// A `--param` name no file sets, with what the catalog of SIP 3.2.7 says
/// of it.
#[derive(Debug, Clone, Serialize)]
pub struct Unset {
    pub name: String,
    /// Whether the catalog knows the name (indices aside).
    pub known: bool,
    /// The release files' default for this exact name (`null`: they give
    /// none, or the name is not in the catalog as written).
    pub release_default: Option<String>,
    /// The nearest known name, for a name the catalog does not know.
    pub did_you_mean: Option<String>,
}

/// What `explain` prints, in every format (docs/explain.md documents its JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub format_version: u32,
    pub site: String,
    pub site_file: String,
    pub target: String,
    pub phone: String,
    pub model: String,
    pub extension: String,
    /// `true`: as the target is now; `false`: after apply.
    pub observed: bool,
    pub master: MasterFile,
    pub files: Vec<FileEntry>,
    /// Sorted by name; only those `--param` asked for, when it was given.
    pub parameters: Vec<Parameter>,
    /// `--param` names that no file sets (the firmware's default applies).
    pub unset: Vec<Unset>,
    pub warnings: Vec<String>,
}

/// What to explain.
pub struct Request<'a> {
    pub site: &'a Site,
    pub phone: &'a Phone,
    /// The site's rendered files (what apply uploads).
    pub desired: &'a Rendered,
    /// As the target is now, rather than after apply.
    pub observed: bool,
    /// Only these parameters (ASCII case ignored); empty: all.
    pub params: &'a [String],
    pub masker: &'a Masker,
}

fn name(n: &str) -> RemoteResult<RemoteName> {
    RemoteName::new(n)
        .map_err(|why| RemoteError::new(Cause::Refused, format!("cannot use the name {n}: {why}")))
}

/// The bytes of a file the phone loads, or why there are none to read.
enum Loaded {
    Bytes(Source, Vec<u8>),
    Missing(Option<String>),
    /// On the target, but over [`KEEP_BYTES`]: its size.
    TooLarge(u64),
}

/// Explain one phone of a site. `Err` only when the target fails; a file
/// that is missing or does not parse is a warning, and the explanation
/// goes on without it.
pub fn explain(req: &Request, target: &mut dyn Reader) -> RemoteResult<Explanation> {
    let mac = req.phone.mac.as_str();
    let mut warnings = Vec::new();
    let listing: BTreeSet<RemoteName> = target
        .list()?
        .into_iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name)
        .collect();
    if let Some(reply) = target.stats().listing_cut {
        warnings.push(format!(
            "the target cut its listing short ({reply}): an override file under an upper-case name past the cut is not seen"
        ));
    }
    let deleted = if req.observed {
        BTreeSet::new()
    } else {
        deleted_by_apply(req, target, &mut warnings)?
    };
    let (master, config_files) = master(req, target, &listing, &mut warnings)?;
    let mut loads = phone_files(req, &listing, &config_files, &deleted, &mut warnings)?;
    read_from_target(&mut loads, target, &mut warnings)?;
    let (files, parsed) = parse(loads, req.masker, &mut warnings);
    let effective = effective::resolve(&parsed);
    let wanted_name =
        |n: &str| req.params.is_empty() || req.params.iter().any(|p| p.eq_ignore_ascii_case(n));
    for group in effective::case_clashes(&effective) {
        if group.iter().any(|n| wanted_name(n)) {
            let shown: Vec<String> = group.iter().map(|n| req.masker.clean(n)).collect();
            warnings.push(format!(
                "{} differ only in case: explain keeps them apart, as polyops compares names exactly",
                shown.join(" and ")
            ));
        }
    }
    let mut unset = Vec::new();
    for p in req.params {
        let set = effective.iter().any(|e| e.name.eq_ignore_ascii_case(p));
        if !set && !unset.iter().any(|u: &Unset| u.name.eq_ignore_ascii_case(p)) {
            let catalog = crate::polycom::catalog::catalog();
            let known = catalog.knows(p);
            unset.push(Unset {
                name: req.masker.clean(p),
                known,
                release_default: catalog
                    .get(p)
                    .and_then(|e| e.default)
                    .map(|d| req.masker.clean(d)),
                did_you_mean: (!known).then(|| catalog.nearest(p)).flatten(),
            });
        }
    }
    let parameters = effective
        .into_iter()
        .filter(|e| wanted_name(&e.name))
        .map(|e| shown(e, req.masker))
        .collect();

    Ok(Explanation {
        format_version: FORMAT_VERSION,
        site: req.site.name.clone(),
        site_file: req.site.file.clone(),
        target: req.site.target.display.clone(),
        phone: mac.to_owned(),
        model: format!("{:?}", req.phone.model),
        extension: req.phone.extension.clone(),
        observed: req.observed,
        master,
        files,
        parameters,
        unset,
        warnings: warnings.iter().map(|w| req.masker.clean(w)).collect(),
    })
}

/// How many other spellings of an override file's name are read: a phone
/// writes one, a hostile target may list thousands.
const MAX_SPELLINGS: usize = 3;

/// A file the phone loads, and what has to be read for it.
struct PhoneFile {
    name: String,
    role: Role,
    /// Names on the target that may hold it, preferred first.
    candidates: Vec<RemoteName>,
    /// Known without reading the target (rendered, or not to be read).
    loaded: Option<Loaded>,
}

/// The files the phone loads, in order: its override files, then each
/// CONFIG_FILES entry once.
fn phone_files(
    req: &Request,
    listing: &BTreeSet<RemoteName>,
    config_files: &[String],
    deleted: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> RemoteResult<Vec<PhoneFile>> {
    let mut phone_files = Vec::new();
    for suffix in OVERRIDE_SUFFIXES {
        let lower = format!("{}{suffix}", req.phone.mac);
        // The phone writes this file itself, under the name it chooses;
        // on a server that minds case, an upper-case MAC is another file.
        let mut candidates = vec![name(&lower)?];
        candidates.extend(
            listing
                .iter()
                .filter(|n| n.as_str().eq_ignore_ascii_case(&lower) && n.as_str() != lower)
                .take(MAX_SPELLINGS)
                .cloned(),
        );
        phone_files.push(PhoneFile {
            name: lower,
            role: Role::Override,
            candidates,
            loaded: None,
        });
    }
    let mut seen = BTreeSet::new();
    for file in config_files {
        if !seen.insert(file.clone()) {
            warnings.push(format!(
                "CONFIG_FILES names {file} more than once: only its first place counts"
            ));
            continue;
        }
        let (candidates, loaded) = match RemoteName::new(file) {
            Err(why) => (
                Vec::new(),
                Some(Loaded::Missing(Some(format!(
                    "not a file at the target root ({why}): not read"
                )))),
            ),
            Ok(n) if req.observed => (vec![n], None),
            Ok(n) => match req.desired.get(file) {
                Some(bytes) => (
                    Vec::new(),
                    Some(Loaded::Bytes(Source::Rendered, bytes.clone())),
                ),
                None if deleted.contains(file) => (
                    Vec::new(),
                    Some(Loaded::Missing(Some(
                        "apply deletes it (polyops wrote it and the site no longer declares it)"
                            .to_owned(),
                    ))),
                ),
                None => (vec![n], None),
            },
        };
        phone_files.push(PhoneFile {
            name: file.clone(),
            role: Role::Config,
            candidates,
            loaded,
        });
    }
    Ok(phone_files)
}

/// Read, in one go, every phone file that comes from the target; each takes
/// the first of its candidates that is there.
fn read_from_target(
    phone_files: &mut [PhoneFile],
    target: &mut dyn Reader,
    warnings: &mut Vec<String>,
) -> RemoteResult<()> {
    let wanted: Vec<RemoteName> = phone_files
        .iter()
        .filter(|s| s.loaded.is_none())
        .flat_map(|s| s.candidates.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let fetched: BTreeMap<RemoteName, Fetched> = target.read_many(&wanted)?.into_iter().collect();
    for file in phone_files.iter_mut().filter(|s| s.loaded.is_none()) {
        let present: Vec<&RemoteName> = file
            .candidates
            .iter()
            .filter(|n| fetched.contains_key(*n))
            .collect();
        if present.len() > 1 {
            let names: Vec<&str> = present.iter().map(|n| n.as_str()).collect();
            warnings.push(format!(
                "the target holds {}: the phone reads one of them, explain shows {}",
                names.join(" and "),
                names[0]
            ));
        }
        file.loaded = Some(
            match present
                .first()
                .and_then(|n| fetched.get(*n).map(|f| (n, f)))
            {
                None => Loaded::Missing(None),
                Some((n, f)) => {
                    file.name = n.as_str().to_owned();
                    match &f.bytes {
                        Some(b) => Loaded::Bytes(Source::Target, b.clone()),
                        None => Loaded::TooLarge(f.size),
                    }
                }
            },
        );
    }
    Ok(())
}

/// Each phone file as a file entry (its name printable and masked), and the
/// parameters of those that parse, in order, for `effective::resolve`.
fn parse(
    phone_files: Vec<PhoneFile>,
    masker: &Masker,
    warnings: &mut Vec<String>,
) -> (Vec<FileEntry>, Vec<(String, Parameters)>) {
    let mut files = Vec::new();
    let mut parsed = Vec::new();
    for file in phone_files {
        let shown = masker.clean(&file.name);
        let (source, count, error) = match file.loaded.unwrap_or(Loaded::Missing(None)) {
            Loaded::Bytes(source, bytes) => match parameter_map(&bytes) {
                Ok(p) => {
                    let count = p.values.len();
                    parsed.push((shown.clone(), p));
                    (source, count, None)
                }
                Err(e) => {
                    warnings.push(format!(
                        "{shown} does not parse ({e}): explain takes none of its parameters"
                    ));
                    (source, 0, Some(format!("does not parse: {e}")))
                }
            },
            Loaded::TooLarge(size) => {
                let why = format!(
                    "{size} bytes, more than the {} MiB polyops reads: not read",
                    KEEP_BYTES / (1024 * 1024)
                );
                warnings.push(format!("{shown} is {why}"));
                (Source::Target, 0, Some(why))
            }
            Loaded::Missing(why) => {
                // No override file is the usual case: the handset and its
                // web page changed nothing.
                if file.role == Role::Config {
                    warnings.push(match &why {
                        Some(why) => format!("{shown}: {why}; the phone does not get it"),
                        None => format!("{shown} is not on the target: the phone does not get it"),
                    });
                }
                (Source::Missing, 0, why)
            }
        };
        files.push(FileEntry {
            name: shown,
            role: file.role,
            source,
            parameters: count,
            error,
        });
    }
    (files, parsed)
}

/// The master file the phone reads and the CONFIG_FILES it names: after
/// apply the rendered `<mac>.cfg`; as observed, the target's, or the
/// default master file the phone falls back to without one.
fn master(
    req: &Request,
    target: &mut dyn Reader,
    listing: &BTreeSet<RemoteName>,
    warnings: &mut Vec<String>,
) -> RemoteResult<(MasterFile, Vec<String>)> {
    let own = format!("{}.cfg", req.phone.mac);
    let (used, loaded) = if req.observed {
        let mut read: BTreeMap<String, Fetched> = target
            .read_many(&[name(&own)?, name(DEFAULT_MASTER)?])?
            .into_iter()
            .map(|(n, f)| (n.as_str().to_owned(), f))
            .collect();
        for n in listing
            .iter()
            .filter(|n| n.as_str().eq_ignore_ascii_case(&own) && n.as_str() != own)
        {
            warnings.push(format!(
                "{} is on the target, but the phone asks for {own}",
                req.masker.clean(n.as_str())
            ));
        }
        let loaded = |f: Fetched| match f.bytes {
            Some(b) => Loaded::Bytes(Source::Target, b),
            None => Loaded::TooLarge(f.size),
        };
        match (read.remove(&own), read.remove(DEFAULT_MASTER)) {
            (Some(f), _) => (own.clone(), loaded(f)),
            (None, Some(f)) => {
                warnings.push(format!(
                    "{own} is not on the target: the phone falls back to {DEFAULT_MASTER}"
                ));
                (DEFAULT_MASTER.to_owned(), loaded(f))
            }
            (None, None) => {
                warnings.push(format!(
                    "{own} is not on the target (nor {DEFAULT_MASTER}): the phone has no CONFIG_FILES; only its override files are shown"
                ));
                (own.clone(), Loaded::Missing(None))
            }
        }
    } else {
        // Always rendered for a declared phone.
        let loaded = match req.desired.get(&own) {
            Some(b) => Loaded::Bytes(Source::Rendered, b.clone()),
            None => Loaded::Missing(None),
        };
        (own.clone(), loaded)
    };
    let (source, parsed) = match loaded {
        Loaded::Bytes(source, b) => (source, application(&b).map_err(|e| e.to_string())),
        Loaded::TooLarge(size) => (
            Source::Target,
            Err(format!(
                "{size} bytes, more than the {} MiB polyops reads",
                KEEP_BYTES / (1024 * 1024)
            )),
        ),
        Loaded::Missing(_) => (
            Source::Missing,
            Ok(Application {
                app_file_path: None,
                config_files: Vec::new(),
            }),
        ),
    };
    let mut master = MasterFile {
        name: used,
        source,
        config_files: Vec::new(),
        error: None,
    };
    match parsed {
        Ok(app) => {
            master.config_files = app
                .config_files
                .iter()
                .map(|f| req.masker.clean(f))
                .collect();
            Ok((master, app.config_files))
        }
        Err(e) => {
            warnings.push(format!(
                "{}: {e}: the phone gets no CONFIG_FILES from it",
                master.name
            ));
            master.error = Some(e);
            Ok((master, Vec::new()))
        }
    }
}

/// Files apply deletes: owned by polyops (its state file's valid claims)
/// and no longer rendered. After apply the phone does not find them.
fn deleted_by_apply(
    req: &Request,
    target: &mut dyn Reader,
    warnings: &mut Vec<String>,
) -> RemoteResult<BTreeSet<String>> {
    let raw = match target.read(&name(STATE_FILE)?, MAX_STATE_BYTES) {
        Ok(b) => b,
        Err(e) if e.cause == Cause::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(e),
    };
    let state = match State::parse(&raw) {
        Ok(s) => s,
        Err(e) => {
            warnings.push(format!(
                "{e}: explain takes it that apply deletes nothing (apply itself refuses such a state)"
            ));
            return Ok(BTreeSet::new());
        }
    };
    let declared: BTreeSet<String> = req.desired.keys().cloned().collect();
    Ok(state
        .claims(&declared)
        .owned
        .into_keys()
        .map(|n| n.as_str().to_owned())
        .filter(|n| !declared.contains(n))
        .collect())
}

/// An effective parameter as an explanation shows it: its name and file
/// names printable and masked; its value `********` when it is a password
/// (by name, whatever the value, even empty) or holds a declared secret,
/// else printable on one line and bounded.
fn shown(e: Effective, masker: &Masker) -> Parameter {
    let secret = e.name.to_ascii_lowercase().contains("password")
        || masker.holds_secret(&e.value)
        || masker.holds_secret(&printable(&e.value));
    let value = if secret {
        MASK.to_owned()
    } else {
        one_line(&e.value)
    };
    Parameter {
        name: masker.clean(&e.name),
        value,
        file: masker.clean(&e.file),
        shadows: e.shadows.iter().map(|f| masker.clean(f)).collect(),
    }
}

/// A value on one line: every unprintable character an escape (`\n`,
/// `\x1b`), cut to [`MAX_VALUE_CHARS`] with its full length said.
fn one_line(value: &str) -> String {
    let count = value.chars().count();
    let kept: String = value.chars().take(MAX_VALUE_CHARS).collect();
    let mut out = visible(&kept)
        .replace('\r', "\\r")
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    if count > MAX_VALUE_CHARS {
        out.push_str(&format!("… ({count} characters)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::dir::DirRemote;

    const SITE: &str = "site: hq\ntarget: {url: \"dir:unused\"}\nserver: {address: 10.0.0.1}\ntime: {zone: pacific}\nextensions:\n  - {number: \"201\", password: pw}\nphones:\n  - {mac: 0004f2000607, model: IP650, extension: \"201\"}\n";

    fn site() -> Site {
        let (file, positions) =
            crate::site::parse::parse_site("sites/hq.yaml", SITE).expect("the test site parses");
        crate::site::rules::check_site("sites/hq.yaml", &file, &positions)
            .0
            .expect("the test site is valid")
    }

    /// A target folder holding `files`, and an explanation of the site's
    /// phone against it with these rendered files.
    fn explained(desired: &[(&str, &str)], files: &[(&str, &str)], observed: bool) -> Explanation {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("a target file");
        }
        let site = site();
        let desired: Rendered = desired
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.as_bytes().to_vec()))
            .collect();
        let masker = Masker::new(["pw".to_owned()]);
        let request = Request {
            site: &site,
            phone: &site.phones[0],
            desired: &desired,
            observed,
            params: &[],
            masker: &masker,
        };
        explain(&request, &mut DirRemote::new(dir.path().to_owned())).expect("explained")
    }

    fn sources(e: &Explanation) -> Vec<(&str, Source, Option<&str>)> {
        e.files
            .iter()
            .map(|f| (f.name.as_str(), f.source, f.error.as_deref()))
            .collect()
    }

    #[test]
    fn a_file_apply_deletes_is_missing_after_apply_and_there_as_observed() {
        let master = r#"<APPLICATION CONFIG_FILES="201.cfg, 203.cfg, 201.cfg, sip.cfg"/>"#;
        let state = r#"{"version": 1, "site": "hq", "files": {"203.cfg": null, "201.cfg": null}}"#;
        let on_target = [
            (".polyops-state.json", state),
            ("0004f2000607.cfg", master),
            ("201.cfg", r#"<r reg.1.label="old"/>"#),
            ("203.cfg", r#"<r reg.1.label="gone" x.y="1"/>"#),
            ("sip.cfg", r#"<s x.y="2" a.b=""/>"#),
        ];
        let desired = [
            ("0004f2000607.cfg", master),
            ("201.cfg", r#"<r reg.1.label="201"/>"#),
        ];
        let after = explained(&desired, &on_target, false);
        assert_eq!(
            sources(&after)[2..],
            [
                ("201.cfg", Source::Rendered, None),
                (
                    "203.cfg",
                    Source::Missing,
                    Some("apply deletes it (polyops wrote it and the site no longer declares it)")
                ),
                ("sip.cfg", Source::Target, None),
            ]
        );
        assert!(
            after
                .warnings
                .iter()
                .any(|w| w.contains("names 201.cfg more than once")),
            "{:?}",
            after.warnings
        );
        let x = after
            .parameters
            .iter()
            .find(|p| p.name == "x.y")
            .expect("x.y");
        assert_eq!((x.value.as_str(), x.file.as_str()), ("2", "sip.cfg"));

        let now = explained(&desired, &on_target, true);
        assert_eq!(now.master.source, Source::Target);
        assert_eq!(
            sources(&now)[2..],
            [
                ("201.cfg", Source::Target, None),
                ("203.cfg", Source::Target, None),
                ("sip.cfg", Source::Target, None),
            ]
        );
        let label = now
            .parameters
            .iter()
            .find(|p| p.name == "reg.1.label")
            .expect("label");
        assert_eq!(
            (label.value.as_str(), label.shadows.clone()),
            ("old", vec!["203.cfg".to_owned()])
        );
    }

    #[test]
    fn a_file_named_twice_is_read_once_and_counted_in_its_first_place() {
        let master = r#"<APPLICATION CONFIG_FILES="0004f2000607-phone.cfg, sip.cfg"/>"#;
        let e = explained(
            &[("0004f2000607.cfg", master)],
            &[
                ("0004f2000607-phone.cfg", r#"<o a.b="1"/>"#),
                ("sip.cfg", r#"<s a.b="2"/>"#),
            ],
            false,
        );
        assert_eq!(
            sources(&e),
            [
                ("0004f2000607-phone.cfg", Source::Target, None),
                ("0004f2000607-web.cfg", Source::Missing, None),
                ("0004f2000607-phone.cfg", Source::Target, None),
                ("sip.cfg", Source::Target, None),
            ]
        );
        assert_eq!(e.parameters[0].file, "0004f2000607-phone.cfg");
        assert_eq!(e.parameters[0].shadows, ["sip.cfg"]);
    }

    #[test]
    fn a_config_files_entry_that_is_no_root_file_name_is_not_read() {
        let master = r#"<APPLICATION CONFIG_FILES="../etc/passwd, sub/x.cfg, sip.cfg"/>"#;
        let e = explained(
            &[("0004f2000607.cfg", master)],
            &[("sip.cfg", r#"<s a.b="1"/>"#)],
            false,
        );
        let s = sources(&e);
        assert_eq!(s[2].1, Source::Missing);
        assert!(
            s[2].2
                .is_some_and(|why| why.starts_with("not a file at the target root")),
            "{s:?}"
        );
        assert_eq!(s[3].1, Source::Missing);
        assert_eq!(s[4], ("sip.cfg", Source::Target, None));
    }

    fn effective(name: &str, value: &str) -> Effective {
        Effective {
            name: name.to_owned(),
            value: value.to_owned(),
            file: "x.cfg".to_owned(),
            shadows: Vec::new(),
        }
    }

    #[test]
    fn a_password_shows_masked_whatever_its_value_and_a_secret_anywhere() {
        let m = Masker::new(["1212".to_owned()]);
        for (name, value) in [
            ("reg.1.auth.password", "unknown-to-us"),
            ("device.auth.localAdminPassword", ""),
            ("reg.1.label", "x1212y"),
            ("reg.1.label", "12\x1b12"),
        ] {
            assert_eq!(shown(effective(name, value), &m).value, MASK, "{name}");
        }
        assert_eq!(shown(effective("reg.1.label", "201"), &m).value, "201");
        assert_eq!(shown(effective("dialplan.digitmap", ""), &m).value, "");
    }

    #[test]
    fn a_value_from_the_target_reaches_no_terminal_raw() {
        let m = Masker::default();
        let v = shown(effective("a.b", "x\x1b[2J\r\ny\u{202e}\tz"), &m).value;
        assert_eq!(v, "x\\x1b[2J\\r\\ny\\u{202e}\\tz");
        let long = shown(effective("a.b", &"x".repeat(MAX_VALUE_CHARS + 10)), &m).value;
        assert!(
            long.ends_with(&format!("x… ({} characters)", MAX_VALUE_CHARS + 10)),
            "{long}"
        );
        assert_eq!(long.chars().filter(|&c| c == 'x').count(), MAX_VALUE_CHARS);
    }
}
