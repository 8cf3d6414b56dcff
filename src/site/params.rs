//! The rules of docs/parameters.md for Polycom parameters, at any of the four levels
//! (site, model, extension, phone): what a name may be, which names
//! polyops sets itself, and which values are secrets.

use crate::polycom::catalog::catalog;
use crate::site::file::{ParamValue, ParamsFile};
use crate::site::model::{CheckedValue, Params};
use crate::site::rules::{is_attribute_safe, Checker};
use crate::site::secret::{Secret, SecretRef};
use crate::site::source::join_key;

/// Parameters polyops derives from a field of the site file, and the
/// field to set instead. `se.pat.misc.1.` and `prov.polling.` are
/// prefixes.
const DERIVED: &[(&str, &str)] = &[
    ("reg.1.displayName", "extensions[].name"),
    ("reg.1.address", "extensions[].number"),
    ("reg.1.label", "extensions[].label"),
    ("reg.1.auth.userId", "extensions[].number"),
    ("reg.1.auth.password", "extensions[].password"),
    ("reg.1.server.1.address", "server.address"),
    ("reg.1.server.1.expires", "server.registration_expires"),
    ("reg.1.server.1.port", "server.sip_port"),
    ("voIpProt.SIP.outboundProxy.port", "server.sip_port"),
    ("voIpProt.SIP.local.port", "server.sip_port"),
    ("msg.mwi.1.callBack", "server.address"),
    (
        "msg.mwi.1.subscribe",
        "extensions[].number and server.address",
    ),
    ("tcpIpApp.sntp.address", "time.sntp_server"),
    ("tcpIpApp.sntp.gmtOffset", "time.zone or time.gmt_offset"),
    (
        "tcpIpApp.sntp.daylightSavings.enable",
        "time.daylight_saving",
    ),
    (
        "dialplan.digitmap",
        "dialplan (extension_digits, extension_first_digits, local_digits or digitmap)",
    ),
    ("se.pat.misc.1.", "message_waiting_beep"),
    ("prov.polling.enabled", "provisioning.polling"),
    ("prov.polling.mode", "provisioning.polling"),
    ("prov.polling.time", "provisioning.polling"),
];

/// The guide's fixed values in `altigen.cfg` (§6.1).
pub const FIXED_SITE: &[(&str, &str)] = &[
    ("voIpProt.SIP.conference.address", "conf"),
    ("voIpProt.SIP.alertInfo.1.value", "info=alert-autoanswer"),
    ("voIpProt.SIP.alertInfo.1.class", "3"),
    ("voIpProt.SIP.alertInfo.2.value", "auto-answer"),
    ("voIpProt.SIP.alertInfo.2.class", "3"),
    ("tone.dtmf.rfc2833Payload", "101"),
    ("dialplan.removeEndOfDial", "0"),
    ("call.lastCallReturnString", "#69"),
    ("tone.dtmf.onTime", "120"),
    ("tone.dtmf.offTime", "120"),
];

/// The guide's fixed values in every `<number>.cfg` (§6.2).
pub const FIXED_EXTENSION: &[(&str, &str)] = &[
    ("msg.bypassInstantMessage", "1"),
    ("msg.mwi.1.callBackMode", "contact"),
];

/// The guide's silent MESSAGE_WAITING pattern that `altigen.cfg` carries
/// when `message_waiting_beep` is false (§6.1).
pub const SILENT_MESSAGE_WAITING: [(&str, &str); 7] = [
    ("se.pat.misc.1.name", "message waiting"),
    ("se.pat.misc.1.inst.1.type", "silence"),
    ("se.pat.misc.1.inst.1.value", "1"),
    ("se.pat.misc.1.inst.2.type", "silence"),
    ("se.pat.misc.1.inst.2.value", "2"),
    ("se.pat.misc.1.inst.3.type", "silence"),
    ("se.pat.misc.1.inst.3.value", "1"),
];

/// The field that sets a derived parameter.
pub fn derived_from(name: &str) -> Option<&'static str> {
    DERIVED
        .iter()
        .find(|(n, _)| {
            if n.ends_with('.') {
                name.starts_with(n)
            } else {
                name == *n
            }
        })
        .map(|(_, field)| *field)
}

/// The guide's value of a fixed parameter.
pub fn guide_value(name: &str) -> Option<&'static str> {
    FIXED_SITE
        .iter()
        .chain(FIXED_EXTENSION)
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

