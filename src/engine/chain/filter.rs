//! Links 2 to 4 of the chain: the trail's log group, its metric filters and the metrics they
//! publish (lib.chain, "2. log group", "3. metric filter", "4. metric").
use super::trail::{LogGroupRef, TrailOk};
use super::vals::{
    complete, count, get, indexed, is_number, is_true, list, missing_pointer, need_str, num_cmp,
    obj, op_errors, opt, path, quote, reason, s, str_of, text, to_number, unread, zero, Fallback,
    K, R,
};
use super::{alarm, Ctx, Loc, Outcome, State};
use regex::Regex;
use regorus::Value;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::LazyLock;

/// A metric filter of the chain's log group: its position in the snapshot and its record.
pub struct Filter<'a> {
    pub index: usize,
    pub record: &'a Value,
    pub name: &'a str,
    pub pattern: &'a str,
}

impl<'a> Filter<'a> {
    fn read(index: usize, record: &'a Value) -> R<Self> {
        let pattern = match get(record, &K.filterPattern) {
            Value::Undefined => "",
            p => need_str(p)?,
        };
        Ok(Filter {
            index,
            record,
            name: need_str(get(record, &K.filterName))?,
            pattern,
        })
    }

    fn location(&self, lg: &LogGroupRef) -> Loc {
        lg.at(format!("/logs/metricFilters/{}", self.index))
    }

    pub fn resource(&self, lg: &LogGroupRef) -> String {
        format!("{}:metric-filter:{}", lg.arn, self.name)
    }
}

fn log_group_evidence(lg: &LogGroupRef) -> Value {
    obj([
        ("link", s("log_group")),
        ("name", s(&lg.name)),
        ("arn", s(&lg.arn)),
        ("account", s(&lg.account)),
        ("region", s(&lg.region)),
    ])
}

fn filters(snap: &Value) -> &[Value] {
    list(path(snap, &[&K.logs, &K.metricFilters]))
}

/// `_filters_on(s, name)`: the log group's filters, by position.
fn filters_on<'a>(snap: &'a Value, name: &str) -> R<Vec<(usize, &'a Value)>> {
    let all = filters(snap);
    match indexed(snap, &[&K.filters, &s(name)]) {
        Some(positions) => positions
            .iter()
            .map(|p| {
                let i = position(p)?;
                Ok((i, all.get(i).ok_or(Fallback)?))
            })
            .collect(),
        None => Ok(all
            .iter()
            .enumerate()
            .filter(|(_, f)| str_of(get(f, &K.logGroupName)) == Some(name))
            .collect()),
    }
}

/// A position from an index table.
pub fn position(p: &Value) -> R<usize> {
    match p {
        Value::Number(n) => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .ok_or(Fallback),
        _ => Err(Fallback),
    }
}

