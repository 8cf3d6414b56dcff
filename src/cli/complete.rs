//! Where a shell completes a site name: the completion scripts hand the
//! command line up to the cursor to `polyops __complete-sites -- WORDS…`,
//! and this says whether the word being typed is a SITE argument, and in
//! which folder of site files (`--sites`, before or after the command).
//! Read from the clap definitions, so it follows the options as they are.
//! `__complete-sites` is no clap command: the generated scripts would
//! offer it to every user, hidden or not.

use std::path::PathBuf;

/// The value name of every argument that names an existing site.
const SITE: &str = "SITE";
/// Commands whose SITE is a new site's name, not one to complete.
const NEW_SITE: [&str; 1] = ["import"];

/// The first argument that asks for site names.
pub const REQUEST: &str = "__complete-sites";

/// The words of a `polyops __complete-sites [--] WORDS…` run (lossy: a
/// word that is not UTF-8 completes no site), or `None` for any other run.
pub fn request(args: &[std::ffi::OsString]) -> Option<Vec<String>> {
    if args.get(1)? != REQUEST {
        return None;
    }
    let rest = &args[2..];
    let rest = match rest.first() {
        Some(dashes) if dashes == "--" => &rest[1..],
        _ => rest,
    };
    Some(
        rest.iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect(),
    )
}

/// The folder of site files whose names complete the last of `words`, or
/// `None` when that word is no site name (an option, an option's value, a
/// command). `words`: the program, the words typed so far, and the one
/// being typed (empty at a fresh word). bash splits `--sites=DIR` at `=`:
/// the three words are read as one.
pub fn site_folder(words: &[String]) -> Option<PathBuf> {
    let (current, typed) = words.split_last()?;
    let typed = joined_at_equals(typed.get(1..).unwrap_or_default());
    if typed.last().is_some_and(|t| t.ends_with('=')) || current.starts_with('-') {
        return None;
    }
    let mut top = super::clap_command();
    top.build();
    let mut command: Option<&clap::Command> = None;
    let mut sites: Option<String> = None;
    let mut positionals = 0usize;
    let mut words = typed.iter();
    while let Some(word) = words.next() {
        let at = command.unwrap_or(&top);
        if let Some(long) = word.strip_prefix("--").filter(|l| !l.is_empty()) {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let takes = at
                .get_arguments()
                .find(|a| a.get_long() == Some(name))
                .is_some_and(|a| a.get_action().takes_values());
            let value = match inline {
                Some(v) => Some(v),
                None if takes => Some(words.next()?.clone()),
                None => None,
            };
            if name == "sites" {
                sites = value.or(sites);
            }
        } else if word.starts_with('-') && word.len() > 1 {
            let takes = word.chars().nth(1).is_some_and(|c| {
                at.get_arguments()
                    .any(|a| a.get_short() == Some(c) && a.get_action().takes_values())
            });
            if takes && word.len() == 2 {
                words.next()?;
            }
        } else if command.is_none() {
            command = Some(top.find_subcommand(word)?);
        } else {
            positionals += 1;
        }
    }
    let command = command?;
    if NEW_SITE.contains(&command.get_name()) {
        return None;
    }
    let names_a_site = positional(command, positionals)?
        .get_value_names()
        .is_some_and(|names| names.iter().any(|n| n.as_str() == SITE));
    names_a_site.then(|| PathBuf::from(sites.unwrap_or_else(|| "sites".to_owned())))
}

/// `--sites`, `=`, `DIR` as bash splits them → `--sites=DIR`.
fn joined_at_equals(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue = false;
    for word in words {
        match out.last_mut() {
            Some(last) if word == "=" && last.starts_with("--") && !last.contains('=') => {
                last.push('=');
                glue = true;
            }
            Some(last) if glue => {
                last.push_str(word);
                glue = false;
            }
            _ => out.push(word.clone()),
        }
    }
    out
}

/// The positional argument the `index`-th (from 0) positional word fills.
fn positional(command: &clap::Command, mut index: usize) -> Option<&clap::Arg> {
    for arg in command.get_positionals() {
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        if many || index == 0 {
            return Some(arg);
        }
        index -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(line: &str) -> Option<String> {
        let mut words: Vec<String> = line.split(' ').map(str::to_owned).collect();
        if line.ends_with(' ') {
            words.pop();
            words.push(String::new());
        }
        site_folder(&words).map(|p| p.display().to_string())
    }

    #[test]
    fn a_site_argument_completes_from_the_sites_folder() {
        assert_eq!(folder("polyops plan ex").as_deref(), Some("sites"));
        assert_eq!(folder("polyops plan hq ").as_deref(), Some("sites"));
        assert_eq!(folder("polyops validate ").as_deref(), Some("sites"));
        assert_eq!(folder("polyops doctor h").as_deref(), Some("sites"));
        assert_eq!(folder("polyops resync ").as_deref(), Some("sites"));
        assert_eq!(folder("polyops explain h").as_deref(), Some("sites"));
        assert_eq!(
            folder("polyops --strict apply --auto-approve ").as_deref(),
            Some("sites")
        );
    }

    #[test]
    fn sites_before_or_after_the_command_names_the_folder() {
        assert_eq!(folder("polyops --sites lab plan ").as_deref(), Some("lab"));
        assert_eq!(folder("polyops plan --sites lab ").as_deref(), Some("lab"));
        assert_eq!(folder("polyops plan --sites=lab e").as_deref(), Some("lab"));
        assert_eq!(
            folder("polyops plan --sites = lab e").as_deref(),
            Some("lab")
        );
        assert_eq!(
            folder("polyops --sites a plan --sites b ").as_deref(),
            Some("b")
        );
    }

    #[test]
    fn other_words_complete_no_site() {
        for line in [
            "polyops ",
            "polyops pl",
            "polyops plan --",
            "polyops plan --format ",
            "polyops plan --sites ",
            "polyops plan --sites=",
            "polyops plan --sites = ",
            "polyops --parallel ",
            "polyops import ",
            "polyops resync hq ",
            "polyops explain hq ",
            "polyops completions ",
            "polyops schema ",
            "polyops nonsense ",
        ] {
            assert_eq!(folder(line), None, "{line:?}");
        }
    }
}
