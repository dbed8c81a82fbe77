//! The `cwl-audit` command line. Thin: parsing arguments, choosing outputs and exit codes; the work
//! is in the library.
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use cwl_audit::engine;
use cwl_audit::eval;
use cwl_audit::findings::{RunResult, Verdict};
use cwl_audit::report::{self, Format, RenderOptions};
use cwl_audit::{fsutil, regotest};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// Every allocation is counted, so a policy or input that would exhaust memory ends with exit 2
// and a message instead of an abort (see memlimit).
#[global_allocator]
static ALLOCATOR: cwl_audit::memlimit::Limited = cwl_audit::memlimit::Limited;

/// Exit codes, documented in README: 0 nothing at or above --fail-on, 1 findings, 2 usage or input error.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;
/// `collect` only: snapshots written, some calls failed (recorded in their `errors`).
#[cfg(feature = "collect")]
const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(name = "cwl-audit", version, about = "Prove that every AWS account alarms when the root user is used.", long_about = None)]
#[command(after_help = GLOBAL_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only errors: no PASS lines, warnings or summaries besides the report itself.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail: -v adds each account's proven chain to text reports and timings on stderr.
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
    #[command(
        after_help = "Examples:\n  cwl-audit eval\n  cwl-audit eval snapshots/ --format sarif --output cwl-audit.sarif\n  cwl-audit eval snapshots/123456789012 --rule CWL-014 --format json\n  cwl-audit eval --policy-dir my-policies/ --fail-on fail"
    )]
    Eval(EvalArgs),
    /// Run Rego unit tests (`test_*` rules in `*_test.rego` files).
    #[command(
        after_help = "With -v, every test is listed (PASS/FAIL/SKIP) and each failure shows the first statement of the test that did not hold, with the values bound before it.\nExit codes: 0 all passed, 1 a test failed, 2 no tests or a policy does not compile.\n\nExamples:\n  cwl-audit test                          # the built-in policies\n  cwl-audit test my-policies/             # your policies, with the built-in library\n  cwl-audit test -v --run root_usage      # one package, every test listed\n  cwl-audit test my-policies/ --coverage  # line coverage of your policies"
    )]
    Test(TestArgs),
    /// List the rules: id, severity, title, frameworks.
    Rules(RulesArgs),
    /// Print a rule's documentation: title, severity, description, frameworks, references and remediation.
    #[command(
        after_help = "Examples:\n  cwl-audit explain CWL-014\n  cwl-audit explain ORG-001 --policy-dir my-policies/"
    )]
    Explain(ExplainArgs),
    /// Print the missing pieces of each failing account's CWL-014 chain as AWS CLI commands or
    /// CloudFormation templates (never run by cwl-audit).
    #[command(after_help = cwl_audit::remediate::HELP)]
    Remediate(RemediateArgs),
    /// Show what changed between two snapshot sets that matters to the rules, and how verdicts moved.
    #[command(after_help = cwl_audit::diff::HELP)]
    Diff(DiffArgs),
    /// Print a shell completion script generated from the command definitions.
    #[command(
        after_help = "Examples:\n  cwl-audit completions bash > ~/.local/share/bash-completion/completions/cwl-audit\n  cwl-audit completions zsh > ~/.zfunc/_cwl-audit\n  cwl-audit completions fish > ~/.config/fish/completions/cwl-audit.fish"
    )]
    Completions(CompletionsArgs),
    /// Write man pages (cwl-audit.1 and one per subcommand) to DIR; `make man` uses it.
    #[command(hide = true)]
    Man(ManArgs),
    /// Read what CWL-014 needs from one AWS account, or every account of an organization
    /// (read-only), into snapshots.
    #[command(
        after_help = "Exit codes: 0 complete, 3 partial (failed calls are recorded in the snapshots' `errors`; with --organization: some accounts failed or are partial, see the manifest), 2 nothing usable (e.g. no credentials).\n\nExamples:\n  cwl-audit collect --out snapshots/ --all-regions\n  cwl-audit collect --out snapshots/ --profile audit --regions us-east-1,eu-west-1\n  cwl-audit collect --out snapshots/ --role-arn arn:aws:iam::123456789012:role/Audit --external-id X --all-regions\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --all-regions\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --all-regions --resume\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --ou ou-ab12-cdef3456 --shard 2/4\n  cwl-audit iam-policy   # the permissions it needs (--organization: both sides and a StackSet)"
    )]
    // Boxed: the organization flags made it the largest variant by far (clippy large_enum_variant).
    Collect(Box<CollectArgs>),
    /// Print the least-privilege IAM policy that `collect` needs (exactly the actions it uses);
    /// with --organization, the management side's and the member role's, or (--stackset) a
    /// CloudFormation StackSet template of the member role.
    #[command(
        after_help = "Examples:\n  cwl-audit iam-policy\n  cwl-audit iam-policy --organization --member-role CwlAuditReadOnly\n  cwl-audit iam-policy --organization --stackset > cwl-audit-member-role.yaml"
    )]
    IamPolicy(IamPolicyArgs),
    /// Answer `cwl.*` builtin calls, one JSON object per line on stdin ({"name", "args"} or
    /// {"list": true}), and what policies get as data under a benchmark ({"benchmarks": true},
    /// {"benchmark_data": ID}), for cross-checking policies with another Rego engine.
    #[command(hide = true)]
    Builtin,
}

