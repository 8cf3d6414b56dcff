//! The proof of an import, made before anything is written: the site
//! file's text goes through polyops's own loader and rules, is rendered,
//! and every file it was imported from is compared with what polyops will
//! write in its place, parameter by parameter, as the phone reads them.
//! Any difference no report line accounts for gets a line of its own, so
//! the report names every parameter whose value changes.

use std::collections::{BTreeMap, BTreeSet};

use crate::import::notes::NoteKind;
use crate::import::{yaml, Imported};
use crate::polycom::reader::parameter_map;
use crate::render::inputs::Inputs;
use crate::render::{render, Rendered};
use crate::site::params::is_secret_name;
use crate::site::parse::parse_site;
use crate::site::rules::check_site;
use crate::site::secret::{Secret, SecretRef};

/// Load and render the draft (with stand-ins for what is to be filled
/// in); `None`, with the findings in the report, when it does not load.
pub fn rendered(imported: &mut Imported) -> Option<Rendered> {
    let file = format!("sites/{}.yaml", imported.draft.site);
    let text = yaml::site_yaml(&imported.draft, true);
    let findings = |diags: Vec<crate::site::diagnostic::Diagnostic>, imported: &mut Imported| {
        for d in diags.into_iter().filter(|d| d.is_error()) {
            imported.notes.add(
                &file,
                NoteKind::Note,
                format!(
                    "the imported site does not validate yet: {}: {}",
                    d.path, d.message
                ),
            );
        }
    };
    let (sf, positions) = match parse_site(&file, &text) {
        Ok(ok) => ok,
        Err(diags) => {
            findings(diags, imported);
            return None;
        }
    };
    let (site, diags) = check_site(&file, &sf, &positions);
    let Some(site) = site else {
        findings(diags, imported);
        return None;
    };
    let resolve = |r: &SecretRef| match r {
        SecretRef::File(k) => imported
            .secrets
            .values
            .get(&k.secret)
            .cloned()
            .unwrap_or_else(|| Secret::new("")),
        _ => Secret::new(""),
    };
    let inputs = Inputs {
        passwords: site
            .extensions
            .iter()
            .map(|e| (e.number.clone(), resolve(&e.password)))
            .collect(),
        params: site
            .secret_params()
            .map(|(field, r)| (field.to_owned(), resolve(r)))
            .collect(),
        firmware: BTreeMap::new(),
    };
    Some(render(&site, &inputs))
}

/// Compare every imported file with its rendering and report each
/// parameter that changes and that no line accounts for yet.
pub fn verify(imported: &mut Imported) {
    let Some(files) = rendered(imported) else {
        return;
    };
    let mut lines = Vec::new();
    for (name, (theirs_name, bytes)) in &imported.originals {
        let Some(ours) = files.get(name) else {
            continue;
        };
        let (Ok(theirs), Ok(ours)) = (parameter_map(bytes), parameter_map(ours)) else {
            continue;
        };
        let names: BTreeSet<&String> = theirs.values.keys().chain(ours.values.keys()).collect();
        for param in names {
            if imported.notes.covers(theirs_name, param) {
                continue;
            }
            let show = |v: &str| {
                if is_secret_name(param) {
                    crate::site::secret::MASK.to_owned()
                } else {
                    format!("{v:?}")
                }
            };
            let text = match (theirs.values.get(param), ours.values.get(param)) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(a), Some(b)) => (
                    NoteKind::Changed,
                    format!("{param} becomes {} (was {})", show(b), show(a)),
                ),
                (Some(a), None) => (
                    NoteKind::LeftOut,
                    format!("{param}={} is not imported", show(a)),
                ),
                (None, Some(b)) => (
                    NoteKind::Changed,
                    format!("{param} is added: polyops writes {}", show(b)),
                ),
                (None, None) => continue,
            };
            lines.push((theirs_name.clone(), text.0, param.clone(), text.1));
        }
    }
    for (file, kind, param, text) in lines {
        imported.notes.about(&file, kind, &[&param], text);
    }
}
