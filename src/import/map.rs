//! The mapping of docs/import.md, file by file: the parameters of `altigen.cfg`
//! and of each `<number>.cfg` to the fields that render them, or to
//! `params` at their level, and what the report says about each one that
//! polyops will write otherwise. `root` reads the files and calls these.

use std::collections::BTreeMap;

use crate::import::report::{Kind, Report};
use crate::import::{
    extension_key, param_key, Dialplan, Draft, Extension, Field, Params, Secrets, Value,
};
use crate::site::model::{digitmap, ALTIGEN_CFG};
use crate::site::params::{
    derived_from, is_secret_name, looks_like_a_parameter, FIXED_EXTENSION, FIXED_SITE,
};
use crate::site::rules::{is_attribute_safe, is_host};
use crate::site::secret::Secret;

/// An extension file as read: its name on the target, its parameters in
/// order, each once.
pub(super) struct ExtFile {
    pub(super) name: String,
    pub(super) params: Vec<(String, String)>,
}

/// What each extension says about the site-wide values, gathered while
/// its file is mapped: (number, value).
#[derive(Default)]
pub(super) struct Sightings {
    pub(super) servers: Vec<(String, String)>,
    pub(super) expiries: Vec<(String, Option<u32>)>,
    /// (number, file, msg.mwi.1.callBack, msg.mwi.1.subscribe).
    pub(super) mwi: Vec<(String, String, Option<String>, Option<String>)>,
}

/// Phones above which the guide raises the registration expiry to 600 s.
const MANY_PHONES: usize = 100;
const DEFAULT_PORT: u16 = 10060;
const DEFAULT_SNTP: &str = "time.nist.gov";

/// The SIP ports of `altigen.cfg`, all `server.sip_port`.
const PORTS: [&str; 3] = [
    "reg.1.server.1.port",
    "voIpProt.SIP.outboundProxy.port",
    "voIpProt.SIP.local.port",
];

/// The guide's silent MESSAGE_WAITING pattern (`message_waiting_beep: false`).
const SILENT: [(&str, &str); 7] = crate::site::params::SILENT_MESSAGE_WAITING;

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

/// Whether a parameter can be kept at all; a report line when not.
fn keepable(file: &str, name: &str, value: &str, report: &mut Report) -> bool {
    let why = if is_master_entry(name) {
        "is an entry of a master file, not a parameter"
    } else if !looks_like_a_parameter(name) {
        "is not a Polycom parameter name"
    } else if !is_attribute_safe(value) {
        "has a control character in its value, which a site file cannot carry"
    } else {
        return true;
    };
    report.about(
        file,
        Kind::LeftOut,
        &[name],
        format!("{} {why}: not imported", crate::mask::printable(name)),
    );
    false
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
        params.insert(name.to_owned(), Value::Secret(key));
    } else {
        params.insert(name.to_owned(), Value::from_text(value));
    }
}

