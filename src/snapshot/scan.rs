//! A light first reading of a snapshot: whose it is, and which other accounts it names.
//!
//! `eval` keeps in memory only the accounts that some snapshot refers to (the owner of an
//! organization trail, the account of its log group, the account of an alarm's SNS topic); every
//! other account is parsed, decided and dropped in turn. This pass finds those references without
//! building the document: serde_json tokenizes the text and this visitor looks only at the three
//! header members and at strings that start with `arn:`. Any ARN counts, wherever it appears, so the
//! set is a superset of what policies can follow: keeping an account too many costs memory, missing
//! one would turn a provable verdict into `unknown`.
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;

/// What the scan found. `None` members were absent or not strings: the full parse says why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
    /// Account ids named in any ARN in the document (the snapshot's own account included).
    pub refs: BTreeSet<String>,
}

/// Scans snapshot text. `Err` when the text is not a JSON object (the full parse reports why).
pub fn scan(bytes: &[u8]) -> Result<Scan, serde_json::Error> {
    let mut out = Scan::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de::DeserializeSeed::deserialize(Top(&mut out), &mut de)?;
    de.end()?;
    Ok(out)
}

use crate::arn::account_of as arn_account;

struct Top<'a>(&'a mut Scan);

impl<'de> de::DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a snapshot object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "account_id" => Some(&mut self.0.account_id),
                "region" => Some(&mut self.0.region),
                "partition" => Some(&mut self.0.partition),
                _ => None,
            };
            match slot {
                // A header that is not a string is left `None`: the full parse says why.
                Some(slot) => {
                    *slot = map
                        .next_value::<serde_json::Value>()?
                        .as_str()
                        .map(str::to_string)
                }
                None => map.next_value_seed(Arns(&mut self.0.refs))?,
            }
        }
        Ok(())
    }
}

/// Any value; collects the accounts of the ARNs among its strings and member names (trail status
/// and selectors are keyed by trail ARN).
struct Arns<'a>(&'a mut BTreeSet<String>);

impl Arns<'_> {
    fn note(&mut self, s: &str) {
        if let Some(account) = arn_account(s) {
            if !self.0.contains(account) {
                self.0.insert(account.to_string());
            }
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for Arns<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Arns<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(mut self, s: &str) -> Result<(), E> {
        self.note(s);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Arns(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Arns(&mut *self.0))?.is_some() {
            map.next_value_seed(Arns(&mut *self.0))?;
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_references() {
        let text = br#"{
            "cloudtrail": {"status": {"arn:aws:cloudtrail:us-east-1:222222222222:trail/org": {}},
                           "trailList": [{"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:333333333333:log-group:x:*"}]},
            "cloudwatch": {"MetricAlarms": [{"AlarmActions": ["arn:aws:sns:us-east-1:444444444444:t", "arn:aws:swf:x"]}]},
            "account_id": "111111111111", "region": "eu-west-1", "partition": "aws",
            "note": "arn:aws:sns:us-east-1:12345:short", "n": [1, 2.5, null, true]
        }"#;
        let s = scan(text).unwrap();
        assert_eq!(s.account_id.as_deref(), Some("111111111111"));
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.partition.as_deref(), Some("aws"));
        let refs: Vec<&str> = s.refs.iter().map(String::as_str).collect();
        assert_eq!(refs, ["222222222222", "333333333333", "444444444444"]);
    }

    #[test]
    fn escaped_arns_are_found() {
        // Policies see the decoded string, so the scan must too.
        let s = scan(br#"{"x": "arn\u003aaws:sns:us-east-1:555555555555:t"}"#).unwrap();
        assert!(s.refs.contains("555555555555"));
    }

    #[test]
    fn non_string_header_is_none_and_bad_json_errs() {
        let s = scan(br#"{"account_id": 1, "region": ["x"], "partition": {"a": 1}}"#).unwrap();
        assert_eq!((s.account_id, s.region, s.partition), (None, None, None));
        assert!(scan(b"{\"a\": ").is_err());
        assert!(scan(b"[1]").is_err(), "not an object");
        assert!(scan(b"{} x").is_err());
    }
}
