//! Counter-examples in plain words: `whose sourceIPAddress is "203.0.113.7"`.
use super::cover::{false_atoms, CPat, Model, Val};
use super::matcher::number_text;
use serde_json::Value as Json;

/// Why the candidate misses a record: the fields its failing conditions read, with the values the
/// record has, or the text terms it lacks or contains. Reads after "misses root events ".
pub(crate) fn missed(model: &Model, cand: &CPat, vals: &[&Val], present: u32) -> String {
    let mut parts: Vec<String> = Vec::new();
    match cand {
        CPat::True => {}
        CPat::Json(e) => {
            let truth = model.truth(vals);
            let mut atoms = Vec::new();
            false_atoms(e, &truth, &mut atoms);
            let mut slots: Vec<usize> = Vec::new();
            for a in atoms {
                let s = model.atoms[a].slot;
                if !slots.contains(&s) {
                    slots.push(s);
                }
            }
            for s in slots {
                let path = model.slots[s].sel.to_string();
                let part = match vals[s] {
                    Val::Absent => format!("without {path}"),
                    Val::Null => format!("whose {path} is null"),
                    Val::Bool(b) => format!("whose {path} is {b}"),
                    Val::Str(x) => format!("whose {path} is {}", Json::String(x.clone())),
                    Val::Num(n) => format!("whose {path} is {}", number_text(*n)),
                    Val::Object => format!("whose {path} is an object"),
                    Val::Array => format!("whose {path} is an array"),
                };
                parts.push(part);
            }
            // Conditions that only hold on other kinds of value: say so when nothing else explains it.
            if parts.is_empty() {
                parts.push("that no condition of the filter accepts".to_string());
            }
        }
        CPat::Text { all, any, none } => {
            let has = |i: usize| present & (1 << i) != 0;
            let q = |i: usize| Json::String(model.terms[i].0.clone()).to_string();
            for &i in all.iter().filter(|&&i| !has(i)) {
                parts.push(format!("whose text does not contain {}", q(i)));
            }
            if !any.is_empty() && !any.iter().any(|&i| has(i)) {
                let list: Vec<String> = any.iter().map(|&i| q(i)).collect();
                parts.push(format!("whose text contains none of {}", list.join(", ")));
            }
            for &i in none.iter().filter(|&&i| has(i)) {
                parts.push(format!("whose text contains {}", q(i)));
            }
        }
    }
    parts.join(" and ")
}
