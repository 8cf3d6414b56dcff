//! The parameter names of Polycom's SIP 3.2.7 application, with the
//! defaults its release `sip.cfg` / `phone1.cfg` give: embedded in the
//! binary, so a site file is checked the same way wherever polyops runs.
//!
//! Names are compared by *shape*: every numeric segment is an index
//! (`reg.7.label` is `reg.#.label`, known because `reg.1.label` is).

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("polycom-sip-3.2.7-parameters.tsv");

/// One parameter of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    /// The release files' value; `None` when they give none (`-`). An
    /// empty string is a value: the file sets it empty.
    pub default: Option<&'static str>,
    /// Where the default comes from (`sip.cfg`, `phone1.cfg`, …).
    pub source: &'static str,
}

pub struct Catalog {
    entries: Vec<Entry>,
    by_name: HashMap<&'static str, usize>,
    /// Shape → the first entry of that shape.
    by_shape: HashMap<String, usize>,
    /// Every shape once, lower-cased, with its first entry: what "did you
    /// mean" searches.
    shapes: Vec<(String, usize)>,
}

/// The catalog, parsed once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::parse(TSV))
}

/// `reg.12.label` → `reg.#.label`.
pub fn shape(name: &str) -> String {
    name.split('.')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "#"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Catalog {
    fn parse(text: &'static str) -> Catalog {
        let mut entries = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') || line.starts_with("name\t") || line.is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(name), Some(default), source) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            entries.push(Entry {
                name,
                default: (default != "-").then_some(default),
                source: source.unwrap_or_default(),
            });
        }
        let mut by_name = HashMap::new();
        let mut by_shape = HashMap::new();
        let mut shapes = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            by_name.entry(e.name).or_insert(i);
            let s = shape(e.name);
            if let std::collections::hash_map::Entry::Vacant(v) = by_shape.entry(s) {
                shapes.push((v.key().to_ascii_lowercase(), i));
                v.insert(i);
            }
        }
        Catalog {
            entries,
            by_name,
            by_shape,
            shapes,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of exactly this name.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// Whether the catalog has a parameter of this name, indices aside.
    pub fn knows(&self, name: &str) -> bool {
        self.by_shape.contains_key(&shape(name))
    }

    /// The known name nearest to an unknown one, by edit distance between
    /// shapes (case aside), with the name's own indices kept where the
    /// shapes have them: `msg.mwi.l.callBackMode` → `msg.mwi.1.callBackMode`,
    /// `reg.3.ringTyp` → `reg.3.ringType`. `None` when nothing is close.
    pub fn nearest(&self, name: &str) -> Option<String> {
        let near =
            crate::nearest::nearest(&shape(name), self.shapes.iter().map(|(s, _)| s.as_str()))?;
        let index = self
            .shapes
            .iter()
            .find(|(s, _)| s == near)
            .map(|(_, i)| *i)?;
        let known = self.entries[index].name;
        let theirs: Vec<&str> = name.split('.').collect();
        let ours: Vec<&str> = known.split('.').collect();
        if theirs.len() != ours.len() {
            return Some(known.to_owned());
        }
        Some(
            ours.iter()
                .zip(&theirs)
                .map(|(k, t)| {
                    let index = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                    if index(k) && index(t) {
                        *t
                    } else {
                        *k
                    }
                })
                .collect::<Vec<_>>()
                .join("."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_catalog_is_embedded() {
        let c = catalog();
        assert_eq!(c.len(), 5688);
        let e = c.get("msg.mwi.1.callBackMode").expect("listed");
        assert_eq!(e.default, Some("registration"));
        assert_eq!(e.source, "phone1.cfg");
        assert_eq!(
            c.get("tcpIpApp.sntp.address").expect("listed").default,
            None
        );
        assert_eq!(c.get("reg.1.address").expect("listed").default, Some(""));
    }

    #[test]
    fn numeric_segments_are_indices() {
        let c = catalog();
        assert!(c.knows("reg.1.ringType"));
        assert!(c.knows("reg.34.ringType"));
        assert!(c.knows("up.backlight.idleIntensity"));
        assert!(!c.knows("msg.mwi.l.callBackMode"));
        assert!(!c.knows("reg.1.ringtype"));
    }

    #[test]
    fn the_nearest_name_keeps_the_indices_written() {
        let c = catalog();
        assert_eq!(
            c.nearest("msg.mwi.l.callBackMode").as_deref(),
            Some("msg.mwi.1.callBackMode")
        );
        assert_eq!(
            c.nearest("reg.3.ringTyp").as_deref(),
            Some("reg.3.ringType")
        );
        assert_eq!(
            c.nearest("reg.1.ringtype").as_deref(),
            Some("reg.1.ringType")
        );
        assert_eq!(c.nearest("completely.unrelated.words.here"), None);
    }
}
