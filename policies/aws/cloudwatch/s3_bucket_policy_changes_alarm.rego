# METADATA
# title: S3 bucket policy changes are monitored
# description: |
#   CIS AWS Foundations 4.8 (v6.0: 5.8): S3 bucket policy changes must raise an alarm that reaches a
#   person.
#   The account needs a complete chain: a multi-region CloudTrail trail that is logging and records
#   all management events delivers to a CloudWatch Logs group; a metric filter on that group matches
#   every event the CIS reference pattern matches (compared by meaning, not text; matching more is
#   accepted with a note); an alarm on the filter's metric fires on a single event and notifies an
#   SNS topic with at least one confirmed subscription. Organization trails count for member accounts
#   when the owner account's snapshots are loaded.
# related_resources:
#   - ref: https://www.trendmicro.com/cloudoneconformity/knowledge-base/aws/CloudWatchLogs/s3-bucket-changes-alarm.html
#   - ref: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-8
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CWL-012
#   severity: MEDIUM
#   recommended_action: Create a metric filter with the CIS 4.8 pattern on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: S3BucketPolicyChanges
#     metric_name: s3_bucket_policy_changes_metric
#     metric_namespace: CISBenchmark
#     alarm_name: S3BucketPolicyChangesAlarm
#   frameworks:
#     cis-aws-foundations-v1.2: ["3.8"]
#     cis-aws-foundations-v1.4-v5.0: ["4.8"]
#     cis-aws-foundations-v6.0: ["5.8"]
#     aws-security-hub: ["CloudWatch.8"]
#   references:
#     - pattern: '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0, cis-v2.0, cis-v1.5, cis-v1.4, cis-v1.2, aws-security-hub]
#       source: >-
#         The same events in every version, compared by meaning: CIS v1.2.0 3.8 as Security Hub's CIS
#         v1.2.0 standard prescribes it (github.com/awsdocs/aws-security-hub-user-guide,
#         doc_source/securityhub-cis-controls.md at 3edb15c, 2020-03); CIS v1.4.0, v1.5.0, v2.0.0,
#         v3.0.0, v4.0.1 and v5.0.0 4.8, v6.0.0 5.8: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0,3.0,4.0,5.0,6.0}_aws.json; AWS Security Hub user
#         guide, cloudwatch-controls, [CloudWatch.8] remediation
#         (github.com/awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md at bda5bf7,
#         2023-03).
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account. An existing topic with a confirmed
#     subscription can be reused instead of step 2.
#
#     1. Metric filter for S3 bucket policy changes:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name S3BucketPolicyChanges \
#       --metric-transformations metricName=s3_bucket_policy_changes_metric,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name S3BucketPolicyChangesAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:S3BucketPolicyChangesAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name S3BucketPolicyChangesAlarm \
#       --metric-name s3_bucket_policy_changes_metric --namespace CISBenchmark \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:S3BucketPolicyChangesAlerts
#     ```
package checks.aws.cloudwatch.s3_bucket_policy_changes_alarm

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CWL-012")

# Any identity may cause these events, so a filter that matches more than the reference is
# accepted (with a note that the alarm may fire more often than needed).
decision := benchmark.decision("CWL-012", {"label": "S3 bucket policy changes", "reject_non_root": false})
