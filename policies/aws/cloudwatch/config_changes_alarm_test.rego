package checks.aws.cloudwatch.config_changes_alarm_test

import data.checks.aws.cloudwatch.config_changes_alarm as rule
import data.lib.chain_fixture as fx

# A filter that misses PutConfigurationRecorder.
weakened := `{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)) }`

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
	contains(d.message, "filter Monitored misses AWS Config configuration changes")
	contains(d.message, "PutConfigurationRecorder")
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
