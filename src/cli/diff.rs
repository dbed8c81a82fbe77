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
    format: cwl_audit::diff::OutputFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::diff::{self, OutputFormat};
    let d = match diff::diff(&args.old, &args.new) {
        Ok(d) => d,
        Err(e) => return Err(fail_engine(&e)),
    };
    // `diff nope snapshots`: nothing was compared, so the reason is the whole output (one line,
    // exit 2), never a report of zero changes after it.
    if d.unusable {
        return Err(fail(d.errors.join("; ")));
    }
    let bytes = match args.format {
        OutputFormat::Text => diff::render_text(&d).into_bytes(),
        OutputFormat::Json => diff::render_json(&d),
    };
    emit(None, &bytes)?;
    // JSON keeps its errors inside; whoever reads the log learns why the exit code is 2.
    if args.format == OutputFormat::Json {
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