#[derive(Args)]
struct IamPolicyArgs {
    /// Print the policies of `collect --organization`: the management side's (Organizations, STS
    /// AssumeRole of the member role, and its own account's reads) and the member role's.
    #[arg(long)]
    organization: bool,
    /// The member role's name (in the management policy's AssumeRole resource and the StackSet).
    #[arg(long, value_name = "NAME", default_value = cwl_audit::iam::DEFAULT_MEMBER_ROLE, requires = "organization")]
    member_role: String,
    /// The partition of the role ARNs.
    #[arg(long, value_name = "P", default_value = "aws", value_parser = ["aws", "aws-cn", "aws-us-gov"], requires = "organization")]
    partition: String,
    /// Print a CloudFormation template (YAML) of the member role, for a service-managed StackSet.
    #[arg(long, requires = "organization")]
    stackset: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("assume").args(["role_arn", "organization"])))]
struct CollectArgs {
    /// Write snapshots below DIR, as DIR/<account>/<region>.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Use this named profile of the AWS config files (else AWS_PROFILE or the default chain).
    #[arg(long, value_name = "P")]
    profile: Option<String>,
    /// Collect these regions (comma-separated). Default: the configured region (AWS_REGION, profile).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "a,b",
        conflicts_with = "all_regions"
    )]
    regions: Vec<String>,
    /// Collect every region enabled for the account (Account ListRegions; if that is denied, the
    /// regions enabled by default in every account).
    #[arg(long)]
    all_regions: bool,
    /// Assume this role (STS AssumeRole with the credentials of the chain) and collect its account.
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// External id for --role-arn or the member role of --organization.
    #[arg(long, value_name = "X", requires = "assume")]
    external_id: Option<String>,
    /// Collect every active account of the organization (run with the management account's or a
    /// delegated administrator's credentials): the calling account with its own credentials, every
    /// other through --member-role; writes the run manifest next to the snapshots.
    #[arg(long, requires = "member_role")]
    organization: bool,
    /// The role assumed in each member account (arn:<partition>:iam::<account>:role/NAME);
    /// `cwl-audit iam-policy --organization --stackset` creates it.
    #[arg(long, value_name = "NAME", requires = "organization")]
    member_role: Option<String>,
    /// Only the accounts in this OU and the OUs below it (repeatable; an OU or root id).
    #[arg(long = "ou", value_name = "OU_ID", requires = "organization")]
    ous: Vec<String>,
    /// Only these accounts (comma-separated 12-digit ids).
    #[arg(
        long,
        value_name = "ID,...",
        value_delimiter = ',',
        requires = "organization"
    )]
    accounts: Vec<String>,
    /// Leave these accounts out (comma-separated; listed in the manifest as skipped).
    #[arg(
        long,
        value_name = "ID,...",
        value_delimiter = ',',
        requires = "organization"
    )]
    exclude_accounts: Vec<String>,
    /// The session name of the member role's sessions (shown in the members' CloudTrail).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "cwl-audit",
        requires = "organization"
    )]
    role_session_name: String,
    /// Accounts collected at the same time (each with --concurrency regions at a time).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256), requires = "organization")]
    account_concurrency: u32,
    /// Finish an interrupted or partly failed run: read its manifest and collect only the accounts
    /// and regions it does not show as complete (same arguments as the first run).
    #[arg(long, requires = "organization")]
    resume: bool,
    /// Collect shard I of N: the accounts whose id modulo N is I-1, with a manifest part listing
    /// every account, so that N jobs (a CI matrix) collect the organization in parallel.
    #[arg(long, value_name = "I/N", requires = "organization")]
    shard: Option<String>,
    /// Organizations calls a second.
    #[arg(
        long,
        hide = true,
        value_name = "N",
        default_value_t = 4.0,
        requires = "organization"
    )]
    organizations_rate: f64,
    /// STS AssumeRole calls a second.
    #[arg(
        long,
        hide = true,
        value_name = "N",
        default_value_t = 20.0,
        requires = "organization"
    )]
    sts_rate: f64,
    /// Test hook: stop as an interrupted run would after N accounts.
    #[arg(long, hide = true, value_name = "N", requires = "organization")]
    stop_after_accounts: Option<usize>,
    /// Send every call to URL (an emulator or a VPC endpoint proxy).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Replace SNS subscription endpoints (e-mail addresses, phone numbers) by their SHA-256.
    #[arg(long)]
    redact_endpoints: bool,
    /// Regions collected at the same time.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    concurrency: u32,
    /// Attempts per call, the first included (adaptive retry on throttling and transient errors).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// First retry backoff in milliseconds (tests).
    #[arg(long, hide = true, value_name = "MS")]
    retry_initial_backoff_ms: Option<u64>,
    // -q/--quiet (global): no progress line and no summary; warnings and errors are still printed.
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Exit 1 on fail or unknown verdicts (an account that could not be proven compliant).
    Unknown,
    /// Exit 1 on fail verdicts only.
    Fail,
    /// Always exit 0 unless the input is unusable.
    Never,
}

