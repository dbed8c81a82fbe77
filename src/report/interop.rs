//! What the security-data formats (OCSF, ASFF) share: when a finding was observed, which AWS
//! resources it names, and what kind each is. Both describe a finding as "the state of these
//! resources at this time", where SARIF describes "this line of this file".
//!
//! Time is the snapshot's `collected_at`, not the time of the evaluation: the evaluation is
//! offline, so the state it judged is the state at collection; the same snapshots give the same
//! report (diffable, reproducible, and Security Hub sees an unchanged `UpdatedAt` for an
//! unchanged collection); a new collection is a later time, as an update must be. A snapshot
//! without `collected_at` (the field is optional: hand-written snapshots) is dated by the time
//! of the run, the only honest time left.
use crate::findings::RuleMeta;
use crate::findings::{Finding, RunResult, Verdict};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// The time of the run, once per report: every undated finding of one report gets the same one.
pub fn now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// When the state `f` judges was collected: the `collected_at` of the snapshot it points at,
/// else the latest of its account's snapshots, else `fallback`.
pub fn observed(f: &Finding, run: &RunResult, fallback: Millis) -> Millis {
    let at_location = f.location.as_ref().and_then(|l| {
        run.accounts
            .get(&l.account_id)?
            .collected_at
            .get(&l.region)
            .and_then(|s| parse_rfc3339(s))
    });
    at_location
        .or_else(|| {
            run.accounts
                .get(&f.account_id)?
                .collected_at
                .values()
                .filter_map(|s| parse_rfc3339(s))
                .max()
        })
        .unwrap_or(fallback)
}

/// The partition of `f`'s account: from its snapshots, else from an ARN it names, else `aws`.
pub fn partition<'a>(f: &'a Finding, run: &'a RunResult) -> &'a str {
    if let Some(info) = run.accounts.get(&f.account_id) {
        if !info.partition.is_empty() {
            return &info.partition;
        }
    }
    f.resource
        .as_deref()
        .and_then(|r| arn_field(r, 1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// Field `i` of an ARN (1 partition, 2 service, 3 region, 4 account, 5 resource), if `s` is one.
pub fn arn_field(s: &str, i: usize) -> Option<&str> {
    let a = crate::arn::Arn::parse(s)?;
    [a.partition, a.service, a.region, a.account, a.resource]
        .get(i.checked_sub(1)?)
        .copied()
}

/// The finding's identity, OCSF's `finding_info.uid` and ASFF's `Id`: the same account, rule and partition is the
/// same finding in every report, whatever its verdict, so a later pass closes an earlier fail.
pub fn finding_uid(f: &Finding, partition: &str) -> String {
    format!("cwl-audit/{partition}/{}/{}", f.account_id, f.rule_id)
}

/// The message, marked when the verdict could not be reached, so it never reads like a result.
pub fn message(f: &Finding) -> String {
    match f.verdict {
        Verdict::Unknown => format!("Could not be verified: {}", f.message),
        _ => f.message.clone(),
    }
}

/// `framework/control` for each control a rule maps to, as SARIF tags name them.
pub fn requirements(rule: &RuleMeta) -> Vec<String> {
    rule.frameworks
        .iter()
        .flat_map(|(k, cs)| cs.iter().map(move |c| format!("{k}/{c}")))
        .collect()
}

/// ASFF's finding type taxonomy (namespace/category/classifier), also OCSF's `finding_info.types`.
pub fn types(rule: Option<&RuleMeta>) -> Vec<&'static str> {
    let Some(rule) = rule else {
        return vec!["Software and Configuration Checks"];
    };
    let mut t = Vec::new();
    if rule.frameworks.keys().any(|k| k.starts_with("cis-")) {
        t.push("Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark");
    }
    if rule.frameworks.contains_key("aws-security-hub") {
        t.push("Software and Configuration Checks/AWS Security Best Practices");
    }
    if t.is_empty() {
        t.push("Software and Configuration Checks");
    }
    t
}

/// A resource a finding names, and the chain link it stands for (`trail`, `alarm`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// An ARN, or a name where the snapshot had no ARN.
    pub id: String,
    pub link: Option<String>,
    /// The resource at the broken link (the finding's `resource` when it does not pass).
    pub at_fault: bool,
}

/// The finding's resource first (at the broken link, or the last proven one for a pass), then
/// every ARN of the proven chain, each once.
pub fn resources(f: &Finding, broken: bool) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    if let Some(r) = f.resource.as_deref().filter(|r| !r.is_empty()) {
        out.push(Resource {
            id: r.to_string(),
            link: f.link.as_deref().map(str::to_string),
            at_fault: broken,
        });
    }
    for link in f.chain.as_array().into_iter().flatten() {
        let Some(arn) = link.get("arn").and_then(|a| a.as_str()) else {
            continue;
        };
        if arn.is_empty() || out.iter().any(|r| r.id == arn) {
            continue;
        }
        out.push(Resource {
            id: arn.to_string(),
            link: link
                .get("link")
                .and_then(|l| l.as_str())
                .map(str::to_string),
            at_fault: false,
        });
    }
    out
}

