"""Runs the project's CI definitions the way their runners do, for tests/it/workflow.rs.

    python ci.py github-action ACTION_DIR --workspace DIR --inputs JSON [--preinstalled]
    python ci.py github-job WORKFLOW JOB --action-dir DIR --workspace DIR --event-name NAME [--event JSON]
                 [--matrix JSON --job-index I --job-total N] [--artifacts DIR] [--env JSON]
    python ci.py gitlab-job FILE JOB --workspace DIR [--variables JSON]
    python ci.py lint ACTION_DIR GITHUB_WORKFLOW GITLAB_FILE
    python ci.py lint-workflow ACTION_DIR GITHUB_WORKFLOW

Each prints a JSON trace on stdout: every step with its outcome, exit code and outputs, the job
result, the step summary and the commands the stand-ins were called with.

GitHub Actions: every `run:` block is written to a file and run with the runner's command line for
its shell (`shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; no shell in a workflow step
is `bash -e {0}`, without pipefail), in the workspace, with the step's `env` evaluated, fresh
GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files, RUNNER_TEMP and a HOME of its
own. Steps run while no earlier step failed unless their `if:` says otherwise (`success()` is implied,
as on GitHub), outputs reach `steps.<id>.outputs`, GITHUB_PATH lines reach later steps' PATH. A
`uses:` of this repository's action runs action.yml as a composite action; checkout is a no-op (the
test prepares the workspace); upload-sarif is recorded with the SARIF it would upload (and fails, as
the real one does, when the file is missing).

GitLab CI: the job's script lines are joined into one bash script under the runner's
`set -eo pipefail`, so the first failing line ends the job with its exit code; `variables:` are
expanded against the CI variables given.

`cargo install` and `apt-get` are stand-ins (see STUBS) on PATH: cargo checks the arguments a real
install needs and installs the cwl-audit binary the test built (CWL_AUDIT_BIN) instead of compiling
it; apt-get does nothing. Both log their arguments for the trace.

A matrix job runs one of its instances: `--matrix` is that instance's `matrix` context and
`--job-index`/`--job-total` its `strategy`, `--vars` the repository variables (`vars`); `needs:` is accepted (the test runs the jobs in order).
`aws-actions/configure-aws-credentials` is a stand-in that checks `role-to-assume` and
`aws-region` and sets AWS_REGION (the test gives the credentials and endpoint with `--env`, which
reaches every step); `actions/upload-artifact` copies `path` to `--artifacts`/NAME and
`actions/download-artifact` copies the artifacts matching `pattern` to `path`/NAME, as GitHub's do
without merge-multiple.

This is not a general runner. Anything these files do not use (another expression, context, step
key, shell or action) stops the run with exit 3 and a message, so a new construct in action.yml or
docs/ci/ gets the test taught about it, never a silent pass.
"""
import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

STEP_TIMEOUT = 600

# GitHub's command lines (docs: "Exit codes and error action preference"); None: no `shell:` given.
SHELLS = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    None: ["bash", "-e", "{0}"],
}

STUBS = {
    "cargo": r"""#!/usr/bin/env bash
# Stand-in for `cargo install` (tests/support/ci.py): checks what a real install of cwl-audit needs,
# then copies the binary the test-suite built instead of compiling it.
set -euo pipefail
echo "cargo $*" >> "$CI_SIM_LOG"
[ "${1:-}" = install ] || { echo "stand-in cargo: only 'cargo install' is simulated" >&2; exit 97; }
shift
root=${CARGO_HOME:-$HOME/.cargo} locked= eval_only= source=
while [ $# -gt 0 ]; do
  case $1 in
    --locked) locked=1 ;;
    --no-default-features) eval_only=1 ;;
    --root) root=$2; shift ;;
    --path) [ -f "$2/Cargo.toml" ] || { echo "stand-in cargo: no Cargo.toml in $2" >&2; exit 101; }; source=$2; shift ;;
    --git) source=$2; shift ;;
    *) echo "stand-in cargo: unexpected argument $1" >&2; exit 98 ;;
  esac
  shift
done
if [ -z "$locked" ] || [ -z "$source" ]; then
  echo "stand-in cargo: expected --locked and --path or --git" >&2
  exit 99
fi
# Both builds install the test's binary (a default build, which also evaluates); the log says
# which was asked for.
: "$eval_only"
mkdir -p "$root/bin"
cp "$CWL_AUDIT_BIN" "$root/bin/cwl-audit"
""",
    "apt-get": r"""#!/usr/bin/env bash
# Stand-in for apt-get (tests/support/ci.py): the image's packages are not what is tested.
echo "apt-get $*" >> "$CI_SIM_LOG"
""",
}


