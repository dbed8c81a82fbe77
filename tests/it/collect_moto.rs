//! `collect` against a real AWS emulator (moto in server mode): seeded scenarios are collected and
//! evaluated, collections are reproducible, failed calls become snapshot `errors` and `unknown`
//! verdicts, and the operations performed are exactly the IAM policy's.
//!
//! Needs moto: `make test` installs it into .venv and sets CWL_AUDIT_PYTHON. Without it these tests
//! fail with instructions; CWL_AUDIT_SKIP_EMULATOR=1 skips them explicitly.
#![cfg(feature = "collect")]
use crate::support::emulator;

/// This module's moto server.
#[cfg(feature = "collect")]
static EMULATOR: emulator::Emulator = emulator::Emulator::new();

use cwl_audit::collect::{self, CollectOptions, Completeness, Recorder, Regions};
use cwl_audit::eval;
use cwl_audit::findings::{Finding, Verdict};
use emulator::{collect, collect_as, error_response, test_env, Request, ACCOUNT};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The CWL-014 finding of the emulator's account, from the snapshots below `dir`.
fn verdict(dir: &Path) -> Finding {
    let r = eval::run(&eval::EvalOptions {
        rules: vec!["CWL-014".into()],
        ..eval::EvalOptions::new(vec![dir.to_path_buf()])
    })
    .expect("policies compile");
    assert!(
        r.notifications.is_empty() || !r.has_errors(),
        "snapshots must load without errors: {:#?}",
        r.notifications
    );
    let mine: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.account_id == ACCOUNT)
        .collect();
    assert_eq!(mine.len(), 1, "{:#?}", r.findings);
    mine[0].clone()
}

