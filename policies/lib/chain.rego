# METADATA
# title: CloudWatch monitoring chain
# description: |
#   The chain every CIS "log metric filter and alarm" control needs:
#   multi-region logging trail -> CloudWatch Logs group -> metric filter that catches the events of a
#   reference pattern -> metric -> alarm that fires on one event -> SNS topic with a confirmed
#   subscription. A rule calls decision(params) with params = {"reference": <filter pattern>,
#   "label": <the events, in words, e.g. "root events">, "reject_non_root": <true when a filter that
#   also matches other identities' events must fail, as for root usage; with false, a filter that
#   matches more than the reference passes with a note>}. Links are followed by ARN (partition,
#   account, region, name), never by name alone, and into other loaded accounts (organization trails,
#   cross-account topics).
package lib.chain

# Public API (what policies may call; everything else here is private and may change):
#
#   decision(params)           the decision object of a chain-based rule (docs/writing-policies.md,
#                              section 5); lib.benchmark's decision(id, params) calls it.
#   covering_outcomes(params)  the chain outcomes through the filters that catch every reference
#                              event (a pass can only come through one of them).
#
# Every other rule and function is private: its name starts with an underscore (the convention of
# OPA's style guide, which Regal's leaked-internal-reference checks), and policies outside this
# package must not refer to it. Tests may (lib.chain_test does).

# ---------------------------------------------------------------- snapshots

# The snapshot of account `acct` in `region`, if it was loaded.
_snapshot(acct, region) := s if {
	acct == input.account_id
	s := input.regions[region]
}

_snapshot(acct, region) := s if {
	acct != input.account_id
	# An ARN names its partition; an account of another partition is not the one it names.
	data.cwl_audit.accounts[acct].partition == input.partition
	s := data.cwl_audit.accounts[acct].regions[region]
}

# Every loaded snapshot of account `acct`, by region.
_regions_of(acct) := input.regions if acct == input.account_id

_regions_of(acct) := data.cwl_audit.accounts[acct].regions if {
	acct != input.account_id
	data.cwl_audit.accounts[acct].partition == input.partition
}

# Portability rule for this file: never pass a reference that may be undefined to a function
# under `not`. OPA hoists such a reference out of the negation (the body then fails), regorus
# does not (the negation succeeds), so the two would disagree exactly where data is missing. Read
# optional members with object.get and a default instead; tests/opa-crosscheck.py checks this.

# Member `k` of `o`, or `d` when it is absent or null: a snapshot's `null` means "not collected",
# which for an optional member is the same as absent (docs/snapshot-format.md).
_opt(o, k, d) := v if {
	v := object.get(o, k, null)
	v != null
} else := d

# `x` if it is an array; missing or null (not collected) iterates as nothing.
_list(x) := x if is_array(x)

else := []

_errors_of(s) := _list(s.errors)

# Collection errors of `op` in `s` that concern `resource` (or the whole operation).
_op_errors(s, op, resource) := [[i, e] |
	some i, e in _errors_of(s)
	e.operation == op
	object.get(e, "resource", null) in {null, resource}
]

# A list section is complete when it is present and its operation recorded no error.
_complete(s, x, op) if {
	is_array(x)
	count(_op_errors(s, op, null)) == 0
}

# Why data is missing, in words.
_reason(s, op, resource) := sprintf("%s failed: %s", [op, errs[0][1].code]) if {
	errs := _op_errors(s, op, resource)
	count(errs) > 0
} else := sprintf("%s was not collected", [op])

# Where to point for missing data: the recorded error if there is one, else `fallback`.
_missing_pointer(s, op, resource, fallback) := sprintf("/errors/%d", [errs[0][0]]) if {
	errs := _op_errors(s, op, resource)
	count(errs) > 0
} else := fallback

_esc(key) := replace(replace(key, "~", "~0"), "/", "~1")

_loc(acct, region, pointer) := {"account_id": acct, "region": region, "pointer": pointer}

# ---------------------------------------------------------------- 1. trails

# Every trail any snapshot of this account lists (own trails, shadow copies, organization trails).
_trail_arns contains t.TrailARN if {
	some region
	some t in _list(input.regions[region].cloudtrail.trailList)
}

# arn:PARTITION:cloudtrail:HOME_REGION:OWNER_ACCOUNT:trail/NAME
_trail_ref(arn) := {"arn": arn, "region": p[3], "account": p[4], "name": trim_prefix(p[5], "trail/")} if {
	p := split(arn, ":")
	count(p) == 6
}

# Where this account's snapshots list the trail (for pointing at it when its home is not loaded).
_visible(arn) := [{"region": r, "index": i} |
	some r
	some i, t in _list(input.regions[r].cloudtrail.trailList)
	t.TrailARN == arn
][0]

_home_entry(tr) := [{"index": i, "record": t, "snapshot": s} |
	s := _snapshot(tr.account, tr.region)
	some i, t in _list(s.cloudtrail.trailList)
	t.TrailARN == tr.arn
][0]

# Trail discovery is complete when some region listed its trails without error: multi-region trails
# (the only ones that can qualify) appear in every region's list.
_trails_listed if {
	some region
	s := input.regions[region]
	_complete(s, s.cloudtrail.trailList, "DescribeTrails")
}

# Which management events a trail's selectors record. AWS records an event when ANY of the trail's
# selectors selects it, so selectors are combined by union: one `ReadOnly` and one `WriteOnly` basic
# selector together record every management event, and so do two selectors that exclude different
# event sources. A trail uses basic or advanced selectors, never both (PutEventSelectors with one
# kind replaces the other, and GetEventSelectors returns the kind in use); should a snapshot hold
# both, the advanced ones decide, as AWS applies those when a trail has them.
_uses_advanced(sel) if count(_list(_opt(sel, "AdvancedEventSelectors", []))) > 0

_records_all_management(sel) if {
	not _uses_advanced(sel)
	count(_basic_gaps(sel)) == 0
}

_records_all_management(sel) if {
	_uses_advanced(sel)
	count(_advanced_read_only_values(sel)) == 2
}

_excluded_sources(es) := {x | some x in _list(_opt(es, "ExcludeManagementEventSources", []))}

# Does some basic selector record management events of read/write type `rw` from event source
# `src` ("" stands for every source that no selector names)?
_basic_records(sel, rw, src) if {
	some es in _list(sel.EventSelectors)
	es.IncludeManagementEvents == true
	es.ReadWriteType in {"All", rw}
	not src in _excluded_sources(es)
}

# The [type, source] pairs of management events no basic selector records, sorted. Sources only
# matter where some selector names them: every other source is recorded or not as "" is.
_basic_gaps(sel) := sort([[rw, src] |
	sources := {""} | {x | some es in _list(sel.EventSelectors); some x in _excluded_sources(es)}
	some rw in ["ReadOnly", "WriteOnly"]
	some src in sources
	not _basic_records(sel, rw, src)
])

# The `readOnly` values ("true", "false") of management events one advanced selector records, when
# it selects management events and narrows them by nothing but `readOnly` (an `eventSource` or any
# other condition counts as narrowing: such a selector is not credited, conservatively).
_advanced_read_only(aes) := {v |
	fields := _list(aes.FieldSelectors)
	some f in fields
	f.Field == "eventCategory"
	every g in fields {
		_plain_management_field(g)
	}
	some v in ["true", "false"]
	every g in fields {
		_admits_read_only(g, v)
	}
}

# An eventCategory condition that admits exactly management events, or a readOnly condition.
_plain_management_field(g) if {
	g.Field == "eventCategory"
	object.keys(g) == {"Field", "Equals"}
	_list(g.Equals) == ["Management"]
}

_plain_management_field(g) if {
	g.Field == "readOnly"
	count(object.keys(g) - {"Field", "Equals", "NotEquals"}) == 0
}

_admits_read_only(g, _) if g.Field != "readOnly"

_admits_read_only(g, v) if {
	g.Field == "readOnly"
	v in _list(_opt(g, "Equals", ["true", "false"]))
	not v in _list(_opt(g, "NotEquals", []))
}

# The readOnly values recorded by some advanced selector (union over selectors).
_advanced_read_only_values(sel) := {v | some aes in _list(sel.AdvancedEventSelectors); some v in _advanced_read_only(aes)}

# What is wrong with a trail's selectors, in words (one answer: an else-chain, each step's words
# built from sorted sets).
_management_gap(sel) := _advanced_gap(sel) if {
	_uses_advanced(sel)
} else := "records no management events" if {
	count([es | some es in _list(sel.EventSelectors); es.IncludeManagementEvents == true]) == 0
} else := sprintf("records only %s management events", [rws[0]]) if {
	rws := [rw | some rw in ["ReadOnly", "WriteOnly"]; _basic_records(sel, rw, "")]
	count(rws) == 1
} else := sprintf("excludes management events from %s", [concat(", ", srcs)]) if {
	srcs := sort({g[1] | some g in _basic_gaps(sel); g[1] != ""})
	count(srcs) > 0
} else := "records no management events"

