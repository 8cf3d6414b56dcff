//! `checklist`: the PBX-side steps of the guide for each site; touches no
//! network and resolves no secret.

use std::io::Write;

use super::{checked_sites, write_out};
use crate::cli::{ChecklistFormat, Config};
use crate::error::Error;
use crate::setup::checklist::{checklist, render, Style};

pub fn run(config: &Config, format: ChecklistFormat, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let style = match format {
        ChecklistFormat::Markdown => Style::Markdown,
        ChecklistFormat::Text => Style::Text,
    };
    let texts: Vec<String> = catalog
        .selected()
        .map(|site| render(&checklist(site, style)))
        .collect();
    write_out(out, texts.join("\n").as_bytes())?;
    Ok(0)
}