/// Loads a written snapshot with the evaluator's loader (schema check) and as plain JSON.
fn snapshot(dir: &Path, region: &str) -> Value {
    let path = dir.join(ACCOUNT).join(format!("{region}.json"));
    if let Err(e) = cwl_audit::snapshot::load_file(&path) {
        panic!("{} does not load: {e}", path.display());
    }
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[track_caller]
fn assert_verdict(f: &Finding, verdict: Verdict, part: &str) {
    assert_eq!(f.verdict, verdict, "{}", f.message);
    assert!(f.message.contains(part), "{:?} lacks {:?}", f.message, part);
}

#[test]
fn seeded_scenarios_give_the_expected_verdicts() {
    let cases: &[(&str, Verdict, &str)] = &[
        ("compliant", Verdict::Pass, "alarm RootAccountUsageAlarm -> topic RootAccountUsageAlerts (1 confirmed subscription)"),
        ("advanced-selectors", Verdict::Pass, "trail management-events ->"),
        ("weak-filter", Verdict::Fail, "filter RootAccountUsage also matches events of other identities"),
        ("trail-stopped", Verdict::Fail, "is not logging (IsLogging=false)"),
        ("single-region-trail", Verdict::Fail, "is single-region"),
        ("write-only", Verdict::Fail, "records only WriteOnly management events"),
        ("actions-disabled", Verdict::Fail, "has ActionsEnabled=false"),
        ("no-subscription", Verdict::Fail, "has no subscriptions"),
        ("two-regions", Verdict::Pass, "log group CloudTrail/eu-management-events (123456789012, eu-west-1)"),
        ("alarm-other-region", Verdict::Fail, "metrics are regional"),
        ("organization-trail", Verdict::Pass, "trail organization-trail ->"),
    ];
    for (scenario, expected, part) in cases {
        let Some(moto) = EMULATOR.get() else { return };
        moto.seed(&[scenario]);
        let out = tempfile::tempdir().unwrap();
        let o = collect(
            &moto.endpoint(),
            out.path(),
            &["--regions", "us-east-1,eu-west-1"],
        );
        assert_eq!(o.status.code(), Some(0), "{scenario}: {}", stderr(&o));
        for region in ["us-east-1", "eu-west-1"] {
            let s = snapshot(out.path(), region);
            assert_eq!(s["errors"], serde_json::json!([]), "{scenario} {region}");
            assert!(
                s["cloudtrail"]["trailList"].is_array(),
                "{scenario} {region}"
            );
        }
        let f = verdict(out.path());
        assert_eq!(f.verdict, *expected, "{scenario}: {}", f.message);
        assert!(
            f.message.contains(part),
            "{scenario}: {:?} lacks {part:?}",
            f.message
        );
    }
}

#[test]
fn snapshot_has_the_contract_shape() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["two-regions"]);
    let out = tempfile::tempdir().unwrap();
    let o = collect(
        &moto.endpoint(),
        out.path(),
        &["--regions", "eu-west-1,us-east-1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let home = snapshot(out.path(), "eu-west-1");
    let arn = format!("arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/eu-management-events");
    assert_eq!(home["format"], "cwl-audit.snapshot/v1");
    assert_eq!(home["account_id"], ACCOUNT);
    assert_eq!(home["partition"], "aws");
    assert_eq!(home["region"], "eu-west-1");
    assert_eq!(home["collector"]["name"], "cwl-audit");
    assert_eq!(home["cloudtrail"]["trailList"][0]["TrailARN"], arn.as_str());
    assert_eq!(home["cloudtrail"]["status"][&arn]["IsLogging"], true);
    assert_eq!(
        home["cloudtrail"]["selectors"][&arn]["EventSelectors"][0]["ReadWriteType"],
        "All"
    );
    assert_eq!(
        home["logs"]["metricFilters"][0]["filterName"],
        "RootAccountUsage"
    );
    assert_eq!(home["cloudwatch"]["MetricAlarms"][0]["Threshold"], 1.0);
    assert_eq!(home["cloudwatch"]["CompositeAlarms"], serde_json::json!([]));
    assert!(home["sns"]["Subscriptions"][0]["SubscriptionArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:sns:eu-west-1:"));
    // ISO-8601 timestamps, as the AWS CLI prints them.
    let ts = home["cloudwatch"]["MetricAlarms"][0]["StateUpdatedTimestamp"]
        .as_str()
        .unwrap();
    assert!(
        ts.len() >= 20 && ts.ends_with('Z') && &ts[10..11] == "T",
        "{ts}"
    );
    // The other region sees the shadow trail only: no per-trail calls there.
    let other = snapshot(out.path(), "us-east-1");
    assert_eq!(
        other["cloudtrail"]["trailList"][0]["TrailARN"],
        arn.as_str()
    );
    assert_eq!(other["cloudtrail"]["status"], serde_json::json!({}));
    assert_eq!(other["cloudtrail"]["selectors"], serde_json::json!({}));
    assert_eq!(other["logs"]["metricFilters"], serde_json::json!([]));
}

/// Strips the only line allowed to differ between two collections of an unchanged account, and the
/// two that moto itself changes: it reports the time of each GetTrailStatus as the last delivery.
fn without_collected_at(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !(l.starts_with("\"collected_at\"")
                || l.starts_with("\"LatestDeliveryTime\"")
                || l.starts_with("\"LatestDeliveryAttemptTime\""))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn two_collections_are_identical_apart_from_collected_at() {
    let Some(moto) = EMULATOR.get() else { return };
    // Several items per list, so order matters: two trails, two filters, alarms, subscriptions.
    moto.seed(&["compliant", "two-regions"]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--regions", "us-east-1,eu-west-1", "--concurrency", "2"];
    assert_eq!(
        collect(&moto.endpoint(), a.path(), &args).status.code(),
        Some(0)
    );
    std::thread::sleep(Duration::from_millis(1100));
    let o = collect(&moto.endpoint(), b.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for region in ["us-east-1", "eu-west-1"] {
        let (pa, pb) = (
            a.path().join(ACCOUNT).join(format!("{region}.json")),
            b.path().join(ACCOUNT).join(format!("{region}.json")),
        );
        assert_ne!(
            std::fs::read(&pa).unwrap(),
            std::fs::read(&pb).unwrap(),
            "collected_at differs (a second apart)"
        );
        assert_eq!(
            without_collected_at(&pa),
            without_collected_at(&pb),
            "{region}"
        );
        // Written sorted: keys in order, and the trails by TrailARN.
        let v = snapshot(a.path(), region);
        let trails: Vec<&str> = v["cloudtrail"]["trailList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["TrailARN"].as_str().unwrap())
            .collect();
        assert_eq!(trails.len(), 2, "{region}");
        let mut sorted = trails.clone();
        sorted.sort();
        assert_eq!(trails, sorted);
        let text = std::fs::read_to_string(&pa).unwrap();
        assert_eq!(
            text,
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        );
    }
}

fn options(
    endpoint: String,
    out: &Path,
    regions: Regions,
    recorder: &Arc<Recorder>,
) -> CollectOptions {
    CollectOptions {
        out: out.to_path_buf(),
        regions,
        endpoint_url: Some(endpoint),
        concurrency: 4,
        max_attempts: 3,
        initial_backoff: Some(Duration::from_millis(10)),
        recorder: Some(recorder.clone()),
        ..CollectOptions::default()
    }
}

#[test]
fn recorded_operations_are_exactly_the_iam_policy() {
    let Some(moto) = EMULATOR.get() else { return };
    test_env();
    moto.seed(&["compliant"]);
    let out = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::new());
    // --all-regions: moto has no Account API, so this also exercises the built-in fallback list.
    let outcome = collect::run(&options(
        moto.endpoint(),
        out.path(),
        Regions::All,
        &recorder,
    ))
    .expect("collect");
    // The failed ListRegions is the one failed call: the collection is partial (opt-in regions
    // may be missing), never complete.
    assert_eq!(
        outcome.status,
        Completeness::Partial,
        "{:#?}",
        outcome.errors
    );
    assert_eq!(outcome.errors.len(), 1, "{:#?}", outcome.errors);
    assert_eq!(outcome.errors[0].0, "(account)");
    assert_eq!(outcome.errors[0].1.operation, "ListRegions");
    let fallback = collect::default_enabled_regions("aws");
    assert_eq!(outcome.written.len(), fallback.len());
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("Account ListRegions")),
        "{:?}",
        outcome.warnings
    );
    for r in fallback {
        snapshot(out.path(), r);
    }

    let recorded = recorder.operations();
    assert!(!recorded.is_empty());
    let mut used = BTreeSet::new();
    for (service, op) in &recorded {
        assert!(is_read(op), "{service} {op} is not a read operation");
        let known = cwl_audit::iam::lookup(service, op)
            .unwrap_or_else(|| panic!("{service} {op} is performed but not in src/iam.rs"));
        if let Some(action) = known.action {
            used.insert(action);
        }
    }
    let policy: BTreeSet<&str> = cwl_audit::iam::actions().into_iter().collect();
    assert_eq!(used, policy, "recorded operations: {recorded:?}");
    // And the printed policy is the same list.
    let printed: Value = serde_json::from_str(&cwl_audit::iam::policy_json()).unwrap();
    let printed: BTreeSet<&str> = printed["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(printed, policy);
    // Every call was recorded: one DescribeTrails per region, status and selectors for the one home trail.
    let count = |op: &str| recorded.iter().filter(|(_, o)| o == op).count();
    assert_eq!(count("DescribeTrails"), fallback.len());
    assert_eq!(count("GetTrailStatus"), 1);
    assert_eq!(count("GetEventSelectors"), 1);
    assert_eq!(count("GetCallerIdentity"), 1);
}

#[test]
fn readme_shows_the_printed_iam_policy() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cwl-audit"))
        .arg("iam-policy")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let policy = String::from_utf8(o.stdout).unwrap();
    assert_eq!(policy, cwl_audit::iam::policy_json());
    let readme = std::fs::read_to_string(emulator::root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```json\n{policy}```")),
        "README must show `cwl-audit iam-policy` output verbatim:\n{policy}"
    );
}

#[test]
fn denied_call_is_recorded_and_gives_unknown() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    // The real policy minus sns:ListSubscriptions. moto checks CloudWatch as `monitoring:*`, the
    // service's old IAM prefix, so that action is added for moto's sake.
    let mut actions: Vec<&str> = cwl_audit::iam::actions()
        .into_iter()
        .filter(|a| *a != "sns:ListSubscriptions")
        .collect();
    actions.push("monitoring:DescribeAlarms");
    let (key, secret) = moto.restricted_user(&actions);
    let out = tempfile::tempdir().unwrap();
    let o = collect_as(
        &moto.endpoint(),
        out.path(),
        &["--regions", "us-east-1"],
        (&key, &secret),
    );
    assert_eq!(o.status.code(), Some(3), "partial: {}", stderr(&o));
    assert!(
        stderr(&o).contains("error: us-east-1: sns ListSubscriptions: AccessDenied"),
        "{}",
        stderr(&o)
    );
    let s = snapshot(out.path(), "us-east-1");
    assert!(
        s.get("sns").is_none(),
        "a failed call's section is absent, not empty: {}",
        s["sns"]
    );
    let errors = s["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["service"], "sns");
    assert_eq!(errors[0]["operation"], "ListSubscriptions");
    assert_eq!(errors[0]["code"], "AccessDenied");
    assert_eq!(errors[0]["resource"], Value::Null);
    // Everything else was collected.
    assert_eq!(s["cloudwatch"]["MetricAlarms"].as_array().unwrap().len(), 1);
    assert_eq!(s["logs"]["metricFilters"].as_array().unwrap().len(), 1);
    assert_verdict(
        &verdict(out.path()),
        Verdict::Unknown,
        "ListSubscriptions failed: AccessDenied",
    );
}

#[test]
fn everything_denied_is_nothing_usable() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let (key, secret) = moto.restricted_user(&["s3:ListAllMyBuckets"]);
    let out = tempfile::tempdir().unwrap();
    let o = collect_as(
        &moto.endpoint(),
        out.path(),
        &["--regions", "us-east-1"],
        (&key, &secret),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing usable was collected"),
        "{}",
        stderr(&o)
    );
    // The snapshot still records what was denied, and eval never passes it.
    let s = snapshot(out.path(), "us-east-1");
    assert_eq!(s["errors"].as_array().unwrap().len(), 4);
    assert_eq!(verdict(out.path()).verdict, Verdict::Unknown);
}

#[test]
fn no_credentials_is_exit_2_with_a_clear_message() {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cwl-audit"));
    cmd.args([
        "collect",
        "--regions",
        "us-east-1",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--out",
    ])
    .arg(out.path());
    emulator::aws_env(&mut cmd, "x", "x");
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot identify the account: STS GetCallerIdentity failed"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

/// A loopback listener that accepts connections and never answers (a black-holed endpoint).
fn silent_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming().flatten() {
            held.push(c);
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn an_endpoint_that_never_answers_is_a_clear_error_in_bounded_time() {
    let endpoint = silent_endpoint();
    for (mode, extra) in [
        ("one account, --call-timeout", vec!["--call-timeout", "2"]),
        (
            "one account, --time-limit",
            vec!["--call-timeout", "600", "--time-limit", "2"],
        ),
        (
            "organization, --call-timeout",
            vec![
                "--organization",
                "--member-role",
                "R",
                "--call-timeout",
                "2",
            ],
        ),
        (
            "organization, --time-limit",
            vec![
                "--organization",
                "--member-role",
                "R",
                "--call-timeout",
                "600",
                "--time-limit",
                "2",
            ],
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let mut args = vec!["--regions", "us-east-1"];
        args.extend(extra);
        let o = collect(&endpoint, out.path(), &args);
        let took = started.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{mode}: {err}");
        assert!(took < Duration::from_secs(20), "{mode}: took {took:?}");
        let expected = if mode.ends_with("--call-timeout") {
            "STS GetCallerIdentity failed (TimeoutError: "
        } else {
            "the collection did not finish within --time-limit 2 s"
        };
        assert!(err.contains(expected), "{mode}: {err}");
        assert_eq!(err.lines().count(), 1, "{mode}: one line: {err}");
        assert!(
            std::fs::read_dir(out.path()).unwrap().next().is_none(),
            "{mode}: nothing written"
        );
    }
}

#[test]
fn a_misspelt_or_foreign_region_is_a_usage_error() {
    let out = tempfile::tempdir().unwrap();
    // Refused before any call: the endpoint does not exist.
    for org in [false, true] {
        let mut args = vec!["--regions", "us-east-1,eu-wst-1"];
        if org {
            args.extend(["--organization", "--member-role", "R"]);
        }
        let o = collect("http://127.0.0.1:9", out.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).starts_with(
                "cwl-audit: error: --regions: \"eu-wst-1\" is not a region of this release (did you mean eu-west-1?); known regions: "
            ),
            "{}",
            stderr(&o)
        );
    }
    // A region of another partition than the credentials' account: refused after STS.
    let Some(moto) = EMULATOR.get() else { return };
    test_env();
    // The configured region (us-east-1) answers STS: the account is in partition aws.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cwl-audit"));
    cmd.args(["collect", "--regions", "cn-north-1", "--endpoint-url"])
        .arg(moto.endpoint())
        .arg("--out")
        .arg(out.path());
    emulator::aws_env(&mut cmd, "testing", "testing");
    cmd.env("AWS_REGION", "us-east-1");
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "--regions: cn-north-1 is a region of partition aws-cn, but the credentials are of account {ACCOUNT} in partition aws"
        )),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
}

#[test]
fn throttled_call_is_retried() {
    let Some(moto) = EMULATOR.get() else { return };
    test_env();
    moto.seed(&["compliant"]);
    // The first DescribeMetricFilters is throttled (JSON protocol, x-amzn-errortype), then moto answers.
    let throttled = Arc::new(AtomicUsize::new(0));
    let t = throttled.clone();
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(move |req: &Request| {
            (req.operation().as_deref() == Some("DescribeMetricFilters")
                && t.fetch_add(1, Ordering::SeqCst) == 0)
                .then(|| error_response(req, 400, "ThrottlingException", "Rate exceeded"))
        }),
    );
    let out = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::new());
    let outcome = collect::run(&options(
        endpoint,
        out.path(),
        Regions::List(vec!["us-east-1".into()]),
        &recorder,
    ))
    .expect("collect");
    assert_eq!(
        outcome.status,
        Completeness::Complete,
        "{:#?}",
        outcome.errors
    );
    assert_eq!(
        throttled.load(Ordering::SeqCst),
        2,
        "throttled once, then answered"
    );
    let calls = |log: Vec<(String, String)>| {
        log.iter()
            .filter(|(_, op)| op == "DescribeMetricFilters")
            .count()
    };
    assert_eq!(calls(recorder.operations()), 1, "one call");
    assert_eq!(calls(recorder.attempt_log()), 2, "two attempts");
    assert_verdict(
        &verdict(out.path()),
        Verdict::Pass,
        "filter RootAccountUsage",
    );
}

