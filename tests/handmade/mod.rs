//! Provisioning roots as an installer following the MaxCS guide builds
//! them by hand: the guide's XML copied into Notepad and edited, so CRLF
//! line ends and a byte order mark here and there, tabs, attributes
//! spread over lines as the guide prints them, a MAC typed in upper case,
//! the guide's own scanning typos (`phonel.cfg`, `msg.mwi.l.`), and the
//! firmware package's files beside them (guide §5).

use std::collections::BTreeMap;

use polyops::polycom::reader::parameter_map;

/// How one file was typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub crlf: bool,
    pub bom: bool,
    pub tabs: bool,
}

pub const WINDOWS: Style = Style {
    crlf: true,
    bom: true,
    tabs: true,
};
pub const NOTEPAD: Style = Style {
    crlf: true,
    bom: false,
    tabs: false,
};
pub const UNIX: Style = Style {
    crlf: false,
    bom: false,
    tabs: false,
};

/// The guide's digit map, as §6.1 prints it for 3-digit extensions.
pub const GUIDE_DIGITMAP: &str =
    "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T";

#[derive(Debug, Clone)]
pub struct Extension {
    pub number: String,
    pub name: String,
    pub label: String,
    pub password: String,
    /// Extra parameters, in an element of their own.
    pub extra: Vec<(String, String)>,
    pub style: Style,
}

#[derive(Debug, Clone)]
pub struct Phone {
    /// As the file is named (an installer may type it in upper case).
    pub mac: String,
    pub extension: String,
    /// A line the phone logged naming its model, and the log it went to.
    pub log: Option<(&'static str, String)>,
    pub style: Style,
}

/// A site as the installer meant it.
#[derive(Debug, Clone)]
pub struct Site {
    pub server: String,
    pub port: u16,
    pub expires: u32,
    pub gmt_offset: i32,
    pub daylight_saving: bool,
    pub sntp: String,
    pub digitmap: String,
    /// The guide's silent MESSAGE_WAITING pattern (no beep).
    pub silent: bool,
    /// The guide's scanning typos, copied as printed.
    pub typos: bool,
    /// Parameters added to altigen.cfg.
    pub extra: Vec<(String, String)>,
    /// CONFIG_FILES entries after altigen.cfg, and their files.
    pub config_files: Vec<(String, Vec<u8>)>,
    pub extensions: Vec<Extension>,
    pub phones: Vec<Phone>,
    pub altigen_style: Style,
}

pub fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The text as typed in `style`.
pub fn styled(text: &str, style: Style) -> Vec<u8> {
    let mut out = String::new();
    if style.bom {
        out.push('\u{feff}');
    }
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if style.tabs {
            out.push_str(&"\t".repeat(indent / 3));
            out.push_str(&" ".repeat(indent % 3));
        } else {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(trimmed);
        out.push_str(if style.crlf { "\r\n" } else { "\n" });
    }
    out.into_bytes()
}

impl Site {
    /// A site of the guide's example, with `phones` phones on 3-digit
    /// extensions from 201.
    pub fn guide(phones: usize) -> Site {
        let mut site = Site {
            server: "10.100.2.127".to_owned(),
            port: 10060,
            expires: 90,
            gmt_offset: -28800,
            daylight_saving: true,
            sntp: "time.nist.gov".to_owned(),
            digitmap: GUIDE_DIGITMAP.to_owned(),
            silent: true,
            typos: true,
            extra: Vec::new(),
            config_files: Vec::new(),
            extensions: Vec::new(),
            phones: Vec::new(),
            altigen_style: WINDOWS,
        };
        for i in 0..phones {
            let number = format!("{}", 201 + i);
            site.add(&number, &format!("0004f2{:06x}", 0x0607 + i));
        }
        site
    }

