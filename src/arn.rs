//! ARNs: the one parser and the one builder (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), and
//! the names inside them that several parts check: partitions, regions, account ids, role names.
//!
//! Parsing never validates the fields beyond their number: what a field may hold depends on who
//! asks (`remediate` checks every value against AWS's naming rules before use, the snapshot scan
//! only wants an account id). Building takes fields the caller has checked; a field is never
//! escaped, since no ARN syntax exists to escape a `:` inside one.

/// The fields of an ARN, borrowed from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// Everything after the fifth `:` (it may itself hold `:` and `/`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The six fields of `s`, if it starts with `arn:` and has them.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut f = s.splitn(6, ':');
        if f.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: f.next()?,
            service: f.next()?,
            region: f.next()?,
            account: f.next()?,
            resource: f.next()?,
        })
    }

    /// The account field when it is a 12-digit account id.
    pub fn account_id(&self) -> Option<&'a str> {
        is_account_id(self.account).then_some(self.account)
    }
}

/// The account named by anything that starts like an ARN, even one without a resource: the
/// snapshot scan decides which accounts stay in memory for cross-account chains, and must rather
/// keep one too many than drop one.
pub fn account_of(s: &str) -> Option<&str> {
    let account = s.strip_prefix("arn:")?.split(':').nth(3)?;
    is_account_id(account).then_some(account)
}

/// A 12-digit AWS account id: the only form accepted anywhere (a snapshot, a manifest, a
/// command line), since account ids also become directory names.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The partitions whose snapshots cwl-audit reads (and whose ARNs it writes).
pub const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// A region code as AWS writes it (`us-east-1`, `us-gov-west-1`).
pub fn is_region(s: &str) -> bool {
    // us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-5 ...
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// An IAM role name: 1-64 letters, digits and `+=,.@_-`.
pub fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub fn build(
    partition: &str,
    service: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> String {
    format!("arn:{partition}:{service}:{region}:{account}:{resource}")
}

/// An IAM role (IAM is global: no region). `account` may be `*` in a policy's resource.
pub fn role(partition: &str, account: &str, name: &str) -> String {
    build(partition, "iam", "", account, &format!("role/{name}"))
}

/// A CloudTrail trail.
pub fn trail(partition: &str, region: &str, account: &str, name: &str) -> String {
    build(
        partition,
        "cloudtrail",
        region,
        account,
        &format!("trail/{name}"),
    )
}

/// An SNS topic.
pub fn topic(partition: &str, region: &str, account: &str, name: &str) -> String {
    build(partition, "sns", region, account, name)
}

/// A CloudWatch metric alarm.
pub fn alarm(partition: &str, region: &str, account: &str, name: &str) -> String {
    build(
        partition,
        "cloudwatch",
        region,
        account,
        &format!("alarm:{name}"),
    )
}

/// A member account of an organization, as Organizations names it (no region; the management
/// account owns the ARN).
pub fn organization_account(
    partition: &str,
    management_account: &str,
    organization: &str,
    account: &str,
) -> String {
    build(
        partition,
        "organizations",
        "",
        management_account,
        &format!("account/{organization}/{account}"),
    )
}

/// The trail name of a CloudTrail trail ARN (`trail/NAME`).
pub fn trail_name<'a>(a: &Arn<'a>) -> Option<&'a str> {
    (a.service == "cloudtrail")
        .then(|| a.resource.strip_prefix("trail/"))
        .flatten()
}

/// A CloudWatch Logs log group, as CloudTrail's `CloudWatchLogsLogGroupArn` names it (`:*`).
pub fn log_group(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("{}:*", log_group_bare(partition, region, account, name))
}

/// A CloudWatch Logs log group without the `:*` (the resource of an IAM statement, to which the
/// statement appends its own suffixes).
pub fn log_group_bare(partition: &str, region: &str, account: &str, name: &str) -> String {
    build(
        partition,
        "logs",
        region,
        account,
        &format!("log-group:{name}"),
    )
}

/// The log group name of a CloudWatch Logs ARN (`log-group:NAME`, with or without `:*`).
pub fn log_group_name<'a>(a: &Arn<'a>) -> Option<&'a str> {
    let rest = a.resource.strip_prefix("log-group:")?;
    Some(rest.strip_suffix(":*").unwrap_or(rest))
}

/// Whether `s` is an SNS topic's ARN (`arn:P:sns:REGION:ACCOUNT:NAME`; a subscription's ARN has
/// one more `:` part).
pub fn is_topic(s: &str) -> bool {
    Arn::parse(s)
        .is_some_and(|a| a.service == "sns" && !a.resource.is_empty() && !a.resource.contains(':'))
}

/// Whether a subscription's `SubscriptionArn` says it is confirmed: SNS lists an unconfirmed one
/// with `PendingConfirmation` (or `Deleted`) there instead of an ARN.
pub fn is_confirmed_subscription(subscription_arn: &str) -> bool {
    subscription_arn.starts_with("arn:")
}

/// The last part of an ARN's resource (after its last `/` or `:`), to name a resource in a few
/// words; the whole text when there is none.
pub fn short_name(s: &str) -> &str {
    s.rsplit(['/', ':']).next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_build_round_trip() {
        for s in [
            "arn:aws:sns:us-east-1:111111111111:alerts",
            "arn:aws-cn:logs:cn-north-1:111111111111:log-group:a/b:*",
            "arn:aws:iam::111111111111:role/x",
            "arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
        ] {
            let a = Arn::parse(s).unwrap();
            assert_eq!(
                build(a.partition, a.service, a.region, a.account, a.resource),
                s
            );
            assert_eq!(a.account_id(), Some("111111111111"));
        }
        let lg = Arn::parse("arn:aws:logs:us-east-1:111111111111:log-group:a:b:*").unwrap();
        assert_eq!(lg.resource, "log-group:a:b:*");
        assert_eq!(
            log_group("aws", "us-east-1", "111111111111", "a:b"),
            "arn:aws:logs:us-east-1:111111111111:log-group:a:b:*"
        );
        assert_eq!(role("aws", "*", "R"), "arn:aws:iam::*:role/R");
        for bad in [
            "",
            "arn",
            "arn:aws:sns:us-east-1",
            "ARN:aws:sns:r:a:x",
            "urn:a:b:c:d:e",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Arn::parse("arn:aws:iam::*:role/x").unwrap().account_id(),
            None
        );
        // Lenient on purpose: no resource, still an account.
        assert_eq!(
            account_of("arn:aws:sns:us-east-1:111111111111"),
            Some("111111111111")
        );
        assert_eq!(account_of("arn:aws:sns:us-east-1:11111111111x:t"), None);
    }
}
