//! The site file as written in `sites/<site>.yaml`: serde types whose schemars
//! output *is* `schema/site.schema.json`. Nothing here checks cross-field rules;
//! `rules.rs` turns a `SiteFile` into a checked `Site`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::site::secret::{EnvRef, KeyRef, SecretRef};

/// One site: a MaxCS server, the phones that register to it and the FTP
/// provisioning root they boot from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "polyops site")]
pub struct SiteFile {
    /// Site name, unique across `sites/`; it names the output folder of `render`.
    #[schemars(pattern(r"^[a-z0-9][a-z0-9-]*$"))]
    pub site: String,
    pub target: TargetFile,
    pub server: ServerFile,
    pub time: TimeFile,
    #[serde(default)]
    pub dialplan: DialplanFile,
    /// Keep the phone's beep for waiting voice mail. When false (the guide's
    /// recommendation) `altigen.cfg` carries the silent MESSAGE_WAITING pattern.
    #[serde(default)]
    pub message_waiting_beep: bool,
    #[serde(default)]
    pub firmware: FirmwareFile,
    /// Site-wide Polycom parameters, written into `altigen.cfg` after the
    /// guide's (a guide value of the same name is replaced).
    #[serde(default)]
    pub params: ParamsFile,
    /// Parameters per phone model, written into `params-<model>.cfg`
    /// (`params-ip650.cfg`), which only phones of that model name.
    #[serde(default)]
    pub models: BTreeMap<Model, ModelFile>,
    #[serde(default)]
    pub provisioning: ProvisioningFile,
    /// Static files uploaded byte for byte to the target root under their
    /// file name, like `firmware.files` (a corporate directory, a
    /// `custom.cfg`).
    #[serde(default)]
    pub files: Vec<FirmwareBlobFile>,
    /// Extra CONFIG_FILES entries of every phone, after `altigen.cfg` and
    /// before `phone1.cfg`: rendered, in `files` / `firmware.files`, or
    /// already on the target.
    #[serde(default)]
    pub config_files: Vec<String>,
    #[serde(default)]
    pub safety: SafetyFile,
    #[serde(default)]
    pub extensions: Vec<ExtensionFile>,
    #[serde(default)]
    pub phones: Vec<PhoneFile>,
}

/// When apply refuses a plan that changes too much of what is on the
/// target (`--allow-mass-delete` / `--allow-mass-update` let it through).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyFile {
    /// Refuse to delete more than this share of the managed files
    /// (default 30).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub max_delete_percent: Option<u8>,
    /// Refuse to update more than this share of the managed files
    /// (default: no limit).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub max_update_percent: Option<u8>,
    /// The checks apply only from this many managed files on (default 10).
    #[serde(default)]
    pub min_managed: Option<u32>,
}

/// Polycom parameters by name (`reg.1.ringType: 2`).
pub type ParamsFile = BTreeMap<String, ParamValue>;

/// A parameter's value: a string, an integer, a boolean (written `1` / `0`),
/// or, for a secret (any parameter whose name contains `password`), a
/// reference to one.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Integer(i64),
    Text(String),
    /// `{env: NAME}`: the environment variable NAME.
    Env(EnvRef),
    /// `{secret: KEY}`: KEY of the secrets file.
    File(KeyRef),
}

/// Parameters of one phone model.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    #[serde(default)]
    pub params: ParamsFile,
}

/// How the phones look for new files after they have booted.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningFile {
    #[serde(default)]
    pub polling: Option<PollingFile>,
}

/// Re-read the provisioning files every day at a fixed time
/// (`prov.polling.enabled="1" prov.polling.mode="abs"`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollingFile {
    /// The phones' local time of day, `HH:MM` (24 hours).
    #[schemars(pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub time: String,
}

/// The FTP provisioning root the phones boot from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// `ftp://host[:port]/path`, `ftps://host[:port]/path` (explicit TLS, AUTH
    /// TLS) or `dir:<path>` (a local folder, relative to the current directory).
    #[schemars(pattern(r"^(ftps?://[^/\s]+(/.*)?|dir:.+)$"))]
    pub url: String,
    /// FTP user; the Polycom factory default is `PlcmSpIp`.
    #[serde(default = "default_ftp_user")]
    pub user: String,
    /// FTP password; default is the literal Polycom factory default `PlcmSpIp`.
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// PEM file of the CA that signed an `ftps://` server's certificate
    /// (relative to the current directory). Default: the system's trust store.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Seconds to wait for a connect or a reply before giving up.
    #[serde(default)]
    #[schemars(range(min = 1, max = 3600))]
    pub timeout_seconds: Option<u64>,
}

