//! The loader and the rules never panic, whatever a site file holds, and
//! whatever they accept renders well-formed XML: property tests over
//! arbitrary bytes and over site documents mutated from the example site.
//! Bounded (a few hundred cases each) so the suite stays fast; raise
//! `PROPTEST_CASES` to search longer.

use std::collections::BTreeMap;

use polyops::render::inputs::Inputs;
use polyops::site::parse::parse_site;
use polyops::site::rules::Loaded;
use polyops::site::rules::{check_across, check_site};
use polyops::site::secret::Secret;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

const EXAMPLE: &str = include_str!("../examples/example.yaml");
const FILE: &str = "sites/fuzz.yaml";

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    Config {
        // Keep every failure reproducible from the printed input instead of
        // writing regression files next to the tests.
        failure_persistence: None,
        ..Config::with_cases(cases)
    }
}

/// Load `text` the way `polyops validate` does, then check and render what
/// passes. Panics (failing the property) on any broken invariant.
fn load_check_render(text: &str) {
    // YAML counts a lone carriage return as a line break too; the scanner
    // may point one line past the last break at the end of input.
    let lines = text.matches(['\n', '\r']).count() + 1;
    let (site_file, positions) = match parse_site(FILE, text) {
        Ok(ok) => ok,
        Err(diags) => {
            // Warnings may come along, but a rejected file has an error.
            assert!(
                diags.iter().any(|d| d.is_error()),
                "a rejected file has a reason: {diags:?}"
            );
            for d in &diags {
                assert!(d.pos.line >= 1 && d.pos.col >= 1, "{d}");
                assert!(d.pos.line <= lines + 1, "{d} is past the end of the file");
            }
            return;
        }
    };
    let (site, diags) = check_site(FILE, &site_file, &positions);
    for d in &diags {
        assert!(d.pos.line >= 1 && d.pos.line <= lines + 1, "{d}");
        assert!(d.to_string().starts_with(FILE), "{d}");
    }
    assert_eq!(
        site.is_some(),
        !diags.iter().any(|d| d.is_error()),
        "a site is built exactly when no rule failed: {diags:?}"
    );
    let Some(site) = site else { return };

    // Whatever passes renders well-formed XML that carries the values exactly.
    let inputs = Inputs {
        passwords: site
            .extensions
            .iter()
            .map(|e| (e.number.clone(), Secret::new(format!("pw&<{}>", e.number))))
            .collect(),
        params: site
            .secret_params()
            .map(|(field, _)| (field.to_owned(), Secret::new("param&<secret>")))
            .collect(),
        firmware: BTreeMap::new(),
    };
    let files = polyops::render::render(&site, &inputs);
    assert!(files.contains_key("altigen.cfg"));
    for (name, bytes) in &files {
        let text = std::str::from_utf8(bytes).expect("rendered files are UTF-8");
        if let Err(e) = roxmltree::Document::parse(text) {
            panic!("{name} is not well-formed XML: {e}\n{text}");
        }
    }
    for ext in &site.extensions {
        let name = format!("{}.cfg", ext.number);
        let text = std::str::from_utf8(&files[&name]).expect("UTF-8");
        let doc = roxmltree::Document::parse(text).expect("well-formed");
        let reg = doc
            .descendants()
            .find(|n| n.has_tag_name("reg"))
            .expect("a <reg> element");
        assert_eq!(reg.attribute("reg.1.displayName"), Some(ext.name.as_str()));
        assert_eq!(reg.attribute("reg.1.label"), Some(ext.label.as_str()));
        assert_eq!(
            reg.attribute("reg.1.auth.password"),
            Some(format!("pw&<{}>", ext.number).as_str())
        );
    }

    // The same site twice conflicts with itself, at least by name.
    let (again, positions_again) = parse_site(FILE, text).expect("parsed once already");
    let (twin, _) = check_site(FILE, &again, &positions_again);
    let loaded = vec![
        Loaded {
            site,
            positions,
            selected: true,
        },
        Loaded {
            site: twin.expect("checked once already"),
            positions: positions_again,
            selected: true,
        },
    ];
    let across = check_across(&loaded);
    assert!(
        across.iter().any(|d| d.path == "site"),
        "a duplicate site name is found: {across:?}"
    );
}

// ------------------------------------------------------- (a) arbitrary bytes

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_the_loader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        load_check_render(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_yaml_ish_text_never_panics_the_loader(
        text in "([a-z_]{1,8}: ?|- |  |\\{|\\}|\\[|\\]|, |\"|'|&a |\\*a|!!str |#|\t|\n|[0-9.:-]{1,6}|[A-Za-z]{1,6}|\\PC){0,60}"
    ) {
        load_check_render(&text);
    }
}

// -------------------------------------- (b) site documents mutated from the example

/// Strings the rules care about, and any other printable ones.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", "201", "202", "2010", "801", "0004f2000607", "00:04:F2:00:06:07",
            "0004.f200.0607", "0004f214ab37", "0004f200060", "IP6000", "IP650", "IP999",
            "3.3.3", "3.3.4", "4.3.1", "4.3.2", "3.2.7", "4.2.1", "99999999999.1", "pacific",
            "hawaii", "1-7", "7-1", "0-9", "2-2", "dir:out/x", "dir:", "ftp://h/",
            "ftp://u:p@h/", "ftps://[::1]:0/", "ftp://h/../x", "../etc/passwd",
            "firmware/altigen.cfg", "firmware/201.cfg", "firmware/..", ".polyops-state.json",
            "Zoë & <Bob> \"東京\"", "\t", "a\u{1}b", "\u{FFFE}", "2001:db8::1", "-",
            "time.nist.gov", "host-.example", "0|##|xxx.T", "EXT_201_PASSWORD",
        ])
        .prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ]
}

