//! Making snapshot values safe to put in front of a shell, the AWS CLI and CloudFormation.
//!
//! Snapshot files are written by whoever can commit to the snapshot repository, and a plan is text
//! a person pastes into a shell in an audited account. So the class of problem is closed here, in
//! one place, instead of value by value:
//! - every value taken from a snapshot is checked against AWS's naming rules for its kind
//!   ([`check`]); a value that fails makes its step a commented manual step (see `Step::manual`);
//! - every command passes its parameters as one JSON document (`--cli-input-json`), built with
//!   serde_json and quoted by the one quoting function ([`crate::text::shell_word`]): the AWS CLI reads no option,
//!   no `file://` / `http://` parameter file and no shorthand syntax out of a JSON value;
//! - the JSON text carries no raw control, line-separator or bidi character ([`json`]), so what a
//!   reader sees in the script is what runs;
//! - CloudFormation dynamic references (`{{resolve:...}}`) and Terraform interpolation (`${`, `%{`)
//!   are refused in every value, so no value is resolved or interpolated by a deployment tool
//!   (and Terraform strings are escaped besides, by `terraform::string`).
use crate::arn::{is_account_id, is_region, is_role_name, PARTITIONS};
use crate::text::is_hidden;
use serde_json::Value;

/// The kinds of values a plan uses, each with AWS's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Account,
    Region,
    /// CloudWatch alarm name: 1-255 characters, no control characters.
    AlarmName,
    /// Free text of an alarm (`AlarmDescription`): up to 1024 characters.
    Description,
    /// A string inside a structured value (event selectors, metric-math queries), passed as JSON:
    /// only what every kind refuses, up to 1024 characters.
    Text,
    /// Metric filter name: 1-512, no `:` or `*`.
    FilterName,
    /// Log group name: 1-512 of `[.\-_/#A-Za-z0-9]`.
    LogGroup,
    /// Metric name or namespace: 1-255, no `:`, `*` or `$`.
    Metric,
    /// A metric filter pattern: up to 1024 characters.
    Pattern,
    /// SNS topic name: 1-256 of `[A-Za-z0-9_-]` (`.fifo` suffix allowed).
    TopicName,
    /// `arn:PARTITION:sns:REGION:ACCOUNT:TOPIC`.
    TopicArn,
    /// CloudTrail trail name: 3-128 of letters, digits, `.`, `_`, `-`, starting and ending with a
    /// letter or digit, no two of `._-` next to each other.
    TrailName,
    /// `arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`.
    TrailArn,
    /// IAM role name: 1-64 of `[A-Za-z0-9+=,.@_-]`.
    RoleName,
    /// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
    RoleArn,
    /// An alarm action: an ARN (known partition, a service name) of printable ASCII without spaces
    /// or shell characters; an SNS action must be a valid topic ARN.
    ActionArn,
    /// An e-mail address to subscribe (or the placeholder).
    Email,
    /// An alarm dimension's name or value: 1-255, no control characters.
    Dimension,
    /// An enumerated AWS word (`Sum`, `GreaterThanOrEqualToThreshold`...): letters and digits.
    Word,
    /// S3 bucket name: 3-63 of lowercase letters, digits, `.` and `-`, starting and ending with a
    /// letter or digit.
    Bucket,
    /// A trail's S3 key prefix: up to 200 characters.
    KeyPrefix,
    /// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID` (or `alias/NAME`).
    KmsKeyArn,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Account => "account id",
            Kind::Region => "region",
            Kind::AlarmName => "alarm name",
            Kind::Description => "alarm description",
            Kind::Text => "value",
            Kind::FilterName => "metric filter name",
            Kind::LogGroup => "log group name",
            Kind::Metric => "metric name or namespace",
            Kind::Pattern => "filter pattern",
            Kind::TopicName => "SNS topic name",
            Kind::TopicArn => "SNS topic ARN",
            Kind::TrailName => "trail name",
            Kind::TrailArn => "trail ARN",
            Kind::RoleName => "IAM role name",
            Kind::RoleArn => "IAM role ARN",
            Kind::ActionArn => "alarm action ARN",
            Kind::Email => "e-mail address",
            Kind::Dimension => "alarm dimension",
            Kind::Word => "AWS keyword",
            Kind::Bucket => "S3 bucket name",
            Kind::KeyPrefix => "S3 key prefix",
            Kind::KmsKeyArn => "KMS key ARN",
        }
    }
}