/// The MaxCS server the phones register to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    /// IPv4, IPv6 or host name of the MaxCS server.
    #[schemars(length(min = 1))]
    pub address: String,
    /// SIP port of the MaxCS server (and of the phones).
    #[serde(default = "default_sip_port")]
    #[schemars(range(min = 1))]
    pub sip_port: u16,
    /// SIP registration expiry in seconds; default 90, or 600 for a site with
    /// more than 100 phones (guide §6.2).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub registration_expires: Option<u32>,
}

/// Time server and time zone (`altigen.cfg` `tcpIpApp.sntp.*`). Exactly one of
/// `zone` and `gmt_offset` must be given.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeFile {
    #[serde(default = "default_sntp_server")]
    #[schemars(length(min = 1))]
    pub sntp_server: String,
    #[serde(default)]
    pub zone: Option<Zone>,
    /// Offset from GMT in seconds: a multiple of 900 in -43200..=50400.
    #[serde(default)]
    #[schemars(range(min = -43200, max = 50400), extend("multipleOf" = 900))]
    pub gmt_offset: Option<i32>,
    #[serde(default = "default_true")]
    pub daylight_saving: bool,
}

/// The US time zones the guide names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    Eastern,
    Central,
    Mountain,
    Pacific,
}

impl Zone {
    pub const ALL: [Zone; 4] = [Zone::Eastern, Zone::Central, Zone::Mountain, Zone::Pacific];

    /// GMT offset in seconds, as guide §6.1 lists them.
    pub fn gmt_offset(self) -> i32 {
        match self {
            Zone::Eastern => -18000,
            Zone::Central => -21600,
            Zone::Mountain => -25200,
            Zone::Pacific => -28800,
        }
    }

    /// The zone of an offset, when it is one of the guide's four.
    pub fn of_offset(offset: i32) -> Option<Zone> {
        Zone::ALL.into_iter().find(|z| z.gmt_offset() == offset)
    }
}

/// As the site file writes it: `eastern`.
impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Zone::Eastern => "eastern",
            Zone::Central => "central",
            Zone::Mountain => "mountain",
            Zone::Pacific => "pacific",
        })
    }
}

/// A name that is none of the guide's four zones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected eastern, central, mountain or pacific")]
pub struct UnknownZone;

/// A zone's name in any case.
impl FromStr for Zone {
    type Err = UnknownZone;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Zone::ALL
            .into_iter()
            .find(|z| text.eq_ignore_ascii_case(&z.to_string()))
            .ok_or(UnknownZone)
    }
}

/// The phones' dial plan (`altigen.cfg` `dialplan.digitmap`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DialplanFile {
    /// Digits in an extension number: 3 or 4.
    #[serde(default = "default_extension_digits")]
    #[schemars(range(min = 3, max = 4))]
    pub extension_digits: u8,
    /// Range of first digits of an extension, `a-b` with 1 <= a <= b <= 9.
    #[serde(default = "default_first_digits")]
    #[schemars(pattern(r"^[0-9]-[0-9]$"))]
    pub extension_first_digits: String,
    /// Digits of a local call after the trunk access code 9: 7 or 10.
    #[serde(default = "default_local_digits")]
    #[schemars(extend("enum" = [7, 10]))]
    pub local_digits: u8,
    /// A complete digit map that replaces the generated one.
    #[serde(default)]
    pub digitmap: Option<String>,
}

impl Default for DialplanFile {
    fn default() -> Self {
        Self {
            extension_digits: default_extension_digits(),
            extension_first_digits: default_first_digits(),
            local_digits: default_local_digits(),
            digitmap: None,
        }
    }
}

