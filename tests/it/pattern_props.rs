//! Property test of coverage: whenever `covers` says yes, no generated record that the reference
//! matches is missed by the candidate; whenever it says no, its counter-example is genuine; and
//! `matches_non_root` is false only if no generated non-root record matches.
use crate::support::cis_root;
use cwl_audit::pattern::{covers, matches, space};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn selector() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "$.userIdentity.type",
        "$.userIdentity.invokedBy",
        "$.eventType",
        "$.sourceIPAddress",
        "$.eventName",
        "$.errorCode",
        "$.readOnly",
    ])
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "\"Root\"",
        "Root",
        "\"root\"",
        "\"IAMUser\"",
        "\"AwsServiceEvent\"",
        "\"AwsApiCall\"",
        "\"ConsoleLogin\"",
        "\"10.0.0.1\"",
        "\"10.*\"",
        "\"*Login\"",
        "\"Ro*\"",
        "1",
        "2.5",
        "*",
        "\"s3.amazonaws.com\"",
    ])
    .prop_map(str::to_string)
}

fn cond() -> impl Strategy<Value = String> {
    prop_oneof![
        (selector(), prop::sample::select(vec!["=", "!="]), value())
            .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
        (
            selector(),
            prop::sample::select(vec!["<", ">=", "<="]),
            prop::sample::select(vec!["1", "2.5", "-3"])
        )
            .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
        (
            selector(),
            prop::sample::select(vec![
                "EXISTS",
                "NOT EXISTS",
                "IS NULL",
                "IS TRUE",
                "IS FALSE"
            ])
        )
            .prop_map(|(s, t)| format!("{s} {t}")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    cond().prop_recursive(3, 12, 2, |inner| {
        (inner.clone(), prop::sample::select(vec!["&&", "||"]), inner)
            .prop_map(|(a, op, b)| format!("({a} {op} {b})"))
    })
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => expr().prop_map(|e| format!("{{ {e} }}")),
        1 => prop::collection::vec(
                (prop::sample::select(vec!["", "?", "-"]), prop::sample::select(vec!["Root", "IAMUser", "AwsServiceEvent", "invokedBy", "ConsoleLogin", "\"type\\\":\\\"Root\""])),
                1..3,
            )
            .prop_map(|ts| ts.iter().map(|(p, t)| format!("{p}{t}")).collect::<Vec<_>>().join(" ")),
    ]
}

fn field_value() -> impl Strategy<Value = Option<Value>> {
    prop::sample::select(vec![
        None,
        Some(json!("Root")),
        Some(json!("root")),
        Some(json!("ConsoleLogin")),
        Some(json!("10.0.0.1")),
        Some(json!("10.1.2.3")),
        Some(json!("203.0.113.7")),
        Some(json!("s3.amazonaws.com")),
        Some(json!(1)),
        Some(json!(2.5)),
        Some(json!(-3)),
        Some(json!(true)),
        Some(json!(false)),
        Some(Value::Null),
        Some(json!({})),
    ])
}

/// A well-formed CloudTrail record with the pattern's fields drawn at random.
fn record() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(space::IDENTITY_TYPES.to_vec()),
        prop::sample::select(space::EVENT_TYPES.to_vec()),
        prop::sample::select(vec![
            "ConsoleLogin",
            "ListUsers",
            "CreateAccessKey",
            "GetObject",
        ]),
        field_value(),
        field_value(),
        field_value(),
        field_value(),
    )
        .prop_map(|(ty, et, name, invoked_by, ip, code, ro)| {
            let mut r = space::template(ty);
            r["eventType"] = json!(et);
            r["eventName"] = json!(name);
            let Value::Object(m) = &mut r else {
                unreachable!()
            };
            let set = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| match v {
                Some(v) => {
                    m.insert(k.to_string(), v);
                }
                None => {
                    m.remove(k);
                }
            };
            set(m, "sourceIPAddress", ip);
            set(m, "errorCode", code);
            set(m, "readOnly", ro);
            if let Some(Value::Object(ui)) = m.get_mut("userIdentity") {
                set(ui, "invokedBy", invoked_by);
            }
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn covers_is_sound(cand in pattern(), reference in prop_oneof![Just(cis_root().to_string()), pattern()],
                       records in prop::collection::vec(record(), 40)) {
        let c = covers(&cand, &reference);
        prop_assume!(c.error.is_none());
        if c.covers {
            for r in &records {
                if matches(&reference, r) == Ok(true) {
                    prop_assert_eq!(matches(&cand, r), Ok(true), "covers claimed, but missed {}", r);
                }
            }
        } else {
            let ex = c.counterexample.as_ref().expect("a counter-example");
            prop_assert_eq!(matches(&reference, ex), Ok(true));
            prop_assert_eq!(matches(&cand, ex), Ok(false));
        }
        if !c.matches_non_root {
            for r in &records {
                if r["userIdentity"]["type"] != json!("Root") {
                    prop_assert_eq!(matches(&cand, r), Ok(false), "no non-root match claimed, but {}", r);
                }
            }
        }
    }
}
