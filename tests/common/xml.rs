//! Reading rendered configuration files the way a phone does: as XML whose
//! attributes are the parameters. Polycom parameter names are unique within
//! a file, so a file reads as a map from parameter to value.

use std::collections::BTreeMap;

/// Every attribute of a well-formed XML file: parameter → (element path
/// from the root, value). Panics, naming the file, if the file is not UTF-8,
/// not well formed, or names a parameter twice.
pub struct Params {
    file: String,
    map: BTreeMap<String, (String, String)>,
}

impl Params {
    pub fn parse(file: &str, bytes: &[u8]) -> Params {
        let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{file}: not UTF-8: {e}"));
        let doc = roxmltree::Document::parse(text)
            .unwrap_or_else(|e| panic!("{file}: not well-formed XML: {e}\n{text}"));
        let mut map = BTreeMap::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            let mut path: Vec<&str> = node
                .ancestors()
                .filter(|n| n.is_element())
                .map(|n| n.tag_name().name())
                .collect();
            path.reverse();
            let path = path.join("/");
            for attr in node.attributes() {
                let previous = map.insert(
                    attr.name().to_owned(),
                    (path.clone(), attr.value().to_owned()),
                );
                assert!(
                    previous.is_none(),
                    "{file}: parameter {} appears twice",
                    attr.name()
                );
            }
        }
        Params {
            file: file.to_owned(),
            map,
        }
    }

    /// The value of a parameter; panics when it is missing.
    pub fn get(&self, name: &str) -> &str {
        match self.map.get(name) {
            Some((_, value)) => value,
            None => panic!(
                "{}: no parameter {name}; it has {:?}",
                self.file,
                self.map.keys().collect::<Vec<_>>()
            ),
        }
    }

    /// The element path (`sip/TCP_IP/SNTP`) that carries a parameter.
    pub fn element(&self, name: &str) -> &str {
        self.get(name);
        &self.map[name].0
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

/// The element names of a file, depth first, as `parent/child` paths.
pub fn element_paths(file: &str, bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{file}: not UTF-8: {e}"));
    let doc = roxmltree::Document::parse(text)
        .unwrap_or_else(|e| panic!("{file}: not well-formed XML: {e}"));
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let mut path: Vec<&str> = n
                .ancestors()
                .filter(|a| a.is_element())
                .map(|a| a.tag_name().name())
                .collect();
            path.reverse();
            path.join("/")
        })
        .collect()
}

/// A configuration file of `n` parameters in one `element`, about 12
/// bytes each (80,000 make a 949 KB file): more than polyops parses.
pub fn with_attributes(element: &str, n: usize) -> String {
    let mut xml = format!("<?xml version=\"1.0\"?>\n<PHONE_CONFIG><{element}");
    for i in 0..n {
        xml.push_str(&format!(" a.{i}=\"1\""));
    }
    xml.push_str("/></PHONE_CONFIG>\n");
    xml
}
