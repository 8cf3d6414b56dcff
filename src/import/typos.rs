//! The guide's scanning typos, read as what they mean (docs/import.md):
//! the phone ignores a misspelt name, so the import names the change and
//! carries the value over to the parameter the installer meant (unless
//! the file sets that one too).

use std::collections::BTreeSet;

use crate::import::map::shown;
use crate::import::notes::{ImportNotes, NoteKind};
use crate::polycom::catalog::catalog;
use crate::polycom::reader::Parameters;

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

/// `phonel.cfg` (and `phoneI.cfg`): the guide's CONFIG_FILES typo.
pub(super) fn is_phonel(entry: &str) -> bool {
    matches!(entry, "phonel.cfg" | "phoneI.cfg" | "phone|.cfg")
}

/// A file's parameters in order, each once, with the guide's typos read
/// as what they mean.
pub(super) fn normalise(
    file: &str,
    p: &Parameters,
    notes: &mut ImportNotes,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in &p.order {
        let value = p.values.get(name).cloned().unwrap_or_default();
        match guide_typo(name) {
            Some(fixed) if p.values.contains_key(&fixed) => notes.about(
                file,
                NoteKind::LeftOut,
                &[name.as_str()],
                format!("{name} is the guide's typo for {fixed}, which the file sets too: the phone ignores it, and it is not imported"),
            ),
            Some(fixed) => {
                let today = match catalog().get(&fixed).and_then(|e| e.default) {
                    Some(d) => format!("{fixed}'s default, {d:?}, today"),
                    None => format!("{fixed}'s default today"),
                };
                notes.about(
                    file,
                    NoteKind::Changed,
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
        notes.add(
            file,
            NoteKind::Note,
            format!("{name} is set more than once; the phone takes the first, and so does the site file"),
        );
    }
    out
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
}
