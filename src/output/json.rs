//! The outcomes of a run as JSON: each plan serialised as a
//! `record::SiteRecord`, stable and documented in docs/outputs.md.

use std::io::{self, Write};

use serde::Serialize;

use super::{Mode, Outcomes, Renderer, FORMAT_VERSION};
use crate::reconcile::record::SiteRecord;

/// JSON, one document per run.
#[derive(Debug, Clone, Copy)]
pub struct Json;

/// The document: what `plan --out` saves is the same, without the diffs.
#[derive(Serialize)]
struct JsonDocument {
    format_version: u32,
    mode: Mode,
    sites: Vec<SiteRecord>,
}

impl Renderer for Json {
    fn write(&self, outcomes: &Outcomes, out: &mut dyn Write) -> io::Result<()> {
        let refusal_shown = outcomes.mode != Mode::Apply;
        let document = JsonDocument {
            format_version: FORMAT_VERSION,
            mode: outcomes.mode,
            sites: outcomes
                .sites
                .iter()
                .map(|s| s.record(refusal_shown))
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &document)?;
        out.write_all(b"\n")
    }
}
