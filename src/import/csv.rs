//! An inventory spreadsheet → a draft site: one row per phone, header
//! `mac,model,extension` plus any of `name,label,password` (any case, any
//! order). What spreadsheets export is read: a byte order mark, CRLF (or
//! CR) line ends, quoted fields with commas, quotes and line breaks in
//! them, `;` or tab as the separator (found in the header, or named by an
//! Excel `sep=;` first line), blank rows, MACs in any common spelling.
//!
//! The parser is this file's own: the `csv` crate gives each record's
//! position but not each field's, and every error here names the line and
//! the column where its field starts (for a quoted field, its opening
//! quote), counted in characters.

use std::collections::BTreeMap;

use crate::import::notes::{ImportNotes, NoteKind};
use crate::import::{
    extension_key, Dialplan, Draft, DraftTarget, Extension, Field, Imported, Phone, Secrets,
};
use crate::site::diagnostic::Diagnostic;
use crate::site::file::{Model, MODELS};
use crate::site::mac::Mac;
use crate::site::rules::is_attribute_safe;
use crate::site::secret::Secret;
use crate::site::source::Pos;

/// One field as read, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub pos: Pos,
}

/// One record: its fields, and the position just after its last one
/// (where a missing field would have been).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub end: Pos,
}

/// A syntax error: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Characters with CR LF and a lone CR read as LF, and their positions.
struct Chars {
    chars: Vec<char>,
    at: usize,
    pos: Pos,
}

impl Chars {
    fn peek(&self) -> Option<char> {
        match self.chars.get(self.at) {
            Some('\r') => Some('\n'),
            c => c.copied(),
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        if self.chars[self.at] == '\r' && self.chars.get(self.at + 1) == Some(&'\n') {
            self.at += 1;
        }
        self.at += 1;
        if c == '\n' {
            self.pos = Pos {
                line: self.pos.line + 1,
                col: 1,
            };
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }
}

/// The separator a header line uses: the most frequent of `,` `;` tab
/// outside quotes (`,` when there is none).
fn separator(line: &str) -> char {
    let mut quoted = false;
    let mut counts = [(',', 0), (';', 0), ('\t', 0)];
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            for (s, n) in &mut counts {
                if c == *s {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(',', |(s, _)| *s)
}

/// Parse CSV text into rows; blank rows (nothing, or only separators) are
/// left out.
pub fn parse(text: &str) -> Result<Vec<Row>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut chars = Chars {
        chars: text.chars().collect(),
        at: 0,
        pos: Pos::START,
    };
    let first_line: String = text
        .chars()
        .take_while(|c| *c != '\n' && *c != '\r')
        .collect();
    let sep = match first_line.strip_prefix("sep=") {
        Some(s) if s.chars().count() == 1 => {
            while chars.next().is_some_and(|c| c != '\n') {}
            s.chars().next().unwrap_or(',')
        }
        _ => separator(&first_line),
    };
    let blank = |c: char| c == ' ' || (c == '\t' && sep != '\t');
    let mut rows = Vec::new();
    while chars.peek().is_some() {
        let mut cells = Vec::new();
        loop {
            while chars.peek().is_some_and(blank) {
                chars.next();
            }
            let start = chars.pos;
            let mut text = String::new();
            if chars.peek() == Some('"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => {
                            return Err(SyntaxError {
                                pos: start,
                                message: "this quoted field is never closed".to_owned(),
                            })
                        }
                        Some('"') if chars.peek() == Some('"') => {
                            chars.next();
                            text.push('"');
                        }
                        Some('"') => break,
                        Some(c) => text.push(c),
                    }
                }
                while chars.peek().is_some_and(blank) {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| c != sep && c != '\n') {
                    return Err(SyntaxError {
                        pos: chars.pos,
                        message: format!(
                            "text after the closing quote of the field at column {}",
                            start.col
                        ),
                    });
                }
            } else {
                while let Some(c) = chars.peek().filter(|c| *c != sep && *c != '\n') {
                    chars.next();
                    text.push(c);
                }
                let kept = text.trim_end_matches(blank).len();
                text.truncate(kept);
            }
            cells.push(Cell { text, pos: start });
            if chars.peek() == Some(sep) {
                chars.next();
                continue;
            }
            let end = chars.pos;
            chars.next();
            if !cells.iter().all(|c| c.text.is_empty()) {
                rows.push(Row { cells, end });
            }
            break;
        }
    }
    Ok(rows)
}