pub(super) fn map_site(
    file: &str,
    params: &[(String, String)],
    draft: &mut Draft,
    secrets: &mut Secrets,
    report: &mut Report,
    digitmap_raw: &mut Option<String>,
) {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut pattern: BTreeMap<&str, &str> = BTreeMap::new();
    let mut polling: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in params {
        let (name, value) = (name.as_str(), value.as_str());
        if PORTS.contains(&name)
            || matches!(
                name,
                "tcpIpApp.sntp.address"
                    | "tcpIpApp.sntp.gmtOffset"
                    | "tcpIpApp.sntp.daylightSavings.enable"
                    | "dialplan.digitmap"
            )
        {
            continue;
        }
        if name.starts_with("se.pat.misc.1.") {
            pattern.insert(name, value);
            continue;
        }
        if matches!(
            name,
            "prov.polling.enabled" | "prov.polling.mode" | "prov.polling.time"
        ) {
            polling.insert(name, value);
            continue;
        }
        if FIXED_EXTENSION.iter().any(|(n, _)| *n == name) {
            report.about(
                file,
                Kind::LeftOut,
                &[name],
                format!("{name} is set in every <number>.cfg, which the phone reads first: this one is shadowed, and not imported"),
            );
            continue;
        }
        if let Some(field) = derived_from(name) {
            report.about(
                file,
                Kind::LeftOut,
                &[name],
                format!("{name} is written by polyops from {field} into <number>.cfg: not imported here"),
            );
            continue;
        }
        if !keepable(file, name, value, report) {
            continue;
        }
        if let Some((_, guide)) = FIXED_SITE.iter().find(|(n, _)| *n == name) {
            if value != *guide {
                report.add(
                    file,
                    Kind::Kept,
                    format!("{name} is {value:?}, not the guide's {guide:?}: kept in params (validate warns that it replaces the guide's value)"),
                );
                draft
                    .params
                    .insert(name.to_owned(), Value::from_text(value));
            }
            continue;
        }
        let key = param_key(&draft.site, None, name);
        keep(&mut draft.params, secrets, key, name, value);
    }
    for &(name, guide) in FIXED_SITE {
        if get(name).is_none() {
            report.about(
                file,
                Kind::Changed,
                &[name],
                format!("has no {name}: polyops writes the guide's value {guide:?}"),
            );
        }
    }

    // server.sip_port
    let port = PORTS.iter().find_map(|n| {
        get(n)
            .and_then(|v| v.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)
    });
    let port = port.unwrap_or(DEFAULT_PORT);
    if port != DEFAULT_PORT {
        draft.sip_port = Some(port);
    }
    for name in PORTS {
        match get(name) {
            Some(v) if v == port.to_string() => {}
            Some(v) => report.about(
                file,
                Kind::Changed,
                &[name],
                format!("{name} is {v:?}: polyops writes the site's SIP port, {port} (server.sip_port), to all three ports"),
            ),
            None => report.about(
                file,
                Kind::Changed,
                &[name],
                format!("has no {name}: polyops writes {port} (server.sip_port)"),
            ),
        }
    }

    // time
    let sntp = "tcpIpApp.sntp.address";
    match get(sntp) {
        Some(v) if is_attribute_safe(v) && !v.contains(' ') && !v.is_empty() => {
            if v != DEFAULT_SNTP {
                draft.sntp_server = Some(v.to_owned());
            }
        }
        Some(v) => report.about(
            file,
            Kind::Changed,
            &[sntp],
            format!(
                "{sntp} {v:?} is not a host name: polyops writes {DEFAULT_SNTP} (time.sntp_server)"
            ),
        ),
        None => report.about(
            file,
            Kind::Changed,
            &[sntp],
            format!("has no {sntp}: polyops writes {DEFAULT_SNTP} (time.sntp_server)"),
        ),
    }
    let gmt = "tcpIpApp.sntp.gmtOffset";
    let offset = get(gmt).map(|v| (v, v.trim().parse::<i32>().ok()));
    match offset {
        Some((_, Some(n))) if n % 900 == 0 && (-43200..=50400).contains(&n) => {
            draft.gmt_offset = Field::Value(n);
            draft.gmt_note = Some(format!("{gmt}=\"{n}\" in {file}"));
        }
        Some((v, _)) => {
            report.about(
                file,
                Kind::FillIn,
                &[gmt],
                format!("{gmt} is {v:?}, not a time zone polyops can write (seconds, a multiple of 900 from -43200 to 50400): fill in time.zone"),
            );
            draft.gmt_note = Some(format!(
                "{file} sets {gmt}={v:?}: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
            ));
        }
        None => {
            report.about(
                file,
                Kind::FillIn,
                &[gmt],
                format!("has no {gmt}: fill in time.zone (a wrong time zone is silent on the phones, so it is never guessed)"),
            );
            draft.gmt_note = Some(format!(
                "{file} sets no {gmt}: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
            ));
        }
    }
    let dst = "tcpIpApp.sntp.daylightSavings.enable";
    match get(dst) {
        Some("1") => {}
        Some("0") => draft.daylight_saving = Some(false),
        Some(v) => report.about(
            file,
            Kind::Changed,
            &[dst],
            format!(
                "{dst} is {v:?}, neither 1 nor 0: polyops writes 1 (time.daylight_saving: true)"
            ),
        ),
        None => report.about(
            file,
            Kind::Changed,
            &[dst],
            format!("has no {dst}: polyops writes 1 (time.daylight_saving: true)"),
        ),
    }
    *digitmap_raw = get("dialplan.digitmap").map(str::to_owned);

    // message_waiting_beep
    if pattern.is_empty() {
        draft.message_waiting_beep = true;
    } else {
        for (name, value) in SILENT {
            match pattern.get(name) {
                Some(v) if *v == value => {}
                Some(v) => report.about(
                    file,
                    Kind::Changed,
                    &[name],
                    format!("{name} is {v:?}: polyops writes the guide's silent pattern ({value:?}; message_waiting_beep: false)"),
                ),
                None => report.about(
                    file,
                    Kind::Changed,
                    &[name],
                    format!("has no {name}: polyops writes the guide's silent pattern ({value:?}; message_waiting_beep: false)"),
                ),
            }
        }
        for &name in pattern.keys() {
            if !SILENT.iter().any(|(n, _)| *n == name) {
                report.about(
                    file,
                    Kind::LeftOut,
                    &[name],
                    format!("{name} is not part of the guide's silent pattern, which polyops writes: not imported"),
                );
            }
        }
    }

    // provisioning.polling
    if !polling.is_empty() {
        let time = polling
            .get("prov.polling.time")
            .copied()
            .unwrap_or_default();
        let hhmm = time.len() == 5
            && time.as_bytes()[2] == b':'
            && time[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && time[3..].parse::<u8>().is_ok_and(|m| m < 60)
            && time.bytes().filter(u8::is_ascii_digit).count() == 4;
        if polling.get("prov.polling.enabled") == Some(&"1")
            && polling.get("prov.polling.mode") == Some(&"abs")
            && hhmm
        {
            draft.polling = Some(time.to_owned());
        } else {
            for name in polling.keys() {
                report.about(
                    file,
                    Kind::LeftOut,
                    &[name],
                    format!("{name}: polyops writes polling only as prov.polling.enabled=\"1\" mode=\"abs\" time=\"HH:MM\" (provisioning.polling); not imported"),
                );
            }
        }
    }
}

pub(super) fn map_extension(
    number: &str,
    f: &ExtFile,
    site: &str,
    secrets: &mut Secrets,
    report: &mut Report,
    seen: &mut Sightings,
) -> Extension {
    let file = f.name.as_str();
    let get = |name: &str| {
        f.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut ext = Extension {
        number: number.to_owned(),
        name: None,
        label: None,
        password: extension_key(site, number),
        params: Params::new(),
    };
    for (name, value) in &f.params {
        let (name, value) = (name.as_str(), value.as_str());
        if matches!(
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
        ) {
            continue;
        }
        if let Some(field) = derived_from(name) {
            report.about(
                file,
                Kind::LeftOut,
                &[name],
                format!("{name} is written by polyops from {field} into {ALTIGEN_CFG}: not imported here"),
            );
            continue;
        }
        if !keepable(file, name, value, report) {
            continue;
        }
        if let Some((_, guide)) = FIXED_EXTENSION.iter().find(|(n, _)| *n == name) {
            if value != *guide {
                report.add(
                    file,
                    Kind::Kept,
                    format!("{name} is {value:?}, not the guide's {guide:?}: kept in the extension's params (validate warns that it replaces the guide's value)"),
                );
                ext.params.insert(name.to_owned(), Value::from_text(value));
            }
            continue;
        }
        let key = param_key(site, Some(number), name);
        keep(&mut ext.params, secrets, key, name, value);
    }
    for &(name, guide) in FIXED_EXTENSION {
        if get(name).is_none() {
            report.about(
                file,
                Kind::Changed,
                &[name],
                format!("has no {name}: polyops writes the guide's value {guide:?}"),
            );
        }
    }
    for (param, field) in [("reg.1.displayName", "name"), ("reg.1.label", "label")] {
        match get(param) {
            Some(v) if v == number => {}
            Some(v) if is_attribute_safe(v) => {
                let v = Some(v.to_owned());
                if field == "name" {
                    ext.name = v;
                } else {
                    ext.label = v;
                }
            }
            Some(_) => report.about(
                file,
                Kind::Changed,
                &[param],
                format!("{param} has a control character, which a site file cannot carry: polyops writes the number"),
            ),
            None => report.about(
                file,
                Kind::Changed,
                &[param],
                format!("has no {param}: polyops writes the number, {number} (extensions[].{field})"),
            ),
        }
    }
    for param in ["reg.1.address", "reg.1.auth.userId"] {
        match get(param) {
            Some(v) if v == number => {}
            Some(v) => report.about(
                file,
                Kind::Changed,
                &[param],
                format!("{param} is {v:?}: polyops writes the extension's number, {number}, as the file's name says"),
            ),
            None => report.about(
                file,
                Kind::Changed,
                &[param],
                format!("has no {param}: polyops writes {number}"),
            ),
        }
    }
    let password = "reg.1.auth.password";
    match get(password) {
        Some(v) if !v.is_empty() && crate::polycom::xml::can_carry(v) => {
            secrets.values.insert(ext.password.clone(), Secret::new(v));
        }
        found => {
            secrets.missing.push(ext.password.clone());
            // An empty password is no password: plan refuses one.
            let why = match found {
                Some("") => "its reg.1.auth.password is empty",
                Some(_) => {
                    "its reg.1.auth.password holds a character a configuration file cannot carry"
                }
                None => "it has no reg.1.auth.password",
            };
            report.about(
                file,
                Kind::FillIn,
                &[password],
                format!(
                    "{why}: set the extension's SIP password as {} in the secrets file",
                    ext.password
                ),
            );
        }
    }
    match get("reg.1.server.1.address") {
        Some(v) => seen.servers.push((number.to_owned(), v.to_owned())),
        None => report.about(
            file,
            Kind::Changed,
            &["reg.1.server.1.address"],
            "has no reg.1.server.1.address: polyops writes server.address",
        ),
    }
    let expires = "reg.1.server.1.expires";
    match get(expires) {
        Some(v) => seen.expiries.push((
            number.to_owned(),
            v.trim().parse::<u32>().ok().filter(|n| *n > 0),
        )),
        None => report.about(
            file,
            Kind::Changed,
            &[expires],
            "has no reg.1.server.1.expires: polyops writes server.registration_expires",
        ),
    }
    seen.mwi.push((
        number.to_owned(),
        file.to_owned(),
        get("msg.mwi.1.callBack").map(str::to_owned),
        get("msg.mwi.1.subscribe").map(str::to_owned),
    ));
    ext
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

pub(super) fn choose_server(
    draft: &mut Draft,
    seen: &Sightings,
    phones: usize,
    report: &mut Report,
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
            report.about(
                &file_of(number),
                Kind::Changed,
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
            report.about(
                &file_of(number),
                Kind::Changed,
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
            match found {
                Some(v) if *v == expected => {}
                Some(v) => report.about(
                    file,
                    Kind::Changed,
                    &[param],
                    format!("{param} is {v:?}: polyops writes {expected:?} (from the number and server.address)"),
                ),
                None => report.about(
                    file,
                    Kind::Changed,
                    &[param],
                    format!("has no {param}: polyops writes {expected:?}"),
                ),
            }
        }
    }
}

/// The dial plan fields when the digit map is one polyops generates and
/// the extensions fit it; else the digit map as it is, with the fields
/// set from the extensions so that the site validates.
pub(super) fn choose_dialplan(
    draft: &mut Draft,
    raw: Option<&str>,
    file: Option<&str>,
    report: &mut Report,
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
            report.about(
                file,
                Kind::Changed,
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
        report.about(
            file.unwrap_or(ALTIGEN_CFG),
            Kind::Changed,
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
        report.add(
            file.unwrap_or(ALTIGEN_CFG),
            Kind::Note,
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

    #[test]
    fn the_most_common_value_wins_and_the_first_breaks_a_tie() {
        assert_eq!(most_common([1, 2, 2, 3].into_iter()), Some(2));
        assert_eq!(most_common([3, 1].into_iter()), Some(3));
        assert_eq!(most_common(std::iter::empty::<u8>()), None);
    }

    fn draft_with(numbers: &[&str]) -> Draft {
        let mut d = Draft::new("hq", "dir:r", crate::import::DraftTarget::default());
        for n in numbers {
            d.extensions.push(Extension {
                number: (*n).to_owned(),
                name: None,
                label: None,
                password: extension_key("hq", n),
                params: Params::new(),
            });
        }
        d
    }

    #[test]
    fn a_generated_digit_map_becomes_the_dial_plan_fields() {
        let mut d = draft_with(&["2001", "2999"]);
        let mut r = Report::default();
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
        let mut r = Report::default();
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
        let mut r = Report::default();
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

    fn site(params: &[(&str, &str)]) -> (Draft, Report, Secrets) {
        let mut d = draft_with(&[]);
        let (mut r, mut s) = (Report::default(), Secrets::default());
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let mut raw = None;
        map_site(ALTIGEN_CFG, &params, &mut d, &mut s, &mut r, &mut raw);
        (d, r, s)
    }

    #[test]
    fn the_site_file_takes_each_value_from_its_parameter() {
        let (d, r, s) = site(&[
            ("tcpIpApp.sntp.gmtOffset", "19800"),
            ("tcpIpApp.sntp.daylightSavings.enable", "0"),
            ("reg.1.server.1.port", "5060"),
            ("msg.bypassInstantMessage", "0"),
            ("dir.corp.password", "x-s3cret"),
            ("se.pat.misc.1.name", "message waiting"),
        ]);
        assert_eq!(d.gmt_offset, Field::Value(19800));
        assert_eq!(d.daylight_saving, Some(false));
        assert_eq!(d.sip_port, Some(5060));
        // Part of the silent pattern: the rest is written, and said so.
        assert!(!d.message_waiting_beep);
        assert!(r.covers(ALTIGEN_CFG, "se.pat.misc.1.inst.2.value"));
        // Shadowed by every <number>.cfg: not imported.
        assert!(!d.params.contains_key("msg.bypassInstantMessage"));
        assert!(r.covers(ALTIGEN_CFG, "msg.bypassInstantMessage"));
        assert_eq!(
            d.params["dir.corp.password"],
            Value::Secret("hq/dir.corp.password".to_owned())
        );
        assert_eq!(s.values["hq/dir.corp.password"].expose(), "x-s3cret");
        assert!(!r.lines.iter().any(|l| l.text.contains("x-s3cret")));
        // The other ports and the missing values are named.
        assert!(r.covers(ALTIGEN_CFG, "voIpProt.SIP.local.port"));
        assert!(r.covers(ALTIGEN_CFG, "tcpIpApp.sntp.address"));
        assert!(r.covers(ALTIGEN_CFG, "call.lastCallReturnString"));
    }

    #[test]
    fn an_offset_polyops_cannot_write_is_to_be_filled_in() {
        for bad in ["-28801", "abc", "99999"] {
            let (d, r, _) = site(&[("tcpIpApp.sntp.gmtOffset", bad)]);
            assert!(matches!(d.gmt_offset, Field::FillIn(_)), "{bad}");
            assert!(r.lines.iter().any(|l| l.kind == Kind::FillIn), "{bad}");
        }
        let (d, _, _) = site(&[]);
        assert!(d.message_waiting_beep, "no pattern: the beep is kept");
    }
}
