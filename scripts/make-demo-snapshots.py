#!/usr/bin/env python3
"""Writes snapshots/: a small fictitious organization that shows every kind of verdict.

Every account is set up for all fifteen CIS monitoring controls (one trail, one log group, a filter
and an alarm per control); the defects of the demo are on the root-usage (CWL-014) chain or on links
every chain shares (the trail, the subscriptions).

Run from the repository root: python3 scripts/make-demo-snapshots.py
The files are in the exact layout and formatting `cwl-audit collect` writes (keys sorted, 2-space
indent), so they double as examples of the snapshot format.
"""
import copy
import json
import pathlib
import re

CIS = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
MGMT = "111111111111"
HOME = "us-east-1"


def other_controls():
    """(camel-case name, CIS reference pattern) of every check besides CWL-014, from the policies."""
    out = []
    for rego in sorted(pathlib.Path("policies/aws/cloudwatch").glob("*.rego")):
        if rego.name.endswith("_test.rego") or rego.stem == "root_usage_alarm":
            continue
        reference = re.search(r"^reference := `([^`]*)`", rego.read_text(), re.M).group(1)
        camel = "".join(w.capitalize() for w in rego.stem.removesuffix("_alarm").split("_"))
        out.append((camel, reference))
    return out


def empty(account, region):
    return {
        "format": "cwl-audit.snapshot/v1",
        "account_id": account,
        "partition": "aws",
        "region": region,
        "collected_at": "2026-11-25T10:00:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "cloudtrail": {"trailList": [], "status": {}, "selectors": {}},
        "logs": {"metricFilters": []},
        "cloudwatch": {"MetricAlarms": [], "CompositeAlarms": []},
        "sns": {"Subscriptions": []},
        "errors": [],
    }


