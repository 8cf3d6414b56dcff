//! `altigen.cfg` → the site's fields (`server.sip_port`, `time`,
//! `message_waiting_beep`, `provisioning.polling`) and its `params`.

use std::collections::BTreeMap;

use super::{differs, map_params, Found, Level};
use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::{param_key, Draft, Field, Secrets};
use crate::site::params::{FIXED_EXTENSION, FIXED_SITE, SILENT_MESSAGE_WAITING};
use crate::site::rules::is_attribute_safe;

const DEFAULT_PORT: u16 = 10060;
const DEFAULT_SNTP: &str = "time.nist.gov";
const SNTP: &str = "tcpIpApp.sntp.address";
const GMT_OFFSET: &str = "tcpIpApp.sntp.gmtOffset";
const DAYLIGHT_SAVING: &str = "tcpIpApp.sntp.daylightSavings.enable";
const DIGITMAP: &str = "dialplan.digitmap";
/// The prefix of the MESSAGE_WAITING pattern's parameters.
const PATTERN: &str = "se.pat.misc.1.";
const POLLING: [&str; 3] = [
    "prov.polling.enabled",
    "prov.polling.mode",
    "prov.polling.time",
];

/// The SIP ports of `altigen.cfg`, all `server.sip_port`.
const PORTS: [&str; 3] = [
    "reg.1.server.1.port",
    "voIpProt.SIP.outboundProxy.port",
    "voIpProt.SIP.local.port",
];

/// The guide's silent MESSAGE_WAITING pattern (`message_waiting_beep: false`).
const SILENT: [(&str, &str); 7] = SILENT_MESSAGE_WAITING;

/// The site's level: what `altigen.cfg` holds.
pub(super) const LEVEL: Level = Level {
    read_by_field: |name| {
        PORTS.contains(&name)
            || [SNTP, GMT_OFFSET, DAYLIGHT_SAVING, DIGITMAP].contains(&name)
            || name.starts_with(PATTERN)
            || POLLING.contains(&name)
    },
    fixed: FIXED_SITE,
    shadowed: FIXED_EXTENSION,
    derived_into: "<number>.cfg",
    kept_in: "params",
};

/// Map `altigen.cfg`'s parameters onto the draft; its digit map, as
/// written, goes to `digitmap_raw` for [`super::choose_dialplan`].
pub(in crate::import) fn map_site(
    file: &str,
    params: &[(String, String)],
    draft: &mut Draft,
    secrets: &mut Secrets,
    notes: &mut ImportNotes,
    digitmap_raw: &mut Option<String>,
) {
    let site = draft.site.clone();
    let key = |name: &str| param_key(&site, None, name);
    let kept = map_params(&LEVEL, file, params, &key, secrets, notes);
    draft.params.extend(kept);
    let found = Found(params);
    sip_port(file, &found, draft, notes);
    time(file, &found, draft, notes);
    *digitmap_raw = found.get(DIGITMAP).map(str::to_owned);
    message_waiting(file, params, draft, notes);
    polling(file, params, draft, notes);
}

/// `server.sip_port`: the first of the ports that is one.
fn sip_port(file: &str, found: &Found, draft: &mut Draft, notes: &mut ImportNotes) {
    let port = PORTS.iter().find_map(|n| {
        found
            .get(n)
            .and_then(|v| v.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)
    });
    let port = port.unwrap_or(DEFAULT_PORT);
    if port != DEFAULT_PORT {
        draft.sip_port = Some(port);
    }
    for name in PORTS {
        let value = found.get(name);
        if value != Some(port.to_string().as_str()) {
            differs(
                notes,
                file,
                name,
                value,
                &format!("polyops writes the site's SIP port, {port} (server.sip_port), to all three ports"),
                &format!("polyops writes {port} (server.sip_port)"),
            );
        }
    }
}