    /// Add an extension and the phone on it.
    pub fn add(&mut self, number: &str, mac: &str) {
        let i = self.extensions.len();
        self.extensions.push(Extension {
            number: number.to_owned(),
            name: "Ext_Name".to_owned(),
            label: number.to_owned(),
            password: format!("{}{}", 1212 + i, "-Pw"),
            extra: Vec::new(),
            style: if i.is_multiple_of(2) { NOTEPAD } else { UNIX },
        });
        self.phones.push(Phone {
            mac: mac.to_owned(),
            extension: number.to_owned(),
            log: None,
            style: if i.is_multiple_of(3) {
                WINDOWS
            } else {
                NOTEPAD
            },
        });
    }

    pub fn altigen_cfg(&self) -> Vec<u8> {
        let dst = if self.daylight_saving { "1" } else { "0" };
        let p = self.port;
        let mut t = format!(
            r##"<?xml version="1.0" standalone="yes"?>
<!-- Altigen specific configuration parameters -->
<sip>
   <voIpProt>
      <SIP>
         <conference voIpProt.SIP.conference.address="conf"/>
         <alertInfo
         voIpProt.SIP.alertInfo.1.value="info=alert-autoanswer"
         voIpProt.SIP.alertInfo.1.class="3"
         voIpProt.SIP.alertInfo.2.value="auto-answer"
         voIpProt.SIP.alertInfo.2.class="3" />
         <altigenport reg.1.server.1.port="{p}"
voIpProt.SIP.outboundProxy.port="{p}"
               voIpProt.SIP.local.port="{p}"/>
         <altigen2833 tone.dtmf.rfc2833Payload="101"/>
      </SIP>
   </voIpProt>
   <TCP_IP>
         <SNTP tcpIpApp.sntp.daylightSavings.enable="{dst}"
tcpIpApp.sntp.gmtOffset="{}" tcpIpApp.sntp.address="{}" />
   </TCP_IP>
   <dialplan dialplan.removeEndOfDial="0">
         <digitmap dialplan.digitmap="{}"/>
   </dialplan>
   <call call.lastCallReturnString="#69" />
   <tones>
         <DTMF tone.dtmf.onTime="120" tone.dtmf.offTime="120" />
   </tones>
"##,
            self.gmt_offset,
            esc(&self.sntp),
            esc(&self.digitmap)
        );
        if self.silent {
            t.push_str(
                r#"   <sound_effects>
      <patterns>
         <MISCELLANEOUS>
            <MESSAGE_WAITING se.pat.misc.1.name="message waiting"
se.pat.misc.1.inst.1.type="silence" se.pat.misc.1.inst.1.value="1"
se.pat.misc.1.inst.2.type="silence" se.pat.misc.1.inst.2.value="2"
se.pat.misc.1.inst.3.type="silence" se.pat.misc.1.inst.3.value="1"/>
         </MISCELLANEOUS>
      </patterns>
   </sound_effects>
"#,
            );
        }
        let extra = edit_in_place(&mut t, &self.extra);
        if !extra.is_empty() {
            t.push_str("   <site\n");
            for (n, v) in extra {
                t.push_str(&format!("      {n}=\"{}\"\n", esc(v)));
            }
            t.push_str("   />\n");
        }
        t.push_str("</sip>\n");
        styled(&t, self.altigen_style)
    }

    pub fn extension_cfg(&self, e: &Extension) -> Vec<u8> {
        let s = &self.server;
        let n = &e.number;
        let mode = if self.typos {
            "msg.mwi.l.callBackMode"
        } else {
            "msg.mwi.1.callBackMode"
        };
        let mut t = format!(
            r###"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Extension Registration Configuration File -->
<phone1>
  <reg reg.1.displayName="{}" reg.1.address="{n}" reg.1.label="{}"
reg.1.auth.userId="{n}" reg.1.auth.password="{}"
reg.1.server.1.address="{s}" reg.1.server.1.expires="{}" />
  <msg msg.bypassInstantMessage="1" {mode}="contact"
msg.mwi.1.callBack="##@{s}"
msg.mwi.1.subscribe="{n}@{s}" />
"###,
            esc(&e.name),
            esc(&e.label),
            esc(&e.password),
            self.expires
        );
        let extra = edit_in_place(&mut t, &e.extra);
        if !extra.is_empty() {
            t.push_str("  <mine");
            for (n, v) in extra {
                t.push_str(&format!("\n     {n}=\"{}\"", esc(v)));
            }
            t.push_str(" />\n");
        }
        t.push_str("</phone1>\n");
        styled(&t, e.style)
    }

