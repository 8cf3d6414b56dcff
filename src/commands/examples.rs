//! The EXAMPLES of the man pages: for polyops(1) the way from a first site
//! to CI, for each command the lines people type. Each line is a command
//! line the parser accepts (a test parses every one), so they cannot
//! drift from the options.

/// One example: what it does, and the command line (words split at
/// spaces, no quoting).
pub type Example = (&'static str, &'static str);

/// The examples of `command` (`None`: polyops(1) itself).
pub fn examples(command: Option<&str>) -> &'static [Example] {
    match command {
        None => &[
            ("Check every site file under sites/; touches no network.", "polyops validate"),
            ("Check that the FTP server of site hq works the way apply and the phones use it.", "polyops doctor hq"),
            ("Show what apply would change on hq's target.", "polyops plan hq"),
            ("Carry it out, without asking (as CI does).", "polyops apply --auto-approve hq"),
            ("In a nightly job: exit 2 when a target differs from its site.", "polyops drift"),
        ],
        Some("validate") => &[
            ("Check every site, warnings as errors.", "polyops --strict validate"),
            ("Check two sites of another folder.", "polyops validate --sites ../sites hq branch"),
        ],
        Some("render") => &[
            ("Write hq's files into out/hq/ to read them.", "polyops render --out out hq"),
        ],
        Some("plan") => &[
            ("What apply would do to every site.", "polyops plan"),
            ("Save hq's plan for apply, exit 2 when it changes anything.", "polyops plan --out hq.plan --detailed-exitcode hq"),
            ("The plan as markdown, for a merge request comment.", "polyops plan --format markdown"),
            ("Only the sites whose files changed since main.", "polyops plan --changed-since main"),
        ],
        Some("apply") => &[
            ("Plan hq, ask, and carry it out.", "polyops apply hq"),
            ("Carry out the plan saved by plan --out, without asking.", "polyops apply --plan hq.plan --auto-approve"),
            ("Apply, then ask hq's phones to fetch their files now.", "polyops apply --auto-approve --resync hq"),
        ],
        Some("drift") => &[
            ("Every target against its site (exit 2 when any differs).", "polyops drift"),
            ("The morning report, one page.", "polyops drift --format html"),
        ],
        Some("phones") => &[
            ("Did hq's phones take what was applied?", "polyops phones hq"),
            ("Phones not heard from for two days count as silent.", "polyops phones --silent-after 2d hq"),
        ],
        Some("resync") => &[
            ("Ask every phone of hq with an address to fetch its files.", "polyops resync hq"),
            ("Only the phones that have not taken the last apply.", "polyops resync --pending hq"),
        ],
        Some("explain") => &[
            ("What the phone of extension 201 runs, and from which file.", "polyops explain hq 201"),
            ("One parameter of one phone, as the target holds it.", "polyops explain --observed --param reg.1.label hq 0004f2000607"),
        ],
        Some("unlock") => &[("Remove the lock a killed apply left on hq's target.", "polyops unlock hq")],
        Some("schema") => &[(
            "Print the schema, to save for an editor's YAML support.",
            "polyops schema",
        )],
        Some("import") => &[
            ("Adopt a hand-made root as site hq (password in POLYOPS_FTP_PASSWORD).", "polyops import hq --from ftp://192.0.2.10/ --user PlcmSpIp"),
            ("A site from an inventory spreadsheet.", "polyops import branch --csv phones.csv --target ftp://192.0.2.20/ --server 10.0.0.5 --zone eastern"),
        ],
        Some("dhcp") => &[
            ("hq's DHCP options for ISC dhcpd.", "polyops dhcp hq"),
            ("The same for Windows DHCP Server (PowerShell).", "polyops dhcp --format windows hq"),
        ],
        Some("checklist") => &[("The MaxCS steps of hq, as a ticket's checkboxes.", "polyops checklist hq")],
        Some("doctor") => &[("Check hq's FTP server before the first apply.", "polyops doctor hq")],
        Some("completions") => &[
            ("bash: complete commands, options and site names.", "polyops completions bash"),
            ("zsh, into a folder of $fpath.", "polyops completions zsh"),
        ],
        Some("man") => &[("Write every page into man/man1/.", "polyops man --out man/man1")],
        Some(_) => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example parses, and every command has at least one.
    #[test]
    fn every_example_is_a_command_line_polyops_accepts() {
        let command = crate::cli::clap_command();
        let mut names: Vec<Option<String>> = vec![None];
        names.extend(
            command
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name().to_owned())
                .filter(|n| n != "help")
                .map(Some),
        );
        for name in names {
            let list = examples(name.as_deref());
            assert!(!list.is_empty(), "no examples for {name:?}");
            for (_, line) in list {
                let words: Vec<&str> = line.split(' ').collect();
                assert_eq!(words[0], "polyops", "{line}");
                if let Some(name) = &name {
                    assert!(words.contains(&name.as_str()), "{line} is not of {name}");
                }
                if let Err((message, _)) = crate::cli::parse(words) {
                    panic!("{line}: {message}");
                }
            }
        }
    }
}
