//! The regions this release knows, per partition, for checking `--regions` before any call.
//!
//! A misspelt region (`eu-wst-1`) used to be collected: every call failed, and a snapshot full of
//! errors was written under that name. A name that is not a known region of a supported partition
//! is now a usage error naming the nearest known one. The list is the AWS SDK's partition data for
//! the partitions snapshots support (docs/snapshot-format.md), as of aws-sdk 1.124 (November
//! 2026). A region launched after this release is not refused by `--all-regions`, which collects the
//! account's own list (Account ListRegions), checked only to be a region code.

/// The known regions of each supported partition, sorted.
pub const KNOWN: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// The partition a known region belongs to.
pub fn partition_of(region: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(_, regions)| regions.contains(&region))
        .map(|(p, _)| *p)
}

/// Why a `--regions` entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionProblem {
    #[error("{given}: {name:?} is not a region of this release{}; known regions: {known} (a region launched later is collected by --all-regions)", .nearest.as_ref().map(|n| format!(" (did you mean {n}?)")).unwrap_or_default())]
    Unknown {
        /// Where the name came from: `--regions`, or the configured region.
        given: &'static str,
        name: String,
        nearest: Option<String>,
        known: String,
    },
    #[error("{given}: {region} is a region of partition {region_partition}, but the credentials are of account {account} in partition {partition}")]
    OtherPartition {
        given: &'static str,
        region: String,
        region_partition: String,
        account: String,
        partition: String,
    },
}

/// Where regions given by `--regions` come from, in messages.
pub const FROM_FLAG: &str = "--regions";
/// Where the configured region comes from, in messages.
pub const FROM_CONFIG: &str = "the configured region (AWS_REGION, or `region` in the profile)";

/// Checks every requested region before any call: each must be a known region.
pub fn check_known(source: &'static str, requested: &[String]) -> Result<(), RegionProblem> {
    let Some(bad) = requested.iter().find(|r| partition_of(r).is_none()) else {
        return Ok(());
    };
    let all = KNOWN.iter().flat_map(|(_, r)| r.iter().copied());
    let nearest = all
        .clone()
        .map(|k| (crate::text::edit_distance(bad, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k.to_string());
    // The name is printed with {:?}: whatever it holds, it stays one quoted line.
    Err(RegionProblem::Unknown {
        given: source,
        name: bad.clone(),
        nearest,
        known: all.collect::<Vec<_>>().join(", "),
    })
}

/// Checks that every requested region is in the partition of the credentials' account (calls
/// to another partition's endpoints fail with credentials of this one).
pub fn check_partition(
    source: &'static str,
    requested: &[String],
    account: &str,
    partition: &str,
) -> Result<(), RegionProblem> {
    for r in requested {
        if let Some(p) = partition_of(r) {
            if p != partition {
                return Err(RegionProblem::OtherPartition {
                    given: source,
                    region: r.clone(),
                    region_partition: p.into(),
                    account: account.into(),
                    partition: partition.into(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lists_are_sorted_region_codes_and_cover_the_default_regions() {
        for (p, regions) in KNOWN {
            assert!(regions.windows(2).all(|w| w[0] < w[1]), "{p}");
            for r in *regions {
                assert!(crate::arn::is_region(r), "{r}");
            }
            for r in super::super::default_enabled_regions(p) {
                assert_eq!(partition_of(r), Some(*p), "{r}");
            }
            assert_eq!(partition_of(super::super::account_api_region(p)), Some(*p));
        }
        for p in crate::arn::PARTITIONS {
            assert!(KNOWN.iter().any(|(k, _)| *k == p), "{p}");
        }
    }

    #[test]
    fn a_typo_is_refused_with_the_nearest_region() {
        let e = check_known(FROM_FLAG, &["us-east-1".into(), "eu-wst-1".into()]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "--regions: \"eu-wst-1\" is not a region of this release (did you mean eu-west-1?); known regions: af-south-1, "
            ),
            "{text}"
        );
        assert!(text.contains("us-gov-west-1"), "{text}");
        assert!(check_known(FROM_FLAG, &["us-east-1".into(), "cn-north-1".into()]).is_ok());
        let far = check_known(FROM_FLAG, &["xx-nowhere-9".into()]).unwrap_err();
        assert!(matches!(far, RegionProblem::Unknown { nearest: None, .. }));
        // A hostile name stays one quoted line.
        let hostile = check_known(FROM_FLAG, &["a\nb\u{1b}[31m".into()])
            .unwrap_err()
            .to_string();
        assert!(
            !hostile.contains('\n') && !hostile.contains('\u{1b}'),
            "{hostile}"
        );
    }

    #[test]
    fn a_region_of_another_partition_is_refused() {
        let e =
            check_partition(FROM_FLAG, &["cn-north-1".into()], "111111111111", "aws").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--regions: cn-north-1 is a region of partition aws-cn, but the credentials are of account 111111111111 in partition aws"
        );
        assert!(check_partition(FROM_FLAG, &["us-east-1".into()], "111111111111", "aws").is_ok());
    }
}
