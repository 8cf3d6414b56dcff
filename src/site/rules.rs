//! The rules of SPEC §2 that a schema cannot say: per site (`check_site`) and
//! across every site file (`check_across`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::site::diagnostic::Diagnostic;
use crate::site::file::{PhoneFile, SiteFile};
use crate::site::mac::Mac;
use crate::site::model::{digitmap, ALTIGEN_CFG};
use crate::site::model::{
    is_master_config, is_phone_written, Extension, Firmware, FirmwareBlob, Model, Phone, Server,
    Site, Target, TargetUrl, Time,
};
use crate::site::source::Positions;

/// A site as loaded, with the positions of its file's values; `selected`
/// marks the ones the command was asked about (the others are loaded for
/// the rules across sites).
pub struct Loaded {
    pub site: Site,
    pub positions: Positions,
    pub selected: bool,
}

/// Newest firmware the guide says can still be supported.
const MAX_SIP: [u32; 3] = [3, 3, 3];
const MAX_BOOTROM: [u32; 3] = [4, 3, 1];
const GUIDE_SIP: &str = "3.2.7";
const GUIDE_BOOTROM: &str = "4.2.1";
/// Phones above which the guide raises the registration expiry to 600 s.
const MANY_PHONES: usize = 100;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

struct Checker<'a> {
    file: &'a str,
    positions: &'a Positions,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let pos = self.positions.value(path);
        self.diags
            .push(Diagnostic::error(self.file, pos, path, message));
    }
    fn warning(&mut self, path: &str, message: impl Into<String>) {
        let pos = self.positions.value(path);
        self.diags
            .push(Diagnostic::warning(self.file, pos, path, message));
    }
}

