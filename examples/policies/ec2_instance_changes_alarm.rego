# METADATA
# title: EC2 instance changes are monitored
# description: |
#   A custom "metric filter + alarm" control built on the chain library: launching, starting,
#   stopping, rebooting or terminating an EC2 instance must raise an alarm that reaches a person
#   (trail -> log group -> metric filter covering the reference pattern -> metric -> alarm -> SNS
#   topic with a confirmed subscription).
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
# custom:
#   id: EX-EC2-001
#   severity: LOW
#   recommended_action: Create a metric filter for EC2 instance changes on the CloudTrail log group, an alarm on its metric that fires on one event, and an SNS topic with a confirmed subscription.
#   remediate:
#     filter_name: EC2InstanceChanges
#     metric_name: EC2InstanceChangesCount
#     metric_namespace: CISBenchmark
#     alarm_name: EC2InstanceChangesAlarm
#   frameworks:
#     internal: ["MON-7"]
#   remediation: |
#     ```sh
#     aws logs put-metric-filter --region <REGION> --log-group-name <LOG_GROUP> \
#       --filter-name EC2InstanceChanges \
#       --metric-transformations metricName=EC2InstanceChangesCount,metricNamespace=CISBenchmark,metricValue=1 \
#       --filter-pattern '{ ($.eventName = RunInstances) || ($.eventName = RebootInstances) || ($.eventName = StartInstances) || ($.eventName = StopInstances) || ($.eventName = TerminateInstances) }'
#     aws cloudwatch put-metric-alarm --region <REGION> --alarm-name EC2InstanceChangesAlarm \
#       --metric-name EC2InstanceChangesCount --namespace CISBenchmark --statistic Sum --period 300 \
#       --evaluation-periods 1 --datapoints-to-alarm 1 --threshold 1 \
#       --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching \
#       --alarm-actions arn:aws:sns:<REGION>:<ACCOUNT_ID>:<TOPIC>
#     ```
package examples.cloudwatch.ec2_instance_changes_alarm

import data.lib.chain

reference := `{ ($.eventName = RunInstances) || ($.eventName = RebootInstances) || ($.eventName = StartInstances) || ($.eventName = StopInstances) || ($.eventName = TerminateInstances) }`

decision := chain.decision({"reference": reference, "label": "EC2 instance changes", "reject_non_root": false})
