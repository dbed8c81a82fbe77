#!/usr/bin/env python3
"""Organization collection benchmark: `cwl-audit collect --organization` against a loopback stub that
answers every call the collector makes after a fixed latency (as AWS would from a nearby region).

Usage (from the repository root): python3 scripts/bench-collect-org.py BINARY
    [--accounts 100,1000] [--regions 17] [--latency-ms 75] [--account-concurrency 16]
    [--concurrency 4] [--out target/bench/collect-org.md]

The stub (asyncio, keep-alive, one process) plays STS (GetCallerIdentity, AssumeRole),
Organizations (DescribeOrganization, ListAccounts in pages of 20), CloudTrail DescribeTrails,
CloudWatch Logs DescribeMetricFilters, CloudWatch DescribeAlarms and SNS ListSubscriptions, with
empty configurations (an account without a trail: 4 calls per region). Each case runs the binary
once and records wall time, calls, calls per second, the collector's CPU seconds and peak RSS
(wait4), and the stub's calls and CPU seconds (it shares the machine's cores with the collector). The Organizations and STS rate limits are raised for the
benchmark (--organizations-rate/--sts-rate 1000) so that the numbers show the collector, not the
quotas; with the defaults, 1,000 AssumeRole calls alone take 50 s.
"""
import argparse
import asyncio
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-central-1",
           "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1"]
MANAGEMENT = "100000000000"


class Stub:
    def __init__(self, accounts, latency):
        self.accounts = [f"{200000000000 + i:012d}" for i in range(accounts)]
        self.latency = latency
        self.calls = 0

    def answer(self, target, body):
        """(content type, body) of a call, by X-Amz-Target or the query protocol's Action."""
        if target:
            op = target.rsplit(".", 1)[-1]
            if op == "DescribeOrganization":
                return "json", {"Organization": {
                    "Id": "o-bench00000", "Arn": f"arn:aws:organizations::{MANAGEMENT}:organization/o-bench00000",
                    "MasterAccountId": MANAGEMENT, "FeatureSet": "ALL"}}
            if op == "ListAccounts":
                req = json.loads(body or b"{}")
                start = int(req.get("NextToken") or 0)
                every = [MANAGEMENT] + self.accounts
                ids = every[start:start + 20]
                out = {"Accounts": [{"Id": i, "Name": f"acct-{i}", "State": "ACTIVE", "Status": "ACTIVE"} for i in ids]}
                if start + 20 < len(every):
                    out["NextToken"] = str(start + 20)
                return "json", out
            if op == "DescribeTrails":
                return "json", {"trailList": []}
            if op == "DescribeMetricFilters":
                return "json", {"metricFilters": []}
            return "error", op
        params = dict(kv.split("=", 1) for kv in body.decode().split("&") if "=" in kv)
        action = params.get("Action")
        if action == "GetCallerIdentity":
            return "xml", (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                           f'<Arn>arn:aws:iam::{MANAGEMENT}:user/bench</Arn><UserId>AIDABENCH</UserId><Account>{MANAGEMENT}</Account>'
                           f'</GetCallerIdentityResult><ResponseMetadata><RequestId>b</RequestId></ResponseMetadata></GetCallerIdentityResponse>')
        if action == "AssumeRole":
            return "xml", ('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
                           '<AccessKeyId>ASIABENCH</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken>'
                           '<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser>'
                           '<Arn>arn:aws:sts::200000000000:assumed-role/R/cwl-audit</Arn><AssumedRoleId>AROABENCH:cwl-audit</AssumedRoleId>'
                           '</AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>b</RequestId></ResponseMetadata></AssumeRoleResponse>')
        if action == "DescribeAlarms":
            return "xml", ('<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult>'
                           '<MetricAlarms/><CompositeAlarms/></DescribeAlarmsResult><ResponseMetadata><RequestId>b</RequestId>'
                           '</ResponseMetadata></DescribeAlarmsResponse>')
        if action == "ListSubscriptions":
            return "xml", ('<ListSubscriptionsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ListSubscriptionsResult>'
                           '<Subscriptions/></ListSubscriptionsResult><ResponseMetadata><RequestId>b</RequestId>'
                           '</ResponseMetadata></ListSubscriptionsResponse>')
        return "error", str(action)

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.calls += 1
                await asyncio.sleep(self.latency)
                kind, payload = self.answer(headers.get("x-amz-target"), body)
                if kind == "json":
                    data, ctype, status = json.dumps(payload).encode(), "application/x-amz-json-1.1", "200 OK"
                elif kind == "xml":
                    data, ctype, status = payload.encode(), "text/xml", "200 OK"
                else:
                    data, ctype, status = json.dumps({"__type": "UnknownOperation", "message": payload}).encode(), \
                        "application/x-amz-json-1.1", "400 Bad Request"
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nx-amzn-requestid: b\r\n"
                             f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def start(self):
        """Serves on a free loopback port in a thread; returns the port."""
        ready = threading.Event()
        box = {}

        def serve():
            loop = asyncio.new_event_loop()
            server = loop.run_until_complete(asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=1024))
            box["port"] = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait()
        return box["port"]


