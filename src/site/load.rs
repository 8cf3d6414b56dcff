//! Site files → checked sites: read, parse with positions, validate against the
//! JSON Schema, deserialise, then apply the rules of docs/site-file.md per site and
//! across all sites. All findings of a run are collected, none stops the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use crate::site::defaults::{self, Defaults};
use crate::site::diagnostic::Diagnostic;
use crate::site::file::SiteFile;
use crate::site::model::Site;
use crate::site::repair::Repairs;
use crate::site::rules::{self, Loaded};
use crate::site::schema;
use crate::site::source::{self, join_index, join_key, Pos, Positions};

/// Every site file found, checked; `selected` marks the ones the command
/// was asked about (the others are loaded for the cross-site rules).
pub struct Catalog {
    pub sites: Vec<Loaded>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Catalog {
    pub fn selected(&self) -> impl Iterator<Item = &Site> {
        self.sites.iter().filter(|l| l.selected).map(|l| &l.site)
    }
}

/// Which of the named sites a run takes (docs/many-sites.md): only those whose files
/// changed since a git reference, then every N-th of them in site-name
/// order. The others are still loaded for the rules across sites.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub changed: Option<BTreeSet<PathBuf>>,
    pub shard: Option<Shard>,
}

/// A `--shard` that is not `K/N` with 1 <= K <= N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not K/N with 1 <= K <= N (e.g. 2/4)")]
pub struct ShardError(String);

/// `--shard K/N`: the K-th of N slices, K from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub total: usize,
}

impl Shard {
    /// Parse `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError(text.to_owned());
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, total): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > total {
            return Err(bad());
        }
        Ok(Shard { index, total })
    }

    /// Whether the `position`-th (from 0) of the sorted sites is in this shard.
    pub fn takes(self, position: usize) -> bool {
        position % self.total == self.index - 1
    }
}

/// A path as compared with git's list of changed files: absolute, and
/// canonical where it exists.
pub fn comparable(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_owned())
    })
}

/// The files a site is made of: its site file, the defaults, and every file
/// it publishes as it is.
fn files_of(path: &Path, sites_dir: &Path, sf: Option<&SiteFile>) -> Vec<PathBuf> {
    let mut out = vec![path.to_owned(), sites_dir.join(defaults::DEFAULTS_FILE)];
    if let Some(sf) = sf {
        out.extend(
            sf.firmware
                .files
                .iter()
                .chain(&sf.files)
                .map(|f| PathBuf::from(&f.path)),
        );
    }
    out
}