    pub fn master_cfg(&self, p: &Phone) -> Vec<u8> {
        let phone1 = if self.typos {
            "phonel.cfg"
        } else {
            "phone1.cfg"
        };
        let mut files = format!("{}.cfg, altigen.cfg,", p.extension);
        for (c, _) in &self.config_files {
            files.push_str(&format!(" {c},"));
        }
        let t = format!(
            r#"<?xml version="1.0" standalone="yes"?>
<!-- Default Master SIP Configuration File-->
<!-- Edit and rename this file to <Ethernet-address>.cfg for each phone.-->
<!-- $RCSfile: 000000000000.cfg,v $ $Revision: 1.18 $ -->
<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="{files}
{phone1}, sip.cfg" MISC_FILES="" LOG_FILE_DIRECTORY=""
OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY="">
<APPLICATION_SPIP300 APP_FILE_PATH_SPIP300="sip_212.ld"
CONFIG_FILES_SPIP300="phone1_212.cfg, sip_212.cfg"/>
<APPLICATION_SPIP500 APP_FILE_PATH_SPIP500="sip_212.ld"
CONFIG_FILES_SPIP500="phone1_212.cfg, sip_212.cfg"/>
</APPLICATION>
"#
        );
        styled(&t, p.style)
    }

    /// Every file of the root, by name.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        // The firmware package, as extracted to the root (guide §5).
        for (name, bytes) in [
            ("sip.ld", &b"\x7fPolycom SIP application 3.2.7 (placeholder)\n"[..]),
            ("bootrom.ld", b"\x7fPolycom BootROM 4.2.1 (placeholder)\n"),
            (
                "sip.cfg",
                b"<?xml version=\"1.0\" standalone=\"yes\"?>\n<!-- SIP 3.2.7 sip.cfg (placeholder) -->\n<sip/>\n",
            ),
            (
                "phone1.cfg",
                b"<?xml version=\"1.0\" standalone=\"yes\"?>\n<!-- SIP 3.2.7 phone1.cfg (placeholder) -->\n<phone1/>\n",
            ),
            (
                "000000000000.cfg",
                b"<?xml version=\"1.0\" standalone=\"yes\"?>\n<APPLICATION APP_FILE_PATH=\"sip.ld\" CONFIG_FILES=\"phone1.cfg, sip.cfg\"/>\n",
            ),
        ] {
            files.insert(name.to_owned(), bytes.to_vec());
        }
        files.insert("altigen.cfg".to_owned(), self.altigen_cfg());
        for e in &self.extensions {
            files.insert(format!("{}.cfg", e.number), self.extension_cfg(e));
        }
        for p in &self.phones {
            files.insert(format!("{}.cfg", p.mac), self.master_cfg(p));
            if let Some((log, line)) = &p.log {
                let lower = p.mac.to_ascii_lowercase();
                let text = format!(
                    "0103121530|boot |2|00|Starting boot\r\n0103121530|cfg  |2|00|Boot server: FTP\r\n{line}\r\n0103121532|copy |2|00|{lower}.cfg downloaded\r\n"
                );
                files.insert(format!("{lower}-{log}.log"), text.into_bytes());
            }
        }
        for (name, bytes) in &self.config_files {
            files.insert(name.clone(), bytes.clone());
        }
        files
    }
}

/// Set each parameter the text has already where it stands (as a person
/// edits the guide's value); the others are returned, to be added.
fn edit_in_place<'a>(
    text: &mut String,
    params: &'a [(String, String)],
) -> Vec<&'a (String, String)> {
    let mut rest = Vec::new();
    for p in params {
        let attr = format!(" {}=\"", p.0);
        match text.find(&attr) {
            Some(at) => {
                let start = at + attr.len();
                let end = start + text[start..].find('"').expect("a closing quote");
                text.replace_range(start..end, &esc(&p.1));
            }
            None => rest.push(p),
        }
    }
    rest
}

