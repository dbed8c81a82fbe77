//! `cwl-audit completions SHELL` and the hidden `man`: generated from the command definitions.
//!
//! The scripts come from clap_complete, from a copy of the command tree prepared for completion
//! ([`completion_command`]): every value gets what can complete it (rule ids, files, directories,
//! or nothing for free text); every script loses the hidden subcommands
//! ([`without_hidden_subcommands`]); the bash script gets two repairs ([`repair_bash_states`],
//! [`bash_paths_at_positionals`]) and the fish script one ([`repair_fish_help`]) and the values of
//! positional arguments ([`fish_positional_values`]).
use super::messages::{self, verbosity};
use super::output::emit;
use super::Cli;
use anyhow::Context as _;
use clap::builder::PossibleValue;
use clap::{Command, ValueHint};
use cwl_audit::engine;
use std::path::PathBuf;
use std::process::ExitCode;

/// The name the scripts register completions for.
const BIN: &str = "cwl-audit";

#[derive(clap::Args)]
pub struct Args {
    /// The shell to generate for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Directory for the pages.
    #[arg(long, value_name = "DIR", default_value = "target/man")]
    out_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cmd = completion_command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, BIN, &mut out);
    let hidden: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    out = without_hidden_subcommands(&String::from_utf8_lossy(&out), &hidden).into_bytes();
    match args.shell {
        clap_complete::Shell::Bash => {
            let script = repair_bash_states(&String::from_utf8_lossy(&out), BIN);
            out = bash_paths_at_positionals(&script, &path_subcommands(&cmd)).into_bytes();
        }
        clap_complete::Shell::Fish => {
            let script = repair_fish_help(&String::from_utf8_lossy(&out));
            out = (script + &fish_positional_values(&cmd)).into_bytes();
        }
        _ => {}
    }
    emit(None, &out)?;
    Ok(ExitCode::SUCCESS)
}

/// The arguments that take a rule id, as (subcommand, argument id): they complete the built-in
/// rules (a rule of `--policy-dir` is typed in full: a script cannot know the user's policies).
const RULE_ID_ARGS: [(&str, &str); 3] =
    [("eval", "rules"), ("remediate", "rules"), ("explain", "id")];

/// The command tree the scripts are generated from: the parser's, with completion data added. A
/// value with choices (`--format`, the shells, `--benchmark`) completes them; a path whose value
/// name says DIR completes directories, FILE files, any other path both; the rule ids complete the
/// built-in rules with their titles; any other value (a number, an ARN, an account id) completes
/// nothing, never file names. Parsing never uses this copy.
fn completion_command() -> Command {
    use clap::CommandFactory;
    let ids: Vec<PossibleValue> = engine::rules(&engine::builtin_sources(), &[])
        .unwrap_or_default()
        .into_iter()
        .map(|r| PossibleValue::new(r.id).help(r.title))
        .collect();
    let mut cmd = Cli::command();
    for (sub, arg) in RULE_ID_ARGS {
        let ids = ids.clone();
        cmd = cmd.mut_subcommand(sub, |c| {
            c.mut_arg(arg, |a| {
                a.value_parser(clap::builder::PossibleValuesParser::new(ids))
            })
        });
    }
    with_value_hints(cmd)
}

/// `cmd` and its subcommands with a [`ValueHint`] on every value that has no choices.
fn with_value_hints(cmd: Command) -> Command {
    cmd.mut_args(|a| match value_hint(&a) {
        Some(h) => a.value_hint(h),
        None => a,
    })
    .mut_subcommands(with_value_hints)
}

fn value_hint(a: &clap::Arg) -> Option<ValueHint> {
    if !a.get_action().takes_values() || a.get_value_parser().possible_values().is_some() {
        return None;
    }
    let named = |n: &str| {
        a.get_value_names()
            .is_some_and(|v| v.iter().any(|x| x == n))
    };
    match a.get_value_hint() {
        ValueHint::AnyPath if named("DIR") => Some(ValueHint::DirPath),
        ValueHint::AnyPath if named("FILE") => Some(ValueHint::FilePath),
        ValueHint::Unknown => Some(ValueHint::Other),
        _ => None,
    }
}