/// Errors at fields of one file.
struct Errors<'a> {
    file: &'a str,
    list: Vec<Diagnostic>,
}

impl Errors<'_> {
    fn add(&mut self, pos: Pos, column: &str, message: String) {
        self.list
            .push(Diagnostic::error(self.file, pos, column, message));
    }
}

/// The columns an inventory may have.
const COLUMNS: [&str; 6] = ["mac", "model", "extension", "name", "label", "password"];

pub struct Options {
    pub site: String,
    pub target: DraftTarget,
    pub address: String,
    pub gmt_offset: i32,
    /// The model of a row whose model is empty.
    pub model: Option<Model>,
}

/// Read an inventory. `Err`: every bad row, each an error at its field;
/// then nothing may be written.
pub fn import(file: &str, text: &str, opts: &Options) -> Result<Imported, Vec<Diagnostic>> {
    let rows = parse(text).map_err(|e| vec![Diagnostic::error(file, e.pos, "", e.message)])?;
    let mut errors = Errors {
        file,
        list: Vec::new(),
    };
    let Some((header, rows)) = rows.split_first() else {
        return Err(vec![Diagnostic::error(
            file,
            Pos::START,
            "",
            "the file is empty: expected a header line mac,model,extension (and any of name,label,password)",
        )]);
    };
    let columns = header_columns(header, opts, &mut errors);
    if !errors.list.is_empty() {
        return Err(errors.list);
    }
    let mut draft = Draft::new(&opts.site, file, opts.target.clone());
    draft.address = Field::Value(opts.address.clone());
    draft.gmt_offset = Field::Value(opts.gmt_offset);
    let mut inventory = Inventory {
        columns,
        width: header.cells.len(),
        opts,
        file,
        errors,
        macs: BTreeMap::new(),
        numbers: BTreeMap::new(),
        digits: None,
        secrets: Secrets::default(),
        notes: ImportNotes::default(),
    };
    for row in rows {
        if let Some((extension, phone)) = inventory.row(row) {
            draft.extensions.push(extension);
            draft.phones.push(phone);
        }
    }
    let mut errors = inventory.errors.list;
    if !errors.is_empty() {
        errors.sort_by_key(|d| d.pos);
        return Err(errors);
    }
    draft.extensions.sort_by(|a, b| a.number.cmp(&b.number));
    draft.dialplan = dialplan(&draft.extensions, inventory.digits);
    Ok(Imported {
        draft,
        secrets: inventory.secrets,
        notes: inventory.notes,
        originals: BTreeMap::new(),
    })
}

/// Each known column's index; an error for an unknown or repeated one,
/// and for each required one missing.
fn header_columns(
    header: &Row,
    opts: &Options,
    errors: &mut Errors,
) -> BTreeMap<&'static str, usize> {
    let mut columns: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let name = cell.text.trim().to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.contains_key(c) => {
                errors.add(cell.pos, "", format!("column {c} is named twice"))
            }
            Some(c) => {
                columns.insert(c, i);
            }
            None => errors.add(
                cell.pos,
                "",
                format!(
                    "unknown column {:?}: the columns are mac, model, extension, name, label and password",
                    crate::printable::printable(&cell.text)
                ),
            ),
        }
    }
    let first = header.cells.first().map_or(Pos::START, |c| c.pos);
    for required in ["mac", "extension"] {
        if !columns.contains_key(required) {
            errors.add(first, "", format!("the header has no {required} column"));
        }
    }
    if !columns.contains_key("model") && opts.model.is_none() {
        errors.add(
            first,
            "",
            "the header has no model column (or give every phone's model with --model)".to_owned(),
        );
    }
    columns
}

/// The dial plan the extensions need: their number of digits and first
/// digits, where they differ from the defaults.
fn dialplan(extensions: &[Extension], digits: Option<(usize, usize)>) -> Dialplan {
    let first: Vec<u8> = extensions
        .iter()
        .filter_map(|e| e.number.bytes().next())
        .map(|b| b - b'0')
        .collect();
    let lo = first.iter().min().copied().unwrap_or(1);
    let hi = first.iter().max().copied().unwrap_or(7);
    Dialplan {
        extension_digits: digits.map(|(d, _)| d as u8).filter(|d| *d != 3),
        first_digits: (lo < 1 || hi > 7).then_some((lo.min(1), hi.max(7))),
        ..Dialplan::default()
    }
}

