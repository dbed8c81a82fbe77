//! The verdict a world must get, derived from the rule text (shared/cwl014.md) over the model's
//! facts, independently of the policies. Each chain attempt (one per trail the account's
//! snapshots list, then one per filter, metric, alarm and topic on the way) is followed link by
//! link in the rule's order; the first link that is broken ends it as fail, the first one that
//! cannot be checked (data missing or denied) as unknown. The account passes when some attempt
//! is complete, is unknown when none is but some attempt ended unknown, and fails otherwise.
use super::model::*;
use super::patterns::{rule, Class};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum V {
    Pass,
    Fail,
    Unknown,
}

impl V {
    pub fn as_str(self) -> &'static str {
        match self {
            V::Pass => "pass",
            V::Fail => "fail",
            V::Unknown => "unknown",
        }
    }
}

/// The expected verdict and why (the decisive attempt, in words).
#[derive(Clone, Debug)]
pub struct Expected {
    pub verdict: V,
    pub why: String,
}

/// Every chain attempt of `acct` for `rule_id`, each ending in a verdict with its reason.
pub fn attempts(w: &World, acct: &str, rule_id: &str) -> Vec<(V, String)> {
    let mut out = Vec::new();
    for ti in visible_trails(w, acct) {
        trail_attempts(w, acct, rule_id, ti, &mut out);
    }
    out
}

pub fn expected(w: &World, acct: &str, rule_id: &str) -> Expected {
    let outs = attempts(w, acct, rule_id);
    if outs.is_empty() {
        // No trail listed anywhere: proven only if some region listed the trails.
        let listed = w
            .loaded_regions(acct)
            .iter()
            .any(|r| !w.denied(&Loc::new(acct, r), Op::DescribeTrails, None));
        return if listed {
            Expected {
                verdict: V::Fail,
                why: "no trail is listed in any snapshot of the account".into(),
            }
        } else {
            Expected {
                verdict: V::Unknown,
                why: "the trails could not be listed in any region".into(),
            }
        };
    }
    for v in [V::Pass, V::Unknown, V::Fail] {
        if let Some((_, why)) = outs.iter().find(|(x, _)| *x == v) {
            return Expected {
                verdict: v,
                why: why.clone(),
            };
        }
    }
    unreachable!("attempts is not empty")
}

/// Trails the account's loaded snapshots list (each once).
pub fn visible_trails(w: &World, acct: &str) -> Vec<usize> {
    let mut seen = BTreeSet::new();
    for r in w.loaded_regions(acct) {
        let loc = Loc::new(acct, &r);
        if w.denied(&loc, Op::DescribeTrails, None) {
            continue;
        }
        for (i, t) in w.trails.iter().enumerate() {
            if t.listed_in(&loc) {
                seen.insert(i);
            }
        }
    }
    seen.into_iter().collect()
}

/// An event is recorded when any selector selects it (CloudTrail event selectors are a union):
/// every management event, read or write, from every source, must be selected by some selector.
pub fn records_all_management(sel: &Selectors) -> bool {
    match sel {
        Selectors::Basic(list) => [Rw::ReadOnly, Rw::WriteOnly].iter().all(|need| {
            let covering: Vec<&BasicSelector> = list
                .iter()
                .filter(|s| s.include_management && (s.rw == Rw::All || s.rw == *need))
                .collect();
            // A source is missed only if every selector that covers this kind excludes it.
            !covering.is_empty()
                && covering[0]
                    .exclude_sources
                    .iter()
                    .all(|src| covering.iter().any(|s| !s.exclude_sources.contains(src)))
        }),
        Selectors::Advanced(list) => ["true", "false"].iter().all(|read_only| {
            list.iter().any(|fields| {
                let management = fields
                    .iter()
                    .any(|(f, eq)| f == "eventCategory" && eq.iter().any(|v| v == "Management"));
                management
                    && fields.iter().all(|(f, eq)| match f.as_str() {
                        "eventCategory" => true,
                        "readOnly" => eq.iter().any(|v| v == read_only),
                        // Any other field narrows the selection; not generated with Management.
                        _ => false,
                    })
            })
        }),
    }
}

