//! `cwl-audit collect`: one account, or with `--organization` every account of an organization,
//! into snapshots (and the run manifest); read-only.
use super::messages::fail;
#[cfg(feature = "collect")]
use super::messages::{self, verbosity};
#[cfg(feature = "collect")]
use super::EXIT_PARTIAL;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("assume").args(["role_arn", "organization"])))]
pub struct Args {
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
    /// Bound of one call in seconds, every attempt and backoff included (an attempt alone is
    /// bounded by 30 s, a connection by 10 s). A call that runs out is recorded as TimeoutError.
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    call_timeout: u64,
    /// Bound of the whole run in seconds; 0 for none. Default: 3600 for one account; 19800 (5 h 30
    /// min, under GitHub's 6 h job limit) for --organization, which then stops with a true manifest
    /// (exit 3) that --resume finishes.
    #[arg(long, value_name = "SECS")]
    time_limit: Option<u64>,
    /// First retry backoff in milliseconds (tests).
    #[arg(long, hide = true, value_name = "MS")]
    retry_initial_backoff_ms: Option<u64>,
    // -q/--quiet (global): no progress line and no summary; warnings and errors are still printed.
}

#[cfg(not(feature = "collect"))]
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    Err(fail(
        "this cwl-audit was built without the `collect` feature (evaluator only); install the default \
         build (the same `cargo install` without `--no-default-features`), or collect with \
         scripts/collect-with-aws-cli.sh (the AWS CLI and jq only)",
    ))
}

/// `--time-limit`: the mode's default when not given, none for 0.
#[cfg(feature = "collect")]
fn time_limit(given: Option<u64>, default: std::time::Duration) -> Option<std::time::Duration> {
    match given {
        None => Some(default),
        Some(0) => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
    }
}

