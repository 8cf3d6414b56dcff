//! The rules of docs/site-file.md that a schema cannot say: per site (`check_site`) and
//! across every site file (`check_across`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::site::diagnostic::Diagnostic;
use crate::site::extensions;
use crate::site::file::FirmwareBlobFile;
use crate::site::file::{PhoneFile, SiteFile};
use crate::site::mac::Mac;
use crate::site::model::{digitmap, is_params_file, ALTIGEN_CFG};
use crate::site::model::{
    is_master_config, is_phone_written, Extension, Firmware, FirmwareBlob, Model, Params, Phone,
    Server, Site, Target, TargetUrl, Time,
};
use crate::site::params;
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

pub(super) struct Checker<'a> {
    file: &'a str,
    positions: &'a Positions,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        let (file, pos) = self.positions.value_in(self.file, path);
        self.diags.push(Diagnostic::error(file, pos, path, message));
    }
    /// An error about `path`, shown at the value of `at` (where the
    /// file does not write `path` itself).
    pub(super) fn error_at(&mut self, path: &str, at: &str, message: impl Into<String>) {
        let (file, pos) = self.positions.value_in(self.file, at);
        self.diags.push(Diagnostic::error(file, pos, path, message));
    }
    /// Whether the site file itself writes a value at `path`.
    pub(super) fn writes(&self, path: &str) -> bool {
        self.positions.has(path)
    }
    pub(super) fn warning(&mut self, path: &str, message: impl Into<String>) {
        let (file, pos) = self.positions.value_in(self.file, path);
        self.diags
            .push(Diagnostic::warning(file, pos, path, message));
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
    let url = check_target(&mut c, sf);
    let first = check_server_time_dialplan(&mut c, sf);
    check_firmware_version(&mut c, "firmware.sip", &sf.firmware.sip, MAX_SIP, GUIDE_SIP);
    check_firmware_version(
        &mut c,
        "firmware.bootrom",
        &sf.firmware.bootrom,
        MAX_BOOTROM,
        GUIDE_BOOTROM,
    );
    let declared = extensions::check(&mut c, sf, first);
    let params = checked_params(&mut c, sf);
    let phones = check_phones(&mut c, sf, &declared);
    let numbers: Vec<&str> = sf.extensions.iter().map(|e| e.number.as_str()).collect();
    let mut published: BTreeMap<String, String> = BTreeMap::new();
    let firmware_files = check_files(
        &mut c,
        "firmware.files",
        &sf.firmware.files,
        &numbers,
        &mut published,
    );
    let static_files = check_files(&mut c, "files", &sf.files, &numbers, &mut published);
    check_config_files(&mut c, &sf.config_files, &numbers);
    let site = (!c.diags.iter().any(Diagnostic::is_error)).then(|| {
        let checked = Checked {
            url: url.unwrap_or(TargetUrl::Dir(PathBuf::new())),
            first: first.unwrap_or((1, 7)),
            params,
            phones,
            firmware_files,
            static_files,
        };
        build(file, sf, checked)
    });
    let site = site.filter(|site| check_config_files_length(&mut c, site, sf));
    (site, c.diags)
}

/// The target's URL, parsed; the user and URL free of what would end an
/// FTP command.
fn check_target(c: &mut Checker, sf: &SiteFile) -> Option<TargetUrl> {
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
                c.error("target.url", e.to_string());
                None
            }
        }
    };
    if has_control(&sf.target.user) {
        c.error("target.user", CONTROL_ON_THE_WIRE);
    }
    let tls = matches!(url, Some(TargetUrl::Ftp { tls: true, .. }));
    if sf.target.ca_file.is_some() && url.is_some() && !tls {
        c.warning(
            "target.ca_file",
            "a CA file is used only to check an ftps:// server's certificate, and this target is not ftps://: it is ignored (and the FTP password goes unencrypted); use ftps:// or remove ca_file",
        );
    }
    if let Some(p) = &sf.target.password {
        if p.is_literal() {
            c.warning(
                "target.password",
                "literal password in the site file; use {env: NAME} or {secret: KEY}",
            );
        }
    }
    url
}

/// The server's address, the time, the dial plan; the range of first
/// digits of the extensions, when it is one.
fn check_server_time_dialplan(c: &mut Checker, sf: &SiteFile) -> Option<(u8, u8)> {
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
    first
}

/// The checked parameters of each level: the site's, each extension's
/// (in declaration order), each model's that a phone has.
struct LevelParams {
    site: Params,
    extensions: Vec<Params>,
    models: BTreeMap<Model, Params>,
}

