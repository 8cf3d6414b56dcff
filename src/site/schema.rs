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