#[test]
fn persistent_throttling_is_recorded_and_gives_unknown() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(|req: &Request| {
            (req.operation().as_deref() == Some("DescribeAlarms"))
                .then(|| error_response(req, 400, "Throttling", "Rate exceeded"))
        }),
    );
    let out = tempfile::tempdir().unwrap();
    let o = collect(&endpoint, out.path(), &["--regions", "us-east-1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let s = snapshot(out.path(), "us-east-1");
    assert!(s.get("cloudwatch").is_none());
    assert_eq!(s["errors"][0]["operation"], "DescribeAlarms");
    assert_eq!(s["errors"][0]["code"], "Throttling");
    assert_verdict(
        &verdict(out.path()),
        Verdict::Unknown,
        "DescribeAlarms failed: Throttling",
    );
}

#[test]
fn region_not_enabled_is_skipped_with_a_note() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    // An opt-in region that is not enabled rejects the account's credentials.
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(|req: &Request| {
            let code = if req.header("x-amz-target").is_some() {
                "UnrecognizedClientException"
            } else {
                "InvalidClientTokenId"
            };
            (req.signed_region() == Some("ap-east-1")).then(|| {
                error_response(
                    req,
                    403,
                    code,
                    "The security token included in the request is invalid.",
                )
            })
        }),
    );
    let out = tempfile::tempdir().unwrap();
    let o = collect(&endpoint, out.path(), &["--regions", "us-east-1,ap-east-1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: region ap-east-1 skipped: not enabled for this account"),
        "{}",
        stderr(&o)
    );
    assert!(!out.path().join(ACCOUNT).join("ap-east-1.json").exists());
    assert_verdict(
        &verdict(out.path()),
        Verdict::Pass,
        "trail management-events",
    );
}