fn len_in(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    s.chars().all(f)
}

fn trail_name_ok(n: &str) -> bool {
    let sep = |c: char| matches!(c, '.' | '_' | '-');
    len_in(n, 3, 128)
        && all(n, |c| c.is_ascii_alphanumeric() || sep(c))
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !n
            .as_bytes()
            .windows(2)
            .any(|w| sep(w[0] as char) && sep(w[1] as char))
}

fn topic_name_ok(n: &str) -> bool {
    let base = n.strip_suffix(".fifo").unwrap_or(n);
    len_in(n, 1, 256) && all(base, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with a known partition and account.
fn arn_parts(s: &str, service: &str) -> Option<(String, String, String)> {
    let a = crate::arn::Arn::parse(s)?;
    (PARTITIONS.contains(&a.partition) && a.service == service && is_account_id(a.account)).then(
        || {
            (
                a.region.to_string(),
                a.account.to_string(),
                a.resource.to_string(),
            )
        },
    )
}

/// Whether `v` is a valid value of kind `k`. Checks first what no kind may hold: hidden characters
/// (control, line separators, bidi) and deployment-tool syntax (`{{resolve:`, `${`, `%{`).
pub fn valid(k: Kind, v: &str) -> bool {
    if v.chars().any(is_hidden) || v.contains("{{") || v.contains("${") || v.contains("%{") {
        return false;
    }
    match k {
        Kind::Account => is_account_id(v),
        Kind::Region => is_region(v),
        Kind::AlarmName => len_in(v, 1, 255),
        Kind::Description | Kind::Text => len_in(v, 0, 1024),
        Kind::FilterName => len_in(v, 1, 512) && !v.contains([':', '*']),
        Kind::LogGroup => {
            len_in(v, 1, 512) && all(v, |c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
        }
        Kind::Metric => len_in(v, 1, 255) && !v.contains([':', '*', '$']),
        Kind::Pattern => len_in(v, 0, crate::pattern::MAX_PATTERN_CHARS),
        Kind::TopicName => topic_name_ok(v),
        Kind::TopicArn => arn_parts(v, "sns")
            .is_some_and(|(region, _, name)| is_region(&region) && topic_name_ok(&name)),
        Kind::TrailName => trail_name_ok(v),
        Kind::TrailArn => arn_parts(v, "cloudtrail").is_some_and(|(region, _, res)| {
            is_region(&region) && res.strip_prefix("trail/").is_some_and(trail_name_ok)
        }),
        Kind::RoleName => is_role_name(v),
        Kind::RoleArn => arn_parts(v, "iam").is_some_and(|(region, _, res)| {
            region.is_empty()
                && res.strip_prefix("role/").is_some_and(|path| {
                    let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
                    is_role_name(name)
                        && all(dirs, |c| {
                            c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)
                        })
                })
        }),
        Kind::ActionArn => {
            len_in(v, 1, 1024)
                && all(v, |c| {
                    c.is_ascii_graphic() && !"'\"\\`$;&|<>(){}".contains(c)
                })
                && crate::arn::Arn::parse(v).is_some_and(|a| {
                    PARTITIONS.contains(&a.partition)
                        && !a.service.is_empty()
                        && all(a.service, |c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
                        })
                        && !a.resource.starts_with('-')
                        // An SNS action is a topic: its name follows the topic rule.
                        && (a.service != "sns" || valid(Kind::TopicArn, v))
                })
        }
        Kind::Email => {
            v == super::EMAIL_PLACEHOLDER
                || (len_in(v, 3, 254)
                    && v.split('@').count() == 2
                    && !v.starts_with(['@', '-'])
                    && all(v, |c| c.is_ascii_alphanumeric() || ".@_+-".contains(c)))
        }
        Kind::Dimension => len_in(v, 1, 255),
        Kind::Word => len_in(v, 1, 64) && all(v, |c| c.is_ascii_alphanumeric()),
        Kind::Bucket => {
            len_in(v, 3, 63)
                && all(v, |c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                })
                && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.ends_with(|c: char| c.is_ascii_alphanumeric())
        }
        Kind::KeyPrefix => len_in(v, 0, 200),
        Kind::KmsKeyArn => arn_parts(v, "kms").is_some_and(|(region, _, res)| {
            is_region(&region)
                && (res
                    .strip_prefix("key/")
                    .or_else(|| res.strip_prefix("alias/")))
                .is_some_and(|id| {
                    len_in(id, 1, 256)
                        && all(id, |c| c.is_ascii_alphanumeric() || "/_-".contains(c))
                })
        }),
    }
}

