//! A position-keeping YAML parse: the document as a JSON value (what the schema
//! validator and serde see) plus the line and column of every value and key,
//! keyed by field path (`phones[3].mac`), so every error can point at a line.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, col: 1 };
    /// No line at all: for a finding about a path as a whole that has none
    /// (a folder, a file that is not read). Printed as `FILE: …`.
    pub const NONE: Pos = Pos { line: 0, col: 0 };

    fn of(m: Marker) -> Pos {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Pos {
            line: m.line().max(1),
            col: m.col() + 1,
        }
    }
}

/// A YAML problem that stops the file from being read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Where each field path of a document sits in its source. A document
/// merged from two files (a site over `_defaults.yaml`) knows, per path,
/// which file a value came from.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    /// Paths whose value came from another file than the document's own.
    origin: HashMap<String, Arc<str>>,
}

impl Positions {
    /// Position of the value at `path`, or of its nearest ancestor that has one.
    pub fn value(&self, path: &str) -> Pos {
        self.value_in("", path).1
    }

    /// Whether the document itself writes a value at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.values.contains_key(path)
    }

    /// Position of the key that introduces `path` (for unknown fields), else
    /// of the value.
    pub fn key(&self, path: &str) -> Pos {
        self.key_in("", path).1
    }

    /// The file and position of the value at `path` (or of its nearest
    /// ancestor that has one), in a document read from `file`.
    pub fn value_in<'a>(&'a self, file: &'a str, path: &str) -> (&'a str, Pos) {
        let mut p = path;
        loop {
            if let Some(pos) = self.values.get(p) {
                return (self.file_of(file, p), *pos);
            }
            match parent(p) {
                Some(up) => p = up,
                None => return (file, Pos::START),
            }
        }
    }

    /// The file and position of the key that introduces `path`, else of
    /// the value.
    pub fn key_in<'a>(&'a self, file: &'a str, path: &str) -> (&'a str, Pos) {
        match self.keys.get(path) {
            Some(pos) => (self.file_of(file, path), *pos),
            None => self.value_in(file, path),
        }
    }

    fn file_of<'a>(&'a self, file: &'a str, path: &str) -> &'a str {
        self.origin.get(path).map(|f| &**f).unwrap_or(file)
    }

    /// The positions of `from` and everything under it, moved to `to` (a
    /// key read as another spelling of itself).
    pub fn rename(&mut self, from: &str, to: &str) {
        let moved = |p: &str| {
            p.strip_prefix(from)
                .filter(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
                .map(|rest| format!("{to}{rest}"))
        };
        for map in [&mut self.values, &mut self.keys] {
            let paths: Vec<String> = map.keys().filter(|p| moved(p).is_some()).cloned().collect();
            for p in paths {
                if let (Some(pos), Some(new)) = (map.remove(&p), moved(&p)) {
                    map.insert(new, pos);
                }
            }
        }
        let paths: Vec<String> = self
            .origin
            .keys()
            .filter(|p| moved(p).is_some())
            .cloned()
            .collect();
        for p in paths {
            if let (Some(f), Some(new)) = (self.origin.remove(&p), moved(&p)) {
                self.origin.insert(new, f);
            }
        }
    }

    /// Take the positions of `path` and everything under it from `other`,
    /// a document read from `file`: its value was merged in from there.
    pub fn adopt(&mut self, other: &Positions, path: &str, file: &Arc<str>) {
        let under = |p: &str| {
            p == path
                || p.strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with(['.', '[']) || path.is_empty())
        };
        for (p, pos) in other.values.iter().filter(|(p, _)| under(p)) {
            self.values.insert(p.clone(), *pos);
            self.origin.insert(p.clone(), file.clone());
        }
        for (p, pos) in other.keys.iter().filter(|(p, _)| under(p)) {
            self.keys.insert(p.clone(), *pos);
            self.origin.insert(p.clone(), file.clone());
        }
    }
}

/// The path one level up: `phones[3].mac` → `phones[3]` → `phones` → ``.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// Append a mapping key to a path.
pub fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Append a sequence index to a path.
pub fn join_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A parsed document.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    pub positions: Positions,
}