/// Narrow the selected site files to `selection`.
fn narrow(
    files: &mut BTreeMap<PathBuf, bool>,
    parsed: &[(PathBuf, Option<(SiteFile, Positions)>)],
    sites_dir: &Path,
    selection: &Selection,
) {
    let site_file = |path: &PathBuf| {
        parsed
            .iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, sf)| sf.as_ref().map(|(f, _)| f))
    };
    if let Some(changed) = &selection.changed {
        for (path, selected) in files.iter_mut() {
            if *selected {
                *selected = files_of(path, sites_dir, site_file(path))
                    .iter()
                    .any(|f| changed.contains(&comparable(f)));
            }
        }
    }
    if let Some(shard) = selection.shard {
        let mut chosen: Vec<(String, PathBuf)> = files
            .iter()
            .filter(|(_, selected)| **selected)
            .map(|(path, _)| {
                let name = site_file(path).map(|f| f.site.clone()).unwrap_or_else(|| {
                    path.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                (name, path.clone())
            })
            .collect();
        chosen.sort();
        for (position, (_, path)) in chosen.iter().enumerate() {
            if !shard.takes(position) {
                files.insert(path.clone(), false);
            }
        }
    }
}

/// Why no site could be loaded at all (what is wrong inside one site file
/// is a [`Diagnostic`] instead).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no sites: {} is not a folder (use --sites DIR or name site files)", dir.display())]
    NotAFolder { dir: PathBuf },
    /// `unread`: the first file of the folder that was not read, and why.
    #[error("no site files (*.yaml) in {}{}", dir.display(), unread.as_ref().map(|d| format!(" ({}: {})", d.file, d.message)).unwrap_or_default())]
    NoSiteFiles {
        dir: PathBuf,
        unread: Option<Diagnostic>,
    },
    #[error("site file {name} does not exist")]
    NoSuchFile { name: String },
    /// `near`: the nearest site name there is.
    #[error("no site named {name} in {}{}", dir.display(), near.as_ref().map(|n| format!("; did you mean {n}?")).unwrap_or_default())]
    NoSuchSite {
        name: String,
        dir: PathBuf,
        near: Option<String>,
    },
    #[error("error reading {}: {source}", dir.display())]
    ReadFolder {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Load the sites a command names. `names` are site names or paths of site
/// files; none means every site under `sites_dir`.
pub fn load(sites_dir: &Path, names: &[String]) -> Result<Catalog, LoadError> {
    load_selected(sites_dir, names, &Selection::default())
}

/// [`load`], narrowed to `selection`.
pub fn load_selected(
    sites_dir: &Path,
    names: &[String],
    selection: &Selection,
) -> Result<Catalog, LoadError> {
    let mut files: BTreeMap<PathBuf, bool> = BTreeMap::new();
    let mut unread = Vec::new();
    if sites_dir.is_dir() {
        for path in site_files_in(sites_dir, &mut unread)? {
            files.insert(path, names.is_empty());
        }
    } else if names.is_empty() {
        return Err(LoadError::NotAFolder {
            dir: sites_dir.to_owned(),
        });
    }
    if names.is_empty() && files.is_empty() {
        return Err(LoadError::NoSiteFiles {
            dir: sites_dir.to_owned(),
            unread: unread.into_iter().next(),
        });
    }

    let defaults = match defaults::read(sites_dir) {
        Ok(d) => d,
        // No site can be checked against broken defaults: their errors
        // are the whole report.
        Err(diagnostics) => {
            return Ok(Catalog {
                sites: Vec::new(),
                diagnostics,
            })
        }
    };
    let mut diagnostics = Vec::new();
    let mut parsed: Vec<(PathBuf, Option<(SiteFile, Positions)>)> = Vec::new();
    // Explicit paths first, so a name can be matched against parsed site names.
    let mut wanted_names = Vec::new();
    for name in names {
        let as_path = PathBuf::from(name);
        if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/') {
            if !as_path.is_file() {
                return Err(LoadError::NoSuchFile { name: name.clone() });
            }
            let key = files
                .keys()
                .find(|k| same_file(k, &as_path))
                .cloned()
                .unwrap_or(as_path);
            files.insert(key, true);
        } else {
            wanted_names.push(name.clone());
        }
    }
    for (path, _) in files.iter() {
        match read_site(path, defaults.as_ref()) {
            Ok(ok) => parsed.push((path.clone(), Some(ok))),
            Err(d) => {
                parsed.push((path.clone(), None));
                diagnostics.push((path.clone(), d));
            }
        }
    }
    // Resolve names: a file named <name>.yaml, or a file whose `site:` is name.
    for name in &wanted_names {
        let hit = parsed.iter().find(|(p, sf)| {
            sf.as_ref().is_some_and(|(f, _)| &f.site == name)
                || p.file_stem().is_some_and(|s| s == name.as_str())
        });
        match hit {
            Some((p, _)) => {
                files.insert(p.clone(), true);
            }
            None => {
                return Err(LoadError::NoSuchSite {
                    name: name.clone(),
                    dir: sites_dir.to_owned(),
                    near: nearest_site(name, &parsed),
                })
            }
        }
    }

    narrow(&mut files, &parsed, sites_dir, selection);

    let mut catalog = Catalog {
        sites: Vec::new(),
        diagnostics: Vec::new(),
    };
    // About the folder, not a site: only when the whole folder was asked for.
    if names.is_empty() {
        catalog.diagnostics.extend(unread);
    }
    for (path, diags) in diagnostics {
        if files.get(&path).copied().unwrap_or(false) {
            catalog.diagnostics.extend(diags);
        }
    }
    for (path, sf) in parsed {
        let Some((file, positions)) = sf else {
            continue;
        };
        let selected = files.get(&path).copied().unwrap_or(false);
        let (site, diags) = rules::check_site(&display(&path), &file, &positions);
        if selected {
            catalog.diagnostics.extend(diags);
        }
        if let Some(site) = site {
            catalog.sites.push(Loaded {
                site,
                positions,
                selected,
            });
        }
    }
    catalog
        .diagnostics
        .extend(rules::check_across(&catalog.sites));
    Ok(catalog)
}

/// The site name nearest to `name`: of the names site files give
/// (`site:`) or, for a file that could not be read, its file name.
fn nearest_site(name: &str, parsed: &[(PathBuf, Option<(SiteFile, Positions)>)]) -> Option<String> {
    let names: Vec<String> = parsed
        .iter()
        .filter_map(|(path, sf)| match sf {
            Some((f, _)) => Some(f.site.clone()),
            None => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        })
        .collect();
    crate::nearest::nearest(name, names.iter().map(String::as_str)).map(str::to_owned)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The site files directly in `dir`. What looks like a site file but is
/// not read adds a warning to `unread` rather than vanishing: a folder
/// named `*.yaml`, a site file in a subfolder (at any depth; symbolic links
/// to folders are not followed). Names starting with `_` or `.` give none:
/// `_` marks what is not a site (docs/many-sites.md: `_defaults.yaml`, an `_archive/`
/// folder), `.` what is hidden (`.git/`).
fn site_files_in(dir: &Path, unread: &mut Vec<Diagnostic>) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for (path, is_real_dir) in entries(dir)? {
        if is_quiet(&path) {
            continue;
        }
        if is_yaml(&path) && path.is_file() {
            out.push(path);
            continue;
        }
        if is_yaml(&path) {
            let what = if path.is_dir() {
                "a folder, not a site file; it is not read"
            } else {
                "not a regular file; it is not read"
            };
            unread.push(Diagnostic::warning(&display(&path), Pos::NONE, "", what));
        }
        if is_real_dir {
            in_subfolder(&path, &display(dir), unread);
        }
    }
    out.sort();
    Ok(out)
}

/// Warn about every site file under `folder`, a subfolder of the sites
/// folder `top`.
fn in_subfolder(folder: &Path, top: &str, unread: &mut Vec<Diagnostic>) {
    let top = top.trim_end_matches('/');
    let found = match entries(folder) {
        Ok(found) => found,
        Err(e) => {
            unread.push(Diagnostic::warning(
                &display(folder),
                Pos::NONE,
                "",
                e.to_string(),
            ));
            return;
        }
    };
    for (path, is_real_dir) in found {
        if is_quiet(&path) {
            continue;
        }
        if is_yaml(&path) && !is_real_dir {
            unread.push(Diagnostic::warning(
                &display(&path),
                Pos::NONE,
                "",
                format!("site files in subfolders of {top}/ are not read; move it to {top}/"),
            ));
        }
        if is_real_dir {
            in_subfolder(&path, top, unread);
        }
    }
}

/// The entries of a folder, each with whether it is a folder itself (not a
/// symbolic link to one).
fn entries(dir: &Path) -> Result<Vec<(PathBuf, bool)>, LoadError> {
    let failed = |source: std::io::Error| LoadError::ReadFolder {
        dir: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let is_dir = entry.file_type().map_err(failed)?.is_dir();
        out.push((entry.path(), is_dir));
    }
    out.sort();
    Ok(out)
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// A name that is not a site and worth no warning: `_…` or `.…`.
fn is_quiet(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(['_', '.']))
}

/// A path as shown in messages.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Read, parse and schema-check one site file, over the defaults if any.
pub fn read_site(
    path: &Path,
    defaults: Option<&Defaults>,
) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    let file = display(path);
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::error(
            &file,
            Pos::START,
            "",
            format!("error reading site file: {e}"),
        )]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        vec![Diagnostic::error(
            &file,
            pos_of_offset(e.as_bytes(), offset),
            "",
            "the file is not valid UTF-8",
        )]
    })?;
    parse_site_over(&file, &text, defaults)
}