/// Whether a parameter holds a secret: its name says `password`.
pub fn is_secret_name(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// `a.b`, `reg.1.label`, `reg.1.acd-agent-available`: dot-separated
/// segments of letters, digits, `-` and `_`, starting with a letter.
pub(crate) fn looks_like_a_parameter(name: &str) -> bool {
    let mut segments = name.split('.');
    let first_ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    first_ok
        && segments.clone().count() >= 2
        && segments.all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Check the parameters at `path` (`params`, `models.IP650.params`,
/// `extensions[0].params`, `phones[2].params`) and turn them into values.
pub(super) fn check(c: &mut Checker<'_>, path: &str, params: &ParamsFile) -> Params {
    let mut out = Params::new();
    for (name, value) in params {
        let at = join_key(path, name);
        if !check_name(c, &at, name) {
            continue;
        }
        if let Some(v) = check_value(c, &at, name, value) {
            out.insert(name.clone(), v);
        }
    }
    out
}

/// The name rules; `false` when the parameter cannot be written at all.
fn check_name(c: &mut Checker<'_>, at: &str, name: &str) -> bool {
    let printable = crate::printable::printable(name);
    if matches!(
        name,
        "CONFIG_FILES" | "APP_FILE_PATH" | "MISC_FILES" | "LOG_FILE_DIRECTORY"
    ) || name.starts_with("CONFIG_FILES")
    {
        c.error(
            at,
            format!("{printable} is an entry of the phone's master file <mac>.cfg, not a parameter; extra configuration files go in config_files"),
        );
        return false;
    }
    if !looks_like_a_parameter(name) {
        c.error(
            at,
            format!("{printable:?} is not a Polycom parameter name (segments of letters, digits, - and _ joined by dots, e.g. reg.1.label)"),
        );
        return false;
    }
    if let Some(field) = derived_from(name) {
        c.error(
            at,
            format!("{name} is set by polyops from {field}; set that instead"),
        );
        return false;
    }
    if let Some(value) = guide_value(name) {
        c.warning(
            at,
            format!(
                "{name} is one of the guide's fixed values ({value:?}); this value replaces it"
            ),
        );
    } else if !catalog().knows(name) {
        let hint = match catalog().nearest(name) {
            Some(near) => format!("; did you mean {near}?"),
            None => String::new(),
        };
        c.warning(
            at,
            format!("{name} is not a parameter of SIP 3.2.7 (numbers count as indices){hint}"),
        );
    }
    true
}

fn check_value(
    c: &mut Checker<'_>,
    at: &str,
    name: &str,
    value: &ParamValue,
) -> Option<CheckedValue> {
    let secret = |reference: SecretRef| CheckedValue::Secret {
        field: at.to_owned(),
        reference,
    };
    let text = match value {
        ParamValue::Env(r) => return Some(secret(SecretRef::Env(r.clone()))),
        ParamValue::File(r) => return Some(secret(SecretRef::File(r.clone()))),
        ParamValue::Bool(_) if is_secret_name(name) => {
            c.error(at, "a password is a string, not a boolean");
            return None;
        }
        ParamValue::Bool(b) => (if *b { "1" } else { "0" }).to_owned(),
        ParamValue::Integer(n) => n.to_string(),
        ParamValue::Text(t) => t.clone(),
    };
    if !is_attribute_safe(&text) {
        c.error(at, "must not contain control characters (tab, newline…)");
        return None;
    }
    if is_secret_name(name) {
        c.warning(
            at,
            "literal password in the site file; use {env: NAME} or {secret: KEY}",
        );
        return Some(secret(SecretRef::Literal(Secret::new(text))));
    }
    Some(CheckedValue::Text(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_polycom_parameters() {
        for ok in [
            "a.b",
            "reg.1.label",
            "reg.1.acd-agent-available",
            "up.a_b.c",
        ] {
            assert!(looks_like_a_parameter(ok), "{ok}");
        }
        for bad in [
            "ab", ".a.b", "a..b", "a.b.", "1a.b", "a b.c", "a.b\n", "a/b.c", "",
        ] {
            assert!(!looks_like_a_parameter(bad), "{bad:?}");
        }
    }

    #[test]
    fn derived_parameters_name_their_field() {
        assert_eq!(derived_from("reg.1.label"), Some("extensions[].label"));
        assert_eq!(
            derived_from("se.pat.misc.1.inst.2.type"),
            Some("message_waiting_beep")
        );
        assert_eq!(derived_from("reg.2.label"), None);
        assert_eq!(derived_from("prov.polling.period"), None);
    }

    #[test]
    fn password_names_are_secret_in_any_case() {
        assert!(is_secret_name("dir.corp.password"));
        assert!(is_secret_name("voIpProt.SIP.authPassword"));
        assert!(!is_secret_name("reg.1.auth.userId"));
    }
}
