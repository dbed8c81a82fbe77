#!/usr/bin/env python3
"""Collector benchmark: `cwl-audit collect` of one account in 17 regions against the moto emulator.

Usage (from the repository root, with the test venv): .venv/bin/python scripts/bench-collect.py BINARY

Starts moto on a free loopback port (tests/support/moto_server.py), seeds an account shaped like the
organization benchmark's (a multi-region trail with its CIS chain in us-east-1; in every region 20
alarms, a topic with two subscriptions and a log group with five metric filters), runs
`BINARY -v collect --regions <17>` and prints its wall time and, per region, the API calls it made and
how long the region took. Results go to target/bench/collect.md. moto answers in a few milliseconds,
so this measures the collector's own overhead and its call count, not AWS latency.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-central-1",
           "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1"]


def main(binary):
    server = subprocess.Popen([sys.executable, str(ROOT / "tests/support/moto_server.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        endpoint = f"http://127.0.0.1:{port}"
        sys.argv = ["moto_scenarios.py", endpoint]
        sys.path.insert(0, str(ROOT / "tests/support"))
        import moto_scenarios as m  # noqa: E402 (needs ENDPOINT from argv)

        m.trail("us-east-1")
        m.alarm_chain("us-east-1")
        for r in REGIONS:
            logs, cw, sns = m.client("logs", r), m.client("cloudwatch", r), m.client("sns", r)
            topic = sns.create_topic(Name="ops-alerts")["TopicArn"]
            for n in range(2):
                sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"team-{n}@example.com")
            logs.create_log_group(logGroupName="app")
            for n in range(5):
                logs.put_metric_filter(logGroupName="app", filterName=f"errors-{n}",
                                       filterPattern=f'{{ $.level = "ERROR{n}" }}',
                                       metricTransformations=[{"metricName": f"Errors{n}",
                                                               "metricNamespace": "App", "metricValue": "1"}])
            for n in range(20):
                cw.put_metric_alarm(AlarmName=f"app-{n:03}-latency-high", MetricName="TargetResponseTime",
                                    Namespace="AWS/ApplicationELB", Statistic="Average", Period=60,
                                    EvaluationPeriods=3, Threshold=0.25,
                                    ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic],
                                    Dimensions=[{"Name": "LoadBalancer", "Value": f"app/web-{n}/50dc6c495c0c9188"}])
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_REGION="us-east-1")
        with tempfile.TemporaryDirectory() as out:
            started = time.monotonic()
            run = subprocess.run([binary, "-v", "collect", "--out", out, "--endpoint-url", endpoint,
                                  "--regions", ",".join(REGIONS)], env=env, capture_output=True, text=True)
            wall = time.monotonic() - started
            files = sorted(pathlib.Path(out).rglob("*.json"))
            size = sum(f.stat().st_size for f in files)
        if run.returncode != 0:
            sys.exit(f"collect exited {run.returncode}:\n{run.stderr}")
        rows = re.findall(r"^region (\S+): (\d+) calls \((\d+) failed\) in ([\d.]+) s$", run.stderr, re.M)
        table = ["| region | calls | failed | time |", "|---|---:|---:|---:|"]
        table += [f"| {r} | {c} | {f} | {t} s |" for r, c, f, t in rows]
        calls = sum(int(c) for _, c, _, _ in rows)
        text = (f"`collect` of 1 account x {len(rows)} regions against moto (loopback), "
                f"`--concurrency 4` (default): **{wall:.2f} s** wall, {calls} API calls "
                f"(+1 STS GetCallerIdentity), {len(files)} snapshots, {size / 1e3:.0f} kB.\n\n"
                + "\n".join(table) + "\n")
        print(text)
        (ROOT / "target/bench").mkdir(parents=True, exist_ok=True)
        (ROOT / "target/bench/collect.md").write_text(text)
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