/// Parse and schema-check the text of one site file.
pub fn parse_site(file: &str, text: &str) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    parse_site_over(file, text, None)
}

/// [`parse_site`], with `defaults` merged under the site before it is
/// checked.
pub fn parse_site_over(
    file: &str,
    text: &str,
    defaults: Option<&Defaults>,
) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    let mut doc =
        source::parse(text).map_err(|e| vec![Diagnostic::error(file, e.pos, "", e.message)])?;
    if let Some(d) = defaults {
        d.merge_under(&mut doc.value, &mut doc.positions);
    }
    if !doc.value.is_object() {
        return Err(vec![Diagnostic::error(
            file,
            Pos::START,
            "",
            "a site file must be a YAML mapping (site:, target:, server: …)",
        )]);
    }
    for (written, name) in crate::site::file::normalise_models(&mut doc.value) {
        doc.positions
            .rename(&join_key("models", &written), &join_key("models", &name));
    }
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut repairs = Repairs::default();
    for err in schema::validator().iter_errors(&doc.value) {
        repairs.note(&err);
        let path = field_path(&err.instance_path().iter().collect::<Vec<_>>());
        diags.extend(schema_diagnostics(
            file,
            &doc.positions,
            &path,
            err.kind(),
            err.instance(),
        ));
    }
    if !diags.is_empty() {
        diags.extend(repairs.rule_findings(file, &doc.value, &doc.positions));
        diags.sort_by(|a, b| (a.pos, &a.path).cmp(&(b.pos, &b.path)));
        diags.dedup();
        return Err(diags);
    }
    // JSON Schema's `integer` admits 5060.0 (it compares values, not
    // spellings) but serde does not. No site field takes a fraction (a test
    // pins it), so every such number is an integer field written wrong; all
    // of them are reported, not only the first one serde stops at.
    let mut floats = Vec::new();
    find_floats(&doc.value, "", &mut floats);
    if !floats.is_empty() {
        return Err(floats
            .iter()
            .map(|path| {
                let (file, pos) = doc.positions.value_in(file, path);
                Diagnostic::error(
                    file,
                    pos,
                    path,
                    "expected integer, found a number with a decimal point or exponent",
                )
            })
            .collect());
    }
    match serde_path_to_error::deserialize::<_, SiteFile>(doc.value) {
        Ok(sf) => Ok((sf, doc.positions)),
        // The schema is generated from these types, so this is only reached
        // where it says less than they do (a u32's upper bound); still an
        // error at its field, not a panic.
        Err(e) => {
            let mut path = String::new();
            for seg in e.path().iter() {
                path = match seg {
                    serde_path_to_error::Segment::Seq { index } => join_index(&path, *index),
                    serde_path_to_error::Segment::Map { key } => join_key(&path, key),
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => path,
                };
            }
            let (file, pos) = doc.positions.value_in(file, &path);
            Err(vec![Diagnostic::error(
                file,
                pos,
                &path,
                plain_types(&e.into_inner().to_string()),
            )])
        }
    }
}

