//! docs/site-file.md: `schema/site.schema.json` is generated from the Rust types and
//! checked in; `polyops schema` prints it, and this test fails when the two
//! differ.

use crate::common;

use common::Test;

const CHECKED_IN: &str = include_str!("../schema/site.schema.json");

#[test]
fn schema_command_prints_the_checked_in_schema_byte_for_byte() {
    let out = Test::new()
        .args(["schema"])
        .run()
        .status(0)
        .stderr_is_empty();
    assert!(
        out.stdout == CHECKED_IN,
        "schema/site.schema.json is out of date with src/site.rs; regenerate it with\n\n    \
         cargo run -q -- schema > schema/site.schema.json\n\nand commit the result. \
         First differing line: {:?}",
        out.stdout
            .lines()
            .zip(CHECKED_IN.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}: printed {a:?}, checked in {b:?}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".to_owned())
    );
}

#[test]
fn schema_describes_the_site_file_and_rejects_unknown_fields() {
    let schema: serde_json::Value =
        serde_json::from_str(CHECKED_IN).expect("the checked-in schema is JSON");
    assert_eq!(schema["title"], "polyops site");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("a required list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for field in ["site", "target", "server", "time"] {
        assert!(required.contains(&field), "{field} is required");
    }
    assert_eq!(schema["additionalProperties"], false);
    for field in [
        "site",
        "target",
        "server",
        "time",
        "dialplan",
        "message_waiting_beep",
        "firmware",
        "extensions",
        "phones",
    ] {
        assert!(
            schema["properties"].get(field).is_some(),
            "the schema has no property {field}"
        );
    }
}

#[test]
fn schema_needs_no_site_files() {
    // `schema` must work in an empty checkout, e.g. to set up an editor.
    Test::new()
        .current_dir("elsewhere")
        .args(["schema"])
        .run()
        .status(0)
        .stdout_contains("\"title\": \"polyops site\"");
}

const DEFAULTS_CHECKED_IN: &str = include_str!("../schema/defaults.schema.json");

#[test]
fn schema_defaults_prints_the_checked_in_defaults_schema() {
    let out = Test::new()
        .args(["schema", "--defaults"])
        .run()
        .status(0)
        .stderr_is_empty();
    assert!(
        out.stdout == DEFAULTS_CHECKED_IN,
        "schema/defaults.schema.json is out of date; regenerate it with\n\n    \
         cargo run -q -- schema --defaults > schema/defaults.schema.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(DEFAULTS_CHECKED_IN).expect("the checked-in schema is JSON");
    assert!(schema.get("required").is_none());
    for site_only in ["site", "extensions", "phones"] {
        assert!(schema["properties"].get(site_only).is_none(), "{site_only}");
    }
    assert!(schema["$defs"]["TargetFile"]["properties"]
        .get("url")
        .is_none());
    assert!(schema["properties"].get("time").is_some());
    assert!(schema["properties"].get("params").is_some());
}