/// Firmware the phones run, and firmware files to publish as they are.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareFile {
    /// BootROM version the site's phones run (guide: 4.2.1).
    #[serde(default = "default_bootrom")]
    #[schemars(pattern(r"^[0-9]+(\.[0-9]+)*$"))]
    pub bootrom: String,
    /// SIP application version (guide: 3.2.7).
    #[serde(default = "default_sip")]
    #[schemars(pattern(r"^[0-9]+(\.[0-9]+)*$"))]
    pub sip: String,
    /// Files uploaded byte for byte to the target root under their file name.
    #[serde(default)]
    pub files: Vec<FirmwareBlobFile>,
}

impl Default for FirmwareFile {
    fn default() -> Self {
        Self {
            bootrom: default_bootrom(),
            sip: default_sip(),
            files: Vec::new(),
        }
    }
}

/// A firmware file: read from `path` (relative to the current directory),
/// checked against `sha256`, published at the target root as its file name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareBlobFile {
    #[schemars(length(min = 1))]
    pub path: String,
    /// Lowercase or uppercase hex SHA-256 of the file's bytes.
    #[schemars(pattern(r"^[0-9A-Fa-f]{64}$"))]
    pub sha256: String,
}

/// A MaxCS extension served by a Polycom phone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionFile {
    /// Extension number, digits only (quote it in YAML: "201").
    #[schemars(pattern(r"^[0-9]+$"))]
    pub number: String,
    /// SIP display name; default is the number.
    #[serde(default)]
    pub name: Option<String>,
    /// LCD line label; default is the number.
    #[serde(default)]
    pub label: Option<String>,
    /// SIP registration password of the extension.
    pub password: SecretRef,
    /// Parameters of this extension, written into `<number>.cfg`.
    #[serde(default)]
    pub params: ParamsFile,
}

/// A phone, by the MAC address on its back.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneFile {
    /// Ethernet MAC: `0004f2000607`, `00:04:F2:00:06:07`, `00-04-f2-00-06-07` or `0004.f200.0607`.
    pub mac: String,
    pub model: Model,
    /// Number of the extension this phone registers.
    #[schemars(pattern(r"^[0-9]+$"))]
    pub extension: String,
    /// Parameters of this phone alone, written into `params-<mac>.cfg`,
    /// the first of its CONFIG_FILES.
    #[serde(default)]
    pub params: ParamsFile,
    /// The phone's own IPv4 or IPv6 address or host name, unique within
    /// the site: `polyops resync` sends it a SIP NOTIFY (check-sync) at
    /// `server.sip_port`. Without it the phone is never sent anything.
    #[serde(default)]
    pub address: Option<String>,
}

/// The Polycom models MaxCS 7.0 supports (guide §2). A phone's model may
/// also be written the way people write it (`ip 650`, `650`, `SPIP_650`,
/// `SoundPoint IP 650`, `SoundStation IP 7000`): it is read as the name
/// here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
pub enum Model {
    IP321,
    IP331,
    IP335,
    IP560,
    IP650,
    IP6000,
    IP7000,
}

/// The models, as a site file spells them, for messages.
pub const MODELS: &str = "IP321, IP331, IP335, IP560, IP650, IP6000 or IP7000";

impl Model {
    pub const ALL: [Model; 7] = [
        Model::IP321,
        Model::IP331,
        Model::IP335,
        Model::IP560,
        Model::IP650,
        Model::IP6000,
        Model::IP7000,
    ];

    /// The model's number: `650`.
    pub fn number(self) -> &'static str {
        match self {
            Model::IP321 => "321",
            Model::IP331 => "331",
            Model::IP335 => "335",
            Model::IP560 => "560",
            Model::IP650 => "650",
            Model::IP6000 => "6000",
            Model::IP7000 => "7000",
        }
    }
}

/// As the site file names it: `IP650`.
impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IP{}", self.number())
    }
}

/// A name that is none of the supported models.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {MODELS}")]
pub struct UnknownModel;

/// A model as people write it: `IP650`, `ip 650`, `650`, `SPIP650`,
/// `SoundPoint IP 650`, `SSIP_7000`, `SoundStation IP 7000` (spaces, `_`
/// and `-` and case aside).
impl FromStr for Model {
    type Err = UnknownModel;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let squeezed: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        let number = ["SOUNDPOINTIP", "SOUNDSTATIONIP", "SPIP", "SSIP", "IP"]
            .iter()
            .find_map(|p| squeezed.strip_prefix(p))
            .unwrap_or(&squeezed);
        Model::ALL
            .into_iter()
            .find(|m| m.number() == number)
            .ok_or(UnknownModel)
    }
}

