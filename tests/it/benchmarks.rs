//! Benchmark versions (`eval --benchmark`): the controls whose reference pattern differs between CIS
//! releases and Security Hub are decided by the chosen version's pattern, and a finding that would
//! pass under some versions and not under others says which, and why not. Each scenario is one
//! compliant account whose only metric filter has the pattern under test.
use crate::support;

use cwl_audit::findings::Finding;
use cwl_audit::findings::Verdict::{self, Fail, Pass};
use serde_json::json;
use support::*;

const A: &str = "111111111111";
const E1: &str = "us-east-1";

// The patterns under test are the reference patterns of given benchmark versions, read from the
// rules' `custom.references` (support::reference_of).

/// CIS v1.2-v4.0 and Security Hub CloudWatch.10: six events, no ModifySecurityGroupRules.
fn sg_six() -> &'static str {
    reference_of("CWL-004", "cis-v4.0")
}

/// CIS v4.0.1+ 4.1: the exclusions of log delivery and HeadBucket.
fn unauthorized_v4() -> &'static str {
    reference_of("CWL-002", "cis-v4.0")
}

/// CIS v1.2 3.1 and Security Hub CloudWatch.2.
fn unauthorized_v12() -> &'static str {
    reference_of("CWL-002", "cis-v1.2")
}

/// CIS v1.4+ 4.2, the SSO form; Security Hub CloudWatch.3.
fn no_mfa_sso() -> &'static str {
    reference_of("CWL-017", "cis-v1.4")
}

/// CIS v1.2 3.2.
fn no_mfa_v12() -> &'static str {
    reference_of("CWL-017", "cis-v1.2")
}

/// The finding of `rule` for an account whose one filter has `pattern`, decided by `benchmark`.
fn decide(rule: &str, pattern: &str, benchmark: &str) -> Finding {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!(pattern),
    );
    let r = Org::new().with(s).eval_by(benchmark, &[rule]);
    let mine: Vec<&Finding> = r.findings.iter().filter(|f| f.rule_id == rule).collect();
    assert_eq!(mine.len(), 1, "one finding: {:#?}", r.findings);
    mine[0].clone()
}

#[track_caller]
fn assert_note(f: &Finding, parts: &[&str]) {
    assert!(
        f.notes.iter().any(|n| parts.iter().all(|p| n.contains(p))),
        "no note with {parts:?}: {:?}",
        f.notes
    );
}

fn versions_notes(f: &Finding) -> Vec<&String> {
    f.notes
        .iter()
        .filter(|n| n.contains("depends on the benchmark version"))
        .collect()
}

#[test]
fn six_security_group_events_fail_the_newest_cis_and_say_security_hub_accepts_them() {
    let f = decide("CWL-004", sg_six(), "cis-v6.0");
    assert_verdict(&f, Fail, "ModifySecurityGroupRules");
    assert_note(
        &f,
        &[
            "passes Security Hub CloudWatch.10 and CIS v1.2-v4.0",
            "fails CIS v5.0-v6.0 (this finding)",
        ],
    );
    // The default is the newest CIS.
    let default = {
        let mut s = compliant(A, E1);
        set(
            &mut s,
            "/logs/metricFilters/0/filterPattern",
            json!(sg_six()),
        );
        Org::new()
            .with(s)
            .eval_by(cwl_audit::findings::benchmark::DEFAULT, &["CWL-004"])
    };
    assert_eq!(default.findings[0].verdict, Fail);
}

#[test]
fn six_security_group_events_pass_security_hub_and_cis_before_v5() {
    for benchmark in ["aws-security-hub", "cis-v4.0", "cis-v1.2"] {
        let f = decide("CWL-004", sg_six(), benchmark);
        assert_verdict(&f, Pass, "filter RootAccountUsage");
        assert_note(
            &f,
            &[
                "Security Hub CloudWatch.10 and CIS v1.2-v4.0 (this finding)",
                "does not pass CIS v5.0-v6.0: filter RootAccountUsage misses security group changes",
                "ModifySecurityGroupRules",
            ],
        );
    }
    // Under CIS v5.0 it fails as under v6.0: the same pattern.
    assert_eq!(decide("CWL-004", sg_six(), "cis-v5.0").verdict, Fail);
}

#[test]
fn seven_security_group_events_pass_every_version_without_a_note() {
    let seven = sg_six().replace(" }", " || ($.eventName = ModifySecurityGroupRules) }");
    for benchmark in ["cis-v6.0", "aws-security-hub"] {
        let f = decide("CWL-004", &seven, benchmark);
        assert_eq!(f.verdict, Pass, "{benchmark}: {}", f.message);
        assert!(versions_notes(&f).is_empty(), "{benchmark}: {:?}", f.notes);
    }
}

/// 4.1: the later CIS text excludes AccessDenied errors of log delivery and HeadBucket calls; CIS
/// v1.2 and Security Hub count them.
#[test]
fn unauthorized_api_calls_with_the_exclusions_fail_cis_v1_2_and_security_hub() {
    let f = decide("CWL-002", unauthorized_v4(), "cis-v6.0");
    assert_verdict(&f, Pass, "filter RootAccountUsage");
    assert_note(
        &f,
        &[
            "passes CIS v1.4-v6.0 (this finding)",
            "does not pass Security Hub CloudWatch.2 and CIS v1.2: filter RootAccountUsage misses unauthorized API calls",
        ],
    );
    for benchmark in ["cis-v1.2", "aws-security-hub"] {
        let f = decide("CWL-002", unauthorized_v4(), benchmark);
        assert_verdict(&f, Fail, "misses unauthorized API calls");
        assert_note(
            &f,
            &["passes CIS v1.4-v6.0; fails Security Hub CloudWatch.2 and CIS v1.2 (this finding)"],
        );
    }
    // CIS v1.4-v3.0 print the terms joined by `||`; they are read as the corrected v4.0 text.
    assert_eq!(
        decide("CWL-002", unauthorized_v4(), "cis-v1.4").verdict,
        Pass
    );
}

