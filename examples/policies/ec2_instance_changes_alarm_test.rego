package examples.cloudwatch.ec2_instance_changes_alarm_test

import data.examples.cloudwatch.ec2_instance_changes_alarm as rule
import data.lib.chain_fixture as fx

test_reference_pattern_passes if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
}

test_wildcard_filter_passes_with_a_note if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ $.eventName = *Instances }`)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
	count(d.notes) == 1
}

test_filter_without_terminate_fails if {
	d := rule.decision with input as fx.account(fx.snapshot(`{ ($.eventName = RunInstances) || ($.eventName = StopInstances) }`)) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.message == `filter Monitored misses EC2 instance changes whose eventName is "RebootInstances"`
}

test_pending_subscription_fails if {
	p := rule.reference
	s := object.union(fx.snapshot(p), {"sns": {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "TopicArn": fx.topic, "Protocol": "email"}]}})
	d := rule.decision with input as fx.account(s) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.link == "topic"
}