/// `time`: the SNTP server, the offset from GMT, daylight saving.
fn time(file: &str, found: &Found, draft: &mut Draft, notes: &mut ImportNotes) {
    match found.get(SNTP) {
        Some(v) if is_attribute_safe(v) && !v.contains(' ') && !v.is_empty() => {
            if v != DEFAULT_SNTP {
                draft.sntp_server = Some(v.to_owned());
            }
        }
        Some(v) => notes.about(
            file,
            NoteKind::Changed,
            &[SNTP],
            format!(
                "{SNTP} {v:?} is not a host name: polyops writes {DEFAULT_SNTP} (time.sntp_server)"
            ),
        ),
        None => notes.about(
            file,
            NoteKind::Changed,
            &[SNTP],
            format!("has no {SNTP}: polyops writes {DEFAULT_SNTP} (time.sntp_server)"),
        ),
    }
    gmt_offset(file, found, draft, notes);
    match found.get(DAYLIGHT_SAVING) {
        Some("1") => {}
        Some("0") => draft.daylight_saving = Some(false),
        Some(v) => notes.about(
            file,
            NoteKind::Changed,
            &[DAYLIGHT_SAVING],
            format!(
                "{DAYLIGHT_SAVING} is {v:?}, neither 1 nor 0: polyops writes 1 (time.daylight_saving: true)"
            ),
        ),
        None => notes.about(
            file,
            NoteKind::Changed,
            &[DAYLIGHT_SAVING],
            format!("has no {DAYLIGHT_SAVING}: polyops writes 1 (time.daylight_saving: true)"),
        ),
    }
}

/// The offset from GMT: never guessed, since a wrong one is silent on the
/// phones.
fn gmt_offset(file: &str, found: &Found, draft: &mut Draft, notes: &mut ImportNotes) {
    let gmt = GMT_OFFSET;
    match found.get(gmt).map(|v| (v, v.trim().parse::<i32>().ok())) {
        Some((_, Some(n))) if n % 900 == 0 && (-43200..=50400).contains(&n) => {
            draft.gmt_offset = Field::Value(n);
            draft.gmt_note = Some(format!("{gmt}=\"{n}\" in {file}"));
        }
        Some((v, _)) => {
            notes.about(
                file,
                NoteKind::FillIn,
                &[gmt],
                format!("{gmt} is {v:?}, not a time zone polyops can write (seconds, a multiple of 900 from -43200 to 50400): fill in time.zone"),
            );
            draft.gmt_note = Some(format!(
                "{file} sets {gmt}={v:?}: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
            ));
        }
        None => {
            notes.about(
                file,
                NoteKind::FillIn,
                &[gmt],
                format!("has no {gmt}: fill in time.zone (a wrong time zone is silent on the phones, so it is never guessed)"),
            );
            draft.gmt_note = Some(format!(
                "{file} sets no {gmt}: eastern, central, mountain or pacific (or gmt_offset: SECONDS instead)"
            ));
        }
    }
}

/// `message_waiting_beep`: false when the file holds a pattern, which is
/// then the guide's silent one.
fn message_waiting(
    file: &str,
    params: &[(String, String)],
    draft: &mut Draft,
    notes: &mut ImportNotes,
) {
    let pattern: BTreeMap<&str, &str> = params
        .iter()
        .filter(|(n, _)| n.starts_with(PATTERN))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if pattern.is_empty() {
        draft.message_waiting_beep = true;
        return;
    }
    for (name, value) in SILENT {
        let found = pattern.get(name).copied();
        if found != Some(value) {
            let then = format!(
                "polyops writes the guide's silent pattern ({value:?}; message_waiting_beep: false)"
            );
            differs(notes, file, name, found, &then, &then);
        }
    }
    for &name in pattern.keys() {
        if !SILENT.iter().any(|(n, _)| *n == name) {
            notes.about(
                file,
                NoteKind::LeftOut,
                &[name],
                format!("{name} is not part of the guide's silent pattern, which polyops writes: not imported"),
            );
        }
    }
}

/// `provisioning.polling`: only the one shape polyops writes.
fn polling(file: &str, params: &[(String, String)], draft: &mut Draft, notes: &mut ImportNotes) {
    let polling: BTreeMap<&str, &str> = params
        .iter()
        .filter(|(n, _)| POLLING.contains(&n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if polling.is_empty() {
        return;
    }
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
        return;
    }
    for name in polling.keys() {
        notes.about(
            file,
            NoteKind::LeftOut,
            &[name],
            format!("{name}: polyops writes polling only as prov.polling.enabled=\"1\" mode=\"abs\" time=\"HH:MM\" (provisioning.polling); not imported"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::map::draft_with;
    use crate::import::DraftValue;
    use crate::site::model::ALTIGEN_CFG;

    fn site(params: &[(&str, &str)]) -> (Draft, ImportNotes, Secrets) {
        let mut d = draft_with(&[]);
        let (mut r, mut s) = (ImportNotes::default(), Secrets::default());
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
            DraftValue::Secret("hq/dir.corp.password".to_owned())
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
            assert!(r.lines.iter().any(|l| l.kind == NoteKind::FillIn), "{bad}");
        }
        let (d, _, _) = site(&[]);
        assert!(d.message_waiting_beep, "no pattern: the beep is kept");
    }
}