/// The field paths of every number that is not an integer.
fn find_floats(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => out.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_floats(item, &join_index(path, i), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                find_floats(item, &join_key(path, key), out);
            }
        }
        _ => {}
    }
}

/// serde's message with Rust's integer types said in words: `expected u32`
/// → `expected an integer from 0 to 4294967295`.
fn plain_types(message: &str) -> String {
    let ranges = [
        ("u8", 0, i128::from(u8::MAX)),
        ("u16", 0, i128::from(u16::MAX)),
        ("u32", 0, i128::from(u32::MAX)),
        ("u64", 0, i128::from(u64::MAX)),
        ("i32", i128::from(i32::MIN), i128::from(i32::MAX)),
    ];
    for (name, min, max) in ranges {
        if let Some(head) = message.strip_suffix(&format!("expected {name}")) {
            return format!("{head}expected an integer from {min} to {max}");
        }
    }
    message.to_owned()
}

fn pos_of_offset(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    Pos { line, col }
}

/// `/phones/3/mac` → `phones[3].mac`.
fn field_path(segments: &[LocationSegment<'_>]) -> String {
    let mut path = String::new();
    for seg in segments {
        path = match seg {
            LocationSegment::Property(p) => join_key(&path, p),
            LocationSegment::Index(i) => join_index(&path, *i),
        };
    }
    path
}

/// Whether a field holds a password, whose value is never shown: a
/// `password` field, or a parameter whose name says password.
fn is_secret_field(path: &str) -> bool {
    match param_name(path) {
        Some(name) => crate::site::params::is_secret_name(name),
        None => path.split(['.', '[']).any(|seg| seg == "password"),
    }
}

/// The parameter a field path names (`extensions[0].params.reg.1.label` →
/// `reg.1.label`), if it is one.
fn param_name(path: &str) -> Option<&str> {
    if let Some(name) = path.strip_prefix("params.") {
        return Some(name);
    }
    path.find(".params.").map(|i| &path[i + ".params.".len()..])
}

fn schema_diagnostics(
    file: &str,
    positions: &Positions,
    path: &str,
    kind: &ValidationErrorKind,
    instance: &Value,
) -> Vec<Diagnostic> {
    let (file, at) = positions.value_in(file, path);
    let shown = if is_secret_field(path) {
        "the value".to_owned()
    } else {
        describe(instance)
    };
    let one = |message: String| vec![Diagnostic::error(file, at, path, message)];
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let child = join_key(path, key);
                let (file, pos) = positions.key_in(file, &child);
                Diagnostic::error(file, pos, &child, unknown_field(path, key))
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![Diagnostic::error(
                file,
                at,
                &join_key(path, name),
                "missing required field",
            )]
        }
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let mut message = format!(
                "expected {}, found {}",
                expected.join(" or "),
                json_type(instance)
            );
            if expected.iter().any(|t| t == "string") && instance.is_number() {
                message.push_str(" (quote it: YAML reads unquoted digits as a number)");
            }
            one(message)
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(describe).collect())
                .unwrap_or_default();
            one(format!("{shown} is not one of {}", allowed.join(", ")))
        }
        ValidationErrorKind::Pattern { pattern } => one(match schema::pattern_in_words(pattern) {
            Some(words) => format!("{shown} is not allowed here: {words}"),
            None => format!("{shown} does not match the pattern {pattern}"),
        }),
        ValidationErrorKind::Minimum { limit } => one(format!("{shown} is less than {limit}")),
        ValidationErrorKind::Maximum { limit } => one(format!("{shown} is more than {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            one(format!("{shown} must be more than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            one(format!("{shown} must be less than {limit}"))
        }
        ValidationErrorKind::MinLength { .. } => one("must not be empty".to_owned()),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            one(format!("{shown} is not a multiple of {multiple_of}"))
        }
        ValidationErrorKind::AnyOf { .. } if param_name(path).is_some() => one(format!(
            "{shown} is not a parameter value: a string, an integer or a boolean (quote a number with a point: \"1.5\"), or {{env: NAME}} / {{secret: KEY}}"
        )),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. }
            if is_secret_field(path) =>
        {
            one("expected a password: a string, {env: NAME} or {secret: KEY}".to_owned())
        }
        // `Option<T>` is `anyOf: [T, null]`: a non-null value that fails is
        // best explained by why it is not a T.
        ValidationErrorKind::AnyOf { context } if !instance.is_null() => {
            let mut branches = context
                .iter()
                .filter(|errors| !errors.iter().all(expects_only_null));
            match (branches.next(), branches.next()) {
                (Some(errors), None) if !errors.is_empty() => errors
                    .iter()
                    .flat_map(|e| {
                        let path = field_path(&e.instance_path().iter().collect::<Vec<_>>());
                        schema_diagnostics(file, positions, &path, e.kind(), e.instance())
                    })
                    .collect(),
                _ => one("does not match the schema (anyOf)".to_owned()),
            }
        }
        other => one(format!("does not match the schema ({})", other.keyword())),
    }
}