#[test]
fn unauthorized_api_calls_of_the_v1_2_text_pass_every_version() {
    for benchmark in ["cis-v6.0", "cis-v1.2", "aws-security-hub"] {
        let f = decide("CWL-002", unauthorized_v12(), benchmark);
        assert_eq!(f.verdict, Pass, "{benchmark}: {}", f.message);
        assert!(versions_notes(&f).is_empty(), "{benchmark}: {:?}", f.notes);
    }
}

/// 4.2: the SSO form (IAM users, successful sign-ins) is CIS v1.4+'s and Security Hub's; CIS v1.2
/// has only the original form, which also counts failed and federated sign-ins.
#[test]
fn console_sign_in_without_mfa_in_the_sso_form_fails_only_cis_v1_2() {
    for benchmark in ["cis-v6.0", "aws-security-hub", "cis-v1.4"] {
        let f = decide("CWL-017", no_mfa_sso(), benchmark);
        assert_verdict(&f, Pass, "filter RootAccountUsage");
        assert_note(
            &f,
            &[
                "passes Security Hub CloudWatch.3 and CIS v1.4-v6.0 (this finding)",
                "does not pass CIS v1.2: filter RootAccountUsage misses console sign-ins without MFA",
            ],
        );
    }
    let f = decide("CWL-017", no_mfa_sso(), "cis-v1.2");
    assert_verdict(&f, Fail, "misses console sign-ins without MFA");
    assert_note(
        &f,
        &[
            "passes Security Hub CloudWatch.3 and CIS v1.4-v6.0;",
            "fails CIS v1.2 (this finding)",
        ],
    );
}

#[test]
fn console_sign_in_without_mfa_in_the_original_form_passes_every_version() {
    for benchmark in ["cis-v6.0", "cis-v1.2", "aws-security-hub"] {
        let f = decide("CWL-017", no_mfa_v12(), benchmark);
        assert_eq!(f.verdict, Pass, "{benchmark}: {}", f.message);
        assert!(versions_notes(&f).is_empty(), "{benchmark}: {:?}", f.notes);
    }
}

/// 4.13: CIS v3.0+ narrow CreateRoute to EC2 (API Gateway has a CreateRoute too); earlier versions
/// and Security Hub take CreateRoute from any source.
#[test]
fn route_tables_narrowed_to_ec2_fail_the_versions_with_the_plain_list() {
    let narrowed = reference_of("CIS-4.13", "cis-v3.0");
    assert_eq!(decide("CIS-4.13", narrowed, "cis-v3.0").verdict, Pass);
    let f = decide("CIS-4.13", narrowed, "aws-security-hub");
    assert_verdict(&f, Fail, "misses route table changes");
    assert_note(
        &f,
        &[
            "passes CIS v3.0-v6.0;",
            "fails Security Hub CloudWatch.13 and CIS v1.2-v2.0 (this finding)",
        ],
    );
}

/// A broken link before the filter does not depend on the pattern: no note, and no other
/// version decided.
#[test]
fn a_failure_before_the_filter_has_no_version_note() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!(sg_six()),
    );
    set(
        &mut s,
        "/cloudtrail/trailList/0/IsMultiRegionTrail",
        json!(false),
    );
    let r = Org::new().with(s).eval_by("cis-v6.0", &["CWL-004"]);
    let f = &r.findings[0];
    assert_verdict(f, Fail, "single-region");
    assert!(versions_notes(f).is_empty(), "{:?}", f.notes);
}

/// A benchmark without the control (there is no AWS Organizations control in CIS v1.2 or Security
/// Hub) decides it by the newest CIS pattern and says so.
#[test]
fn a_control_outside_the_benchmark_is_decided_by_the_newest_cis_pattern() {
    let org = reference_of("CWL-016", "cis-v1.4");
    let f = decide("CWL-016", org, "cis-v1.2");
    assert_eq!(f.verdict, Pass, "{}", f.message);
    assert_note(
        &f,
        &["CIS v1.2 has no pattern for this control", "CIS v1.4-v6.0"],
    );
    let f = decide("CWL-016", org, "cis-v5.0");
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

/// Every benchmark decides every control (no policy error, no missing decision) on a compliant
/// root-usage account: the other controls fail at their filter, CWL-014 passes everywhere.
#[test]
fn every_benchmark_decides_every_control() {
    for b in cwl_audit::findings::benchmark::BENCHMARKS {
        let r = Org::new().with(compliant(A, E1)).eval_by(b.id, &[]);
        assert!(
            r.notifications.is_empty(),
            "{}: {:?}",
            b.id,
            r.notifications
        );
        assert_eq!(r.findings.len(), 15, "{}", b.id);
        for f in &r.findings {
            let want = if f.rule_id == "CWL-014" {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            assert_eq!(f.verdict, want, "{} {}: {}", b.id, f.rule_id, f.message);
        }
    }
}
