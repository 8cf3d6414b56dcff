//! `schema`: print the JSON Schema of a site file.

use std::io::Write;

use super::write_out;
use crate::error::Error;
use crate::site::schema::site_schema_json;

pub fn run(out: &mut dyn Write) -> Result<i32, Error> {
    write_out(out, site_schema_json().as_bytes())?;
    Ok(0)
}
