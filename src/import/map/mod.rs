//! The mapping of docs/import.md, file by file: the parameters of `altigen.cfg`
//! (`altigen`) and of each `<number>.cfg` (`extension`) to the fields that
//! render them, or to `params` at their level, and what the report says
//! about each one that polyops will write otherwise; then the values the
//! extensions decide together (`extension::choose_server`, `dialplan`).
//! `root` reads the files and calls these.
//!
//! Both levels sort a parameter the same way, by one table ([`Level`]) and
//! one classification ([`classify`]): read by a field of the draft, set
//! at the other level, derived by polyops from a field, not a parameter a
//! site file can carry, fixed by the guide, or kept in `params`.

mod altigen;
mod dialplan;
mod extension;

pub(super) use altigen::map_site;
pub(super) use dialplan::choose_dialplan;
pub(super) use extension::{choose_server, map_extension, ExtFile, Sightings};

use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::{DraftValue, Params, Secrets};
use crate::site::params::{derived_from, is_secret_name, looks_like_a_parameter};
use crate::site::rules::is_attribute_safe;
use crate::site::secret::Secret;

/// What one level of the site file (the site's `altigen.cfg`, or an
/// extension's `<number>.cfg`) does with the parameters of its hand-made
/// file.
struct Level {
    /// Names a field of the draft reads at this level (`server.sip_port`
    /// from the ports): handled after the classification, not kept.
    read_by_field: fn(&str) -> bool,
    /// The guide's fixed values at this level.
    fixed: &'static [(&'static str, &'static str)],
    /// The guide's fixed values of the level the phone reads first: set
    /// here, they are shadowed.
    shadowed: &'static [(&'static str, &'static str)],
    /// The file polyops writes a derived parameter into instead.
    derived_into: &'static str,
    /// Where a fixed value that differs from the guide's is kept.
    kept_in: &'static str,
}

/// What becomes of one parameter of a hand-made file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A field of the draft reads it.
    Field,
    /// Set at the level the phone reads first: ignored here.
    Shadowed,
    /// polyops writes it from this field, at the other level.
    Derived(&'static str),
    /// Not something a site file can carry, and why.
    Unkeepable(&'static str),
    /// The guide fixes it to this value.
    Guide(&'static str),
    /// Kept in `params` as it is.
    Param,
}

fn classify(level: &Level, name: &str, value: &str) -> Class {
    let fixed_in = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, guide)| *guide)
    };
    if (level.read_by_field)(name) {
        Class::Field
    } else if fixed_in(level.shadowed).is_some() {
        Class::Shadowed
    } else if let Some(field) = derived_from(name) {
        Class::Derived(field)
    } else if let Some(why) = unkeepable(name, value) {
        Class::Unkeepable(why)
    } else if let Some(guide) = fixed_in(level.fixed) {
        Class::Guide(guide)
    } else {
        Class::Param
    }
}

/// The parameters of one hand-made file a level keeps in its `params`
/// (secrets as references into `secrets`, under the key `key` makes of a
/// name), with a report line for each one it does not keep as it is and
/// for each fixed value the file does not set.
fn map_params(
    level: &Level,
    file: &str,
    found: &[(String, String)],
    key: &dyn Fn(&str) -> String,
    secrets: &mut Secrets,
    notes: &mut ImportNotes,
) -> Params {
    let mut params = Params::new();
    for (name, value) in found {
        let (name, value) = (name.as_str(), value.as_str());
        match classify(level, name, value) {
            Class::Field => {}
            Class::Shadowed => notes.about(
                file,
                NoteKind::LeftOut,
                &[name],
                format!("{name} is set in every <number>.cfg, which the phone reads first: this one is shadowed, and not imported"),
            ),
            Class::Derived(field) => notes.about(
                file,
                NoteKind::LeftOut,
                &[name],
                format!(
                    "{name} is written by polyops from {field} into {}: not imported here",
                    level.derived_into
                ),
            ),
            Class::Unkeepable(why) => notes.about(
                file,
                NoteKind::LeftOut,
                &[name],
                format!("{} {why}: not imported", crate::printable::printable(name)),
            ),
            Class::Guide(guide) => {
                if value != guide {
                    notes.add(
                        file,
                        NoteKind::Kept,
                        format!("{name} is {value:?}, not the guide's {guide:?}: kept in {} (validate warns that it replaces the guide's value)", level.kept_in),
                    );
                    params.insert(name.to_owned(), DraftValue::from_text(value));
                }
            }
            Class::Param => keep(&mut params, secrets, key(name), name, value),
        }
    }
    for &(name, guide) in level.fixed {
        if !found.iter().any(|(n, _)| n == name) {
            notes.about(
                file,
                NoteKind::Changed,
                &[name],
                format!("has no {name}: polyops writes the guide's value {guide:?}"),
            );
        }
    }
    params
}

/// A hand-made file's parameters, each once, looked up by name.
struct Found<'a>(&'a [(String, String)]);

