# METADATA
# title: Test fixture for chain-based rules
# description: |
#   A compliant single-account, single-region snapshot (multi-region trail -> log group -> metric
#   filter -> metric -> alarm -> SNS topic with a confirmed subscription) whose metric filter has a
#   pattern of your choice, and helpers that break one link. For Rego unit tests of rules built on
#   data.lib.chain, including your own:
#
#     d := rule.decision with input as fx.account(fx.snapshot(pattern)) with data.cwl_audit.accounts as {}
package lib.chain_fixture

acct := "111111111111"

region := "us-east-1"

trail_arn := "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"

topic := "arn:aws:sns:us-east-1:111111111111:alerts"

trail := {
	"Name": "main",
	"TrailARN": trail_arn,
	"HomeRegion": region,
	"IsMultiRegionTrail": true,
	"IsOrganizationTrail": false,
	"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111111111111:log-group:trail-logs:*",
}

alarm := {
	"AlarmName": "monitored-alarm",
	"AlarmArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:monitored-alarm",
	"ActionsEnabled": true,
	"AlarmActions": [topic],
	"MetricName": "MonitoredCount",
	"Namespace": "CISBenchmark",
	"Statistic": "Sum",
	"Period": 300,
	"EvaluationPeriods": 1,
	"Threshold": 1,
	"ComparisonOperator": "GreaterThanOrEqualToThreshold",
}

# The snapshot's metric filter: "Monitored" on the trail's log group, with `pattern`, publishing
# CISBenchmark/MonitoredCount (the metric of `alarm`) with value 1.
metric_filter(pattern) := {
	"filterName": "Monitored",
	"logGroupName": "trail-logs",
	"filterPattern": pattern,
	"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1"}],
}

# A compliant snapshot whose only metric filter is metric_filter(pattern).
snapshot(pattern) := {
	"format": "cwl-audit.snapshot/v1",
	"account_id": acct,
	"partition": "aws",
	"region": region,
	"cloudtrail": {
		"trailList": [trail],
		"status": {trail_arn: {"IsLogging": true}},
		"selectors": {trail_arn: {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}},
	},
	"logs": {"metricFilters": [metric_filter(pattern)]},
	"cloudwatch": {"MetricAlarms": [alarm]},
	"sns": {"Subscriptions": [{"SubscriptionArn": concat("", [topic, ":1a2b"]), "TopicArn": topic, "Protocol": "email"}]},
	"errors": [],
}

# The input of one account with snapshot `s` as its only region.
account(s) := {"account_id": acct, "partition": "aws", "regions": {region: s}}

# `s` with the alarm changed by `changes` (e.g. {"ActionsEnabled": false}).
with_alarm(s, changes) := object.union(s, {"cloudwatch": {"MetricAlarms": [object.union(alarm, changes)]}})

# `s` with the trail stopped (IsLogging=false).
not_logging(s) := object.union(s, {"cloudtrail": {"status": {trail_arn: {"IsLogging": false}}}})
