//! The site files the tests share, built from what each test cares about
//! instead of copied whole: `SiteYaml::hq()` is site `hq` on the `dir:`
//! target `ftp-root`, its server 10.100.2.127 and the pacific zone; a test
//! adds the extensions, phones and top-level blocks it needs.
//!
//! ```ignore
//! SiteYaml::hq()
//!     .extension(r#"{number: "201", password: {env: P201}}"#)
//!     .phone("0004f2000607", "IP650", "201")
//!     .yaml()
//! ```

/// A site file being built; [`SiteYaml::yaml`] writes it.
#[derive(Debug, Clone)]
pub struct SiteYaml {
    site: String,
    target: String,
    server: String,
    time: String,
    /// Top-level blocks between the header and the extensions, each whole
    /// lines.
    blocks: Vec<String>,
    extensions: Vec<String>,
    phones: Vec<String>,
}

impl SiteYaml {
    /// Site `hq`: target `dir:ftp-root`, server 10.100.2.127, pacific.
    pub fn hq() -> Self {
        Self {
            site: "hq".to_owned(),
            target: "{url: \"dir:ftp-root\"}".to_owned(),
            server: "{address: 10.100.2.127}".to_owned(),
            time: "{zone: pacific}".to_owned(),
            blocks: Vec::new(),
            extensions: Vec::new(),
            phones: Vec::new(),
        }
    }

    /// The same site under another name.
    pub fn named(mut self, site: &str) -> Self {
        site.clone_into(&mut self.site);
        self
    }

    /// `target:` as a flow mapping (`{url: "ftp://…", password: …}`).
    pub fn target(mut self, flow: &str) -> Self {
        flow.clone_into(&mut self.target);
        self
    }

    /// A top-level block (`firmware:` and what is under it), whole lines.
    pub fn block(mut self, lines: &str) -> Self {
        let mut lines = lines.to_owned();
        if !lines.ends_with('\n') {
            lines.push('\n');
        }
        self.blocks.push(lines);
        self
    }

    /// An extension, as a flow mapping.
    pub fn extension(mut self, flow: &str) -> Self {
        self.extensions.push(flow.to_owned());
        self
    }

    /// A phone: its MAC, model and extension number.
    pub fn phone(mut self, mac: &str, model: &str, extension: &str) -> Self {
        self.phones.push(format!(
            "{{mac: {mac}, model: {model}, extension: \"{extension}\"}}"
        ));
        self
    }

    /// The site file's text.
    pub fn yaml(&self) -> String {
        let mut y = format!(
            "site: {}\ntarget: {}\nserver: {}\ntime: {}\n",
            self.site, self.target, self.server, self.time
        );
        for block in &self.blocks {
            y.push_str(block);
        }
        for (key, items) in [("extensions", &self.extensions), ("phones", &self.phones)] {
            if !items.is_empty() {
                y.push_str(&format!("{key}:\n"));
                for item in items {
                    y.push_str(&format!("  - {item}\n"));
                }
            }
        }
        y
    }
}

/// Site `hq` with one phone, an IP650 on extension 201, whose SIP password
/// is `$P201`: the smallest site that renders every kind of file.
pub fn hq_one_phone() -> SiteYaml {
    SiteYaml::hq()
        .extension(r#"{number: "201", password: {env: P201}}"#)
        .phone("0004f2000607", "IP650", "201")
}

/// Site `hq` with two phones: an IP650 on 201 and an IP331 on 202.
/// `ext_201` and `ext_202` are the extensions as flow mappings.
pub fn hq_two_phones(ext_201: &str, ext_202: &str) -> SiteYaml {
    SiteYaml::hq()
        .extension(ext_201)
        .extension(ext_202)
        .phone("0004f2000607", "IP650", "201")
        .phone("0004f214ab37", "IP331", "202")
}

/// A site `hq` of `phones` IP650 phones on extensions 201, 202, …, each
/// with the password `$P201`.
pub fn hq_of(phones: usize) -> String {
    let mut site = SiteYaml::hq();
    for i in 0..phones {
        site = site.extension(&format!(
            "{{number: \"{}\", password: {{env: P201}}}}",
            201 + i
        ));
    }
    for i in 0..phones {
        site = site.phone(&format!("0004f2{i:06x}"), "IP650", &(201 + i).to_string());
    }
    site.yaml()
}

/// The first lines of the smallest site file `validate`'s fixtures break
/// one rule of: site `hq`, target `dir:ftp-root`, server 10.0.0.1.
pub const HQ_HEAD: &str = "site: hq\ntarget: {url: dir:ftp-root}\nserver: {address: 10.0.0.1}\n";

/// [`HQ_HEAD`] and then `rest` (dedented): the rest of the file, from its
/// fourth line on, so that a finding's line and column in it are those of
/// the whole file.
pub fn hq_file(rest: &str) -> String {
    format!("{HQ_HEAD}{}", crate::common::dedent(rest))
}
