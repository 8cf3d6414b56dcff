//! The phones report as JSON: the report serialised, stable and documented
//! in docs/phones.md.

use std::io::{self, Write};

use crate::phones::report::PhonesReport;

pub fn write(report: &PhonesReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
