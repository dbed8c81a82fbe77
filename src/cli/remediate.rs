//! `cwl-audit remediate`: the plan of each failing account as AWS CLI commands, CloudFormation or
//! Terraform.
use super::messages::{self, fail, fail_engine, verbosity};
use super::output::{emit, refuse_input};
use super::{benchmark_parser, EXIT_ERROR};
use anyhow::Context as _;
use cwl_audit::fsutil;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Snapshot files or directories (searched recursively for *.json).
    #[arg(default_value = "snapshots")]
    paths: Vec<PathBuf>,
    /// Output: AWS CLI commands (a reviewable shell script), CloudFormation templates or Terraform.
    #[arg(long, short, value_enum, default_value = "cli")]
    format: PlanFormat,
    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE", conflicts_with = "output_dir")]
    output: Option<PathBuf>,
    /// With --format cloudformation: write each template to DIR/<account>-<region>.json; with
    /// --format terraform, each configuration to DIR/<account>-<region>/main.tf.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Also load the policies in DIR (repeatable); their rules built on lib.chain are remediated too.
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
    /// Only plan rule ID (repeatable), e.g. CWL-014.
    #[arg(long = "rule", value_name = "ID")]
    rules: Vec<String>,
    /// Only plan the findings of account ID (repeatable).
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// Plan each filter with the reference pattern of this benchmark version (default: the newest CIS).
    #[arg(long, value_name = "ID", default_value = cwl_audit::findings::benchmark::DEFAULT, value_parser = benchmark_parser())]
    benchmark: String,
}

/// `--format` of `remediate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// AWS CLI commands: a shell script to review and run (one guarded block per account).
    Cli,
    /// CloudFormation templates (JSON), one per account and region with something to create.
    Cloudformation,
    /// Terraform configurations (HCL), one per account and region, each with its own guarded
    /// `provider "aws"` block; existing trails, filters and alarms are imported and restated.
    Terraform,
}

/// `cwl-audit remediate --help` examples and notes.
pub const HELP: &str = "Every failing rule of the loaded policies is remediated (the fifteen CIS monitoring \
rules, and custom rules built on lib.chain); --rule and --account narrow the plan. Each failing account \
gets the steps that are missing, tailored to its snapshots (its trail, log group, filter, alarm and topic \
names), each rule's filter with the reference pattern of its policy; pieces rules share (a trail fix, one \
SNS topic per account and region) are planned once. The plan is checked by applying the steps to a copy \
of the snapshots and evaluating again. Unknown findings get no fixes, only the data to collect. \
Placeholders such as <SECURITY_EMAIL> stand for what snapshots cannot know. A value that breaks AWS's \
naming rules makes its step a manual one. Nothing is ever run or deployed by cwl-audit.

Examples:
  cwl-audit remediate
  cwl-audit remediate snapshots/ --account 333333333333 > fix-333.sh
  cwl-audit remediate --rule CWL-014 --format cloudformation --output-dir fixes/
  cwl-audit remediate --format terraform --output-dir fixes/   # fixes/<account>-<region>/main.tf

Exit codes: 0 plan written, 1 plan written with steps held back as manual because they would make \
a passing rule fail (a bug of cwl-audit: please report it), 2 usage or input error.";

/// The plan is written, but steps were held back: run as planned, they would break a passing rule.
const EXIT_HELD_BACK: u8 = 1;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::remediate;
    let started = std::time::Instant::now();
    if args.output_dir.is_some() && args.format == PlanFormat::Cli {
        return Err(fail(
            "--output-dir needs --format cloudformation or --format terraform",
        ));
    }
    if let Some(a) = args
        .accounts
        .iter()
        .find(|a| !cwl_audit::arn::is_account_id(a))
    {
        return Err(fail(format!(
            "--account {a:?} is not a 12-digit account id"
        )));
    }
    let req = remediate::Request {
        paths: args.paths.clone(),
        policy_dirs: args.policy_dirs.clone(),
        rules: args.rules.clone(),
        accounts: args.accounts.clone(),
        benchmark: args.benchmark.clone(),
    };
    let plan = match remediate::plan(&req) {
        Ok(p) => p,
        Err(remediate::RemediateError::Engine(e)) => return Err(fail_engine(&e)),
        Err(e) => return Err(fail(e)),
    };
    // A plan for an account the input does not hold would be empty and look like "nothing to fix".
    let loaded: std::collections::BTreeSet<&str> = plan
        .rules
        .iter()
        .map(|r| r.account_id.as_str())
        .chain(plan.passing.iter().map(String::as_str))
        .collect();
    if let Some(a) = args.accounts.iter().find(|a| !loaded.contains(a.as_str())) {
        for e in &plan.errors {
            messages::error(e);
        }
        return Err(fail(format!(
            "--account {a}: no snapshot of this account was loaded from the input"
        )));
    }
    // Every file found under the paths is an input, whether it loaded or was refused: a snapshot
    // that did not parse is still someone's file, and must not be replaced by the plan.
    let (mut inputs, _) = cwl_audit::snapshot::discover(&args.paths);
    inputs.extend(plan.inputs.iter().map(PathBuf::from));
    match (&args.output_dir, args.format) {
        (Some(dir), format) => {
            let mut notes = String::new();
            let units = if format == PlanFormat::Terraform {
                remediate::terraform::units(&plan)
            } else {
                remediate::cloudformation::units(&plan)
            };
            for remediate::Unit { file, text } in units {
                match file {
                    Some(f) => {
                        let path = dir.join(&f);
                        refuse_input(
                            &path,
                            inputs.iter().map(PathBuf::as_path),
                            &args.policy_dirs,
                        )?;
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent)
                                .with_context(|| format!("cannot create {}", parent.display()))?;
                        }
                        fsutil::write_atomic(&path, text.as_bytes())
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        notes.push_str(&format!(
                            "# wrote {}\n",
                            cwl_audit::text::clean(&path.display().to_string())
                        ));
                    }
                    None => notes.push_str(&text),
                }
            }
            emit(None, notes.as_bytes())?;
        }
        (None, format) => {
            if let Some(out) = &args.output {
                refuse_input(out, inputs.iter().map(PathBuf::as_path), &args.policy_dirs)?;
            }
            let text = match format {
                PlanFormat::Cli => remediate::aws_cli::render(&plan),
                PlanFormat::Cloudformation => remediate::cloudformation::render(&plan),
                PlanFormat::Terraform => remediate::terraform::render(&plan),
            };
            emit(args.output.as_deref(), text.as_bytes())?
        }
    }
    for e in &plan.errors {
        messages::error(e);
    }
    for h in &plan.held_back {
        messages::error(h);
    }
    if verbosity() > 0 {
        messages::status(format!(
            "remediate: {} planned, {} in {:.2?}",
            cwl_audit::text::plural(plan.rules.len(), "finding"),
            cwl_audit::text::plural(plan.steps.len(), "step"),
            started.elapsed()
        ));
    }
    // Input errors outrank held-back steps: the plan then covers only part of the input.
    Ok(ExitCode::from(if !plan.errors.is_empty() {
        EXIT_ERROR
    } else if !plan.held_back.is_empty() {
        EXIT_HELD_BACK
    } else {
        0
    }))
}
