//! `cwl-audit rules`: one line per rule of the loaded policies.
use super::messages::{self, fail};
use cwl_audit::engine;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Also load the policies in DIR (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let listed = engine::all_sources(&args.policy_dirs, true)
        .and_then(|s| engine::rules(&s, &[]).map(|r| (s, r)));
    let (sources, rules) = match listed {
        Ok(l) => l,
        Err(e) => return Err(fail(e)),
    };
    // Listed all the same, but `eval` would stop on it.
    for m in engine::missing_decisions(&sources, &rules) {
        messages::warning(m.to_string());
    }
    // In control order of the default benchmark, like the reports (`CIS-4.5` before `CIS-4.11`).
    let framework = cwl_audit::findings::benchmark::find(cwl_audit::findings::benchmark::DEFAULT)
        .map_or("", |b| b.framework);
    let mut rules = rules;
    rules.sort_by_cached_key(|r| r.order_key(framework));
    for r in rules {
        let frameworks: Vec<String> = r
            .frameworks
            .iter()
            .map(|(k, v)| format!("{k} {}", v.join(",")))
            .collect();
        messages::print(format!(
            "{:<10} {:<8} {}  [{}]",
            r.id,
            r.severity.as_str(),
            r.title,
            frameworks.join("; ")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `cwl-audit rules --help` examples.
pub const HELP: &str = "One line per rule: id, severity, title and the frameworks it maps to (CIS, Security Hub, Trend \
Micro Conformity). A rule whose policy has no decision is listed with a warning; eval would stop on it.

Examples:
  cwl-audit rules
  cwl-audit rules --policy-dir my-policies/   # the built-in rules and yours
  cwl-audit explain CWL-014                   # one rule's documentation

Exit codes: 0 listed, 2 a policy file cannot be read or its METADATA is not valid (rules reads the
METADATA only; `cwl-audit test` compiles the policies).";
