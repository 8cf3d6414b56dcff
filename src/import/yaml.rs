//! A draft as the text of a site file, written the way a person writes
//! one: only what differs from the defaults, strings quoted, a comment
//! where a value came from somewhere worth knowing or must be filled in.
//! And the secrets file beside it.

use crate::import::Dialplan;
use crate::import::{Draft, DraftValue, Field, Secrets};
use crate::site::file::Zone;

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
            c if crate::printable::is_unprintable(c) || c == '\u{feff}' => {
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
    crate::printable::printable(text).replace(['\n', '\r'], " ")
}

fn value(v: &DraftValue) -> String {
    match v {
        DraftValue::Text(t) => quote(t),
        DraftValue::Integer(n) => n.to_string(),
        DraftValue::Secret(key) => format!("{{secret: {}}}", quote(key)),
    }
}

/// The text of a file being written, a line at a time.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn line(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }
}

/// The site file's text. `stand_ins`: what is to be filled in gets a
/// valid stand-in and the FTP password is left out, so that the text can
/// be loaded and rendered to compare it with the target (`verify`).
pub fn site_yaml(d: &Draft, stand_ins: bool) -> String {
    let mut y = Lines::default();
    y.line(format!(
        "# Site {}, imported by `polyops import` from {}.",
        d.site,
        comment(&d.source)
    ));
    y.line(format!(
        "# Review it with the import's report; then `polyops plan {}` shows what apply does.",
        d.site
    ));
    y.line(format!("site: {}", d.site));
    target(&mut y, d, stand_ins);
    server(&mut y, d, stand_ins);
    time(&mut y, d, stand_ins);
    dialplan(&mut y, &d.dialplan);
    if d.message_waiting_beep {
        y.line("message_waiting_beep: true  # altigen.cfg has no silent MESSAGE_WAITING pattern");
    }
    if let Some(t) = &d.polling {
        y.line("provisioning:");
        y.line(format!("  polling: {{time: {}}}", quote(t)));
    }
    if !d.params.is_empty() {
        y.line("params:");
        for (name, v) in &d.params {
            y.line(format!("  {name}: {}", value(v)));
        }
    }
    if !d.config_files.is_empty() {
        y.line("config_files:  # on the target already; polyops names them and leaves them as they are");
        for c in &d.config_files {
            y.line(format!("  - {}", quote(c)));
        }
    }
    extensions(&mut y, d);
    phones(&mut y, d, stand_ins);
    y.0
}

fn target(y: &mut Lines, d: &Draft, stand_ins: bool) {
    y.line("target:");
    y.line(format!("  url: {}", quote(&d.target.url)));
    if let Some(user) = &d.target.user {
        y.line(format!("  user: {}", quote(user)));
    }
    if d.target.password_env && !stand_ins {
        y.line("  password: {env: POLYOPS_FTP_PASSWORD}");
    }
    if let Some(ca) = &d.target.ca_file {
        y.line(format!("  ca_file: {}", quote(ca)));
    }
    if let Some(seconds) = d.target.timeout_seconds {
        y.line(format!("  timeout_seconds: {seconds}"));
    }
}

fn server(y: &mut Lines, d: &Draft, stand_ins: bool) {
    y.line("server:");
    match (&d.address, stand_ins) {
        (Field::Value(a), _) => y.line(format!("  address: {}", quote(a))),
        (Field::FillIn(_), true) => y.line("  address: \"192.0.2.1\""),
        (Field::FillIn(why), false) => y.line(format!(
            "  address: {}",
            quote(&format!("FILL IN {}", why.trim_start_matches("FILL-IN: ")))
        )),
    }
    if let Some(p) = d.sip_port {
        y.line(format!("  sip_port: {p}"));
    }
    if let Some(e) = d.registration_expires {
        y.line(format!("  registration_expires: {e}"));
    }
}

fn time(y: &mut Lines, d: &Draft, stand_ins: bool) {
    y.line("time:");
    if let Some(s) = &d.sntp_server {
        y.line(format!("  sntp_server: {}", quote(s)));
    }
    let note = d
        .gmt_note
        .as_ref()
        .map(|n| format!("  # {}", comment(n)))
        .unwrap_or_default();
    match (&d.gmt_offset, stand_ins) {
        (Field::Value(n), _) => match Zone::of_offset(*n) {
            Some(z) => y.line(format!("  zone: {z}{note}")),
            None => y.line(format!("  gmt_offset: {n}{note}")),
        },
        (Field::FillIn(_), true) => y.line("  gmt_offset: 0"),
        (Field::FillIn(_), false) => y.line(format!("  zone: FILL-IN{note}")),
    }
    if let Some(dst) = d.daylight_saving {
        y.line(format!("  daylight_saving: {dst}"));
    }
}

fn dialplan(y: &mut Lines, plan: &Dialplan) {
    if plan.extension_digits.is_none()
        && plan.first_digits.is_none()
        && plan.local_digits.is_none()
        && plan.digitmap.is_none()
    {
        return;
    }
    y.line("dialplan:");
    if let Some(map) = &plan.digitmap {
        y.line(format!("  digitmap: {}", quote(map)));
    }
    if let Some(n) = &plan.note {
        y.line(format!("  # {}", comment(n)));
    }
    if let Some(n) = plan.extension_digits {
        y.line(format!("  extension_digits: {n}"));
    }
    if let Some((lo, hi)) = plan.first_digits {
        y.line(format!("  extension_first_digits: \"{lo}-{hi}\""));
    }
    if let Some(n) = plan.local_digits {
        y.line(format!("  local_digits: {n}"));
    }
}

fn extensions(y: &mut Lines, d: &Draft) {
    if !d.extensions.is_empty() {
        y.line("extensions:");
    }
    for e in &d.extensions {
        y.line(format!("  - number: {}", quote(&e.number)));
        if let Some(n) = &e.name {
            y.line(format!("    name: {}", quote(n)));
        }
        if let Some(l) = &e.label {
            y.line(format!("    label: {}", quote(l)));
        }
        y.line(format!("    password: {{secret: {}}}", quote(&e.password)));
        if !e.params.is_empty() {
            y.line("    params:");
            for (name, v) in &e.params {
                y.line(format!("      {name}: {}", value(v)));
            }
        }
    }
}

fn phones(y: &mut Lines, d: &Draft, stand_ins: bool) {
    if !d.phones.is_empty() {
        y.line("phones:");
    }
    for p in &d.phones {
        y.line(format!("  - mac: {}", quote(p.mac.as_str())));
        let note = p
            .model_note
            .as_ref()
            .map(|n| format!("  # {}", comment(n)))
            .unwrap_or_default();
        match (&p.model, stand_ins) {
            (Field::Value(m), _) => y.line(format!("    model: {m}{note}")),
            (Field::FillIn(_), true) => y.line("    model: IP650"),
            (Field::FillIn(why), false) => y.line(format!(
                "    model: FILL-IN  # {}",
                comment(why.trim_start_matches("FILL-IN "))
            )),
        }
        y.line(format!("    extension: {}", quote(&p.extension)));
    }
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
}
