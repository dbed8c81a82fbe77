#!/usr/bin/env python3
"""Cross-check: real OPA decides every account exactly as cwl-audit (regorus) does.

Usage: opa-crosscheck.py CWL_AUDIT_BINARY DIR [DIR...]

Each DIR is one snapshot set (a directory searched like `cwl-audit eval DIR`); a DIR whose
subdirectories are all snapshot sets (the scenario copies written by the Rust tests with
CWL_AUDIT_KEEP_SCENARIOS) is expanded into them. For every set, the script

1. runs `cwl-audit eval SET --format json` for the verdicts of our evaluator;
2. loads the same policies into OPA (PyPI opa-golib-python-bindings, which embeds OPA's Go engine),
   builds the same input and data from the same files (snapshot-format.md, "What policies see"), with
   the same benchmark data (data.cwl_audit.benchmark and .references, as `cwl-audit builtin` answers
   for the benchmark the set is decided by), and evaluates every check's `decision`;
3. compares verdict, message, link, resource, chain, notes and the location's account, region and
   JSON pointer.

A scenario set is decided by the benchmark its test used (its `.benchmark` file, else the default);
a set given by name (the bundled snapshots) by the default and as few other benchmarks as make every
reference pattern of every check decide once (benchmarks that choose the same patterns decide alike).

OPA decides without the shortcuts cwl-audit takes: lib.chain's `decision` becomes `_full_decision`
(every chain outcome, no fast paths), lib.benchmark's `_verdicts` becomes `_full_verdicts` (every other
benchmark version's pattern decided from scratch), and OPA's input has no `index` tables (snapshots loaded by
cwl-audit have them; the policies then scan instead of looking up). Agreement therefore also shows
that the fast paths and the lookup tables never change a decision.

The `cwl.*` builtins are ours and OPA does not have them: they are registered in OPA as stubs that
ask `cwl-audit builtin` (a coprocess that answers one JSON call per line with the real
implementation), so both engines see the same answers and only the Rego semantics are compared.
The sets are decided in parallel, one worker process per core (CROSSCHECK_JOBS=N to choose).
Exit 0 when every decision agrees, 1 with a diff per disagreement, 2 on a usage or setup problem.
"""
import concurrent.futures
import json
import multiprocessing
import os
import pathlib
import re
import subprocess
import sys

try:
    from opa_bindings import OpaEngine, OpaUndefinedError
except ImportError:
    print("opa-crosscheck: opa-golib-python-bindings is missing (run: make tools)", file=sys.stderr)
    sys.exit(2)

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMPARED = ("verdict", "message", "link", "resource", "chain", "notes")


