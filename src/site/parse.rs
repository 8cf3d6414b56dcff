//! One site file → a `SiteFile` with the positions of its fields: read,
//! parse with positions, merge over the folder's defaults, validate against
//! the JSON Schema (each finding said in the site file's own words, at its
//! line), then deserialise.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;
use std::path::Path;

use crate::site::defaults::Defaults;
use crate::site::diagnostic::Diagnostic;
use crate::site::file::SiteFile;
use crate::site::repair::Repairs;
use crate::site::schema;
use crate::site::source::{self, join_index, join_key, Pos, Positions};

/// A path as shown in messages.
pub fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Read, parse and schema-check one site file, over the defaults if any.
pub fn read_site(
    path: &Path,
    defaults: Option<&Defaults>,
) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    let file = display(path);
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::error(
            &file,
            Pos::START,
            "",
            format!("error reading site file: {e}"),
        )]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        vec![Diagnostic::error(
            &file,
            pos_of_offset(e.as_bytes(), offset),
            "",
            "the file is not valid UTF-8",
        )]
    })?;
    parse_site_over(&file, &text, defaults)
}

/// Parse and schema-check the text of one site file.
pub fn parse_site(file: &str, text: &str) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    parse_site_over(file, text, None)
}

/// [`parse_site`], with `defaults` merged under the site before it is
/// checked.
pub fn parse_site_over(
    file: &str,
    text: &str,
    defaults: Option<&Defaults>,
) -> Result<(SiteFile, Positions), Vec<Diagnostic>> {
    let mut doc =
        source::parse(text).map_err(|e| vec![Diagnostic::error(file, e.pos, "", e.message)])?;
    if let Some(d) = defaults {
        d.merge_under(&mut doc.value, &mut doc.positions);
    }
    if !doc.value.is_object() {
        return Err(vec![Diagnostic::error(
            file,
            Pos::START,
            "",
            "a site file must be a YAML mapping (site:, target:, server: …)",
        )]);
    }
    for (written, name) in crate::site::file::normalise_models(&mut doc.value) {
        doc.positions
            .rename(&join_key("models", &written), &join_key("models", &name));
    }
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut repairs = Repairs::default();
    for err in schema::validator().iter_errors(&doc.value) {
        repairs.note(&err);
        let path = field_path(&err.instance_path().iter().collect::<Vec<_>>());
        diags.extend(schema_diagnostics(
            file,
            &doc.positions,
            &path,
            err.kind(),
            err.instance(),
        ));
    }
    if !diags.is_empty() {
        diags.extend(repairs.rule_findings(file, &doc.value, &doc.positions));
        diags.sort_by(|a, b| (a.pos, &a.path).cmp(&(b.pos, &b.path)));
        diags.dedup();
        return Err(diags);
    }
    // JSON Schema's `integer` admits 5060.0 (it compares values, not
    // spellings) but serde does not. No site field takes a fraction (a test
    // pins it), so every such number is an integer field written wrong; all
    // of them are reported, not only the first one serde stops at.
    let mut floats = Vec::new();
    find_floats(&doc.value, "", &mut floats);
    if !floats.is_empty() {
        return Err(floats
            .iter()
            .map(|path| {
                let (file, pos) = doc.positions.value_in(file, path);
                Diagnostic::error(
                    file,
                    pos,
                    path,
                    "expected integer, found a number with a decimal point or exponent",
                )
            })
            .collect());
    }
    match serde_path_to_error::deserialize::<_, SiteFile>(doc.value) {
        Ok(sf) => Ok((sf, doc.positions)),
        // The schema is generated from these types, so this is only reached
        // where it says less than they do (a u32's upper bound); still an
        // error at its field, not a panic.
        Err(e) => {
            let mut path = String::new();
            for seg in e.path().iter() {
                path = match seg {
                    serde_path_to_error::Segment::Seq { index } => join_index(&path, *index),
                    serde_path_to_error::Segment::Map { key } => join_key(&path, key),
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => path,
                };
            }
            let (file, pos) = doc.positions.value_in(file, &path);
            Err(vec![Diagnostic::error(
                file,
                pos,
                &path,
                plain_types(&e.into_inner().to_string()),
            )])
        }
    }
}

/// The field paths of every number that is not an integer.
fn find_floats(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => out.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_floats(item, &join_index(path, i), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                find_floats(item, &join_key(path, key), out);
            }
        }
        _ => {}
    }
}

/// serde's message with Rust's integer types said in words: `expected u32`
/// → `expected an integer from 0 to 4294967295`.
fn plain_types(message: &str) -> String {
    let ranges = [
        ("u8", 0, i128::from(u8::MAX)),
        ("u16", 0, i128::from(u16::MAX)),
        ("u32", 0, i128::from(u32::MAX)),
        ("u64", 0, i128::from(u64::MAX)),
        ("i32", i128::from(i32::MIN), i128::from(i32::MAX)),
    ];
    for (name, min, max) in ranges {
        if let Some(head) = message.strip_suffix(&format!("expected {name}")) {
            return format!("{head}expected an integer from {min} to {max}");
        }
    }
    message.to_owned()
}

fn pos_of_offset(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    Pos { line, col }
}