/// Every level's parameters, checked. The guide's fixed values of
/// `<number>.cfg` set for the site or a model would be shadowed there (it
/// comes first in CONFIG_FILES): they replace the guide's value in the
/// extension files instead, an extension's own value first, then its
/// phone's model's, then the site's.
fn checked_params(c: &mut Checker, sf: &SiteFile) -> LevelParams {
    let mut site = params::check(c, "params", &sf.params);
    let mut extensions: Vec<Params> = sf
        .extensions
        .iter()
        .enumerate()
        .map(|(i, e)| params::check(c, &format!("extensions[{i}].params"), &e.params))
        .collect();
    let mut models = BTreeMap::new();
    for (model, m) in &sf.models {
        let path = format!("models.{model}");
        let checked = params::check(c, &format!("{path}.params"), &m.params);
        if !sf.phones.iter().any(|p| p.model == *model) {
            c.warning(
                &path,
                format!(
                    "no phone of this site is an {model}: {} is not written",
                    crate::site::model::model_params_file(*model)
                ),
            );
        } else if !checked.is_empty() {
            models.insert(*model, checked);
        }
    }
    // The model of each extension's first phone, found once: a site may
    // have thousands of extensions and phones.
    let mut model_of: HashMap<&str, Model> = HashMap::new();
    for p in &sf.phones {
        model_of.entry(p.extension.as_str()).or_insert(p.model);
    }
    for (name, _) in params::FIXED_EXTENSION {
        for (i, ext) in sf.extensions.iter().enumerate() {
            let model = model_of.get(ext.number.as_str()).copied();
            let inherited = model
                .and_then(|m| models.get(&m))
                .and_then(|p: &Params| p.get(*name))
                .or_else(|| site.get(*name))
                .cloned();
            if let Some(v) = inherited {
                extensions[i].entry((*name).to_owned()).or_insert(v);
            }
        }
    }
    for (name, _) in params::FIXED_EXTENSION {
        site.remove(*name);
        for p in models.values_mut() {
            p.remove(*name);
        }
    }
    models.retain(|_, p| !p.is_empty());
    LevelParams {
        site,
        extensions,
        models,
    }
}

/// Phones: MACs, one phone per extension, known extension.
fn check_phones(c: &mut Checker, sf: &SiteFile, declared: &HashMap<&str, usize>) -> Vec<Phone> {
    let mut macs: HashMap<Mac, usize> = HashMap::new();
    let mut taken: HashMap<&str, usize> = HashMap::new();
    let mut addresses: HashMap<String, usize> = HashMap::new();
    let mut phones = Vec::new();
    for (i, p) in sf.phones.iter().enumerate() {
        let path = format!("phones[{i}]");
        check_phone(c, &path, p);
        if let Some(address) = &p.address {
            check_address(c, i, address, &mut addresses);
        }
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
                    params: params::check(c, &format!("{path}.params"), &p.params),
                    address: p.address.clone(),
                });
            }
            Err(e) => c.error(&format!("{path}.mac"), e.to_string()),
        }
        if !declared.contains_key(p.extension.as_str()) {
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
    phones
}

/// What the checks made of a site file that passed them.
struct Checked {
    url: TargetUrl,
    /// The extensions' first digits.
    first: (u8, u8),
    params: LevelParams,
    phones: Vec<Phone>,
    firmware_files: Vec<FirmwareBlob>,
    static_files: Vec<FirmwareBlob>,
}

/// The checked `Site` of a site file, its defaults filled in.
fn build(file: &str, sf: &SiteFile, checked: Checked) -> Site {
    let (lo, hi) = checked.first;
    let safety = crate::site::model::Safety::default();
    Site {
        name: sf.site.clone(),
        file: file.to_owned(),
        target: Target {
            url: checked.url,
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
            files: checked.firmware_files,
        },
        params: checked.params.site,
        models: checked.params.models,
        polling: sf.provisioning.polling.as_ref().map(|p| p.time.clone()),
        files: checked.static_files,
        config_files: sf.config_files.clone(),
        safety: crate::site::model::Safety {
            max_delete_percent: sf
                .safety
                .max_delete_percent
                .unwrap_or(safety.max_delete_percent),
            max_update_percent: sf.safety.max_update_percent,
            min_managed: sf
                .safety
                .min_managed
                .map_or(safety.min_managed, |n| n as usize),
        },
        extensions: sf
            .extensions
            .iter()
            .zip(checked.params.extensions)
            .map(|(e, params)| Extension {
                number: e.number.clone(),
                name: e.name.clone().unwrap_or_else(|| e.number.clone()),
                label: e.label.clone().unwrap_or_else(|| e.number.clone()),
                password: e.password.clone(),
                params,
            })
            .collect(),
        phones: checked.phones,
    }
}

/// Polycom's limits on CONFIG_FILES: 2,047 characters in all.
const MAX_CONFIG_FILES: usize = 2047;

