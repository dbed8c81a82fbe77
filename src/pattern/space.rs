//! The event space coverage is decided over: well-formed CloudTrail records.
//!
//! Sources: AWS CloudTrail User Guide, "CloudTrail record contents for management, data, and
//! network activity events" (which fields every record has) and "CloudTrail userIdentity element"
//! (the values of `userIdentity.type`); cwl014.md step 3. Fields CloudTrail always writes are
//! present (strings); `userIdentity.type` and `eventType` take their documented values; every other
//! field may be absent or hold any JSON value.
use super::ast::{Segment, Selector};
use serde_json::{json, Value as Json};

pub const ROOT: &str = "Root";

/// Documented `userIdentity.type` values ("CloudTrail userIdentity element", field `type`).
pub const IDENTITY_TYPES: &[&str] = &[
    "Root",
    "IAMUser",
    "AssumedRole",
    "Role",
    "FederatedUser",
    "Directory",
    "AWSAccount",
    "AWSService",
    "IdentityCenterUser",
    "SAMLUser",
    "WebIdentityUser",
    "Unknown",
];

/// Documented `eventType` values ("CloudTrail record contents", field `eventType`).
pub const EVENT_TYPES: &[&str] = &[
    "AwsApiCall",
    "AwsServiceEvent",
    "AwsConsoleAction",
    "AwsConsoleSignIn",
    "AwsCloudTrailInsight",
    "AwsVpceEvent",
];

/// Top-level string fields every record has (besides `eventType`).
pub const ALWAYS_STRINGS: &[&str] = &[
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "eventID",
    "recipientAccountId",
];

/// What the event space allows at a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `userIdentity.type`: one of [`IDENTITY_TYPES`].
    IdentityType,
    /// `eventType`: one of [`EVENT_TYPES`].
    EventType,
    /// Always present, a string with any value.
    AlwaysString,
    /// `userIdentity`: always present, an object.
    AlwaysObject,
    /// Below a field that is always a string: never present.
    Never,
    /// Anything: absent, null, a boolean, a string, a number, an object or an array.
    Free,
}

pub fn kind_of(sel: &Selector) -> FieldKind {
    let steps = &sel.0;
    let key = |i: usize| match steps.get(i) {
        Some(Segment::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    match (key(0), steps.len()) {
        (Some("userIdentity"), 1) => FieldKind::AlwaysObject,
        (Some("userIdentity"), 2) if key(1) == Some("type") => FieldKind::IdentityType,
        (Some("userIdentity"), _) if key(1) == Some("type") => FieldKind::Never,
        // userIdentity is an object, so it has no elements.
        (Some("userIdentity"), _) if key(1).is_none() => FieldKind::Never,
        (Some("eventType"), 1) => FieldKind::EventType,
        (Some(k), 1) if ALWAYS_STRINGS.contains(&k) => FieldKind::AlwaysString,
        (Some(k), _) if k == "eventType" || ALWAYS_STRINGS.contains(&k) => FieldKind::Never,
        (None, _) if steps.is_empty() => FieldKind::AlwaysObject,
        (None, _) => FieldKind::Never, // `$[0]`: the record is an object, not an array
        _ => FieldKind::Free,
    }
}

/// A realistic record of an identity type, used as the starting point of examples (the fields a
/// pattern constrains are then set to the values coverage chose).
pub fn template(identity_type: &str) -> Json {
    let account = "123456789012";
    let user_identity = match identity_type {
        "Root" => json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
            "accessKeyId": "ASIAIOSFODNN7EXAMPLE"
        }),
        "IAMUser" => json!({
            "type": "IAMUser",
            "principalId": "AIDACKCEVSQ6C2EXAMPLE",
            "arn": format!("arn:aws:iam::{account}:user/Alice"),
            "accountId": account,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "Alice"
        }),
        "AssumedRole" => json!({
            "type": "AssumedRole",
            "principalId": "AROAIDPPEZS35WEXAMPLE:deploy",
            "arn": format!("arn:aws:sts::{account}:assumed-role/Deploy/deploy"),
            "accountId": account,
            "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAIDPPEZS35WEXAMPLE",
                    "arn": format!("arn:aws:iam::{account}:role/Deploy"), "accountId": account, "userName": "Deploy"},
                "attributes": {"creationDate": "2026-11-20T09:12:00Z", "mfaAuthenticated": "false"}
            }
        }),
        "AWSService" => json!({"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}),
        other => json!({
            "type": other,
            "principalId": format!("{account}:example"),
            "accountId": account
        }),
    };
    json!({
        "eventVersion": "1.11",
        "userIdentity": user_identity,
        "eventTime": "2026-11-20T09:15:27Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.17.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.4",
        "requestParameters": null,
        "responseElements": null,
        "requestID": "3e9a4c1f-6a0b-4c55-9a7e-0d8f2b6f1a11",
        "eventID": "9b1d7c2e-5f4a-4b8e-a3c6-1e2d3f4a5b6c",
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "iam.amazonaws.com"}
    })
}

/// The smallest well-formed record of an identity type: only the fields always present, with
/// plain values. Used when an example must avoid some text.
pub fn minimal(identity_type: &str) -> Json {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": identity_type},
        "eventTime": "2026-11-20T09:15:27Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "eventID": "9b1d7c2e-5f4a-4b8e-a3c6-1e2d3f4a5b6c",
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    })
}

/// The value of the Root template at a selector, if it is a string (a realistic stand-in for
/// "any other value").
pub fn template_string(sel: &Selector) -> Option<String> {
    let t = template(ROOT);
    let mut cur = &t;
    for step in &sel.0 {
        cur = match step {
            Segment::Key(k) => cur.get(k)?,
            Segment::Index(i) => cur.get(i)?,
            Segment::AnyIndex => return None,
        };
    }
    cur.as_str().map(str::to_string)
}