class Unsupported(Exception):
    """A construct this simulator does not know: the test must be taught about it."""


# --- GitHub expressions -------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<num>\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*))"
)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def tokens(text):
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"expression {text!r}: cannot read at {text[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class Expr:
    """Recursive descent over GitHub's expression syntax, as far as these files use it."""

    def __init__(self, text, ctx, failed):
        self.text, self.toks, self.i = text, tokens(text), 0
        self.ctx, self.failed = ctx, failed

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise Unsupported(f"expression {self.text!r}: expected {value or 'more'}")
        self.i += 1
        return tok

    def value(self):
        v = self.disjunction()
        if self.i != len(self.toks):
            raise Unsupported(f"expression {self.text!r}: trailing {self.toks[self.i][1]!r}")
        return v

    def disjunction(self):
        v = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            rhs = self.conjunction()
            v = v or rhs
        return v

    def conjunction(self):
        v = self.unary()
        while self.peek() == ("op", "&&"):
            self.take()
            rhs = self.unary()
            v = v and rhs
        return v

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return not self.unary()
        return self.comparison()

    def comparison(self):
        v = self.primary()
        if self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            rhs = self.primary()
            equal = loose_equal(v, rhs)
            return equal if op == "==" else not equal
        return v

    def primary(self):
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            v = self.disjunction()
            self.take(")")
            return v
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self.peek() == ("op", "("):
                self.take()
                self.take(")")
                return self.status(text)
            return self.lookup(text)
        raise Unsupported(f"expression {self.text!r}: unexpected {text!r}")

    def status(self, name):
        if name == "success":
            return not self.failed
        if name == "failure":
            return self.failed
        if name == "always":
            return True
        if name == "cancelled":
            return False
        raise Unsupported(f"function {name}() in {self.text!r}")

    def lookup(self, path):
        v = self.ctx
        parts = path.split(".")
        for n, part in enumerate(parts):
            if isinstance(v, dict) and part in v:
                v = v[part]
                continue
            # As on GitHub, an output never written and an event field not sent are null; any other
            # name is a typo or a context this simulator does not provide.
            open_ended = (parts[0] == "steps" and n == 3 and parts[2] == "outputs") or parts[:2] == ["github", "event"]
            if open_ended and (v is None or isinstance(v, dict)):
                return None
            raise Unsupported(f"{path} in {self.text!r}: not in the simulated contexts")
        return v


def loose_equal(a, b):
    # GitHub compares strings case-insensitively.
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def as_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def substitute(text, ctx, failed=False):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_text(Expr(m.group(1), ctx, failed).value()), text)