/// A value of any JSON type, leaning on values the rules care about.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-100_000i64..100_000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        interesting_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A mapping key: mostly the site file's own field names.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "site", "target", "url", "user", "password", "ca_file", "timeout_seconds", "server",
            "address", "sip_port", "registration_expires", "time", "sntp_server", "zone",
            "gmt_offset", "daylight_saving", "dialplan", "extension_digits",
            "extension_first_digits", "local_digits", "digitmap", "message_waiting_beep",
            "firmware", "bootrom", "sip", "files", "path", "sha256", "extensions", "number",
            "name", "label", "env", "secret", "phones", "mac", "model", "extension",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value at the n-th path.
    Set(usize, Value),
    /// Replace the n-th path's value, if it is a string, by another string,
    /// or, if it is a number, by another number: mutations that keep a
    /// site schema-valid more often, so the rules see them.
    Retype(usize, String, i64),
    /// Remove the n-th path from its parent.
    Remove(usize),
    /// Add a key to the n-th mapping (or an item to the n-th list).
    Add(usize, String, Value),
    /// Append a copy of an item to its list (duplicate MACs, numbers…).
    Duplicate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<usize>(), value()).prop_map(|(i, v)| Mutation::Set(i, v)),
        4 => (any::<usize>(), interesting_string(), -60_000i64..70_000)
            .prop_map(|(i, s, n)| Mutation::Retype(i, s, n)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), key(), value()).prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
        1 => any::<usize>().prop_map(Mutation::Duplicate),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path in `v`, the root (empty path) first.
fn paths(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                here.push(Step::Key(k.clone()));
                paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(Step::Index(i));
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at<'v>(v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let child = match (first, v) {
        (Step::Key(k), Value::Object(m)) => m.get_mut(k)?,
        (Step::Index(i), Value::Array(items)) => items.get_mut(*i)?,
        _ => return None,
    };
    at(child, rest)
}

fn apply(doc: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let pick = |i: usize| all[i % all.len()].clone();
    match m {
        Mutation::Set(i, value) => {
            if let Some(slot) = at(doc, &pick(*i)) {
                *slot = value.clone();
            }
        }
        Mutation::Retype(i, text, number) => match at(doc, &pick(*i)) {
            Some(slot @ Value::String(_)) => *slot = Value::String(text.clone()),
            Some(slot @ Value::Number(_)) => *slot = Value::from(*number),
            _ => {}
        },
        Mutation::Remove(i) => {
            let path = pick(*i);
            let Some((last, parent)) = path.split_last() else {
                return;
            };
            match (at(doc, parent), last) {
                (Some(Value::Object(map)), Step::Key(k)) => {
                    map.remove(k);
                }
                (Some(Value::Array(items)), Step::Index(i)) if *i < items.len() => {
                    items.remove(*i);
                }
                _ => {}
            }
        }
        Mutation::Add(i, key, value) => match at(doc, &pick(*i)) {
            Some(Value::Object(map)) => {
                map.insert(key.clone(), value.clone());
            }
            Some(Value::Array(items)) => items.push(value.clone()),
            _ => {}
        },
        Mutation::Duplicate(i) => {
            let path = pick(*i);
            let Some((Step::Index(j), parent)) = path.split_last() else {
                return;
            };
            if let Some(Value::Array(items)) = at(doc, parent) {
                if let Some(copy) = items.get(*j).cloned() {
                    items.push(copy);
                }
            }
        }
    }
}

fn example() -> Value {
    polyops::site::source::parse(EXAMPLE)
        .expect("the example site parses")
        .value
}

#[test]
fn the_unmutated_example_loads_checks_and_renders() {
    // The baseline the mutations start from really passes every stage.
    let text = serde_yaml::to_string(&example()).expect("YAML");
    let (sf, positions) = parse_site(FILE, &text).expect("schema-valid");
    let (site, diags) = check_site(FILE, &sf, &positions);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(site.expect("valid").phones.len(), 3);
    load_check_render(&text);
}

proptest! {
    // Most mutations break the schema; run more cases so the rules and the
    // renderer still see a few hundred sites.
    #![proptest_config(Config { cases: config().cases * 4, ..config() })]

    #[test]
    fn mutated_example_sites_never_panic_and_render_well_formed_xml(
        mutations in prop::collection::vec(mutation(), 1..4)
    ) {
        let mut doc = example();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let text = serde_yaml::to_string(&doc).expect("a JSON value serialises to YAML");
        load_check_render(&text);
    }

    #[test]
    fn example_text_with_bytes_spliced_in_never_panics(
        at_fraction in 0.0f64..1.0,
        remove in 0usize..8,
        insert in "\\PC{0,6}|[\t\n:{}\\[\\]&*!|>'\"#-]{1,4}",
    ) {
        let mut text = EXAMPLE.to_owned();
        let mut cut = ((text.len() as f64) * at_fraction) as usize;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut end = (cut + remove).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(cut..end, &insert);
        load_check_render(&text);
    }
}
