package checks.aws.cloudwatch.unauthorized_api_calls_alarm_test

import data.checks.aws.cloudwatch.unauthorized_api_calls_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses UnauthorizedOperation.
weakened := `{ ($.errorCode = "AccessDenied*") }`

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
	contains(d.message, "filter Monitored misses unauthorized API calls")
	contains(d.message, "UnauthorizedOperation")
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

test_cis_v1_2_pattern_passes if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
}

test_cis_v1_4_pattern_passes if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
}

# The CIS v4.0.1+ exclusions (log delivery, HeadBucket) are not in CIS v1.2 or Security Hub
# CloudWatch.2, whose pattern counts those AccessDenied errors too.
test_newest_pattern_fails_security_hub if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p))
		with data.cwl_audit.accounts as {}
		with data.cwl_audit.benchmark as "aws-security-hub"
	d.verdict == "fail"
	contains(d.message, "filter Monitored misses unauthorized API calls")
}
