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
    // A policy that does not compile is exit 2 here as in `eval`: listing a rule that no run
    // can decide would read as if it were in force.
    if let Err(e) = engine::compile(&sources) {
        return Err(messages::fail_engine(&e));
    }
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
        // One line per rule whatever the METADATA holds: a line break in a title would print a
        // second row that reads as another rule.
        let clean = cwl_audit::text::clean;
        messages::print(format!(
            "{:<10} {:<8} {}  [{}]",
            r.id,
            r.severity.as_str(),
            clean(&r.title),
            clean(&frameworks.join("; "))
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

Exit codes: 0 listed, 2 a policy file cannot be read, its METADATA is not valid, or a policy does
not compile (as `eval` would stop on it).";
