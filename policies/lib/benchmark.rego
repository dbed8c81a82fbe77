# METADATA
# title: Reference patterns by benchmark version
# description: |
#   CIS AWS Foundations releases and AWS Security Hub prescribe different reference patterns for
#   some controls (CIS v5.0 added ModifySecurityGroupRules to 4.10, for one). A rule lists its
#   patterns in its METADATA, `custom.references`: each pattern with the benchmarks that prescribe
#   it. cwl-audit gives them to policies as data.cwl_audit.references[<rule id>] (groups of
#   {"pattern", "benchmarks", "label"}, the newest CIS release's first; `label` names the
#   benchmarks in words) and the chosen benchmark as data.cwl_audit.benchmark (`eval --benchmark`).
#   decision(id, params) decides by the chosen benchmark's pattern with lib.chain (`params` as
#   chain.decision takes them, without "reference") and, when another benchmark's pattern gives
#   another verdict, says which benchmarks pass and which fail in a note.
package lib.benchmark

import data.lib.chain

# The groups of rule `id`, the default (newest CIS) group first.
_groups(id) := data.cwl_audit.references[id]

# The position of the chosen benchmark's group. A benchmark without a pattern for the rule (CIS
# v1.2 and Security Hub have no AWS Organizations control) decides by the default group.
_chosen_index(gs) := i if {
	i := [j | some j, g in gs; data.cwl_audit.benchmark in g.benchmarks][0]
} else := 0

# The pattern that decides rule `id` under the chosen benchmark.
reference(id) := p if {
	gs := _groups(id)
	p := gs[_chosen_index(gs)].pattern
}

# cwl-audit decides this natively (`cwl.benchmark_decision`, src/engine/chain/benchmark.rs, with
# lib.chain's native decision): the same decision, notes included. The builtin answers null where
# the Rego must decide, and `_decision` below is the specification OPA checks
# (tests/opa-crosscheck.py); CWL_AUDIT_REGO_CHAIN=1 makes cwl-audit use it throughout.
decision(id, params) := d if {
	d := cwl.benchmark_decision(input, _cwl_audit, id, params)
	is_object(d)
} else := _decision(id, params)

# What the builtin reads: the chosen benchmark, the benchmarks' names, the references and the
# loaded accounts.
_cwl_audit := x if {
	x := data.cwl_audit
} else := {}

_decision(id, params) := d if {
	gs := _groups(id)
	ci := _chosen_index(gs)
	p := object.union(params, {"reference": gs[ci].pattern})
	d0 := chain.decision(p)
	extra := array.concat(_outside_note(gs), _versions_note(_verdicts(gs, ci, p, d0), d0))
	d := object.union(d0, {"notes": array.concat(d0.notes, extra)})
}

_outside_note(gs) := [sprintf("%s has no pattern for this control; it is decided by the pattern of %s", [name, gs[0].label])] if {
	b := data.cwl_audit.benchmark
	count([g | some g in gs; b in g.benchmarks]) == 0
	name := object.get(data.cwl_audit, ["benchmarks", b], b)
} else := []

# Whether each group's pattern passes: {"label", "passes", "chosen", "reason"}, the chosen group's
# from its decision `d0`. Only passing or not is compared: it is what a benchmark's report shows,
# and it is cheap to know: most groups are decided without a chain (no chain reached a filter, or
# the passing filter also catches the group's events), and the rest by a decision with the
# group's pattern, which cwl-audit computes natively (chain.decision, in microseconds).
_verdicts(gs, ci, p, d0) := _quick_verdicts(gs, ci, p, d0)

_quick_verdicts(gs, ci, p, d0) := [_group_verdict(i, g, ci, p, d0) | some i, g in gs]

_group_verdict(i, g, ci, p, d0) := {"label": g.label, "passes": _passed(d0), "chosen": true, "reason": ""} if {
	i == ci
} else := {"label": g.label, "passes": false, "chosen": false, "reason": ""} if {
	# No chain reached a metric filter (a fail there has no deeper outcome at all), so no pattern
	# was consulted.
	d0.verdict == "fail"
	d0.link in {"trail", "log_group"}
} else := {"label": g.label, "passes": true, "chosen": false, "reason": ""} if {
	# The passing chain's filter also catches every event of this pattern, and the links after the
	# filter do not depend on the pattern (a filter that matches more passes unless the rule
	# rejects non-root events).
	object.get(p, "reject_non_root", false) == false
	cwl.filter_covers(_passing_filter(d0).pattern, g.pattern).covers == true
} else := {"label": g.label, "passes": true, "chosen": false, "reason": ""} if {
	chain.decision(object.union(p, {"reference": g.pattern})).verdict == "pass"
} else := {"label": g.label, "passes": false, "chosen": false, "reason": _reason(g, p, d0)}

_passed(d) := true if d.verdict == "pass"

else := false

# The filter link of a passing decision's chain.
_passing_filter(d) := [l | some l in d.chain; l.link == "filter"][0] if d.verdict == "pass"

# Why a group's pattern does not pass where the chosen one does: the chosen chain's filter misses
# some of its events. (Where the chosen pattern does not pass either, the finding's message says why.)
_reason(g, p, d0) := sprintf("filter %s misses %s %s", [f.name, p.label, cov.missed]) if {
	f := _passing_filter(d0)
	cov := cwl.filter_covers(f.pattern, g.pattern)
	is_string(cov.missed)
} else := sprintf("filter %s does not catch every event of its pattern", [f.name]) if {
	f := _passing_filter(d0)
} else := ""

# Every group decided from scratch: what `verdicts` must equal. tests/opa-crosscheck.py has OPA
# decide this way, so the shortcuts above are checked against it.
_full_verdicts(gs, ci, p) := [_full_verdict(i, g, ci, p) | some i, g in gs]

_full_verdict(i, g, ci, p) := {"label": g.label, "passes": _passed(d), "chosen": true, "reason": ""} if {
	i == ci
	d := chain.decision(p)
} else := {"label": g.label, "passes": true, "chosen": false, "reason": ""} if {
	chain.decision(object.union(p, {"reference": g.pattern})).verdict == "pass"
} else := {"label": g.label, "passes": false, "chosen": false, "reason": _reason(g, p, chain.decision(p))}

# The chosen group in words is this finding (with its verdict); another group's failure says why.
_group_text(v) := sprintf("%s (this finding)", [v.label]) if {
	v.chosen == true
} else := sprintf("%s: %s", [v.label, v.reason]) if {
	v.reason != ""
} else := v.label

# The chosen verdict's verb, for the chosen group when it does not pass.
_verb(d0) := "cannot be decided for" if {
	d0.verdict == "unknown"
} else := "fails"

# The note, when some groups' patterns pass and others' do not: the passing groups first.
_versions_note(vs, d0) := [sprintf("the verdict depends on the benchmark version: %s", [concat("; ", parts)])] if {
	count({v.passes | some v in vs}) > 1
	parts := [part |
		some passes in [true, false]
		of := [v | some v in vs; v.passes == passes]
		count(of) > 0
		part := _side(passes, of, d0)
	]
} else := []

# The groups that pass (or not), in words: "passes A (this finding)", or for the groups that do not
# pass, the chosen one's verdict ("fails A (this finding)") and "does not pass B: reason" for others.
_side(passes, of, d0) := sprintf("passes %s", [concat(", ", [_group_text(v) | some v in of])]) if {
	passes == true
} else := concat("; ", array.concat(
	[sprintf("%s %s", [_verb(d0), _group_text(v)]) | some v in of; v.chosen == true],
	[sprintf("does not pass %s", [_group_text(v)]) | some v in of; v.chosen == false],
))
