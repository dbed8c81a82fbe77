//! `cwl-audit diff OLD NEW`: what changed between two snapshot sets, and how verdicts moved.
use super::messages::{self, fail, fail_engine};
use super::output::emit;
use super::{EXIT_ERROR, EXIT_FINDINGS};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The snapshot set before the change (directory or file).
    old: PathBuf,
    /// The snapshot set after the change.
    new: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "text")]
    format: DiffFormat,
}

/// `--format` of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// One line per change and per verdict change, then a summary.
    Text,
    /// `{changes, verdicts, errors, summary}`.
    Json,
}

/// `cwl-audit diff --help` examples and notes.
pub const HELP: &str = "Compared by stable keys (trail ARN, log group + filter name, alarm ARN, subscription ARN), \
only the fields the rules read: trail multi-region/logging/selectors/log group, filter pattern and metric, \
alarm actions, threshold, comparison, periods, datapoints, metric and dimensions, missing-data treatment, \
subscriptions, collection errors. Both sets are also evaluated and verdict changes listed.

Examples:
  cwl-audit diff old/ snapshots/
  git worktree add /tmp/prev HEAD~1 && cwl-audit diff /tmp/prev/snapshots snapshots
  cwl-audit diff old/ new/ --format json

Exit codes: 0 no verdict got worse, 1 a verdict got worse (a pass lost, or unknown -> fail), 2 input error.";

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::diff;
    let d = match diff::diff(&args.old, &args.new) {
        Ok(d) => d,
        Err(e) => return Err(fail_engine(&e)),
    };
    // `diff nope snapshots`: nothing was compared, so the reason is the whole output (one line,
    // exit 2), never a report of zero changes after it.
    // The JSON report is written all the same, with its `errors`: a CI step that reads it gets
    // the documented shape with the reason, not an empty file.
    if d.unusable {
        if args.format == DiffFormat::Json {
            emit(None, &diff::render_json(&d))?;
        }
        return Err(fail(d.errors.join("; ")));
    }
    let bytes = match args.format {
        DiffFormat::Text => diff::render_text(&d).into_bytes(),
        DiffFormat::Json => diff::render_json(&d),
    };
    emit(None, &bytes)?;
    // JSON keeps its errors inside; whoever reads the log learns why the exit code is 2.
    if args.format == DiffFormat::Json {
        for e in &d.errors {
            messages::error(e);
        }
    }
    Ok(ExitCode::from(if !d.errors.is_empty() {
        EXIT_ERROR
    } else if d.worse() {
        EXIT_FINDINGS
    } else {
        0
    }))
}