def trail(account, name, log_group, organization=False, multi_region=True):
    t = {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{HOME}:{account}:trail/{name}",
        "HomeRegion": HOME,
        "S3BucketName": f"aws-cloudtrail-logs-{account}",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": multi_region,
        "IsOrganizationTrail": organization,
        "LogFileValidationEnabled": True,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
    }
    if log_group:
        t["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{HOME}:{account}:log-group:{log_group}:*"
        t["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account}:role/CloudTrailRoleForCloudWatchLogs"
    return t


def metric_filter(log_group, name, pattern, metric, namespace):
    """A metric filter publishing 1 per matched event, as CIS and Conformity set it up."""
    return {
        "filterName": name,
        "logGroupName": log_group,
        "filterPattern": pattern,
        "creationTime": 1740902400000,
        "metricTransformations": [{"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}],
    }


def one_event_alarm(account, name, metric, namespace, topic, **extra):
    """An alarm that fires on one event in 5 minutes and notifies `topic` (Conformity's remediation)."""
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{HOME}:{account}:alarm:{name}",
        "ActionsEnabled": True,
        "AlarmActions": [topic],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": "Sum",
        "Dimensions": [],
        "Period": 300,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "StateValue": "OK",
        **extra,
    }


def full_chain(account, trail_name="management-events", organization=False):
    s = empty(account, HOME)
    lg = f"aws-cloudtrail-logs-{account}"
    t = trail(account, trail_name, lg, organization)
    arn = t["TrailARN"]
    topic = f"arn:aws:sns:{HOME}:{account}:RootAccountUsageAlerts"
    s["cloudtrail"] = {
        "trailList": [t],
        "status": {arn: {"IsLogging": True, "LatestDeliveryTime": "2026-11-25T09:58:12Z",
                         "LatestCloudWatchLogsDeliveryTime": "2026-11-25T09:58:40Z", "StartLoggingTime": "2025-03-02T08:00:00Z"}},
        "selectors": {arn: {"TrailARN": arn, "EventSelectors": [
            {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}]}},
    }
    s["logs"]["metricFilters"] = [metric_filter(lg, "RootAccountUsage", CIS, "RootAccountUsageEventCount", "CloudTrailMetrics")]
    s["cloudwatch"]["MetricAlarms"] = [one_event_alarm(
        account, "RootAccountUsageAlarm", "RootAccountUsageEventCount", "CloudTrailMetrics", topic,
        AlarmDescription="Root user activity (CIS 4.3)",
        StateReason="Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].",
        StateUpdatedTimestamp="2026-11-20T07:12:03.512000+00:00",
    )]
    s["sns"]["Subscriptions"] = [{
        "SubscriptionArn": f"{topic}:3f1d8a52-6a0e-4d4b-9e47-0c1b2a3d4e5f",
        "Owner": account,
        "Protocol": "email",
        "Endpoint": "redacted:sha256:5f0c3e0f1c2b7a3d9e8f6a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        "TopicArn": topic,
    }]
    # The other fourteen CIS monitoring controls: one filter and alarm each, on the same log group,
    # notifying a shared SecurityAlerts topic (so the demo's defects stay on the root-usage chain).
    alerts = f"arn:aws:sns:{HOME}:{account}:SecurityAlerts"
    for camel, pattern in other_controls():
        s["logs"]["metricFilters"].append(
            metric_filter(lg, camel, pattern, f"{camel}Count", "CISBenchmark"))
        s["cloudwatch"]["MetricAlarms"].append(
            one_event_alarm(account, f"{camel}Alarm", f"{camel}Count", "CISBenchmark", alerts))
    s["sns"]["Subscriptions"].append({
        "SubscriptionArn": f"{alerts}:7c2e9b41-0d3f-4a6e-8b15-2f4e6a8c0d1e",
        "Owner": account,
        "Protocol": "email",
        "Endpoint": "redacted:sha256:5f0c3e0f1c2b7a3d9e8f6a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        "TopicArn": alerts,
    })
    return s


def shadow(home, region):
    s = empty(home["account_id"], region)
    s["cloudtrail"]["trailList"] = copy.deepcopy(home["cloudtrail"]["trailList"])
    return s


def member(account, mgmt, region):
    s = empty(account, region)
    s["cloudtrail"]["trailList"] = copy.deepcopy(mgmt["cloudtrail"]["trailList"])
    return s


def main():
    out = {}
    # 111111111111: management account; its organization trail has the complete chain.
    mgmt = full_chain(MGMT, "organization-trail", organization=True)
    out[(MGMT, HOME)] = mgmt
    out[(MGMT, "eu-west-1")] = shadow(mgmt, "eu-west-1")
    # 222222222222: member account, covered by the organization trail.
    out[("222222222222", HOME)] = member("222222222222", mgmt, HOME)
    out[("222222222222", "eu-west-1")] = member("222222222222", mgmt, "eu-west-1")
    # 333333333333: its alarm was disabled during a maintenance window and never re-enabled.
    s = full_chain("333333333333")
    s["cloudwatch"]["MetricAlarms"][0]["ActionsEnabled"] = False
    out[("333333333333", HOME)] = s
    # 444444444444: filter written with || : it matches every IAM user's event too.
    s = full_chain("444444444444")
    s["logs"]["metricFilters"][0]["filterPattern"] = CIS.replace("&&", "||")
    out[("444444444444", HOME)] = s
    # 555555555555: nobody confirmed the e-mail subscription.
    s = full_chain("555555555555")
    s["sns"]["Subscriptions"][0]["SubscriptionArn"] = "PendingConfirmation"
    out[("555555555555", HOME)] = s
    # 666666666666: the trail was stopped.
    s = full_chain("666666666666")
    arn = s["cloudtrail"]["trailList"][0]["TrailARN"]
    s["cloudtrail"]["status"][arn]["IsLogging"] = False
    s["cloudtrail"]["status"][arn]["StopLoggingTime"] = "2026-10-02T16:20:00Z"
    out[("666666666666", HOME)] = s
    # 777777777777: the audit role may not call sns:ListSubscriptions.
    s = full_chain("777777777777")
    del s["sns"]
    s["errors"] = [{
        "service": "sns", "operation": "ListSubscriptions", "resource": None, "code": "AuthorizationError",
        "message": "User: arn:aws:sts::777777777777:assumed-role/cwl-audit-reader/collector is not authorized to perform: SNS:ListSubscriptions",
    }]
    out[("777777777777", HOME)] = s
    # 888888888888: the CIS filter written in another order, over several lines, values unquoted:
    # same meaning, so it passes (the filter is compared by meaning, not by text).
    s = full_chain("888888888888")
    s["logs"]["metricFilters"][0]["filterPattern"] = (
        "{\n  ($.eventType != AwsServiceEvent)\n  && ($.userIdentity.type = Root)\n"
        "  && ($.userIdentity.invokedBy NOT EXISTS)\n}")
    out[("888888888888", HOME)] = s
    # 999999999999: root use from the office address is left out, so that root use goes unnoticed.
    s = full_chain("999999999999")
    s["logs"]["metricFilters"][0]["filterPattern"] = CIS.replace(" }", ' && $.sourceIPAddress != "198.51.100.10" }')
    out[("999999999999", HOME)] = s

    root = pathlib.Path("snapshots")
    for (account, region), doc in sorted(out.items()):
        path = root / account / f"{region}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
