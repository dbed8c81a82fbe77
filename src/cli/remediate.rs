//! `cwl-audit remediate`: the plan of each failing account as AWS CLI commands or CloudFormation.
use super::messages::{self, fail, verbosity};
use super::output::emit;
use super::EXIT_ERROR;
use anyhow::Context as _;
use cwl_audit::fsutil;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot files or directories (searched recursively for *.json).
    #[arg(default_value = "snapshots")]
    paths: Vec<PathBuf>,
    /// Output: AWS CLI commands (a reviewable shell script) or CloudFormation templates.
    #[arg(long, short, value_enum, default_value = "cli")]
    format: cwl_audit::remediate::OutputFormat,
    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE", conflicts_with = "output_dir")]
    output: Option<PathBuf>,
    /// With --format cloudformation: write each template to DIR/<account>-<region>.yaml.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::remediate::{self, OutputFormat};
    let started = std::time::Instant::now();
    let plan = match remediate::plan(&args.paths) {
        Ok(p) => p,
        Err(e) => return Err(fail(e)),
    };
    if args.output_dir.is_some() && args.format != OutputFormat::Cloudformation {
        return Err(fail("--output-dir needs --format cloudformation"));
    }
    match (&args.output_dir, args.format) {
        (Some(dir), _) => {
            let mut notes = String::new();
            for unit in remediate::cloudformation::units(&plan) {
                match unit.file {
                    Some(f) => {
                        let path = dir.join(&f);
                        fsutil::write_atomic(&path, unit.text.as_bytes())
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        notes.push_str(&format!("# wrote {}\n", path.display()));
                    }
                    None => notes.push_str(&unit.text),
                }
            }
            emit(None, notes.as_bytes())?;
        }
        (None, OutputFormat::Cli) => emit(
            args.output.as_deref(),
            remediate::cli::render(&plan).as_bytes(),
        )?,
        (None, OutputFormat::Cloudformation) => emit(
            args.output.as_deref(),
            remediate::cloudformation::render(&plan).as_bytes(),
        )?,
    }
    for e in &plan.errors {
        messages::error(e);
    }
    if verbosity() > 0 {
        messages::status(format!(
            "remediate: {} account(s) planned in {:.2?}",
            plan.accounts.len(),
            started.elapsed()
        ));
    }
    Ok(ExitCode::from(if plan.errors.is_empty() {
        0
    } else {
        EXIT_ERROR
    }))
}