#[test]
fn redacted_endpoints_still_pass() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let out = tempfile::tempdir().unwrap();
    let o = collect(
        &moto.endpoint(),
        out.path(),
        &["--regions", "us-east-1", "--redact-endpoints", "--quiet"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    let s = snapshot(out.path(), "us-east-1");
    let endpoint = s["sns"]["Subscriptions"][0]["Endpoint"].as_str().unwrap();
    assert!(endpoint.starts_with("redacted:sha256:"), "{endpoint}");
    assert!(
        !std::fs::read_to_string(out.path().join(ACCOUNT).join("us-east-1.json"))
            .unwrap()
            .contains("security@example.com")
    );
    assert_eq!(verdict(out.path()).verdict, Verdict::Pass);
}

/// scripts/collect-with-aws-cli.sh (AWS CLI + jq) gives the same verdicts as `collect`.
#[test]
fn aws_cli_script_gives_the_same_verdicts() {
    let Some(python) = emulator::python() else {
        return;
    };
    let bin = python.parent().unwrap().to_path_buf();
    assert!(
        bin.join("aws").exists(),
        "the AWS CLI is not installed in {} (run `make test`: requirements-test.txt has awscli)",
        bin.display()
    );
    let cases: &[(&[&str], &str)] = &[
        (&["compliant"], "us-east-1,eu-west-1"),
        (&["two-regions"], "us-east-1,eu-west-1"),
        (&["weak-filter"], "us-east-1"),
        (&["actions-disabled"], "us-east-1"),
        (&["trail-stopped"], "us-east-1"),
        (&["advanced-selectors"], "us-east-1"),
        (&["alarm-other-region"], "us-east-1,eu-west-1"),
    ];
    for (scenarios, regions) in cases {
        let Some(moto) = EMULATOR.get() else { return };
        moto.seed(scenarios);
        let (rust, cli) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let o = collect(&moto.endpoint(), rust.path(), &["--regions", regions]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let o = run_cli_script(&bin, &moto.endpoint(), cli.path(), regions);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{scenarios:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        for region in regions.split(',') {
            let (a, b) = (snapshot(rust.path(), region), snapshot(cli.path(), region));
            // The same data, apart from timestamps' spelling and collector.
            for section in ["cloudtrail", "logs", "sns"] {
                assert_eq!(
                    strip_times(&a[section]),
                    strip_times(&b[section]),
                    "{scenarios:?} {region} {section}"
                );
            }
            assert_eq!(
                strip_times(&a["cloudwatch"]),
                strip_times(&b["cloudwatch"]),
                "{scenarios:?} {region} cloudwatch"
            );
            assert_eq!(b["errors"], serde_json::json!([]));
        }
        let (va, vb) = (verdict(rust.path()), verdict(cli.path()));
        assert_eq!(
            (va.verdict, &va.message),
            (vb.verdict, &vb.message),
            "{scenarios:?}"
        );
    }
}

#[test]
fn aws_cli_script_records_a_denied_call() {
    let Some(python) = emulator::python() else {
        return;
    };
    let bin = python.parent().unwrap().to_path_buf();
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(|req: &Request| {
            (req.operation().as_deref() == Some("ListSubscriptions")).then(|| {
                error_response(
                    req,
                    403,
                    "AuthorizationError",
                    "User is not authorized to perform: SNS:ListSubscriptions",
                )
            })
        }),
    );
    let out = tempfile::tempdir().unwrap();
    let o = run_cli_script(&bin, &endpoint, out.path(), "us-east-1");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let s = snapshot(out.path(), "us-east-1");
    assert!(s.get("sns").is_none());
    assert_eq!(s["errors"][0]["operation"], "ListSubscriptions");
    assert_eq!(s["errors"][0]["code"], "AuthorizationError");
    assert_verdict(
        &verdict(out.path()),
        Verdict::Unknown,
        "ListSubscriptions failed: AuthorizationError",
    );
}

fn run_cli_script(bin: &Path, endpoint: &str, out: &Path, regions: &str) -> Output {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(emulator::root().join("scripts/collect-with-aws-cli.sh"))
        .args(["--out"])
        .arg(out)
        .args(["--regions", regions]);
    emulator::aws_env(&mut cmd, "testing", "testing");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).unwrap())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_MAX_ATTEMPTS", "1");
    cmd.output().expect("run the script")
}