#[derive(Args)]
struct EvalArgs {
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
    #[arg(long, value_name = "ID", default_value = engine::benchmark::DEFAULT, value_parser = benchmark_parser())]
    benchmark: String,
    /// The lowest verdict that makes the exit code 1.
    #[arg(long, value_enum, default_value = "unknown")]
    fail_on: FailOn,
    /// SARIF automationDetails.id: separates uploads of different snapshot sets (e.g. `prod/`).
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
    /// Stop the run (exit 2, no report) if the process would hold more than MIB mebibytes.
    #[arg(long, value_name = "MIB", default_value_t = cwl_audit::memlimit::DEFAULT_LIMIT_BYTES >> 20)]
    memory_limit: usize,
}

/// The `--benchmark` choices, each with its name in words (listed by `--help` and on a bad value).
fn benchmark_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        engine::benchmark::BENCHMARKS
            .iter()
            .map(|b| clap::builder::PossibleValue::new(b.id).help(b.name)),
    )
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0 and 86400"
        )),
    }
}

#[derive(Args)]
struct TestArgs {
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

#[derive(Args)]
struct ExplainArgs {
    /// The rule id, e.g. CWL-014 (case-insensitive; `cwl-audit rules` lists them).
    id: String,
    /// Also load the policies in DIR (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
    /// Show the remediation with this benchmark version's reference pattern (default: the newest CIS).
    #[arg(long, value_name = "ID", default_value = engine::benchmark::DEFAULT, value_parser = benchmark_parser())]
    benchmark: String,
}

#[derive(Args)]
struct RulesArgs {
    /// Also load the policies in DIR (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    policy_dirs: Vec<PathBuf>,
}

#[derive(Args)]
struct RemediateArgs {
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

#[derive(Args)]
struct DiffArgs {
    /// The snapshot set before the change (directory or file).
    old: PathBuf,
    /// The snapshot set after the change.
    new: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "text")]
    format: cwl_audit::diff::OutputFormat,
}

#[derive(Args)]
struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Args)]
struct ManArgs {
    /// Directory for the pages.
    #[arg(long, value_name = "DIR", default_value = "target/man")]
    out_dir: PathBuf,
}

