//! Each `<number>.cfg` → an extension of the draft, and what the
//! extensions say together about the site-wide values (the server's
//! address, the registration expiry, message waiting).

use super::{differs, map_params, Found, Level};
use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::{extension_key, param_key, Draft, Extension, Field, Params, Secrets};
use crate::site::model::ALTIGEN_CFG;
use crate::site::params::FIXED_EXTENSION;
use crate::site::rules::{is_attribute_safe, is_host};
use crate::site::secret::Secret;

/// An extension file as read: its name on the target, its parameters in
/// order, each once.
pub(in crate::import) struct ExtFile {
    pub(in crate::import) name: String,
    pub(in crate::import) params: Vec<(String, String)>,
}

/// What each extension says about the site-wide values, gathered while
/// its file is mapped: (number, value).
#[derive(Default)]
pub(in crate::import) struct Sightings {
    servers: Vec<(String, String)>,
    expiries: Vec<(String, Option<u32>)>,
    /// (number, file, msg.mwi.1.callBack, msg.mwi.1.subscribe).
    mwi: Vec<(String, String, Option<String>, Option<String>)>,
}

/// Phones above which the guide raises the registration expiry to 600 s.
const MANY_PHONES: usize = 100;
const PASSWORD: &str = "reg.1.auth.password";
const SERVER: &str = "reg.1.server.1.address";
const EXPIRES: &str = "reg.1.server.1.expires";

/// An extension's level: what each `<number>.cfg` holds.
pub(super) const LEVEL: Level = Level {
    read_by_field: |name| {
        matches!(
            name,
            "reg.1.displayName"
                | "reg.1.address"
                | "reg.1.label"
                | "reg.1.auth.userId"
                | "reg.1.auth.password"
                | "reg.1.server.1.address"
                | "reg.1.server.1.expires"
                | "msg.mwi.1.callBack"
                | "msg.mwi.1.subscribe"
        )
    },
    fixed: FIXED_EXTENSION,
    shadowed: &[],
    derived_into: ALTIGEN_CFG,
    kept_in: "the extension's params",
};

/// Map extension `number`'s file onto an extension of the draft; what it
/// says about the site-wide values goes to `seen`.
pub(in crate::import) fn map_extension(
    number: &str,
    f: &ExtFile,
    site: &str,
    secrets: &mut Secrets,
    notes: &mut ImportNotes,
    seen: &mut Sightings,
) -> Extension {
    let file = f.name.as_str();
    let key = |name: &str| param_key(site, Some(number), name);
    let mut ext = Extension {
        number: number.to_owned(),
        name: None,
        label: None,
        password: extension_key(site, number),
        params: Params::new(),
    };
    ext.params = map_params(&LEVEL, file, &f.params, &key, secrets, notes);
    let found = Found(&f.params);
    names(file, &found, &mut ext, notes);
    password(file, &found, &ext, secrets, notes);
    match found.get(SERVER) {
        Some(v) => seen.servers.push((number.to_owned(), v.to_owned())),
        None => notes.about(
            file,
            NoteKind::Changed,
            &[SERVER],
            "has no reg.1.server.1.address: polyops writes server.address",
        ),
    }
    match found.get(EXPIRES) {
        Some(v) => seen.expiries.push((
            number.to_owned(),
            v.trim().parse::<u32>().ok().filter(|n| *n > 0),
        )),
        None => notes.about(
            file,
            NoteKind::Changed,
            &[EXPIRES],
            "has no reg.1.server.1.expires: polyops writes server.registration_expires",
        ),
    }
    seen.mwi.push((
        number.to_owned(),
        file.to_owned(),
        found.get("msg.mwi.1.callBack").map(str::to_owned),
        found.get("msg.mwi.1.subscribe").map(str::to_owned),
    ));
    ext
}

/// `name` and `label` (the number unless the file says otherwise), and
/// the parameters that must be the number.
fn names(file: &str, found: &Found, ext: &mut Extension, notes: &mut ImportNotes) {
    let number = ext.number.clone();
    for (param, field) in [("reg.1.displayName", "name"), ("reg.1.label", "label")] {
        match found.get(param) {
            Some(v) if v == number => {}
            Some(v) if is_attribute_safe(v) => {
                let v = Some(v.to_owned());
                if field == "name" {
                    ext.name = v;
                } else {
                    ext.label = v;
                }
            }
            Some(_) => notes.about(
                file,
                NoteKind::Changed,
                &[param],
                format!("{param} has a control character, which a site file cannot carry: polyops writes the number"),
            ),
            None => notes.about(
                file,
                NoteKind::Changed,
                &[param],
                format!("has no {param}: polyops writes the number, {number} (extensions[].{field})"),
            ),
        }
    }
    for param in ["reg.1.address", "reg.1.auth.userId"] {
        let value = found.get(param);
        if value != Some(number.as_str()) {
            differs(
                notes,
                file,
                param,
                value,
                &format!(
                    "polyops writes the extension's number, {number}, as the file's name says"
                ),
                &format!("polyops writes {number}"),
            );
        }
    }
}