/// `_after_trail(t, params)`.
pub fn after_trail(c: &Ctx, t: &TrailOk, out: &mut Vec<Outcome>) -> R<()> {
    let lg = &t.log_group;
    let Some(snap) = c.snapshot(&lg.account, &lg.region) else {
        out.push(Outcome::new(
            State::Unknown,
            1,
            "log_group",
            format!(
                "trail {} sends events to log group {} in account {} region {}, and no snapshot of it is loaded",
                t.trail.name, lg.name, lg.account, lg.region
            ),
            t.location.clone(),
            lg.arn.clone(),
            t.chain.clone(),
        ));
        return Ok(());
    };
    let mut chain = t.chain.clone();
    chain.push(log_group_evidence(lg));
    let on = filters_on(snap, &lg.name)?;
    let section = path(snap, &[&K.logs, &K.metricFilters]);
    if on.is_empty() {
        let (state, message, pointer) = if complete(snap, section, "DescribeMetricFilters") {
            (
                State::Fail,
                format!(
                    "no metric filter on log group {} (account {}, {}){}",
                    lg.name,
                    lg.account,
                    lg.region,
                    elsewhere_hint(c, lg)?
                ),
                "/logs/metricFilters".to_string(),
            )
        } else {
            (
                State::Unknown,
                format!(
                    "the metric filters of {} (account {}) {}",
                    lg.region,
                    lg.account,
                    unread(
                        section,
                        &reason(snap, "DescribeMetricFilters", None),
                        &format!("on log group {}", lg.name)
                    )
                ),
                missing_pointer(snap, "DescribeMetricFilters", None, "/logs"),
            )
        };
        out.push(Outcome::new(
            state,
            1,
            "log_group",
            message,
            lg.at(pointer),
            lg.arn.clone(),
            chain,
        ));
        return Ok(());
    }
    for (i, record) in on {
        let f = Filter::read(i, record)?;
        let cov = c.coverage(f.pattern, c.reference)?;
        after_filter(c, lg, snap, &f, &cov, &chain, out)?;
    }
    if !op_errors(snap, "DescribeMetricFilters", None).is_empty() {
        out.push(Outcome::new(
            State::Unknown,
            1,
            "log_group",
            format!(
                "the metric filters of {} (account {}) were listed only in part ({}), so a filter that completes the chain may be missing",
                lg.region,
                lg.account,
                reason(snap, "DescribeMetricFilters", None)
            ),
            lg.at(missing_pointer(snap, "DescribeMetricFilters", None, "/logs"),
            ),
            lg.arn.clone(),
            chain,
        ));
    }
    Ok(())
}

/// `_elsewhere_hint(lg)`.
fn elsewhere_hint(c: &Ctx, lg: &LogGroupRef) -> R<String> {
    let mut rs = BTreeSet::new();
    if let Some(account) = c.account_doc(&lg.account) {
        for (r, snap) in super::trail::regions(account)? {
            if r != lg.region
                && filters(snap)
                    .iter()
                    .any(|f| str_of(get(f, &K.logGroupName)) == Some(lg.name.as_str()))
            {
                rs.insert(r);
            }
        }
    }
    Ok(if rs.is_empty() {
        String::new()
    } else {
        format!(
            " (a log group of that name in {} has metric filters, but the trail delivers to {})",
            rs.into_iter().collect::<Vec<_>>().join(", "),
            lg.region
        )
    })
}

fn cov_str<'a>(cov: &'a Value, k: &Value) -> Option<&'a str> {
    str_of(get(cov, k))
}

/// `_non_root_kind(cov)`.
fn non_root_kind(cov: &Value) -> String {
    match str_of(path(cov, &[&K.non_root_example, &K.userIdentity, &K.type_])) {
        Some(t) => format!(" such as {t}"),
        None => String::new(),
    }
}

