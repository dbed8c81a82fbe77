"""Checks a `cwl-audit eval --format ocsf` report with py-ocsf-models, the OCSF models Prowler's
OCSF output is built on. Usage: ocsf.py REPORT.json. Exit 0 when every finding validates.

pydantic ignores keys a model does not declare, so validation alone would let a misspelt field
pass; every key written is also checked to be one the model (or the declared `cloud` profile)
knows. Beyond the model: the class is Compliance Finding, type_uid = class_uid * 100 +
activity_id, and the verdict is never shown as a pass unless it is one.
"""
import json
import sys
import typing

from pydantic import BaseModel
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud

# Attributes the `cloud` profile adds (metadata.profiles names it); the rest are the class's.
PROFILE_FIELDS = {"cloud": Cloud}
# OCSF 1.5 attributes that py-ocsf-models 0.10 does not model: `compliance.status` is the caption
# OCSF defines beside every enum `*_id` (here `compliance.status_id`); checked against it below.
NOT_MODELLED = {".compliance.status"}


def model_of(annotation):
    """The pydantic model inside Optional[...] / list[...] annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        m = model_of(arg)
        if m is not None:
            return m
    return None


def unknown_keys(model, value, path):
    """Keys of `value` (a dict, or list of dicts) that `model` does not declare, recursively."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from unknown_keys(model, v, f"{path}[{i}]")
        return
    if not isinstance(value, dict):
        return
    fields = model.model_fields
    for key, v in value.items():
        if key not in fields:
            yield f"{path}.{key}"
            continue
        sub = model_of(fields[key].annotation)
        if sub is not None:
            yield from unknown_keys(sub, v, f"{path}.{key}")


def main():
    events = json.load(open(sys.argv[1], encoding="utf-8"))
    if not isinstance(events, list):
        sys.exit("ocsf: the report is not a JSON array")
    problems = []
    for i, e in enumerate(events):
        where = f"[{i}]"
        try:
            ComplianceFinding.model_validate(e)
        except Exception as err:  # pydantic's ValidationError, with every field that failed
            problems.append(f"{where}: {err}")
            continue
        profiles = e.get("metadata", {}).get("profiles", [])
        for name, model in PROFILE_FIELDS.items():
            if name in e:
                if name not in profiles:
                    problems.append(f"{where}.{name}: profile {name} not declared")
                try:
                    model.model_validate(e[name])
                except Exception as err:
                    problems.append(f"{where}.{name}: {err}")
        rest = {k: v for k, v in e.items() if k not in PROFILE_FIELDS}
        problems += [
            f"unknown key {k}"
            for k in unknown_keys(ComplianceFinding, rest, where)
            if k[len(where):] not in NOT_MODELLED
        ]
        caption = {1: "Pass", 2: "Warning", 3: "Fail"}.get(e["compliance"].get("status_id"))
        if e["compliance"].get("status") != caption:
            problems.append(f"{where}.compliance.status {e['compliance'].get('status')!r} != {caption!r}")
        if e["class_uid"] != 2003 or e["type_uid"] != e["class_uid"] * 100 + e["activity_id"]:
            problems.append(f"{where}: class_uid/type_uid {e['class_uid']}/{e['type_uid']}")
        verdict = e.get("unmapped", {}).get("cwl_audit", {}).get("verdict")
        expected = {"pass": (1, 4), "fail": (3, 1), "unknown": (2, 1)}.get(verdict)
        got = (e["compliance"].get("status_id"), e.get("status_id"))
        if expected is None or got != expected or e.get("status_code") != verdict:
            problems.append(f"{where}: verdict {verdict!r} shown as compliance/status {got}")
    for p in problems[:30]:
        print("ocsf:", p, file=sys.stderr)
    print(f"ocsf: {len(events)} finding(s), {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
