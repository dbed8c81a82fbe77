# METADATA
# title: Unauthorized API calls are monitored
# description: |
#   CIS AWS Foundations 4.1 (v6.0: 5.1): unauthorized API calls must raise an alarm that reaches a
#   person.
#   The account needs a complete chain: a multi-region CloudTrail trail that is logging and records
#   all management events delivers to a CloudWatch Logs group; a metric filter on that group matches
#   every event the CIS reference pattern matches (compared by meaning, not text; matching more is
#   accepted with a note); an alarm on the filter's metric fires on a single event and notifies an
#   SNS topic with at least one confirmed subscription. Organization trails count for member accounts
#   when the owner account's snapshots are loaded.
# related_resources:
#   - ref: https://www.trendmicro.com/cloudoneconformity/knowledge-base/aws/CloudWatchLogs/authorization-failures-alarm.html
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-2
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CWL-002
#   severity: MEDIUM
#   recommended_action: Create a metric filter with the CIS 4.1 pattern on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: UnauthorizedApiCalls
#     metric_name: unauthorized_api_calls_metric
#     metric_namespace: CISBenchmark
#     alarm_name: UnauthorizedApiCallsAlarm
#   frameworks:
#     cis-aws-foundations-v1.2: ["3.1"]
#     cis-aws-foundations-v1.4-v5.0: ["4.1"]
#     cis-aws-foundations-v6.0: ["5.1"]
#     aws-security-hub: ["CloudWatch.2"]
#   references:
#     # Later CIS versions add two exclusions to the v1.2 text. `&&` binds tighter than `||`:
#     # every `*UnauthorizedOperation` error, and every `AccessDenied*` error except those of
#     # CloudTrail log delivery and HeadBucket calls. CIS v1.4-v3.0 print the same terms all
#     # joined by `||`, which as written matches nearly every event (any event not from log
#     # delivery): an alarm on it would never leave ALARM, and CIS v4.0.1 corrected the
#     # operators. cwl-audit reads those versions as the corrected text, so their verdicts are
#     # v4.0's; it does not demand a filter that matches every event.
#     - pattern: '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0, cis-v2.0, cis-v1.5, cis-v1.4]
#       source: >-
#         CIS v4.0.1 and v5.0.0 4.1, v6.0.0 5.1: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{4.0,5.0,6.0}_aws.json; CIS v1.4.0, v1.5.0, v2.0.0 and v3.0.0 4.1
#         print the `||` form (github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0,3.0}_aws.json).
#     # CIS v1.2 and Security Hub CloudWatch.2: both error codes, no exclusion. A filter written
#     # from the later text misses AccessDenied errors of log delivery and HeadBucket calls.
#     - pattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
#       benchmarks: [cis-v1.2, aws-security-hub]
#       source: >-
#         CIS v1.2.0 3.1 as Security Hub's CIS v1.2.0 standard prescribes it
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/securityhub-cis-controls.md at
#         3edb15c, 2020-03); AWS Security Hub user guide, cloudwatch-controls, [CloudWatch.2]
#         remediation (github.com/awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md
#         at bda5bf7, 2023-03).
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account. An existing topic with a confirmed
#     subscription can be reused instead of step 2.
#
#     1. Metric filter for unauthorized API calls:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name UnauthorizedApiCalls \
#       --metric-transformations metricName=unauthorized_api_calls_metric,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name UnauthorizedApiCallsAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:UnauthorizedApiCallsAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name UnauthorizedApiCallsAlarm \
#       --metric-name unauthorized_api_calls_metric --namespace CISBenchmark \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:UnauthorizedApiCallsAlerts
#     ```
package checks.aws.cloudwatch.unauthorized_api_calls_alarm

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CWL-002")

# Any identity may cause these events, so a filter that matches more than the reference is
# accepted (with a note that the alarm may fire more often than needed).
decision := benchmark.decision("CWL-002", {"label": "unauthorized API calls", "reject_non_root": false})
