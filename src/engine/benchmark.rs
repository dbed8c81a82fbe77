//! What policies read as `data.cwl_audit.{benchmark, benchmarks, references}`
//! (policies/lib/benchmark.rego), built from the benchmarks of [`crate::findings::benchmark`] and
//! the rules' `custom.references`.
use crate::findings::benchmark::{label, BENCHMARKS};
use crate::findings::RuleMeta;
use regorus::Value;
use std::collections::BTreeMap;

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// What policies read under `data.cwl_audit` to decide by `benchmark`: the chosen id, every
/// benchmark's name, and per rule with `custom.references` its groups (`pattern`, `benchmarks`,
/// `label`), the default (newest CIS) group first.
pub fn data(rules: &[RuleMeta], benchmark: &str) -> Value {
    let names = BENCHMARKS
        .iter()
        .map(|b| (Value::from(b.id), Value::from(b.name)))
        .collect::<BTreeMap<_, _>>();
    let references = rules
        .iter()
        .filter(|c| !c.references.is_empty())
        .map(|c| {
            let groups = c
                .references
                .iter()
                .map(|r| {
                    obj(vec![
                        ("pattern", Value::from(r.pattern.as_str())),
                        (
                            "benchmarks",
                            Value::from(
                                r.benchmarks
                                    .iter()
                                    .map(|b| Value::from(b.as_str()))
                                    .collect::<Vec<_>>(),
                            ),
                        ),
                        (
                            "label",
                            Value::from(label(&r.benchmarks, &c.frameworks).as_str()),
                        ),
                    ])
                })
                .collect::<Vec<_>>();
            (Value::from(c.id.as_str()), Value::from(groups))
        })
        .collect::<BTreeMap<_, _>>();
    obj(vec![(
        "cwl_audit",
        obj(vec![
            ("benchmark", Value::from(benchmark)),
            ("benchmarks", Value::from(names)),
            ("references", Value::from(references)),
        ]),
    )])
}
