//! `render --out DIR`: each site's files into `DIR/<site>/`.

use std::io::Write;
use std::path::Path;

use super::{checked_sites, secret_store, write_out};
use crate::cli::Config;
use crate::error::Error;
use crate::render::inputs::Inputs;
use crate::render::render;

pub fn run(config: &Config, dir: &Path, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for site in catalog.selected() {
        match Inputs::gather(site, &store) {
            Ok(inputs) => done.push((site, inputs)),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Many(errors));
    }
    for (site, inputs) in done {
        let files = render(site, &inputs);
        write_rendered(&dir.join(&site.name), &files)?;
        let line = format!(
            "{}: wrote {} files to {}\n",
            site.name,
            files.len(),
            dir.join(&site.name).display()
        );
        write_out(out, line.as_bytes())?;
    }
    Ok(0)
}

/// Write a site's files into `dir`, creating it.
fn write_rendered(dir: &Path, files: &crate::render::Rendered) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_owned(),
        source: e,
    })?;
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::Write { path, source: e })?;
    }
    Ok(())
}