def run_case(binary, accounts, regions, latency, account_concurrency, concurrency):
    stub = Stub(accounts, latency)
    port = stub.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "-q", "collect", "--organization", "--member-role", "CwlAuditReadOnly", "--out", out,
               "--endpoint-url", f"http://127.0.0.1:{port}", "--regions", ",".join(REGIONS[:regions]),
               "--account-concurrency", str(account_concurrency), "--concurrency", str(concurrency),
               "--organizations-rate", "1000", "--sts-rate", "1000", "--max-attempts", "1"]
        started = time.monotonic()
        stub_cpu = resource.getrusage(resource.RUSAGE_SELF)
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        stub_cpu = after.ru_utime + after.ru_stime - stub_cpu.ru_utime - stub_cpu.ru_stime
        err = p.stderr.read().decode()
        code = os.waitstatus_to_exitcode(status)
        manifest = json.loads((pathlib.Path(out) / "cwl-audit-manifest.json").read_text()) if code in (0, 3) else {}
    collected = sum(1 for a in manifest.get("accounts", []) if a["status"] == "collected")
    return {
        "accounts": accounts + 1, "regions": regions, "latency_ms": round(latency * 1000),
        "account_concurrency": account_concurrency, "concurrency": concurrency, "exit": code,
        "collected": collected, "wall_s": round(wall, 2), "calls": stub.calls,
        "calls_per_s": round(stub.calls / wall), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "stub_cpu_s": round(stub_cpu, 2),
        "stderr": err.strip()[-300:],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--accounts", default="100,1000")
    ap.add_argument("--regions", type=int, default=17)
    ap.add_argument("--latency-ms", type=float, default=75)
    ap.add_argument("--account-concurrency", default=str(16))
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "target/bench/collect-org.md"))
    a = ap.parse_args()
    rows = []
    for n in [int(x) for x in a.accounts.split(",")]:
        for c in [int(x) for x in a.account_concurrency.split(",")]:
            r = run_case(a.binary, n, a.regions, a.latency_ms / 1000, c, a.concurrency)
            rows.append(r)
            print(json.dumps(r), flush=True)
    lines = ["| accounts | regions | latency | account conc. | region conc. | exit | wall s | calls | calls/s | CPU s | peak RSS MiB | stub CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['accounts']} | {r['regions']} | {r['latency_ms']} ms | {r['account_concurrency']} | {r['concurrency']} "
                     f"| {r['exit']} | {r['wall_s']} | {r['calls']} | {r['calls_per_s']} | {r['cpu_s']} | {r['peak_rss_mib']} | {r['stub_cpu_s']} |")
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
