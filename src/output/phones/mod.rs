//! Renderers of the phones report (`phones::report::PhonesReport`), one
//! file per format, each `write(&PhonesReport, &mut dyn Write)`: `text`,
//! `json`, `markdown`; the page is `output::html::phones`.

pub mod json;
pub mod markdown;
pub mod text;

use crate::phones::report::{PhoneReport, PhonesReport};

/// `last boot …, last heard …, newest change FILE …` (what is known).
fn times_line(p: &PhoneReport) -> String {
    let mut parts = Vec::new();
    parts.push(match &p.last_boot {
        Some(t) => format!("last boot {}", t.display()),
        None => "no boot log".to_owned(),
    });
    parts.push(match &p.last_heard {
        Some(t) => format!("last heard {}", t.display()),
        None => "no app log".to_owned(),
    });
    if let Some(n) = &p.newest_change {
        parts.push(format!("newest change {}", n.display()));
    }
    parts.join(", ")
}

/// The report's last line: the counts over every site read, and how many
/// sites failed; `None` when every site failed.
pub(crate) fn closing_line(report: &PhonesReport) -> Option<String> {
    let failed = report.sites.iter().filter(|s| s.error.is_some()).count();
    let all = report.sites.len();
    if failed == all && all > 0 {
        return None;
    }
    let mut line = format!(
        "{} site{}, {}",
        all - failed,
        if all - failed == 1 { "" } else { "s" },
        report.total().line()
    );
    if failed > 0 {
        line.push_str(&format!("; {failed} of {all} sites failed"));
    }
    Some(line)
}
