//! `cwl-audit explain ID`: a rule's documentation, with the reference pattern of the chosen benchmark.
use super::benchmark_parser;
use super::messages::fail;
use super::output::emit;
use cwl_audit::engine;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The rule id, e.g. CWL-014 (case-insensitive; `cwl-audit rules` lists them).
    id: String,
    /// Also load the policies in DIR (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
    /// Show the remediation with this benchmark version's reference pattern (default: the newest CIS).
    #[arg(long, value_name = "ID", default_value = cwl_audit::findings::benchmark::DEFAULT, value_parser = benchmark_parser())]
    benchmark: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let listed = engine::all_sources(&args.policy_dirs, true)
        .and_then(|s| engine::rules(&s, &[]).map(|r| (s, r)));
    let (sources, rules) = match listed {
        Ok(l) => l,
        Err(e) => return Err(fail(e)),
    };
    // As `rules`: documentation of a rule that no run can decide would read as if it were in force.
    if let Err(e) = engine::compile(&sources) {
        return Err(super::messages::fail_engine(&e));
    }
    let Some(r) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(&args.id)) else {
        return Err(fail(format!(
            "unknown rule {} (see `cwl-audit rules` for the ids)",
            args.id
        )));
    };
    // One-line fields are cleaned as one line (a line break in a title would start a line that
    // reads as another field); the description and remediation keep their lines.
    let clean = cwl_audit::text::clean;
    let mut out = String::new();
    out.push_str(&format!("{}  {}\n", r.id, clean(&r.title)));
    out.push_str(&format!("Severity: {}\n", r.severity.as_str()));
    out.push_str(&format!(
        "Source: {} (package {})\n",
        clean(&r.source),
        clean(&r.package)
    ));
    if !r.frameworks.is_empty() {
        out.push_str("Frameworks:\n");
        for (k, v) in &r.frameworks {
            out.push_str(&format!("  {}: {}\n", clean(k), clean(&v.join(", "))));
        }
    }
    if !r.description.is_empty() {
        out.push_str(&format!("\n{}\n", r.description.trim_end()));
    }
    if !r.references.is_empty() {
        out.push_str(&explain_references(r, &args.benchmark));
    }
    if !r.related_resources.is_empty() {
        out.push_str("\nReferences:\n");
        for rr in &r.related_resources {
            match &rr.description {
                Some(d) => out.push_str(&format!("  {} ({})\n", clean(&rr.reference), clean(d))),
                None => out.push_str(&format!("  {}\n", clean(&rr.reference))),
            }
        }
    }
    if !r.recommended_action.is_empty() {
        out.push_str(&format!(
            "\nRecommended action: {}\n",
            clean(r.recommended_action.trim_end())
        ));
    }
    let remediation = r.remediation_for(&args.benchmark);
    if !remediation.is_empty() {
        out.push_str(&format!("\nRemediation:\n\n{}\n", remediation.trim_end()));
    }
    emit(None, cwl_audit::text::clean_lines(&out).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The reference pattern `benchmark` decides by, then the other versions' (with their sources).
fn explain_references(r: &cwl_audit::findings::RuleMeta, benchmark: &str) -> String {
    let mut out = String::new();
    let name = cwl_audit::findings::benchmark::find(benchmark).map_or(benchmark, |b| b.name);
    let Some(chosen) = r.reference_for(benchmark) else {
        return out;
    };
    let label = |x: &cwl_audit::findings::Reference| {
        cwl_audit::findings::benchmark::label(&x.benchmarks, &r.frameworks)
    };
    if r.has_reference_for(benchmark) {
        out.push_str(&format!(
            "\nReference pattern ({name}; the same in {}):\n  {}\n",
            label(chosen),
            chosen.pattern
        ));
    } else {
        out.push_str(&format!(
            "\nReference pattern ({name} has none for this control; decided by that of {}):\n  {}\n",
            label(chosen),
            chosen.pattern
        ));
    }
    if !chosen.source.is_empty() {
        out.push_str(&format!("  source: {}\n", chosen.source));
    }
    let others: Vec<&cwl_audit::findings::Reference> = r
        .references
        .iter()
        .filter(|x| x.pattern != chosen.pattern)
        .collect();
    if !others.is_empty() {
        out.push_str("Other benchmark versions (`--benchmark` chooses):\n");
        for x in others {
            out.push_str(&format!(
                "  {} ({}):\n    {}\n",
                label(x),
                x.benchmarks.join(", "),
                x.pattern
            ));
            if !x.source.is_empty() {
                out.push_str(&format!("    source: {}\n", x.source));
            }
        }
    }
    out
}

pub const HELP: &str =
    "Examples:\n  cwl-audit explain CWL-014\n  cwl-audit explain ORG-001 --policy-dir my-policies/";
