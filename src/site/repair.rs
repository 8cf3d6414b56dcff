//! A site file that failed the schema may still be read as its author
//! meant it: an unknown field left out says nothing about the others, and
//! `number: 201` is the digits `"201"` unquoted. Where every schema error
//! of a file is of that kind, the file so read goes through the rules
//! too, so one run reports every error of the file; where one is not (a
//! value that means nothing, a required field missing), the rules are
//! left for the next run rather than run on a guess.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::JsonType;
use serde_json::Value;

use crate::site::diagnostic::Diagnostic;
use crate::site::file::SiteFile;
use crate::site::rules;
use crate::site::schema;
use crate::site::source::Positions;

/// One step of a path into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// How a schema error is read away, if it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fix {
    /// Leave these fields of the mapping out.
    LeaveOut(Vec<Step>, Vec<String>),
    /// Read the integer as the string of its digits.
    Quote(Vec<Step>),
}

/// The fixes of a file's schema errors; `None` once one cannot be read away.
#[derive(Debug)]
pub struct Repairs {
    fixes: Option<Vec<Fix>>,
}

/// No schema error yet: every one so far has a fix.
impl Default for Repairs {
    fn default() -> Self {
        Self {
            fixes: Some(Vec::new()),
        }
    }
}

impl Repairs {
    /// Take one schema error into account.
    pub fn note(&mut self, error: &jsonschema::ValidationError<'_>) {
        let Some(fixes) = &mut self.fixes else {
            return;
        };
        let at: Vec<Step> = error
            .instance_path()
            .iter()
            .map(|s| match s {
                LocationSegment::Property(p) => Step::Key(p.to_string()),
                LocationSegment::Index(i) => Step::Index(i),
            })
            .collect();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                fixes.push(Fix::LeaveOut(at, unexpected.clone()));
            }
            ValidationErrorKind::Type {
                kind: TypeKind::Single(JsonType::String),
            } if error.instance().is_i64() || error.instance().is_u64() => {
                fixes.push(Fix::Quote(at));
            }
            _ => self.fixes = None,
        }
    }

    /// The rules' findings about `value` read with the fixes, when every
    /// schema error had one and the file so read is valid; else none.
    pub fn rule_findings(
        self,
        file: &str,
        value: &Value,
        positions: &Positions,
    ) -> Vec<Diagnostic> {
        let Some(fixes) = self.fixes else {
            return Vec::new();
        };
        let mut read = value.clone();
        for fix in &fixes {
            if !apply(&mut read, fix) {
                return Vec::new();
            }
        }
        if !schema::validator().is_valid(&read) || has_fraction(&read) {
            return Vec::new();
        }
        match serde_json::from_value::<SiteFile>(read) {
            Ok(sf) => rules::check_site(file, &sf, positions).1,
            Err(_) => Vec::new(),
        }
    }
}

fn apply(root: &mut Value, fix: &Fix) -> bool {
    let (at, leave_out) = match fix {
        Fix::LeaveOut(at, keys) => (at, Some(keys)),
        Fix::Quote(at) => (at, None),
    };
    let Some(node) = at.iter().try_fold(root, |node, step| match step {
        Step::Key(k) => node.get_mut(k.as_str()),
        Step::Index(i) => node.get_mut(*i),
    }) else {
        return false;
    };
    match leave_out {
        Some(keys) => match node.as_object_mut() {
            Some(map) => {
                for key in keys {
                    map.remove(key);
                }
                true
            }
            None => false,
        },
        None => {
            *node = Value::String(node.to_string());
            true
        }
    }
}

/// Whether a number with a fraction is anywhere in the tree (the schema
/// takes 5060.0 for an integer, serde does not).
fn has_fraction(v: &Value) -> bool {
    match v {
        Value::Number(n) => !n.is_i64() && !n.is_u64(),
        Value::Array(items) => items.iter().any(has_fraction),
        Value::Object(map) => map.values().any(has_fraction),
        _ => false,
    }
}