/// A boot log line naming the model by its platform code.
pub fn boot_line(code: &str) -> String {
    format!("0103121531|boot |1|00|Platform: {code} rev A, BootROM 4.2.1.0120")
}

/// An application log line naming the model in its SIP User-Agent.
pub fn app_line(ua: &str) -> String {
    format!("0103121611|sip  |2|00|User-Agent: {ua}/3.2.7.0198")
}

/// The guide's example site: 3 phones on 201-203, Pacific time, the
/// guide's typos, one master file named in upper case, models from logs
/// for two phones and from --model for the third.
pub fn small_site() -> Site {
    let mut site = Site::guide(3);
    site.extensions[0].name = "Front Desk & Lobby".to_owned();
    site.extensions[1].label = "Sales".to_owned();
    site.phones[0].mac = "0004F2000607".to_owned();
    site.phones[0].log = Some(("boot", boot_line("SPIP650")));
    site.phones[1].log = Some(("app", app_line("PolycomSoundPointIP-SPIP_331-UA")));
    site
}

/// A site an installer took further than the guide: its own parameters
/// in altigen.cfg (one a password) and in an extension file (a second
/// line with its own password), nightly polling, another SIP port and
/// time server, and a custom.cfg every phone names.
pub fn extras_site() -> Site {
    let mut site = Site::guide(2);
    site.typos = false;
    site.port = 5060;
    site.sntp = "pool.ntp.org".to_owned();
    site.gmt_offset = -18000;
    site.extra = [
        ("up.backlight.idleIntensity", "1"),
        ("tcpIpApp.sntp.address.overrideDHCP", "1"),
        ("dir.corp.password", "c0rp-S3cret"),
        ("prov.polling.enabled", "1"),
        ("prov.polling.mode", "abs"),
        ("prov.polling.time", "03:00"),
        ("call.lastCallReturnString", "#99"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    site.config_files = vec![(
        "custom.cfg".to_owned(),
        b"<?xml version=\"1.0\"?>\r\n<custom up.screenSaver.enabled=\"1\"/>\r\n".to_vec(),
    )];
    site.extensions[0].extra = [
        ("reg.1.ringType", "2"),
        ("reg.2.address", "2201"),
        ("reg.2.auth.password", "L1ne2-S3cret"),
        ("msg.bypassInstantMessage", "0"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    site
}

/// The parameters that differ between each hand-made file and the file
/// polyops renders in its place (`<mac>.cfg` for `<MAC>.cfg`), by the
/// hand-made file's name.
pub fn differences(
    root: &BTreeMap<String, Vec<u8>>,
    rendered: &BTreeMap<String, Vec<u8>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (name, ours) in rendered.iter().filter(|(n, _)| n.ends_with(".cfg")) {
        let theirs = root
            .get_key_value(name)
            .or_else(|| root.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
        let Some((their_name, theirs)) = theirs else {
            continue;
        };
        let a = parameter_map(theirs).unwrap_or_else(|e| panic!("{their_name}: {e}"));
        let b = parameter_map(ours).unwrap_or_else(|e| panic!("rendered {name}: {e}"));
        let names: std::collections::BTreeSet<&String> =
            a.values.keys().chain(b.values.keys()).collect();
        let changed: Vec<String> = names
            .into_iter()
            .filter(|p| a.values.get(*p) != b.values.get(*p))
            .cloned()
            .collect();
        out.insert(their_name.clone(), changed);
    }
    out
}

/// Every parameter whose rendered value differs from the hand-made one is
/// named by a report line about that file.
pub fn assert_report_names_every_difference(diffs: &BTreeMap<String, Vec<String>>, report: &str) {
    for (file, params) in diffs {
        for p in params {
            assert!(
                report
                    .lines()
                    .any(|l| l.starts_with(&format!("{file}: ")) && l.contains(p.as_str())),
                "{file}: {p} changes, and the report does not say so:\n{report}"
            );
        }
    }
}