fn trail_attempts(w: &World, acct: &str, rule_id: &str, ti: usize, out: &mut Vec<(V, String)>) {
    let t = &w.trails[ti];
    let home = t.home_loc();
    let n = &t.name;
    let end = |out: &mut Vec<(V, String)>, v: V, why: String| out.push((v, why));
    if !w.loaded(&home) {
        return end(
            out,
            V::Unknown,
            format!(
                "trail {n}: home snapshot {}/{} not loaded",
                home.acct, home.region
            ),
        );
    }
    if w.denied(&home, Op::DescribeTrails, None) {
        return end(
            out,
            V::Unknown,
            format!("trail {n}: DescribeTrails denied in its home region"),
        );
    }
    if t.owner != acct && !t.organization {
        return end(
            out,
            V::Fail,
            format!("trail {n}: another account's trail that is not an organization trail"),
        );
    }
    if !t.multi_region {
        return end(out, V::Fail, format!("trail {n}: single-region"));
    }
    if w.denied(&home, Op::GetTrailStatus, Some(ti)) {
        return end(out, V::Unknown, format!("trail {n}: status denied"));
    }
    if !t.logging {
        return end(out, V::Fail, format!("trail {n}: not logging"));
    }
    if w.denied(&home, Op::GetEventSelectors, Some(ti)) {
        return end(
            out,
            V::Unknown,
            format!("trail {n}: event selectors denied"),
        );
    }
    if !records_all_management(&t.selectors) {
        return end(
            out,
            V::Fail,
            format!("trail {n}: does not record every management event"),
        );
    }
    let Some((lg_loc, lg)) = &t.log_group else {
        return end(out, V::Fail, format!("trail {n}: no CloudWatch Logs group"));
    };
    if !w.loaded(lg_loc) {
        return end(
            out,
            V::Unknown,
            format!(
                "trail {n}: log group snapshot {}/{} not loaded",
                lg_loc.acct, lg_loc.region
            ),
        );
    }
    let filters: Vec<&Filter> = if w.denied(lg_loc, Op::DescribeMetricFilters, None) {
        Vec::new()
    } else {
        w.filters
            .iter()
            .filter(|f| &f.loc == lg_loc && &f.log_group == lg)
            .collect()
    };
    if filters.is_empty() {
        return if w.complete(lg_loc, Op::DescribeMetricFilters) {
            end(
                out,
                V::Fail,
                format!("trail {n}: no metric filter on log group {lg}"),
            )
        } else {
            end(
                out,
                V::Unknown,
                format!("trail {n}: metric filters of {lg} could not be listed completely"),
            )
        };
    }
    let info = rule(rule_id);
    if !w.complete(lg_loc, Op::DescribeMetricFilters) {
        // A filter the listing missed may complete the chain, or publish its metric too (and so
        // feed its alarms): nothing through this log group is proven, either way.
        return end(
            out,
            V::Unknown,
            format!("trail {n}: metric filters of {lg} listed only in part"),
        );
    }
    for f in filters {
        let fname = &f.name;
        match f.family.class(rule_id) {
            Class::Undecided => {
                end(
                    out,
                    V::Unknown,
                    format!("filter {fname}: undecidable pattern"),
                );
                continue;
            }
            Class::Invalid | Class::Misses => {
                end(
                    out,
                    V::Fail,
                    format!(
                        "filter {fname}: does not catch every event ({})",
                        f.family.describe()
                    ),
                );
                continue;
            }
            Class::NonRoot if info.reject_non_root => {
                end(
                    out,
                    V::Fail,
                    format!(
                        "filter {fname}: also matches other identities ({})",
                        f.family.describe()
                    ),
                );
                continue;
            }
            Class::NonRoot | Class::Covers => {}
        }
        let m = &f.metric;
        let Some(value) = m.value.parse::<f64>().ok().filter(|v| v.is_finite()) else {
            end(
                out,
                V::Fail,
                format!("filter {fname}: metric value {} from the event", m.value),
            );
            continue;
        };
        if value <= 0.0 {
            end(
                out,
                V::Fail,
                format!("filter {fname}: metric value {value}"),
            );
            continue;
        }
        if m.dimensions {
            end(
                out,
                V::Fail,
                format!("filter {fname}: metric dimensions from event fields"),
            );
            continue;
        }
        // CloudWatch keys a metric by namespace, name and dimensions: every other filter of the
        // account and region (any log group) publishing it feeds the alarm, in its own unit.
        let publishers: Vec<&Filter> = w
            .filters
            .iter()
            .filter(|g| {
                &g.loc == lg_loc
                    && !w.denied(lg_loc, Op::DescribeMetricFilters, None)
                    && g.metric.namespace == m.namespace
                    && g.metric.name == m.name
                    && !g.metric.dimensions
            })
            .collect();
        if let Some((v, why)) = co_publisher_problem(f, &publishers, rule_id, info.reject_non_root)
        {
            end(out, v, format!("filter {fname}: {why}"));
            continue;
        }
        let units: BTreeSet<&str> = publishers.iter().map(|g| g.metric.unit_or_none()).collect();
        let alarms: Vec<&Alarm> = if w.denied(lg_loc, Op::DescribeAlarms, None) {
            Vec::new()
        } else {
            w.alarms
                .iter()
                .filter(|a| {
                    &a.loc == lg_loc && a.watch.namespace == m.namespace && a.watch.name == m.name
                })
                .collect()
        };
        if alarms.is_empty() {
            if w.complete(lg_loc, Op::DescribeAlarms) {
                end(
                    out,
                    V::Fail,
                    format!(
                        "filter {fname}: no alarm on {}/{} in {}",
                        m.namespace, m.name, lg_loc.region
                    ),
                );
            } else {
                end(
                    out,
                    V::Unknown,
                    format!(
                        "filter {fname}: alarms of {} could not be listed completely",
                        lg_loc.region
                    ),
                );
            }
            continue;
        }
        if !w.complete(lg_loc, Op::DescribeAlarms) {
            // What was listed may still complete the chain; an alarm the listing missed may too.
            end(
                out,
                V::Unknown,
                format!(
                    "filter {fname}: alarms of {} listed only in part",
                    lg_loc.region
                ),
            );
        }
        for a in alarms {
            if let Some(problem) = alarm_problem(a, m, value, &units) {
                end(out, V::Fail, format!("alarm {}: {problem}", a.name));
                continue;
            }
            let topics: Vec<&TopicRef> = a
                .alarm_actions
                .iter()
                .filter_map(|x| match x {
                    Action::Topic(t) => Some(t),
                    Action::Other(_) => None,
                })
                .collect();
            if topics.is_empty() {
                end(
                    out,
                    V::Fail,
                    format!("alarm {}: no SNS topic in AlarmActions", a.name),
                );
                continue;
            }
            for tp in topics {
                let chain = format!(
                    "trail {n} -> {lg} -> filter {fname} -> alarm {} -> topic {}",
                    a.name, tp.name
                );
                if tp.loc.region != lg_loc.region {
                    // PutMetricAlarm accepts only topics of the alarm's region.
                    end(out, V::Fail, format!("{chain}: topic in another region"));
                    continue;
                }
                if !w.loaded(&tp.loc) {
                    end(
                        out,
                        V::Unknown,
                        format!(
                            "{chain}: topic snapshot {}/{} not loaded",
                            tp.loc.acct, tp.loc.region
                        ),
                    );
                    continue;
                }
                let listed = !w.denied(&tp.loc, Op::ListSubscriptions, None);
                let confirmed = listed && w.subs.iter().any(|s| &s.topic == tp && s.confirmed);
                if confirmed {
                    end(out, V::Pass, chain);
                } else if !w.complete(&tp.loc, Op::ListSubscriptions) {
                    end(
                        out,
                        V::Unknown,
                        format!("{chain}: subscriptions could not be listed completely"),
                    );
                } else {
                    end(out, V::Fail, format!("{chain}: no confirmed subscription"));
                }
            }
        }
    }
}

