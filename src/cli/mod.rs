//! The `cwl-audit` command line: one file per command, each with its arguments (`Args`), its help
//! text (`HELP`) and `run(args) -> anyhow::Result<ExitCode>` (the hidden `man` lives with
//! `completions`, the hidden `builtin` takes no arguments). Exit code 2 comes three ways, and only
//! these: a command's `Err`, which [`main`] prints once (`cwl-audit: error: ...`, see
//! [`messages`]); a run that completed but read unusable input, which returns 2 after reporting
//! each problem (`error: ...` lines, and inside the report); and clap's own usage errors. The
//! memory bound (`memlimit`) is the one exit from inside: it stops in the allocator, where nothing
//! can unwind. Warnings, notes and per-item errors go through [`messages`], sanitized.
mod builtin;
mod collect;
mod completions;
mod diff;
mod eval;
mod explain;
mod iam_policy;
pub mod messages;
mod output;
mod remediate;
mod rules;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit codes, documented in README: 0 nothing at or above --fail-on, 1 findings, 2 usage or input error.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;
/// `collect` only: snapshots written, some calls failed (recorded in their `errors`).
#[cfg(feature = "collect")]
const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(name = "cwl-audit", version, about = "Prove that every AWS account alarms when the root user is used.", long_about = None)]
#[command(after_help = GLOBAL_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only errors and the command's own output: eval, diff, remediate and collect leave out
    /// passing accounts, warnings and summaries.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail where a command has it: eval's text report gets one line per account and rule
    /// with the proven chain, and eval and collect print timings on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

const GLOBAL_HELP: &str = "Examples:
  cwl-audit eval snapshots/ --format sarif --output cwl-audit.sarif
  cwl-audit remediate snapshots/ --format cloudformation --output-dir fixes/
  cwl-audit diff old-snapshots/ snapshots/
  cwl-audit completions bash > /etc/bash_completion.d/cwl-audit

Colours are used on a terminal only; NO_COLOR (any non-empty value) turns them off.
Exit codes: 0 ok, 1 findings (or a worse verdict for diff), 2 usage or input error.";

#[derive(Subcommand)]
enum Command {
    /// Evaluate snapshots offline and report a verdict per account and rule.
    #[command(after_help = eval::HELP)]
    Eval(eval::Args),
    /// Run Rego unit tests (`test_*` rules in `*_test.rego` files).
    #[command(after_help = test::HELP)]
    Test(test::Args),
    /// List the rules: id, severity, title, frameworks.
    #[command(after_help = rules::HELP)]
    Rules(rules::Args),
    /// Print a rule's documentation: title, severity, description, frameworks, references and remediation.
    #[command(after_help = explain::HELP)]
    Explain(explain::Args),
    /// Print the missing pieces of each failing account's alarm chains as AWS CLI commands,
    /// CloudFormation templates or Terraform configurations (never run by cwl-audit).
    #[command(after_help = remediate::HELP)]
    Remediate(remediate::Args),
    /// Show what changed between two snapshot sets that matters to the rules, and how verdicts moved.
    #[command(after_help = diff::HELP)]
    Diff(diff::Args),
    /// Print a shell completion script generated from the command definitions.
    #[command(after_help = completions::HELP)]
    Completions(completions::Args),
    /// Write man pages (cwl-audit.1 and one per subcommand) to DIR; `make man` uses it.
    #[command(hide = true)]
    Man(completions::ManArgs),
    /// Read what every rule needs (trails, log groups, metric filters, alarms, topics) from one AWS
    /// account, or every account of an organization (read-only), into snapshots.
    #[command(after_help = collect::HELP)]
    // Boxed: the organization flags made it the largest variant by far (clippy large_enum_variant).
    Collect(Box<collect::Args>),
    /// Print the least-privilege IAM policy that `collect` needs (exactly the actions it uses);
    /// with --organization, the management side's and the member role's, or (--stackset) a
    /// CloudFormation StackSet template of the member role.
    #[command(after_help = iam_policy::HELP)]
    IamPolicy(iam_policy::Args),
    /// Answer `cwl.*` builtin calls, one JSON object per line on stdin ({"name", "args"} or
    /// {"list": true}), and what policies get as data under a benchmark ({"benchmarks": true},
    /// {"benchmark_data": ID}), for cross-checking policies with another Rego engine.
    #[command(hide = true)]
    Builtin,
}

/// The `--benchmark` choices, each with its name in words (listed by `--help` and on a bad value).
pub(crate) fn benchmark_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        cwl_audit::findings::benchmark::BENCHMARKS
            .iter()
            .map(|b| clap::builder::PossibleValue::new(b.id).help(b.name)),
    )
}

pub(crate) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds more than 0 and at most 86400"
        )),
    }
}

/// Parses the arguments, runs the command, and prints its error, if any, the one way.
pub fn main() -> ExitCode {
    // regorus reports many internal misses as `anyhow` errors, and anyhow captures a backtrace for
    // each when RUST_BACKTRACE is set (as it often is in CI): that made evaluation 4x slower.
    // Library backtraces are off unless asked for by name; panics still print theirs.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // clap checks the conflict only where both flags are given at one level (`eval -q -v`); as
    // global flags they may also be split around the subcommand (`-q eval -v`).
    if cli.quiet && cli.verbose > 0 {
        messages::fatal(&messages::fail(
            "--quiet and --verbose cannot be used together",
        ));
        return ExitCode::from(EXIT_ERROR);
    }
    messages::set_verbosity(if cli.quiet {
        -1
    } else {
        cli.verbose.min(2) as i8
    });
    let outcome = match cli.command {
        Command::Eval(a) => eval::run(a),
        Command::Test(a) => test::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Remediate(a) => remediate::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => completions::run_man(a),
        Command::Collect(a) => collect::run(*a),
        Command::IamPolicy(a) => iam_policy::run(a),
        Command::Builtin => builtin::run(),
    };
    outcome.unwrap_or_else(|e| {
        messages::fatal(&e);
        ExitCode::from(EXIT_ERROR)
    })
}
