//! `cwl-audit eval`: load snapshots, decide every rule, write the report, choose the exit code.
use super::messages::{self, fail, verbosity};
use super::output::{emit, refuse_input};
use super::{benchmark_parser, parse_seconds, EXIT_ERROR, EXIT_FINDINGS};
use clap::ValueEnum;
use cwl_audit::eval;
use cwl_audit::findings::{Level, RunResult, Verdict};
use cwl_audit::report::{self, Format, RenderOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 on fail or unknown verdicts (an account that could not be proven compliant).
    Unknown,
    /// Exit 1 on fail verdicts only.
    Fail,
    /// Always exit 0 unless the input is unusable.
    Never,
}

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot files or directories (searched recursively for *.json).
    #[arg(default_value = "snapshots")]
    paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, short, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also load the policies in DIR (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
    /// Only evaluate rule ID (repeatable), e.g. CWL-014.
    #[arg(long = "rule", value_name = "ID")]
    rules: Vec<String>,
    /// Decide by the reference patterns of this benchmark version (default: the newest CIS). Where
    /// another version's pattern gives another verdict, a note on the finding says so.
    #[arg(long, value_name = "ID", default_value = cwl_audit::findings::benchmark::DEFAULT, value_parser = benchmark_parser())]
    benchmark: String,
    /// The lowest verdict that makes the exit code 1.
    #[arg(long, value_enum, default_value = "unknown")]
    fail_on: FailOn,
    /// SARIF code-scanning category (automationDetails.id, written with a trailing `/`): separates
    /// uploads of different snapshot sets, e.g. `prod`.
    #[arg(long)]
    category: Option<String>,
    /// SARIF: write snapshot URIs relative to DIR (`%SRCROOT%`; files outside it get `file://`
    /// URIs). Default: the git work tree containing the first PATH, else the current directory.
    #[arg(long, value_name = "DIR")]
    source_root: Option<PathBuf>,
    /// Stop the evaluation of one account after SECONDS; its rules are then retried one at a time under
    /// the same bound, and a rule that is stopped again is an error (exit 2).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_seconds)]
    time_limit: f64,
    /// Stop the run (exit 2, no report) if the process would hold more than MIB mebibytes (at
    /// least 1).
    #[arg(long, value_name = "MIB", default_value_t = cwl_audit::memlimit::DEFAULT_LIMIT_BYTES >> 20,
          value_parser = parse_mib)]
    memory_limit: usize,
}

fn parse_mib(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of mebibytes of at least 1")),
    }
}

fn exit_code(result: &RunResult, fail_on: FailOn) -> u8 {
    if result.has_errors() {
        return EXIT_ERROR;
    }
    let failing = match fail_on {
        FailOn::Unknown => result.count(Verdict::Fail) + result.count(Verdict::Unknown),
        FailOn::Fail => result.count(Verdict::Fail),
        FailOn::Never => 0,
    };
    if failing > 0 {
        EXIT_FINDINGS
    } else {
        0
    }
}

