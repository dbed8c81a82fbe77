package checks.aws.cloudwatch.root_usage_alarm_test

import data.checks.aws.cloudwatch.root_usage_alarm as rule
import data.lib.chain_fixture as fx

test_reference_is_the_cis_pattern if {
	rule.reference == `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
}

test_compliant_account_passes if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.snapshot(p)) with data.cwl_audit.accounts as {}
	d.verdict == "pass"
	d.resource == "arn:aws:cloudwatch:us-east-1:111111111111:alarm:monitored-alarm"
}

test_disabled_alarm_fails if {
	p := rule.reference
	d := rule.decision with input as fx.account(fx.with_alarm(fx.snapshot(p), {"ActionsEnabled": false})) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.message == "alarm monitored-alarm (us-east-1) has ActionsEnabled=false"
}

test_member_account_follows_organization_trail if {
	p := rule.reference
	org_trail := object.union(fx.trail, {"IsOrganizationTrail": true})
	owner := object.union(fx.snapshot(p), {"cloudtrail": {"trailList": [org_trail]}})
	member := {
		"format": "cwl-audit.snapshot/v1", "account_id": "222222222222", "partition": "aws", "region": "us-east-1",
		"cloudtrail": {"trailList": [org_trail], "status": {}, "selectors": {}},
		"errors": [],
	}
	d := rule.decision with input as {"account_id": "222222222222", "partition": "aws", "regions": {"us-east-1": member}}
		with data.cwl_audit.accounts as {"111111111111": fx.account(owner)}
	d.verdict == "pass"
}

test_member_without_owner_snapshot_is_unknown if {
	org_trail := object.union(fx.trail, {"IsOrganizationTrail": true})
	member := {"account_id": "222222222222", "region": "us-east-1", "cloudtrail": {"trailList": [org_trail]}, "errors": []}
	d := rule.decision with input as {"account_id": "222222222222", "partition": "aws", "regions": {"us-east-1": member}}
		with data.cwl_audit.accounts as {}
	d.verdict == "unknown"
}

# A filter that misses root events from one IP address (the bundled fail example uses it).
weakened := `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.sourceIPAddress != "198.51.100.10" }`

test_weakened_pattern_fails if {
	d := rule.decision with input as fx.account(fx.snapshot(weakened)) with data.cwl_audit.accounts as {}
	d.verdict == "fail"
	d.message == `filter Monitored misses root events whose sourceIPAddress is "198.51.100.10"`
}
