//! What a phone runs: the parameters of its files merged the way the phone
//! merges them. Files come leftmost first (its override files, then
//! CONFIG_FILES in order); the first file that sets a parameter wins, and
//! within one file its first occurrence does (`reader::parameter_map`).
//! Pure: parsed files in, effective parameters out, so the rule the phone
//! follows is pinned by unit tests and not by whatever a target holds.

use std::collections::BTreeMap;

use crate::polycom::reader::Parameters;

/// One parameter as the phone runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub name: String,
    /// The value the phone takes; an empty value is a value (an empty
    /// `dialplan.digitmap` in an override file wins and breaks dialling).
    pub value: String,
    /// The file whose value wins.
    pub file: String,
    /// The other files that set it, leftmost first: their values lose.
    pub shadows: Vec<String>,
}

/// Merge `files` (name, parameters), leftmost first, into the parameters
/// the phone runs, sorted by name. A name is compared exactly, as
/// `reader::parameter_map` and plan's override check compare it; see
/// [`case_clashes`] for names that differ only in case.
pub fn resolve(files: &[(String, Parameters)]) -> Vec<Effective> {
    let mut out: BTreeMap<&str, Effective> = BTreeMap::new();
    for (file, params) in files {
        for name in &params.order {
            let Some(value) = params.values.get(name) else {
                continue;
            };
            match out.get_mut(name.as_str()) {
                Some(winner) => {
                    // A file listed twice shadows nothing of its own.
                    if winner.file != *file && !winner.shadows.contains(file) {
                        winner.shadows.push(file.clone());
                    }
                }
                None => {
                    out.insert(
                        name,
                        Effective {
                            name: name.clone(),
                            value: value.clone(),
                            file: file.clone(),
                            shadows: Vec::new(),
                        },
                    );
                }
            }
        }
    }
    out.into_values().collect()
}

/// Groups of effective names that differ only in ASCII case
/// (`dialplan.digitmap`, `dialplan.digitMap`), each group sorted: whether
/// the phone takes them for one parameter is not something polyops
/// decides for it, so it says they are there.
pub fn case_clashes(effective: &[Effective]) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in effective {
        groups
            .entry(e.name.to_ascii_lowercase())
            .or_default()
            .push(e.name.clone());
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polycom::reader::parameter_map;

    fn file(name: &str, xml: &str) -> (String, Parameters) {
        (
            name.to_owned(),
            parameter_map(xml.as_bytes()).expect("test XML parses"),
        )
    }

    fn find<'a>(effective: &'a [Effective], name: &str) -> &'a Effective {
        effective
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} is not in {effective:?}"))
    }

    #[test]
    fn the_leftmost_file_wins_and_the_others_are_shadowed_in_order() {
        let e = resolve(&[
            file("201.cfg", r#"<reg reg.1.label="Front"/>"#),
            file("altigen.cfg", r#"<d dialplan.digitmap="[1-7]xx"/>"#),
            file(
                "phone1.cfg",
                r#"<reg reg.1.label="" reg.1.address="" reg.2.label="two"/>"#,
            ),
            file(
                "sip.cfg",
                r#"<s dialplan.digitmap="[2-9]11|0T" reg.1.label="x" up.x="1"/>"#,
            ),
        ]);
        let label = find(&e, "reg.1.label");
        assert_eq!(label.value, "Front");
        assert_eq!(label.file, "201.cfg");
        assert_eq!(label.shadows, ["phone1.cfg", "sip.cfg"]);
        let map = find(&e, "dialplan.digitmap");
        assert_eq!(
            (map.value.as_str(), map.file.as_str()),
            ("[1-7]xx", "altigen.cfg")
        );
        assert_eq!(map.shadows, ["sip.cfg"]);
        let only = find(&e, "up.x");
        assert_eq!(only.file, "sip.cfg");
        assert!(only.shadows.is_empty());
        let names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "dialplan.digitmap",
                "reg.1.address",
                "reg.1.label",
                "reg.2.label",
                "up.x"
            ]
        );
    }

    #[test]
    fn an_empty_value_in_an_override_file_wins() {
        let e = resolve(&[
            file("0004f2000607-phone.cfg", r#"<ALL dialplan.digitmap=""/>"#),
            file("altigen.cfg", r#"<d dialplan.digitmap="[1-7]xx"/>"#),
        ]);
        let map = find(&e, "dialplan.digitmap");
        assert_eq!(map.value, "");
        assert_eq!(map.file, "0004f2000607-phone.cfg");
        assert_eq!(map.shadows, ["altigen.cfg"]);
    }

    #[test]
    fn within_a_file_the_first_occurrence_wins_and_shadows_nothing() {
        let e = resolve(&[file("sip.cfg", r#"<a x.y="1"><b x.y="2"/></a>"#)]);
        assert_eq!(find(&e, "x.y").value, "1");
        assert!(find(&e, "x.y").shadows.is_empty());
    }

    #[test]
    fn a_file_listed_twice_is_not_its_own_shadow() {
        let sip = file("sip.cfg", r#"<a x.y="1"/>"#);
        let e = resolve(&[sip.clone(), file("b.cfg", r#"<a x.y="2"/>"#), sip]);
        assert_eq!(find(&e, "x.y").shadows, ["b.cfg"]);
    }

    #[test]
    fn names_that_differ_only_in_case_are_kept_apart_and_reported() {
        let e = resolve(&[
            file("a.cfg", r#"<a dialplan.digitMap="1"/>"#),
            file("b.cfg", r#"<a dialplan.digitmap="2" x.y="3"/>"#),
        ]);
        assert_eq!(find(&e, "dialplan.digitMap").value, "1");
        assert_eq!(find(&e, "dialplan.digitmap").value, "2");
        assert_eq!(
            case_clashes(&e),
            [vec![
                "dialplan.digitMap".to_owned(),
                "dialplan.digitmap".to_owned()
            ]]
        );
    }

    #[test]
    fn no_files_no_parameters() {
        assert!(resolve(&[]).is_empty());
    }
}