/// clap_complete's bash script for a binary name with a dash (as of 4.6.12, clap-rs/clap#6421)
/// names each subcommand's state in two ways: the loop over the words sets `cmd` to
/// `cwl__audit__subcmd__eval` (the dash of the binary name escaped as `__`), while the `case` arm
/// that completes `eval`'s options and values is `cwl__subcmd__audit__subcmd__eval)` (escaped as
/// the subcommand separator). No arm matched, so nothing after a subcommand completed. The arms
/// are renamed to the states; when clap_complete spells them alike this changes nothing.
fn repair_bash_states(script: &str, bin: &str) -> String {
    const SEP: &str = "__subcmd__";
    let wrong = format!("{}{SEP}", bin.replace('-', SEP));
    let right = format!("{}{SEP}", bin.replace('-', "__"));
    if wrong == right {
        return script.to_string();
    }
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let arm = line.trim_start();
        match arm.strip_prefix(wrong.as_str()) {
            Some(rest) if arm.trim_end().ends_with(')') => {
                out.push_str(&line[..line.len() - arm.len()]);
                out.push_str(&right);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// clap_complete offers hidden subcommands (`man`, `builtin`) as commands and `help` topics in
/// every shell. They are taken out of the lists: bash's `opts` words, fish's `-a "NAME"` lines
/// and zsh's `'NAME:description'` entries.
fn without_hidden_subcommands(script: &str, hidden: &[String]) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let t = line.trim_start();
        if hidden
            .iter()
            .any(|h| line.contains(&format!(" -f -a \"{h}\" ")) || t.starts_with(&format!("'{h}:")))
        {
            continue;
        }
        match t.strip_prefix("opts=\"") {
            Some(rest) => {
                let words = rest.trim_end().trim_end_matches('"');
                let kept: Vec<&str> = words
                    .split(' ')
                    .filter(|w| !hidden.iter().any(|h| h == w))
                    .collect();
                out.push_str(&line[..line.len() - t.len()]);
                out.push_str(&format!("opts=\"{}\"\n", kept.join(" ")));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The subcommands whose positional arguments are paths (no choices): `eval`, `remediate`, ...
fn path_subcommands(cmd: &Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|sub| {
            sub.get_positionals().any(|a| {
                a.get_value_parser().possible_values().is_none()
                    && matches!(
                        a.get_value_hint(),
                        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
                    )
            })
        })
        .map(|sub| sub.get_name().to_string())
        .collect()
}

/// clap_complete's bash script offers a subcommand's options wherever a word does not start with
/// `-` and nothing else completes it, so `cwl-audit eval <TAB>` listed `--format --output ...`
/// where the snapshot paths go. In the states of `subcommands` (whose positionals are paths),
/// options complete only after a `-`; elsewhere the script offers nothing and the completion's
/// `-o default` gives file names, as it does after `eval p<TAB>`.
fn bash_paths_at_positionals(script: &str, subcommands: &[String]) -> String {
    let states: Vec<String> = subcommands
        .iter()
        .map(|s| {
            format!(
                "{}__subcmd__{})",
                BIN.replace('-', "__"),
                s.replace('-', "_")
            )
        })
        .collect();
    let mut out = String::with_capacity(script.len());
    let mut in_state = false;
    for line in script.split_inclusive('\n') {
        let t = line.trim();
        if states.iter().any(|s| s == t) {
            in_state = true;
        } else if in_state && line.starts_with("            ;;") {
            in_state = false;
        }
        if in_state && t == "if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then" {
            out.push_str(&line.replace(" || ${COMP_CWORD} -eq 2", ""));
        } else if in_state && line.starts_with("            COMPREPLY=( $(compgen -W \"${opts}\"") {
            out.push_str("            COMPREPLY=()\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

/// clap_complete's fish script offers `help`'s topics (the subcommands) only while no subcommand
/// has been seen, and counts `help` itself among them, so `cwl-audit help <TAB>` offered file
/// names. The condition is replaced by one that asks for a topic right after `help`.
fn repair_fish_help(script: &str) -> String {
    let prefix = format!(
        "__fish_{}_using_subcommand help; and not __fish_seen_subcommand_from ",
        BIN.replace('-', "_")
    );
    let function = format!("__fish_{}_help_needs_topic", BIN.replace('-', "_"));
    let mut out = String::with_capacity(script.len());
    let mut repaired = false;
    for line in script.split_inclusive('\n') {
        match line.find(&prefix) {
            Some(at) => {
                let rest = &line[at + prefix.len()..];
                let end = rest.find('"').unwrap_or(rest.len());
                out.push_str(&line[..at]);
                out.push_str(&format!(
                    "__fish_{}_using_subcommand help; and {function}",
                    BIN.replace('-', "_")
                ));
                out.push_str(&rest[end..]);
                repaired = true;
            }
            None => out.push_str(line),
        }
    }
    if repaired {
        // True when the word being completed is the first after `help` (global flags may precede it).
        out.push_str(&format!(
            "function {function}\n    set -l words (commandline -opc)\n    set -l at (contains -i -- help $words)\n    and test (count $words) -eq $at\nend\n"
        ));
    }
    out
}

/// clap_complete's fish generator completes options only ("not positional arguments", its docs
/// say), so `cwl-audit completions <TAB>` offered file names and `explain <TAB>` nothing. One
/// `complete` line per choice of a subcommand's positional argument, with its description, under
/// fish's own `__fish_seen_subcommand_from`; `-f`: a choice, not a file.
fn fish_positional_values(cmd: &Command) -> String {
    let quote = cwl_audit::text::fish_word;
    let mut out = String::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let values = sub
            .get_positionals()
            .filter(|a| !a.is_hide_set())
            .flat_map(|a| a.get_possible_values())
            .filter(|v| !v.is_hide_set());
        for v in values {
            let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "complete -c {BIN} -n {} -f -a {} -d {}\n",
                quote(&format!("__fish_seen_subcommand_from {}", sub.get_name())),
                quote(v.get_name()),
                quote(&help)
            ));
        }
    }
    out
}

pub fn run_man(args: ManArgs) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.out_dir)
        .with_context(|| format!("cannot write man pages to {}", args.out_dir.display()))?;
    if verbosity() >= 0 {
        messages::status(format!("man pages written to {}", args.out_dir.display()));
    }
    Ok(ExitCode::SUCCESS)
}

pub const HELP: &str = "Examples:\n  cwl-audit completions bash > ~/.local/share/bash-completion/completions/cwl-audit\n  cwl-audit completions zsh > ~/.zfunc/_cwl-audit\n  cwl-audit completions fish > ~/.config/fish/completions/cwl-audit.fish";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bash_state_has_its_arm() {
        let mut cmd = completion_command();
        let mut out = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, BIN, &mut out);
        let script = repair_bash_states(&String::from_utf8_lossy(&out), BIN);
        let states: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\"")?.strip_suffix('"'))
            .filter(|s| !s.is_empty())
            .collect();
        assert!(states.contains(&"cwl__audit__subcmd__eval"), "{states:?}");
        for s in states {
            assert!(
                script.lines().any(|l| l.trim() == format!("{s})")),
                "no case arm for state {s}"
            );
        }
    }

    #[test]
    fn only_case_arms_are_renamed() {
        let script =
            "        cwl__subcmd__audit__subcmd__eval)\n  x=\"cwl__subcmd__audit__subcmd__eval\"\n";
        assert_eq!(
            repair_bash_states(script, "cwl-audit"),
            "        cwl__audit__subcmd__eval)\n  x=\"cwl__subcmd__audit__subcmd__eval\"\n"
        );
        assert_eq!(repair_bash_states(script, "cwlaudit"), script);
    }

    #[test]
    fn values_without_choices_never_complete_file_names_unless_paths() {
        let cmd = completion_command();
        let eval = cmd.find_subcommand("eval").unwrap();
        let hint = |id: &str| {
            eval.get_arguments()
                .find(|a| a.get_id() == id)
                .unwrap()
                .get_value_hint()
        };
        assert_eq!(hint("policy_dirs"), ValueHint::DirPath);
        assert_eq!(hint("output"), ValueHint::FilePath);
        assert_eq!(hint("paths"), ValueHint::AnyPath);
        assert_eq!(hint("time_limit"), ValueHint::Other);
        let rules = eval
            .get_arguments()
            .find(|a| a.get_id() == "rules")
            .unwrap();
        let ids: Vec<String> = rules
            .get_possible_values()
            .iter()
            .map(|p| p.get_name().to_string())
            .collect();
        assert!(ids.iter().any(|i| i == "CWL-014"), "{ids:?}");
    }
}
