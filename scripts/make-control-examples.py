#!/usr/bin/env python3
"""Writes policies/aws/cloudwatch/examples/<RULE-ID>/{pass,fail}/: one bundled example per control.

Run from the repository root: python3 scripts/make-control-examples.py
For each check under policies/aws/cloudwatch/ (the reference pattern of the default benchmark in its
METADATA, custom.references, and the `weakened` pattern of its _test.rego), two one-account snapshots in the format `cwl-audit collect` writes (keys
sorted, 2-space indent): pass/ has a complete chain whose metric filter uses the CIS reference
pattern, fail/ the same chain with the weakened filter. tests/it/examples.rs checks the verdicts.
"""
import json
import pathlib
import re
import shutil
import importlib.util

# The snapshot building blocks of the demo generator (its file name has dashes: load it by path).
_spec = importlib.util.spec_from_file_location(
    "make_demo_snapshots", pathlib.Path(__file__).resolve().parent / "make-demo-snapshots.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKS = ROOT / "policies" / "aws" / "cloudwatch"
OUT = CHECKS / "examples"
ACCOUNT = "123456789012"
HOME = "us-east-1"


def backtick(source, name):
    m = re.search(rf"^{name} := `([^`]*)`", source, re.M)
    return m.group(1) if m else None


# The benchmark `cwl-audit eval` decides by without --benchmark (src/engine/benchmark.rs DEFAULT).
DEFAULT_BENCHMARK = "cis-v6.0"


def default_reference(source):
    """The pattern of the custom.references entry (METADATA) that lists the default benchmark."""
    entries = re.findall(r"^#     - pattern: '(.*)'\n#       benchmarks: \[(.*)\]$", source, re.M)
    for pattern, benchmarks in entries:
        if DEFAULT_BENCHMARK in (b.strip() for b in benchmarks.split(",")):
            return pattern.replace("''", "'")
    return None


def snapshot(rule_id, camel, pattern):
    lg = f"aws-cloudtrail-logs-{ACCOUNT}"
    arn = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/management-events"
    topic = f"arn:aws:sns:{HOME}:{ACCOUNT}:SecurityAlerts"
    return {
        "format": "cwl-audit.snapshot/v1",
        "account_id": ACCOUNT,
        "partition": "aws",
        "region": HOME,
        "collected_at": "2026-11-25T10:00:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "cloudtrail": {
            "trailList": [{
                "Name": "management-events",
                "TrailARN": arn,
                "HomeRegion": HOME,
                "S3BucketName": f"aws-cloudtrail-logs-{ACCOUNT}",
                "IncludeGlobalServiceEvents": True,
                "IsMultiRegionTrail": True,
                "IsOrganizationTrail": False,
                "LogFileValidationEnabled": True,
                "HasCustomEventSelectors": False,
                "HasInsightSelectors": False,
                "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:{lg}:*",
                "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/CloudTrailRoleForCloudWatchLogs",
            }],
            "status": {arn: {"IsLogging": True}},
            "selectors": {arn: {"TrailARN": arn, "EventSelectors": [
                {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}]}},
        },
        "logs": {"metricFilters": [demo.metric_filter(lg, camel, pattern, f"{camel}Count", "CISBenchmark")]},
        "cloudwatch": {"CompositeAlarms": [], "MetricAlarms": [demo.one_event_alarm(
            ACCOUNT, f"{camel}Alarm", f"{camel}Count", "CISBenchmark", topic, AlarmDescription=rule_id)]},
        "sns": {"Subscriptions": [{
            "SubscriptionArn": f"{topic}:3f1d8a52-6a0e-4d4b-9e47-0c1b2a3d4e5f",
            "TopicArn": topic,
            "Owner": ACCOUNT,
            "Protocol": "email",
            "Endpoint": "redacted:sha256:5f0c3e0f1c2b7a3d9e8f6a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        }]},
        "errors": [],
    }


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    for rego in sorted(CHECKS.glob("*.rego")):
        if rego.name.endswith("_test.rego"):
            continue
        source = rego.read_text()
        rule_id = re.search(r"^#   id: (\S+)", source, re.M).group(1)
        reference = default_reference(source)
        weakened = backtick((rego.parent / (rego.stem + "_test.rego")).read_text(), "weakened")
        camel = "".join(w.capitalize() for w in rego.stem.removesuffix("_alarm").split("_"))
        for verdict, pattern in (("pass", reference), ("fail", weakened)):
            path = OUT / rule_id / verdict / ACCOUNT / f"{HOME}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(snapshot(rule_id, camel, pattern), indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


main()
