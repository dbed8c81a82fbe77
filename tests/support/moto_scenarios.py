"""Seeds a moto server with one CWL-014 scenario, with boto3 (as a person would with the console).

    python moto_scenarios.py ENDPOINT SCENARIO
    python moto_scenarios.py ENDPOINT restricted-user ACTIONS_JSON   # prints "KEY SECRET", turns IAM on
    python moto_scenarios.py ENDPOINT organization   # prints the organization's ids as JSON
    python moto_scenarios.py ENDPOINT remediation    # REMEDIATION accounts; prints their credentials

with CWL_AUDIT_ROOT_REFERENCE set to CWL-014's reference pattern (the Rust tests set it).

The account is moto's default, 123456789012. Every scenario builds the chain of Trend Micro
Conformity's CWL-014 remediation (trail -> log group -> metric filter -> metric -> alarm -> SNS topic
with a subscription) and breaks at most one link. `organization` makes 123456789012 the management
account of an organization (with an organization trail) and gives each member account one scenario
(see MEMBERS), seeded with the member's own credentials (AssumeRole into it). Used by
tests/it/collect_moto.rs and tests/it/collect_org.rs.
"""
import json
import os
import sys
import urllib.request

import boto3

ACCOUNT = "123456789012"
# CWL-014's reference pattern, from its policy's METADATA (custom.references): the tests that run
# this script pass it (tests/support/emulator.rs), so that no copy of it lives here.
CIS = os.environ.get("CWL_AUDIT_ROOT_REFERENCE") or sys.exit(
    "CWL_AUDIT_ROOT_REFERENCE is not set: the Rust tests set it (support::cis_root())")
WEAK = '{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS }'
ENDPOINT = sys.argv[1]
MANAGEMENT = ACCOUNT
# The credentials scenarios are seeded with (the management account's by default; a member's while
# its scenario is seeded). Clients are cached: creating a boto3 client costs ~30 ms.
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_CLIENTS = {}


def client(service, region):
    key = (service, region, CREDS["aws_access_key_id"])
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service, region_name=region, endpoint_url=ENDPOINT, **CREDS)
    return _CLIENTS[key]


