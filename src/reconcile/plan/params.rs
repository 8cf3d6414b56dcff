//! A change of a file's parameters, as the phone reads them: what an
//! update adds, removes and changes, beside (and above) its line diff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::mask::Masker;
use crate::polycom;
use crate::reconcile::plan::diff::DIFF_MAX_BYTES;
use crate::site::secret::MASK;

/// A change of a file's parameters, as the phone reads them: every
/// attribute of every element, the first occurrence of a name winning
/// (`polycom::reader::parameter_map`). A name repeated in a file counts
/// with its first value only, the one the phone uses: adding, removing or
/// changing a later occurrence changes nothing the phone runs. Names and
/// values are fit to print already (one line, capped), and a secret value
/// is `********`; a changed secret is `["********", "******** (changed)"]`,
/// whichever of its two sides was the secret, so neither value nor its
/// length shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChanges {
    pub added: BTreeMap<String, String>,
    pub removed: BTreeMap<String, String>,
    /// Name → (value on the target, value rendered).
    pub changed: BTreeMap<String, (String, String)>,
}

impl ParamChanges {
    /// Whether no parameter changes: the change is formatting only.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Every change, ordered by name: (name, value before, value after),
    /// `None` where the parameter is absent.
    pub fn rows(&self) -> Vec<(&str, Option<&str>, Option<&str>)> {
        let mut rows: Vec<(&str, Option<&str>, Option<&str>)> = self
            .added
            .iter()
            .map(|(n, v)| (n.as_str(), None, Some(v.as_str())))
            .chain(
                self.removed
                    .iter()
                    .map(|(n, v)| (n.as_str(), Some(v.as_str()), None)),
            )
            .chain(
                self.changed
                    .iter()
                    .map(|(n, (a, b))| (n.as_str(), Some(a.as_str()), Some(b.as_str()))),
            )
            .collect();
        rows.sort_by_key(|r| r.0);
        rows
    }