/// `_after_filter(lg, s, f, cov, chain, params)`.
fn after_filter(
    c: &Ctx,
    lg: &LogGroupRef,
    snap: &Value,
    f: &Filter,
    cov: &Value,
    chain: &[Value],
    out: &mut Vec<Outcome>,
) -> R<()> {
    let fail = |message: String, rank: u8| {
        let mut o = Outcome::new(
            State::Fail,
            2,
            "filter",
            message,
            f.location(lg),
            f.resource(lg),
            chain.to_vec(),
        );
        o.rank = rank;
        o
    };
    let label = c.label;
    if let Some(e) = cov_str(cov, &K.error) {
        if is_true(get(cov, &K.undecided)) {
            out.push(Outcome::new(
                State::Unknown,
                2,
                "filter",
                format!(
                    "cannot decide whether filter {} catches all {label}: {e}",
                    f.name
                ),
                f.location(lg),
                f.resource(lg),
                chain.to_vec(),
            ));
        } else {
            out.push(fail(
                format!(
                    "filter {} has a pattern CloudWatch Logs rejects: {e}",
                    f.name
                ),
                0,
            ));
        }
        return Ok(());
    }
    if !is_true(get(cov, &K.covers)) {
        if let Some(missed) = cov_str(cov, &K.missed) {
            let rank = narrower_rank(c, f)?;
            let message = if rank == 0 && !for_rule(c, f.pattern) {
                format!("no filter on log group {} is for {label}", lg.name)
            } else {
                format!("filter {} misses {label} {missed}", f.name)
            };
            out.push(fail(message, rank));
        } else {
            out.push(fail(
                format!(
                    "filter {} does not match all {label}: pattern {} is not equivalent to the reference pattern",
                    f.name, f.pattern
                ),
                0,
            ));
        }
        return Ok(());
    }
    if c.reject_non_root && is_true(get(cov, &K.matches_non_root)) {
        out.push(fail(
            format!(
                "filter {} also matches events of other identities{}, so ordinary activity keeps the alarm in ALARM and {label} would send no new notification",
                f.name,
                non_root_kind(cov)
            ),
            2,
        ));
        return Ok(());
    }
    let mut evidence = vec![
        ("link", s("filter")),
        ("name", s(f.name)),
        ("pattern", s(f.pattern)),
    ];
    if let Some(note) = filter_note(c, cov, f.pattern)? {
        evidence.push(("note", note));
    }
    let evidence = Value::from(
        evidence
            .into_iter()
            .map(|(k, v)| (s(k), v))
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    let mut chain = chain.to_vec();
    chain.push(evidence);
    for (mi, mt) in list(get(f.record, &K.metricTransformations))
        .iter()
        .enumerate()
    {
        after_metric(c, lg, snap, f, mi, mt, &chain, out)?;
    }
    Ok(())
}

/// `_narrower_rank(f, params)`.
fn narrower_rank(c: &Ctx, f: &Filter) -> R<u8> {
    let reverse = c.coverage(c.reference, f.pattern)?;
    Ok(if is_true(get(&reverse, &K.covers)) {
        1
    } else {
        0
    })
}

/// `_filter_note(cov, params)`.
fn filter_note(c: &Ctx, cov: &Value, pattern: &str) -> R<Option<Value>> {
    if c.reject_non_root && is_true(get(cov, &K.matches_extra_root)) {
        return Ok(Some(s(&format!(
            "the filter also counts {} the reference leaves out (service-invoked or AwsServiceEvent records); the alarm may fire more often than needed",
            c.label
        ))));
    }
    if !c.reject_non_root {
        let reverse = c.coverage(c.reference, pattern)?;
        if get(&reverse, &K.covers) == &Value::Bool(false) && cov_str(&reverse, &K.error).is_none()
        {
            return Ok(Some(s(
                "the filter also counts events the reference pattern leaves out; the alarm may fire more often than needed",
            )));
        }
    }
    Ok(cov_str(cov, &K.note).map(s))
}

static COMPARISON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\$\.[A-Za-z0-9_.\[\]]+\s*!?=\s*"?[^\s"()|&}]+"#).expect("a valid regex")
});

thread_local! {
    /// `_comparisons(p)` by pattern: the same few patterns repeat in every account.
    static COMPARISONS: RefCell<HashMap<String, Rc<BTreeSet<String>>>> = RefCell::default();
}

/// `_comparisons(p)`: the `$.field = value` comparisons of a pattern, quotes and spaces aside.
fn comparisons(p: &str) -> Rc<BTreeSet<String>> {
    COMPARISONS.with(|m| {
        if let Some(c) = m.borrow().get(p) {
            return c.clone();
        }
        let set: BTreeSet<String> = COMPARISON
            .find_iter(p)
            .map(|m| m.as_str().replace([' ', '"'], ""))
            .collect();
        let set = Rc::new(set);
        let mut m = m.borrow_mut();
        if m.len() >= 10_000 {
            m.clear();
        }
        m.insert(p.to_string(), set.clone());
        set
    })
}

/// `_for_rule(f, params)`: the filter tests one of the reference's comparisons.
fn for_rule(c: &Ctx, pattern: &str) -> bool {
    let mine = comparisons(pattern);
    let theirs = comparisons(c.reference);
    !mine.is_disjoint(&theirs)
}