fn breaches(op: &str, x: f64, threshold: f64) -> bool {
    match op {
        "GreaterThanOrEqualToThreshold" => x >= threshold,
        "GreaterThanThreshold" => x > threshold,
        _ => false,
    }
}

/// What one data point of value `v` reads as under the alarm's statistic: SampleCount counts
/// data points, the other statistics of one value are that value.
fn observed(stat: &str, v: f64) -> f64 {
    if stat == "SampleCount" {
        1.0
    } else {
        v
    }
}

/// What another publisher of the chain's metric in the same unit does to the alarm's data points
/// (one in another unit is never read by an alarm that reads the chain's unit, and an alarm that
/// reads none or another fails on the unit): a value that is not a positive number, a default
/// value in every quiet period, or, for a rule that rejects other identities, events of them.
/// Only the patterns the generator gives a co-publisher are modeled.
fn co_publisher_problem(
    f: &Filter,
    publishers: &[&Filter],
    rule_id: &str,
    reject_non_root: bool,
) -> Option<(V, String)> {
    for g in publishers {
        if std::ptr::eq(*g, f) || g.metric.unit_or_none() != f.metric.unit_or_none() {
            continue;
        }
        let name = &g.name;
        if g.metric
            .value
            .parse::<f64>()
            .map_or(true, |v| !v.is_finite() || v <= 0.0)
        {
            return Some((
                V::Fail,
                format!("co-publisher {name} publishes value {}", g.metric.value),
            ));
        }
        if g.metric.default.is_some() {
            return Some((V::Fail, format!("co-publisher {name} has a defaultValue")));
        }
        if reject_non_root {
            match g.family.class(rule_id) {
                Class::Covers => {}
                Class::NonRoot => {
                    return Some((
                        V::Fail,
                        format!("co-publisher {name} matches other identities"),
                    ))
                }
                other => panic!(
                    "co-publisher {name} of class {other:?} for {rule_id} is not modeled: \
                     the generator does not make one"
                ),
            }
        }
    }
    None
}