_read_only_words := {"true": "read-only", "false": "write"}

_advanced_gap(sel) := sprintf("narrows management events by %s in its advanced event selectors", [concat(", ", sort(others))]) if {
	others := {g.Field |
		some aes in _list(sel.AdvancedEventSelectors)
		fields := _list(aes.FieldSelectors)
		some f in fields
		f.Field == "eventCategory"
		"Management" in _list(f.Equals)
		some g in fields
		not _plain_management_field(g)
	}
	count(others) > 0
} else := sprintf("records only %s management events in its advanced event selectors", [_read_only_words[v]]) if {
	vs := _advanced_read_only_values(sel)
	count(vs) == 1
	v := [x | some x in vs][0]
} else := "records no management events"

_log_group_ref(arn) := {"arn": clean, "partition": p[1], "region": p[3], "account": p[4], "name": p[6]} if {
	clean := trim_suffix(arn, ":*")
	p := split(clean, ":")
	count(p) == 7
	p[2] == "logs"
	p[5] == "log-group"
}

_trail_evidence(tr, h) := {
	"link": "trail",
	"name": tr.name,
	"arn": tr.arn,
	"account": tr.account,
	"home_region": tr.region,
	"organization": _opt(h.record, "IsOrganizationTrail", false) == true,
}

# The first broken link of a trail, or {"state": "ok", ...} with what the next links need. Split
# in three steps so the trail's reference and home entry are computed once, not once per condition.
_trail_check(arn) := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail ARN %s is malformed", [arn]),
	"location": _loc(input.account_id, v.region, sprintf("/cloudtrail/trailList/%d", [v.index])),
	"resource": arn,
	"chain": [],
} if {
	not _trail_ref(arn)
	v := _visible(arn)
} else := _trail_check_ref(arn, _trail_ref(arn))

_trail_check_ref(arn, tr) := {
	"state": "unknown",
	"depth": 0,
	"link": "trail",
	"message": msg,
	"location": _loc(input.account_id, v.region, sprintf("/cloudtrail/trailList/%d", [v.index])),
	"resource": arn,
	"chain": [],
} if {
	not _snapshot(tr.account, tr.region)
	v := _visible(arn)
	msg := _missing_home_message(tr)
} else := {
	"state": "unknown",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s is not in the trail list of its home region %s (account %s): %s", [tr.name, tr.region, tr.account, _reason(s, "DescribeTrails", null)]),
	"location": _loc(tr.account, tr.region, _missing_pointer(s, "DescribeTrails", null, "/cloudtrail/trailList")),
	"resource": arn,
	"chain": [],
} if {
	s := _snapshot(tr.account, tr.region)
	not _home_entry(tr)
} else := _trail_check_home(arn, tr, _home_entry(tr))

_trail_check_home(arn, tr, h) := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s belongs to account %s and is not an organization trail, so it does not log this account", [tr.name, tr.account]),
	"location": _trail_loc(tr, h),
	"resource": arn,
	"chain": [],
} if {
	tr.account != input.account_id
	not h.record.IsOrganizationTrail == true
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s is single-region (IsMultiRegionTrail=false): events in other regions are not logged", [tr.name]),
	"location": _trail_loc(tr, h),
	"resource": arn,
	"chain": [],
} if {
	not h.record.IsMultiRegionTrail == true
} else := {
	"state": "unknown",
	"depth": 0,
	"link": "trail",
	"message": sprintf("the status of trail %s could not be read (%s)", [tr.name, _reason(h.snapshot, "GetTrailStatus", arn)]),
	"location": _loc(tr.account, tr.region, _missing_pointer(h.snapshot, "GetTrailStatus", arn, "/cloudtrail/status")),
	"resource": arn,
	"chain": [],
} if {
	not is_object(object.get(h.snapshot, ["cloudtrail", "status", arn], null))
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s is not logging (IsLogging=false)", [tr.name]),
	"location": _loc(tr.account, tr.region, sprintf("/cloudtrail/status/%s", [_esc(arn)])),
	"resource": arn,
	"chain": [],
} if {
	not h.snapshot.cloudtrail.status[arn].IsLogging == true
} else := {
	"state": "unknown",
	"depth": 0,
	"link": "trail",
	"message": sprintf("the event selectors of trail %s could not be read (%s)", [tr.name, _reason(h.snapshot, "GetEventSelectors", arn)]),
	"location": _loc(tr.account, tr.region, _missing_pointer(h.snapshot, "GetEventSelectors", arn, "/cloudtrail/selectors")),
	"resource": arn,
	"chain": [],
} if {
	not is_object(object.get(h.snapshot, ["cloudtrail", "selectors", arn], null))
} else := {
	"state": "unknown",
	"depth": 0,
	"link": "trail",
	"message": sprintf("the event selectors of trail %s hold neither EventSelectors nor AdvancedEventSelectors (not collected)", [tr.name]),
	"location": _loc(tr.account, tr.region, sprintf("/cloudtrail/selectors/%s", [_esc(arn)])),
	"resource": arn,
	"chain": [],
} if {
	sel := h.snapshot.cloudtrail.selectors[arn]
	not is_array(_opt(sel, "EventSelectors", null))
	not is_array(_opt(sel, "AdvancedEventSelectors", null))
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s %s, so it does not record every management event", [tr.name, _management_gap(sel)]),
	"location": _loc(tr.account, tr.region, sprintf("/cloudtrail/selectors/%s", [_esc(arn)])),
	"resource": arn,
	"chain": [],
} if {
	sel := h.snapshot.cloudtrail.selectors[arn]
	not _records_all_management(sel)
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s does not deliver events to CloudWatch Logs (no CloudWatchLogsLogGroupArn)", [tr.name]),
	"location": _trail_loc(tr, h),
	"resource": arn,
	"chain": [],
} if {
	not _non_empty_string(object.get(h.record, "CloudWatchLogsLogGroupArn", null))
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s has a malformed CloudWatchLogsLogGroupArn %q", [tr.name, h.record.CloudWatchLogsLogGroupArn]),
	"location": _trail_loc(tr, h),
	"resource": arn,
	"chain": [],
} if {
	not _log_group_ref(h.record.CloudWatchLogsLogGroupArn)
} else := {
	"state": "fail",
	"depth": 0,
	"link": "trail",
	"message": sprintf("trail %s delivers to log group ARN %s of partition %s, but this account is in partition %s", [tr.name, h.record.CloudWatchLogsLogGroupArn, _log_group_ref(h.record.CloudWatchLogsLogGroupArn).partition, input.partition]),
	"location": _trail_loc(tr, h),
	"resource": arn,
	"chain": [],
} if {
	_log_group_ref(h.record.CloudWatchLogsLogGroupArn).partition != input.partition
} else := {
	"state": "ok",
	"trail": tr,
	"log_group": _log_group_ref(h.record.CloudWatchLogsLogGroupArn),
	"location": _trail_loc(tr, h),
	"chain": [_trail_evidence(tr, h)],
}

_trail_loc(tr, h) := _loc(tr.account, tr.region, sprintf("/cloudtrail/trailList/%d", [h.index]))

_missing_home_message(tr) := sprintf("trail %s is an organization trail owned by account %s; load that account's %s snapshot to check it", [tr.name, tr.account, tr.region]) if {
	tr.account != input.account_id
} else := sprintf("trail %s has its home in %s, and no %s snapshot of this account is loaded", [tr.name, tr.region, tr.region])

_trail_results[arn] := _trail_check(arn) if some arn in _trail_arns

# ---------------------------------------------------------------- 2. log group

_after_trail(t, params) := [{
	"state": "unknown",
	"depth": 1,
	"link": "log_group",
	"message": sprintf("trail %s sends events to log group %s in account %s region %s, and no snapshot of it is loaded", [t.trail.name, lg.name, lg.account, lg.region]),
	"location": t.location,
	"resource": lg.arn,
	"chain": t.chain,
}] if {
	lg := t.log_group
	not _snapshot(lg.account, lg.region)
} else := _after_log_group(t, params, _snapshot(t.log_group.account, t.log_group.region))

_log_group_evidence(lg) := {"link": "log_group", "name": lg.name, "arn": lg.arn, "account": lg.account, "region": lg.region}

# The lookups below use the tables `eval` adds to every snapshot (`s.index`, see
# src/snapshot/index.rs: positions by log group, metric and topic) and fall back to a scan for a
# snapshot without them (unit-test fixtures, other Rego engines); both give the same list.
_indexed(s) if is_object(object.get(s, "index", null))

_filters_on(s, name) := [{"index": i, "filter": s.logs.metricFilters[i]} |
	some i in object.get(s.index.filters, name, [])
] if _indexed(s)

