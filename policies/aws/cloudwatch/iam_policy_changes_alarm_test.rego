package checks.aws.cloudwatch.iam_policy_changes_alarm_test

import data.checks.aws.cloudwatch.iam_policy_changes_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses DetachGroupPolicy.
weakened := `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)}`

test_reference_pattern_passes if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
	d.link == "topic"
}

test_weakened_pattern_fails if {
	d := rule.decision with input as fx.account(fx.snapshot(weakened)) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.link == "filter"
	contains(d.message, "filter Monitored misses IAM policy changes")
	contains(d.message, "DetachGroupPolicy")
}

test_disabled_alarm_fails if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.with_alarm(fx.snapshot(p), {"ActionsEnabled": false})) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.message == "alarm monitored-alarm (us-east-1) has ActionsEnabled=false"
}

test_trail_not_logging_fails if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.not_logging(fx.snapshot(p))) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.link == "trail"
}

test_security_hub_spacing_passes if {
	d := rule.decision with input as fx.account(fx.snapshot(`{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
}

test_broader_wildcard_filter_passes_with_a_note if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ ($.eventName = Delete*) || ($.eventName = Put*) || ($.eventName = Create*) || ($.eventName = Attach*) || ($.eventName = Detach*) }`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
	some note in d.notes
	contains(note, "leaves out")
}
