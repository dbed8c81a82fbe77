//! JSON text straight into the engine's value type, sharing repeated strings.
//!
//! A snapshot repeats the same short strings thousands of times: member names (`AlarmName`), enum
//! values (`GreaterThanOrEqualToThreshold`), the topic ARN of every alarm action. regorus's own
//! parser shares only member names; sharing values too keeps a parsed organization about a quarter
//! smaller (measured with `make bench`), which is what bounds how many accounts one run can hold.
//! Empty arrays and objects are shared the same way.
use regorus::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Strings longer than this are rarely repeated (messages, descriptions): not worth a table entry.
const SHARE_MAX_LEN: usize = 128;

#[derive(Default)]
struct Shared {
    // foldhash: SipHash was a sixth of parsing time on these short keys, and the table lives for
    // one file of trusted-size input (HashDoS is bounded by the file size limit).
    strings: HashMap<Box<str>, Value, foldhash::fast::RandomState>,
    empty_array: Option<Value>,
    empty_object: Option<Value>,
}

impl Shared {
    fn string(&mut self, s: &str) -> Value {
        if s.len() > SHARE_MAX_LEN {
            return Value::from(s);
        }
        if let Some(v) = self.strings.get(s) {
            return v.clone();
        }
        let v = Value::from(s);
        self.strings.insert(s.into(), v.clone());
        v
    }
}

struct Seed<'a>(&'a RefCell<Shared>);

impl<'de> de::DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // As regorus: a non-finite number has no JSON form and breaks ordering in sets.
        if !v.is_finite() {
            return Err(E::custom(format!("invalid non-finite number {v}")));
        }
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(self.0.borrow_mut().string(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(Seed(self.0))? {
            items.push(v);
        }
        if items.is_empty() {
            let mut shared = self.0.borrow_mut();
            return Ok(shared
                .empty_array
                .get_or_insert_with(Value::new_array)
                .clone());
        }
        Ok(Value::from(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Collected first and built in one go: collectors write members sorted, and building a
        // map from sorted pairs costs one comparison per member instead of a search per insert.
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            let value = map.next_value_seed(Seed(self.0))?;
            pairs.push((key, value));
        }
        // A repeated member name is refused: JSON leaves its meaning open (serde_json keeps the
        // last value, other readers the first), so a reviewer reading `"ActionsEnabled": false`
        // could see one alarm and cwl-audit decide another. AWS never writes one. Sorting here
        // (stable, and already sorted in collected files) leaves the map's own sort nothing to do.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            let name = w[0]
                .0
                .as_string()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return Err(de::Error::custom(format!(
                "an object repeats the member name {name:?} (JSON readers disagree on which value counts)"
            )));
        }
        let entries: BTreeMap<Value, Value> = pairs.into_iter().collect();
        if entries.is_empty() {
            let mut shared = self.0.borrow_mut();
            return Ok(shared
                .empty_object
                .get_or_insert_with(Value::new_object)
                .clone());
        }
        Ok(Value::from(entries))
    }
}

/// An object member name, shared like any string value.
struct Key<'a>(&'a RefCell<Shared>);

impl<'de> de::DeserializeSeed<'de> for Key<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(self.0.borrow_mut().string(s))
    }
}

/// Parses `text` into a value. The error is serde_json's, with its line and column.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let shared = RefCell::new(Shared::default());
    let mut de = serde_json::Deserializer::from_str(text);
    let value = de::DeserializeSeed::deserialize(Seed(&shared), &mut de)?;
    de.end()?;
    Ok(value)
}

/// serde_json's message in words, for `file:line:col: invalid JSON: <words>`: without its own
/// " at line L column C" (the place is shown in front), and for a `\uD800`-`\uDFFF` escape
/// that is not half of a surrogate pair, why: serde_json says only "unexpected end of hex escape"
/// or "lone leading surrogate", which names no rule a person can fix the file by.
pub fn json_error_words(e: &serde_json::Error) -> String {
    let m = e.to_string();
    let m = m.split(" at line ").next().unwrap_or(&m);
    if m.contains("surrogate") || m.contains("hex escape") || m.contains("unicode code point") {
        format!(
            "{m} (a \\u escape of U+D800 to U+DFFF must be half of a surrogate pair: JSON text must be valid Unicode)"
        )
    } else {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_member_name_is_refused() {
        let e = parse(r#"{"a": {"ActionsEnabled": false, "ActionsEnabled": true}}"#).unwrap_err();
        assert!(
            json_error_words(&e).contains("repeats the member name \"ActionsEnabled\""),
            "{e}"
        );
        assert!(parse(r#"{"a": 1, "b": {"a": 2}}"#).is_ok());
    }

    #[test]
    fn a_lone_surrogate_is_explained() {
        for text in [r#""\ud800""#, r#""\udc00""#, r#""\ud800\u0041""#] {
            let e = parse(text).unwrap_err();
            let w = json_error_words(&e);
            assert!(w.contains("surrogate pair"), "{text}: {w}");
            assert!(!w.contains(" at line "), "{w}");
        }
        let e = parse("{").unwrap_err();
        assert_eq!(json_error_words(&e), "EOF while parsing an object");
    }

    #[test]
    fn same_value_as_regorus() {
        let text = r#"{"a": [1, -2, 3.5, "x", "x", true, null, [], {}], "b": {"c": "\u00e9\n"}, "big": 18446744073709551615, "d": 2, "c": 0}"#;
        assert_eq!(parse(text).unwrap(), Value::from_json_str(text).unwrap());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("{\n  \"a\": ").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 7));
        assert!(parse("{} x").is_err(), "trailing characters");
    }
}