static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?([eE][-+]?[0-9]{1,2})?$")
        .expect("a valid regex")
});

/// `_numeric(v)`.
fn numeric(v: &str) -> bool {
    NUMERIC.is_match(v)
}

/// `_metric_name(mt)`.
pub fn metric_name(mt: &Value) -> R<String> {
    Ok(format!(
        "{}/{}",
        need_str(get(mt, &K.metricNamespace))?,
        need_str(get(mt, &K.metricName))?
    ))
}

/// `count(_opt(t, "dimensions", {})) == 0`.
pub fn plain(t: &Value) -> R<bool> {
    Ok(match opt(t, &K.dimensions) {
        None => true,
        Some(d) => count(d)? == 0,
    })
}

pub fn unit_of(t: &Value) -> &Value {
    static NONE: LazyLock<Value> = LazyLock::new(|| s("None"));
    opt(t, &K.unit).unwrap_or(&NONE)
}

fn not_positive(v: &Value) -> R<bool> {
    Ok(num_cmp(v, &zero())? != Ordering::Greater)
}

/// `_after_metric(lg, s, f, mi, mt, chain, params)`.
#[allow(clippy::too_many_arguments)]
fn after_metric(
    c: &Ctx,
    lg: &LogGroupRef,
    snap: &Value,
    f: &Filter,
    mi: usize,
    mt: &Value,
    chain: &[Value],
    out: &mut Vec<Outcome>,
) -> R<()> {
    let metric = metric_name(mt)?;
    let value = need_str(get(mt, &K.metricValue))?;
    let at_metric = || {
        lg.at(format!(
            "/logs/metricFilters/{}/metricTransformations/{mi}",
            f.index
        ))
    };
    let fail = |message: String| {
        Outcome::new(
            State::Fail,
            3,
            "metric",
            message,
            at_metric(),
            f.resource(lg),
            chain.to_vec(),
        )
    };
    if value.starts_with('$') {
        out.push(fail(format!(
            "filter {} publishes metric {metric} with value {} taken from the event, so one event is not known to reach any threshold",
            f.name,
            quote(value)?
        )));
        return Ok(());
    }
    if !numeric(value) {
        out.push(fail(format!(
            "filter {} publishes metric {metric} with value {}, which is not a number cwl-audit can read (digits without leading zeros, an optional fraction and exponent), so one event is not known to reach any threshold",
            f.name,
            quote(value)?
        )));
        return Ok(());
    }
    let number = to_number(value)?;
    if not_positive(&number)? {
        out.push(fail(format!(
            "filter {} publishes metric {metric} with value {value} for each event, so no alarm on it can fire",
            f.name
        )));
        return Ok(());
    }
    if !plain(mt)? {
        let Value::Object(dims) = get(mt, &K.dimensions) else {
            return Err(Fallback);
        };
        let keys: Vec<&str> = dims.keys().map(need_str).collect::<R<_>>()?;
        out.push(fail(format!(
            "metric {metric} has dimensions taken from event fields ({}), so an alarm on one dimension value misses the others",
            keys.join(", ")
        )));
        return Ok(());
    }
    if let Some(p) = shared_metric_problem(c, snap, f.index, mi, mt)? {
        out.push(Outcome::new(
            p.state,
            3,
            "metric",
            p.message,
            lg.at(format!("/logs/metricFilters/{}", p.index)),
            format!(
                "arn:{}:logs:{}:{}:log-group:{}:metric-filter:{}",
                lg.partition, lg.region, lg.account, p.log_group, p.name
            ),
            chain.to_vec(),
        ));
        return Ok(());
    }
    if !op_errors(snap, "DescribeMetricFilters", None).is_empty() {
        out.push(Outcome::new(
            State::Unknown,
            3,
            "metric",
            format!(
                "the metric filters of {} (account {}) were listed only in part ({}), so a filter the listing left out may also publish metric {metric} and change what its alarms read",
                lg.region,
                lg.account,
                reason(snap, "DescribeMetricFilters", None)
            ),
            lg.at(missing_pointer(snap, "DescribeMetricFilters", None, "/logs"),
            ),
            f.resource(lg),
            chain.to_vec(),
        ));
        return Ok(());
    }
    let mut chain = chain.to_vec();
    chain.push(obj([
        ("link", s("metric")),
        ("namespace", get(mt, &K.metricNamespace).clone()),
        ("name", get(mt, &K.metricName).clone()),
        ("value", number.clone()),
    ]));
    alarm::after_alarms(c, lg, snap, mt, &number, chain, out)
}

