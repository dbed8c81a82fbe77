//! Findings point at a JSON pointer in an account's snapshot; reports want a file and a line.
use crate::findings::{Finding, Location};
use crate::snapshot;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Fills in the file and line of every finding's location. A finding that points nowhere loaded
/// (or nowhere at all) is placed at its account's first snapshot, so no verdict goes unplaced.
/// Each file is read once, and only while its findings are placed.
pub(super) fn resolve_locations(
    findings: &mut [Finding],
    paths: &BTreeMap<(String, String), String>,
    read_lines: bool,
) {
    // (path, pointer, account, region) per finding, or None when the account has no snapshot.
    let targets: Vec<Option<(String, String, String, String)>> = findings
        .iter()
        .map(|f| {
            let placed = f.location.as_ref().and_then(|l| {
                paths
                    .get(&(l.account_id.clone(), l.region.clone()))
                    .map(|p| {
                        (
                            p.clone(),
                            l.pointer.clone(),
                            l.account_id.clone(),
                            l.region.clone(),
                        )
                    })
            });
            placed.or_else(|| {
                paths
                    .range((f.account_id.clone(), String::new())..)
                    .next()
                    .filter(|((a, _), _)| *a == f.account_id)
                    .map(|((a, r), p)| (p.clone(), String::new(), a.clone(), r.clone()))
            })
        })
        .collect();
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        if let Some((path, ..)) = t {
            by_path.entry(path.as_str()).or_default().push(i);
        }
    }
    let lines: Vec<(usize, usize)> = by_path
        .into_par_iter()
        .flat_map_iter(|(path, idx)| {
            // Without reading, every finding is on line 1 of its file (a working copy in memory
            // has no lines).
            let text = read_lines
                .then(|| std::fs::read_to_string(path).ok())
                .flatten();
            let pointers: Vec<&str> = idx
                .iter()
                .map(|&i| targets[i].as_ref().map(|t| t.1.as_str()).unwrap_or(""))
                .collect();
            let lines = text.as_deref().map(|t| lines_of(t, &pointers));
            idx.into_iter()
                .enumerate()
                .map(|(k, i)| (i, lines.as_ref().map_or(1, |l| l[k])))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut line_by_finding = vec![1; findings.len()];
    for (i, l) in lines {
        line_by_finding[i] = l;
    }
    for ((f, t), line) in findings.iter_mut().zip(targets).zip(line_by_finding) {
        let Some((path, pointer, account, region)) = t else {
            f.location = None;
            continue;
        };
        if f.region.is_none() {
            f.region = Some(region.clone());
        }
        f.location = Some(Location {
            path,
            pointer,
            line,
            account_id: account,
            region,
        });
    }
}

/// The line of each pointer in `text`. A pointer may name a key that is absent (a section that
/// was not collected): the closest enclosing value that exists is used.
fn lines_of(text: &str, pointers: &[&str]) -> Vec<usize> {
    let mut lines = vec![1; pointers.len()];
    let mut pending: Vec<(usize, &str)> = pointers.iter().copied().enumerate().collect();
    while !pending.is_empty() {
        let found = snapshot::locate_many(text, &pending.iter().map(|p| p.1).collect::<Vec<_>>());
        let mut next = Vec::new();
        for ((i, p), at) in pending.into_iter().zip(found) {
            match (at, p.rfind('/')) {
                (Some((line, _)), _) => lines[i] = line,
                (None, Some(cut)) => next.push((i, &p[..cut])),
                (None, None) => {}
            }
        }
        pending = next;
    }
    lines
}