/// Check one schema-valid site file and build its `Site`. The site is
/// returned only when no rule failed.
pub fn check_site(
    file: &str,
    sf: &SiteFile,
    positions: &Positions,
) -> (Option<Site>, Vec<Diagnostic>) {
    let mut c = Checker {
        file,
        positions,
        diags: Vec::new(),
    };

    // The user and the URL's folder are sent on the FTP control connection,
    // where a CR or LF would end the command and start another one (the
    // schema's pattern already refuses those two in the URL, not a NUL).
    let url = if !sf.target.url.starts_with("dir:") && has_control(&sf.target.url) {
        c.error("target.url", CONTROL_ON_THE_WIRE);
        None
    } else {
        match TargetUrl::parse(&sf.target.url) {
            Ok(u) => Some(u),
            Err(e) => {
                c.error("target.url", e);
                None
            }
        }
    };
    if has_control(&sf.target.user) {
        c.error("target.user", CONTROL_ON_THE_WIRE);
    }
    if let Some(p) = &sf.target.password {
        if p.is_literal() {
            c.warning(
                "target.password",
                "literal password in the site file; use {env: NAME} or {secret: KEY}",
            );
        }
    }

    if !is_host(&sf.server.address) {
        c.error(
            "server.address",
            format!(
                "{:?} is not an IPv4, IPv6 address or host name",
                sf.server.address
            ),
        );
    }
    if sf.time.zone.is_some() == sf.time.gmt_offset.is_some() {
        c.error("time", "give exactly one of time.zone and time.gmt_offset");
    }
    if !is_attribute_safe(&sf.time.sntp_server) || sf.time.sntp_server.contains(' ') {
        c.error("time.sntp_server", "not a valid host name");
    }

    let first = first_digit_range(&sf.dialplan.extension_first_digits);
    if first.is_none() {
        c.error(
            "dialplan.extension_first_digits",
            "expected a-b with 1 <= a <= b <= 9, e.g. 1-7",
        );
    }
    if let Some(map) = &sf.dialplan.digitmap {
        if map.trim().is_empty() || !is_attribute_safe(map) {
            c.error(
                "dialplan.digitmap",
                "must be a non-empty digit map on one line",
            );
        }
    }

    check_firmware_version(&mut c, "firmware.sip", &sf.firmware.sip, MAX_SIP, GUIDE_SIP);
    check_firmware_version(
        &mut c,
        "firmware.bootrom",
        &sf.firmware.bootrom,
        MAX_BOOTROM,
        GUIDE_BOOTROM,
    );

    // Extensions: unique, fit the dial plan, printable names.
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    for (i, ext) in sf.extensions.iter().enumerate() {
        let path = format!("extensions[{i}]");
        if let Some(prev) = numbers.insert(&ext.number, i) {
            c.error(
                &format!("{path}.number"),
                format!(
                    "extension {} is already declared at extensions[{prev}]",
                    ext.number
                ),
            );
        }
        if let Some((lo, hi)) = first {
            let digits = usize::from(sf.dialplan.extension_digits);
            let first_ok = ext
                .number
                .bytes()
                .next()
                .is_some_and(|b| (lo..=hi).contains(&(b - b'0')));
            if ext.number.len() != digits || !first_ok {
                c.error(
                    &format!("{path}.number"),
                    format!(
                        "extension {} does not fit the dial plan: {digits} digits starting with {lo}-{hi}",
                        ext.number
                    ),
                );
            }
        }
        for (field, value) in [("name", &ext.name), ("label", &ext.label)] {
            if value.as_deref().is_some_and(|v| !is_attribute_safe(v)) {
                c.error(
                    &format!("{path}.{field}"),
                    "must not contain control characters (tab, newline…)",
                );
            }
        }
        if ext.password.is_literal() {
            c.warning(
                &format!("{path}.password"),
                "literal password in the site file; use {env: NAME} or {secret: KEY}",
            );
        }
    }

    // Phones: MACs, one phone per extension, known extension.
    let mut macs: HashMap<Mac, usize> = HashMap::new();
    let mut taken: HashMap<&str, usize> = HashMap::new();
    let mut phones = Vec::new();
    for (i, p) in sf.phones.iter().enumerate() {
        let path = format!("phones[{i}]");
        check_phone(&mut c, &path, p);
        match Mac::parse(&p.mac) {
            Ok(mac) => {
                if let Some(prev) = macs.insert(mac, i) {
                    c.error(
                        &format!("{path}.mac"),
                        format!("MAC {mac} is already declared at phones[{prev}]"),
                    );
                }
                phones.push(Phone {
                    mac,
                    model: p.model,
                    extension: p.extension.clone(),
                });
            }
            Err(e) => c.error(&format!("{path}.mac"), e),
        }
        if !numbers.contains_key(p.extension.as_str()) {
            c.error(
                &format!("{path}.extension"),
                format!("extension {} is not declared under extensions", p.extension),
            );
        } else if let Some(prev) = taken.insert(&p.extension, i) {
            c.error(
                &format!("{path}.extension"),
                format!(
                    "extension {} is already on phones[{prev}]; MaxCS registers an extension from one SIP phone at a time",
                    p.extension
                ),
            );
        }
    }

    let files = check_firmware_files(
        &mut c,
        sf,
        &sf.extensions
            .iter()
            .map(|e| e.number.as_str())
            .collect::<Vec<_>>(),
    );

    let site = (!c.diags.iter().any(Diagnostic::is_error)).then(|| {
        let (lo, hi) = first.unwrap_or((1, 7));
        Site {
            name: sf.site.clone(),
            file: file.to_owned(),
            target: Target {
                url: url.clone().unwrap_or(TargetUrl::Dir(PathBuf::new())),
                display: sf.target.url.clone(),
                user: sf.target.user.clone(),
                password: sf.target.password.clone(),
                ca_file: sf.target.ca_file.as_ref().map(PathBuf::from),
                timeout: sf
                    .target
                    .timeout_seconds
                    .map(Duration::from_secs)
                    .unwrap_or(DEFAULT_TIMEOUT),
            },
            server: Server {
                address: sf.server.address.clone(),
                sip_port: sf.server.sip_port,
                registration_expires: sf.server.registration_expires.unwrap_or(
                    if sf.phones.len() > MANY_PHONES {
                        600
                    } else {
                        90
                    },
                ),
            },
            time: Time {
                sntp_server: sf.time.sntp_server.clone(),
                gmt_offset: sf
                    .time
                    .gmt_offset
                    .or(sf.time.zone.map(|z| z.gmt_offset()))
                    .unwrap_or_default(),
                daylight_saving: sf.time.daylight_saving,
            },
            digitmap: sf.dialplan.digitmap.clone().unwrap_or_else(|| {
                digitmap(
                    sf.dialplan.extension_digits,
                    lo,
                    hi,
                    sf.dialplan.local_digits,
                )
            }),
            message_waiting_beep: sf.message_waiting_beep,
            firmware: Firmware {
                bootrom: sf.firmware.bootrom.clone(),
                sip: sf.firmware.sip.clone(),
                files,
            },
            extensions: sf
                .extensions
                .iter()
                .map(|e| Extension {
                    number: e.number.clone(),
                    name: e.name.clone().unwrap_or_else(|| e.number.clone()),
                    label: e.label.clone().unwrap_or_else(|| e.number.clone()),
                    password: e.password.clone(),
                })
                .collect(),
            phones,
        }
    });
    (site, c.diags)
}