#[cfg(feature = "collect")]
fn collect_regions(args: &Args) -> cwl_audit::collect::Regions {
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
fn run_organization(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::collect::org::{self, OrgOptions};
    use cwl_audit::collect::{self, Completeness};
    use cwl_audit::manifest::Status as AccountStatus;
    let is_name = |s: &str, min: usize| {
        (min..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    let role = args.member_role.clone().unwrap_or_default();
    if !cwl_audit::arn::is_role_name(&role) {
        return Err(fail(format!(
            "--member-role {role:?} is not a role name (1-64 letters, digits and +=,.@_-)"
        )));
    }
    if !is_name(&args.role_session_name, 2) {
        return Err(fail(format!(
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
    // `--accounts "$TARGETS"` with an empty variable must not widen a scoped run to every account.
    if !args.accounts.is_empty() && accounts.is_empty() {
        return Err(fail(
            "--accounts is empty: name at least one account id (leave the flag out to collect every account)",
        ));
    }
    for (flag, list) in [("--accounts", &accounts), ("--exclude-accounts", &excluded)] {
        if let Some(bad) = list.iter().find(|a| !cwl_audit::arn::is_account_id(a)) {
            return Err(fail(format!(
                "{flag}: {bad:?} is not a 12-digit account id"
            )));
        }
    }
    if let Some(bad) = args.ous.iter().find(|o| !org::is_ou_id(o)) {
        return Err(fail(format!(
            "--ou {bad:?} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
        )));
    }
    let shard = match args.shard.as_deref().map(org::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => return Err(fail(format!("--shard: {e}"))),
    };
    let base = collect::CollectOptions {
        out: args.out.clone(),
        profile: args.profile.clone(),
        regions: collect_regions(&args),
        role_arn: None,
        external_id: None,
        endpoint_url: args.endpoint_url.clone(),
        redact_endpoints: args.redact_endpoints,
        concurrency: args.concurrency as usize,
        progress: verbosity() >= 0 && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        max_attempts: args.max_attempts,
        initial_backoff: args
            .retry_initial_backoff_ms
            .map(std::time::Duration::from_millis),
        recorder: None,
        call_timeout: std::time::Duration::from_secs(args.call_timeout),
        time_limit: time_limit(args.time_limit, org::DEFAULT_ORG_TIME_LIMIT),
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
        Err(e) => return Err(fail(e)),
    };
    for w in &outcome.warnings {
        messages::warning(w);
    }
    if verbosity() > 0 {
        for (account, region, e) in &outcome.errors {
            let resource = e
                .resource
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            messages::error(format!(
                "{account} {region}: {} {}{resource}: {}: {}",
                e.service, e.operation, e.code, e.message
            ));
        }
    }
    let label = |a: &cwl_audit::manifest::Account| match &a.name {
        Some(n) => format!("{} ({n})", a.account_id),
        None => a.account_id.clone(),
    };
    for a in outcome.accounts_with(AccountStatus::Failed) {
        if let Some(e) = &a.error {
            messages::error(format!(
                "account {} failed: {}: {}{}",
                label(a),
                e.operation,
                e.code,
                e.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
        }
    }
    for a in outcome.accounts_with(AccountStatus::Partial) {
        let n = outcome
            .errors
            .iter()
            .filter(|(id, _, _)| *id == a.account_id)
            .count();
        messages::warning(format!(
            "account {} is partial: {}",
            label(a),
            if n > 0 {
                format!(
                    "{n} call{} failed (recorded in its snapshots' `errors`)",
                    cwl_audit::text::plural_s(n)
                )
            } else {
                "some calls failed in an earlier run (see its snapshots' `errors`)".to_string()
            }
        ));
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
        messages::status(format!(
            "organization {}: {} account{}: {}{}; manifest {}",
            m.organization.id,
            m.accounts.len(),
            cwl_audit::text::plural_s(m.accounts.len()),
            parts.join(", "),
            if outcome.kept > 0 {
                format!(" ({} kept from the resumed run)", outcome.kept)
            } else {
                String::new()
            },
            outcome.manifest_path.display()
        ));
    }
    if let Some(why) = outcome.interrupted {
        let why = match why {
            org::Interruption::TimeLimit(s) => format!("at --time-limit {s} s"),
            org::Interruption::StopAfter(n) => {
                format!("after {n} accounts (--stop-after-accounts)")
            }
        };
        messages::warning(format!(
            "stopped {why}; the manifest lists the accounts not done as pending, and `--resume` finishes the run"
        ));
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(match outcome.status {
        Completeness::Complete => ExitCode::SUCCESS,
        Completeness::Partial => {
            let invalid = &outcome.manifest.invalid_account_ids;
            if !invalid.is_empty() {
                // Not something --resume can fix: Organizations itself lists these.
                messages::error(format!(
                    "Organizations listed account ids that are not 12 digits ({}): not collected, and eval reports the organization as not proven until they are gone",
                    invalid.join(", ")
                ));
            }
            let bad = count(AccountStatus::Failed) + count(AccountStatus::Partial);
            if bad > 0 || invalid.is_empty() {
                messages::warning(format!(
                    "partial collection: {bad} account{} failed or partial (see the manifest; eval reports what depends on the failed calls as unknown); `--resume` collects them again",
                    cwl_audit::text::plural_s(bad)
                ));
            }
            ExitCode::from(EXIT_PARTIAL)
        }
        Completeness::Unusable if count(AccountStatus::Skipped) == outcome.manifest.accounts.len() => {
            return Err(fail(format!(
                "no account to collect: every account of the organization is skipped (see the reasons in {}; --ou, --accounts and --exclude-accounts select)",
                outcome.manifest_path.display()
            )))
        }
        Completeness::Unusable => return Err(fail(
            "nothing usable was collected: every account failed (see the errors above; `cwl-audit iam-policy --organization` prints the permissions needed)",
        )),
    })
}

#[cfg(feature = "collect")]
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use cwl_audit::collect::{self, Completeness};
    if args.organization {
        return run_organization(args);
    }
    let regions = collect_regions(&args);
    let opts = collect::CollectOptions {
        out: args.out.clone(),
        profile: args.profile,
        regions,
        role_arn: args.role_arn,
        external_id: args.external_id,
        endpoint_url: args.endpoint_url,
        redact_endpoints: args.redact_endpoints,
        concurrency: args.concurrency as usize,
        progress: verbosity() >= 0 && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        max_attempts: args.max_attempts,
        initial_backoff: args
            .retry_initial_backoff_ms
            .map(std::time::Duration::from_millis),
        recorder: None,
        call_timeout: std::time::Duration::from_secs(args.call_timeout),
        time_limit: time_limit(args.time_limit, collect::DEFAULT_TIME_LIMIT),
    };
    let outcome = match collect::run(&opts) {
        Ok(o) => o,
        Err(e) => return Err(fail(e)),
    };
    for w in &outcome.warnings {
        messages::warning(w);
    }
    for (region, why) in &outcome.skipped {
        messages::note(format!("region {region} skipped: {why}"));
    }
    for (region, e) in &outcome.errors {
        let resource = e
            .resource
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        messages::error(format!(
            "{region}: {} {}{resource}: {}: {}",
            e.service, e.operation, e.code, e.message
        ));
    }
    if verbosity() > 0 {
        for r in &outcome.regions {
            messages::status(format!(
                "region {}: {} calls ({} failed) in {:.2} s",
                r.region,
                r.successes + r.failures,
                r.failures,
                r.elapsed.as_secs_f64()
            ));
        }
    }
    let dir = args.out.join(&outcome.account_id);
    if verbosity() >= 0 {
        messages::status(format!(
            "account {} ({}): {} snapshot{} written to {}, {} call{} failed",
            outcome.account_id,
            outcome.partition,
            outcome.written.len(),
            cwl_audit::text::plural_s(outcome.written.len()),
            dir.display(),
            outcome.errors.len(),
            cwl_audit::text::plural_s(outcome.errors.len()),
        ));
    }
    Ok(match outcome.status {
        Completeness::Complete => ExitCode::SUCCESS,
        Completeness::Partial => {
            messages::warning(format!(
                "partial collection: {} call{} failed (recorded in the snapshots' `errors`; eval reports what depends on them as unknown)",
                outcome.errors.len(),
                cwl_audit::text::plural_s(outcome.errors.len())
            ));
            ExitCode::from(EXIT_PARTIAL)
        }
        Completeness::Unusable => return Err(fail(format!(
            "nothing usable was collected: every call failed (see the errors above; `cwl-audit iam-policy` prints the permissions needed){}",
            if outcome.written.is_empty() { String::new() } else { format!("; the snapshots in {} record the failures", dir.display()) }
        ))),
    })
}

pub const HELP: &str = "Exit codes: 0 complete, 3 partial (failed calls are recorded in the snapshots' `errors`; with --organization: some accounts failed or are partial, see the manifest), 2 nothing usable (e.g. no credentials).\n\nExamples:\n  cwl-audit collect --out snapshots/ --all-regions\n  cwl-audit collect --out snapshots/ --profile audit --regions us-east-1,eu-west-1\n  cwl-audit collect --out snapshots/ --role-arn arn:aws:iam::123456789012:role/Audit --external-id X --all-regions\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --all-regions\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --all-regions --resume\n  cwl-audit collect --organization --member-role CwlAuditReadOnly --out snapshots/ --ou ou-ab12-cdef3456 --shard 2/4\n  cwl-audit iam-policy   # the permissions it needs (--organization: both sides and a StackSet)";
