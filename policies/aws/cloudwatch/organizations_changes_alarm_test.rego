package checks.aws.cloudwatch.organizations_changes_alarm_test

import data.checks.aws.cloudwatch.organizations_changes_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses UpdateOrganizationalUnit.
weakened := `{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy")) }`

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
	contains(d.message, "filter Monitored misses AWS Organizations changes")
	contains(d.message, "UpdateOrganizationalUnit")
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

# CIS v1.2 has no AWS Organizations control: the CIS v1.4+ pattern decides, and a note says so.
test_cis_v1_2_decides_by_the_newest_pattern if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p))
		with data.cwl_audit.accounts as {}
		with data.cwl_audit.benchmark as "cis-v1.2"
	d.verdict == "pass"
	"CIS v1.2 has no pattern for this control; it is decided by the pattern of CIS v1.4-v6.0" in d.notes
}
