//! `dialplan:` from `altigen.cfg`'s digit map and the extension numbers.

use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::{Dialplan, Draft};
use crate::site::model::{digitmap, ALTIGEN_CFG};

/// The dial plan fields when the digit map is one polyops generates and
/// the extensions fit it; else the digit map as it is, with the fields
/// set from the extensions so that the site validates.
pub(in crate::import) fn choose_dialplan(
    draft: &mut Draft,
    raw: Option<&str>,
    file: Option<&str>,
    notes: &mut ImportNotes,
) {
    let numbers: Vec<&str> = draft.extensions.iter().map(|e| e.number.as_str()).collect();
    let digits = numbers.first().map(|n| n.len() as u8);
    let first: Vec<u8> = numbers
        .iter()
        .filter_map(|n| n.bytes().next())
        .map(|b| b - b'0')
        .collect();
    let held = match (first.iter().min(), first.iter().max()) {
        (Some(lo), Some(hi)) => Some((*lo, *hi)),
        _ => None,
    };
    let name = "dialplan.digitmap";
    let Some(raw) = raw else {
        if let Some(file) = file {
            notes.about(
                file,
                NoteKind::Changed,
                &[name],
                "has no dialplan.digitmap: polyops writes the guide's digit map for the site's extensions",
            );
        }
        let mut plan = Dialplan {
            extension_digits: digits.filter(|d| *d != 3),
            ..Dialplan::default()
        };
        if let Some((lo, hi)) = held {
            if !(1 <= lo && hi <= 7) {
                plan.first_digits = Some((lo, hi));
            }
        }
        draft.dialplan = plan;
        return;
    };
    let map: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if map != raw {
        notes.about(
            file.unwrap_or(ALTIGEN_CFG),
            NoteKind::Changed,
            &[name],
            "dialplan.digitmap has white space in it (a line broken inside the value, as in the guide), which the phone reads as part of the map: polyops writes it without",
        );
    }
    let mut generated = None;
    for d in [3u8, 4] {
        for lo in 1..=9u8 {
            for hi in lo..=9u8 {
                for l in [7u8, 10] {
                    if digitmap(d, lo, hi, l) == map {
                        generated = Some((d, lo, hi, l));
                    }
                }
            }
        }
    }
    if let Some((d, lo, hi, l)) = generated {
        let fit = numbers.iter().all(|n| {
            n.len() == usize::from(d)
                && n.bytes()
                    .next()
                    .is_some_and(|b| (lo..=hi).contains(&(b - b'0')))
        });
        if fit {
            draft.dialplan = Dialplan {
                extension_digits: (d != 3).then_some(d),
                first_digits: ((lo, hi) != (1, 7)).then_some((lo, hi)),
                local_digits: (l != 7).then_some(l),
                digitmap: None,
                note: None,
            };
            return;
        }
        notes.add(
            file.unwrap_or(ALTIGEN_CFG),
            NoteKind::Note,
            "some extensions do not fit the dial plan of the digit map: it is kept as dialplan.digitmap, as it is",
        );
    }
    let local = if map.contains(&format!("9[2-9]{}", "x".repeat(9))) {
        10
    } else {
        7
    };
    draft.dialplan = Dialplan {
        extension_digits: Some(digits.unwrap_or(3)),
        first_digits: Some(held.unwrap_or((1, 7))),
        local_digits: Some(local),
        digitmap: Some(map),
        note: Some(
            "not a digit map polyops generates: kept as it is; the fields below only check the extension numbers"
                .to_owned(),
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::map::draft_with;

    #[test]
    fn a_generated_digit_map_becomes_the_dial_plan_fields() {
        let mut d = draft_with(&["2001", "2999"]);
        let mut r = ImportNotes::default();
        let map = digitmap(4, 2, 2, 10);
        choose_dialplan(&mut d, Some(&map), Some(ALTIGEN_CFG), &mut r);
        assert_eq!(
            d.dialplan,
            Dialplan {
                extension_digits: Some(4),
                first_digits: Some((2, 2)),
                local_digits: Some(10),
                digitmap: None,
                note: None
            }
        );
        assert!(r.lines.is_empty());
    }

    #[test]
    fn a_digit_map_broken_over_lines_is_mended_and_reported() {
        let mut d = draft_with(&["201"]);
        let mut r = ImportNotes::default();
        // As the XML parser hands it on: the line break and the next line's
        // indentation became spaces.
        let broken = digitmap(3, 1, 7, 7).replace("[1-7]", "[1-    7]");
        choose_dialplan(&mut d, Some(&broken), Some(ALTIGEN_CFG), &mut r);
        assert_eq!(d.dialplan, Dialplan::default(), "{broken}");
        assert!(r.covers(ALTIGEN_CFG, "dialplan.digitmap"));
    }

    #[test]
    fn another_digit_map_is_kept_with_fields_from_the_extensions() {
        let mut d = draft_with(&["301", "455"]);
        let mut r = ImportNotes::default();
        choose_dialplan(
            &mut d,
            Some("0|[3-4]xx|9xxxxxxxxxx|xxx.T"),
            Some(ALTIGEN_CFG),
            &mut r,
        );
        assert_eq!(
            d.dialplan.digitmap.as_deref(),
            Some("0|[3-4]xx|9xxxxxxxxxx|xxx.T")
        );
        assert_eq!(d.dialplan.extension_digits, Some(3));
        assert_eq!(d.dialplan.first_digits, Some((3, 4)));
        assert_eq!(d.dialplan.local_digits, Some(7));
        // A generated map the extensions do not fit is kept as it is too.
        let mut d = draft_with(&["801"]);
        choose_dialplan(
            &mut d,
            Some(&digitmap(3, 1, 7, 7)),
            Some(ALTIGEN_CFG),
            &mut r,
        );
        assert_eq!(d.dialplan.digitmap, Some(digitmap(3, 1, 7, 7)));
        assert_eq!(d.dialplan.first_digits, Some((8, 8)));
    }
}
