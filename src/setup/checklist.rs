//! The PBX-side steps of the guide for a site, as a checklist: what polyops
//! cannot write for the installer because it lives in MaxAdministrator and
//! Enterprise Manager. Per extension (§3), once per system (§2, §8), and
//! the limitations of §10 the site's phones live with. Pure: no secret is
//! resolved (a password shows as `********` and where it comes from), no
//! network is touched.

use crate::site::model::Site;
use crate::site::secret::{SecretRef, MASK};

/// One thing to do by hand, and the guide's section that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub text: String,
    pub section: &'static str,
}

/// The steps of one extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionSteps {
    pub number: String,
    pub name: String,
    /// The phone on it (MAC and model), if one is declared.
    pub phone: Option<String>,
    pub steps: Vec<Step>,
}

/// A limitation the site's phones live with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limitation {
    pub feature: &'static str,
    pub section: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// What it is written for: its text from the site file is quoted so.
    pub style: Style,
    pub site: String,
    pub server: String,
    pub phones: usize,
    pub system: Vec<Step>,
    pub extensions: Vec<ExtensionSteps>,
    pub limitations: Vec<Limitation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Headings and `- [ ]` task-list items, for a ticket or a merge request.
    Markdown,
    /// Plain text with `[ ]` boxes, for a terminal or a printout.
    Text,
}

/// Where an extension's password comes from, never its value; a key of
/// the secrets file is any text, so it is quoted for the style.
fn password_source(field: &str, r: &SecretRef, style: Style) -> String {
    match r {
        SecretRef::Literal(_) => format!("the literal {field} in the site file"),
        SecretRef::File(k) => format!("{field}, from secrets file key {}", quote(&k.secret, style)),
        other => format!("{field}, from {}", other.describe()),
    }
}

/// Text from the site file made fit for the style: printable, and in
/// markdown unable to become markup or a mention ([`md`]).
fn quote(text: &str, style: Style) -> String {
    match style {
        Style::Markdown => md(text),
        Style::Text => crate::mask::printable(text),
    }
}

/// The checklist of a site, its text from the site file quoted for `style`.
pub fn checklist(site: &Site, style: Style) -> Checklist {
    let system = vec![
        Step {
            text: format!(
                "One AltiGen third-party SIP device license per Polycom phone: {} for this site",
                site.phones.len()
            ),
            section: "§2",
        },
        Step {
            text: "Enterprise Manager > Codec > the Default codec profile: set DTMF Delivery to RFC 2833".to_owned(),
            section: "§8 steps 1-3",
        },
        Step {
            text: "Enterprise Manager > Codec > the Default codec profile: set SIP Early Media to Disable".to_owned(),
            section: "§8 step 4",
        },
        Step {
            text: "SIP trunks to a SIP gateway, if any: give them a codec profile of their own (IP Codec tab > IP Device Range), so the Default profile's settings do not reach them".to_owned(),
            section: "§8 step 5",
        },
        Step {
            text: "IP Dialing Table: review each entry's codec; create a dedicated codec profile where one needs it".to_owned(),
            section: "§8 step 6",
        },
    ];
    let extensions = site
        .extensions
        .iter()
        .enumerate()
        .map(|(i, ext)| {
            let n = &ext.number;
            let phone = site
                .phones
                .iter()
                .find(|p| &p.extension == n)
                .map(|p| format!("phone {}, {:?}", p.mac, p.model));
            let general = "MaxAdministrator > PBX > Extension Configuration > General";
            ExtensionSteps {
                number: n.clone(),
                name: ext.name.clone(),
                phone,
                steps: vec![
                    Step {
                        text: format!("{general}: extension {n} exists; check Enable IP Extension"),
                        section: "§3 steps 1-3a",
                    },
                    Step {
                        text: format!(
                            "{general}: select Dynamic IP Address, not Static IP Address (a static address may make SIP registration fail)"
                        ),
                        section: "§3 step 3b",
                    },
                    Step {
                        text: format!("{general}: check Enable 3rd Party SIP Device"),
                        section: "§3 step 3c",
                    },
                    Step {
                        text: format!(
                            "{general}: set SIP Registration Password to the extension's password, {MASK} ({})",
                            password_source(&format!("extensions[{i}].password"), &ext.password, style)
                        ),
                        section: "§3 step 3, §6.2",
                    },
                    Step {
                        text: "MaxAdministrator > PBX > Extension Configuration > Answering: select Enable Multiple Call Waiting (single call waiting does not work with third-party phones)".to_owned(),
                        section: "§3 steps 4-5",
                    },
                    Step {
                        text: format!(
                            "MaxAdministrator > PBX > AltiGen IP Phone Configuration: select extension {n}, check Enable SIP Telephony Service in the 3rd Party SIP Device panel (SIP hold, transfer and conference)"
                        ),
                        section: "§3 steps 6-8",
                    },
                ],
            }
        })
        .collect();
    Checklist {
        style,
        site: site.name.clone(),
        server: format!(
            "{} (SIP port {})",
            site.server.address, site.server.sip_port
        ),
        phones: site.phones.len(),
        system,
        extensions,
        limitations: limitations(site),
    }
}