fn error_exit(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("cwl-audit: error: {message}");
    ExitCode::from(EXIT_ERROR)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
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

fn cmd_eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    cwl_audit::memlimit::set_limit(args.memory_limit.saturating_mul(1 << 20));
    // Found before the paths move into the options: the work tree is that of the first PATH.
    let source_root = match &args.source_root {
        Some(dir) => report::uri::SourceRoot::new(dir),
        None => report::uri::SourceRoot::discover(&args.paths),
    };
    let opts = eval::Options {
        paths: args.paths,
        policy_dirs: args.policy_dirs,
        rules: args.rules,
        time_limit: std::time::Duration::from_secs_f64(args.time_limit),
        benchmark: args.benchmark,
    };
    let started = std::time::Instant::now();
    let result = match eval::run(&opts) {
        Ok(r) => r,
        Err(e) => return Ok(error_exit(e)),
    };
    if verbosity() > 0 {
        eprintln!(
            "eval: {} snapshot(s), {} finding(s) in {:.2?}",
            result.inputs.len(),
            result.findings.len(),
            started.elapsed()
        );
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let render = RenderOptions {
        color: to_terminal && !no_color,
        category: args.category,
        verbosity: verbosity(),
        source_root: Some(source_root.clone()),
    };
    if args.format == Format::Sarif {
        if let Some(w) = report::sarif::outside_checkout_warning(&result, &source_root) {
            eprintln!("warning: {w}");
        }
    }
    let bytes = report::render(args.format, &result, &render);
    match &args.output {
        Some(out) => {
            if let Some(input) = result.inputs.iter().find(|i| same_file(Path::new(i), out)) {
                return Ok(error_exit(format!(
                    "--output {} is an input snapshot ({input}); refusing to overwrite it",
                    out.display()
                )));
            }
            fsutil::write_atomic(out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = stdout.write_all(&bytes).and_then(|_| stdout.flush());
        }
    }
    // Unusable input (a snapshot that does not parse, a directory without any) is never a reason to
    // skip the report: every format says the run failed in its own way (SARIF
    // `executionSuccessful: false` with the reason as an error notification, so an upload cannot
    // close alerts; JSON `summary.errors` and `notifications`; a JUnit error test case per problem;
    // text `error:` lines), and a report file from an earlier run is not left behind to be taken for
    // this one. A report in a file or a machine format keeps that inside, so the errors and the
    // summary also go to stderr for whoever reads the log.
    if args.output.is_some() || args.format != Format::Text {
        let text = String::from_utf8_lossy(&report::render(
            Format::Text,
            &result,
            &RenderOptions::default(),
        ))
        .into_owned();
        for l in text
            .lines()
            .filter(|l| l.starts_with("error:") || l.starts_with("warning:"))
        {
            if verbosity() >= 0 || l.starts_with("error:") {
                eprintln!("{l}");
            }
        }
        if verbosity() >= 0 {
            eprintln!("{}", text.lines().last().unwrap_or_default());
        }
    }
    Ok(ExitCode::from(exit_code(&result, args.fail_on)))
}

fn cmd_test(args: TestArgs) -> anyhow::Result<ExitCode> {
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
                    .map(|d| cwl_audit::snapshot::display_path(d))
                    .collect();
                all.into_iter()
                    .filter(|s| {
                        !s.is_test() || theirs.iter().any(|d| s.path.starts_with(d.as_str()))
                    })
                    .collect()
            }
            Err(e) => return Ok(error_exit(e)),
        }
    };
    let run = match args.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(r) => r,
        Err(e) => {
            return Ok(error_exit(format!(
                "--run: invalid regular expression: {e}"
            )))
        }
    };
    let verbose = verbosity() > 0;
    let opts = regotest::Options {
        run,
        coverage: args.coverage,
        explain_failures: verbose || args.format == TestFormat::Json,
    };
    let result = match regotest::run_with(&sources, &opts) {
        Ok(c) => c,
        Err(e) => return Ok(error_exit(e)),
    };
    let cases = &result.cases;
    if cases.is_empty() {
        return Ok(error_exit(if args.run.is_some() {
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
            regotest::Outcome::Pass => passed += 1,
            regotest::Outcome::Skip => skipped += 1,
            regotest::Outcome::Fail(_) => failed += 1,
        }
    }
    if args.format == TestFormat::Json {
        let tests: Vec<serde_json::Value> = cases
            .iter()
            .map(|c| {
                let (outcome, message) = match &c.outcome {
                    regotest::Outcome::Pass => ("pass", None),
                    regotest::Outcome::Skip => ("skip", None),
                    regotest::Outcome::Fail(why) => ("fail", Some(why.clone())),
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
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for c in cases {
            match &c.outcome {
                regotest::Outcome::Pass if verbose => {
                    println!("PASS {}: data.{}.{}", c.file, c.package, c.name)
                }
                regotest::Outcome::Skip if verbose => {
                    println!("SKIP {}: data.{}.{}", c.file, c.package, c.name)
                }
                regotest::Outcome::Fail(why) => {
                    println!("FAIL {}: data.{}.{}: {why}", c.file, c.package, c.name);
                    if let Some(d) = detail(c).filter(|_| verbose) {
                        println!(
                            "     {}:{}: {}",
                            c.file,
                            d.line,
                            d.statement.replace('\n', "\n     ")
                        );
                        for (k, v) in &d.bindings {
                            println!("       {k} = {v}");
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
                println!(
                    "coverage {:>5.1}%  {:>4}/{:<4} lines  {}",
                    f.percent(),
                    f.covered,
                    f.covered + f.not_covered,
                    f.path
                );
            }
            let pct = if all_total == 0 {
                100.0
            } else {
                100.0 * cov_total as f64 / all_total as f64
            };
            println!(
                "coverage {pct:>5.1}%  {cov_total:>4}/{all_total:<4} lines  (all policy files)"
            );
        }
        println!(
            "{passed} passed, {failed} failed{}",
            if skipped > 0 {
                format!(", {skipped} skipped")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::from(if failed > 0 { EXIT_FINDINGS } else { 0 }))
}

fn cmd_explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let listed = engine::all_sources(&args.policy_dirs, true).and_then(|s| engine::checks(&s, &[]));
    let rules = match listed {
        Ok(r) => r,
        Err(e) => return Ok(error_exit(e)),
    };
    let Some(r) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(&args.id)) else {
        return Ok(error_exit(format!(
            "unknown rule {} (see `cwl-audit rules` for the ids)",
            args.id
        )));
    };
    let mut out = String::new();
    out.push_str(&format!("{}  {}\n", r.id, r.title));
    out.push_str(&format!("Severity: {}\n", r.severity.as_str()));
    out.push_str(&format!("Source: {} (package {})\n", r.source, r.package));
    if !r.frameworks.is_empty() {
        out.push_str("Frameworks:\n");
        for (k, v) in &r.frameworks {
            out.push_str(&format!("  {k}: {}\n", v.join(", ")));
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
                Some(d) => out.push_str(&format!("  {} ({d})\n", rr.reference)),
                None => out.push_str(&format!("  {}\n", rr.reference)),
            }
        }
    }
    if !r.recommended_action.is_empty() {
        out.push_str(&format!(
            "\nRecommended action: {}\n",
            r.recommended_action.trim_end()
        ));
    }
    let remediation = r.remediation_for(&args.benchmark);
    if !remediation.is_empty() {
        out.push_str(&format!("\nRemediation:\n\n{}\n", remediation.trim_end()));
    }
    emit(None, out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The reference pattern `benchmark` decides by, then the other versions' (with their sources).
fn explain_references(r: &engine::RuleMeta, benchmark: &str) -> String {
    let mut out = String::new();
    let name = engine::benchmark::find(benchmark).map_or(benchmark, |b| b.name);
    let Some(chosen) = r.reference_for(benchmark) else {
        return out;
    };
    let label = |x: &engine::Reference| engine::benchmark::label(&x.benchmarks, &r.frameworks);
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
    let others: Vec<&engine::Reference> = r
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

fn cmd_rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let listed = engine::all_sources(&args.policy_dirs, true).and_then(|s| engine::checks(&s, &[]));
    let rules = match listed {
        Ok(r) => r,
        Err(e) => return Ok(error_exit(e)),
    };
    for r in rules {
        let frameworks: Vec<String> = r
            .frameworks
            .iter()
            .map(|(k, v)| format!("{k} {}", v.join(",")))
            .collect();
        println!(
            "{:<10} {:<8} {}  [{}]",
            r.id,
            r.severity.as_str(),
            r.title,
            frameworks.join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// -q = -1, default 0, -v = 1, -vv = 2 (set once in main).
static VERBOSITY: std::sync::atomic::AtomicI8 = std::sync::atomic::AtomicI8::new(0);

fn verbosity() -> i8 {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes `bytes` to FILE (atomically) or standard output.
fn emit(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(out) => fsutil::write_atomic(out, bytes)
            .with_context(|| format!("cannot write {}", out.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(bytes).and_then(|_| stdout.flush());
            Ok(())
        }
    }
}

fn cmd_remediate(args: RemediateArgs) -> anyhow::Result<ExitCode> {
    use cwl_audit::remediate::{self, OutputFormat};
    let started = std::time::Instant::now();
    let plan = match remediate::plan(&args.paths) {
        Ok(p) => p,
        Err(e) => return Ok(error_exit(e)),
    };
    if args.output_dir.is_some() && args.format != OutputFormat::Cloudformation {
        return Ok(error_exit("--output-dir needs --format cloudformation"));
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
        eprintln!("error: {e}");
    }
    if verbosity() > 0 {
        eprintln!(
            "remediate: {} account(s) planned in {:.2?}",
            plan.accounts.len(),
            started.elapsed()
        );
    }
    Ok(ExitCode::from(if plan.errors.is_empty() {
        0
    } else {
        EXIT_ERROR
    }))
}

fn cmd_diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    use cwl_audit::diff::{self, OutputFormat};
    let d = match diff::diff(&args.old, &args.new) {
        Ok(d) => d,
        Err(e) => return Ok(error_exit(e)),
    };
    let bytes = match args.format {
        OutputFormat::Text => diff::render_text(&d).into_bytes(),
        OutputFormat::Json => diff::render_json(&d),
    };
    emit(None, &bytes)?;
    // JSON keeps its errors inside; whoever reads the log learns why the exit code is 2.
    if args.format == OutputFormat::Json {
        for e in &d.errors {
            eprintln!("error: {e}");
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

fn cmd_completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "cwl-audit", &mut out);
    emit(None, &out)?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_man(args: ManArgs) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.out_dir)
        .with_context(|| format!("cannot write man pages to {}", args.out_dir.display()))?;
    if verbosity() >= 0 {
        eprintln!("man pages written to {}", args.out_dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "collect"))]
fn cmd_collect(_args: CollectArgs) -> anyhow::Result<ExitCode> {
    Ok(error_exit(
        "this cwl-audit was built without the `collect` feature (evaluator only); use a default build \
         (`cargo install cwl-audit` or `cargo build`), or scripts/collect-with-aws-cli.sh",
    ))
}

#[cfg(feature = "collect")]
fn collect_regions(args: &CollectArgs) -> cwl_audit::collect::Regions {
    use cwl_audit::collect::Regions;
    if args.all_regions {
        Regions::All
    } else if args.regions.is_empty() {
        Regions::Configured
    } else {
        Regions::List(
            args.regions
                .iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
        )
    }
}

/// `collect --organization`: the run, then one line per failed account and a summary.
#[cfg(feature = "collect")]
fn cmd_collect_organization(args: CollectArgs) -> anyhow::Result<ExitCode> {
    use cwl_audit::collect::org::{self, OrgOptions};
    use cwl_audit::collect::{self, Status};
    use cwl_audit::manifest::Status as AccountStatus;
    let is_name = |s: &str, min: usize| {
        (min..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    let role = args.member_role.clone().unwrap_or_default();
    if !is_name(&role, 1) {
        return Ok(error_exit(format!(
            "--member-role {role:?} is not a role name (1-64 letters, digits and +=,.@_-)"
        )));
    }
    if !is_name(&args.role_session_name, 2) {
        return Ok(error_exit(format!(
            "--role-session-name {:?} is not a session name (2-64 letters, digits and +=,.@_-)",
            args.role_session_name
        )));
    }
    let ids = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (accounts, excluded) = (ids(&args.accounts), ids(&args.exclude_accounts));
    for (flag, list) in [("--accounts", &accounts), ("--exclude-accounts", &excluded)] {
        if let Some(bad) = list.iter().find(|a| !collect::is_account_id(a)) {
            return Ok(error_exit(format!(
                "{flag}: {bad:?} is not a 12-digit account id"
            )));
        }
    }
    if let Some(bad) = args.ous.iter().find(|o| !org::is_ou_id(o)) {
        return Ok(error_exit(format!(
            "--ou {bad:?} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
        )));
    }
    let shard = match args.shard.as_deref().map(org::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => return Ok(error_exit(format!("--shard: {e}"))),
    };
    let base = collect::Options {
        out: args.out.clone(),
        profile: args.profile.clone(),
        regions: collect_regions(&args),
        role_arn: None,
        external_id: None,
        endpoint_url: args.endpoint_url.clone(),
        redact_endpoints: args.redact_endpoints,
        concurrency: args.concurrency as usize,
        progress: verbosity() >= 0 && std::io::stderr().is_terminal(),
        max_attempts: args.max_attempts,
        initial_backoff: args
            .retry_initial_backoff_ms
            .map(std::time::Duration::from_millis),
        recorder: None,
    };
    let mut opts = OrgOptions::new(base, role);
    opts.external_id = args.external_id;
    opts.session_name = args.role_session_name;
    opts.ous = args.ous;
    opts.accounts = accounts;
    opts.exclude_accounts = excluded;
    opts.account_concurrency = args.account_concurrency as usize;
    opts.resume = args.resume;
    opts.shard = shard;
    opts.organizations_rate = args.organizations_rate;
    opts.sts_rate = args.sts_rate;
    opts.stop_after = args.stop_after_accounts;
    let outcome = match org::run(&opts) {
        Ok(o) => o,
        Err(e) => return Ok(error_exit(e)),
    };
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    if verbosity() > 0 {
        for (account, region, e) in &outcome.errors {
            let resource = e
                .resource
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            eprintln!(
                "error: {account} {region}: {} {}{resource}: {}: {}",
                e.service, e.operation, e.code, e.message
            );
        }
    }
    let label = |a: &cwl_audit::manifest::Account| match &a.name {
        Some(n) => format!("{} ({n})", a.account_id),
        None => a.account_id.clone(),
    };
    for a in outcome.accounts_with(AccountStatus::Failed) {
        if let Some(e) = &a.error {
            eprintln!(
                "error: account {} failed: {}: {}{}",
                label(a),
                e.operation,
                e.code,
                e.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
    }
    for a in outcome.accounts_with(AccountStatus::Partial) {
        let n = outcome
            .errors
            .iter()
            .filter(|(id, _, _)| *id == a.account_id)
            .count();
        eprintln!(
            "warning: account {} is partial: {}",
            label(a),
            if n > 0 {
                format!(
                    "{n} call{} failed (recorded in its snapshots' `errors`)",
                    if n == 1 { "" } else { "s" }
                )
            } else {
                "some calls failed in an earlier run (see its snapshots' `errors`)".to_string()
            }
        );
    }
    let count = |s| outcome.accounts_with(s).len();
    if verbosity() >= 0 {
        let m = &outcome.manifest;
        let mut parts = vec![
            format!("{} collected", count(AccountStatus::Collected)),
            format!("{} partial", count(AccountStatus::Partial)),
            format!("{} failed", count(AccountStatus::Failed)),
            format!("{} skipped", count(AccountStatus::Skipped)),
        ];
        if m.shard.is_some() {
            parts.push(format!(
                "{} in other shards",
                count(AccountStatus::OtherShard)
            ));
        }
        if count(AccountStatus::Pending) > 0 {
            parts.push(format!("{} pending", count(AccountStatus::Pending)));
        }
        eprintln!(
            "organization {}: {} account{}: {}{}; manifest {}",
            m.organization.id,
            m.accounts.len(),
            if m.accounts.len() == 1 { "" } else { "s" },
            parts.join(", "),
            if outcome.kept > 0 {
                format!(" ({} kept from the resumed run)", outcome.kept)
            } else {
                String::new()
            },
            outcome.manifest_path.display()
        );
    }
    if outcome.interrupted {
        eprintln!(
            "cwl-audit: stopped after {} accounts (--stop-after-accounts); `--resume` finishes the run",
            args.stop_after_accounts.unwrap_or(0)
        );
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(match outcome.status {
        Status::Complete => ExitCode::SUCCESS,
        Status::Partial => {
            eprintln!(
                "cwl-audit: partial collection: {} account{} failed or partial (see the manifest; eval reports them as unknown); `--resume` collects them again",
                count(AccountStatus::Failed) + count(AccountStatus::Partial),
                if count(AccountStatus::Failed) + count(AccountStatus::Partial) == 1 { "" } else { "s" }
            );
            ExitCode::from(EXIT_PARTIAL)
        }
        Status::Unusable => error_exit(
            "nothing usable was collected: every account failed (see the errors above; `cwl-audit iam-policy --organization` prints the permissions needed)",
        ),
    })
}

#[cfg(feature = "collect")]
fn cmd_collect(args: CollectArgs) -> anyhow::Result<ExitCode> {
    use cwl_audit::collect::{self, Status};
    if args.organization {
        return cmd_collect_organization(args);
    }
    let regions = collect_regions(&args);
    let opts = collect::Options {
        out: args.out.clone(),
        profile: args.profile,
        regions,
        role_arn: args.role_arn,
        external_id: args.external_id,
        endpoint_url: args.endpoint_url,
        redact_endpoints: args.redact_endpoints,
        concurrency: args.concurrency as usize,
        progress: verbosity() >= 0 && std::io::stderr().is_terminal(),
        max_attempts: args.max_attempts,
        initial_backoff: args
            .retry_initial_backoff_ms
            .map(std::time::Duration::from_millis),
        recorder: None,
    };
    let outcome = match collect::run(&opts) {
        Ok(o) => o,
        Err(e) => return Ok(error_exit(e)),
    };
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    for (region, why) in &outcome.skipped {
        eprintln!("note: region {region} skipped: {why}");
    }
    for (region, e) in &outcome.errors {
        let resource = e
            .resource
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        eprintln!(
            "error: {region}: {} {}{resource}: {}: {}",
            e.service, e.operation, e.code, e.message
        );
    }
    if verbosity() > 0 {
        for r in &outcome.regions {
            eprintln!(
                "region {}: {} calls ({} failed) in {:.2} s",
                r.region,
                r.successes + r.failures,
                r.failures,
                r.elapsed.as_secs_f64()
            );
        }
    }
    let dir = args.out.join(&outcome.account_id);
    if verbosity() >= 0 {
        eprintln!(
            "account {} ({}): {} snapshot{} written to {}, {} call{} failed",
            outcome.account_id,
            outcome.partition,
            outcome.written.len(),
            if outcome.written.len() == 1 { "" } else { "s" },
            dir.display(),
            outcome.errors.len(),
            if outcome.errors.len() == 1 { "" } else { "s" },
        );
    }
    Ok(match outcome.status {
        Status::Complete => ExitCode::SUCCESS,
        Status::Partial => {
            eprintln!(
                "cwl-audit: partial collection: {} call{} failed (recorded in the snapshots' `errors`; eval reports what depends on them as unknown)",
                outcome.errors.len(),
                if outcome.errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(EXIT_PARTIAL)
        }
        Status::Unusable => error_exit(format!(
            "nothing usable was collected: every call failed (see the errors above; `cwl-audit iam-policy` prints the permissions needed){}",
            if outcome.written.is_empty() { String::new() } else { format!("; the snapshots in {} record the failures", dir.display()) }
        )),
    })
}

fn cmd_iam_policy(args: IamPolicyArgs) -> anyhow::Result<ExitCode> {
    let role = &args.member_role;
    if role.is_empty()
        || role.len() > 64
        || !role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return Ok(error_exit(format!(
            "--member-role {role:?} is not a role name (1-64 letters, digits and +=,.@_-)"
        )));
    }
    let text = if !args.organization {
        cwl_audit::iam::policy_json()
    } else if args.stackset {
        cwl_audit::iam::stackset_template(&args.member_role)
    } else {
        cwl_audit::iam::organization_policies_json(&args.partition, &args.member_role)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
    Ok(ExitCode::SUCCESS)
}

fn cmd_builtin() -> anyhow::Result<ExitCode> {
    use cwl_audit::engine::builtins;
    use std::io::BufRead as _;
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line?;
        let answer = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(q) if q["list"] == true => serde_json::json!({ "builtins": builtins::BUILTINS }),
            Ok(q) if q["benchmarks"] == true => serde_json::json!({
                "benchmarks": engine::benchmark::BENCHMARKS.iter().map(|b| b.id).collect::<Vec<_>>(),
                "default": engine::benchmark::DEFAULT,
            }),
            // What `eval --benchmark ID` gives the built-in policies as data (tests/opa-crosscheck.py
            // passes the same to OPA).
            Ok(q) if q["benchmark_data"].is_string() => {
                let id = q["benchmark_data"].as_str().unwrap_or_default();
                match engine::checks(&engine::builtin_sources(), &[]) {
                    Ok(_) if engine::benchmark::find(id).is_none() => serde_json::json!({
                        "error": format!("unknown benchmark {id} (choose one of {})", engine::benchmark::ids())
                    }),
                    Ok(checks) => {
                        match serde_json::to_value(engine::benchmark::data(&checks, id)) {
                            Ok(v) => serde_json::json!({ "result": v }),
                            Err(e) => serde_json::json!({ "error": e.to_string() }),
                        }
                    }
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            }
            Ok(q) => {
                let name = q["name"].as_str().unwrap_or_default();
                let args: Vec<regorus::Value> = q["args"]
                    .as_array()
                    .map(|a| a.iter().map(|v| regorus::Value::from(v.clone())).collect())
                    .unwrap_or_default();
                match builtins::call(name, args).and_then(|v| Ok(serde_json::to_value(v)?)) {
                    Ok(v) => serde_json::json!({ "result": v }),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            }
            Err(e) => serde_json::json!({ "error": format!("not a JSON call: {e}") }),
        };
        writeln!(stdout, "{answer}")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
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
    VERBOSITY.store(
        if cli.quiet {
            -1
        } else {
            cli.verbose.min(2) as i8
        },
        std::sync::atomic::Ordering::Relaxed,
    );
    let outcome = match cli.command {
        Command::Eval(a) => cmd_eval(a),
        Command::Test(a) => cmd_test(a),
        Command::Rules(a) => cmd_rules(a),
        Command::Explain(a) => cmd_explain(a),
        Command::Remediate(a) => cmd_remediate(a),
        Command::Diff(a) => cmd_diff(a),
        Command::Completions(a) => cmd_completions(a),
        Command::Man(a) => cmd_man(a),
        Command::Collect(a) => cmd_collect(*a),
        Command::IamPolicy(a) => cmd_iam_policy(a),
        Command::Builtin => cmd_builtin(),
    };
    outcome.unwrap_or_else(|e| error_exit(format!("{e:#}")))
}