def condition(text, ctx, failed):
    """A step's `if:`: success() is implied unless a status function is called."""
    if text is None:
        return not failed
    if isinstance(text, bool):
        return text and not failed
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(re.search(rf"\b{f}\s*\(", text) for f in STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return bool(Expr(text, ctx, failed).value())


# --- GitHub runner ------------------------------------------------------------------------------

STEP_KEYS = {"name", "id", "if", "run", "shell", "env", "uses", "with", "working-directory"}


class Runner:
    """One job: its files, PATH additions, env additions and summary, shared by composite steps."""

    def __init__(self, workspace, action_dir, base_path, artifacts=None, extra_env=None):
        self.artifacts = Path(artifacts).resolve() if artifacts else None
        self.extra_env = dict(extra_env or {})
        self.workspace = Path(workspace).resolve()
        self.action_dir = Path(action_dir).resolve() if action_dir else None
        self.temp = Path(tempfile.mkdtemp(prefix="ci-sim-"))
        self.runner_temp = self.temp / "runner-temp"
        self.home = self.temp / "home"
        stubs = self.temp / "stubs"
        for d in (self.runner_temp, self.home, stubs):
            d.mkdir()
        for name, text in STUBS.items():
            (stubs / name).write_text(text)
            (stubs / name).chmod(0o755)
        self.log = self.temp / "commands.log"
        self.log.touch()
        # GitHub's Ubuntu images have ~/.cargo/bin on PATH, where `cargo install` puts binaries.
        self.path = [str(stubs), str(self.home / ".cargo" / "bin")] + base_path
        self.added_path = []
        self.added_env = {}
        self.summary = []
        self.count = 0

    def close(self):
        shutil.rmtree(self.temp, ignore_errors=True)

    def commands(self):
        return self.log.read_text().splitlines()

    def base_env(self):
        env = {
            "PATH": os.pathsep.join(list(reversed(self.added_path)) + self.path),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.temp),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.runner_temp),
            "CI_SIM_LOG": str(self.log),
            "CWL_AUDIT_BIN": os.environ["CWL_AUDIT_BIN"],
        }
        env.update(self.extra_env)
        env.update(self.added_env)
        return env

    def steps(self, steps, ctx, default_shell, composite):
        """Runs `steps`; returns (traces, failed)."""
        failed = False
        traces = []
        ctx = dict(ctx, steps={})
        for step in steps:
            unknown = set(step) - STEP_KEYS
            if unknown:
                raise Unsupported(f"step keys {sorted(unknown)} in {step}")
            trace = {"name": step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0],
                     "id": step.get("id"), "outcome": "skipped", "exit_code": None, "outputs": {}}
            traces.append(trace)
            if condition(step.get("if"), ctx, failed):
                if "run" in step:
                    self.run(step, ctx, default_shell, composite, trace)
                elif "uses" in step:
                    self.uses(step, ctx, trace)
                else:
                    raise Unsupported(f"step without run or uses: {step}")
                failed = failed or trace["outcome"] == "failure"
            if step.get("id"):
                ctx["steps"][step["id"]] = {"outputs": trace["outputs"], "outcome": trace["outcome"],
                                            "conclusion": trace["outcome"]}
        return traces, failed, ctx

    def files(self):
        self.count += 1
        d = self.runner_temp / "_runner_file_commands" / str(self.count)
        d.mkdir(parents=True)
        names = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        paths = {n: d / n.lower() for n in names}
        for p in paths.values():
            p.touch()
        return paths

    def run(self, step, ctx, default_shell, composite, trace):
        shell = step.get("shell", default_shell)
        if composite and shell is None:
            raise Unsupported("a composite action's run step needs `shell:`")
        if shell not in SHELLS:
            raise Unsupported(f"shell {shell!r}")
        script = substitute(step["run"], ctx)
        path = self.runner_temp / f"step-{self.count + 1}.sh"
        path.write_text(script)
        files = self.files()
        env = self.base_env()
        env.update({k: str(v) for k, v in files.items()})
        if composite:
            env["GITHUB_ACTION_PATH"] = str(self.action_dir)
        for k, v in (step.get("env") or {}).items():
            env[k] = substitute(as_text(v), ctx)
        cwd = self.workspace / step.get("working-directory", ".")
        cmd = [str(path) if a == "{0}" else a for a in SHELLS[shell]]
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        trace.update(exit_code=p.returncode, outcome="success" if p.returncode == 0 else "failure",
                     stdout=p.stdout, stderr=p.stderr, command=cmd[:-1] + ["FILE"],
                     outputs=read_outputs(files["GITHUB_OUTPUT"]))
        self.added_env.update(read_outputs(files["GITHUB_ENV"]))
        self.added_path += [l for l in files["GITHUB_PATH"].read_text().splitlines() if l.strip()]
        self.summary.append(files["GITHUB_STEP_SUMMARY"].read_text())

    def uses(self, step, ctx, trace):
        action = step["uses"]
        given = {k: substitute(as_text(v), ctx) for k, v in (step.get("with") or {}).items()}
        trace["with"] = given
        name = action.split("@")[0]
        if action == "./" or name.endswith("/cwl-audit"):
            self.composite(given, ctx, trace)
        elif name == "actions/checkout":
            trace["outcome"] = "success"
        elif name == "aws-actions/configure-aws-credentials":
            missing = [k for k in ("role-to-assume", "aws-region") if not given.get(k)]
            if missing:
                trace.update(outcome="failure", stderr=f"missing inputs {missing}")
                return
            self.added_env["AWS_REGION"] = given["aws-region"]
            trace["outcome"] = "success"
        elif name == "actions/upload-artifact":
            if self.artifacts is None:
                raise Unsupported("upload-artifact without --artifacts")
            src = self.workspace / given["path"]
            if not src.exists():
                trace.update(outcome="failure" if given.get("if-no-files-found") == "error" else "success",
                             stderr=f"No files were found with the provided path: {given['path']}")
                return
            dest = self.artifacts / given["name"]
            if dest.exists():
                trace.update(outcome="failure", stderr=f"an artifact named {given['name']} already exists")
                return
            shutil.copytree(src, dest)
            trace.update(outcome="success", uploaded_artifact=given["name"])
        elif name == "actions/download-artifact":
            if self.artifacts is None:
                raise Unsupported("download-artifact without --artifacts")
            if given.get("merge-multiple") or "name" in given:
                raise Unsupported("download-artifact with name or merge-multiple")
            dest = self.workspace / given.get("path", ".")
            names = sorted(n.name for n in self.artifacts.iterdir() if fnmatch.fnmatch(n.name, given.get("pattern", "*")))
            for n in names:
                shutil.copytree(self.artifacts / n, dest / n)
            trace.update(outcome="success", downloaded=names)
        elif name == "github/codeql-action/upload-sarif":
            sarif = self.workspace / given.get("sarif_file", "../results")
            if not sarif.is_file():
                trace.update(outcome="failure", stderr=f"Path does not exist: {sarif}")
                return
            doc = json.loads(sarif.read_text())
            run = doc["runs"][0]
            trace.update(outcome="success", uploaded={
                "results": len(run.get("results", [])),
                "executionSuccessful": [i.get("executionSuccessful") for i in run.get("invocations", [])],
                "automationDetails": run.get("automationDetails"),
            })
        else:
            raise Unsupported(f"action {action}")

    def composite(self, given, ctx, trace):
        meta = yaml.safe_load((self.action_dir / "action.yml").read_text())
        if meta["runs"]["using"] != "composite":
            raise Unsupported(f"runs.using {meta['runs']['using']}")
        declared = meta.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise Unsupported(f"inputs {sorted(unknown)} are not declared in action.yml")
        inputs = {}
        for name, spec in declared.items():
            if name in given:
                inputs[name] = given[name]
            elif spec.get("required") and "default" not in spec:
                raise Unsupported(f"required input {name} not given")
            else:
                inputs[name] = as_text(spec.get("default"))
        inner_ctx = dict(ctx, inputs=inputs, github=dict(ctx["github"], action_path=str(self.action_dir)))
        traces, failed, done = self.steps(meta["runs"]["steps"], inner_ctx, None, composite=True)
        outputs = {k: substitute(as_text(v["value"]), done) for k, v in (meta.get("outputs") or {}).items()}
        trace.update(outcome="failure" if failed else "success", steps=traces, outputs=outputs)