/// The SIP password, into the secrets file, or a line to fill it in.
fn password(
    file: &str,
    found: &Found,
    ext: &Extension,
    secrets: &mut Secrets,
    notes: &mut ImportNotes,
) {
    match found.get(PASSWORD) {
        Some(v) if !v.is_empty() && crate::polycom::xml::can_carry(v) => {
            secrets.values.insert(ext.password.clone(), Secret::new(v));
        }
        value => {
            secrets.missing.push(ext.password.clone());
            // An empty password is no password: plan refuses one.
            let why = match value {
                Some("") => "its reg.1.auth.password is empty",
                Some(_) => {
                    "its reg.1.auth.password holds a character a configuration file cannot carry"
                }
                None => "it has no reg.1.auth.password",
            };
            notes.about(
                file,
                NoteKind::FillIn,
                &[PASSWORD],
                format!(
                    "{why}: set the extension's SIP password as {} in the secrets file",
                    ext.password
                ),
            );
        }
    }
}

/// The value most entries have (the first of those on a tie).
fn most_common<T: Clone + PartialEq>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

/// `server.address` and `server.registration_expires`: what most
/// extensions use; and each extension's message waiting, which polyops
/// writes from its number and the address.
pub(in crate::import) fn choose_server(
    draft: &mut Draft,
    seen: &Sightings,
    phones: usize,
    notes: &mut ImportNotes,
) {
    let Sightings {
        servers,
        expiries,
        mwi,
    } = seen;
    let file_of = |number: &str| {
        mwi.iter()
            .find(|(n, ..)| n == number)
            .map(|(_, f, ..)| f.clone())
            .unwrap_or_else(|| format!("{number}.cfg"))
    };
    let address = most_common(
        servers
            .iter()
            .map(|(_, a)| a.trim().to_owned())
            .filter(|a| is_host(a)),
    );
    match &address {
        Some(a) => draft.address = Field::Value(a.clone()),
        None => {
            draft.address = Field::FillIn(
                "FILL-IN: the MaxCS server's address (no <number>.cfg names a valid reg.1.server.1.address)".to_owned(),
            );
        }
    }
    for (number, a) in servers {
        if Some(a) != address.as_ref() {
            let new = address.as_deref().unwrap_or("the address you fill in");
            notes.about(
                &file_of(number),
                NoteKind::Changed,
                &["reg.1.server.1.address"],
                format!("reg.1.server.1.address is {a:?}: polyops writes the site's server.address, {new:?}, which most extensions use"),
            );
        }
    }
    let default = if phones > MANY_PHONES { 600 } else { 90 };
    let expires = most_common(expiries.iter().filter_map(|(_, e)| *e)).unwrap_or(default);
    if expires != default {
        draft.registration_expires = Some(expires);
    }
    for (number, e) in expiries {
        if *e != Some(expires) {
            notes.about(
                &file_of(number),
                NoteKind::Changed,
                &["reg.1.server.1.expires"],
                format!(
                    "reg.1.server.1.expires {}: polyops writes the site's {expires} (server.registration_expires), which most extensions use",
                    match e {
                        Some(e) => format!("is {e}"),
                        None => "is not a number of seconds".to_owned(),
                    }
                ),
            );
        }
    }
    let host = match &address {
        Some(a) if a.contains(':') => format!("[{a}]"),
        Some(a) => a.clone(),
        None => return,
    };
    for (number, file, callback, subscribe) in mwi {
        for (param, found, expected) in [
            ("msg.mwi.1.callBack", callback, format!("##@{host}")),
            ("msg.mwi.1.subscribe", subscribe, format!("{number}@{host}")),
        ] {
            if found.as_deref() != Some(expected.as_str()) {
                differs(
                    notes,
                    file,
                    param,
                    found.as_deref(),
                    &format!("polyops writes {expected:?} (from the number and server.address)"),
                    &format!("polyops writes {expected:?}"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_value_wins_and_the_first_breaks_a_tie() {
        assert_eq!(most_common([1, 2, 2, 3].into_iter()), Some(2));
        assert_eq!(most_common([3, 1].into_iter()), Some(3));
        assert_eq!(most_common(std::iter::empty::<u8>()), None);
    }
}