/// Drops timestamp-valued members (their spelling differs between the CLI and the SDK, and moto
/// moves some on every read) so the rest can be compared.
fn strip_times(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !(k.ends_with("Time")
                        || k.ends_with("Timestamp")
                        || k.ends_with("Started")
                        || k.ends_with("Stopped"))
                })
                .map(|(k, x)| (k.clone(), strip_times(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_times).collect()),
        // jq may print 1.0 as 1: compare numbers as numbers.
        Value::Number(n) => serde_json::json!(n.as_f64()),
        other => other.clone(),
    }
}

#[test]
fn role_arn_collects_the_role_account() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let out = tempfile::tempdir().unwrap();
    // moto maps an assumed role's credentials to the role's account, which has nothing seeded.
    let o = collect(
        &moto.endpoint(),
        out.path(),
        &[
            "--regions",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::111111111111:role/CwlAudit",
            "--external-id",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !out.path().join(ACCOUNT).exists(),
        "not the caller's account"
    );
    let path = out.path().join("111111111111/us-east-1.json");
    let s = cwl_audit::snapshot::load_file(&path).expect("a valid snapshot");
    assert_eq!(s.account_id, "111111111111");
    let r = eval::run(&eval::EvalOptions::new(vec![out.path().to_path_buf()])).unwrap();
    // One finding per rule (the fifteen CIS monitoring controls), all for the role's account,
    // which has nothing seeded: every one fails.
    assert_eq!(r.findings.len(), 15);
    for f in &r.findings {
        assert_eq!(f.account_id, "111111111111");
        assert_eq!(f.verdict, Verdict::Fail, "{}: {}", f.rule_id, f.message);
    }
}

