//! Benchmark versions: CIS AWS Foundations releases and AWS Security Hub prescribe different
//! reference patterns for some controls (e.g. CIS v5.0 added `ModifySecurityGroupRules` to 4.10).
//! A rule lists its patterns in `custom.references` (see metadata.rs), each with the benchmarks
//! that prescribe it; `--benchmark` chooses which one decides the verdict. This module knows the
//! benchmarks and names groups of them in words (reports, `explain`); `engine::benchmark` builds
//! from them what policies read as `data.cwl_audit.{benchmark, benchmarks, references}`.
use std::collections::BTreeMap;

/// A benchmark whose reference patterns the built-in rules carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Benchmark {
    /// What `--benchmark` and `custom.references` call it, e.g. `cis-v5.0`.
    pub id: &'static str,
    /// In words, e.g. `CIS v5.0`.
    pub name: &'static str,
    /// The `custom.frameworks` key whose control numbers belong to it (to name Security Hub
    /// controls: "Security Hub CloudWatch.10").
    pub framework: &'static str,
    /// The CIS version (`v5.0`) for CIS releases: consecutive ones are named as a range.
    pub cis_version: Option<&'static str>,
}

const fn cis(
    id: &'static str,
    name: &'static str,
    version: &'static str,
    framework: &'static str,
) -> Benchmark {
    Benchmark {
        id,
        name,
        framework,
        cis_version: Some(version),
    }
}

/// The frameworks key of the CIS releases that number the monitoring controls 4.x.
const V14_V50: &str = "cis-aws-foundations-v1.4-v5.0";

/// Every benchmark, CIS releases newest first (the order ranges are built in), then Security Hub.
/// CIS v1.3 and v7.0 are not offered: their monitoring texts were not verified (v1.3), or the
/// frameworks of the rules do not map v7.0 yet.
pub const BENCHMARKS: &[Benchmark] = &[
    cis("cis-v6.0", "CIS v6.0", "v6.0", "cis-aws-foundations-v6.0"),
    cis("cis-v5.0", "CIS v5.0", "v5.0", V14_V50),
    cis("cis-v4.0", "CIS v4.0", "v4.0", V14_V50),
    cis("cis-v3.0", "CIS v3.0", "v3.0", V14_V50),
    cis("cis-v2.0", "CIS v2.0", "v2.0", V14_V50),
    cis("cis-v1.5", "CIS v1.5", "v1.5", V14_V50),
    cis("cis-v1.4", "CIS v1.4", "v1.4", V14_V50),
    cis("cis-v1.2", "CIS v1.2", "v1.2", "cis-aws-foundations-v1.2"),
    Benchmark {
        id: "aws-security-hub",
        name: "Security Hub",
        framework: "aws-security-hub",
        cis_version: None,
    },
];

/// The benchmark `eval` decides by without `--benchmark`: the newest CIS release.
pub const DEFAULT: &str = "cis-v6.0";

/// The benchmark called `id`, if there is one.
pub fn find(id: &str) -> Option<&'static Benchmark> {
    BENCHMARKS.iter().find(|b| b.id == id)
}

/// Position in [`BENCHMARKS`] (unknown ids last), for ordering.
pub fn rank(id: &str) -> usize {
    BENCHMARKS
        .iter()
        .position(|b| b.id == id)
        .unwrap_or(BENCHMARKS.len())
}

/// The ids, comma-separated, for messages that list the choices.
pub fn ids() -> String {
    BENCHMARKS
        .iter()
        .map(|b| b.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A group of benchmarks in words, for a rule with these `frameworks`: Security Hub with the
/// rule's control ("Security Hub CloudWatch.10"), then CIS releases with consecutive ones as a
/// range ("CIS v1.2-v4.0"; "CIS v1.2, v5.0" when not consecutive).
pub fn label(ids: &[String], frameworks: &BTreeMap<String, Vec<String>>) -> String {
    let mut parts = Vec::new();
    for b in BENCHMARKS.iter().filter(|b| b.cis_version.is_none()) {
        if ids.iter().any(|i| i == b.id) {
            match frameworks.get(b.framework).filter(|c| !c.is_empty()) {
                Some(controls) => parts.push(format!("{} {}", b.name, controls.join(", "))),
                None => parts.push(b.name.to_string()),
            }
        }
    }
    // Runs of consecutive CIS releases, oldest first.
    let cis: Vec<(usize, &Benchmark)> = BENCHMARKS
        .iter()
        .enumerate()
        .filter(|(_, b)| b.cis_version.is_some() && ids.iter().any(|i| i == b.id))
        .collect();
    let mut runs: Vec<(&Benchmark, &Benchmark)> = Vec::new();
    for &(i, b) in cis.iter().rev() {
        match runs.last_mut() {
            // BENCHMARKS is newest first: the next newer release sits one position before.
            Some((_, newest)) if rank(newest.id) == i + 1 => *newest = b,
            _ => runs.push((b, b)),
        }
    }
    let versions: Vec<String> = runs
        .iter()
        .map(|(oldest, newest)| {
            let (o, n) = (
                oldest.cis_version.unwrap_or(oldest.name),
                newest.cis_version.unwrap_or(newest.name),
            );
            if o == n {
                o.to_string()
            } else {
                format!("{o}-{n}")
            }
        })
        .collect();
    if !versions.is_empty() {
        parts.push(format!("CIS {}", versions.join(", ")));
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn groups_are_named_with_ranges_and_the_security_hub_control() {
        let fw = BTreeMap::from([("aws-security-hub".to_string(), vec!["CloudWatch.10".into()])]);
        assert_eq!(
            label(
                &ids(&[
                    "aws-security-hub",
                    "cis-v1.2",
                    "cis-v1.4",
                    "cis-v1.5",
                    "cis-v2.0",
                    "cis-v3.0",
                    "cis-v4.0"
                ]),
                &fw
            ),
            "Security Hub CloudWatch.10 and CIS v1.2-v4.0"
        );
        assert_eq!(label(&ids(&["cis-v6.0", "cis-v5.0"]), &fw), "CIS v5.0-v6.0");
        assert_eq!(
            label(&ids(&["cis-v1.2", "cis-v5.0"]), &fw),
            "CIS v1.2, v5.0"
        );
        assert_eq!(
            label(&ids(&["aws-security-hub"]), &BTreeMap::new()),
            "Security Hub"
        );
    }

    #[test]
    fn the_default_is_a_cis_release_and_ids_are_unique() {
        assert!(find(DEFAULT).is_some_and(|b| b.cis_version.is_some()));
        let mut seen: Vec<&str> = BENCHMARKS.iter().map(|b| b.id).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), BENCHMARKS.len());
        assert_eq!(find("cis-v5.0").and_then(|b| b.cis_version), Some("v5.0"));
    }
}
