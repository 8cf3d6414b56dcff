//! `completions SHELL`: a completion script made from the clap definitions,
//! and after it a hook that completes site names: the shell hands the
//! command line up to the cursor to `polyops __complete-sites` (crate::cli::complete), which
//! lists the site files of the folder `--sites` names (docs/install.md).

use std::io::Write;
use std::path::Path;

use super::write_out;
use crate::cli::complete::site_folder;
use crate::cli::{clap_command, Shell};
use crate::error::Error;

/// bash: the generated `_polyops`, then the site names, for the same
/// `complete` options the generated script registers.
const BASH_HOOK: &str = r#"
# Site names: `polyops __complete-sites` lists those of the folder --sites names.
_polyops_sites() {
    _polyops "$@"
    local name
    while IFS= read -r name; do
        COMPREPLY+=("$name")
    done < <("$1" __complete-sites -- "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _polyops_sites -o nosort -o bashdefault -o default polyops
else
    complete -F _polyops_sites -o bashdefault -o default polyops
fi
"#;

/// zsh: sourced, the hook replaces the generated `compdef`; autoloaded
/// from `$fpath` as `_polyops`, the first completion adds the names too.
const ZSH_HOOK: &str = r#"
# Site names: `polyops __complete-sites` lists those of the folder --sites names.
_polyops_site_names() {
    local -a names
    names=(${(f)"$(${words[1]} __complete-sites -- "${(@Q)words[1,CURRENT]}" 2>/dev/null)"})
    (( ${#names} )) && compadd -a names
}
_polyops_sites() {
    _polyops_site_names
    _polyops "$@"
}
compdef _polyops_sites polyops
if [ "$funcstack[1]" = "_polyops" ]; then
    _polyops_site_names
fi
"#;

/// fish: one more source of arguments, empty wherever no site is asked for.
const FISH_HOOK: &str = r#"
# Site names: `polyops __complete-sites` lists those of the folder --sites names.
complete -c polyops -a '(polyops __complete-sites -- (commandline -opc) (commandline -ct | string collect --allow-empty))'
"#;

pub fn run(shell: Shell, out: &mut dyn Write) -> Result<i32, Error> {
    let (generator, hook) = match shell {
        Shell::Bash => (clap_complete::Shell::Bash, BASH_HOOK),
        Shell::Zsh => (clap_complete::Shell::Zsh, ZSH_HOOK),
        Shell::Fish => (clap_complete::Shell::Fish, FISH_HOOK),
        Shell::Powershell => (clap_complete::Shell::PowerShell, ""),
    };
    let mut command = clap_command();
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut command, "polyops", &mut script);
    script.extend_from_slice(hook.as_bytes());
    write_out(out, &script)?;
    Ok(0)
}

/// `__complete-sites -- WORDS…`: the site names that complete the last
/// word, one a line; nothing where no site name is asked for, or the
/// folder cannot be read (a completion never prints an error).
pub fn sites(words: &[String], out: &mut dyn Write) -> Result<i32, Error> {
    let Some(folder) = site_folder(words) else {
        return Ok(0);
    };
    let typed = words.last().map(String::as_str).unwrap_or_default();
    let mut text = String::new();
    for name in site_names(&folder) {
        if name.starts_with(typed) {
            text.push_str(&name);
            text.push('\n');
        }
    }
    write_out(out, text.as_bytes())?;
    Ok(0)
}

/// The names the site files of `folder` answer to (their file names
/// without `.yaml`), sorted; what is not a site (`_defaults.yaml`, hidden
/// files) and names a shell would split are left out.
fn site_names(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let stem = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))?;
            let plain = !stem.is_empty()
                && !stem.starts_with(['_', '.'])
                && stem.chars().all(|c| c.is_ascii_graphic());
            plain.then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
