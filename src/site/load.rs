//! Site files → checked sites: find the files of the sites folder, select
//! those a command names, read each (`parse`), then apply the rules of
//! docs/site-file.md per site and across all sites. All findings of a run
//! are collected, none stops the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::site::defaults::{self, Defaults};
use crate::site::diagnostic::Diagnostic;
use crate::site::file::SiteFile;
use crate::site::model::Site;
use crate::site::parse::{display, read_site};
use crate::site::rules::{self, Loaded};
use crate::site::source::{Pos, Positions};

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
    parsed: &[ParsedFile],
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
    let (mut files, unread) = files_to_read(sites_dir, names)?;
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
    // Explicit paths first, so a name can be matched against parsed site names.
    let wanted_names = select_named_files(&mut files, names)?;
    let (parsed, unparsed) = parse_all(&files, defaults.as_ref());
    select_named_sites(&mut files, &parsed, &wanted_names, sites_dir)?;
    narrow(&mut files, &parsed, sites_dir, selection);
    // About the folder, not a site: only when the whole folder was asked for.
    let about_folder = if names.is_empty() { unread } else { Vec::new() };
    Ok(check_all(&files, parsed, unparsed, about_folder))
}

/// Every site file to read, each marked selected when no name narrows
/// the run; and what of the folder could not be read.
fn files_to_read(
    sites_dir: &Path,
    names: &[String],
) -> Result<(BTreeMap<PathBuf, bool>, Vec<Diagnostic>), LoadError> {
    let mut files = BTreeMap::new();
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
    Ok((files, unread))
}

/// Select the `names` that are paths of site files (adding those outside
/// the folder); returns the others, site names to resolve once parsed.
fn select_named_files(
    files: &mut BTreeMap<PathBuf, bool>,
    names: &[String],
) -> Result<Vec<String>, LoadError> {
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
    Ok(wanted_names)
}

/// A site file, and what it holds if it parsed.
type ParsedFile = (PathBuf, Option<(SiteFile, Positions)>);

/// Read every file: what parsed (None where it did not), and the
/// diagnostics of those that did not.
fn parse_all(
    files: &BTreeMap<PathBuf, bool>,
    defaults: Option<&Defaults>,
) -> (Vec<ParsedFile>, Vec<(PathBuf, Vec<Diagnostic>)>) {
    let mut parsed = Vec::new();
    let mut unparsed = Vec::new();
    for path in files.keys() {
        match read_site(path, defaults) {
            Ok(ok) => parsed.push((path.clone(), Some(ok))),
            Err(d) => {
                parsed.push((path.clone(), None));
                unparsed.push((path.clone(), d));
            }
        }
    }
    (parsed, unparsed)
}

/// Select the file of each site name: a file named <name>.yaml, or a file
/// whose `site:` is name.
fn select_named_sites(
    files: &mut BTreeMap<PathBuf, bool>,
    parsed: &[ParsedFile],
    wanted_names: &[String],
    sites_dir: &Path,
) -> Result<(), LoadError> {
    for name in wanted_names {
        let hit = parsed.iter().find(|(p, sf)| {
            sf.as_ref().is_some_and(|(f, _)| &f.site == name)
                || p.file_stem().is_some_and(|s| s == name.as_str())
        });
        let Some((p, _)) = hit else {
            return Err(LoadError::NoSuchSite {
                name: name.clone(),
                dir: sites_dir.to_owned(),
                near: nearest_site(name, parsed),
            });
        };
        files.insert(p.clone(), true);
    }
    Ok(())
}

/// Check every parsed site; keep the diagnostics of the selected ones,
/// then check across all of them.
fn check_all(
    files: &BTreeMap<PathBuf, bool>,
    parsed: Vec<ParsedFile>,
    unparsed: Vec<(PathBuf, Vec<Diagnostic>)>,
    about_folder: Vec<Diagnostic>,
) -> Catalog {
    let selected = |path: &PathBuf| files.get(path).copied().unwrap_or(false);
    let mut catalog = Catalog {
        sites: Vec::new(),
        diagnostics: about_folder,
    };
    for (path, diags) in unparsed {
        if selected(&path) {
            catalog.diagnostics.extend(diags);
        }
    }
    for (path, sf) in parsed {
        let Some((file, positions)) = sf else {
            continue;
        };
        let selected = selected(&path);
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
    catalog
}

/// The site name nearest to `name`: of the names site files give
/// (`site:`) or, for a file that could not be read, its file name.
fn nearest_site(name: &str, parsed: &[ParsedFile]) -> Option<String> {
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