else := [{"index": i, "filter": f} |
	some i, f in _list(s.logs.metricFilters)
	f.logGroupName == name
]

# How many metric filters the log group has: a lookup with the index (this is asked once per
# failing filter, which made a scan per call quadratic in the number of filters).
_filter_count(s, name) := count(object.get(s.index.filters, name, [])) if _indexed(s)

else := count(_filters_on(s, name))

# Regions of the same account where a log group of the same name has metric filters: a name-only
# match that peers accept, and we explain.
_same_name_elsewhere(lg) := sort({r |
	some r, s in _regions_of(lg.account)
	r != lg.region
	some f in _list(s.logs.metricFilters)
	f.logGroupName == lg.name
})

_elsewhere_hint(lg) := sprintf(" (a log group of that name in %s has metric filters, but the trail delivers to %s)", [concat(", ", rs), lg.region]) if {
	rs := _same_name_elsewhere(lg)
	count(rs) > 0
} else := ""

_after_log_group(t, params, s) := [{
	"state": "fail",
	"depth": 1,
	"link": "log_group",
	"message": sprintf("no metric filter on log group %s (account %s, %s)%s", [lg.name, lg.account, lg.region, _elsewhere_hint(lg)]),
	"location": _loc(lg.account, lg.region, "/logs/metricFilters"),
	"resource": lg.arn,
	"chain": chain,
}] if {
	lg := t.log_group
	chain := array.concat(t.chain, [_log_group_evidence(lg)])
	_filter_count(s, lg.name) == 0
	_complete(s, s.logs.metricFilters, "DescribeMetricFilters")
} else := [{
	"state": "unknown",
	"depth": 1,
	"link": "log_group",
	"message": sprintf("the metric filters of %s (account %s) %s", [lg.region, lg.account, _unread(object.get(s, ["logs", "metricFilters"], null), _reason(s, "DescribeMetricFilters", null), sprintf("on log group %s", [lg.name]))]),
	"location": _loc(lg.account, lg.region, _missing_pointer(s, "DescribeMetricFilters", null, "/logs")),
	"resource": lg.arn,
	"chain": chain,
}] if {
	lg := t.log_group
	chain := array.concat(t.chain, [_log_group_evidence(lg)])
	_filter_count(s, lg.name) == 0
} else := array.concat([o |
	lg := t.log_group
	chain := array.concat(t.chain, [_log_group_evidence(lg)])
	some f in _filters_on(s, lg.name)
	cov := cwl.filter_covers(object.get(f.filter, "filterPattern", ""), params.reference)
	some o in _after_filter(lg, s, f, cov, chain, params)
], _filters_gap(t, s))

# A listing that failed part way (a denied or throttled page, recorded in `errors`) may have left
# out the very filter that completes the chain: beside the listed filters' outcomes it is an
# `unknown`, so an account whose listed filters all fail is unknown, not fail.
_filters_gap(t, s) := [{
	"state": "unknown",
	"depth": 1,
	"link": "log_group",
	"message": sprintf("the metric filters of %s (account %s) were listed only in part (%s), so a filter that completes the chain may be missing", [lg.region, lg.account, _reason(s, "DescribeMetricFilters", null)]),
	"location": _loc(lg.account, lg.region, _missing_pointer(s, "DescribeMetricFilters", null, "/logs")),
	"resource": lg.arn,
	"chain": array.concat(t.chain, [_log_group_evidence(lg)]),
}] if {
	lg := t.log_group
	count(_op_errors(s, "DescribeMetricFilters", null)) > 0
} else := []

# ---------------------------------------------------------------- 3. metric filter

_filter_loc(lg, f) := _loc(lg.account, lg.region, sprintf("/logs/metricFilters/%d", [f.index]))

_filter_resource(lg, f) := sprintf("%s:metric-filter:%s", [lg.arn, f.filter.filterName])

_non_root_kind(cov) := sprintf(" such as %s", [cov.non_root_example.userIdentity.type]) if {
	is_string(cov.non_root_example.userIdentity.type)
} else := ""

