//! `schema`: print the JSON Schema of a site file, or of `_defaults.yaml`.

use std::io::Write;

use super::write_out;
use crate::error::Error;
use crate::site::schema::{defaults_schema_json, site_schema_json};

pub fn run(defaults: bool, out: &mut dyn Write) -> Result<i32, Error> {
    let text = if defaults {
        defaults_schema_json()
    } else {
        site_schema_json()
    };
    write_out(out, text.as_bytes())?;
    Ok(0)
}