/// The guide's limitations that hold for this site: those of §10 hold for
/// every Polycom phone on MaxCS 7.0, so all of them once the site has a
/// phone; and the firmware warning of §2 when the site declares other
/// versions than the guide's.
fn limitations(site: &Site) -> Vec<Limitation> {
    let mut out = Vec::new();
    if site.phones.is_empty() {
        return out;
    }
    let l = |feature, section, text: &str| Limitation {
        feature,
        section,
        text: text.to_owned(),
    };
    out.push(l(
        "Password synchronization",
        "§10.1",
        "MaxCS does not pass a change of an extension's password on to its phone: when an extension's voice-mail or SIP registration password changes in MaxAdministrator, change its password in the site file to match and run polyops apply (and the other way round). Change both, or the phone stops registering.",
    ));
    out.push(l(
        "One phone per extension",
        "§10.1, §10.2",
        "While a Polycom phone is registered on an extension, no other IP phone, IPTalk or mobile extension can use that extension, nor override the phone: power the phone down first.",
    ));
    out.push(l(
        "DND and forward status",
        "§10.1",
        "The phone does not show DND or forwarding turned on by feature code or from a client application.",
    ));
    out.push(l(
        "Presence",
        "§10.1",
        "The phone does not show AltiGen activity (presence) status.",
    ));
    out.push(l(
        "IP paging",
        "§10.1",
        "The phone cannot take IP paging calls.",
    ));
    out.push(l(
        "Call handling from the clients",
        "§10.2",
        "Hold, transfer or conference started on the phone must be finished on the phone: MaxCommunicator and MaxAgent cannot unhold, transfer or conference it, and a call held from them cannot be unheld on the phone.",
    ));
    out.push(l(
        "Returning PSTN calls",
        "§10.2",
        "Calling back from the phone's call log does not add the trunk access code.",
    ));
    out.push(l(
        "Flash features",
        "§10.2",
        "No Flash key: account codes (Flash#32) and system or station call park (Flash#31, Flash#41) are not available.",
    ));
    let (bootrom, sip) = (&site.firmware.bootrom, &site.firmware.sip);
    if bootrom != "4.2.1" || sip != "3.2.7" {
        out.push(Limitation {
            feature: "Firmware",
            section: "§2",
            text: format!(
                "The guide's configuration is for BootROM 4.2.1 and SIP 3.2.7; this site declares BootROM {bootrom} and SIP {sip}: it may not be compatible, and newer firmware may not go back to the guide's versions."
            ),
        });
    }
    out
}