impl<'a> Found<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The attributes of a master file's APPLICATION elements, which are no
/// parameters (`config_files` carries the extra CONFIG_FILES entries).
fn is_master_entry(name: &str) -> bool {
    name.starts_with("APP_FILE_PATH")
        || name.starts_with("CONFIG_FILES")
        || matches!(
            name,
            "MISC_FILES"
                | "LOG_FILE_DIRECTORY"
                | "OVERRIDES_DIRECTORY"
                | "CONTACTS_DIRECTORY"
                | "LICENSE_DIRECTORY"
        )
}

/// How a value is shown in the report: quoted, or masked for a password.
pub(super) fn shown(name: &str, value: &str) -> String {
    if is_secret_name(name) {
        crate::site::secret::MASK.to_owned()
    } else {
        format!("{value:?}")
    }
}

/// Why a parameter cannot be kept at all, if it cannot.
fn unkeepable(name: &str, value: &str) -> Option<&'static str> {
    if is_master_entry(name) {
        Some("is an entry of a master file, not a parameter")
    } else if !looks_like_a_parameter(name) {
        Some("is not a Polycom parameter name")
    } else if !is_attribute_safe(value) {
        Some("has a control character in its value, which a site file cannot carry")
    } else {
        None
    }
}

/// Keep a parameter at a level: a secret goes to the secrets file.
fn keep(params: &mut Params, secrets: &mut Secrets, key: String, name: &str, value: &str) {
    if is_secret_name(name) {
        // An empty secret is one to fill in: plan refuses an empty one.
        if value.is_empty() {
            secrets.missing.push(key.clone());
        } else {
            secrets.values.insert(key.clone(), Secret::new(value));
        }
        params.insert(name.to_owned(), DraftValue::Secret(key));
    } else {
        params.insert(name.to_owned(), DraftValue::from_text(value));
    }
}

/// A report line for a field's parameter whose value polyops writes
/// otherwise: `is {v:?}: {then}` when the file sets it, `has no {name}:
/// {missing}` when it does not.
fn differs(
    notes: &mut ImportNotes,
    file: &str,
    name: &str,
    found: Option<&str>,
    then: &str,
    missing: &str,
) {
    let text = match found {
        Some(v) => format!("{name} is {v:?}: {then}"),
        None => format!("has no {name}: {missing}"),
    };
    notes.about(file, NoteKind::Changed, &[name], text);
}

/// A draft of site `hq` with these extensions.
#[cfg(test)]
fn draft_with(numbers: &[&str]) -> crate::import::Draft {
    let mut d = crate::import::Draft::new("hq", "dir:r", crate::import::DraftTarget::default());
    for n in numbers {
        d.extensions.push(crate::import::Extension {
            number: (*n).to_owned(),
            name: None,
            label: None,
            password: crate::import::extension_key("hq", n),
            params: Params::new(),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Draft;
    use crate::site::model::ALTIGEN_CFG;

    #[test]
    fn both_levels_sort_a_parameter_by_the_same_ladder() {
        let site = &altigen::LEVEL;
        let ext = &extension::LEVEL;
        assert_eq!(classify(site, "reg.1.server.1.port", "5060"), Class::Field);
        assert_eq!(classify(ext, "reg.1.label", "Ann"), Class::Field);
        assert_eq!(
            classify(site, "msg.bypassInstantMessage", "1"),
            Class::Shadowed
        );
        assert_eq!(
            classify(ext, "msg.bypassInstantMessage", "1"),
            Class::Guide("1")
        );
        assert_eq!(
            classify(ext, "se.pat.misc.1.name", "x"),
            Class::Derived("message_waiting_beep")
        );
        assert!(matches!(
            classify(site, "CONFIG_FILES", "x"),
            Class::Unkeepable(_)
        ));
        assert_eq!(
            classify(site, "call.lastCallReturnString", "#69"),
            Class::Guide("#69")
        );
        assert_eq!(classify(site, "dir.corp.password", "x"), Class::Param);
    }

    #[test]
    fn a_kept_guide_value_and_a_missing_one_are_both_reported() {
        let mut draft = Draft::new("hq", "dir:r", crate::import::DraftTarget::default());
        let (mut notes, mut secrets) = (ImportNotes::default(), Secrets::default());
        let found = vec![("call.lastCallReturnString".to_owned(), "*69".to_owned())];
        draft.params = map_params(
            &altigen::LEVEL,
            ALTIGEN_CFG,
            &found,
            &|n| n.to_owned(),
            &mut secrets,
            &mut notes,
        );
        assert_eq!(
            draft.params["call.lastCallReturnString"],
            DraftValue::Text("*69".to_owned())
        );
        assert!(notes
            .lines
            .iter()
            .any(|l| l.kind == NoteKind::Kept && l.text.contains("\"*69\"")));
        assert!(notes.covers(ALTIGEN_CFG, "tone.dtmf.onTime"));
        assert!(!notes.covers(ALTIGEN_CFG, "call.lastCallReturnString"));
    }
}
