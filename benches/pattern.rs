//! `make bench`: parse and coverage time for the CIS monitoring reference patterns (CIS AWS
//! Foundations 4.1-4.15 / 3.x) and variants of the root-usage filter, then long disjunctions of
//! simple conditions (issue #12: 4,000 `||` of prefix wildcards took 8 s per rule), whose time must
//! grow linearly with their length. Plain `Instant` timing; the target is covers under 1 ms per
//! pair for the CIS patterns.
// A failed unwrap in a test is the test failing.
#![allow(clippy::unwrap_used)]
use cwl_audit::pattern::{covers, parse};
use std::time::{Duration, Instant};

// The reference patterns, read from the policies' METADATA.
#[path = "../tests/support/snapshot.rs"]
mod snapshot;

use snapshot::Pattern::{self, Reference};

/// The CIS monitoring controls, each its rule's reference pattern (4.10 as CIS v1.2-v4.0 write it,
/// without ModifySecurityGroupRules).
const CIS_PATTERNS: &[(&str, Pattern)] = &[
    ("4.1 unauthorized API calls", Reference("CWL-002", None)),
    (
        "4.2 console sign-in without MFA",
        Reference("CWL-017", None),
    ),
    ("4.3 root account usage", Reference("CWL-014", None)),
    ("4.4 IAM policy changes", Reference("CWL-010", None)),
    (
        "4.5 CloudTrail configuration changes",
        Reference("CIS-4.5", None),
    ),
    (
        "4.6 console authentication failures",
        Reference("CWL-001", None),
    ),
    ("4.7 disabling or deleting CMKs", Reference("CWL-015", None)),
    ("4.8 S3 bucket policy changes", Reference("CWL-012", None)),
    ("4.9 AWS Config changes", Reference("CWL-011", None)),
    (
        "4.10 security group changes",
        Reference("CWL-004", Some("cis-v4.0")),
    ),
    ("4.11 NACL changes", Reference("CIS-4.11", None)),
    ("4.12 network gateway changes", Reference("CWL-006", None)),
    ("4.13 route table changes", Reference("CIS-4.13", None)),
    ("4.14 VPC changes", Reference("CWL-007", None)),
    ("4.15 AWS Organizations changes", Reference("CWL-016", None)),
];

const ROOT_VARIANTS: &[&str] = &[
    r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}"#,
    r#"{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }"#,
    r#"{ $.userIdentity.type = "Root" }"#,
    r#"{ $.userIdentity.type = "root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    r#"{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }"#,
    r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress != "10.*" }"#,
    "Root -AwsServiceEvent",
];

fn time<T>(n: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    start.elapsed() / n
}

fn main() {
    let n = 50;
    let mut worst = Duration::ZERO;
    println!("{:<40} {:>12} {:>14}", "pattern", "parse", "covers(self)");
    for (name, p) in CIS_PATTERNS {
        let p = p.text();
        let parse_t = time(n, || parse(p));
        let cover_t = time(n, || covers(p, p));
        let c = covers(p, p);
        assert!(
            c.covers,
            "{name}: every CIS reference is decided and covers itself: {c:?}"
        );
        worst = worst.max(cover_t);
        println!(
            "{name:<40} {parse_t:>12.2?} {cover_t:>14.2?}{}",
            if c.undecided { "  (undecided)" } else { "" }
        );
    }
    let reference = CIS_PATTERNS[2].1.text();
    println!(
        "\n{:<100} {:>12}",
        "CIS 4.3 variant covers reference", "covers"
    );
    for p in ROOT_VARIANTS {
        let t = time(n, || covers(p, reference));
        worst = worst.max(t);
        let shown: String = p.chars().take(98).collect();
        println!("{shown:<100} {t:>12.2?}");
    }
    println!("\nslowest covers pair: {worst:.2?} (target: under 1 ms)");

    // `{ $.eventName = "Abc1*" || $.eventName = "Abc2*" || ... }` and its variants, against every
    // CIS reference (what `eval` asks for one filter when it checks all rules), at two lengths:
    // four times the conditions should take about four times as long.
    println!(
        "\n{:<44} {:>12} {:>12} {:>8}",
        "N conditions `||`, against all 15 references", "N = 1,000", "N = 4,000", "ratio"
    );
    type Clause = fn(usize) -> String;
    let kinds: [(&str, Clause); 4] = [
        ("$.eventName = \"Abc{i}*\"", |i| {
            format!("$.eventName = \"Abc{i}*\"")
        }),
        ("$.eventName = \"*Abc{i}\"", |i| {
            format!("$.eventName = \"*Abc{i}\"")
        }),
        ("$.eventName = \"Abc{i}\"", |i| {
            format!("$.eventName = \"Abc{i}\"")
        }),
        ("$.f{i % 3} = \"Abc{i}*\"", |i| {
            format!("$.f{} = \"Abc{i}*\"", i % 3)
        }),
    ];
    for (name, clause) in kinds {
        let run = |n: usize| {
            let p = format!(
                "{{ {} }}",
                (1..=n).map(clause).collect::<Vec<_>>().join(" || ")
            );
            time(3, || {
                for (_, r) in CIS_PATTERNS {
                    let r = r.text();
                    let c = covers(&p, r);
                    assert!(c.error.is_none(), "{name} against {r}: {c:?}");
                }
            })
        };
        let (small, large) = (run(1_000), run(4_000));
        println!(
            "{name:<44} {small:>12.2?} {large:>12.2?} {:>8.1}",
            large.as_secs_f64() / small.as_secs_f64()
        );
    }
}