fn check_phone(c: &mut Checker<'_>, path: &str, p: &PhoneFile) {
    if p.model == Model::IP6000 {
        c.warning(
            &format!("{path}.model"),
            "IP6000 looks for its boot server in DHCP option 66, not 160; set the FTP server on the phone by hand (guide §7.2)",
        );
    }
}

fn check_firmware_version(
    c: &mut Checker<'_>,
    path: &str,
    version: &str,
    max: [u32; 3],
    guide: &str,
) {
    // The schema allows only dot-separated digits; a part too big for a u32
    // is still a (very) big version, not one to skip.
    let mut v: Vec<u32> = version
        .split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect();
    let mut newest = max.to_vec();
    let len = v.len().max(newest.len());
    v.resize(len, 0);
    newest.resize(len, 0);
    let max_s = max.map(|n| n.to_string()).join(".");
    if v > newest {
        c.error(
            path,
            format!("{version} is newer than {max_s}, the newest MaxCS 7.0 supports (guide §2)"),
        );
    } else if version != guide {
        c.warning(
            path,
            format!("{version} is not {guide}, the version the guide was tested with"),
        );
    }
}

fn check_firmware_files(c: &mut Checker<'_>, sf: &SiteFile, numbers: &[&str]) -> Vec<FirmwareBlob> {
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, f) in sf.firmware.files.iter().enumerate() {
        let path = format!("firmware.files[{i}].path");
        let name = Path::new(&f.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reserved = name == ALTIGEN_CFG
            || is_master_config(&name)
            || is_phone_written(&name)
            || name.starts_with(".polyops")
            || numbers.iter().any(|n| name == format!("{n}.cfg"));
        if name.is_empty() || name.starts_with('.') && !name.starts_with(".polyops") {
            c.error(
                &path,
                "must name a file (its name is its name at the target root)",
            );
        } else if name.contains('\\') || name.chars().any(char::is_control) {
            // A Windows FTP server reads `\` as a folder separator, and a line
            // break would end the FTP command: either could leave the root.
            c.error(
                &path,
                "the file name must not contain a backslash or a control character",
            );
        } else if let Err(why) = crate::site::name::RemoteName::new(&name) {
            c.error(
                &path,
                format!("the file name cannot be a name on the target: {why}"),
            );
        } else if name.ends_with(crate::site::name::TEMP_SUFFIX) {
            // apply removes leftovers under its temporary names.
            c.error(
                &path,
                format!(
                    "a file name must not end in {}, the suffix of polyops's temporary uploads",
                    crate::site::name::TEMP_SUFFIX
                ),
            );
        } else if name.len() + crate::site::name::TEMP_SUFFIX.len()
            > crate::site::name::MAX_NAME_BYTES
        {
            c.error(
                &path,
                format!(
                    "the file name is longer than {} bytes (its temporary upload name must fit in {})",
                    crate::site::name::MAX_NAME_BYTES - crate::site::name::TEMP_SUFFIX.len(),
                    crate::site::name::MAX_NAME_BYTES
                ),
            );
        } else if reserved {
            c.error(
                &path,
                format!("{name} is a file polyops renders or a phone writes; it cannot be uploaded as firmware"),
            );
        } else if let Some(prev) = names.insert(name.clone(), i) {
            c.error(
                &path,
                format!("{name} is already uploaded by firmware.files[{prev}]"),
            );
        }
        out.push(FirmwareBlob {
            source: PathBuf::from(&f.path),
            name,
            sha256: f.sha256.to_ascii_lowercase(),
            field: path,
        });
    }
    out
}

