//! A draft as the text of a site file, written the way a person writes
//! one: only what differs from the defaults, strings quoted, a comment
//! where a value came from somewhere worth knowing or must be filled in.
//! And the secrets file beside it.

use crate::import::{Draft, Field, Secrets, Value};
use crate::site::file::{Model, Zone};

/// The zone of an offset, when it is one of the guide's four.
pub fn zone_of(offset: i32) -> Option<Zone> {
    [Zone::Eastern, Zone::Central, Zone::Mountain, Zone::Pacific]
        .into_iter()
        .find(|z| z.gmt_offset() == offset)
}

fn zone_name(z: Zone) -> &'static str {
    match z {
        Zone::Eastern => "eastern",
        Zone::Central => "central",
        Zone::Mountain => "mountain",
        Zone::Pacific => "pacific",
    }
}

/// A YAML double-quoted scalar that reads back as exactly `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if crate::site::name::is_unprintable(c) || c == '\u{feff}' => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment's text on one line, whatever it quotes.
fn comment(text: &str) -> String {
    crate::mask::printable(text).replace(['\n', '\r'], " ")
}

fn value(v: &Value) -> String {
    match v {
        Value::Text(t) => quote(t),
        Value::Integer(n) => n.to_string(),
        Value::Secret(key) => format!("{{secret: {}}}", quote(key)),
    }
}

/// The site file's text. `stand_ins`: what is to be filled in gets a
/// valid stand-in and the FTP password is left out, so that the text can
/// be loaded and rendered to compare it with the target (`verify`).
pub fn site_yaml(d: &Draft, stand_ins: bool) -> String {
    let mut y = String::new();
    let push = |y: &mut String, line: String| {
        y.push_str(&line);
        y.push('\n');
    };
    push(
        &mut y,
        format!(
            "# Site {}, imported by `polyops import` from {}.",
            d.site,
            comment(&d.source)
        ),
    );
    push(
        &mut y,
        format!(
            "# Review it with the import's report; then `polyops plan {}` shows what apply does.",
            d.site
        ),
    );
    push(&mut y, format!("site: {}", d.site));
    push(&mut y, "target:".to_owned());
    push(&mut y, format!("  url: {}", quote(&d.target.url)));
    if let Some(user) = &d.target.user {
        push(&mut y, format!("  user: {}", quote(user)));
    }
    if d.target.password_env && !stand_ins {
        push(&mut y, "  password: {env: POLYOPS_FTP_PASSWORD}".to_owned());
    }
    if let Some(ca) = &d.target.ca_file {
        push(&mut y, format!("  ca_file: {}", quote(ca)));
    }

    push(&mut y, "server:".to_owned());
    match (&d.address, stand_ins) {
        (Field::Value(a), _) => push(&mut y, format!("  address: {}", quote(a))),
        (Field::FillIn(_), true) => push(&mut y, "  address: \"192.0.2.1\"".to_owned()),
        (Field::FillIn(why), false) => push(
            &mut y,
            format!(
                "  address: {}",
                quote(&format!("FILL IN {}", why.trim_start_matches("FILL-IN: ")))
            ),
        ),
    }
    if let Some(p) = d.sip_port {
        push(&mut y, format!("  sip_port: {p}"));
    }
    if let Some(e) = d.registration_expires {
        push(&mut y, format!("  registration_expires: {e}"));
    }

    push(&mut y, "time:".to_owned());
    if let Some(s) = &d.sntp_server {
        push(&mut y, format!("  sntp_server: {}", quote(s)));
    }
    let note = d
        .gmt_note
        .as_ref()
        .map(|n| format!("  # {}", comment(n)))
        .unwrap_or_default();
    match (&d.gmt_offset, stand_ins) {
        (Field::Value(n), _) => match zone_of(*n) {
            Some(z) => push(&mut y, format!("  zone: {}{note}", zone_name(z))),
            None => push(&mut y, format!("  gmt_offset: {n}{note}")),
        },
        (Field::FillIn(_), true) => push(&mut y, "  gmt_offset: 0".to_owned()),
        (Field::FillIn(_), false) => push(&mut y, format!("  zone: FILL-IN{note}")),
    }
    if let Some(dst) = d.daylight_saving {
        push(&mut y, format!("  daylight_saving: {dst}"));
    }

    let plan = &d.dialplan;
    if plan.extension_digits.is_some()
        || plan.first_digits.is_some()
        || plan.local_digits.is_some()
        || plan.digitmap.is_some()
    {
        push(&mut y, "dialplan:".to_owned());
        if let Some(map) = &plan.digitmap {
            push(&mut y, format!("  digitmap: {}", quote(map)));
        }
        if let Some(n) = &plan.note {
            push(&mut y, format!("  # {}", comment(n)));
        }
        if let Some(n) = plan.extension_digits {
            push(&mut y, format!("  extension_digits: {n}"));
        }
        if let Some((lo, hi)) = plan.first_digits {
            push(&mut y, format!("  extension_first_digits: \"{lo}-{hi}\""));
        }
        if let Some(n) = plan.local_digits {
            push(&mut y, format!("  local_digits: {n}"));
        }
    }
    if d.message_waiting_beep {
        push(
            &mut y,
            "message_waiting_beep: true  # altigen.cfg has no silent MESSAGE_WAITING pattern"
                .to_owned(),
        );
    }
    if let Some(t) = &d.polling {
        push(&mut y, "provisioning:".to_owned());
        push(&mut y, format!("  polling: {{time: {}}}", quote(t)));
    }
    if !d.params.is_empty() {
        push(&mut y, "params:".to_owned());
        for (name, v) in &d.params {
            push(&mut y, format!("  {name}: {}", value(v)));
        }
    }
    if !d.config_files.is_empty() {
        push(
            &mut y,
            "config_files:  # on the target already; polyops names them and leaves them as they are".to_owned(),
        );
        for c in &d.config_files {
            push(&mut y, format!("  - {}", quote(c)));
        }
    }

    if !d.extensions.is_empty() {
        push(&mut y, "extensions:".to_owned());
    }
    for e in &d.extensions {
        push(&mut y, format!("  - number: {}", quote(&e.number)));
        if let Some(n) = &e.name {
            push(&mut y, format!("    name: {}", quote(n)));
        }
        if let Some(l) = &e.label {
            push(&mut y, format!("    label: {}", quote(l)));
        }
        push(
            &mut y,
            format!("    password: {{secret: {}}}", quote(&e.password)),
        );
        if !e.params.is_empty() {
            push(&mut y, "    params:".to_owned());
            for (name, v) in &e.params {
                push(&mut y, format!("      {name}: {}", value(v)));
            }
        }
    }
    if !d.phones.is_empty() {
        push(&mut y, "phones:".to_owned());
    }
    for p in &d.phones {
        push(&mut y, format!("  - mac: {}", quote(p.mac.as_str())));
        let note = p
            .model_note
            .as_ref()
            .map(|n| format!("  # {}", comment(n)))
            .unwrap_or_default();
        match (&p.model, stand_ins) {
            (Field::Value(m), _) => push(&mut y, format!("    model: {}{note}", model_name(*m))),
            (Field::FillIn(_), true) => push(&mut y, "    model: IP650".to_owned()),
            (Field::FillIn(why), false) => push(
                &mut y,
                format!(
                    "    model: FILL-IN  # {}",
                    comment(why.trim_start_matches("FILL-IN "))
                ),
            ),
        }
        push(&mut y, format!("    extension: {}", quote(&p.extension)));
    }
    y
}

