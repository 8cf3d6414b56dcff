//! What the commands that reach a target print besides their output: a
//! site's warnings and its target's errors (masked and printable), and the
//! counts of `-v`; and the outputs themselves, in the format asked for.

use std::io::{IsTerminal, Write};

use crate::cli::Format;
use crate::error::Error;
use crate::mask::Masker;
use crate::output::html::Html;
use crate::output::json::Json;
use crate::output::markdown::Markdown;
use crate::output::text::Text;
use crate::output::{Mode, Outcomes, Renderer};
use crate::reconcile::outcome::SiteOutcome;
use crate::remote::{RemoteError, Stats};
use crate::site::model::Site;

/// A target's failure as the site's error. The message may quote the
/// server (which may echo anything, a password included): it passes the
/// site's masker and loses control characters.
pub(super) fn remote_error(site: &Site, masker: &Masker, e: RemoteError) -> Error {
    Error::remote(site, masker.clean(&e.message))
}

/// A warning about a site, from its target: printed masked and printable.
pub(super) fn warn(site: &Site, masker: &Masker, text: &str) {
    eprintln!("warning: {}: {}", site.name, masker.clean(text));
}

/// Print how these sites ended, in `format` (text coloured on a terminal
/// without NO_COLOR).
pub(super) fn print_outcomes(
    mode: Mode,
    sites: &[SiteOutcome],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let color = format == Format::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let renderer: &dyn Renderer = match format {
        Format::Text => &Text { color },
        Format::Json => &Json,
        Format::Markdown => &Markdown::default(),
        Format::Html => &Html,
    };
    renderer
        .write(&Outcomes::new(mode, sites), out)
        .map_err(|e| Error::Write {
            path: "standard output".into(),
            source: e,
        })
}

/// "N connection(s)", for `-v`.
pub(super) fn connections(st: &Stats) -> String {
    let n = st.connections.max(1);
    format!("{n} connection{}", if n > 1 { "s" } else { "" })
}

/// ", N retried after a passing failure" when any was, and then a line
/// per retry with its cause (the server's words, masked), for `-v`.
pub(super) fn retried(causes: &[String], masker: &Masker) -> String {
    let mut text = String::new();
    if !causes.is_empty() {
        text.push_str(&format!(
            ", {} retried after a passing failure",
            causes.len()
        ));
    }
    for cause in causes {
        text.push_str(&format!("\n  retried after: {}", masker.clean(cause)));
    }
    text
}
