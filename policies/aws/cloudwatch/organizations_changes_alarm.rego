# METADATA
# title: AWS Organizations changes are monitored
# description: |
#   CIS AWS Foundations 4.15 (v6.0: 5.15): AWS Organizations changes must raise an alarm that reaches a
#   person.
#   The account needs a complete chain: a multi-region CloudTrail trail that is logging and records
#   all management events delivers to a CloudWatch Logs group; a metric filter on that group matches
#   every event the CIS reference pattern matches (compared by meaning, not text; matching more is
#   accepted with a note); an alarm on the filter's metric fires on a single event and notifies an
#   SNS topic with at least one confirmed subscription. Organization trails count for member accounts
#   when the owner account's snapshots are loaded.
#   Organizations events are logged in us-east-1 of the management account; member accounts
#   pass through the organization trail when the management account is loaded.
# related_resources:
#   - ref: https://www.cloudconformity.com/knowledge-base/aws/CloudWatchLogs/organizations-changes-alarm.html
#   - ref: https://www.cisecurity.org/benchmark/amazon_web_services
# custom:
#   id: CWL-016
#   severity: MEDIUM
#   recommended_action: Create a metric filter with the CIS 4.15 pattern on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: OrganizationsChanges
#     metric_name: organizations_changes
#     metric_namespace: CISBenchmark
#     alarm_name: OrganizationsChangesAlarm
#   frameworks:
#     cis-aws-foundations-v1.4-v5.0: ["4.15"]
#     cis-aws-foundations-v6.0: ["5.15"]
#   references:
#     # CIS v1.3+ only: there is no v1.2 control and no Security Hub control; under those
#     # benchmarks the rule is decided by this pattern, with a note.
#     - pattern: '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
#       benchmarks: [cis-v6.0, cis-v5.0, cis-v4.0, cis-v3.0, cis-v2.0, cis-v1.5, cis-v1.4]
#       source: >-
#         The same events in every version, compared by meaning: CIS v1.4.0, v1.5.0, v2.0.0, v3.0.0,
#         v4.0.1 and v5.0.0 4.15, v6.0.0 5.15: the audit text as transcribed in
#         github.com/prowler-cloud/prowler at 3e000fa,
#         prowler/compliance/aws/cis_{1.4,1.5,2.0,3.0,4.0,5.0,6.0}_aws.json.
#   remediation: |
#     Replace `<LOG_GROUP>` with the log group of a multi-region, logging CloudTrail trail
#     (`aws cloudtrail describe-trails` shows it as `CloudWatchLogsLogGroupArn`), and `<REGION>` and
#     `<ACCOUNT_ID>` with that log group's region and account. An existing topic with a confirmed
#     subscription can be reused instead of step 2.
#
#     1. Metric filter for AWS Organizations changes:
#
#     ```sh
#     aws logs put-metric-filter --region <REGION> \
#       --log-group-name <LOG_GROUP> \
#       --filter-name OrganizationsChanges \
#       --metric-transformations metricName=organizations_changes,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
#     ```
#
#     2. SNS topic and a subscription (confirm it from the e-mail AWS sends):
#
#     ```sh
#     aws sns create-topic --region <REGION> --name OrganizationsChangesAlerts
#     aws sns subscribe --region <REGION> \
#       --topic-arn arn:aws:sns:<REGION>:<ACCOUNT_ID>:OrganizationsChangesAlerts \
#       --protocol email --notification-endpoint security@example.com
#     ```
#
#     3. Alarm that fires on one event:
#
#     ```sh
#     aws cloudwatch put-metric-alarm --region <REGION> \
#       --alarm-name OrganizationsChangesAlarm \
#       --metric-name organizations_changes --namespace CISBenchmark \
#       --statistic Sum --period 300 --evaluation-periods 1 --datapoints-to-alarm 1 \
#       --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
#       --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:OrganizationsChangesAlerts
#     ```
package checks.aws.cloudwatch.organizations_changes_alarm

import data.lib.benchmark

# The reference patterns are in custom.references above, each with the benchmarks that
# prescribe it; `eval --benchmark` chooses one (lib.benchmark). Filters are compared with
# them by meaning (cwl.filter_covers), not by text.
reference := benchmark.reference("CWL-016")

# Any identity may cause these events, so a filter that matches more than the reference is
# accepted (with a note that the alarm may fire more often than needed).
decision := benchmark.decision("CWL-016", {"label": "AWS Organizations changes", "reject_non_root": false})