    /// "1 changed, 2 added, 1 removed" (the parts that are not zero).
    pub fn counts(&self) -> String {
        [
            (self.changed.len(), "changed"),
            (self.added.len(), "added"),
            (self.removed.len(), "removed"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The parameter change of an update of `name` from `before` to `after`:
/// `None` unless it is a `.cfg` file, neither side is over
/// [`DIFF_MAX_BYTES`] and both parse as a configuration file.
pub fn param_changes(
    name: &str,
    before: &[u8],
    after: &[u8],
    masker: &Masker,
) -> Option<ParamChanges> {
    let is_cfg = name.to_ascii_lowercase().ends_with(".cfg");
    if !is_cfg || before.len() > DIFF_MAX_BYTES || after.len() > DIFF_MAX_BYTES {
        return None;
    }
    let old = polycom::reader::parameter_map(before).ok()?.values;
    let new = polycom::reader::parameter_map(after).ok()?.values;
    let mut out = ParamChanges::default();
    // Two names that print the same (a declared secret masked in both)
    // keep the first: either way nothing secret shows.
    for (n, v) in &old {
        let shown = masker.parameter_name(n);
        match new.get(n) {
            None => {
                out.removed
                    .entry(shown)
                    .or_insert_with(|| masker.parameter_value(n, v));
            }
            Some(w) if w != v => {
                let pair = if masker.is_secret_parameter(n, v) || masker.is_secret_parameter(n, w) {
                    (MASK.to_owned(), format!("{MASK} (changed)"))
                } else {
                    (masker.parameter_value(n, v), masker.parameter_value(n, w))
                };
                out.changed.entry(shown).or_insert(pair);
            }
            Some(_) => {}
        }
    }
    for (n, w) in &new {
        if !old.contains_key(n) {
            out.added
                .entry(masker.parameter_name(n))
                .or_insert_with(|| masker.parameter_value(n, w));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(before: &str, after: &str, masker: &Masker) -> ParamChanges {
        param_changes("201.cfg", before.as_bytes(), after.as_bytes(), masker)
            .expect("both sides parse")
    }

    fn map<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn parameters_added_removed_and_changed_are_named_with_their_values() {
        let p = params(
            r#"<x a.a="1" b.b="old" c.c="gone" e.e=""/>"#,
            r#"<x a.a="1" b.b="new" d.d="" e.e="0"/>"#,
            &Masker::default(),
        );
        assert_eq!(p.added, map([("d.d", "")]));
        assert_eq!(p.removed, map([("c.c", "gone")]));
        assert_eq!(
            p.changed,
            [
                ("b.b".to_owned(), ("old".to_owned(), "new".to_owned())),
                ("e.e".to_owned(), (String::new(), "0".to_owned())),
            ]
            .into_iter()
            .collect()
        );
        assert!(!p.is_empty());
        assert_eq!(p.counts(), "2 changed, 1 added, 1 removed");
        let names: Vec<&str> = p.rows().iter().map(|r| r.0).collect();
        assert_eq!(names, ["b.b", "c.c", "d.d", "e.e"]);
        let json = serde_json::to_value(&p).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "added": {"d.d": ""},
                "removed": {"c.c": "gone"},
                "changed": {"b.b": ["old", "new"], "e.e": ["", "0"]},
            })
        );
    }

    #[test]
    fn a_hand_made_file_with_the_same_parameters_is_formatting_only() {
        let rendered = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<phone1>\n  <reg\n    reg.1.label=\"201\"\n    reg.1.auth.password=\"1212\"/>\n  <msg msg.bypassInstantMessage=\"1\"/>\n</phone1>\n";
        let by_hand = "\u{feff}<?xml version=\"1.0\"?>\r\n<!-- typed in by hand -->\r\n<all>\r\n\t<a reg.1.auth.password='1212'\r\n\t\tmsg.bypassInstantMessage = \"1\">\r\n\t\t<b reg.1.label=\"201\"/></a>\r\n</all>";
        let p = params(by_hand, rendered, &Masker::new(["1212".to_owned()]));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(p.counts(), "");
    }

    #[test]
    fn a_repeated_name_counts_with_its_first_value_as_on_the_phone() {
        let m = Masker::default();
        // The repeat is ignored by the phone: dropping it changes nothing.
        assert!(params(r#"<a x.y="1"><b x.y="2"/></a>"#, r#"<a x.y="1"/>"#, &m).is_empty());
        // The first value is the one compared.
        let p = params(r#"<a x.y="1"><b x.y="2"/></a>"#, r#"<a x.y="2"/>"#, &m);
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("1".to_owned(), "2".to_owned()))
        );
        let p = params(r#"<a x.y="1"/>"#, r#"<a x.y="2"><b x.y="1"/></a>"#, &m);
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("1".to_owned(), "2".to_owned()))
        );
    }

    #[test]
    fn no_parameter_diff_unless_both_sides_of_a_cfg_file_parse() {
        let m = Masker::default();
        let good = b"<a x.y=\"1\"/>".as_slice();
        for bad in [
            b"<a x.y=\"1\"".as_slice(),
            b"x.y=1\n",
            b"<a x.y=\"\xff\"/>",
            b"",
        ] {
            assert_eq!(param_changes("201.cfg", bad, good, &m), None);
            assert_eq!(param_changes("201.cfg", good, bad, &m), None);
        }
        assert_eq!(param_changes("directory.xml", good, good, &m), None);
        assert!(param_changes("ALTIGEN.CFG", good, good, &m).is_some());
        let big = format!("<a x.y=\"1\">{}</a>", " ".repeat(DIFF_MAX_BYTES));
        assert_eq!(param_changes("201.cfg", big.as_bytes(), good, &m), None);
    }

    #[test]
    fn a_secret_parameter_shows_neither_value_nor_length() {
        let changes = |old: &str, new: &str| {
            params(
                &format!(
                    r#"<reg reg.1.auth.password="{old}" x.Password="{old}" a.b="{old}" gone.password="{old}"/>"#
                ),
                &format!(
                    r#"<reg reg.1.auth.password="{new}" x.Password="{new}" a.b="{new}" new.password="{new}"/>"#
                ),
                &Masker::new([new.to_owned()]),
            )
        };
        let p = changes("old-one", "new-secret");
        let changed = ("********".to_owned(), "******** (changed)".to_owned());
        for name in ["reg.1.auth.password", "x.Password", "a.b"] {
            assert_eq!(p.changed.get(name), Some(&changed), "{name}: {p:?}");
        }
        assert_eq!(p.added, map([("new.password", "********")]));
        assert_eq!(p.removed, map([("gone.password", "********")]));
        let shown = format!("{p:?}{}", serde_json::to_string(&p).expect("serialises"));
        assert!(
            !shown.contains("old-one") && !shown.contains("new-secret"),
            "{shown}"
        );
        // Other values of other lengths: the very same change.
        assert_eq!(changes("o", "a-much-longer-new-secret"), p);
    }

    #[test]
    fn a_hostile_value_from_the_target_is_shown_escaped_on_one_line() {
        let m = Masker::default();
        let p = params(
            "<a x.y=\"a&#13;&#10;b&#9;[2J\u{202e}\" n.m=\"1\"/>",
            "<a x.y=\"ab\" n.m=\"\u{2066}2\"/>",
            &m,
        );
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("a\\x0d\\x0ab\\x09[2J\\u{202e}".to_owned(), "ab".to_owned()))
        );
        assert_eq!(
            p.changed.get("n.m"),
            Some(&("1".to_owned(), "\\u{2066}2".to_owned()))
        );
        // XML has no place for ESC, raw or as a reference: such a file does
        // not parse, and only its (escaped) line diff shows it.
        for hostile in ["<a x.y=\"\u{1b}[2J\"/>", "<a x.y=\"&#27;[2J\"/>"] {
            assert_eq!(
                param_changes("201.cfg", hostile.as_bytes(), b"<a x.y=\"1\"/>", &m),
                None
            );
        }
        let long = params(
            &format!("<a x.y=\"{}\"/>", "x".repeat(100_000)),
            "<a x.y=\"1\"/>",
            &Masker::default(),
        );
        let (old, _) = long.changed.get("x.y").expect("changed");
        assert_eq!(old.chars().count(), crate::mask::MAX_OUTSIDE_CHARS + 1);
    }
}