/// Each `phones[].model` and `models:` key of a site file's tree written
/// another way than the site file's own name (`ip 650`, `650`) rewritten
/// as that name (`IP650`), before the tree is checked against the schema;
/// anything that names no model is left for the schema to report. The
/// `models:` keys renamed, as (written, name).
pub fn normalise_models(site: &mut serde_json::Value) -> Vec<(String, String)> {
    if let Some(phones) = site.get_mut("phones").and_then(|p| p.as_array_mut()) {
        for phone in phones {
            let Some(model) = phone.get_mut("model") else {
                continue;
            };
            let written = match &*model {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if let Ok(m) = written.parse::<Model>() {
                *model = serde_json::Value::String(m.to_string());
            }
        }
    }
    let mut renamed = Vec::new();
    if let Some(models) = site.get_mut("models").and_then(|m| m.as_object_mut()) {
        let keys: Vec<String> = models.keys().cloned().collect();
        for written in keys {
            let Ok(m) = written.parse::<Model>() else {
                continue;
            };
            let name = m.to_string();
            if name != written && !models.contains_key(&name) {
                if let Some(v) = models.remove(&written) {
                    models.insert(name.clone(), v);
                    renamed.push((written, name));
                }
            }
        }
    }
    renamed
}

fn default_ftp_user() -> String {
    "PlcmSpIp".to_owned()
}
fn default_sip_port() -> u16 {
    10060
}
fn default_sntp_server() -> String {
    "time.nist.gov".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_extension_digits() -> u8 {
    3
}
fn default_first_digits() -> String {
    "1-7".to_owned()
}
fn default_local_digits() -> u8 {
    7
}
fn default_bootrom() -> String {
    "4.2.1".to_owned()
}
fn default_sip() -> String {
    "3.2.7".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_are_read_in_the_spellings_people_use() {
        for (text, model) in [
            ("IP650", Model::IP650),
            ("ip 650", Model::IP650),
            ("650", Model::IP650),
            ("SPIP_650", Model::IP650),
            ("SoundPoint IP 321", Model::IP321),
            ("SoundStation IP 7000", Model::IP7000),
            ("ssip6000", Model::IP6000),
        ] {
            assert_eq!(text.parse::<Model>(), Ok(model), "{text}");
        }
        for text in ["IP600", "", "VVX400", "IP65"] {
            assert_eq!(text.parse::<Model>(), Err(UnknownModel), "{text}");
        }
    }

    #[test]
    fn models_and_zones_print_as_the_site_file_names_them() {
        for m in Model::ALL {
            assert_eq!(m.to_string().parse::<Model>(), Ok(m));
            assert_eq!(m.to_string(), format!("{m:?}"));
        }
        assert_eq!(Zone::Pacific.to_string(), "pacific");
        assert_eq!("Eastern".parse::<Zone>(), Ok(Zone::Eastern));
        assert_eq!("utc".parse::<Zone>(), Err(UnknownZone));
        assert_eq!(Zone::of_offset(-28800), Some(Zone::Pacific));
        assert_eq!(Zone::of_offset(-18000), Some(Zone::Eastern));
        assert_eq!(Zone::of_offset(3600), None);
    }

    #[test]
    fn a_phones_model_written_as_people_write_it_is_normalised() {
        let mut site = serde_json::json!({"phones": [
            {"model": "ip 650"}, {"model": 650}, {"model": "SoundStation IP 7000"},
            {"model": "IP550"}, {"model": true}, {}
        ], "models": {"ip 331": {}, "IP650": {}, "650": {}, "IP550": {}}});
        let renamed = normalise_models(&mut site);
        assert_eq!(renamed, [("ip 331".to_owned(), "IP331".to_owned())]);
        assert_eq!(
            site["models"],
            serde_json::json!({"IP331": {}, "IP650": {}, "650": {}, "IP550": {}})
        );
        assert_eq!(
            site["phones"],
            serde_json::json!([
                {"model": "IP650"}, {"model": "IP650"}, {"model": "IP7000"},
                {"model": "IP550"}, {"model": true}, {}
            ])
        );
    }
}