/// A read-only API operation by its name: AWS names every read Describe*, Get* or List*.
fn is_read(op: &str) -> bool {
    ["Describe", "Get", "List"].iter().any(|p| {
        op.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })
}

#[test]
fn read_operation_names() {
    for op in ["DescribeTrails", "GetTrailStatus", "ListSubscriptions"] {
        assert!(is_read(op), "{op}");
    }
    for op in [
        "PutMetricAlarm",
        "DeleteTrail",
        "Getaway",
        "Subscribe",
        "AssumeRole",
        "",
    ] {
        assert!(!is_read(op), "{op}");
    }
}

/// Every file of the crate's sources (src/, recursively), as (path relative to the root, text).
fn crate_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = emulator::root();
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.push(root.join("build.rs"));
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, text)
        })
        .collect()
}

/// No write call exists anywhere in the code: the only place that sends SDK requests is
/// src/collect/calls.rs, the only place that builds SDK clients is src/collect/aws.rs, and every
/// operation calls.rs invokes (and every operation of src/iam.rs) is a Describe/Get/List.
#[test]
fn no_write_call_anywhere_in_the_sources() {
    let sources = crate_sources();
    assert!(sources.len() > 20, "found the sources: {}", sources.len());
    let sends = regex::Regex::new(
        r"\.send\(\)|\.send_with\(|\.into_paginator\(|\.orchestrate|\.customize\(|invoke_with_stop_point",
    )
    .unwrap();
    let clients = regex::Regex::new(r"Client::(from_conf|new)\(").unwrap();
    for (path, text) in &sources {
        if path != "src/collect/calls.rs" {
            assert!(!sends.is_match(text), "{path} sends SDK requests");
        }
        if path != "src/collect/aws.rs" {
            assert!(!clients.is_match(text), "{path} builds an SDK client");
        }
        if text.contains("aws_sdk_") || text.contains("aws_config") {
            assert!(
                path.starts_with("src/collect/"),
                "{path} uses the AWS SDK outside the collector"
            );
        }
    }
    let calls = &sources
        .iter()
        .find(|(p, _)| p == "src/collect/calls.rs")
        .unwrap()
        .1;
    let methods: Vec<String> = regex::Regex::new(r"\bc\s*\.\s*([a-z_]+)\(\)")
        .unwrap()
        .captures_iter(calls)
        .map(|c| c[1].to_string())
        .collect();
    assert!(!methods.is_empty());
    for m in &methods {
        assert!(
            ["describe_", "get_", "list_"]
                .iter()
                .any(|p| m.starts_with(p)),
            "calls.rs invokes {m}, not a read"
        );
    }
    let org_reads = cwl_audit::iam::ORG_OPERATIONS
        .iter()
        .filter(|o| o.operation != "AssumeRole");
    for o in cwl_audit::iam::OPERATIONS.iter().chain(org_reads) {
        assert!(is_read(o.operation), "src/iam.rs lists {}", o.operation);
        if let Some(action) = o.action {
            let (_, name) = action.split_once(':').unwrap();
            assert!(is_read(name), "src/iam.rs grants {action}");
        }
    }
}

/// Nothing turns on SDK debug logging (which can print request headers): the crate installs no
/// log or tracing subscriber and depends on none, so RUST_LOG has no effect.
#[test]
fn no_log_subscriber_anywhere() {
    for (path, text) in crate_sources() {
        for s in [
            "tracing_subscriber",
            "env_logger",
            "set_logger",
            "set_global_default",
        ] {
            assert!(!text.contains(s), "{path} installs a logger ({s})");
        }
    }
    let manifest = std::fs::read_to_string(emulator::root().join("Cargo.toml")).unwrap();
    // A dependency line starts with its name (`name = ...` or `name.workspace = ...`).
    for line in manifest.lines().map(str::trim) {
        for dep in [
            "tracing-subscriber",
            "env_logger",
            "simple_logger",
            "log4rs",
            "fern",
        ] {
            assert!(
                !line.starts_with(&format!("{dep} ")) && !line.starts_with(&format!("{dep}.")),
                "Cargo.toml depends on {dep}: {line}"
            );
        }
    }
}

/// On the wire, too: every request that reaches the endpoint (seen by a proxy, so also the ones the
/// SDK interceptor does not see, e.g. the credential provider's AssumeRole) is a read, apart from
/// STS AssumeRole with --role-arn, which only obtains credentials.
#[test]
fn every_request_on_the_wire_is_a_read() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(move |req: &Request| {
            log.lock().unwrap().push(wire_operation(req));
            None
        }),
    );
    let out = tempfile::tempdir().unwrap();
    for args in [
        &["--all-regions"][..],
        &[
            "--regions",
            "us-east-1,eu-west-1",
            "--role-arn",
            "arn:aws:iam::111111111111:role/CwlAudit",
        ][..],
    ] {
        let o = collect(&endpoint, out.path(), args);
        // --all-regions: moto has no Account API, so the collection is partial (exit 3).
        let want = if args[0] == "--all-regions" { 3 } else { 0 };
        assert!(o.status.code() == Some(want), "{args:?}: {}", stderr(&o));
    }
    let seen = seen.lock().unwrap().clone();
    for op in &seen {
        assert!(is_read(op) || op == "AssumeRole", "{op} sent: {seen:?}");
    }
    let distinct: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
    for op in [
        "AssumeRole",
        "GetCallerIdentity",
        "ListRegions",
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "DescribeMetricFilters",
        "DescribeAlarms",
        "ListSubscriptions",
    ] {
        assert!(distinct.contains(op), "{op} not seen: {distinct:?}");
    }
}