/// `Ok` when valid, else the reason in words (the value shown sanitized).
pub fn check(k: Kind, v: &str) -> Result<(), String> {
    if valid(k, v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid {} by AWS's naming rules",
            shown(v),
            k.describe()
        ))
    }
}

/// A value in a message: JSON-quoted (escapes control characters), hidden characters replaced,
/// at most 80 characters.
pub fn shown(v: &str) -> String {
    let cut: String = v.chars().take(80).collect();
    let more = if v.chars().count() > 80 { "..." } else { "" };
    format!("{}{more}", json(&Value::String(cut)))
}

/// `v` as compact JSON text in which every hidden character (control, DEL and C1, line and
/// paragraph separators, bidi controls) is a `\uXXXX` escape: serde_json escapes only U+0000 to
/// U+001F, and the rest would reach a terminal or an editor as they are. Outside strings JSON text
/// holds none of them, so escaping them anywhere is escaping them inside strings.
pub fn json(v: &Value) -> String {
    crate::text::escape_hidden_in_json(serde_json::to_string(v).unwrap_or_default())
}

/// [`json`], indented (CloudFormation templates), ending in a newline.
pub fn json_pretty(v: &Value) -> String {
    crate::text::escape_hidden_in_json(serde_json::to_string_pretty(v).unwrap_or_default()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        assert!(valid(Kind::TrailName, "management-events"));
        assert!(!valid(Kind::TrailName, "a--b"));
        assert!(!valid(Kind::TrailName, "-ab"));
        assert!(!valid(Kind::TrailName, "x\"y"));
        assert!(valid(Kind::LogGroup, "aws-cloudtrail-logs-1/x#y"));
        assert!(!valid(Kind::LogGroup, "a b"));
        assert!(valid(
            Kind::TopicArn,
            "arn:aws:sns:us-east-1:123456789012:Root_Alerts-1"
        ));
        assert!(!valid(
            Kind::TopicArn,
            "arn:aws:sns:us-east-1:123456789012:$(touch x)"
        ));
        assert!(!valid(Kind::ActionArn, "--endpoint-url=http://x"));
        assert!(!valid(
            Kind::ActionArn,
            "arn:aws:sns:eu-west-1:123456789012:--endpoint-url=http://x"
        ));
        assert!(valid(
            Kind::ActionArn,
            "arn:aws:automate:eu-west-1:ec2:stop"
        ));
        assert!(!valid(Kind::AlarmName, "a\u{2028}b"));
        assert!(!valid(Kind::AlarmName, "{{resolve:ssm:x}}"));
        assert!(!valid(Kind::AlarmName, "${aws_x.y}"));
        assert!(
            valid(Kind::AlarmName, "file://etc"),
            "the JSON input keeps it a value"
        );
        assert!(valid(Kind::Region, "us-gov-west-1"));
        assert!(!valid(Kind::Region, "us-east-1;"));
        assert!(valid(
            Kind::RoleArn,
            "arn:aws:iam::123456789012:role/service/CloudTrail_Logs"
        ));
        assert!(!valid(Kind::Email, "a@b;rm"));
        assert!(valid(Kind::Bucket, "trail-logs.example-1"));
        assert!(!valid(Kind::Bucket, "-x\"y"));
        assert!(valid(
            Kind::KmsKeyArn,
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!valid(
            Kind::KmsKeyArn,
            "arn:aws:kms:eu-west-1:123456789012:key/${x}"
        ));
    }

    #[test]
    fn json_text_has_no_hidden_characters() {
        let v = serde_json::json!({"a": "x\u{1b}\u{7f}\u{85}\u{2028}\u{202e}\r\u{200b}\u{feff}"});
        let t = json(&v);
        assert!(!t.chars().any(is_hidden), "{t}");
        assert_eq!(serde_json::from_str::<Value>(&t).unwrap(), v);
    }
}