fn model_name(m: Model) -> String {
    format!("{m:?}")
}

/// The secrets file's text: a YAML mapping of key → value, and the keys
/// still to fill in as comments to complete.
pub fn secrets_yaml(site: &str, secrets: &Secrets) -> String {
    let mut y = format!(
        "# Secrets of site {site}, written by `polyops import`: keep this file out of git.\n\
         # Use it with `polyops --secrets FILE plan {site}` (or POLYOPS_SECRETS_FILE).\n"
    );
    for (key, v) in &secrets.values {
        y.push_str(&format!("{}: {}\n", quote(key), quote(v.expose())));
    }
    if !secrets.missing.is_empty() {
        y.push_str(
            "# Still to fill in (the site file refers to them): remove the # and set each.\n",
        );
        for key in &secrets.missing {
            y.push_str(&format!("# {}: \"\"\n", quote(key)));
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::source::{parse_with, Plain};

    #[test]
    fn quoted_strings_read_back_exactly() {
        for s in [
            "plain",
            "a \"quoted\" \\ back",
            "Zoë 東京 😀",
            "# not a comment: {x}",
            "tab\there",
            "\u{202e}rtl",
            "007",
            "",
        ] {
            let doc = parse_with(&format!("k: {}\n", quote(s)), Plain::Text)
                .expect("parses")
                .expect("a document");
            assert_eq!(doc.value["k"], s, "{s:?}");
        }
    }

    #[test]
    fn zones_are_named_only_for_the_guides_four_offsets() {
        assert_eq!(zone_of(-28800), Some(Zone::Pacific));
        assert_eq!(zone_of(-18000), Some(Zone::Eastern));
        assert_eq!(zone_of(3600), None);
    }
}
