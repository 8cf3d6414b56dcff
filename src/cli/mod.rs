//! Command-line parsing, kept apart from the core: what was typed, clap
//! types (`args`), turned into the plain [`Config`] the rest of the code
//! uses (`config`).

mod args;
pub mod complete;
mod config;

pub use config::*;

use clap::Parser;

/// The clap definition of the command line, for completions and man pages.
pub fn clap_command() -> clap::Command {
    use clap::CommandFactory;
    args::Cli::command()
}

/// Parse arguments. `Err` carries clap's message and whether it is help or
/// version output (exit 0) rather than a usage error (exit 1).
pub fn parse<I, T>(args: I) -> Result<Config, (String, bool)>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if let Some(words) = complete::request(&args) {
        return Ok(Config::completing(words));
    }
    let cli = args::Cli::try_parse_from(args).map_err(|e| {
        let benign = matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        );
        (e.render().to_string(), benign)
    })?;
    Ok(cli.into_config())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        args::Cli::command().debug_assert();
    }

    /// The long options a `--help` text lists.
    fn listed_options(args: &[&str]) -> Vec<String> {
        let (help, benign) = parse(args).expect_err("--help stops parsing");
        assert!(benign, "{help}");
        let mut options: Vec<String> = help
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .filter_map(|l| {
                l.split([' ', ','])
                    .find(|w| w.starts_with("--"))
                    .map(str::to_owned)
            })
            .collect();
        options.sort();
        options
    }

    #[test]
    fn each_help_lists_only_the_options_its_command_takes() {
        assert_eq!(
            listed_options(&["polyops", "schema", "--help"]),
            ["--defaults", "--help"]
        );
        assert_eq!(
            listed_options(&["polyops", "validate", "--help"]),
            [
                "--changed-since",
                "--help",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "render", "--help"]),
            [
                "--changed-since",
                "--help",
                "--out",
                "--secrets",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "explain", "--help"]),
            [
                "--connections",
                "--format",
                "--help",
                "--observed",
                "--param",
                "--secrets",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "unlock", "--help"]),
            [
                "--changed-since",
                "--connections",
                "--help",
                "--secrets",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        for (command, own) in [
            ("plan", &["--detailed-exitcode", "--format", "--out"][..]),
            (
                "apply",
                &[
                    "--allow-incomplete",
                    "--allow-mass-delete",
                    "--allow-mass-update",
                    "--auto-approve",
                    "--format",
                    "--lock-timeout",
                    "--plan",
                    "--resync",
                ][..],
            ),
            ("drift", &["--format"][..]),
            ("phones", &["--format", "--silent-after"][..]),
        ] {
            let mut expected: Vec<&str> = [
                "--changed-since",
                "--connections",
                "--fail-fast",
                "--help",
                "--parallel",
                "--secrets",
                "--shard",
                "--sites",
                "--strict",
                "--verbose",
            ]
            .into_iter()
            .chain(own.iter().copied())
            .collect();
            expected.sort();
            assert_eq!(listed_options(&["polyops", command, "--help"]), expected);
        }
    }

    #[test]
    fn import_takes_a_root_or_an_inventory() {
        assert_eq!(
            listed_options(&["polyops", "import", "--help"]),
            [
                "--ca-file",
                "--connections",
                "--csv",
                "--from",
                "--gmt-offset",
                "--help",
                "--model",
                "--secrets-out",
                "--server",
                "--sites",
                "--target",
                "--timeout-seconds",
                "--user",
                "--zone",
            ]
        );
        let c = config(&[
            "polyops", "import", "hq", "--from", "dir:root", "--model", "ip 650",
        ]);
        let Command::Import(o) = c.command else {
            panic!("not import")
        };
        assert!(matches!(o.source, ImportSource::Root { ref url } if url == "dir:root"));
        assert_eq!(o.model, Some(crate::site::file::Model::IP650));
        let c = config(&[
            "polyops",
            "import",
            "hq",
            "--csv",
            "i.csv",
            "--target",
            "dir:r",
            "--server",
            "pbx",
            "--gmt-offset",
            "-12600",
        ]);
        let Command::Import(o) = c.command else {
            panic!("not import")
        };
        assert!(matches!(
            o.source,
            ImportSource::Csv {
                gmt_offset: -12600,
                ..
            }
        ));
        for bad in [
            &["polyops", "import", "hq"][..],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--csv", "i.csv",
            ],
            &[
                "polyops", "import", "hq", "--csv", "i.csv", "--target", "dir:r", "--server", "p",
            ],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--zone", "eastern",
            ],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--model", "IP600",
            ],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_help_describes_its_site_arguments() {
        for command in [
            "validate", "render", "plan", "apply", "drift", "phones", "unlock",
        ] {
            let (help, _) = parse(["polyops", command, "--help"]).expect_err("help");
            assert!(
                help.contains("[SITE]...") && help.contains("none means every site"),
                "{command}: {help}"
            );
        }
    }

    fn config(args: &[&str]) -> Config {
        parse(args).unwrap_or_else(|(e, _)| panic!("{args:?}: {e}"))
    }

    #[test]
    fn shared_options_work_before_and_after_the_command() {
        for args in [
            &[
                "polyops",
                "--sites",
                "d",
                "--secrets",
                "s.yaml",
                "--strict",
                "-v",
                "--connections",
                "3",
                "plan",
            ][..],
            &[
                "polyops",
                "plan",
                "--sites",
                "d",
                "--secrets",
                "s.yaml",
                "--strict",
                "-v",
                "--connections",
                "3",
            ][..],
            &[
                "polyops",
                "--sites",
                "d",
                "-v",
                "plan",
                "--secrets",
                "s.yaml",
                "--strict",
                "--connections",
                "3",
            ][..],
        ] {
            let c = config(args);
            assert_eq!(c.sites_dir, PathBuf::from("d"), "{args:?}");
            assert_eq!(c.secrets, Some(PathBuf::from("s.yaml")), "{args:?}");
            assert!(c.strict && c.verbose, "{args:?}");
            assert_eq!(c.connections, Some(3), "{args:?}");
        }
        let c = config(&["polyops", "validate", "--strict"]);
        assert!(c.strict);
        assert_eq!(c.sites_dir, PathBuf::from("sites"));
        // After the command, the command's own value wins.
        let c = config(&["polyops", "--sites", "a", "drift", "--sites", "b"]);
        assert_eq!(c.sites_dir, PathBuf::from("b"));
        // Before the command, any shared option is still taken.
        let c = config(&[
            "polyops",
            "--secrets",
            "s.yaml",
            "--connections",
            "2",
            "validate",
        ]);
        assert!(matches!(c.command, Command::Validate));
    }

    #[test]
    fn explain_takes_one_site_one_phone_and_repeated_params() {
        let c = config(&[
            "polyops",
            "explain",
            "hq",
            "00:04:F2:00:06:07",
            "--param",
            "a.b",
            "--param",
            "c.d",
            "--observed",
            "--format",
            "json",
            "--sites",
            "d",
        ]);
        assert_eq!(c.names, ["hq"]);
        assert_eq!(c.sites_dir, PathBuf::from("d"));
        let Command::Explain(e) = c.command else {
            panic!("not explain: {:?}", c.command)
        };
        assert_eq!(e.phone, "00:04:F2:00:06:07");
        assert_eq!(e.params, ["a.b", "c.d"]);
        assert!(e.observed);
        assert_eq!(e.format, ExplainFormat::Json);
        let (err, benign) = parse(["polyops", "explain", "hq"]).expect_err("no PHONE");
        assert!(!benign && err.contains("<PHONE>"), "{err}");
        let (err, _) = parse(["polyops", "explain", "hq", "201", "--format", "markdown"])
            .expect_err("no markdown");
        assert!(err.contains("markdown"), "{err}");
    }

    #[test]
    fn an_option_after_a_command_that_does_not_take_it_is_an_error() {
        let (e, benign) =
            parse(["polyops", "schema", "--sites", "d"]).expect_err("schema takes no --sites");
        assert!(!benign && e.contains("--sites"), "{e}");
        let (e, _) =
            parse(["polyops", "validate", "--connections", "2"]).expect_err("no --connections");
        assert!(e.contains("--connections"), "{e}");
    }
}
