//! `sites/_defaults.yaml` (docs/many-sites.md): what every site of a repository
//! shares (time, dial plan, firmware, parameters, the FTP user…), merged
//! under each site file before it is checked. The site's own value wins; a
//! mapping merges key by key; a list replaces. A finding about a value
//! that came from the defaults names the defaults file and its line.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::site::diagnostic::Diagnostic;
use crate::site::source::{self, join_key, Pos, Positions};

/// The name of the defaults file in a sites folder.
pub const DEFAULTS_FILE: &str = "_defaults.yaml";

/// Keys only a site file may set: who it is, where it goes, and what is on
/// it.
const SITE_ONLY: &[&str] = &["site", "target.url", "extensions", "phones"];

/// A parsed defaults file.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub file: Arc<str>,
    value: Map<String, Value>,
    positions: Positions,
}

/// Read `<sites>/_defaults.yaml` if there is one. `Err`: why it cannot be
/// used, as diagnostics in that file (then no site can be checked).
pub fn read(sites_dir: &Path) -> Result<Option<Defaults>, Vec<Diagnostic>> {
    let path = sites_dir.join(DEFAULTS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let file = crate::site::parse::display(&path);
    let fail =
        |pos: Pos, path: &str, message: String| vec![Diagnostic::error(&file, pos, path, message)];
    let bytes = std::fs::read(&path).map_err(|e| {
        fail(
            Pos::START,
            "",
            format!("error reading the defaults file: {e}"),
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| fail(Pos::START, "", "the file is not valid UTF-8".to_owned()))?;
    parse(&file, &text).map(Some)
}

/// Parse the text of a defaults file.
pub fn parse(file: &str, text: &str) -> Result<Defaults, Vec<Diagnostic>> {
    let doc = match source::parse_with(text, source::Plain::Core) {
        Err(e) => return Err(vec![Diagnostic::error(file, e.pos, "", e.message)]),
        // Only comments: nothing to share yet.
        Ok(None) => {
            return Ok(Defaults {
                file: Arc::from(file),
                value: Map::new(),
                positions: Positions::default(),
            })
        }
        Ok(Some(doc)) => doc,
    };
    let Value::Object(value) = doc.value else {
        return Err(vec![Diagnostic::error(
            file,
            Pos::START,
            "",
            "the defaults file must be a YAML mapping of site keys (time:, firmware:, params: …)",
        )]);
    };
    let mut diags = Vec::new();
    for key in SITE_ONLY {
        if lookup(&value, key).is_some() {
            diags.push(Diagnostic::error(
                file,
                doc.positions.key(key),
                key,
                format!("{key} belongs in each site file, not in {DEFAULTS_FILE}"),
            ));
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Defaults {
        file: Arc::from(file),
        value,
        positions: doc.positions,
    })
}

fn lookup<'v>(map: &'v Map<String, Value>, dotted: &str) -> Option<&'v Value> {
    let (first, rest) = match dotted.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (dotted, None),
    };
    let v = map.get(first)?;
    match (rest, v) {
        (None, v) => Some(v),
        (Some(rest), Value::Object(m)) => lookup(m, rest),
        (Some(_), _) => None,
    }
}

impl Defaults {
    /// Merge these defaults under a site document: every key the site does
    /// not set is taken, with its positions in the defaults file.
    pub fn merge_under(&self, site: &mut Value, positions: &mut Positions) {
        if let Value::Object(map) = site {
            self.merge(map, &self.value, "", positions);
        }
    }

    fn merge(
        &self,
        site: &mut Map<String, Value>,
        defaults: &Map<String, Value>,
        path: &str,
        positions: &mut Positions,
    ) {
        for (key, value) in defaults {
            let at = join_key(path, key);
            match site.get_mut(key) {
                None => {
                    site.insert(key.clone(), value.clone());
                    positions.adopt(&self.positions, &at, &self.file);
                }
                Some(Value::Object(inner)) => {
                    if let Value::Object(d) = value {
                        self.merge(inner, d, &at, positions);
                    }
                }
                // A scalar or a list: the site's own replaces it.
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_wins_mappings_merge_and_lists_replace() {
        let d = parse(
            "sites/_defaults.yaml",
            "time: {zone: eastern, sntp_server: ntp.example.com}\nfirmware: {files: [{path: a, sha256: b}]}\nparams: {a.b: 1, c.d: 2}\n",
        )
        .expect("valid");
        let mut doc = source::parse(
            "site: hq\ntime: {zone: pacific}\nfirmware: {files: []}\nparams: {a.b: 3}\n",
        )
        .expect("valid");
        d.merge_under(&mut doc.value, &mut doc.positions);
        assert_eq!(doc.value["time"]["zone"], "pacific");
        assert_eq!(doc.value["time"]["sntp_server"], "ntp.example.com");
        assert_eq!(doc.value["firmware"]["files"], serde_json::json!([]));
        assert_eq!(doc.value["params"]["a.b"], 3);
        assert_eq!(doc.value["params"]["c.d"], 2);
        // Each value is found where it was written.
        assert_eq!(
            doc.positions.value_in("sites/hq.yaml", "time.zone"),
            ("sites/hq.yaml", Pos { line: 2, col: 14 })
        );
        assert_eq!(
            doc.positions.value_in("sites/hq.yaml", "time.sntp_server"),
            ("sites/_defaults.yaml", Pos { line: 1, col: 36 })
        );
        assert_eq!(
            doc.positions.value_in("sites/hq.yaml", "params.c.d").0,
            "sites/_defaults.yaml"
        );
    }

    #[test]
    fn what_only_a_site_sets_is_an_error_in_the_defaults() {
        let e = parse(
            "sites/_defaults.yaml",
            "target: {user: x, url: dir:y}\nphones: []\n",
        )
        .expect_err("site-only keys");
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|l| l.starts_with("sites/_defaults.yaml:1:19: target.url: ")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.starts_with("sites/_defaults.yaml:2:1: phones: ")),
            "{text:?}"
        );
    }

    #[test]
    fn a_comment_only_defaults_file_shares_nothing() {
        let d = parse("sites/_defaults.yaml", "# nothing yet\n").expect("valid");
        let mut doc = source::parse("site: hq\n").expect("valid");
        d.merge_under(&mut doc.value, &mut doc.positions);
        assert_eq!(doc.value, serde_json::json!({"site": "hq"}));
    }
}
