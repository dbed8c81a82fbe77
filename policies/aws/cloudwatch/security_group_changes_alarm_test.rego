package checks.aws.cloudwatch.security_group_changes_alarm_test

import data.checks.aws.cloudwatch.security_group_changes_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses ModifySecurityGroupRules.
weakened := `{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`

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
	contains(d.message, "filter Monitored misses security group changes")
	contains(d.message, "ModifySecurityGroupRules")
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

# The six events of CIS v1.2-v4.0 and Security Hub: they fail the newest CIS, and the finding says
# which versions they pass.
test_six_events_fail_the_default_with_the_versions_they_pass if {
	d := rule.decision with input as fx.account(fx.snapshot(weakened)) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	"the verdict depends on the benchmark version: passes Security Hub CloudWatch.10 and CIS v1.2-v4.0; fails CIS v5.0-v6.0 (this finding)" in d.notes
}

test_six_events_pass_security_hub if {
	d := rule.decision with input as fx.account(fx.snapshot(weakened))
		with data.cwl_audit.accounts as {}
		with data.cwl_audit.benchmark as "aws-security-hub"
	d.verdict == "pass"
	rule.reference == weakened with data.cwl_audit.benchmark as "aws-security-hub"
}
