//! `drift`: the read-only plan of a nightly job; exit 2 when anything on a
//! target differs from its site.

use std::io::Write;

use crate::cli::{Config, Format};
use crate::error::Error;
use crate::output::Mode;

pub fn run(config: &Config, format: Format, out: &mut dyn Write) -> Result<i32, Error> {
    super::plan::run(config, Mode::Drift, format, None, false, out)
}