_after_filter(lg, s, f, cov, chain, params) := [{
	"state": "unknown",
	"depth": 2,
	"link": "filter",
	"message": sprintf("cannot decide whether filter %s catches all %s: %s", [f.filter.filterName, params.label, cov.error]),
	"location": _filter_loc(lg, f),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	is_string(cov.error)
	cov.undecided == true
} else := [{
	"state": "fail",
	"depth": 2,
	"link": "filter",
	"message": sprintf("filter %s has a pattern CloudWatch Logs rejects: %s", [f.filter.filterName, cov.error]),
	"location": _filter_loc(lg, f),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	is_string(cov.error)
} else := [{
	"state": "fail",
	"depth": 2,
	"link": "filter",
	"message": _miss_message(lg, f, cov, params, rank),
	"location": _filter_loc(lg, f),
	"resource": _filter_resource(lg, f),
	"chain": chain,
	"rank": rank,
}] if {
	not cov.covers == true
	is_string(cov.missed)
	rank := _narrower_rank(f, params)
} else := [{
	"state": "fail",
	"depth": 2,
	"link": "filter",
	"message": sprintf("filter %s does not match all %s: pattern %s is not equivalent to the reference pattern", [f.filter.filterName, params.label, object.get(f.filter, "filterPattern", "")]),
	"location": _filter_loc(lg, f),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	not cov.covers == true
} else := [{
	"state": "fail",
	"depth": 2,
	"link": "filter",
	"message": sprintf("filter %s also matches events of other identities%s, so ordinary activity keeps the alarm in ALARM and %s would send no new notification", [f.filter.filterName, _non_root_kind(cov), params.label]),
	"location": _filter_loc(lg, f),
	"resource": _filter_resource(lg, f),
	"chain": chain,
	"rank": 2,
}] if {
	params.reject_non_root == true
	cov.matches_non_root == true
} else := [o |
	evidence := object.union(
		{"link": "filter", "name": f.filter.filterName, "pattern": object.get(f.filter, "filterPattern", "")},
		_filter_note(cov, object.union(params, {"pattern": object.get(f.filter, "filterPattern", "")})),
	)
	some mi, mt in _list(f.filter.metricTransformations)
	some o in _after_metric(lg, s, f, mi, mt, array.concat(chain, [evidence]), params)
]

# Among failing filters of one log group, which is closest to the rule's reference (used only to choose the
# failure to report, never for the verdict): 2 = catches every reference event but fails otherwise,
# 1 = catches only reference events but not all of them (e.g. the rule's filter with one
# exclusion too many), 0 = a filter for something else (e.g. another rule's).
_narrower_rank(f, params) := 1 if {
	reverse := cwl.filter_covers(params.reference, object.get(f.filter, "filterPattern", ""))
	reverse.covers == true
} else := 0

# A filter that is not for this rule (another rule's, or one for something else) is never
# named as the closest chain: the root filter "misses network ACL changes whose eventType is
# AwsServiceEvent" only because it is about something else. The message says that the log group
# has no filter for the rule instead.
_miss_message(lg, f, cov, params, rank) := sprintf("no filter on log group %s is for %s", [lg.name, params.label]) if {
	rank == 0
	not _for_rule(f, params)
} else := sprintf("filter %s misses %s %s", [f.filter.filterName, params.label, cov.missed])

# A filter is for the rule when it tests at least one of the reference's comparisons
# (`$.eventName = CreateNetworkAcl`, quotes and spaces aside). What a filter matches cannot tell:
# the root filter does catch the root user's network ACL changes, and a filter for the rule
# that is broader in one place (plain CreateRoute where CIS v6.0 narrows it to EC2) and misses an
# event elsewhere is neither narrower nor wider than the reference. Consulted only for rank 0.
_for_rule(f, params) if {
	count(_pattern_comparisons(object.get(f.filter, "filterPattern", "")) & _reference_comparisons(params)) > 0
}

# The reference's comparisons: computed once per rule by `decision` (`_prepared`), else here.
_reference_comparisons(params) := c if {
	c := object.get(params, "_reference_comparisons", null)
	c != null
} else := _comparisons(params.reference)

# A filter pattern's comparisons: looked up for the patterns of this account's own snapshots
# (computed once per query, and one query decides every rule of an account), else computed.
# Without the table, every rule recomputed them for every filter of the log group: a seventh of
# the time of an organization whose accounts fail most rules.
_pattern_comparisons(p) := c if {
	c := _input_comparisons[p]
} else := _comparisons(p)

_input_comparisons := {p: _comparisons(p) | some p in _input_patterns}

_input_patterns contains p if {
	some s in input.regions
	some f in _list(s.logs.metricFilters)
	is_object(f)
	p := object.get(f, "filterPattern", "")
	is_string(p)
}

_comparisons(p) := {replace(replace(c, " ", ""), `"`, "") |
	some c in regex.find_n(`\$\.[A-Za-z0-9_.\[\]]+\s*!?=\s*"?[^\s"()|&}]+`, p, -1)
}

_filter_note(cov, params) := {"note": sprintf("the filter also counts %s the reference leaves out (service-invoked or AwsServiceEvent records); the alarm may fire more often than needed", [params.label])} if {
	params.reject_non_root == true
	cov.matches_extra_root == true
} else := {"note": "the filter also counts events the reference pattern leaves out; the alarm may fire more often than needed"} if {
	not params.reject_non_root == true
	reverse := cwl.filter_covers(params.reference, params.pattern)
	reverse.covers == false
	not is_string(reverse.error)
} else := {"note": cov.note} if {
	is_string(cov.note)
} else := {}

# ---------------------------------------------------------------- 4. metric

_non_empty_string(x) if {
	is_string(x)
	x != ""
}

# A number as CloudWatch Logs reads a metric value; bounded so that to_number never overflows
# (`1e400` is refused as a value rather than stopping the evaluation), and without leading zeros,
# which to_number (a JSON number) refuses: `01` fails as a value cwl-audit cannot read.
_numeric(v) if regex.match(`^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?([eE][-+]?[0-9]{1,2})?$`, v)

_metric_name(mt) := sprintf("%s/%s", [mt.metricNamespace, mt.metricName])

_metric_loc(lg, f, mi) := _loc(lg.account, lg.region, sprintf("/logs/metricFilters/%d/metricTransformations/%d", [f.index, mi]))

_after_metric(lg, s, f, mi, mt, chain, params) := [{
	"state": "fail",
	"depth": 3,
	"link": "metric",
	"message": sprintf("filter %s publishes metric %s with value %q taken from the event, so one event is not known to reach any threshold", [f.filter.filterName, _metric_name(mt), mt.metricValue]),
	"location": _metric_loc(lg, f, mi),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	startswith(mt.metricValue, "$")
} else := [{
	"state": "fail",
	"depth": 3,
	"link": "metric",
	"message": sprintf("filter %s publishes metric %s with value %q, which is not a number cwl-audit can read (digits without leading zeros, an optional fraction and exponent), so one event is not known to reach any threshold", [f.filter.filterName, _metric_name(mt), mt.metricValue]),
	"location": _metric_loc(lg, f, mi),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	not _numeric(mt.metricValue)
} else := [{
	"state": "fail",
	"depth": 3,
	"link": "metric",
	"message": sprintf("filter %s publishes metric %s with value %s for each event, so no alarm on it can fire", [f.filter.filterName, _metric_name(mt), mt.metricValue]),
	"location": _metric_loc(lg, f, mi),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	to_number(mt.metricValue) <= 0
} else := [{
	"state": "fail",
	"depth": 3,
	"link": "metric",
	"message": sprintf("metric %s has dimensions taken from event fields (%s), so an alarm on one dimension value misses the others", [_metric_name(mt), concat(", ", sort(object.keys(mt.dimensions)))]),
	"location": _metric_loc(lg, f, mi),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	count(_opt(mt, "dimensions", {})) > 0
} else := [{
	"state": p.state,
	"depth": 3,
	"link": "metric",
	"message": p.message,
	"location": _loc(lg.account, lg.region, sprintf("/logs/metricFilters/%d", [p.index])),
	"resource": sprintf("arn:%s:logs:%s:%s:log-group:%s:metric-filter:%s", [lg.partition, lg.region, lg.account, p.log_group, p.name]),
	"chain": chain,
}] if {
	p := _shared_metric_problem(s, f, mi, mt, params)
} else := [{
	"state": "unknown",
	"depth": 3,
	"link": "metric",
	"message": sprintf("the metric filters of %s (account %s) were listed only in part (%s), so a filter the listing left out may also publish metric %s and change what its alarms read", [lg.region, lg.account, _reason(s, "DescribeMetricFilters", null), _metric_name(mt)]),
	"location": _loc(lg.account, lg.region, _missing_pointer(s, "DescribeMetricFilters", null, "/logs")),
	"resource": _filter_resource(lg, f),
	"chain": chain,
}] if {
	# Every publisher of the metric feeds its alarms (see _co_publishers): with some unlisted,
	# nothing proves the alarm fires on one event, and fires only then.
	count(_op_errors(s, "DescribeMetricFilters", null)) > 0
} else := _after_metric_value(lg, s, mt, to_number(mt.metricValue), array.concat(chain, [{"link": "metric", "namespace": mt.metricNamespace, "name": mt.metricName, "value": to_number(mt.metricValue)}]), params)

# The other transformations of the log group's account and region that publish the same metric
# (namespace and name, no dimensions) in the same unit, from any log group: CloudWatch keys a
# metric by namespace, name and dimensions only, so the alarm sees every publisher's data points.
# One in another unit is left out: an alarm that names the chain's unit reads only data points of
# that unit (GetMetricStatistics, Unit), and one that names another unit or none fails on the unit
# itself (see _alarm_problem).
_co_publishers(s, f, mi, mt) := [{"index": i, "filter": g, "mt": t} |
	some i, g in _list(s.logs.metricFilters)
	some j, t in _list(g.metricTransformations)
	[i, j] != [f.index, mi]
	t.metricNamespace == mt.metricNamespace
	t.metricName == mt.metricName
	count(_opt(t, "dimensions", {})) == 0
	_opt(t, "unit", "None") == _opt(mt, "unit", "None")
]

# What another publisher of the metric does to its data points, or undefined when it only adds
# data points that the chain's own filter could have produced: positive values on events of the
# kind the rule watches. Conservative where the data points cannot be followed through every
# alarm statistic: a defaultValue on another publisher (even 0) fails.
_co_publisher_problem(p, params) := {"state": "fail", "message": sprintf("filter %s (log group %s) also publishes metric %s with value %q taken from the event, so the alarm's data points are not known", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), p.mt.metricValue])} if {
	startswith(p.mt.metricValue, "$")
} else := {"state": "fail", "message": sprintf("filter %s (log group %s) also publishes metric %s with value %q, which is not a number cwl-audit can read, so the alarm's data points are not known", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), p.mt.metricValue])} if {
	not _numeric(p.mt.metricValue)
} else := {"state": "fail", "message": sprintf("filter %s (log group %s) also publishes metric %s with value %s, which holds the metric below what one event reaches", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), p.mt.metricValue])} if {
	to_number(p.mt.metricValue) <= 0
} else := {"state": "fail", "message": sprintf("filter %s (log group %s) also publishes metric %s, with defaultValue %v for every log event it does not match, so ordinary activity adds data points to the alarm's metric", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), _default_value(p.mt)])} if {
	_default_value(p.mt)
} else := {"state": "unknown", "message": sprintf("filter %s (log group %s) also publishes metric %s, and cwl-audit cannot decide which events it matches: %s", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), cov.error])} if {
	params.reject_non_root == true
	cov := cwl.filter_covers(object.get(p.filter, "filterPattern", ""), params.reference)
	cov.undecided == true
} else := {"state": "fail", "message": sprintf("filter %s (log group %s) also publishes metric %s and matches events of other identities%s, so ordinary activity keeps the alarm in ALARM and %s would send no new notification", [p.filter.filterName, p.filter.logGroupName, _metric_name(p.mt), _non_root_kind(cov), params.label])} if {
	params.reject_non_root == true
	cov := cwl.filter_covers(object.get(p.filter, "filterPattern", ""), params.reference)
	cov.matches_non_root == true
}

# The first co-publisher's problem, by position in the snapshot.
_shared_metric_problem(s, f, mi, mt, params) := ps[0] if {
	ps := [object.union(x, {"index": p.index, "log_group": p.filter.logGroupName, "name": p.filter.filterName}) |
		some p in _co_publishers(s, f, mi, mt)
		x := _co_publisher_problem(p, params)
	]
	count(ps) > 0
}

# ---------------------------------------------------------------- 5. alarm

# The alarm's MetricStat query on the metric, or the alarm itself for a single-metric alarm.
_watched(a, ns, name) := {"kind": "single", "dimensions": _list(_opt(a, "Dimensions", [])), "stat": _opt(a, "Statistic", _opt(a, "ExtendedStatistic", "")), "unit": _opt(a, "Unit", null)} if {
	a.Namespace == ns
	a.MetricName == name
} else := {"kind": "math", "query": q, "dimensions": _list(_opt(q.MetricStat.Metric, "Dimensions", [])), "stat": _opt(q.MetricStat, "Stat", ""), "unit": _opt(q.MetricStat, "Unit", null)} if {
	q := [m | some m in _list(a.Metrics); m.MetricStat.Metric.Namespace == ns; m.MetricStat.Metric.MetricName == name][0]
}