/// Markdown's special characters in a name escaped, so a name cannot
/// start a link, a heading or an HTML tag; and a mention (`@everyone`,
/// `@all`, `@here`, `@channel`, `@user`) made code, which GitHub, GitLab
/// and chat tools never take for one, so a ticket pings nobody. (A
/// backslash before the `@` would not do: mentions are found in the text
/// as rendered, after escapes are gone.)
fn md(text: &str) -> String {
    let text = crate::printable::printable(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' {
            out.push_str("`@");
            while let Some(n) = chars.next_if(|&n| n.is_alphanumeric() || "_-./".contains(n)) {
                out.push(n);
            }
            out.push('`');
            continue;
        }
        if "\\`*_{}[]<>()#+-.!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn render(c: &Checklist) -> String {
    let mut out = String::new();
    let intro = format!(
        "The PBX side of the site's {} phone{} on MaxCS {}, from AltiGen's \"Polycom IP Phone Configuration Guide\" (MaxCS 7.0). polyops writes the phones' files; these settings are made by hand.",
        c.phones,
        if c.phones == 1 { "" } else { "s" },
        c.server
    );
    let extension_heading = |e: &ExtensionSteps, escape: &dyn Fn(&str) -> String| {
        let phone = e
            .phone
            .clone()
            .unwrap_or_else(|| "no phone declared yet".to_owned());
        format!("Extension {}: {} ({phone})", e.number, escape(&e.name))
    };
    match c.style {
        Style::Markdown => {
            out.push_str(&format!(
                "# MaxCS checklist: site {}\n\n{intro}\n\n",
                c.site
            ));
            out.push_str("## Once per system\n\n");
            for s in &c.system {
                out.push_str(&format!("- [ ] {} ({})\n", s.text, s.section));
            }
            for e in &c.extensions {
                out.push_str(&format!("\n## {}\n\n", extension_heading(e, &md)));
                for s in &e.steps {
                    out.push_str(&format!("- [ ] {} ({})\n", s.text, s.section));
                }
            }
            if !c.limitations.is_empty() {
                out.push_str("\n## Limitations that apply\n\n");
                for l in &c.limitations {
                    out.push_str(&format!(
                        "- **{}** ({}): {}\n",
                        l.feature, l.section, l.text
                    ));
                }
            }
        }
        Style::Text => {
            out.push_str(&format!("MaxCS checklist: site {}\n\n", c.site));
            out.push_str(&super::wrap(&intro, 78, ""));
            out.push_str("\nOnce per system\n");
            let item = |out: &mut String, s: &Step| {
                let text = super::wrap(&format!("{} ({})", s.text, s.section), 78, "      ");
                out.push_str("  [ ] ");
                out.push_str(text.trim_start());
            };
            for s in &c.system {
                item(&mut out, s);
            }
            for e in &c.extensions {
                out.push_str(&format!(
                    "\n{}\n",
                    extension_heading(e, &|t| crate::printable::printable(t))
                ));
                for s in &e.steps {
                    item(&mut out, s);
                }
            }
            if !c.limitations.is_empty() {
                out.push_str("\nLimitations that apply\n");
                for l in &c.limitations {
                    let text = super::wrap(
                        &format!("{} ({}): {}", l.feature, l.section, l.text),
                        78,
                        "    ",
                    );
                    out.push_str("  - ");
                    out.push_str(text.trim_start());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::load;

    fn example() -> Site {
        let sites = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let catalog = load::load(&sites, &["example".to_owned()]).expect("loads");
        let site = catalog.selected().next().expect("the example site").clone();
        site
    }

    #[test]
    fn every_extension_gets_the_six_steps_of_section_3() {
        let c = checklist(&example(), Style::Text);
        assert_eq!(c.extensions.len(), 3);
        for e in &c.extensions {
            let sections: Vec<&str> = e.steps.iter().map(|s| s.section).collect();
            assert_eq!(
                sections,
                [
                    "§3 steps 1-3a",
                    "§3 step 3b",
                    "§3 step 3c",
                    "§3 step 3, §6.2",
                    "§3 steps 4-5",
                    "§3 steps 6-8"
                ]
            );
        }
        let pw = &c.extensions[0].steps[3].text;
        assert!(
            pw.contains("********") && pw.contains("environment variable EXT_201_PASSWORD"),
            "{pw}"
        );
        assert_eq!(
            c.extensions[0].phone.as_deref(),
            Some("phone 0004f2000607, IP650")
        );
    }

    #[test]
    fn markdown_is_a_task_list_and_text_has_boxes() {
        let md = render(&checklist(&example(), Style::Markdown));
        assert!(md.starts_with("# MaxCS checklist: site example\n"));
        assert_eq!(md.matches("\n- [ ] ").count(), 5 + 3 * 6, "{md}");
        assert!(md.contains("## Extension 202: Front Desk (phone 0004f214ab37, IP331)"));
        assert!(md.contains("- **Password synchronization** (§10.1): "));
        let text = render(&checklist(&example(), Style::Text));
        assert_eq!(text.matches("  [ ] ").count(), 5 + 3 * 6, "{text}");
        assert!(!text.contains("- [ ]"));
        assert!(text.lines().all(|l| l.chars().count() <= 78), "{text}");
    }

    #[test]
    fn a_name_cannot_inject_markdown() {
        assert_eq!(md("<b>[x](y)</b>"), "\\<b\\>\\[x\\]\\(y\\)\\</b\\>");
        assert_eq!(md("a\u{1b}[31mb"), "a\\[31mb");
    }

    #[test]
    fn a_mention_in_markdown_is_code_that_pings_nobody() {
        assert_eq!(
            md("Desk @everyone, @all @here @channel @jo.doe-2 @"),
            "Desk `@everyone`, `@all` `@here` `@channel` `@jo.doe-2` `@`"
        );
        assert_eq!(md("a@b"), "a`@b`");
        assert_eq!(quote("@all", Style::Text), "@all");
    }

    #[test]
    fn other_firmware_adds_the_guides_warning() {
        let mut s = example();
        assert!(!limitations(&s).iter().any(|l| l.feature == "Firmware"));
        s.firmware.sip = "3.3.1".to_owned();
        assert!(limitations(&s).iter().any(|l| l.feature == "Firmware"));
        s.phones.clear();
        assert!(limitations(&s).is_empty());
    }
}