/// The operation of a request in any AWS protocol: JSON (`X-Amz-Target`), query (`Action=`),
/// Smithy RPC v2 (`/operation/<Name>`) or REST (the last path segment, e.g. `/listRegions`).
fn wire_operation(req: &Request) -> String {
    if let Some(op) = req.operation() {
        return op;
    }
    let path = req.head.split_whitespace().nth(1).unwrap_or("");
    let path = path.split('?').next().unwrap_or(path);
    let last = path.rsplit('/').next().unwrap_or("");
    let mut name = last.to_string();
    if let Some(first) = name.get(..1) {
        name.replace_range(..1, &first.to_ascii_uppercase());
    }
    name
}

/// Read-only by construction: the collector's only SDK calls are in calls.rs, and they are exactly
/// the operations of src/iam.rs (the recorded-operations test checks the same at run time).
#[test]
fn no_call_outside_the_listed_read_operations() {
    let dir = emulator::root().join("src/collect");
    let snake = |op: &str| {
        let mut s = String::new();
        for (i, ch) in op.chars().enumerate() {
            if ch.is_ascii_uppercase() && i > 0 {
                s.push('_');
            }
            s.push(ch.to_ascii_lowercase());
        }
        s
    };
    // AssumeRole is made by aws-config's AssumeRoleProvider (credentials, not a call of calls.rs).
    let expected: BTreeSet<String> = cwl_audit::iam::OPERATIONS
        .iter()
        .chain(cwl_audit::iam::ORG_OPERATIONS)
        .filter(|o| o.operation != "AssumeRole")
        .map(|o| snake(o.operation))
        .collect();
    let calls = std::fs::read_to_string(dir.join("calls.rs")).unwrap();
    let used: BTreeSet<String> = regex::Regex::new(r"\bc\s*\.\s*([a-z_]+)\(\)")
        .unwrap()
        .captures_iter(&calls)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(used, expected);
    assert_eq!(calls.matches(".send()").count(), expected.len());
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "calls.rs" {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(".send()"),
                "{} makes SDK calls",
                path.display()
            );
        }
    }
}

/// Every file below `dir` (recursively), as (path, text).
fn files_below(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path, text));
        }
    }
    out
}

fn output_text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const PRIVATE_ENDPOINTS: [&str; 3] = [
    "root-oncall.s3cr3t@corp.example.org",
    "https://hooks.example.net/services/T000/B000/s3cr3t-w3bh00k",
    "+15555550123",
];