/// The report of a run that failed before deciding, written to `out` unless `out` is one of the
/// snapshots under `paths`.
fn write_report(
    out: &Path,
    paths: &[std::path::PathBuf],
    policy_dirs: &[std::path::PathBuf],
    format: Format,
    failed: &RunResult,
    render: &RenderOptions,
) -> anyhow::Result<()> {
    let (files, _) = cwl_audit::snapshot::discover(paths);
    refuse_input(out, files.iter().map(|f| f.as_path()), policy_dirs)?;
    emit(Some(out), &report::render(format, failed, render))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    cwl_audit::memlimit::set_limit(args.memory_limit.saturating_mul(1 << 20));
    // Found before the paths move into the options: the work tree is that of the first PATH.
    let source_root = match &args.source_root {
        // A directory that is not there would make every URI relative to nothing real.
        Some(dir) if !dir.is_dir() => {
            return Err(fail(format!(
                "--source-root {}: not a directory",
                dir.display()
            )))
        }
        Some(dir) => report::uri::SourceRoot::new(dir),
        None => report::uri::SourceRoot::discover(&args.paths),
    };
    let opts = eval::EvalOptions {
        paths: args.paths,
        policy_dirs: args.policy_dirs.clone(),
        rules: args.rules,
        time_limit: std::time::Duration::from_secs_f64(args.time_limit),
        benchmark: args.benchmark,
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let render = RenderOptions {
        color: to_terminal && !no_color,
        category: args.category,
        verbosity: verbosity(),
        source_root: Some(source_root.clone()),
    };
    let started = std::time::Instant::now();
    eval::timings::init_from_env();
    let result = match eval::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            // Nothing was decided, but a report of an earlier run must not stay where this one
            // goes: the file (or a machine format on stdout) says the run failed, and why.
            let failed = RunResult::failed(&opts.benchmark, e.to_string());
            let write = match &args.output {
                Some(out) => write_report(
                    out,
                    &opts.paths,
                    &opts.policy_dirs,
                    args.format,
                    &failed,
                    &render,
                ),
                None if args.format != Format::Text => {
                    emit(None, &report::render(args.format, &failed, &render))
                }
                None => Ok(()),
            };
            return match write {
                Ok(()) => Err(messages::fail_engine(&e)),
                Err(w) => {
                    messages::error(e.to_string());
                    Err(w)
                }
            };
        }
    };
    if verbosity() > 0 {
        messages::status(format!(
            "eval: {}, {} in {:.2?}",
            cwl_audit::text::plural(result.inputs.len(), "snapshot"),
            cwl_audit::text::plural(result.findings.len(), "finding"),
            started.elapsed()
        ));
    }
    if args.format == Format::Sarif {
        if let Some(w) = report::sarif::outside_checkout_warning(&result, &source_root) {
            messages::warning(w);
        }
    }
    let report_started = std::time::Instant::now();
    let bytes = report::render(args.format, &result, &render);
    match &args.output {
        Some(out) => {
            // Every file found is an input, loaded or refused (a snapshot that did not parse is
            // still someone's file).
            let (mut inputs, _) = cwl_audit::snapshot::discover(&opts.paths);
            inputs.extend(result.inputs.iter().map(std::path::PathBuf::from));
            refuse_input(out, inputs.iter().map(|p| p.as_path()), &args.policy_dirs)?;
            emit(Some(out), &bytes)?;
        }
        None => emit(None, &bytes)?,
    }
    eval::timings::add(eval::timings::Phase::Report, report_started.elapsed());
    if let Some(t) = eval::timings::summary(started) {
        messages::status(t);
    }
    // Unusable input (a snapshot that does not parse, a directory without any) is never a reason to
    // skip the report: every format says the run failed in its own way (SARIF
    // `executionSuccessful: false` with the reason as an error notification, so an upload cannot
    // close alerts; JSON `summary.errors` and `notifications`; a JUnit error test case per problem;
    // text `error:` lines), and a report file from an earlier run is not left behind to be taken for
    // this one. A report in a file or a machine format keeps that inside, so the errors and the
    // summary also go to stderr for whoever reads the log.
    if args.output.is_some() || args.format != Format::Text {
        for n in &result.notifications {
            match n.level {
                Level::Error => messages::error(&n.message),
                Level::Warning => messages::warning(&n.message),
                Level::Note => {}
            }
        }
        if verbosity() >= 0 {
            messages::status(result.summary_line());
        }
    }
    Ok(ExitCode::from(exit_code(&result, args.fail_on)))
}

pub const HELP: &str = "Examples:\n  cwl-audit eval\n  cwl-audit eval snapshots/ --format sarif --output cwl-audit.sarif\n  cwl-audit eval snapshots/123456789012 --rule CWL-014 --format json\n  cwl-audit eval --policy-dir my-policies/ --fail-on fail\n\nExit codes: 0 no verdict at or above --fail-on, 1 findings (a fail or unknown verdict at or above\n--fail-on), 2 usage or input error (after an input error the report is still written and says the
run failed; a usage error, such as a bad option value, writes nothing). --output - is standard output;
a symbolic link is written through, a FIFO or device into.";