/// "unknown field", with the nearest field the mapping at `path` may hold.
fn unknown_field(path: &str, key: &str) -> String {
    let segments: Vec<&str> = path
        .split(['.', '['])
        .map(|s| s.trim_end_matches(']'))
        .filter(|s| !s.is_empty())
        .collect();
    let fields = schema::fields_at(&segments);
    match crate::nearest::nearest(key, fields.iter().map(String::as_str)) {
        Some(near) => format!("unknown field; did you mean {near}?"),
        None => "unknown field".to_owned(),
    }
}

/// The error of the `null` branch of an `Option`'s `anyOf`.
fn expects_only_null(e: &jsonschema::ValidationError<'_>) -> bool {
    matches!(
        e.kind(),
        ValidationErrorKind::Type {
            kind: TypeKind::Single(jsonschema::JsonType::Null)
        }
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) | Value::Object(_) => json_type(v).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_site` reports every non-integer number as an integer field
    /// written wrong; that holds while no field of the schema is a `number`.
    #[test]
    fn no_site_field_takes_a_fraction() {
        fn types(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    for (key, item) in map {
                        if key == "type" {
                            out.push(item.to_string());
                        }
                        types(item, out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| types(i, out)),
                _ => {}
            }
        }
        let schema: Value =
            serde_json::from_str(&schema::site_schema_json()).expect("the schema is JSON");
        let mut found = Vec::new();
        types(&schema, &mut found);
        assert!(found.iter().any(|t| t.contains("\"integer\"")));
        assert!(!found.iter().any(|t| t.contains("\"number\"")), "{found:?}");
    }

    #[test]
    fn rust_integer_types_are_said_in_words() {
        assert_eq!(
            plain_types("invalid value: integer `70000`, expected u16"),
            "invalid value: integer `70000`, expected an integer from 0 to 65535"
        );
        assert_eq!(plain_types("something else"), "something else");
    }
}