struct Shared {
    state: State,
    message: String,
    index: usize,
    log_group: String,
    name: String,
}

/// `_shared_metric_problem(s, f, mi, mt, params)`: the first other publisher of the metric (in
/// the same unit, from any log group of the region) that changes what its alarms read.
fn shared_metric_problem(
    c: &Ctx,
    snap: &Value,
    fi: usize,
    mi: usize,
    mt: &Value,
) -> R<Option<Shared>> {
    let ns = get(mt, &K.metricNamespace);
    let name = get(mt, &K.metricName);
    for (i, g) in filters(snap).iter().enumerate() {
        for (j, t) in list(get(g, &K.metricTransformations)).iter().enumerate() {
            if (i, j) == (fi, mi)
                || get(t, &K.metricNamespace) != ns
                || get(t, &K.metricName) != name
                || !plain(t)?
                || unit_of(t) != unit_of(mt)
            {
                continue;
            }
            if let Some((state, message)) = co_publisher_problem(c, g, t)? {
                return Ok(Some(Shared {
                    state,
                    message,
                    index: i,
                    log_group: text(get(g, &K.logGroupName)),
                    name: text(get(g, &K.filterName)),
                }));
            }
        }
    }
    Ok(None)
}

/// `_co_publisher_problem(p, params)`.
fn co_publisher_problem(c: &Ctx, g: &Value, t: &Value) -> R<Option<(State, String)>> {
    let who = format!(
        "filter {} (log group {}) also publishes metric {}",
        need_str(get(g, &K.filterName))?,
        need_str(get(g, &K.logGroupName))?,
        metric_name(t)?
    );
    let value = need_str(get(t, &K.metricValue))?;
    if value.starts_with('$') {
        return Ok(Some((
            State::Fail,
            format!(
                "{who} with value {} taken from the event, so the alarm's data points are not known",
                quote(value)?
            ),
        )));
    }
    if !numeric(value) {
        return Ok(Some((
            State::Fail,
            format!(
                "{who} with value {}, which is not a number cwl-audit can read, so the alarm's data points are not known",
                quote(value)?
            ),
        )));
    }
    if not_positive(&to_number(value)?)? {
        return Ok(Some((
            State::Fail,
            format!(
                "{who} with value {value}, which holds the metric below what one event reaches"
            ),
        )));
    }
    if let Some(d) = opt(t, &K.defaultValue).filter(|d| is_number(d)) {
        return Ok(Some((
            State::Fail,
            format!(
                "{who}, with defaultValue {} for every log event it does not match, so ordinary activity adds data points to the alarm's metric",
                text(d)
            ),
        )));
    }
    if c.reject_non_root {
        let pattern = match get(g, &K.filterPattern) {
            Value::Undefined => "",
            p => need_str(p)?,
        };
        let cov = c.coverage(pattern, c.reference)?;
        if is_true(get(&cov, &K.undecided)) {
            if let Some(e) = cov_str(&cov, &K.error) {
                return Ok(Some((
                    State::Unknown,
                    format!("{who}, and cwl-audit cannot decide which events it matches: {e}"),
                )));
            }
        }
        if is_true(get(&cov, &K.matches_non_root)) {
            return Ok(Some((
                State::Fail,
                format!(
                    "{who} and matches events of other identities{}, so ordinary activity keeps the alarm in ALARM and {} would send no new notification",
                    non_root_kind(&cov),
                    c.label
                ),
            )));
        }
    }
    Ok(None)
}