/// --redact-endpoints keeps every subscription endpoint (e-mail, HTTPS URL, phone number) out of
/// everything: the snapshots, collect's stdout and stderr, and every eval report of them.
#[test]
fn redacted_endpoints_appear_in_no_output() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["private-endpoints"]);
    let bin = env!("CARGO_BIN_EXE_cwl-audit");
    let email = regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+").unwrap();
    let url = regex::Regex::new(r#"https?://[^\s"'<>)\]]+"#).unwrap();
    let phone = regex::Regex::new(r"\+?1?5555550123").unwrap();
    let documented: BTreeSet<String> = files_below(&emulator::root().join("policies"))
        .iter()
        .flat_map(|(_, text)| email.find_iter(text).map(|m| m.as_str().to_string()))
        .collect();
    assert!(!documented.iter().any(|d| d.contains("corp.example.org")));
    // Everything a run with these collect arguments writes or prints, as (what, text).
    let outputs = |collect_args: &[&str]| -> Vec<(String, String)> {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["--regions", "us-east-1", "-v"];
        args.extend_from_slice(collect_args);
        let o = collect(&moto.endpoint(), out.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut all = vec![("collect stdout/stderr".to_string(), output_text(&o))];
        for (path, text) in files_below(out.path()) {
            all.push((path.display().to_string(), text));
        }
        for format in ["text", "json", "sarif", "junit"] {
            let o = std::process::Command::new(bin)
                .args(["eval", "--rule", "CWL-014", "--format", format, "-v"])
                .arg(out.path())
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "eval {format}: {}", stderr(&o));
            all.push((format!("eval --format {format}"), output_text(&o)));
        }
        all
    };

    // Without redaction the endpoints are there, so the search below can see them.
    let plain = outputs(&[]);
    let snapshot_text = &plain.iter().find(|(w, _)| w.ends_with(".json")).unwrap().1;
    for e in PRIVATE_ENDPOINTS {
        assert!(
            snapshot_text.contains(&e.replace('/', "\\/")) || snapshot_text.contains(e),
            "{e} not collected"
        );
    }
    assert!(
        email.is_match(snapshot_text)
            && url.is_match(snapshot_text)
            && phone.is_match(snapshot_text)
    );

    let redacted = outputs(&["--redact-endpoints"]);
    assert_eq!(redacted.len(), plain.len());
    for (what, text) in &redacted {
        for e in PRIVATE_ENDPOINTS {
            assert!(!text.contains(e), "{what} contains {e}:\n{text}");
        }
        assert!(
            !text.contains("example.net")
                && !text.contains("example.org")
                && !text.contains("s3cr3t"),
            "{what}:\n{text}"
        );
        assert!(
            !phone.is_match(text),
            "{what} has the phone number:\n{text}"
        );
        // The only e-mail addresses are the examples in the rules' own documentation.
        for m in email.find_iter(text) {
            assert!(
                documented.contains(m.as_str()),
                "{what} has the e-mail address {:?}:\n{text}",
                m.as_str()
            );
        }
        // The reports have URLs of their own (schemas, rule help); none is an endpoint's.
        for m in url.find_iter(text) {
            assert!(
                !m.as_str().contains("hooks."),
                "{what} has the URL {}",
                m.as_str()
            );
        }
    }
    let s: Value = serde_json::from_str(
        &redacted
            .iter()
            .find(|(w, _)| w.ends_with(".json"))
            .unwrap()
            .1,
    )
    .unwrap();
    let subs = s["sns"]["Subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 3, "{subs:?}");
    for sub in subs {
        let e = sub["Endpoint"].as_str().unwrap();
        assert!(e.starts_with("redacted:sha256:"), "{e}");
    }
}

const CANARY_SECRET: &str = "CANARYsecretKEYwJalrXUtnFEMIK7MDENGbPxRfiCY";
const CANARY_TOKEN: &str = "CANARYsessionTOKENFwoGZXIvYXdzEJr1K2Nlb3";

/// Credentials are never written or logged: `collect -vv` with RUST_LOG=trace and canary secrets in
/// the environment, succeeding and failing (denied call, credentials the endpoint rejects,
/// unreachable endpoint, assumed role), prints and writes neither canary anywhere.
#[test]
fn credentials_are_never_written_or_logged() {
    let Some(moto) = EMULATOR.get() else { return };
    moto.seed(&["compliant"]);
    let bin = env!("CARGO_BIN_EXE_cwl-audit");
    // The proxy denies ListSubscriptions when asked to, and checks the canaries were really used.
    let tokens_seen = Arc::new(AtomicUsize::new(0));
    let deny = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (t, d) = (tokens_seen.clone(), deny.clone());
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(move |req: &Request| {
            if req.header("x-amz-security-token") == Some(CANARY_TOKEN) {
                t.fetch_add(1, Ordering::SeqCst);
            }
            (d.load(Ordering::SeqCst) && req.operation().as_deref() == Some("ListSubscriptions"))
                .then(|| {
                    error_response(
                        req,
                        403,
                        "AccessDenied",
                        "not authorized to perform sns:ListSubscriptions",
                    )
                })
        }),
    );
    let run = |endpoint: &str, extra: &[&str], expect: i32| {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["collect", "-vv", "--out"])
            .arg(out.path())
            .args(["--endpoint-url", endpoint, "--max-attempts", "2"])
            .args(["--retry-initial-backoff-ms", "10", "--regions", "us-east-1"])
            .args(extra);
        emulator::aws_env(&mut cmd, "ASIACANARYACCESSKEY01", CANARY_SECRET);
        cmd.env("AWS_SESSION_TOKEN", CANARY_TOKEN)
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "full");
        let o = cmd.output().unwrap();
        let mut texts = vec![(format!("collect {extra:?} stdout/stderr"), output_text(&o))];
        assert_eq!(o.status.code(), Some(expect), "{extra:?}: {}", texts[0].1);
        if out.path().exists() {
            for (p, text) in files_below(out.path()) {
                texts.push((p.display().to_string(), text));
            }
        }
        texts
    };
    let mut all = run(&endpoint, &[], 0);
    assert!(
        tokens_seen.load(Ordering::SeqCst) > 0,
        "the canary credentials were not used"
    );
    all.extend(run(
        &endpoint,
        &["--role-arn", "arn:aws:iam::111111111111:role/CwlAudit"],
        0,
    ));
    deny.store(true, Ordering::SeqCst);
    let denied = run(&endpoint, &[], 3);
    assert!(denied[0].1.contains("AccessDenied"), "{}", denied[0].1);
    all.extend(denied);
    // Nothing listens on port 1: the connection error is printed.
    let unreachable = run("http://127.0.0.1:1", &[], 2);
    all.extend(unreachable);
    // moto enforcing IAM rejects keys it does not know: the endpoint's error is printed.
    moto.restricted_user(&["sts:GetCallerIdentity"]);
    let rejected = run(&moto.endpoint(), &[], 2);
    assert!(
        rejected[0].1.contains("GetCallerIdentity"),
        "{}",
        rejected[0].1
    );
    all.extend(rejected);
    assert!(all.len() >= 8, "{all:?}");
    for (what, text) in &all {
        for canary in [CANARY_SECRET, CANARY_TOKEN, "CANARY"] {
            if canary == "CANARY" {
                // The access key id is not a secret, but nothing else may carry the canary prefix.
                let rest = text.replace("ASIACANARYACCESSKEY01", "");
                assert!(!rest.contains(canary), "{what} contains {canary}:\n{text}");
            } else {
                assert!(!text.contains(canary), "{what} contains {canary}:\n{text}");
            }
        }
    }
}