/// Why one event does not make the alarm notify, if it does not. `units`: the units the metric
/// is published in.
fn alarm_problem(a: &Alarm, m: &Metric, value: f64, units: &BTreeSet<&str>) -> Option<String> {
    if !a.watch.dims.is_empty() {
        return Some("dimensions the metric does not publish".into());
    }
    match a.watch.math {
        Some(MathShape::MinusOne) => return Some("metric math m1 - 1".into()),
        Some(MathShape::TwoSeries) => return Some("metric math returns two series".into()),
        Some(MathShape::Direct) | Some(MathShape::Fill) | None => {}
    }
    if !a.actions_enabled {
        return Some("ActionsEnabled=false".into());
    }
    if !matches!(
        a.comparison.as_str(),
        "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold"
    ) {
        return Some(format!("fires on {}", a.comparison));
    }
    if !breaches(&a.comparison, observed(&a.stat, value), a.threshold) {
        return Some(format!(
            "one event does not reach {} {}",
            a.comparison, a.threshold
        ));
    }
    // With no event, a zero Sum that breaches keeps the alarm in ALARM (s08 in tests/it/scenarios.rs).
    if breaches(&a.comparison, 0.0, a.threshold) {
        return Some("breached by a zero count".into());
    }
    if a.datapoints.unwrap_or(a.evaluation_periods) != 1 {
        return Some("needs more than one breaching period".into());
    }
    if a.treat_missing.as_deref() == Some("breaching") {
        return Some("treats missing data as breaching".into());
    }
    // An alarm that names a unit reads only data points of that unit; without one, on a metric
    // of several units, AWS says it "behaves unpredictably" (PutMetricAlarm).
    match a.watch.unit {
        Some(u) if u != m.unit_or_none() => {
            return Some(format!(
                "expects unit {u}, the filter publishes {}",
                m.unit_or_none()
            ))
        }
        None if units.len() > 1 => {
            return Some(format!("names no unit on a metric of units {units:?}"))
        }
        _ => {}
    }
    // A default value is published for every log event the filter does not match: counted
    // (SampleCount) or summed (unless 0) it moves the alarm with ordinary activity; read through
    // any other statistic it breaches alone, or (unless the statistic is the maximum) pulls one
    // event's value towards itself.
    if let Some(d) = m.default {
        // p100 (also written p100.0) is the maximum.
        let max_like = a.stat == "Maximum"
            || a.stat.strip_prefix(['p', 'P']).is_some_and(|p| {
                p == "100"
                    || p.strip_prefix("100.")
                        .is_some_and(|z| !z.is_empty() && z.chars().all(|c| c == '0'))
            });
        let problem = match a.stat.as_str() {
            "SampleCount" => true,
            "Sum" => d != 0.0,
            _ => breaches(&a.comparison, d, a.threshold) || !max_like,
        };
        if problem {
            return Some(format!(
                "defaultValue {d} under {} {} {}",
                a.stat, a.comparison, a.threshold
            ));
        }
    }
    None
}
