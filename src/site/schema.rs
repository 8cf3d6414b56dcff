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

/// The compiled validator, built once per process.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(&site_schema_json()).expect("the generated schema is valid JSON");
        jsonschema::validator_for(&schema).expect("the generated schema compiles")
    })
}