/// `/phones/3/mac` → `phones[3].mac`.
fn field_path(segments: &[LocationSegment<'_>]) -> String {
    let mut path = String::new();
    for seg in segments {
        path = match seg {
            LocationSegment::Property(p) => join_key(&path, p),
            LocationSegment::Index(i) => join_index(&path, *i),
        };
    }
    path
}

/// Whether a field holds a password, whose value is never shown: a
/// `password` field, or a parameter whose name says password.
fn is_secret_field(path: &str) -> bool {
    match param_name(path) {
        Some(name) => crate::site::params::is_secret_name(name),
        None => path.split(['.', '[']).any(|seg| seg == "password"),
    }
}

/// The parameter a field path names (`extensions[0].params.reg.1.label` →
/// `reg.1.label`), if it is one.
fn param_name(path: &str) -> Option<&str> {
    if let Some(name) = path.strip_prefix("params.") {
        return Some(name);
    }
    path.find(".params.").map(|i| &path[i + ".params.".len()..])
}

fn schema_diagnostics(
    file: &str,
    positions: &Positions,
    path: &str,
    kind: &ValidationErrorKind,
    instance: &Value,
) -> Vec<Diagnostic> {
    let (file, at) = positions.value_in(file, path);
    let shown = if is_secret_field(path) {
        "the value".to_owned()
    } else {
        describe(instance)
    };
    let one = |message: String| vec![Diagnostic::error(file, at, path, message)];
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let child = join_key(path, key);
                let (file, pos) = positions.key_in(file, &child);
                Diagnostic::error(file, pos, &child, unknown_field(path, key))
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![Diagnostic::error(
                file,
                at,
                &join_key(path, name),
                "missing required field",
            )]
        }
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let mut message = format!(
                "expected {}, found {}",
                expected.join(" or "),
                json_type(instance)
            );
            if expected.iter().any(|t| t == "string") && instance.is_number() {
                message.push_str(" (quote it: YAML reads unquoted digits as a number)");
            }
            one(message)
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(describe).collect())
                .unwrap_or_default();
            one(format!("{shown} is not one of {}", allowed.join(", ")))
        }
        ValidationErrorKind::Pattern { pattern } => one(match schema::pattern_in_words(pattern) {
            Some(words) => format!("{shown} is not allowed here: {words}"),
            None => format!("{shown} does not match the pattern {pattern}"),
        }),
        ValidationErrorKind::Minimum { limit } => one(format!("{shown} is less than {limit}")),
        ValidationErrorKind::Maximum { limit } => one(format!("{shown} is more than {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            one(format!("{shown} must be more than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            one(format!("{shown} must be less than {limit}"))
        }
        ValidationErrorKind::MinLength { .. } => one("must not be empty".to_owned()),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            one(format!("{shown} is not a multiple of {multiple_of}"))
        }
        ValidationErrorKind::AnyOf { .. } if param_name(path).is_some() => one(format!(
            "{shown} is not a parameter value: a string, an integer or a boolean (quote a number with a point: \"1.5\"), or {{env: NAME}} / {{secret: KEY}}"
        )),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. }
            if is_secret_field(path) =>
        {
            one("expected a password: a string, {env: NAME} or {secret: KEY}".to_owned())
        }
        // `Option<T>` is `anyOf: [T, null]`: a non-null value that fails is
        // best explained by why it is not a T.
        ValidationErrorKind::AnyOf { context } if !instance.is_null() => {
            let mut branches = context
                .iter()
                .filter(|errors| !errors.iter().all(expects_only_null));
            match (branches.next(), branches.next()) {
                (Some(errors), None) if !errors.is_empty() => errors
                    .iter()
                    .flat_map(|e| {
                        let path = field_path(&e.instance_path().iter().collect::<Vec<_>>());
                        schema_diagnostics(file, positions, &path, e.kind(), e.instance())
                    })
                    .collect(),
                _ => one("does not match the schema (anyOf)".to_owned()),
            }
        }
        other => one(format!("does not match the schema ({})", other.keyword())),
    }
}

/// "unknown field", with the nearest field the mapping at `path` may hold.
fn unknown_field(path: &str, key: &str) -> String {
    let segments: Vec<&str> = path
        .split(['.', '['])
        .map(|s| s.trim_end_matches(']'))
        .filter(|s| !s.is_empty())
        .collect();
    let fields = schema::fields_at(&segments);
    match crate::nearest::nearest(key, fields.iter().map(String::as_str)) {
        Some(near) => format!("unknown field; did you mean {near}?"),
        None => "unknown field".to_owned(),
    }
}

/// The error of the `null` branch of an `Option`'s `anyOf`.
fn expects_only_null(e: &jsonschema::ValidationError<'_>) -> bool {
    matches!(
        e.kind(),
        ValidationErrorKind::Type {
            kind: TypeKind::Single(jsonschema::JsonType::Null)
        }
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) | Value::Object(_) => json_type(v).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_site` reports every non-integer number as an integer field
    /// written wrong; that holds while no field of the schema is a `number`.
    #[test]
    fn no_site_field_takes_a_fraction() {
        fn types(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    for (key, item) in map {
                        if key == "type" {
                            out.push(item.to_string());
                        }
                        types(item, out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| types(i, out)),
                _ => {}
            }
        }
        let schema: Value =
            serde_json::from_str(&schema::site_schema_json()).expect("the schema is JSON");
        let mut found = Vec::new();
        types(&schema, &mut found);
        assert!(found.iter().any(|t| t.contains("\"integer\"")));
        assert!(!found.iter().any(|t| t.contains("\"number\"")), "{found:?}");
    }

    #[test]
    fn rust_integer_types_are_said_in_words() {
        assert_eq!(
            plain_types("invalid value: integer `70000`, expected u16"),
            "invalid value: integer `70000`, expected an integer from 0 to 65535"
        );
        assert_eq!(plain_types("something else"), "something else");
    }
}
