//! `cwl-audit test`: run the Rego unit tests of the built-in or given policies, with coverage.
use super::messages::{self, fail, verbosity};
use super::EXIT_FINDINGS;
use clap::ValueEnum;
use cwl_audit::{engine, regotest};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directories with policies and their *_test.rego files; default: the built-in policies.
    dirs: Vec<PathBuf>,
    /// Only the tests whose PACKAGE.RULE name matches REGEX (e.g. `--run root_usage`, `--run 'test_.*fails$'`).
    #[arg(long, value_name = "REGEX")]
    run: Option<String>,
    /// Also report line coverage of the policy files (not the test files).
    #[arg(long)]
    coverage: bool,
    /// Output: text, or JSON (outcomes and, with --coverage, coverage per file).
    #[arg(long, short, value_enum, default_value = "text")]
    format: TestFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // A user's tests run with the built-in library (they may import data.lib.chain), but only the
    // tests of the given directories run.
    let sources = if args.dirs.is_empty() {
        engine::builtin_sources()
    } else {
        match engine::all_sources(&args.dirs, true) {
            Ok(all) => {
                let theirs: Vec<String> = args
                    .dirs
                    .iter()
                    .map(|d| cwl_audit::fsutil::display_path(d))
                    .collect();
                all.into_iter()
                    .filter(|s| {
                        !s.is_test_file() || theirs.iter().any(|d| s.path.starts_with(d.as_str()))
                    })
                    .collect()
            }
            Err(e) => return Err(fail(e)),
        }
    };
    // A rule without `decision` fails its tests as "undefined"; say why first (eval stops on it).
    let rules = engine::rules(&sources, &[]).unwrap_or_default();
    for m in engine::missing_decisions(&sources, &rules) {
        messages::warning(m.to_string());
    }
    let run = match args.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(r) => r,
        Err(e) => return Err(fail(format!("--run: invalid regular expression: {e}"))),
    };
    let verbose = verbosity() > 0;
    let opts = regotest::TestOptions {
        run,
        coverage: args.coverage,
        explain_failures: verbose || args.format == TestFormat::Json,
    };
    let result = match regotest::run_with(&sources, &opts) {
        Ok(c) => c,
        Err(e) => return Err(messages::fail_engine(&e)),
    };
    let cases = &result.cases;
    if cases.is_empty() {
        return Err(fail(if args.run.is_some() {
            "no tests match --run"
        } else {
            "no tests found (test rules are named test_* in *_test.rego files)"
        }));
    }
    let detail = |c: &regotest::TestCase| {
        let full = format!("{}.{}", c.package, c.name);
        result
            .details
            .iter()
            .find(|(n, _)| *n == full)
            .map(|(_, d)| d)
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for c in cases {
        match &c.outcome {
            regotest::TestOutcome::Pass => passed += 1,
            regotest::TestOutcome::Skip => skipped += 1,
            regotest::TestOutcome::Fail(_) => failed += 1,
        }
    }
    if args.format == TestFormat::Json {
        let tests: Vec<serde_json::Value> = cases
            .iter()
            .map(|c| {
                let (outcome, message) = match &c.outcome {
                    regotest::TestOutcome::Pass => ("pass", None),
                    regotest::TestOutcome::Skip => ("skip", None),
                    regotest::TestOutcome::Fail(why) => ("fail", Some(why.clone())),
                };
                let failed_at = detail(c).map(|d| {
                    serde_json::json!({
                        "line": d.line,
                        "statement": d.statement,
                        "bindings": d.bindings.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    })
                });
                serde_json::json!({
                    "file": c.file, "package": c.package, "name": c.name,
                    "outcome": outcome, "message": message, "failed_at": failed_at,
                })
            })
            .collect();
        let mut doc = serde_json::json!({
            "tests": tests,
            "summary": {"passed": passed, "failed": failed, "skipped": skipped},
        });
        if let Some(cov) = &result.coverage {
            doc["coverage"] = serde_json::json!(cov
                .iter()
                .map(|f| serde_json::json!({
                    "file": f.path, "covered": f.covered, "not_covered": f.not_covered,
                    "percent": (f.percent() * 10.0).round() / 10.0, "not_covered_lines": f.not_covered_lines,
                }))
                .collect::<Vec<_>>());
        }
        // Exact, not cleaned: JSON escapes what it must. A closed pipe is no panic.
        let json = serde_json::to_string_pretty(&doc)? + "\n";
        super::output::emit(None, json.as_bytes())?;
    } else {
        for c in cases {
            match &c.outcome {
                regotest::TestOutcome::Pass if verbose => {
                    messages::print(format!("PASS {}: data.{}.{}", c.file, c.package, c.name))?
                }
                regotest::TestOutcome::Skip if verbose => {
                    messages::print(format!("SKIP {}: data.{}.{}", c.file, c.package, c.name))?
                }
                regotest::TestOutcome::Fail(why) => {
                    messages::print(format!(
                        "FAIL {}: data.{}.{}: {why}",
                        c.file, c.package, c.name
                    ))?;
                    if let Some(d) = detail(c).filter(|_| verbose) {
                        messages::print(format!(
                            "     {}:{}: {}",
                            c.file,
                            d.line,
                            d.statement.replace('\n', "\n     ")
                        ))?;
                        for (k, v) in &d.bindings {
                            messages::print(format!("       {k} = {v}"))?;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(cov) = &result.coverage {
            let (mut cov_total, mut all_total) = (0, 0);
            for f in cov {
                cov_total += f.covered;
                all_total += f.covered + f.not_covered;
                messages::print(format!(
                    "coverage {:>5.1}%  {:>4}/{:<4} lines  {}",
                    f.percent(),
                    f.covered,
                    f.covered + f.not_covered,
                    f.path
                ))?;
            }
            let pct = if all_total == 0 {
                100.0
            } else {
                100.0 * cov_total as f64 / all_total as f64
            };
            messages::print(format!(
                "coverage {pct:>5.1}%  {cov_total:>4}/{all_total:<4} lines  (all policy files)"
            ))?;
        }
        messages::print(format!(
            "{passed} passed, {failed} failed{}",
            if skipped > 0 {
                format!(", {skipped} skipped")
            } else {
                String::new()
            }
        ))?;
    }
    Ok(ExitCode::from(if failed > 0 { EXIT_FINDINGS } else { 0 }))
}

pub const HELP: &str = "With -v, every test is listed (PASS/FAIL/SKIP) and each failure shows the first statement of the test that did not hold, with the values bound before it.\nExit codes: 0 all passed, 1 a test failed, 2 no tests or a policy does not compile.\n\nExamples:\n  cwl-audit test                          # the built-in policies\n  cwl-audit test my-policies/             # your policies, with the built-in library\n  cwl-audit test -v --run root_usage      # one package, every test listed\n  cwl-audit test my-policies/ --coverage  # line coverage of your policies";