# The alarms of `s` on metric ns/name, with what each watches. Single-metric and metric-math alarms
# are matched by plain comparisons in two comprehensions, not by a function call per alarm: accounts
# hold hundreds of alarms and this runs for every metric a covering filter publishes.
_alarms_on(s, ns, name) := array.concat(
	[{"index": i, "alarm": a, "watch": _watched(a, ns, name)} |
		some i in object.get(s.index.alarms, [ns, name], [])
		a := s.cloudwatch.MetricAlarms[i]
	],
	[{"index": i, "alarm": a, "watch": w} |
		some i in object.get(s.index.math_alarms, [ns, name], [])
		a := s.cloudwatch.MetricAlarms[i]
		w := _watched(a, ns, name)
		w.kind == "math"
	],
) if _indexed(s)

else := array.concat(
	[{"index": i, "alarm": a, "watch": _watched(a, ns, name)} |
		some i, a in _list(s.cloudwatch.MetricAlarms)
		a.MetricName == name
		a.Namespace == ns
	],
	[{"index": i, "alarm": a, "watch": w} |
		some i, a in _list(s.cloudwatch.MetricAlarms)
		is_array(a.Metrics)
		w := _watched(a, ns, name)
		w.kind == "math"
	],
)

# A hint at an alarm that watches the metric in the wrong place. Several alarms may: the first by
# name (then namespace, region) is named, so the hint is one string whatever the evaluation order.
_alarm_hint(lg, mt) := sprintf(" (alarm %s watches %s in namespace %s instead)", [h[0], mt.metricName, h[1]]) if {
	s := _snapshot(lg.account, lg.region)
	hs := sort([[a.AlarmName, a.Namespace] |
		some a in _alarms_named(s, mt.metricName)
		a.Namespace != mt.metricNamespace
	])
	count(hs) > 0
	h := hs[0]
} else := sprintf(" (alarm %s in %s watches it, but metrics are regional)", [h[0], h[1]]) if {
	hs := sort([[e.alarm.AlarmName, r] |
		some r, s in _regions_of(lg.account)
		r != lg.region
		some e in _alarms_on(s, mt.metricNamespace, mt.metricName)
	])
	count(hs) > 0
	h := hs[0]
} else := ""

# The alarms of `s` whose own metric is named `name`, in any namespace: a lookup with the index
# (the hint was a scan of every alarm of every region of the account, for each failing chain).
_alarms_named(s, name) := [s.cloudwatch.MetricAlarms[i] | some i in object.get(s.index.alarms_by_name, name, [])] if _indexed(s)

else := [a | some a in _list(s.cloudwatch.MetricAlarms); a.MetricName == name]

_after_metric_value(lg, s, mt, value, chain, params) := _after_alarms(lg, s, mt, value, _alarms_on(s, mt.metricNamespace, mt.metricName), chain, params)

# `on`: the alarms on the metric, computed once by the caller.
_after_alarms(lg, s, mt, value, on, chain, params) := [{
	"state": "fail",
	"depth": 4,
	"link": "alarm",
	"message": sprintf("no alarm on metric %s in %s (account %s)%s", [_metric_name(mt), lg.region, lg.account, _alarm_hint(lg, mt)]),
	"location": _loc(lg.account, lg.region, "/cloudwatch/MetricAlarms"),
	"resource": sprintf("%s/%s", [mt.metricNamespace, mt.metricName]),
	"chain": chain,
}] if {
	count(on) == 0
	_complete(s, s.cloudwatch.MetricAlarms, "DescribeAlarms")
} else := [{
	"state": "unknown",
	"depth": 4,
	"link": "alarm",
	"message": sprintf("the alarms of %s (account %s) %s", [lg.region, lg.account, _unread(object.get(s, ["cloudwatch", "MetricAlarms"], null), _reason(s, "DescribeAlarms", null), sprintf("on metric %s", [_metric_name(mt)]))]),
	"location": _loc(lg.account, lg.region, _missing_pointer(s, "DescribeAlarms", null, "/cloudwatch")),
	"resource": sprintf("%s/%s", [mt.metricNamespace, mt.metricName]),
	"chain": chain,
}] if {
	count(on) == 0
} else := array.concat([o |
	some entry in on
	some o in _after_alarm(lg, s, mt, value, entry, chain, params)
], _alarms_gap(lg, s, mt, chain))

# How much of a listing with errors was read: part of it (none of it `what`), or none. `x` is
# passed through object.get: an absent section must still give a message, not an undefined rule.
_unread(x, reason, what) := sprintf("were listed only in part (%s), and none of those listed is %s", [reason, what]) if is_array(x)

else := sprintf("could not be read (%s)", [reason])

# As _filters_gap: alarms listed only in part may lack the one that completes the chain.
_alarms_gap(lg, s, mt, chain) := [{
	"state": "unknown",
	"depth": 4,
	"link": "alarm",
	"message": sprintf("the alarms of %s (account %s) were listed only in part (%s), so an alarm that completes the chain may be missing", [lg.region, lg.account, _reason(s, "DescribeAlarms", null)]),
	"location": _loc(lg.account, lg.region, _missing_pointer(s, "DescribeAlarms", null, "/cloudwatch")),
	"resource": sprintf("%s/%s", [mt.metricNamespace, mt.metricName]),
	"chain": chain,
}] if {
	count(_op_errors(s, "DescribeAlarms", null)) > 0
} else := []

_breaches(op, x, threshold) if {
	op == "GreaterThanOrEqualToThreshold"
	x >= threshold
}

_breaches(op, x, threshold) if {
	op == "GreaterThanThreshold"
	x > threshold
}

_op_words := {
	"GreaterThanOrEqualToThreshold": ">=",
	"GreaterThanThreshold": ">",
	"LessThanThreshold": "<",
	"LessThanOrEqualToThreshold": "<=",
}

_op_word(op) := _op_words[op] if _op_words[op]

else := op

# The value one event produces for the alarm's statistic: SampleCount counts the data point, every
# other statistic (Sum, Average, Minimum, Maximum, percentiles) of a single value is that value.
_observed(stat, value) := 1 if stat == "SampleCount"

else := value

# Metric math that passes the metric's value through unchanged. The id goes into the regex, so it
# must be an id as AWS allows them (a lower-case letter, then letters, digits, underscores): any
# other (`.*`, `m(`) would be regex syntax, and its expression is not proven to pass through.
# (Built with concat, not sprintf: regorus 0.14.1's sprintf doubles the backslashes of its format.)
_passthrough(expr, id) if {
	regex.match(`^[a-z][a-zA-Z0-9_]*$`, id)
	regex.match(concat("", [`^\s*(`, id, `|FILL\(\s*`, id, `\s*,\s*0\s*\)|(SUM|MAX|MIN|AVG)\(\s*\[\s*`, id, `\s*\]\s*\))\s*$`]), expr)
}

_returned_queries(a) := [q | some q in _list(a.Metrics); _opt(q, "ReturnData", true) == true]

_math_problem(a, w, acct) := sprintf("returns %d time series instead of one", [count(_returned_queries(a))]) if {
	w.kind == "math"
	count(_returned_queries(a)) != 1
} else := sprintf("returns expression %q, which cwl-audit cannot prove to fire on one event (use the metric itself or FILL(%s, 0))", [_opt(r, "Expression", ""), w.query.Id]) if {
	w.kind == "math"
	r := _returned_queries(a)[0]
	r.Id != w.query.Id
	not _passthrough(_opt(r, "Expression", ""), w.query.Id)
} else := sprintf("reads the metric from account %s", [w.query.AccountId]) if {
	w.kind == "math"
	is_string(w.query.AccountId)
	w.query.AccountId != acct
}

# A metric filter's data points: `value` for each log event its pattern matches and, when the
# transformation has a `defaultValue` d, d for every other log event (CloudWatch Logs API,
# MetricTransformation: "the value to emit when a filter pattern does not match a log event"; the
# user guide's wording, d once per period without a match, passes whatever this reading passes, so
# this stricter reading never passes a chain the other fails). A trail's log group receives events
# all the time, so a period holds k >= 1 other events, k unbounded. The alarm must stay quiet
# without a matching event (the statistic of k copies of d must not breach) and fire with one (the
# statistic of one `value` and k copies of d must breach for every k):
# - SampleCount counts k (+1): ordinary activity breaches;
# - Sum is k*d (+ value): d > 0 breaches with activity, d < 0 pulls one event below the threshold,
#   d = 0 changes nothing;
# - Maximum (and p100) is d without, max(value, d) with the event: right when d does not breach;
# - Average, Minimum, other percentiles and trimmed or winsorized means tend to d as k grows: d
#   breaching keeps the alarm in ALARM, d not breaching lets one event go unnoticed.
_default_value(mt) := d if {
	d := _opt(mt, "defaultValue", null)
	is_number(d)
}

