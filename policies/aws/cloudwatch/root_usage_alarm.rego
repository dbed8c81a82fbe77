# METADATA
# title: Root Account Usage Alarm
# description: |
#   Every use of the root user must raise an alarm that reaches a person. The account needs a
#   complete chain: a multi-region CloudTrail trail that is logging and records all management
#   events delivers to a CloudWatch Logs group; a metric filter on that group matches every root-user
#   event (and no other identity's events); an alarm on the filter's metric fires on a single event
#   and notifies an SNS topic with at least one confirmed subscription. Organization trails count for
#   member accounts when the owner account's snapshots are loaded.
# related_resources:
#   - ref: https://www.trendmicro.com/cloudoneconformity/knowledge-base/aws/CloudWatchLogs/root-account-usage-alarm.html
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CWL-014
#   severity: HIGH
#   recommended_action: Create a metric filter for root-user events on the CloudTrail log group, an alarm on its metric, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: RootAccountUsage
#     metric_name: RootAccountUsageEventCount
#     metric_namespace: CloudTrailMetrics
#     alarm_name: RootAccountUsageAlarm
#   frameworks:
#     cis-aws-foundations-v1.2: ["3.3"]
#     cis-aws-foundations-v1.4-v5.0: ["4.3"]
#     cis-aws-foundations-v6.0: ["5.3"]
#     aws-security-hub: ["CloudWatch.1"]
#   references:
#     - pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0, cis-v2.0, cis-v1.5, cis-v1.4, cis-v1.2, aws-security-hub]
#       source: >-
#         The same events in every version, compared by meaning: CIS v1.2.0 3.3 as Security Hub's CIS
#         v1.2.0 standard prescribes it (github.com/awsdocs/aws-security-hub-user-guide,
#         doc_source/securityhub-cis-controls.md at 3edb15c, 2020-03); CIS v1.4.0, v1.5.0, v2.0.0,
#         v3.0.0, v4.0.1 and v5.0.0 4.3, v6.0.0 5.3: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0,3.0,4.0,5.0,6.0}_aws.json; AWS Security Hub user
#         guide, cloudwatch-controls, [CloudWatch.1] remediation
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md at bda5bf7,
#         2023-03).
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account.
#
#     1. Metric filter for root-user events:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name RootAccountUsage \
#       --metric-transformations metricName=RootAccountUsageEventCount,metricNamespace=CloudTrailMetrics,metricValue=1 \
#       --filter-pattern '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name RootAccountUsageAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:RootAccountUsageAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name RootAccountUsageAlarm \
#       --metric-name RootAccountUsageEventCount --namespace CloudTrailMetrics \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:RootAccountUsageAlerts
#     ```
package checks.aws.cloudwatch.root_usage_alarm

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CWL-014")

# A filter that also matches other identities' events keeps the alarm in ALARM during ordinary
# activity, and an alarm already in ALARM sends no notification when root is used.
decision := benchmark.decision("CWL-014", {"label": "root events", "reject_non_root": true})
