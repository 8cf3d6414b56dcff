//! The rules of docs/site-file.md about extensions: numbers unique and
//! fitting the dial plan, names and labels a phone's XML can carry.

use std::collections::HashMap;

use crate::site::file::SiteFile;
use crate::site::rules::{is_attribute_safe, Checker};

/// Extensions: unique, fit the dial plan, printable names. Each number
/// and the index it is declared at.
pub(super) fn check<'a>(
    c: &mut Checker,
    sf: &'a SiteFile,
    first: Option<(u8, u8)>,
) -> HashMap<&'a str, usize> {
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    for (i, ext) in sf.extensions.iter().enumerate() {
        let path = format!("extensions[{i}]");
        if let Some(prev) = numbers.insert(&ext.number, i) {
            c.error(
                &format!("{path}.number"),
                format!(
                    "extension {} is already declared at extensions[{prev}]",
                    ext.number
                ),
            );
        }
        for (field, value) in [("name", &ext.name), ("label", &ext.label)] {
            if value.as_deref().is_some_and(|v| !is_attribute_safe(v)) {
                c.error(
                    &format!("{path}.{field}"),
                    "must not contain control characters (tab, newline…)",
                );
            }
        }
        if ext.password.is_literal() {
            c.warning(
                &format!("{path}.password"),
                "literal password in the site file; use {env: NAME} or {secret: KEY}",
            );
        }
    }
    if let Some(range) = first {
        check_dial_plan_fit(c, sf, range);
    }
    numbers
}

/// Every extension that does not fit the dial plan is an error at its
/// number; the fields that set the dial plan are named once, on the first
/// (or alone, when every extension has one other length: then the dial
/// plan, not the extensions, is what to change).
fn check_dial_plan_fit(c: &mut Checker, sf: &SiteFile, (lo, hi): (u8, u8)) {
    let digits = usize::from(sf.dialplan.extension_digits);
    let first_fits = |number: &str| {
        number
            .bytes()
            .next()
            .is_some_and(|b| (lo..=hi).contains(&(b.wrapping_sub(b'0'))))
    };
    let misfits: Vec<(usize, &str)> = sf
        .extensions
        .iter()
        .enumerate()
        .filter(|(_, e)| e.number.len() != digits || !first_fits(&e.number))
        .map(|(i, e)| (i, e.number.as_str()))
        .collect();
    let Some(&(_, first)) = misfits.first() else {
        return;
    };
    let other_length = first.len();
    if misfits.len() == sf.extensions.len()
        && (3..=4).contains(&other_length)
        && misfits
            .iter()
            .all(|(_, n)| n.len() == other_length && first_fits(n))
    {
        let field = "dialplan.extension_digits";
        let at = if c.writes(field) {
            field
        } else {
            "extensions[0].number"
        };
        c.error_at(
            field,
            at,
            format!(
                "the dial plan's extensions have {digits} digits, and every extension of this site has {other_length} (extensions[0].number is {first}): set dialplan.extension_digits: {other_length}"
            ),
        );
        return;
    }
    for (n, (i, number)) in misfits.iter().enumerate() {
        let mut message =
            format!("extension {number} does not fit the dial plan: {digits} digits starting with {lo}-{hi}");
        if n == 0 {
            message.push_str(&format!(
                " (dialplan.extension_digits and dialplan.extension_first_digits; {} of {} extensions do not fit)",
                misfits.len(),
                sf.extensions.len()
            ));
        }
        c.error(&format!("extensions[{i}].number"), message);
    }
}