/// `a-b` → (a, b) with 1 <= a <= b <= 9.
fn first_digit_range(text: &str) -> Option<(u8, u8)> {
    let (a, b) = text.split_once('-')?;
    let (a, b): (u8, u8) = (a.parse().ok()?, b.parse().ok()?);
    (1 <= a && a <= b && b <= 9).then_some((a, b))
}

const CONTROL_ON_THE_WIRE: &str =
    "must not contain a control character (CR, LF, tab…): it is sent to the FTP server as a command";

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// No control characters and nothing else XML 1.0 cannot carry even
/// escaped (U+FFFE, U+FFFF); a phone's LCD could not show them either.
fn is_attribute_safe(s: &str) -> bool {
    !s.chars().any(char::is_control) && crate::polycom::xml::can_carry(s)
}

fn is_host(s: &str) -> bool {
    if s.parse::<IpAddr>().is_ok() {
        return true;
    }
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Rules across all site files: unique site names, a MAC in one site only,
/// one site per target.
pub fn check_across(sites: &[Loaded]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut names: HashMap<&str, &Loaded> = HashMap::new();
    let mut targets: HashMap<String, &Loaded> = HashMap::new();
    let mut macs: HashMap<Mac, (&Loaded, usize)> = HashMap::new();
    for l in sites {
        let s = &l.site;
        // Report a conflict on the selected side; if both are, on the later
        // file. The message is worded from the side it is reported on.
        type Message<'m> = &'m dyn Fn(&Loaded, &Loaded, &str) -> String;
        let mut report = |path: &str, other_path: &str, other: &Loaded, message: Message<'_>| {
            let (on, at, off, off_at) = if l.selected || !other.selected {
                (l, path, other, other_path)
            } else {
                (other, other_path, l, path)
            };
            if on.selected {
                diags.push(Diagnostic::error(
                    &on.site.file,
                    on.positions.value(at),
                    at,
                    format!("{} (also in {})", message(on, off, off_at), off.site.file),
                ));
            }
        };
        if let Some(other) = names.insert(&s.name, l) {
            report("site", "site", other, &|on, _, _| {
                format!("site name {} is not unique", on.site.name)
            });
        }
        if let Some(other) = targets.insert(s.target.url.identity(), l) {
            report("target.url", "target.url", other, &|on, off, _| {
                format!(
                    "target {} is already the target of site {}",
                    on.site.target.display, off.site.name
                )
            });
        }
        for (i, p) in s.phones.iter().enumerate() {
            if let Some((other, j)) = macs.insert(p.mac, (l, i)) {
                if !std::ptr::eq(other, l) {
                    let mac = p.mac;
                    report(
                        &format!("phones[{i}].mac"),
                        &format!("phones[{j}].mac"),
                        other,
                        &|_, off, off_at| {
                            format!(
                                "MAC {mac} is already declared in site {} at {}",
                                off.site.name,
                                off_at.trim_end_matches(".mac")
                            )
                        },
                    );
                }
            }
        }
    }
    diags
}
