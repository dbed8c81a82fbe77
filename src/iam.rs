//! The collector's least-privilege IAM policy, as data. `cwl-audit iam-policy` prints it, README
//! shows it, and the emulator tests record every operation the collector performs (an SDK
//! interceptor) and check that the two are the same set.

/// One API operation the collector performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The service name in the SDK's operation metadata (`Metadata::service()`).
    pub sdk_service: &'static str,
    /// The snapshot's `errors[].service` value.
    pub service: &'static str,
    /// The API operation name (`Metadata::name()`).
    pub operation: &'static str,
    /// The IAM action that authorizes it; `None` for calls that need no permission.
    pub action: Option<&'static str>,
}

const fn op(
    sdk_service: &'static str,
    service: &'static str,
    operation: &'static str,
    action: Option<&'static str>,
) -> Operation {
    Operation {
        sdk_service,
        service,
        operation,
        action,
    }
}

/// Every operation the collector can perform, in the order it performs them. Nothing else is called.
pub const OPERATIONS: &[Operation] = &[
    // "No permissions are required to perform this operation" (STS API reference); it cannot be
    // denied by a policy, so the policy does not list it.
    op("STS", "sts", "GetCallerIdentity", None),
    // Only with --all-regions: the regions enabled for the account.
    op(
        "Account",
        "account",
        "ListRegions",
        Some("account:ListRegions"),
    ),
    op(
        "CloudTrail",
        "cloudtrail",
        "DescribeTrails",
        Some("cloudtrail:DescribeTrails"),
    ),
    op(
        "CloudTrail",
        "cloudtrail",
        "GetTrailStatus",
        Some("cloudtrail:GetTrailStatus"),
    ),
    op(
        "CloudTrail",
        "cloudtrail",
        "GetEventSelectors",
        Some("cloudtrail:GetEventSelectors"),
    ),
    op(
        "CloudWatch Logs",
        "logs",
        "DescribeMetricFilters",
        Some("logs:DescribeMetricFilters"),
    ),
    op(
        "CloudWatch",
        "cloudwatch",
        "DescribeAlarms",
        Some("cloudwatch:DescribeAlarms"),
    ),
    op(
        "SNS",
        "sns",
        "ListSubscriptions",
        Some("sns:ListSubscriptions"),
    ),
];

/// The operation with this SDK service name and operation name.
pub fn lookup(sdk_service: &str, operation: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.sdk_service == sdk_service && o.operation == operation)
}

/// The IAM actions of the policy, in the order of [`OPERATIONS`].
pub fn actions() -> Vec<&'static str> {
    OPERATIONS.iter().filter_map(|o| o.action).collect()
}

/// The policy document exactly as `cwl-audit iam-policy` prints it (pretty JSON, trailing newline).
pub fn policy_json() -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CwlAuditReadOnly",
            "Effect": "Allow",
            "Action": actions(),
            "Resource": "*"
        }]
    });
    // serde_json sorts object keys (no `preserve_order`), which is the order we want to print:
    // Action, Effect, Resource, Sid. Stable output is what matters here.
    let mut s = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_and_unique() {
        let a = actions();
        let mut sorted = a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), a.len(), "duplicate action");
        for action in a {
            let verb = action.split(':').nth(1).unwrap();
            assert!(
                ["Describe", "Get", "List"]
                    .iter()
                    .any(|p| verb.starts_with(p)),
                "{action} is not a read-only action"
            );
        }
    }

    #[test]
    fn policy_is_valid_json_with_every_action() {
        let v: serde_json::Value = serde_json::from_str(&policy_json()).unwrap();
        assert_eq!(v["Statement"][0]["Action"].as_array().unwrap().len(), 7);
        assert_eq!(v["Statement"][0]["Effect"], "Allow");
    }
}
