//! The collector's least-privilege IAM policies, as data. `cwl-audit iam-policy` prints the one a
//! single account needs (and that the member role of an organization collection gets);
//! `cwl-audit iam-policy --organization` also prints the management side's and a CloudFormation
//! StackSet template of the member role. README shows them, and the emulator tests record every
//! operation the collector performs (an SDK interceptor) and check that the sets are the same.

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

/// The operations only `collect --organization` performs, with the caller's credentials (the
/// management account or a delegated administrator), besides [`OPERATIONS`] in every account.
pub const ORG_OPERATIONS: &[Operation] = &[
    op(
        "Organizations",
        "organizations",
        "DescribeOrganization",
        Some("organizations:DescribeOrganization"),
    ),
    op(
        "Organizations",
        "organizations",
        "ListAccounts",
        Some("organizations:ListAccounts"),
    ),
    // The OU tree, from the root down, so that the manifest records each account's OU and its
    // path, and `--ou` selects a subtree.
    op(
        "Organizations",
        "organizations",
        "ListRoots",
        Some("organizations:ListRoots"),
    ),
    op(
        "Organizations",
        "organizations",
        "ListOrganizationalUnitsForParent",
        Some("organizations:ListOrganizationalUnitsForParent"),
    ),
    op(
        "Organizations",
        "organizations",
        "ListAccountsForParent",
        Some("organizations:ListAccountsForParent"),
    ),
    // Made by aws-config's AssumeRoleProvider (src/collect/credentials.rs), not by calls.rs: it
    // obtains credentials and changes nothing. The only action of either policy that is not a read.
    op("STS", "sts", "AssumeRole", Some("sts:AssumeRole")),
];

/// The operation with this SDK service name and operation name.
pub fn lookup(sdk_service: &str, operation: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .chain(ORG_OPERATIONS)
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

/// The default name of the member role (`collect --organization --member-role`, the StackSet's
/// `RoleName` parameter).
pub const DEFAULT_MEMBER_ROLE: &str = "CwlAuditReadOnly";

/// The ARN pattern of the member role in every account of `partition`.
pub fn member_role_arn_pattern(partition: &str, role: &str) -> String {
    crate::arn::role(partition, "*", role)
}

/// The management side's policy: list the organization, assume the member role, and read its own
/// account (the calling account is collected with its own credentials, not through the role).
pub fn management_policy(partition: &str, role: &str) -> serde_json::Value {
    let org: Vec<&str> = ORG_OPERATIONS
        .iter()
        .filter(|o| o.service == "organizations")
        .filter_map(|o| o.action)
        .collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CwlAuditListOrganization",
                "Effect": "Allow",
                "Action": org,
                "Resource": "*"
            },
            {
                "Sid": "CwlAuditAssumeMemberRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": member_role_arn_pattern(partition, role)
            },
            {
                "Sid": "CwlAuditReadOnly",
                "Effect": "Allow",
                "Action": actions(),
                "Resource": "*"
            }
        ]
    })
}

/// The member role's permissions policy: the single-account policy.
pub fn member_policy() -> serde_json::Value {
    serde_json::from_str(&policy_json()).expect("the policy is JSON")
}

/// What `cwl-audit iam-policy --organization` prints: both policies in one JSON document.
pub fn organization_policies_json(partition: &str, role: &str) -> String {
    let doc = serde_json::json!({
        "ManagementPolicy": management_policy(partition, role),
        "MemberRolePolicy": member_policy(),
        "MemberRoleName": role,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
    s.push('\n');
    s
}

/// The CloudFormation template (YAML) of the member role, for a service-managed StackSet deployed
/// to the organization's accounts: trusted by the account that runs `collect --organization`,
/// optionally only with an external id, with the member policy inline. Generated from the same
/// action list, so it cannot drift from what the collector calls.
pub fn stackset_template(role: &str) -> String {
    let mut actions = String::new();
    for a in self::actions() {
        actions.push_str(&format!("                  - {a}\n"));
    }
    format!(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Description: >-
  cwl-audit member role: read-only access to what CWL-014 / CIS 4.x need (CloudTrail, CloudWatch Logs
  metric filters, CloudWatch alarms, SNS subscriptions, enabled regions), assumable by the account
  that runs `cwl-audit collect --organization`. Generated by `cwl-audit iam-policy --organization --stackset`.
Parameters:
  CollectorAccountId:
    Type: String
    AllowedPattern: "^[0-9]{{12}}$"
    Description: The account whose credentials run `cwl-audit collect --organization` (the management account or a delegated administrator).
  RoleName:
    Type: String
    Default: {role}
    AllowedPattern: "^[A-Za-z0-9+=,.@_-]{{1,64}}$"
    Description: The role name given to `--member-role`.
  ExternalId:
    Type: String
    Default: ""
    Description: When set, the role can only be assumed with this `--external-id`.
Conditions:
  HasExternalId: !Not [!Equals [!Ref ExternalId, ""]]
Resources:
  CwlAuditRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Ref RoleName
      Description: Read-only role assumed by cwl-audit collect --organization
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub "arn:${{AWS::Partition}}:iam::${{CollectorAccountId}}:root"
            Action: sts:AssumeRole
            Condition: !If
              - HasExternalId
              - StringEquals:
                  "sts:ExternalId": !Ref ExternalId
              - !Ref AWS::NoValue
      Policies:
        - PolicyName: CwlAuditReadOnly
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: CwlAuditReadOnly
                Effect: Allow
                Action:
{actions}                Resource: "*"
Outputs:
  RoleArn:
    Description: The member role's ARN.
    Value: !GetAtt CwlAuditRole.Arn
"#
    )
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

    #[test]
    fn management_policy_lists_the_organization_assumes_the_role_and_reads_itself() {
        let v = management_policy("aws-cn", "Audit");
        let st = v["Statement"].as_array().unwrap();
        let all: Vec<&str> = st
            .iter()
            .flat_map(|s| match &s["Action"] {
                serde_json::Value::String(a) => vec![a.as_str()],
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                _ => vec![],
            })
            .collect();
        for o in OPERATIONS.iter().chain(ORG_OPERATIONS) {
            if let Some(a) = o.action {
                assert!(all.contains(&a), "{a} missing");
            }
        }
        assert_eq!(st[1]["Resource"], "arn:aws-cn:iam::*:role/Audit");
        // Everything but AssumeRole is a read.
        for a in all.iter().filter(|a| **a != "sts:AssumeRole") {
            let verb = a.split(':').nth(1).unwrap();
            assert!(
                ["Describe", "Get", "List"]
                    .iter()
                    .any(|p| verb.starts_with(p)),
                "{a}"
            );
        }
    }

    #[test]
    fn stackset_template_grants_the_member_policy() {
        let t = stackset_template("CwlAuditReadOnly");
        for a in actions() {
            assert!(t.contains(&format!("- {a}\n")), "{a} missing");
        }
        assert!(t.contains("Default: CwlAuditReadOnly"));
        assert!(
            !t.contains("organizations:"),
            "members need no Organizations access"
        );
    }
}
