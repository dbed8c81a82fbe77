# METADATA
# title: Management console sign-in without MFA is monitored
# description: |
#   CIS AWS Foundations 4.2 (v6.0: 5.2): console sign-ins without MFA must raise an alarm that reaches a
#   person.
#   The account needs a complete chain: a multi-region CloudTrail trail that is logging and records
#   all management events delivers to a CloudWatch Logs group; a metric filter on that group matches
#   every event the CIS reference pattern matches (compared by meaning, not text; matching more is
#   accepted with a note); an alarm on the filter's metric fires on a single event and notifies an
#   SNS topic with at least one confirmed subscription. Organization trails count for member accounts
#   when the owner account's snapshots are loaded.
# related_resources:
#   - ref: https://www.trendmicro.com/cloudoneconformity/knowledge-base/aws/CloudWatchLogs/console-sign-in-without-mfa.html
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-3
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CWL-017
#   severity: HIGH
#   recommended_action: Create a metric filter with the CIS 4.2 pattern on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: ConsoleSignInWithoutMfa
#     metric_name: no_mfa_console_signin_metric
#     metric_namespace: CISBenchmark
#     alarm_name: ConsoleSignInWithoutMfaAlarm
#   frameworks:
#     cis-aws-foundations-v1.2: ["3.2"]
#     cis-aws-foundations-v1.4-v5.0: ["4.2"]
#     cis-aws-foundations-v6.0: ["5.2"]
#     aws-security-hub: ["CloudWatch.3"]
#   references:
#     # CIS v1.4+ offers, beside the original form, one for organizations that use SSO:
#     # successful IAM-user console sign-ins without MFA. It is the narrower of the two, so a
#     # filter of either form passes. Security Hub CloudWatch.3 prescribes it too (since its
#     # 2022-05 update; before, the v1.2 form).
#     - pattern: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0, cis-v2.0, cis-v1.5, cis-v1.4, aws-security-hub]
#       source: >-
#         CIS v1.4.0, v1.5.0, v2.0.0, v3.0.0, v4.0.1 and v5.0.0 4.2, v6.0.0 5.2: the audit text (both
#         forms) as transcribed in github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0,3.0,4.0,5.0,6.0}_aws.json; AWS Security Hub user
#         guide, cloudwatch-controls, [CloudWatch.3] remediation
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md at bda5bf7,
#         2023-03).
#     # CIS v1.2: any console sign-in without MFAUsed = Yes, failed ones and federated ones
#     # included. A filter written from the SSO form misses those.
#     - pattern: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
#       benchmarks: [cis-v1.2]
#       source: >-
#         CIS v1.2.0 3.2 as Security Hub's CIS v1.2.0 standard prescribes it
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/securityhub-cis-controls.md at
#         3edb15c, 2020-03).
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account. An existing topic with a confirmed
#     subscription can be reused instead of step 2.
#
#     1. Metric filter for console sign-ins without MFA:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name ConsoleSignInWithoutMfa \
#       --metric-transformations metricName=no_mfa_console_signin_metric,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name ConsoleSignInWithoutMfaAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:ConsoleSignInWithoutMfaAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name ConsoleSignInWithoutMfaAlarm \
#       --metric-name no_mfa_console_signin_metric --namespace CISBenchmark \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:ConsoleSignInWithoutMfaAlerts
#     ```
package checks.aws.cloudwatch.console_signin_without_mfa_alarm

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CWL-017")

# Any identity may cause these events, so a filter that matches more than the reference is
# accepted (with a note that the alarm may fire more often than needed).
decision := benchmark.decision("CWL-017", {"label": "console sign-ins without MFA", "reject_non_root": false})
