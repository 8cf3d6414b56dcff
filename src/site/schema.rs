//! The JSON Schema of a site file, generated from the serde types, and the
//! validator every site file goes through before the rules.

use std::sync::OnceLock;

use crate::site::file::SiteFile;

/// The schema as checked in at `schema/site.schema.json` (pretty JSON, trailing newline).
pub fn site_schema_json() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<SiteFile>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}

/// The schema of `sites/_defaults.yaml`, checked in at
/// `schema/defaults.schema.json`: the site file's, with nothing required
/// and without what only a site sets (`site`, `target.url`, `extensions`,
/// `phones`).
pub fn defaults_schema_json() -> String {
    let mut schema: serde_json::Value =
        serde_json::from_str(&site_schema_json()).expect("the generated schema is valid JSON");
    schema["title"] = "polyops site defaults".into();
    schema["description"] = "sites/_defaults.yaml: keys merged under every site file (the site's own value wins; a mapping merges key by key; a list replaces).".into();
    if let Some(root) = schema.as_object_mut() {
        root.remove("required");
    }
    if let Some(props) = schema["properties"].as_object_mut() {
        for key in ["site", "extensions", "phones"] {
            props.remove(key);
        }
    }
    let target = &mut schema["$defs"]["TargetFile"];
    if let Some(props) = target["properties"].as_object_mut() {
        props.remove("url");
    }
    if let Some(obj) = target.as_object_mut() {
        obj.remove("required");
    }
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}

/// The compiled validator, built once per process.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(&site_schema_json()).expect("the generated schema is valid JSON");
        jsonschema::validator_for(&schema).expect("the generated schema compiles")
    })
}

/// What a pattern of the schema allows, said in words: what a message
/// shows instead of the regular expression. Every pattern of the schema
/// has its words (a test holds the two together).
pub fn pattern_in_words(pattern: &str) -> Option<&'static str> {
    Some(match pattern {
        r"^[a-z0-9][a-z0-9-]*$" => {
            "use lower-case letters, digits and -, starting with a letter or digit (e.g. hq, branch-2)"
        }
        r"^([01][0-9]|2[0-3]):[0-5][0-9]$" => "expected a time of day as HH:MM, 00:00 to 23:59",
        r"^(ftps?://[^/\s]+(/.*)?|dir:.+)$" => {
            "expected ftp://HOST[:PORT]/PATH, ftps://HOST[:PORT]/PATH or dir:FOLDER, without spaces in the host"
        }
        r"^[0-9]-[0-9]$" => "expected two digits joined by -, e.g. 1-7",
        r"^[0-9]+(\.[0-9]+)*$" => "expected a version: numbers joined by dots, e.g. 3.2.7",
        r"^[0-9A-Fa-f]{64}$" => "expected 64 hexadecimal digits (what sha256sum prints)",
        r"^[A-Za-z_][A-Za-z0-9_]*$" => {
            "expected an environment variable's name: letters, digits and _, not starting with a digit"
        }
        r"^[0-9]+$" => "expected digits only, quoted (\"201\")",
        _ => return None,
    })
}

/// The fields a mapping of a site file may hold, by its field path's
/// segments (`["target"]`, `["phones", "3"]`): what an unknown field's
/// "did you mean" chooses from. Empty where the schema names none.
pub fn fields_at(segments: &[&str]) -> Vec<String> {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    let root = SCHEMA.get_or_init(|| {
        serde_json::from_str(&site_schema_json()).expect("the generated schema is valid JSON")
    });
    let mut node = resolve(root, root);
    for segment in segments {
        let next = if node.get("items").is_some() {
            node.get("items")
        } else {
            node.get("properties").and_then(|p| p.get(*segment))
        };
        let Some(next) = next else {
            return Vec::new();
        };
        node = resolve(root, next);
    }
    node.get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// A schema node with its `$ref` followed, and an `Option`'s `anyOf: [T,
/// null]` taken as its T.
fn resolve<'a>(root: &'a serde_json::Value, node: &'a serde_json::Value) -> &'a serde_json::Value {
    if let Some(name) = node
        .get("$ref")
        .and_then(|r| r.as_str())
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return resolve(root, &root["$defs"][name]);
    }
    if let Some(branches) = node.get("anyOf").and_then(|a| a.as_array()) {
        let mut not_null = branches.iter().filter(|b| b["type"] != "null");
        if let (Some(only), None) = (not_null.next(), not_null.next()) {
            return resolve(root, only);
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_of_the_schema_is_said_in_words() {
        fn patterns(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (key, item) in map {
                        match item.as_str() {
                            Some(p) if key == "pattern" => out.push(p.to_owned()),
                            _ => patterns(item, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| patterns(i, out)),
                _ => {}
            }
        }
        let schema: serde_json::Value =
            serde_json::from_str(&site_schema_json()).expect("the schema is JSON");
        let mut found = Vec::new();
        patterns(&schema, &mut found);
        assert!(found.len() >= 7, "{found:?}");
        for p in found {
            assert!(pattern_in_words(&p).is_some(), "no words for {p}");
        }
    }

    #[test]
    fn the_fields_of_each_mapping_are_found_through_refs_and_options() {
        let has = |path: &[&str], field: &str| fields_at(path).iter().any(|f| f == field);
        assert!(has(&[], "extensions"));
        assert!(has(&["target"], "password"));
        assert!(has(&["phones", "3"], "extension"));
        assert!(has(&["provisioning", "polling"], "time"));
        assert!(has(&["models"], "IP650"));
        assert!(fields_at(&["params"]).is_empty());
        assert!(fields_at(&["nothing", "here"]).is_empty());
    }
}