/// Security Hub's resource type for an ARN (its list of types: `Other` for anything not on it,
/// such as log groups, which have no ASFF type).
pub fn asff_type(id: &str) -> &'static str {
    let service = arn_field(id, 2).unwrap_or("");
    let resource = arn_field(id, 5).unwrap_or("");
    match (service, resource) {
        ("cloudtrail", r) if r.starts_with("trail/") => "AwsCloudTrailTrail",
        ("cloudwatch", r) if r.starts_with("alarm:") => "AwsCloudWatchAlarm",
        ("sns", r) if !r.contains(':') => "AwsSnsTopic",
        _ => "Other",
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` (RFC 3339) as milliseconds since the epoch. Anything
/// else is `None`: `collected_at` comes from a file, and a malformed one must not become a time.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Milliseconds: the first three digits, the rest is below what the formats carry.
        let digits = s.get(start..i.min(start + 3))?;
        millis = digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32);
    }
    let offset_minutes = match s.get(i..)? {
        "Z" | "z" => 0,
        // Bytes, not `str` slices: a multi-byte character there must be a `None`, not a panic.
        rest if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let sign = if rest.as_bytes()[0] == b'-' { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1_000 + millis)
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` when not whole seconds).
pub fn format_rfc3339(ms: Millis) -> String {
    let secs = ms.div_euclid(1_000);
    let millis = ms.rem_euclid(1_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3_600, rem % 3_600 / 60, rem % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, March-based years so
/// the leap day is the last day of a year).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_rejects_junk() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        let t = parse_rfc3339("2026-11-25T10:00:00Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-25T10:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-11-25T12:00:00.5+02:00"),
            Some(t + 500),
            "offsets and fractions"
        );
        assert_eq!(
            format_rfc3339(parse_rfc3339("2024-02-29T23:59:59.123456Z").unwrap()),
            "2024-02-29T23:59:59.123Z"
        );
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T10:00:00",
            "2026-02-30T10:00:00Z",
            "2026-11-25T25:00:00Z",
            "2026-11-25T10:00:00Zjunk",
            "2026-11-25T10:00:00.Z",
            "2026-11-25T10:00:00+0200",
            "２026-11-25T10:00:00Z",
            "2026-11-25T10:00:00+é:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn resource_types() {
        assert_eq!(
            asff_type("arn:aws:cloudtrail:us-east-1:1:trail/t"),
            "AwsCloudTrailTrail"
        );
        assert_eq!(
            asff_type("arn:aws:cloudwatch:us-east-1:1:alarm:a"),
            "AwsCloudWatchAlarm"
        );
        assert_eq!(asff_type("arn:aws:sns:us-east-1:1:topic"), "AwsSnsTopic");
        assert_eq!(asff_type("arn:aws:logs:us-east-1:1:log-group:g"), "Other");
        assert_eq!(asff_type("just-a-name"), "Other");
    }
}