class Builtins:
    """Answers cwl.* calls with cwl-audit's own implementation, memoized."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "builtin"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.memo = {}

    def call(self, name, args):
        key = json.dumps([name, args], sort_keys=True)
        if key not in self.memo:
            self.proc.stdin.write(json.dumps({"name": name, "args": args}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("cwl-audit builtin stopped answering")
            answer = json.loads(line)
            if "error" in answer:
                raise RuntimeError(f"{name}: {answer['error']}")
            self.memo[key] = answer["result"]
        return self.memo[key]

    def ask(self, question):
        self.proc.stdin.write(json.dumps(question) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"{question}: {answer['error']}")
        return answer

    def names(self):
        return self.ask({"list": True})["builtins"]

    def benchmarks(self):
        """Every `--benchmark` id, and the default."""
        a = self.ask({"benchmarks": True})
        return a["benchmarks"], a["default"]

    def benchmark_data(self, benchmark):
        """What `cwl-audit eval --benchmark BENCHMARK` gives the policies under data.cwl_audit."""
        return self.ask({"benchmark_data": benchmark})["result"]["cwl_audit"]


FAST = """decision(params) := d if {
	d := cwl.chain_decision(input, _accounts, params)
	is_object(d)
} else := _decide_from(covering_outcomes(p), p) if p := _prepared(params)"""
FULL = "decision(params) := _full_decision(params)"
# lib.benchmark decides in Rego too (not by its builtin), and the other benchmark versions'
# patterns from scratch.
FAST_BENCHMARK = """decision(id, params) := d if {
	d := cwl.benchmark_decision(input, _cwl_audit, id, params)
	is_object(d)
} else := _decision(id, params)"""
FULL_BENCHMARK = "decision(id, params) := _decision(id, params)"
FAST_VERSIONS = "_verdicts(gs, ci, p, d0) := _quick_verdicts(gs, ci, p, d0)"
FULL_VERSIONS = "_verdicts(gs, ci, p, d0) := _full_verdicts(gs, ci, p)"


def policies():
    """The built-in policies as the binary embeds them (checks and libraries, not tests), except
    that OPA gets lib.chain's `decision` without its shortcuts (`_full_decision`, every outcome), so
    the comparison also checks that the shortcuts cwl-audit takes never change a decision."""
    out = []
    for p in sorted((ROOT / "policies").rglob("*.rego")):
        # Test files and fixtures are for `cwl-audit test`; eval never loads them.
        if not p.name.endswith(("_test.rego", "_fixture.rego")):
            text = p.read_text()
            for name, fast, full in (("chain.rego", FAST, FULL), ("benchmark.rego", FAST_VERSIONS, FULL_VERSIONS),
                                     ("benchmark.rego", FAST_BENCHMARK, FULL_BENCHMARK)):
                if p.name == name:
                    if fast not in text:
                        raise RuntimeError(f"{p}: the line `{fast}` is gone; update {__file__}")
                    text = text.replace(fast, full)
            out.append((p.relative_to(ROOT).as_posix(), text))
    return out


def checks(sources):
    """(rule id, package) of every policy whose METADATA has custom.id."""
    found = []
    for _, text in sources:
        m_id = re.search(r"^#\s+id:\s*(\S+)", text, re.M)
        m_pkg = re.search(r"^package\s+(\S+)", text, re.M)
        if m_id and m_pkg:
            found.append((m_id.group(1), m_pkg.group(1)))
    return found


def covering_benchmarks(builtins, benchmarks, default):
    """The default benchmark, then as few others as make every check's every reference pattern (and
    the fallback of a check a benchmark has no pattern for) decide once: benchmarks that choose the
    same patterns decide the same way, and OPA is slow."""
    def chosen(b):
        refs = builtins.benchmark_data(b)["references"]
        return {(rule, next((i for i, g in enumerate(gs) if b in g["benchmarks"]), "fallback"))
                for rule, gs in refs.items()}
    of = {b: chosen(b) for b in benchmarks}
    picked, seen = [default], set(of[default])
    while True:
        gain, best = max(((len(of[b] - seen), b) for b in benchmarks if b not in picked), default=(0, None))
        if gain == 0:
            return picked
        picked.append(best)
        seen |= of[best]


def snapshot_sets(dirs, benchmarks, default):
    """(set, benchmark) pairs: a scenario set is decided by the benchmark its `.benchmark` file names
    (the one its test used), else the default; a set given by name (the bundled snapshots) by each of
    `benchmarks`."""
    for d in map(pathlib.Path, dirs):
        subs = [s for s in sorted(d.iterdir()) if s.is_dir()] if d.is_dir() else []
        if subs and all(any(x.is_dir() for x in s.iterdir()) for s in subs):
            for s in subs:
                named = s / ".benchmark"
                yield s, named.read_text().strip() if named.is_file() else default
        else:
            for b in benchmarks:
                yield d, b


def ours(binary, snapset, benchmark):
    r = subprocess.run([binary, "eval", str(snapset), "--format", "json", "--benchmark", benchmark],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode not in (0, 1, 2):
        raise RuntimeError(f"cwl-audit eval {snapset} exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def accounts_of(snapset, report):
    """The input of every account, from the files our evaluator used (unusable ones left out)."""
    bad = {n["path"] for n in report["notifications"] if n["level"] == "error" and n.get("path")}
    accounts = {}
    for f in sorted(pathlib.Path(snapset).rglob("*.json")):
        shown = str(f.relative_to(ROOT)) if f.is_absolute() and ROOT in f.parents else str(f)
        if shown in bad or any(part.startswith(".") for part in f.parts):
            continue
        doc = json.loads(f.read_text())
        doc["path"] = shown
        a = accounts.setdefault(doc["account_id"], {
            "account_id": doc["account_id"], "partition": doc["partition"], "regions": {}})
        a["regions"][doc["region"]] = doc
    return accounts


def compare(shown, snapset, report, engine, rules):
    problems = []
    by_key = {(r["rule_id"], r["account_id"]): r for r in report["results"]}
    accounts = accounts_of(snapset, report)
    for (rule_id, package) in rules:
        for account, inp in accounts.items():
            mine = by_key.get((rule_id, account))
            if mine is None:
                continue
            try:
                theirs = engine.eval_document(f"{package}.decision", inp)
            except OpaUndefinedError:
                theirs = None
            if theirs is None:
                problems.append(f"{shown}: {rule_id} {account}: OPA decided nothing, cwl-audit said {mine['verdict']}")
                continue
            for key in COMPARED:
                a, b = mine.get(key), theirs.get(key)
                if key == "chain" and b is None:
                    b = []
                if key == "notes" and b is None:
                    b = []
                if a != b and not (a in (None, "") and b in (None, "")):
                    problems.append(f"{shown}: {rule_id} {account}: {key} differs\n  cwl-audit: {json.dumps(a)[:400]}\n  OPA:       {json.dumps(b)[:400]}")
            loc_a = mine.get("location") or {}
            loc_b = theirs.get("location") or {}
            if loc_b and (loc_a.get("pointer"), loc_a.get("account_id"), loc_a.get("region")) != (
                    loc_b.get("pointer"), loc_b.get("account_id"), loc_b.get("region")):
                # Our evaluator places a location whose snapshot is not loaded at the account's first
                # snapshot; OPA's raw decision keeps what the policy said. Compare when both exist.
                if (loc_b.get("account_id"), loc_b.get("region")) in {
                        (a, r) for a, x in accounts.items() for r in x["regions"]}:
                    problems.append(f"{shown}: {rule_id} {account}: location differs: {loc_a} vs {loc_b}")
    return problems, len(accounts)


# One OPA engine and one `cwl-audit builtin` coprocess per worker process; each snapshot set is
# decided on its own, so the sets are spread over the cores (OPA's Go engine decides one query at
# a time). Workers are spawned, not forked: a forked Go runtime is not safe.
_WORKER = {}


def _init_worker(binary):
    _WORKER["binary"] = binary
    _WORKER["builtins"] = Builtins(binary)
    _WORKER["sources"] = policies()
    _WORKER["rules"] = checks(_WORKER["sources"])


def _cross_check(task):
    snapset, benchmark = task
    binary, builtins = _WORKER["binary"], _WORKER["builtins"]
    sources, rules = _WORKER["sources"], _WORKER["rules"]
    report = ours(binary, snapset, benchmark)
    engine = OpaEngine()
    try:
        for path, text in sources:
            engine.add_policy(path, text)
        for name, arity in builtins.names():
            engine.register_function(name, (lambda n: lambda *args: builtins.call(n, list(args)))(name), arity=arity)
        engine.add_data({"cwl_audit": {"accounts": accounts_of(snapset, report), **builtins.benchmark_data(benchmark)}})
        p, n = compare(f"{snapset} (--benchmark {benchmark})", snapset, report, engine, rules)
    finally:
        engine.close()
    return p, n * len(rules)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary = str(pathlib.Path(argv[1]).resolve())
    builtins = Builtins(binary)
    benchmarks, default = builtins.benchmarks()
    benchmarks = covering_benchmarks(builtins, benchmarks, default)
    tasks = list(snapshot_sets(argv[2:], benchmarks, default))
    jobs = int(os.environ.get("CROSSCHECK_JOBS", os.cpu_count() or 1))
    if jobs > 1 and len(tasks) > 1:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                                    initializer=_init_worker, initargs=(binary,)) as pool:
            results = list(pool.map(_cross_check, tasks))
    else:
        _init_worker(binary)
        results = [_cross_check(t) for t in tasks]
    problems = [p for ps, _ in results for p in ps]
    decisions = sum(n for _, n in results)
    for p in problems:
        print(p)
    print(f"opa-crosscheck: {len(tasks)} snapshot sets (a set per benchmark it was decided by), {decisions} decisions, {len(problems)} disagreements")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