/// The rows read so far: what later rows are checked against, and what
/// they made.
struct Inventory<'a> {
    columns: BTreeMap<&'static str, usize>,
    /// The header's number of columns.
    width: usize,
    opts: &'a Options,
    file: &'a str,
    errors: Errors<'a>,
    /// Each MAC and extension number, with the line it is on.
    macs: BTreeMap<Mac, usize>,
    numbers: BTreeMap<String, usize>,
    /// The extensions' number of digits, and the line that set it.
    digits: Option<(usize, usize)>,
    secrets: Secrets,
    notes: ImportNotes,
}

impl Inventory<'_> {
    /// One phone's row: its extension and phone, or `None` with an error
    /// at each bad field.
    fn row(&mut self, row: &Row) -> Option<(Extension, Phone)> {
        let line = row.cells.first().map_or(row.end.line, |c| c.pos.line);
        if let Some(extra) = row.cells.get(self.width) {
            self.errors.add(
                extra.pos,
                "",
                format!("more fields than the header has columns ({})", self.width),
            );
            return None;
        }
        let cell = |column: &str| -> (String, Pos) {
            match self.columns.get(column).and_then(|i| row.cells.get(*i)) {
                Some(c) => (c.text.clone(), c.pos),
                None => (String::new(), row.end),
            }
        };
        let (mac, model, number) = (cell("mac"), cell("model"), cell("extension"));
        let (name, label, password) = (cell("name"), cell("label"), cell("password"));
        let mac = self.mac(mac, line);
        let model = self.model(model);
        let number = self.extension(number, line);
        let name = self.text("name", name);
        let label = self.text("label", label);
        let password = self.password(password);
        let (Some(mac), Some(model), Some(number), Some(name), Some(label), Some(password)) =
            (mac, model, number, name, label, password)
        else {
            return None;
        };
        let key = extension_key(&self.opts.site, &number);
        if password.is_empty() {
            self.secrets.missing.push(key.clone());
            self.notes.add(
                self.file,
                NoteKind::FillIn,
                format!("line {line}: extension {number} has no password: set {key} in the secrets file"),
            );
        } else {
            self.secrets
                .values
                .insert(key.clone(), Secret::new(password));
        }
        let extension = Extension {
            number: number.clone(),
            name: name.filter(|n| *n != number),
            label: label.filter(|l| *l != number),
            password: key,
            params: Default::default(),
        };
        let phone = Phone {
            mac,
            model: Field::Value(model),
            model_note: None,
            extension: number,
        };
        Some((extension, phone))
    }

    fn mac(&mut self, (text, pos): (String, Pos), line: usize) -> Option<Mac> {
        if text.trim().is_empty() {
            self.errors.add(
                pos,
                "mac",
                "empty: every row is a phone and needs its MAC address".to_owned(),
            );
            return None;
        }
        match Mac::parse(&text) {
            Ok(m) => match self.macs.get(&m) {
                Some(first) => {
                    self.errors
                        .add(pos, "mac", format!("MAC {m} is already on line {first}"));
                    None
                }
                None => {
                    self.macs.insert(m, line);
                    Some(m)
                }
            },
            Err(e) => {
                let hint = if text.trim().bytes().all(|b| b.is_ascii_digit()) {
                    " (a spreadsheet drops a MAC's leading zeros when it reads it as a number: format the column as text)"
                } else {
                    ""
                };
                self.errors.add(pos, "mac", format!("{e}{hint}"));
                None
            }
        }
    }

    fn model(&mut self, (text, pos): (String, Pos)) -> Option<Model> {
        if text.trim().is_empty() {
            if self.opts.model.is_none() {
                self.errors.add(
                    pos,
                    "model",
                    format!(
                        "empty: give the phone's model ({MODELS}), or every empty one with --model"
                    ),
                );
            }
            return self.opts.model;
        }
        let model = text.parse::<Model>().ok();
        if model.is_none() {
            self.errors.add(
                pos,
                "model",
                format!(
                    "{:?} is not a supported model: {MODELS}",
                    crate::printable::printable(&text)
                ),
            );
        }
        model
    }

    /// The extension number, checked against the rows before.
    fn extension(&mut self, (number, pos): (String, Pos), line: usize) -> Option<String> {
        let number = number.trim().to_owned();
        let problem = if number.is_empty() {
            "empty: every phone needs its extension number".to_owned()
        } else if !number.bytes().all(|b| b.is_ascii_digit()) {
            format!(
                "{:?} is not an extension number (digits only)",
                crate::printable::printable(&number)
            )
        } else if !(3..=4).contains(&number.len()) || number.starts_with('0') {
            format!("{number}: polyops handles extensions of 3 or 4 digits that start with 1 to 9")
        } else if let Some(first) = self.numbers.get(&number) {
            format!("extension {number} is already on line {first}; MaxCS registers an extension from one SIP phone at a time")
        } else if let Some((d, first)) = self.digits.filter(|(d, _)| *d != number.len()) {
            format!("{number} has {} digits and line {first}'s extension has {d}: a site's extensions all have the same number of digits", number.len())
        } else {
            self.numbers.insert(number.clone(), line);
            self.digits.get_or_insert((number.len(), line));
            return Some(number);
        };
        self.errors.add(pos, "extension", problem);
        None
    }

    /// A name or label: `Some(None)` when empty, `None` when bad.
    fn text(&mut self, column: &str, (text, pos): (String, Pos)) -> Option<Option<String>> {
        if !is_attribute_safe(&text) {
            self.errors.add(
                pos,
                column,
                "must not contain control characters (a line break, a tab…)".to_owned(),
            );
            return None;
        }
        Some((!text.is_empty()).then_some(text))
    }

    fn password(&mut self, (password, pos): (String, Pos)) -> Option<String> {
        if !crate::polycom::xml::can_carry(&password) {
            self.errors.add(
                pos,
                "password",
                "holds a character a configuration file cannot carry".to_owned(),
            );
            return None;
        }
        Some(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Row]) -> Vec<Vec<&str>> {
        rows.iter()
            .map(|r| r.cells.iter().map(|c| c.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn what_a_spreadsheet_exports_is_read() {
        let rows = parse(
            "\u{feff}mac,name\r\n0004f2000607,\"Doe, Jane\"\r\n\r\n,,\r\n\"a\"\"b\", \"x\ny\"\r\n",
        )
        .expect("parses");
        assert_eq!(
            texts(&rows),
            [
                vec!["mac", "name"],
                vec!["0004f2000607", "Doe, Jane"],
                vec!["a\"b", "x\ny"]
            ]
        );
        // The BOM takes no column; quoted fields start at their quote.
        assert_eq!(rows[0].cells[0].pos, Pos { line: 1, col: 1 });
        assert_eq!(rows[1].cells[1].pos, Pos { line: 2, col: 14 });
        assert_eq!(rows[2].cells[0].pos, Pos { line: 5, col: 1 });
        assert_eq!(rows[2].cells[1].pos, Pos { line: 5, col: 9 });
    }

    #[test]
    fn semicolons_tabs_and_lone_carriage_returns_are_read_too() {
        let rows = parse("mac;extension\r0004f2000607;201\r").expect("parses");
        assert_eq!(
            texts(&rows),
            [vec!["mac", "extension"], vec!["0004f2000607", "201"]]
        );
        assert_eq!(rows[1].cells[1].pos, Pos { line: 2, col: 14 });
        let rows = parse("sep=;\nmac;name\n1;Doe, J\n").expect("parses");
        assert_eq!(texts(&rows)[1], ["1", "Doe, J"]);
        let rows = parse("mac\textension\n  a  \t201\n").expect("parses");
        assert_eq!(texts(&rows)[1], ["a", "201"]);
        assert_eq!(rows[1].cells[0].pos, Pos { line: 2, col: 3 });
    }

    #[test]
    fn broken_quotes_are_errors_at_their_place() {
        let e = parse("a,b\n1,\"open\n").expect_err("never closed");
        assert_eq!(e.pos, Pos { line: 2, col: 3 });
        let e = parse("a,b\n1,\"x\"y\n").expect_err("text after quote");
        assert_eq!(e.pos, Pos { line: 2, col: 6 });
        assert!(e.message.contains("closing quote"), "{}", e.message);
    }
}