/// Whether every phone's CONFIG_FILES fits; an error at the phone (or at
/// `config_files`, which every phone carries) for each that does not.
fn check_config_files_length(c: &mut Checker<'_>, site: &Site, sf: &SiteFile) -> bool {
    let mut ok = true;
    for (i, phone) in site.phones.iter().enumerate() {
        let len = site.config_files_for(phone).join(", ").len();
        if len > MAX_CONFIG_FILES {
            ok = false;
            let at = if sf.config_files.is_empty() {
                format!("phones[{i}]")
            } else {
                "config_files".to_owned()
            };
            c.error(
                &at,
                format!(
                    "phone {}'s CONFIG_FILES would be {len} characters; a phone reads at most {MAX_CONFIG_FILES}",
                    phone.mac
                ),
            );
        }
    }
    ok
}

/// The extra CONFIG_FILES entries: names a target can hold, each once,
/// none that every phone names already or that belongs to one phone.
fn check_config_files(c: &mut Checker<'_>, names: &[String], numbers: &[&str]) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let at = format!("config_files[{i}]");
        if let Err(why) = crate::site::name::RemoteName::new(name) {
            c.error(&at, format!("not a file name on the target: {why}"));
        } else if name.contains(',') || name.contains('\\') {
            c.error(
                &at,
                "a CONFIG_FILES entry must not contain a comma or a backslash",
            );
        } else if [ALTIGEN_CFG, "phone1.cfg", "sip.cfg"].contains(&name.as_str()) {
            c.error(
                &at,
                format!("{name} is in every phone's CONFIG_FILES already"),
            );
        } else if is_master_config(name)
            || is_phone_written(name)
            || is_params_file(name)
            || numbers.iter().any(|n| *name == format!("{n}.cfg"))
        {
            c.error(
                &at,
                format!("{name} is a file of one phone or extension, not one for every phone"),
            );
        } else if let Some(prev) = seen.insert(name, i) {
            c.error(
                &at,
                format!("{name} is already listed at config_files[{prev}]"),
            );
        }
    }
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

/// A name a phone writes that a site may still publish: the directory new
/// phones start from.
const SHARED_DIRECTORY: &str = "000000000000-directory.xml";

/// Files published as they are (`firmware.files`, `files`): each a name
/// the target can hold, not one polyops renders or a phone writes, and
/// published once across both lists (`published`: name → field).
fn check_files(
    c: &mut Checker<'_>,
    field: &str,
    files: &[FirmwareBlobFile],
    numbers: &[&str],
    published: &mut BTreeMap<String, String>,
) -> Vec<FirmwareBlob> {
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let path = format!("{field}[{i}].path");
        let name = Path::new(&f.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reserved = name == ALTIGEN_CFG
            || is_master_config(&name)
            || (is_phone_written(&name) && name != SHARED_DIRECTORY)
            || is_params_file(&name)
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
                format!("{name} is a file polyops renders or a phone writes; it cannot be uploaded as it is"),
            );
        } else if let Some(prev) = published.get(&name) {
            c.error(&path, format!("{name} is already uploaded by {prev}"));
        } else {
            published.insert(name.clone(), format!("{field}[{i}]"));
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

/// A phone's `address` (docs/phones.md): an IPv4 or IPv6 address or a
/// host name of one phone, never an address that reaches many (broadcast,
/// multicast) or none (unspecified), and no other phone's of the site
/// (compared as addresses, host names without case).
fn check_address(c: &mut Checker<'_>, i: usize, address: &str, seen: &mut HashMap<String, usize>) {
    let path = format!("phones[{i}].address");
    if !is_host(address) {
        c.error(
            &path,
            format!(
                "{:?} is not an IPv4, IPv6 address or host name",
                crate::printable::printable(address)
            ),
        );
        return;
    }
    let key = match address.parse::<IpAddr>() {
        Ok(ip) => {
            let many = match ip {
                IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast() || v4.is_unspecified(),
                IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
            };
            if many {
                c.error(
                    &path,
                    format!("{address} is not one phone's address (broadcast, multicast or unspecified)"),
                );
                return;
            }
            ip.to_string()
        }
        Err(_) => address.to_ascii_lowercase(),
    };
    if let Some(prev) = seen.insert(key, i) {
        c.error(
            &path,
            format!("address {address} is already the address of phones[{prev}]"),
        );
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// No control characters and nothing else XML 1.0 cannot carry even
/// escaped (U+FFFE, U+FFFF); a phone's LCD could not show them either.
pub(crate) fn is_attribute_safe(s: &str) -> bool {
    !s.chars().any(char::is_control) && crate::polycom::xml::can_carry(s)
}

pub(crate) fn is_host(s: &str) -> bool {
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
