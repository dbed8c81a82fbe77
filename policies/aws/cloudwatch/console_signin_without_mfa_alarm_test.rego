package checks.aws.cloudwatch.console_signin_without_mfa_alarm_test

import data.checks.aws.cloudwatch.console_signin_without_mfa_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses MFAUsed.
weakened := `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "No") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`

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
	contains(d.message, "filter Monitored misses console sign-ins without MFA")
	contains(d.message, "MFAUsed")
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

test_cis_short_pattern_passes if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
}

# CIS v1.2 has only the original form: the SSO form misses failed and non-IAM-user sign-ins.
test_sso_form_fails_cis_v1_2 if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p))
		with data.cwl_audit.accounts as {}
		with data.cwl_audit.benchmark as "cis-v1.2"
	d.verdict == "fail"
	contains(d.message, "filter Monitored misses console sign-ins without MFA")
	some n in d.notes
	startswith(n, "the verdict depends on the benchmark version: passes Security Hub CloudWatch.3 and CIS v1.4-v6.0;")
}
