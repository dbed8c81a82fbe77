//! Link 1 of the chain: the trails that log the account (lib.chain, "1. trails").
use super::vals::{
    esc, get, is_true, list, missing_pointer, need_str, obj, opt, path, quote, reason, s, str_of,
    Fallback, K, R,
};
use super::{Ctx, Loc, Outcome, State};
use regorus::Value;
use std::collections::BTreeSet;

/// `_trail_ref(arn)`: the trail named by an ARN.
#[derive(Clone)]
pub struct TrailRef {
    pub arn: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

/// `_log_group_ref(arn)`.
#[derive(Clone)]
pub struct LogGroupRef {
    pub arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl LogGroupRef {
    /// `_loc(lg.account, lg.region, pointer)`: a place in the log group's snapshot.
    pub fn at(&self, pointer: String) -> Loc {
        Loc::new(&self.account, &self.region, pointer)
    }
}

/// A trail whose links hold: `{"state": "ok", ...}` of `_trail_check`.
pub struct TrailOk {
    pub trail: TrailRef,
    pub log_group: LogGroupRef,
    pub location: Loc,
    pub chain: Vec<Value>,
}

pub enum TrailResult {
    Ok(TrailOk),
    Broken(Outcome),
}

fn trail_ref(arn: &str) -> Option<TrailRef> {
    let p: Vec<&str> = arn.split(':').collect();
    (p.len() == 6).then(|| TrailRef {
        arn: arn.to_string(),
        region: p[3].to_string(),
        account: p[4].to_string(),
        name: p[5].strip_prefix("trail/").unwrap_or(p[5]).to_string(),
    })
}

pub fn log_group_ref(arn: &str) -> Option<LogGroupRef> {
    let clean = arn.strip_suffix(":*").unwrap_or(arn);
    let p: Vec<&str> = clean.split(':').collect();
    (p.len() == 7 && p[2] == "logs" && p[5] == "log-group").then(|| LogGroupRef {
        arn: clean.to_string(),
        partition: p[1].to_string(),
        region: p[3].to_string(),
        account: p[4].to_string(),
        name: p[6].to_string(),
    })
}

/// `_trail_results`, in key (ARN) order: every trail any snapshot of the account lists.
pub fn results(c: &Ctx) -> R<Vec<TrailResult>> {
    let mut arns = BTreeSet::new();
    for (_, snap) in regions(c.input)? {
        for t in list(path(snap, &[&K.cloudtrail, &K.trailList])) {
            match get(t, &K.TrailARN) {
                Value::Undefined => {}
                Value::String(a) => {
                    arns.insert(a.to_string());
                }
                _ => return Err(Fallback),
            }
        }
    }
    arns.iter().map(|a| check(c, a)).collect()
}

/// The snapshots of an account document (`input` or an entry of the accounts), by region.
pub fn regions(account: &Value) -> R<Vec<(&str, &Value)>> {
    match get(account, &K.regions) {
        Value::Object(o) => o.iter().map(|(k, v)| Ok((need_str(k)?, v))).collect(),
        Value::Undefined => Ok(Vec::new()),
        _ => Err(Fallback),
    }
}

/// `_visible(arn)`: where this account's snapshots list the trail.
fn visible(c: &Ctx, arn: &str) -> R<Option<(String, usize)>> {
    for (r, snap) in regions(c.input)? {
        for (i, t) in list(path(snap, &[&K.cloudtrail, &K.trailList]))
            .iter()
            .enumerate()
        {
            if str_of(get(t, &K.TrailARN)) == Some(arn) {
                return Ok(Some((r.to_string(), i)));
            }
        }
    }
    Ok(None)
}

fn fail(message: String, location: Loc, resource: &str) -> Outcome {
    Outcome::new(
        State::Fail,
        0,
        "trail",
        message,
        location,
        resource.to_string(),
        Vec::new(),
    )
}

fn unknown(message: String, location: Loc, resource: &str) -> Outcome {
    Outcome::new(
        State::Unknown,
        0,
        "trail",
        message,
        location,
        resource.to_string(),
        Vec::new(),
    )
}

fn check(c: &Ctx, arn: &str) -> R<TrailResult> {
    let Some(tr) = trail_ref(arn) else {
        let Some((region, i)) = visible(c, arn)? else {
            return Err(Fallback);
        };
        return Ok(TrailResult::Broken(fail(
            format!("trail ARN {arn} is malformed"),
            Loc::new(c.account_id, &region, format!("/cloudtrail/trailList/{i}")),
            arn,
        )));
    };
    let Some(home) = c.snapshot(&tr.account, &tr.region) else {
        let Some((region, i)) = visible(c, arn)? else {
            return Err(Fallback);
        };
        let msg = if tr.account != c.account_id {
            format!("trail {} is an organization trail owned by account {}; load that account's {} snapshot to check it", tr.name, tr.account, tr.region)
        } else {
            format!(
                "trail {} has its home in {}, and no {} snapshot of this account is loaded",
                tr.name, tr.region, tr.region
            )
        };
        return Ok(TrailResult::Broken(unknown(
            msg,
            Loc::new(c.account_id, &region, format!("/cloudtrail/trailList/{i}")),
            arn,
        )));
    };
    let entry = list(path(home, &[&K.cloudtrail, &K.trailList]))
        .iter()
        .enumerate()
        .find(|(_, t)| str_of(get(t, &K.TrailARN)) == Some(arn));
    let Some((index, record)) = entry else {
        return Ok(TrailResult::Broken(unknown(
            format!(
                "trail {} is not in the trail list of its home region {} (account {}): {}",
                tr.name,
                tr.region,
                tr.account,
                reason(home, "DescribeTrails", None)
            ),
            Loc::new(
                &tr.account,
                &tr.region,
                missing_pointer(home, "DescribeTrails", None, "/cloudtrail/trailList"),
            ),
            arn,
        )));
    };
    check_home(c, &tr, index, record, home)
}

fn check_home(
    c: &Ctx,
    tr: &TrailRef,
    index: usize,
    record: &Value,
    home: &Value,
) -> R<TrailResult> {
    let arn = tr.arn.as_str();
    let trail_loc = || {
        Loc::new(
            &tr.account,
            &tr.region,
            format!("/cloudtrail/trailList/{index}"),
        )
    };
    let at = |pointer: String| Loc::new(&tr.account, &tr.region, pointer);
    let broken = |o| Ok(TrailResult::Broken(o));
    if tr.account != c.account_id && !is_true(get(record, &K.IsOrganizationTrail)) {
        return broken(fail(
            format!("trail {} belongs to account {} and is not an organization trail, so it does not log this account", tr.name, tr.account),
            trail_loc(),
            arn,
        ));
    }
    if !is_true(get(record, &K.IsMultiRegionTrail)) {
        return broken(fail(
            format!("trail {} is single-region (IsMultiRegionTrail=false): events in other regions are not logged", tr.name),
            trail_loc(),
            arn,
        ));
    }
    let arn_key = Value::from(arn);
    let status = path(home, &[&K.cloudtrail, &K.status, &arn_key]);
    if !matches!(status, Value::Object(_)) {
        return broken(unknown(
            format!(
                "the status of trail {} could not be read ({})",
                tr.name,
                reason(home, "GetTrailStatus", Some(arn))
            ),
            at(missing_pointer(
                home,
                "GetTrailStatus",
                Some(arn),
                "/cloudtrail/status",
            )),
            arn,
        ));
    }
    if !is_true(get(status, &K.IsLogging)) {
        return broken(fail(
            format!("trail {} is not logging (IsLogging=false)", tr.name),
            at(format!("/cloudtrail/status/{}", esc(arn))),
            arn,
        ));
    }
    let sel = path(home, &[&K.cloudtrail, &K.selectors, &arn_key]);
    if !matches!(sel, Value::Object(_)) {
        return broken(unknown(
            format!(
                "the event selectors of trail {} could not be read ({})",
                tr.name,
                reason(home, "GetEventSelectors", Some(arn))
            ),
            at(missing_pointer(
                home,
                "GetEventSelectors",
                Some(arn),
                "/cloudtrail/selectors",
            )),
            arn,
        ));
    }
    let is_arr = |v: Option<&Value>| matches!(v, Some(Value::Array(_)));
    if !is_arr(opt(sel, &K.EventSelectors)) && !is_arr(opt(sel, &K.AdvancedEventSelectors)) {
        return broken(unknown(
            format!("the event selectors of trail {} hold neither EventSelectors nor AdvancedEventSelectors (not collected)", tr.name),
            at(format!("/cloudtrail/selectors/{}", esc(arn))),
            arn,
        ));
    }
    if !records_all_management(sel)? {
        return broken(fail(
            format!(
                "trail {} {}, so it does not record every management event",
                tr.name,
                management_gap(sel)?
            ),
            at(format!("/cloudtrail/selectors/{}", esc(arn))),
            arn,
        ));
    }
    let lg_arn = match opt(record, &K.CloudWatchLogsLogGroupArn) {
        Some(Value::String(a)) if !a.is_empty() => a.as_ref(),
        _ => {
            return broken(fail(
                format!("trail {} does not deliver events to CloudWatch Logs (no CloudWatchLogsLogGroupArn)", tr.name),
                trail_loc(),
                arn,
            ))
        }
    };
    let Some(lg) = log_group_ref(lg_arn) else {
        return broken(fail(
            format!(
                "trail {} has a malformed CloudWatchLogsLogGroupArn {}",
                tr.name,
                quote(lg_arn)?
            ),
            trail_loc(),
            arn,
        ));
    };
    if Value::from(lg.partition.as_str()) != *c.partition {
        return broken(fail(
            format!(
                "trail {} delivers to log group ARN {} of partition {}, but this account is in partition {}",
                tr.name,
                lg_arn,
                lg.partition,
                super::vals::text(c.partition)
            ),
            trail_loc(),
            arn,
        ));
    }
    let evidence = obj([
        ("link", s("trail")),
        ("name", s(&tr.name)),
        ("arn", s(arn)),
        ("account", s(&tr.account)),
        ("home_region", s(&tr.region)),
        (
            "organization",
            Value::from(is_true(get(record, &K.IsOrganizationTrail))),
        ),
    ]);
    Ok(TrailResult::Ok(TrailOk {
        trail: tr.clone(),
        log_group: lg,
        location: trail_loc(),
        chain: vec![evidence],
    }))
}

// ------------------------------------------------------------------ event selectors

fn uses_advanced(sel: &Value) -> bool {
    !list(opt(sel, &K.AdvancedEventSelectors).unwrap_or(&Value::Null)).is_empty()
}

fn records_all_management(sel: &Value) -> R<bool> {
    if uses_advanced(sel) {
        Ok(advanced_read_only_values(sel)?.len() == 2)
    } else {
        Ok(basic_gaps(sel)?.is_empty())
    }
}

fn excluded_sources(es: &Value) -> Vec<&Value> {
    list(opt(es, &K.ExcludeManagementEventSources).unwrap_or(&Value::Null))
        .iter()
        .collect()
}

/// `_basic_records(sel, rw, src)`.
fn basic_records(sel: &Value, rw: &str, src: &Value) -> bool {
    list(get(sel, &K.EventSelectors)).iter().any(|es| {
        is_true(get(es, &K.IncludeManagementEvents))
            && matches!(str_of(get(es, &K.ReadWriteType)), Some(t) if t == "All" || t == rw)
            && !excluded_sources(es).contains(&src)
    })
}

/// `_basic_gaps(sel)`: sorted [type, source] pairs no basic selector records.
fn basic_gaps(sel: &Value) -> R<Vec<(&'static str, Value)>> {
    let mut sources: BTreeSet<Value> = BTreeSet::from([s("")]);
    for es in list(get(sel, &K.EventSelectors)) {
        for x in excluded_sources(es) {
            sources.insert(x.clone());
        }
    }
    let mut gaps = Vec::new();
    for rw in ["ReadOnly", "WriteOnly"] {
        for src in &sources {
            if !basic_records(sel, rw, src) {
                gaps.push((rw, src.clone()));
            }
        }
    }
    // sort([[rw, src]]): "ReadOnly" < "WriteOnly", then sources in value order, as built.
    Ok(gaps)
}

fn field_is(g: &Value, name: &str) -> bool {
    str_of(get(g, &K.Field)) == Some(name)
}

fn keys_of(g: &Value) -> R<Vec<&str>> {
    match g {
        Value::Object(o) => o.keys().map(need_str).collect(),
        _ => Err(Fallback),
    }
}

/// `_plain_management_field(g)`.
fn plain_management_field(g: &Value) -> R<bool> {
    if field_is(g, "eventCategory") {
        let mut ks = keys_of(g)?;
        ks.sort_unstable();
        let equals = list(get(g, &K.Equals));
        return Ok(ks == ["Equals", "Field"]
            && matches!(get(g, &K.Equals), Value::Array(_))
            && equals.len() == 1
            && str_of(&equals[0]) == Some("Management"));
    }
    if field_is(g, "readOnly") {
        return Ok(keys_of(g)?
            .iter()
            .all(|k| matches!(*k, "Field" | "Equals" | "NotEquals")));
    }
    Ok(false)
}

/// `_admits_read_only(g, v)`.
fn admits_read_only(g: &Value, v: &str) -> bool {
    match str_of(get(g, &K.Field)) {
        None => false,
        Some(f) if f != "readOnly" => true,
        Some(_) => {
            let has = |k: &Value, d: bool| match opt(g, k) {
                None => d,
                Some(x) => list(x).iter().any(|e| str_of(e) == Some(v)),
            };
            has(&K.Equals, true) && !has(&K.NotEquals, false)
        }
    }
}

/// `_advanced_read_only(aes)` unioned over the selectors: `_advanced_read_only_values(sel)`.
fn advanced_read_only_values(sel: &Value) -> R<BTreeSet<&'static str>> {
    let mut out = BTreeSet::new();
    for aes in list(get(sel, &K.AdvancedEventSelectors)) {
        let fields = list(get(aes, &K.FieldSelectors));
        if !fields.iter().any(|f| field_is(f, "eventCategory")) {
            continue;
        }
        let mut plain = true;
        for g in fields {
            plain &= plain_management_field(g)?;
        }
        if !plain {
            continue;
        }
        for v in ["true", "false"] {
            if fields.iter().all(|g| admits_read_only(g, v)) {
                out.insert(v);
            }
        }
    }
    Ok(out)
}

/// `_management_gap(sel)`.
fn management_gap(sel: &Value) -> R<String> {
    if uses_advanced(sel) {
        return advanced_gap(sel);
    }
    let selectors = list(get(sel, &K.EventSelectors));
    if !selectors
        .iter()
        .any(|es| is_true(get(es, &K.IncludeManagementEvents)))
    {
        return Ok("records no management events".into());
    }
    let rws: Vec<&str> = ["ReadOnly", "WriteOnly"]
        .into_iter()
        .filter(|rw| basic_records(sel, rw, &s("")))
        .collect();
    if rws.len() == 1 {
        return Ok(format!("records only {} management events", rws[0]));
    }
    let srcs: BTreeSet<Value> = basic_gaps(sel)?
        .into_iter()
        .map(|(_, src)| src)
        .filter(|src| src != &s(""))
        .collect();
    if !srcs.is_empty() {
        let names: Vec<&str> = srcs.iter().map(need_str).collect::<R<_>>()?;
        return Ok(format!(
            "excludes management events from {}",
            names.join(", ")
        ));
    }
    Ok("records no management events".into())
}

fn advanced_gap(sel: &Value) -> R<String> {
    let mut others: BTreeSet<&str> = BTreeSet::new();
    for aes in list(get(sel, &K.AdvancedEventSelectors)) {
        let fields = list(get(aes, &K.FieldSelectors));
        let management = fields.iter().any(|f| {
            field_is(f, "eventCategory")
                && list(get(f, &K.Equals))
                    .iter()
                    .any(|e| str_of(e) == Some("Management"))
        });
        if !management {
            continue;
        }
        for g in fields {
            if !plain_management_field(g)? {
                match get(g, &K.Field) {
                    Value::Undefined => {}
                    f => {
                        others.insert(need_str(f)?);
                    }
                }
            }
        }
    }
    if !others.is_empty() {
        return Ok(format!(
            "narrows management events by {} in its advanced event selectors",
            others.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let vs = advanced_read_only_values(sel)?;
    if vs.len() == 1 {
        let word = if vs.contains("true") {
            "read-only"
        } else {
            "write"
        };
        return Ok(format!(
            "records only {word} management events in its advanced event selectors"
        ));
    }
    Ok("records no management events".into())
}
