# METADATA
# title: Reference patterns by benchmark version
# description: |
#   CIS AWS Foundations releases and AWS Security Hub prescribe different reference patterns for
#   some controls (CIS v5.0 added ModifySecurityGroupRules to 4.10, for one). A check lists its
#   patterns in its METADATA, `custom.references`: each pattern with the benchmarks that prescribe
#   it. cwl-audit gives them to policies as data.cwl_audit.references[<rule id>] (groups of
#   {"pattern", "benchmarks", "label"}, the newest CIS release's first; `label` names the
#   benchmarks in words) and the chosen benchmark as data.cwl_audit.benchmark (`eval --benchmark`).
#   decision(id, params) decides by the chosen benchmark's pattern with lib.chain (`params` as
#   chain.decision takes them, without "reference") and, when another benchmark's pattern gives
#   another verdict, says which benchmarks pass and which fail in a note.
package lib.benchmark

import data.lib.chain

# The groups of check `id`, the default (newest CIS) group first.
groups(id) := data.cwl_audit.references[id]

# The position of the chosen benchmark's group. A benchmark without a pattern for the check (CIS
# v1.2 and Security Hub have no AWS Organizations control) decides by the default group.
chosen_index(gs) := i if {
	i := [j | some j, g in gs; data.cwl_audit.benchmark in g.benchmarks][0]
} else := 0

# The pattern that decides check `id` under the chosen benchmark.
reference(id) := p if {
	gs := groups(id)
	p := gs[chosen_index(gs)].pattern
}

decision(id, params) := d if {
	gs := groups(id)
	ci := chosen_index(gs)
	p := object.union(params, {"reference": gs[ci].pattern})
	d0 := chain.decision(p)
	extra := array.concat(outside_note(gs), versions_note(verdicts(gs, ci, p, d0)))
	d := object.union(d0, {"notes": array.concat(d0.notes, extra)})
}

outside_note(gs) := [sprintf("%s has no pattern for this control; it is decided by the pattern of %s", [name, gs[0].label])] if {
	b := data.cwl_audit.benchmark
	count([g | some g in gs; b in g.benchmarks]) == 0
	name := object.get(data.cwl_audit, ["benchmarks", b], b)
} else := []

# The verdict under every group's pattern: {"label", "verdict", "message", "chosen"}, the chosen
# group's from its decision `d0`. Most accounts pass, and their filter usually catches the other
# patterns' events too: then the other verdicts cost one (cached) coverage check, not a decision.
verdicts(gs, ci, p, d0) := quick_verdicts(gs, ci, p, d0)

quick_verdicts(gs, ci, p, d0) := [group_verdict(i, g, ci, p, d0) | some i, g in gs]

group_verdict(i, g, ci, p, d0) := {"label": g.label, "verdict": d0.verdict, "message": d0.message, "chosen": true} if {
	i == ci
} else := {"label": g.label, "verdict": d0.verdict, "message": d0.message, "chosen": false} if {
	# No chain reached a metric filter (a fail there has no deeper outcome at all), so no pattern
	# was consulted.
	d0.verdict == "fail"
	d0.link in {"trail", "log_group"}
} else := {"label": g.label, "verdict": "pass", "message": "", "chosen": false} if {
	# The passing chain's filter also catches every event of this pattern, and the links after the
	# filter do not depend on the pattern (a filter that matches more passes unless the check
	# rejects non-root events).
	d0.verdict == "pass"
	object.get(p, "reject_non_root", false) == false
	f := [l.pattern | some l in d0.chain; l.link == "filter"][0]
	cwl.filter_covers(f, g.pattern).covers == true
} else := full_verdict(g, p, false)

full_verdict(g, p, chosen) := {"label": g.label, "verdict": d.verdict, "message": d.message, "chosen": chosen} if {
	d := chain.decision(object.union(p, {"reference": g.pattern}))
}

# Every group decided from scratch: what `verdicts` must equal. tests/opa-crosscheck.py has OPA
# decide this way, so the shortcuts above are checked against it.
full_verdicts(gs, ci, p) := [group_full(i, g, ci, p) | some i, g in gs]

group_full(i, g, ci, p) := full_verdict(g, p, true) if {
	i == ci
} else := full_verdict(g, p, false)

verbs := {"pass": "passes", "fail": "fails", "unknown": "cannot be decided for"}

# One group in words: the chosen one is this finding; another's failure says why.
group_text(v) := sprintf("%s (this finding)", [v.label]) if {
	v.chosen == true
} else := sprintf("%s (%s)", [v.label, v.message]) if {
	v.verdict != "pass"
} else := v.label

versions_note(vs) := [sprintf("the verdict depends on the benchmark version: %s", [concat("; ", parts)])] if {
	count({v.verdict | some v in vs}) > 1
	parts := [sprintf("%s %s", [verbs[verdict], concat(", ", texts)]) |
		some verdict in ["pass", "fail", "unknown"]
		texts := [group_text(v) | some v in vs; v.verdict == verdict]
		count(texts) > 0
	]
} else := []