def read_outputs(path):
    """`name=value` lines and `name<<DELIMITER` blocks, as the runner reads them."""
    out = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        elif line.strip():
            raise Unsupported(f"output line {line!r}")
        i += 1
    return out


def base_path(preinstalled):
    path = ["/usr/local/bin", "/usr/bin", "/bin"]
    if preinstalled:
        path.insert(0, str(Path(os.environ["CWL_AUDIT_BIN"]).parent))
    return path


def github_job(workflow, job_name, runner, event_name, event, matrix=None, index=0, total=1, vars=None):
    jobs = workflow["jobs"]
    job = jobs[job_name]
    unknown = set(job) - {"runs-on", "steps", "if", "defaults", "name", "permissions", "env", "strategy", "needs"}
    if unknown:
        raise Unsupported(f"job keys {sorted(unknown)}")
    strategy = job.get("strategy") or {}
    if set(strategy) - {"matrix", "fail-fast"}:
        raise Unsupported(f"strategy keys {sorted(strategy)}")
    declared = strategy.get("matrix") or {}
    if set(declared) - {"shard"} or any(not isinstance(v, list) for v in declared.values()):
        raise Unsupported(f"matrix {declared}")
    matrix = matrix or {}
    if set(matrix) != set(declared) or any(matrix[k] not in declared[k] for k in matrix):
        raise Unsupported(f"--matrix {matrix} is not an instance of {declared}")
    ctx = {
        "github": {"event_name": event_name, "event": event, "workspace": str(runner.workspace)},
        "runner": {"temp": str(runner.runner_temp), "os": "Linux"},
        "matrix": matrix,
        "strategy": {"job-index": index, "job-total": total, "fail-fast": strategy.get("fail-fast", True)},
        "vars": dict(vars or {}),
    }
    if not condition(job.get("if"), ctx, False):
        return {"result": "skipped", "steps": []}
    runner.added_env.update({k: substitute(as_text(v), ctx) for k, v in (workflow.get("env") or {}).items()})
    runner.added_env.update({k: substitute(as_text(v), ctx) for k, v in (job.get("env") or {}).items()})
    shell = ((job.get("defaults") or workflow.get("defaults") or {}).get("run") or {}).get("shell")
    traces, failed, _ = runner.steps(job["steps"], ctx, shell, composite=False)
    return {"result": "failure" if failed else "success", "steps": traces}