/// How plain (unquoted) scalars are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Plain {
    /// The YAML 1.2 core schema: `201` is a number, `true` a boolean.
    #[default]
    Core,
    /// As written, but for null (`~`, `null`, nothing): for values that are
    /// text whatever they look like, such as secrets (`007`, `0x1F`).
    Text,
}

/// Parse one YAML document. Empty files, several documents, duplicate keys
/// and non-scalar keys are errors, as are scanner errors (tabs in
/// indentation, bad indentation, unclosed quotes…).
pub fn parse(text: &str) -> Result<Document, SyntaxError> {
    parse_with(text, Plain::Core)?.ok_or_else(|| SyntaxError {
        pos: Pos::START,
        message: "the file is empty".to_owned(),
    })
}

/// [`parse`], reading plain scalars as `plain` says; `None` for a file that
/// holds no document (nothing, or only comments). A byte order mark at the
/// start (Windows editors write one) is skipped: YAML allows it, but
/// yaml-rust2 would read it as part of the first key.
pub fn parse_with(text: &str, plain: Plain) -> Result<Option<Document>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder {
        plain,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let mut pos = Pos::of(*e.marker());
        if e.info().contains("tab") {
            pos = tab_position(text, pos).unwrap_or(pos);
        }
        return Err(SyntaxError {
            pos,
            message: e.info().to_owned(),
        });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    match builder.documents {
        0 => Ok(None),
        1 => Ok(Some(Document {
            value: builder.root.unwrap_or(Value::Null),
            positions: builder.positions,
        })),
        _ => Err(SyntaxError {
            pos: builder.second_document.unwrap_or(Pos::START),
            message: "the file holds several YAML documents; it must hold one".to_owned(),
        }),
    }
}

/// Where the tab of a scanner's tab error really is. yaml-rust2 marks most
/// of them at the start of the scalar or block scalar before the tab (the
/// end of the previous line, to a reader) or just past it, but an editor
/// jumping to the error wants the tab: it is at `at`, or else the first tab
/// in the indentation of `at`'s line or of a later one.
fn tab_position(text: &str, at: Pos) -> Option<Pos> {
    let mut lines = text
        .split('\n')
        .enumerate()
        .skip(at.line.saturating_sub(1))
        .peekable();
    let (_, first) = lines.peek()?;
    if first.chars().nth(at.col.saturating_sub(1)) == Some('\t') {
        return Some(at);
    }
    lines.find_map(|(i, line)| {
        line.chars()
            .take_while(|c| matches!(c, ' ' | '\t'))
            .position(|c| c == '\t')
            .map(|col| Pos {
                line: i + 1,
                col: col + 1,
            })
    })
}

enum Frame {
    Map {
        path: String,
        map: Map<String, Value>,
        seen: HashSet<String>,
        key: Option<String>,
        anchor: usize,
    },
    Seq {
        path: String,
        items: Vec<Value>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    plain: Plain,
    stack: Vec<Frame>,
    root: Option<Value>,
    anchors: HashMap<usize, Value>,
    /// What anchors and aliases have copied so far, bounded by
    /// `MAX_ALIAS_VALUES` and `MAX_ALIAS_BYTES`.
    copied: Cost,
    positions: Positions,
    documents: usize,
    second_document: Option<Pos>,
    error: Option<SyntaxError>,
}

impl Builder {
    fn fail(&mut self, pos: Pos, message: String) {
        if self.error.is_none() {
            self.error = Some(SyntaxError { pos, message });
        }
    }