# The NN of a percentile statistic pNN (AWS: "If the percentile is between 0.5 and 1.00 and there
# are fewer than 10/(1-percentile) data points ... `ignore` keeps the alarm state"; with p the
# percentage, 10/(1-p/100) = 1000/(100-p)).
# Written without leading zeros (to_number refuses `05`); other spellings are not read as
# percentiles, and `_readable_statistic` fails them.
_percentile(stat) := to_number(substring(stat, 1, -1)) if regex.match(`^[pP](0|[1-9][0-9]?)(\.[0-9]{1,6})?$`, stat)

# The data points an alarm with EvaluateLowSampleCountPercentile=ignore needs in a period before
# it evaluates percentile p (AWS, "Percentile-based alarms and low data samples": 10/(1-p) from
# p50 up, 10/p below; in percent, 1000/(100-p) and 1000/p). p0 and p100 are the minimum and the
# maximum, and have no such bound.
_min_samples(p) := ceil(1000 / (100 - p)) if {
	p >= 50
	p < 100
} else := ceil(1000 / p) if {
	p > 0
	p < 50
}

# A statistic whose value for one data point cwl-audit knows: the five plain ones and the
# percentiles. Percentile ranks (PR), trimmed counts and sums (TC, TS), and trimmed or winsorized
# means (TM, WM, tm, wm) depend on bounds a single event may fall outside of (PR(2:) of one event
# of value 1 is 0%; tc90 counts, so it is 1 whatever the value): none is proven to fire.
_readable_statistic(stat) if stat in {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

_readable_statistic(stat) if _percentile(stat)

_readable_statistic(stat) if _max_like(stat)

_max_like(stat) if stat == "Maximum"

_max_like(stat) if regex.match(`^[pP]100(\.0+)?$`, stat)

_default_value_problem(a, stat, mt, value) := sprintf("counts data points (SampleCount), and with the filter's defaultValue %v every log event is one, so ordinary activity keeps it in ALARM and a matching event sends no new notification", [d]) if {
	d := _default_value(mt)
	stat == "SampleCount"
} else := sprintf("sums the filter's data points, and its defaultValue %v adds %v for every other log event, so ordinary activity keeps it in ALARM and a matching event sends no new notification", [d, d]) if {
	d := _default_value(mt)
	stat == "Sum"
	d > 0
} else := sprintf("sums the filter's data points, and its defaultValue %v subtracts %v for every other log event, so a period with one matching event and other activity can stay below the threshold", [d, 0 - d]) if {
	d := _default_value(mt)
	stat == "Sum"
	d < 0
} else := sprintf("reads the %s of the filter's data points, and its defaultValue %v alone breaches (%s %v), so ordinary activity keeps it in ALARM and a matching event sends no new notification", [stat, d, _op_word(a.ComparisonOperator), a.Threshold]) if {
	d := _default_value(mt)
	not stat in {"Sum", "SampleCount"}
	_breaches(a.ComparisonOperator, d, a.Threshold)
} else := sprintf("reads the %s of the filter's data points, and with its defaultValue %v for every other log event a period with one matching event and other activity tends to %v, which does not breach (%s %v)", [stat, d, d, _op_word(a.ComparisonOperator), a.Threshold]) if {
	d := _default_value(mt)
	not stat in {"Sum", "SampleCount"}
	not _max_like(stat)
}

_dims_text(ds) := concat(", ", [sprintf("%s=%s", [d.Name, d.Value]) | some d in ds])

_datapoints(a) := _opt(a, "DatapointsToAlarm", _opt(a, "EvaluationPeriods", 1))

_alarm_loc(lg, entry) := _loc(lg.account, lg.region, sprintf("/cloudwatch/MetricAlarms/%d", [entry.index]))

_after_alarm(lg, s, mt, value, entry, chain, params) := [{
	"state": "fail",
	"depth": 4,
	"link": "alarm",
	"message": msg,
	"location": _alarm_loc(lg, entry),
	"resource": entry.alarm.AlarmArn,
	"chain": chain,
}] if {
	msg := _alarm_problem(lg, mt, value, entry)
} else := _after_alarm_ok(lg, s, entry, array.concat(chain, [{"link": "alarm", "name": entry.alarm.AlarmName, "arn": entry.alarm.AlarmArn, "region": lg.region}]), params)

# The first reason the alarm does not notify on one event, in words.
_alarm_problem(lg, mt, value, entry) := sprintf("alarm %s (%s) watches %s with dimensions %s, which the metric filter does not publish", [a.AlarmName, lg.region, _metric_name(mt), _dims_text(entry.watch.dimensions)]) if {
	a := entry.alarm
	count(entry.watch.dimensions) > 0
} else := sprintf("alarm %s (%s) %s", [a.AlarmName, lg.region, _math_problem(a, entry.watch, lg.account)]) if {
	a := entry.alarm
	_math_problem(a, entry.watch, lg.account)
} else := sprintf("alarm %s (%s) names no statistic (neither Statistic nor ExtendedStatistic is in the snapshot)", [a.AlarmName, lg.region]) if {
	a := entry.alarm
	not _non_empty_string(entry.watch.stat)
} else := sprintf("alarm %s (%s) reads statistic %q, which cwl-audit cannot prove one event to breach (it reads Sum, Average, Minimum, Maximum, SampleCount and percentiles pNN)", [a.AlarmName, lg.region, entry.watch.stat]) if {
	a := entry.alarm
	not _readable_statistic(entry.watch.stat)
} else := sprintf("alarm %s (%s) has ActionsEnabled=false", [a.AlarmName, lg.region]) if {
	a := entry.alarm
	not a.ActionsEnabled == true
} else := sprintf("alarm %s (%s) compares against an anomaly detection band, which one event does not reliably cross", [a.AlarmName, lg.region]) if {
	a := entry.alarm
	is_string(a.ThresholdMetricId)
} else := sprintf("alarm %s (%s) fires when the value is %s %v; it must fire when events are counted (>= 1)", [a.AlarmName, lg.region, _op_word(op), _opt(a, "Threshold", "?")]) if {
	a := entry.alarm
	op := object.get(a, "ComparisonOperator", "")
	not op in {"GreaterThanOrEqualToThreshold", "GreaterThanThreshold"}
} else := sprintf("alarm %s (%s) has no threshold", [a.AlarmName, lg.region]) if {
	a := entry.alarm
	not is_number(_opt(a, "Threshold", null))
} else := sprintf("alarm %s (%s) needs %s %s %v to fire, but one event produces %v", [a.AlarmName, lg.region, entry.watch.stat, _op_word(a.ComparisonOperator), a.Threshold, _observed(entry.watch.stat, value)]) if {
	a := entry.alarm
	not _breaches(a.ComparisonOperator, _observed(entry.watch.stat, value), a.Threshold)
} else := sprintf("alarm %s (%s) is breached by a zero count (%s %v), so it stays in ALARM and a new event sends no notification", [a.AlarmName, lg.region, _op_word(a.ComparisonOperator), a.Threshold]) if {
	a := entry.alarm
	_breaches(a.ComparisonOperator, 0, a.Threshold)
} else := sprintf("alarm %s (%s) reads %s with EvaluateLowSampleCountPercentile=ignore: with fewer than %v data points in a period it keeps its state, and one event is one data point", [a.AlarmName, lg.region, entry.watch.stat, min_samples]) if {
	a := entry.alarm
	_opt(a, "EvaluateLowSampleCountPercentile", "") == "ignore"
	min_samples := _min_samples(_percentile(entry.watch.stat))
} else := sprintf("alarm %s (%s) %s", [a.AlarmName, lg.region, msg]) if {
	a := entry.alarm
	msg := _default_value_problem(a, entry.watch.stat, mt, value)
} else := sprintf("alarm %s (%s) needs %v of %v periods breaching, but one event breaches only one period", [a.AlarmName, lg.region, _datapoints(a), _opt(a, "EvaluationPeriods", 1)]) if {
	a := entry.alarm
	_datapoints(a) != 1
} else := sprintf("alarm %s (%s) treats missing data as breaching, so it stays in ALARM and a new event sends no notification", [a.AlarmName, lg.region]) if {
	a := entry.alarm
	a.TreatMissingData == "breaching"
} else := sprintf("alarm %s (%s) expects unit %s, but the metric is published with unit %s", [a.AlarmName, lg.region, entry.watch.unit, _opt(mt, "unit", "None")]) if {
	a := entry.alarm
	is_string(entry.watch.unit)
	entry.watch.unit != _opt(mt, "unit", "None")
} else := sprintf("alarm %s (%s) names no unit, and metric %s is published in several units (%s): CloudWatch does not define how such an alarm behaves", [a.AlarmName, lg.region, _metric_name(mt), concat(", ", us)]) if {
	a := entry.alarm
	not is_string(entry.watch.unit)
	_several_units(lg, mt)
	us := _units_published(lg, mt)
}

# Is the metric published in more than one unit? For this account's snapshots a lookup in a set
# computed once per query (this is asked for every alarm that passes every other check), else
# from the units themselves.
_several_units(lg, mt) if {
	lg.account == input.account_id
	[lg.region, mt.metricNamespace, mt.metricName] in _multi_unit_metrics
}

_several_units(lg, mt) if {
	lg.account != input.account_id
	count(_units_published(lg, mt)) > 1
}

_multi_unit_metrics contains [r, ns, name] if {
	some r, s in input.regions
	_indexed(s)
	some ns, names in s.index.units
	some name, us in names
	count(us) > 1
}

_multi_unit_metrics contains [r, t.metricNamespace, t.metricName] if {
	some r, s in input.regions
	not _indexed(s)
	some g in _list(s.logs.metricFilters)
	some t in _list(g.metricTransformations)
	count(_units_published({"account": input.account_id, "region": r}, t)) > 1
}

# The units in which the metric filters of the log group's account and region publish the metric
# (namespace and name, no dimensions), "None" where a transformation names none. AWS
# (PutMetricAlarm, Unit): without a unit, an alarm on a metric published in several units "behaves
# unpredictably".
_units_published(lg, mt) := object.get(s.index.units, [mt.metricNamespace, mt.metricName], []) if {
	s := _snapshot(lg.account, lg.region)
	_indexed(s)
} else := sort({_opt(t, "unit", "None") |
	s := _snapshot(lg.account, lg.region)
	some g in _list(s.logs.metricFilters)
	some t in _list(g.metricTransformations)
	t.metricNamespace == mt.metricNamespace
	t.metricName == mt.metricName
	count(_opt(t, "dimensions", {})) == 0
})

# ---------------------------------------------------------------- 6. notification

_sns_topic(x) if regex.match(`^arn:[^:]+:sns:[a-z0-9-]+:[0-9]{12}:[^:]+$`, x)

_topics_in(actions) := [[i, x] | some i, x in _list(actions); _sns_topic(x)]

_after_alarm_ok(lg, s, entry, chain, params) := _alarm_topics(lg, entry, chain, _topics_in(entry.alarm.AlarmActions))

# `ts`: the SNS topics among the alarm's AlarmActions (computed once by the caller).
_alarm_topics(lg, entry, chain, ts) := [o |
	some t in ts
	o := _topic_outcome(lg, entry, t[0], t[1], chain)
] if {
	count(ts) > 0
} else := [{
	"state": "fail",
	"depth": 5,
	"link": "topic",
	"message": sprintf("alarm %s (%s) notifies SNS only when it returns to OK or INSUFFICIENT_DATA, not when it goes to ALARM", [a.AlarmName, lg.region]),
	"location": _alarm_loc(lg, entry),
	"resource": a.AlarmArn,
	"chain": chain,
}] if {
	a := entry.alarm
	count(_topics_in(a.OKActions)) + count(_topics_in(a.InsufficientDataActions)) > 0
} else := [{
	"state": "fail",
	"depth": 5,
	"link": "topic",
	"message": sprintf("alarm %s (%s) has no SNS topic in its AlarmActions", [a.AlarmName, lg.region]),
	"location": _alarm_loc(lg, entry),
	"resource": a.AlarmArn,
	"chain": chain,
}] if {
	a := entry.alarm
}

_topic_ref(arn) := {"arn": arn, "region": p[3], "account": p[4], "name": p[5]} if p := split(arn, ":")

_subscriptions_of(s, arn) := [[i, s.sns.Subscriptions[i]] | some i in object.get(s.index.subscriptions, arn, [])] if _indexed(s)

else := [[i, sub] | some i, sub in _list(s.sns.Subscriptions); sub.TopicArn == arn]

_confirmed(sub) if startswith(sub.SubscriptionArn, "arn:")

_action_loc(lg, entry, i) := _loc(lg.account, lg.region, sprintf("/cloudwatch/MetricAlarms/%d/AlarmActions/%d", [entry.index, i]))

_topic_outcome(lg, entry, i, arn, chain) := {
	"state": "fail",
	"depth": 5,
	"link": "topic",
	"message": sprintf("alarm %s (%s) notifies topic %s in %s, but CloudWatch delivers an alarm's notifications only to SNS topics of its own region", [entry.alarm.AlarmName, lg.region, tp.name, tp.region]),
	"location": _action_loc(lg, entry, i),
	"resource": arn,
	"chain": chain,
} if {
	# PutMetricAlarm refuses such an action ("Invalid region R specified. Only R' is supported"):
	# an alarm showing one was not made through the API, and no notification reaches the topic.
	tp := _topic_ref(arn)
	tp.region != lg.region
} else := {
	"state": "unknown",
	"depth": 5,
	"link": "topic",
	"message": sprintf("alarm %s notifies topic %s in account %s region %s, and no snapshot of it is loaded", [entry.alarm.AlarmName, tp.name, tp.account, tp.region]),
	"location": _action_loc(lg, entry, i),
	"resource": arn,
	"chain": chain,
} if {
	tp := _topic_ref(arn)
	not _snapshot(tp.account, tp.region)
} else := {
	"state": "pass",
	"depth": 6,
	"link": "topic",
	"message": _pass_message(full),
	"location": _loc(lg.account, lg.region, sprintf("/cloudwatch/MetricAlarms/%d", [entry.index])),
	"resource": entry.alarm.AlarmArn,
	"chain": full,
} if {
	tp := _topic_ref(arn)
	ts := _snapshot(tp.account, tp.region)
	n := count([1 | some x in _subscriptions_of(ts, arn); _confirmed(x[1])])
	n > 0
	full := array.concat(chain, [{"link": "topic", "name": tp.name, "arn": arn, "confirmed_subscriptions": n}])
} else := {
	"state": "unknown",
	"depth": 5,
	"link": "topic",
	"message": sprintf("the subscriptions of topic %s could not be read (%s)", [tp.name, _reason(ts, "ListSubscriptions", null)]),
	"location": _loc(tp.account, tp.region, _missing_pointer(ts, "ListSubscriptions", null, "/sns")),
	"resource": arn,
	"chain": chain,
} if {
	tp := _topic_ref(arn)
	ts := _snapshot(tp.account, tp.region)
	not _complete(ts, object.get(ts, ["sns", "Subscriptions"], null), "ListSubscriptions")
} else := {
	"state": "fail",
	"depth": 5,
	"link": "topic",
	"message": sprintf("topic %s has only unconfirmed subscriptions (PendingConfirmation), so nobody receives the alarm", [tp.name]),
	"location": _loc(tp.account, tp.region, sprintf("/sns/Subscriptions/%d", [subs[0][0]])),
	"resource": arn,
	"chain": chain,
} if {
	tp := _topic_ref(arn)
	ts := _snapshot(tp.account, tp.region)
	subs := _subscriptions_of(ts, arn)
	count(subs) > 0
} else := {
	"state": "fail",
	"depth": 5,
	"link": "topic",
	"message": sprintf("topic %s has no subscriptions, so nobody receives the alarm", [tp.name]),
	"location": _action_loc(lg, entry, i),
	"resource": arn,
	"chain": chain,
} if {
	tp := _topic_ref(arn)
}

# ---------------------------------------------------------------- verdict

_link_text(l) := sprintf("trail %s", [l.name]) if l.link == "trail"

else := sprintf("log group %s (%s, %s)", [l.name, l.account, l.region]) if l.link == "log_group"

else := sprintf("filter %s", [l.name]) if l.link == "filter"

else := sprintf("metric %s/%s", [l.namespace, l.name]) if l.link == "metric"

else := sprintf("alarm %s", [l.name]) if l.link == "alarm"

else := sprintf("topic %s (%d confirmed %s)", [l.name, l.confirmed_subscriptions, _plural(l.confirmed_subscriptions, "subscription")]) if l.link == "topic"

_plural(n, word) := word if n == 1

else := concat("", [word, "s"])

# A complete chain has six links in this order: one sprintf instead of a function call per link
# (a pass message is built for every passing account and rule).
_pass_message(chain) := sprintf("trail %s -> log group %s (%s, %s) -> filter %s -> metric %s/%s -> alarm %s -> topic %s (%d confirmed %s)", [
	chain[0].name,
	chain[1].name, chain[1].account, chain[1].region,
	chain[2].name,
	chain[3].namespace, chain[3].name,
	chain[4].name,
	chain[5].name, chain[5].confirmed_subscriptions, _plural(chain[5].confirmed_subscriptions, "subscription"),
]) if {
	[l.link | some l in chain] == ["trail", "log_group", "filter", "metric", "alarm", "topic"]
} else := concat(" -> ", [_link_text(l) | some l in chain])

# Every chain attempt of this account, ending in pass, fail or unknown.
_outcomes(params) := array.concat(
	[r | some r in _trail_results; r.state != "ok"],
	[o | some r in _trail_results; r.state == "ok"; some o in _after_trail(r, params)],
)

# Of the outcomes in `state`, the one whose chain got furthest; ties broken by rank (failing
# filters closest to the rule's reference first, see _narrower_rank), then by message, so the choice does not
# depend on evaluation order.
_best(outs, state) := o if {
	of_state := [x | some x in outs; x.state == state]
	count(of_state) > 0
	deepest := max({x.depth | some x in of_state})
	at := [x | some x in of_state; x.depth == deepest]
	top := max({object.get(x, "rank", 0) | some x in at})
	message := min({x.message | some x in at; object.get(x, "rank", 0) == top})
	o := [x | some x in at; object.get(x, "rank", 0) == top; x.message == message][0]
}

_notes_of(o) := [l.note | some l in o.chain; is_string(l.note)]

_to_decision(verdict, o, extra) := {
	"verdict": verdict,
	"message": o.message,
	"link": o.link,
	"resource": o.resource,
	"location": o.location,
	"chain": o.chain,
	"notes": array.concat(_notes_of(o), extra),
}

_first_region := min(object.keys(input.regions))

_first_error_region := min({r |
	some r, s in input.regions
	count(_op_errors(s, "DescribeTrails", null)) > 0
})

_closest_fail_note(outs, u) := [sprintf("closest failing chain: %s", [f.message])] if {
	f := _best(outs, "fail")
	f.depth > u.depth
} else := []

# One decision per account: pass if any chain is complete; otherwise unknown if some chain could not
# be checked; otherwise fail at the closest chain's first broken link.
#
# cwl-audit decides this natively (`cwl.chain_decision`, src/engine/chain: the same decision,
# message for message, in microseconds instead of half a millisecond per rule and account). The
# builtin answers null where this file's answer depends on a case it does not model, and the Rego
# below decides; it is also the specification OPA checks (tests/opa-crosscheck.py decides every
# scenario with `_full_decision`), and CWL_AUDIT_REGO_CHAIN=1 makes cwl-audit use it throughout.
decision(params) := d if {
	d := cwl.chain_decision(input, _accounts, params)
	is_object(d)
} else := _decide_from(covering_outcomes(p), p) if p := _prepared(params)

# The other loaded accounts (organization trails, cross-account topics), for the builtin.
_accounts := a if {
	a := data.cwl_audit.accounts
} else := {}

# What every filter's explanation needs of the reference, computed once per rule.
_prepared(params) := object.union(params, {"_reference_comparisons": _comparisons(params.reference)})

# `c`: every outcome through a filter that catches every reference event. A pass can only come
# through one of them. Most accounts pass, and with fifteen rules on one log group this skips
# building a failure message for every other filter (the org-scale benchmark ran 4x faster).
_decide_from(c, params) := _to_decision("pass", p, []) if {
	p := _best(c, "pass")
} else := _decide(c) if {
	# The same verdict as from every outcome, computed from `c` alone: other filters' outcomes are
	# failures at depth 2 (no deeper than this one, so never the closest) and every outcome that
	# could be `unknown` outside `c` is ruled out. Accounts that fail at the alarm or the topic take
	# this path; the benchmark's failing accounts were decided 3x faster.
	count([o | some o in c; o.state != "pass"; o.depth >= 3]) > 0
	not _unknown_outside_covering(params)
} else := d if {
	count(c) == 0
	not _unknown_outside_covering(params)
	d := _no_filter_for_rule(params)
} else := _decide(_outcomes(params))

# The decision when no filter covers and none is even for the rule (no outcome can be `unknown`,
# checked by the caller): what _decide(_outcomes(params)) gives, without building an outcome for
# every filter. Every filter then fails at depth 2 with rank 0 and the message "no filter on log
# group L is for ...", so the closest chain is the smallest such message, through the first trail
# (in _trail_results order) with that log group and its first filter. In an organization where
# most accounts have few CIS filters, two thirds of all decisions end here.
_no_filter_for_rule(params) := _to_decision("fail", o, []) if {
	oks := [r | some r in _trail_results; r.state == "ok"]
	count(oks) > 0
	not _some_filter_for(params)
	message := min({_no_filter_message(r.log_group, params) | some r in oks})
	r := [x | some x in oks; _no_filter_message(x.log_group, params) == message][0]
	lg := r.log_group
	f := _filters_on(_snapshot(lg.account, lg.region), lg.name)[0]
	o := {
		"state": "fail",
		"depth": 2,
		"link": "filter",
		"message": message,
		"location": _filter_loc(lg, f),
		"resource": _filter_resource(lg, f),
		"chain": array.concat(r.chain, [_log_group_evidence(lg)]),
	}
}

_no_filter_message(lg, params) := sprintf("no filter on log group %s is for %s", [lg.name, params.label])

# Some filter of a log group a trail delivers to is one whose failure says more than "no filter is
# for the rule": an invalid pattern, a filter narrower than the reference, or one that tests the
# reference's comparisons (the branches of _after_filter and _miss_message).
_some_filter_for(params) if {
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	some f in _filters_on(_snapshot(lg.account, lg.region), lg.name)
	not _not_for_rule(f, params)
}

_not_for_rule(f, params) if {
	cov := cwl.filter_covers(object.get(f.filter, "filterPattern", ""), params.reference)
	not is_string(cov.error)
	not cov.covers == true
	is_string(cov.missed)
	_narrower_rank(f, params) == 0
	not _for_rule(f, params)
}

# The verdict from every outcome, with no shortcut: what `decision` must equal. OPA decides every
# test scenario this way in tests/opa-crosscheck.py, so the shortcuts above are checked against it.
_full_decision(params) := _to_decision("pass", _best(outs, "pass"), []) if {
	outs := _outcomes(params)
	_best(outs, "pass")
} else := _decide(_outcomes(params))

# The covering filters are found by one builtin call per snapshot (not a call per filter): the same
# filters as `_filters_on` gives, in the same order, keeping those whose coverage `covers`.
covering_outcomes(params) := [o |
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	s := _snapshot(lg.account, lg.region)
	chain := array.concat(r.chain, [_log_group_evidence(lg)])
	filters := _list(s.logs.metricFilters)
	some i in cwl.covering_filters(filters, params.reference)
	filters[i].logGroupName == lg.name
	f := {"index": i, "filter": filters[i]}
	cov := cwl.filter_covers(object.get(f.filter, "filterPattern", ""), params.reference)
	some o in _after_filter(lg, s, f, cov, chain, params)
]

# Some outcome outside `covering_outcomes` may be `unknown` (conservatively: a log group without
# listed filters counts, whether its listing failed or not).
_unknown_outside_covering(_) if {
	some r in _trail_results
	r.state == "unknown"
}

_unknown_outside_covering(_) if {
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	not _snapshot(lg.account, lg.region)
}

_unknown_outside_covering(_) if {
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	s := _snapshot(lg.account, lg.region)
	_filter_count(s, lg.name) == 0
}

_unknown_outside_covering(_) if {
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	s := _snapshot(lg.account, lg.region)
	count(_op_errors(s, "DescribeMetricFilters", null)) > 0
}

_unknown_outside_covering(params) if {
	some r in _trail_results
	r.state == "ok"
	lg := r.log_group
	s := _snapshot(lg.account, lg.region)
	some f in _filters_on(s, lg.name)
	cov := cwl.filter_covers(object.get(f.filter, "filterPattern", ""), params.reference)
	cov.undecided == true
}

# The verdict when no chain passes, from every outcome (computed once by the caller).
_decide(outs) := _to_decision("unknown", u, _closest_fail_note(outs, u)) if {
	u := _best(outs, "unknown")
} else := _to_decision("fail", f, []) if {
	f := _best(outs, "fail")
} else := {
	"verdict": "unknown",
	"message": sprintf("the trails of this account could not be read (%s)", [_reason(s, "DescribeTrails", null)]),
	"link": "trail",
	"location": _loc(input.account_id, _first_error_region, _missing_pointer(s, "DescribeTrails", null, "/cloudtrail")),
	"chain": [],
	"notes": [],
} if {
	not _trails_listed
	s := input.regions[_first_error_region]
} else := {
	"verdict": "unknown",
	"message": "the trails of this account were not collected",
	"link": "trail",
	"location": _loc(input.account_id, _first_region, "/cloudtrail"),
	"chain": [],
	"notes": [],
} if {
	not _trails_listed
} else := {
	"verdict": "fail",
	"message": "no CloudTrail trail logs this account",
	"link": "trail",
	"location": _loc(input.account_id, _first_region, "/cloudtrail/trailList"),
	"chain": [],
	"notes": [],
}