def finish(runner, trace):
    trace["summary"] = "".join(runner.summary)
    trace["commands"] = runner.commands()
    print(json.dumps(trace, indent=1))


# --- GitLab runner ------------------------------------------------------------------------------

def expand(value, env):
    """GitLab expands $NAME and ${NAME} in `variables:` (unknown names become empty)."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), value)


def gitlab_job(doc, job_name, workspace, variables):
    job = doc[job_name]
    runner = Runner(workspace, None, base_path(False))
    try:
        env = runner.base_env()
        for k in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "RUNNER_TEMP"):
            env.pop(k)
        env.update({"CI_PROJECT_DIR": str(runner.workspace), "GITLAB_CI": "true"})
        env.update(variables)
        for scope in (doc.get("variables") or {}, job.get("variables") or {}):
            for k, v in scope.items():
                env[k] = expand(as_text(v), env)
        lines = list(job.get("before_script", doc.get("before_script", []))) + list(job["script"])
        # What the runner's bash shell writer emits: errexit and pipefail once, then each line echoed
        # and run in the same shell.
        script = "set -eo pipefail\nset +o noclobber\n"
        for line in lines:
            script += f"echo {quote('$ ' + line)}\n{line}\n"
        path = runner.temp / "script.sh"
        path.write_text(script)
        p = subprocess.run(["bash", "--noprofile", "--norc", str(path)], cwd=runner.workspace,
                           env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        print(json.dumps({
            "exit_code": p.returncode, "result": "success" if p.returncode == 0 else "failure",
            "stdout": p.stdout, "stderr": p.stderr, "commands": runner.commands(),
            "variables": {k: env[k] for k in (job.get("variables") or {})},
        }, indent=1))
    finally:
        runner.close()


# --- Linting -----------------------------------------------------------------------------------

def lint(action_dir, github_workflow, gitlab_file):
    """actionlint (with shellcheck on every `run:` block) on the workflow and on the action, plus
    `bash -n` on every block and shellcheck on each GitLab job's script as the runner joins it.

    actionlint lints workflows, not action metadata, so the action is checked twice over: its steps
    lifted into a reusable workflow whose inputs are the action's (expressions, contexts, shell), and
    the workflow's `uses:` of it pointed at `./`, where actionlint checks the `with:` keys against
    action.yml's inputs.
    """
    bindir = Path(sys.executable).parent
    actionlint, shellcheck = bindir / "actionlint", bindir / "shellcheck"
    for tool in (actionlint, shellcheck):
        if not tool.exists():
            raise Unsupported(f"{tool} is missing (make tools installs it)")
    action = yaml.safe_load((Path(action_dir) / "action.yml").read_text())
    workflow_text = Path(github_workflow).read_text()
    workflow = yaml.safe_load(workflow_text)
    out = {"bash_n": [], "shellcheck_gitlab": []}
    with tempfile.TemporaryDirectory(prefix="ci-lint-") as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".github" / "workflows").mkdir(parents=True)
        shutil.copy(Path(action_dir) / "action.yml", repo / "action.yml")
        local = re.sub(r"uses: [^\s]+/cwl-audit@\S+", "uses: ./", workflow_text)
        if local == workflow_text:
            raise Unsupported(f"{github_workflow} does not use the cwl-audit action")
        (repo / ".github" / "workflows" / "example.yml").write_text(local)
        inputs = {k: {"type": "string", "required": False, "default": as_text(v.get("default"))}
                  for k, v in (action.get("inputs") or {}).items()}
        lifted = {"name": "action steps", "on": {"workflow_call": {"inputs": inputs}},
                  "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}}}
        (repo / ".github" / "workflows" / "action-steps.yml").write_text(yaml.safe_dump(lifted, sort_keys=False))
        p = subprocess.run([str(actionlint), "-oneline", "-no-color", "-shellcheck", str(shellcheck), "-pyflakes", ""],
                           cwd=repo, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        out["actionlint"] = {"exit_code": p.returncode, "output": p.stdout + p.stderr}
        blocks = [("action.yml", s) for s in action["runs"]["steps"]]
        blocks += [(f"{github_workflow} job {name}", s) for name, job in workflow["jobs"].items() for s in job["steps"]]
        for where, step in blocks:
            if "run" in step:
                out["bash_n"].append(bash_n(f"{where}: {step.get('name') or step['run'].splitlines()[0]}", step["run"]))
        gitlab = yaml.safe_load(Path(gitlab_file).read_text())
        for name, job in gitlab.items():
            if isinstance(job, dict) and "script" in job:
                script = "\n".join(list(job.get("before_script", [])) + list(job["script"])) + "\n"
                out["bash_n"].append(bash_n(f"{gitlab_file} job {name}", script))
                # The runner's own lines come first; shellcheck sees the job's as they run.
                p = subprocess.run([str(shellcheck), "-s", "bash", "-"], input="set -eo pipefail\n" + script,
                                   capture_output=True, text=True, timeout=STEP_TIMEOUT)
                out["shellcheck_gitlab"].append({"job": name, "exit_code": p.returncode, "output": p.stdout + p.stderr})
    print(json.dumps(out, indent=1))


def lint_workflow(action_dir, github_workflow):
    """actionlint (with shellcheck) and `bash -n` on one more workflow, with its `uses:` of the
    cwl-audit action pointed at `./` so that the `with:` keys are checked against action.yml."""
    bindir = Path(sys.executable).parent
    actionlint, shellcheck = bindir / "actionlint", bindir / "shellcheck"
    for tool in (actionlint, shellcheck):
        if not tool.exists():
            raise Unsupported(f"{tool} is missing (make tools installs it)")
    text = Path(github_workflow).read_text()
    workflow = yaml.safe_load(text)
    out = {"bash_n": []}
    with tempfile.TemporaryDirectory(prefix="ci-lint-") as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".github" / "workflows").mkdir(parents=True)
        shutil.copy(Path(action_dir) / "action.yml", repo / "action.yml")
        local = re.sub(r"uses: [^\s]+/cwl-audit@\S+", "uses: ./", text)
        (repo / ".github" / "workflows" / "workflow.yml").write_text(local)
        p = subprocess.run([str(actionlint), "-oneline", "-no-color", "-shellcheck", str(shellcheck), "-pyflakes", ""],
                           cwd=repo, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        out["actionlint"] = {"exit_code": p.returncode, "output": p.stdout + p.stderr}
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                where = f"{github_workflow} job {name}: {step.get('name') or step['run'].splitlines()[0]}"
                out["bash_n"].append(bash_n(where, step["run"]))
    print(json.dumps(out, indent=1))


def bash_n(where, script):
    p = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    return {"where": where, "exit_code": p.returncode, "stderr": p.stderr}


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("github-action")
    a.add_argument("action_dir")
    a.add_argument("--workspace", required=True)
    a.add_argument("--inputs", default="{}")
    a.add_argument("--preinstalled", action="store_true")
    j = sub.add_parser("github-job")
    j.add_argument("workflow")
    j.add_argument("job")
    j.add_argument("--action-dir", required=True)
    j.add_argument("--workspace", required=True)
    j.add_argument("--event-name", required=True)
    j.add_argument("--event", default="{}")
    j.add_argument("--matrix", default=None)
    j.add_argument("--job-index", type=int, default=0)
    j.add_argument("--job-total", type=int, default=1)
    j.add_argument("--artifacts", default=None)
    j.add_argument("--env", default="{}")
    j.add_argument("--vars", default="{}")
    g = sub.add_parser("gitlab-job")
    g.add_argument("file")
    g.add_argument("job")
    g.add_argument("--workspace", required=True)
    g.add_argument("--variables", default="{}")
    lt = sub.add_parser("lint")
    lt.add_argument("action_dir")
    lt.add_argument("github_workflow")
    lt.add_argument("gitlab_file")
    lw = sub.add_parser("lint-workflow")
    lw.add_argument("action_dir")
    lw.add_argument("github_workflow")
    args = ap.parse_args()
    try:
        if args.cmd == "github-action":
            # The action as a workflow would use it: one step, `uses: ./` with the inputs.
            workflow = {"jobs": {"job": {"runs-on": "ubuntu-latest",
                                         "steps": [{"uses": "./", "with": json.loads(args.inputs)}]}}}
            runner = Runner(args.workspace, args.action_dir, base_path(args.preinstalled))
            trace = github_job(workflow, "job", runner, "push", {})
            finish(runner, trace)
            runner.close()
        elif args.cmd == "github-job":
            workflow = yaml.safe_load(Path(args.workflow).read_text())
            runner = Runner(args.workspace, args.action_dir, base_path(False), args.artifacts, json.loads(args.env))
            trace = github_job(workflow, args.job, runner, args.event_name, json.loads(args.event),
                               json.loads(args.matrix) if args.matrix else None, args.job_index, args.job_total,
                               json.loads(args.vars))
            finish(runner, trace)
            runner.close()
        elif args.cmd == "lint":
            lint(args.action_dir, args.github_workflow, args.gitlab_file)
        elif args.cmd == "lint-workflow":
            lint_workflow(args.action_dir, args.github_workflow)
        else:
            doc = yaml.safe_load(Path(args.file).read_text())
            gitlab_job(doc, args.job, args.workspace, json.loads(args.variables))
    except Unsupported as e:
        print(f"ci.py: not simulated: {e}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