    /// The path a new value takes, or `None` when the value is a mapping key.
    fn next_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Seq { path, items, .. }) => Some(join_index(path, items.len())),
            Some(Frame::Map { path, key, .. }) => key.as_ref().map(|k| join_key(path, k)),
        }
    }

    fn is_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Count a copy of `value` against the caps; false (and the error
    /// recorded at `pos`) when it would exceed one.
    fn copy_allowed(&mut self, value: &Value, pos: Pos) -> bool {
        self.copied.add(Cost::of(value));
        if self.copied.values > MAX_ALIAS_VALUES {
            self.fail(
                pos,
                format!("anchors and aliases expand to more than {MAX_ALIAS_VALUES} values"),
            );
            false
        } else if self.copied.bytes > MAX_ALIAS_BYTES {
            self.fail(
                pos,
                format!(
                    "anchors and aliases expand to more than {} MiB of text",
                    MAX_ALIAS_BYTES >> 20
                ),
            );
            false
        } else {
            true
        }
    }

    /// Attach a finished value to its parent; an anchored one is also kept
    /// (a copy, counted like an alias's) for the aliases that name it.
    fn attach(&mut self, value: Value, anchor: usize, pos: Pos) {
        if anchor != 0 && self.copy_allowed(&value, pos) {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => {
                if let Some(k) = key.take() {
                    map.insert(k, value);
                }
            }
        }
    }

    fn on_key(&mut self, key: String, pos: Pos) {
        let mut duplicate = None;
        if let Some(Frame::Map {
            path,
            seen,
            key: slot,
            ..
        }) = self.stack.last_mut()
        {
            // yaml-rust2 marks a block mapping at the `:` of its first key;
            // the mapping starts where that key does.
            if seen.is_empty() {
                if let Some(at) = self.positions.values.get_mut(path.as_str()) {
                    *at = (*at).min(pos);
                }
            }
            let child = join_key(path, &key);
            if !seen.insert(key.clone()) {
                duplicate = Some(child.clone());
            }
            self.positions.keys.insert(child, pos);
            *slot = Some(key);
        }
        if let Some(child) = duplicate {
            self.fail(pos, format!("duplicate key: {child}"));
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = Pos::of(mark);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(pos);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if self.is_key_position() {
                    self.on_key(text, pos);
                    return;
                }
                let Some(path) = self.next_path() else { return };
                self.positions.values.insert(path, pos);
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = match self.plain {
                    _ if style != TScalarStyle::Plain || is_str_tag => Value::String(text),
                    Plain::Core => resolve_plain(&text),
                    Plain::Text if is_null(&text) => Value::Null,
                    Plain::Text => Value::String(text),
                };
                self.attach(value, anchor, pos);
            }
            Event::Alias(id) => {
                if self.is_key_position() {
                    self.fail(pos, "aliases cannot be mapping keys".to_owned());
                    return;
                }
                let Some(path) = self.next_path() else { return };
                self.positions.values.insert(path, pos);
                // Taken out while it is counted, so that no copy is made
                // before the caps allow it.
                let Some(v) = self.anchors.remove(&id) else {
                    self.fail(pos, "alias to an unknown anchor".to_owned());
                    return;
                };
                if self.copy_allowed(&v, pos) {
                    self.attach(v.clone(), 0, pos);
                }
                self.anchors.insert(id, v);
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if self.is_key_position() {
                    self.fail(pos, "mapping keys must be plain scalars".to_owned());
                    return;
                }
                let Some(path) = self.next_path() else { return };
                self.positions.values.insert(path.clone(), pos);
                let frame = if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map {
                        path,
                        map: Map::new(),
                        seen: HashSet::new(),
                        key: None,
                        anchor,
                    }
                } else {
                    Frame::Seq {
                        path,
                        items: Vec::new(),
                        anchor,
                    }
                };
                self.stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Map { map, anchor, .. }) => {
                    self.attach(Value::Object(map), anchor, pos)
                }
                Some(Frame::Seq { items, anchor, .. }) => {
                    self.attach(Value::Array(items), anchor, pos)
                }
                None => {}
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Anchors and aliases may copy at most this many values in all: enough for
/// any real site, and a "billion laughs" file fails at once instead of
/// eating memory.
const MAX_ALIAS_VALUES: usize = 100_000;

/// ... and at most this many bytes of keys and strings: a few values can
/// be big too (one 1 MiB string aliased 20,000 times is 20 GB), and with
/// this cap a site file costs at most about 100 MB of memory beyond its own
/// size. A real site's aliases (a shared password reference, a phone
/// template) copy a few kilobytes.
const MAX_ALIAS_BYTES: usize = 64 << 20;

/// What a copy of a value costs.
#[derive(Debug, Default, Clone, Copy)]
struct Cost {
    /// Values, the copied one included.
    values: usize,
    /// Bytes of strings, mapping keys included.
    bytes: usize,
}

impl Cost {
    fn of(v: &Value) -> Cost {
        let mut cost = Cost {
            values: 1,
            bytes: 0,
        };
        match v {
            Value::String(s) => cost.bytes = s.len(),
            Value::Array(items) => {
                for item in items {
                    cost.add(Cost::of(item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    cost.bytes = cost.bytes.saturating_add(key.len());
                    cost.add(Cost::of(item));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
        cost
    }

    fn add(&mut self, other: Cost) {
        self.values = self.values.saturating_add(other.values);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    if is_null(text) {
        return Value::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n.into());
    }
    if looks_like_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = text.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let doc = parse("site: hq\nphones:\n  - mac: aa\n    model: IP650\n").expect("valid");
        assert_eq!(doc.positions.value("site"), Pos { line: 1, col: 7 });
        assert_eq!(
            doc.positions.value("phones[0].mac"),
            Pos { line: 3, col: 10 }
        );
        assert_eq!(
            doc.positions.key("phones[0].model"),
            Pos { line: 4, col: 5 }
        );
        assert_eq!(
            doc.positions.value("phones[0].nothing"),
            doc.positions.value("phones[0]")
        );
    }

    #[test]
    fn a_mapping_starts_at_its_first_key_or_brace() {
        let doc = parse("time:\n  zone: pacific\nt: {url: x}\n").expect("valid");
        assert_eq!(doc.positions.value(""), Pos { line: 1, col: 1 });
        assert_eq!(doc.positions.value("time"), Pos { line: 2, col: 3 });
        assert_eq!(doc.positions.value("t"), Pos { line: 3, col: 4 });
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2_core() {
        let doc = parse("a: 201\nb: \"201\"\nc: ~\nd: true\ne: 00:04:f2:00:06:07\nf: 1.5\n")
            .expect("valid");
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 201, "b": "201", "c": null, "d": true, "e": "00:04:f2:00:06:07", "f": 1.5})
        );
    }

    #[test]
    fn plain_text_scalars_keep_their_spelling_but_null() {
        let doc = parse_with("a: 007\nb: 0x1F\nc: true\nd: ~\ne:\n", Plain::Text)
            .expect("valid")
            .expect("a document");
        assert_eq!(
            doc.value,
            serde_json::json!({"a": "007", "b": "0x1F", "c": "true", "d": null, "e": null})
        );
        assert!(parse_with("# nothing\n", Plain::Text)
            .expect("valid")
            .is_none());
    }

    #[test]
    fn duplicate_keys_are_errors_with_their_line() {
        let err = parse("site: a\nsite: b\n").expect_err("duplicate");
        assert_eq!(err.pos.line, 2);
        assert!(err.message.contains("duplicate key: site"));
    }

    #[test]
    fn empty_and_multi_document_files_are_errors() {
        assert!(parse("").is_err());
        assert!(parse("# only a comment\n").is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn alias_bombs_are_errors_not_out_of_memory() {
        let mut text = String::from("a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&text).expect_err("bomb");
        assert!(
            err.message
                .contains("aliases expand to more than 100000 values"),
            "{}",
            err.message
        );
        assert!(parse("a: &x {k: 1}\nb: *x\n").is_ok());
    }

    #[test]
    fn tabs_in_indentation_are_errors() {
        let err = parse("a:\n\tb: 1\n").expect_err("tab");
        assert_eq!(err.pos, Pos { line: 2, col: 1 });
        let err = parse("a:\n  b: 1\n\tc: 2\n").expect_err("tab");
        assert_eq!(err.pos, Pos { line: 3, col: 1 });
    }
}
