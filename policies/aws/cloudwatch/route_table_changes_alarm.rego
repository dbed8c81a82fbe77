# METADATA
# title: Route table changes are monitored
# description: |
#   CIS AWS Foundations 4.13 (v6.0: 5.13): route table changes must raise an alarm that reaches a
#   person.
#   The account needs a complete chain: a multi-region CloudTrail trail that is logging and records
#   all management events delivers to a CloudWatch Logs group; a metric filter on that group matches
#   every event the CIS reference pattern matches (compared by meaning, not text; matching more is
#   accepted with a note); an alarm on the filter's metric fires on a single event and notifies an
#   SNS topic with at least one confirmed subscription. Organization trails count for member accounts
#   when the owner account's snapshots are loaded.
# related_resources:
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-13
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CIS-4.13
#   severity: MEDIUM
#   recommended_action: Create a metric filter with the CIS 4.13 pattern on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: RouteTableChanges
#     metric_name: route_table_changes_metric
#     metric_namespace: CISBenchmark
#     alarm_name: RouteTableChangesAlarm
#   frameworks:
#     cis-aws-foundations-v1.2: ["3.13"]
#     cis-aws-foundations-v1.4-v5.0: ["4.13"]
#     cis-aws-foundations-v6.0: ["5.13"]
#     aws-security-hub: ["CloudWatch.13"]
#   references:
#     # The CIS v3.0+ audit text: `($.eventSource = ec2.amazonaws.com) && ($.eventName =
#     # CreateRoute) || ...`. `&&` binds tighter than `||`, so only CreateRoute is narrowed to
#     # EC2 (API Gateway has a CreateRoute call too); the plain list of earlier versions (and of
#     # the v3.0+ remediation command) matches more, so it passes too.
#     - pattern: '{ ($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0]
#       source: >-
#         CIS v3.0.0, v4.0.1 and v5.0.0 4.13, v6.0.0 5.13: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{3.0,4.0,5.0,6.0}_aws.json.
#     # CIS v1.2-v2.0 and Security Hub CloudWatch.13: the plain list, CreateRoute from any
#     # event source. A filter written from the v3.0+ audit text misses CreateRoute calls of
#     # other services.
#     - pattern: '{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }'
#       benchmarks: [cis-v2.0, cis-v1.5, cis-v1.4, cis-v1.2, aws-security-hub]
#       source: >-
#         CIS v1.2.0 3.13 as Security Hub's CIS v1.2.0 standard prescribes it
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/securityhub-cis-controls.md at
#         3edb15c, 2020-03); CIS v1.4.0, v1.5.0 and v2.0.0 4.13: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0}_aws.json; AWS Security Hub user guide,
#         cloudwatch-controls, [CloudWatch.13] remediation
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md at bda5bf7,
#         2023-03).
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account. An existing topic with a confirmed
#     subscription can be reused instead of step 2.
#
#     1. Metric filter for route table changes:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name RouteTableChanges \
#       --metric-transformations metricName=route_table_changes_metric,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name RouteTableChangesAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:RouteTableChangesAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name RouteTableChangesAlarm \
#       --metric-name route_table_changes_metric --namespace CISBenchmark \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:RouteTableChangesAlerts
#     ```
package checks.aws.cloudwatch.route_table_changes_alarm

# Rule id: no verified Trend Micro Conformity id ("Route Table Changes Alarm" is one of CWL-003/005/013,
# which one is unverified), so the id is the CIS v1.4-v5.0 number.

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CIS-4.13")

# Any identity may cause these events, so a filter that matches more than the reference is
# accepted (with a note that the alarm may fire more often than needed).
decision := benchmark.decision("CIS-4.13", {"label": "route table changes", "reject_non_root": false})