def trail(home, name="management-events", log_group="CloudTrail/management-events",
          multi_region=True, logging=True, read_write="All", organization=False, advanced=False):
    """A trail in `home` sending to `log_group` (in `home`)."""
    client("s3", home).create_bucket(
        Bucket=f"cloudtrail-{name}-{ACCOUNT}",
        **({} if home == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": home}}),
    )
    client("logs", home).create_log_group(logGroupName=log_group)
    ct = client("cloudtrail", home)
    ct.create_trail(
        Name=name,
        S3BucketName=f"cloudtrail-{name}-{ACCOUNT}",
        IsMultiRegionTrail=multi_region,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        IsOrganizationTrail=organization,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{home}:{ACCOUNT}:log-group:{log_group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/CloudTrailToCloudWatchLogs",
    )
    if advanced:
        ct.put_event_selectors(
            TrailName=name,
            AdvancedEventSelectors=[{
                "Name": "Management events",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            }],
        )
    else:
        ct.put_event_selectors(
            TrailName=name,
            EventSelectors=[{"ReadWriteType": read_write, "IncludeManagementEvents": True}],
        )
    if logging:
        ct.start_logging(Name=name)


def alarm_chain(region, log_group="CloudTrail/management-events", pattern=CIS, actions_enabled=True,
                subscribe=True, alarm_region=None, namespace="CloudTrailMetrics"):
    """Metric filter on `log_group` in `region`; alarm and topic in `alarm_region` (default: same)."""
    alarm_region = alarm_region or region
    client("logs", region).put_metric_filter(
        logGroupName=log_group,
        filterName="RootAccountUsage",
        filterPattern=pattern,
        metricTransformations=[{
            "metricName": "RootAccountUsageEventCount",
            "metricNamespace": "CloudTrailMetrics",
            "metricValue": "1",
        }],
    )
    sns = client("sns", alarm_region)
    topic = sns.create_topic(Name="RootAccountUsageAlerts")["TopicArn"]
    if subscribe:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    client("cloudwatch", alarm_region).put_metric_alarm(
        AlarmName="RootAccountUsageAlarm",
        MetricName="RootAccountUsageEventCount",
        Namespace=namespace,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        ActionsEnabled=actions_enabled,
        AlarmActions=[topic],
    )


def scenario(name):
    r = "us-east-1"
    if name == "compliant":
        trail(r)
        alarm_chain(r)
    elif name == "advanced-selectors":
        trail(r, advanced=True)
        alarm_chain(r)
    elif name == "weak-filter":
        trail(r)
        alarm_chain(r, pattern=WEAK)
    elif name == "trail-stopped":
        trail(r, logging=False)
        alarm_chain(r)
    elif name == "single-region-trail":
        trail(r, multi_region=False)
        alarm_chain(r)
    elif name == "write-only":
        trail(r, read_write="WriteOnly")
        alarm_chain(r)
    elif name == "actions-disabled":
        trail(r)
        alarm_chain(r, actions_enabled=False)
    elif name == "no-subscription":
        trail(r)
        alarm_chain(r, subscribe=False)
    elif name == "two-regions":
        # The trail's home and the whole chain in eu-west-1; us-east-1 sees the shadow trail only.
        trail("eu-west-1", name="eu-management-events", log_group="CloudTrail/eu-management-events")
        alarm_chain("eu-west-1", log_group="CloudTrail/eu-management-events")
    elif name == "alarm-other-region":
        # Metrics are regional: an alarm in us-east-1 never sees the eu-west-1 filter's metric.
        trail("eu-west-1")
        alarm_chain("eu-west-1", alarm_region="us-east-1")
    elif name == "private-endpoints":
        # Compliant; the topic notifies an e-mail address, an HTTPS webhook (a secret in its URL) and
        # a phone: what --redact-endpoints must keep out of every output.
        trail(r)
        alarm_chain(r, subscribe=False)
        sns = client("sns", r)
        topic = sns.create_topic(Name="RootAccountUsageAlerts")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="root-oncall.s3cr3t@corp.example.org")
        sns.subscribe(TopicArn=topic, Protocol="https",
                      Endpoint="https://hooks.example.net/services/T000/B000/s3cr3t-w3bh00k")
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550123")
    elif name == "no-trail":
        # Nothing but the bucket a new trail would write to (tests/it/remediate.rs names it in the plan).
        client("s3", r).create_bucket(Bucket=f"remediation-trail-{ACCOUNT}")
    elif name == "no-filter":
        trail(r)
        sns = client("sns", r)
        topic = sns.create_topic(Name="RootAccountUsageAlerts")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
    elif name == "alarm-other-namespace":
        trail(r)
        alarm_chain(r, namespace="LogMetrics")
    elif name == "organization-trail":
        client("organizations", r).create_organization(FeatureSet="ALL")
        trail(r, name="organization-trail", organization=True)
        alarm_chain(r)
    else:
        sys.exit(f"unknown scenario {name}")


# The organization: (account name, scenario or None for nothing seeded, OU path or None for the root,
# closed). Names are unique; tests/it/collect_org.rs expects each verdict by name.
MEMBERS = [
    ("compliant", "compliant", None, False),
    ("advanced-selectors", "advanced-selectors", None, False),
    ("weak-filter", "weak-filter", None, False),
    ("trail-stopped", "trail-stopped", None, False),
    ("single-region-trail", "single-region-trail", None, False),
    ("write-only", "write-only", None, False),
    ("actions-disabled", "actions-disabled", None, False),
    ("no-subscription", "no-subscription", None, False),
    ("two-regions", "two-regions", None, False),
    ("alarm-other-region", "alarm-other-region", None, False),
    ("empty", None, None, False),
    ("workloads-compliant", "compliant", "Workloads", False),
    ("workloads-weak-filter", "weak-filter", "Workloads", False),
    ("prod-compliant", "compliant", "Workloads/Prod", False),
    ("prod-trail-stopped", "trail-stopped", "Workloads/Prod", False),
    ("sandbox-compliant", "compliant", "Sandbox", False),
    # Compliant, so that a pass would show if the denial did not work (the test's proxy answers
    # this account's AssumeRole with AccessDenied).
    ("denied", "compliant", None, False),
    # Compliant too: a suspended account must be skipped, not judged.
    ("suspended", "compliant", "Sandbox", True),
]


def as_account(account_id, fn):
    """Runs fn() with the credentials of `account_id` (AssumeRole; moto maps them to it)."""
    global ACCOUNT, CREDS
    saved = (ACCOUNT, CREDS)
    c = client("sts", "us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="seed",
    )["Credentials"]
    ACCOUNT, CREDS = account_id, {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
    }
    try:
        fn()
    finally:
        ACCOUNT, CREDS = saved


def organization():
    scenario("organization-trail")  # creates the organization, and its trail and alarm chain
    org = client("organizations", "us-east-1")
    desc = org.describe_organization()["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {}

    def ou(path):
        if path not in ous:
            parent = root if "/" not in path else ou(path.rsplit("/", 1)[0])
            name = path.rsplit("/", 1)[-1]
            ous[path] = org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]
        return ous[path]

    accounts = {}
    paths = {"management": ""}
    for name, scen, path, closed in MEMBERS:
        paths[name] = path or ""
        r = org.create_account(Email=f"{name}@example.com", AccountName=name)
        account_id = r["CreateAccountStatus"]["AccountId"]
        accounts[name] = account_id
        if path:
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou(path))
        if scen:
            as_account(account_id, lambda: scenario(scen))
        if closed:
            org.close_account(AccountId=account_id)
    print(json.dumps({"organization": desc["Id"], "management": desc["MasterAccountId"], "root": root,
                      "ous": ous, "accounts": accounts, "paths": paths}))


# Accounts of the remediation round trip (tests/it/remediate.rs): one failing state each; every state
# but `compliant` breaks the CWL-014 chain, and none has alarms for the fourteen other CIS rules.
REMEDIATION = [
    ("100000000001", "no-trail"),
    ("100000000002", "trail-stopped"),
    ("100000000003", "single-region-trail"),
    ("100000000004", "write-only"),
    ("100000000005", "no-filter"),
    ("100000000006", "weak-filter"),
    ("100000000007", "alarm-other-namespace"),
    ("100000000008", "actions-disabled"),
    ("100000000009", "no-subscription"),
    ("100000000010", "compliant"),
]


def remediation():
    """Seeds REMEDIATION, each in its own account; prints {account: [key, secret, token]}."""
    creds = {}
    for account_id, scen in REMEDIATION:
        as_account(account_id, lambda: scenario(scen))
        c = client("sts", "us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="remediate", DurationSeconds=43200,
        )["Credentials"]
        creds[account_id] = [c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]]
    print(json.dumps(creds))


def restricted_user(actions):
    """An IAM user allowed exactly `actions`; prints its keys, then makes moto enforce IAM."""
    iam = client("iam", "us-east-1")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="cwl-audit",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }),
    )
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    req = urllib.request.Request(
        f"{ENDPOINT}/moto-api/reset-auth", data=b"0", method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(req).read()
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    if sys.argv[2] == "restricted-user":
        restricted_user(json.loads(sys.argv[3]))
    elif sys.argv[2] == "organization":
        organization()
    elif sys.argv[2] == "remediation":
        remediation()
    else:
        for s in sys.argv[2:]:
            scenario(s)
