"""Checks a `cwl-audit eval --format asff` report against botocore's Security Hub service model:
every line must be a valid `BatchImportFindings` input (botocore.validate.ParamValidator on the
operation's input shape: required members, types, enums, no unknown keys), within Security Hub's
limits (100 findings and 6 MB per call, 240 KB per finding), and one call's findings must belong
to one account and one ProductArn (the default product takes only the caller's own findings).
Usage: asff.py REPORT.jsonl. Prints one JSON summary line; exit 0 when all is valid.
"""
import json
import re
import sys

import botocore.session
from botocore.validate import ParamValidator


def enum_problems(value, shape, path):
    """Values outside a string shape's `enum` (ParamValidator checks types, not enums)."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for k, v in value.items():
            if k in shape.members:
                yield from enum_problems(v, shape.members[k], f"{path}.{k}")
    elif kind == "list" and isinstance(value, list):
        for i, v in enumerate(value):
            yield from enum_problems(v, shape.member, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for k, v in value.items():
            yield from enum_problems(v, shape.value, f"{path}.{k}")
    elif kind == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        yield f"{path}: {value!r} is not one of {shape.enum}"


def main():
    shape = (
        botocore.session.get_session()
        .get_service_model("securityhub")
        .operation_model("BatchImportFindings")
        .input_shape
    )
    validator = ParamValidator()
    problems = []
    batches = []
    with open(sys.argv[1], "rb") as f:
        raw_lines = f.read().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    for n, raw in enumerate(raw_lines, 1):
        try:
            batch = json.loads(raw)
        except ValueError as err:
            problems.append(f"line {n}: not JSON: {err}")
            continue
        report = validator.validate(batch, shape)
        if report.has_errors():
            problems.append(f"line {n}: {report.generate_report()}")
        problems += [f"line {n}: {p}" for p in enum_problems(batch, shape, "")]
        findings = batch.get("Findings", [])
        if not 1 <= len(findings) <= 100:
            problems.append(f"line {n}: {len(findings)} findings (1..100 per call)")
        if len(raw) > 6 * 1024 * 1024:
            problems.append(f"line {n}: {len(raw)} bytes (6 MB per call)")
        for i, fi in enumerate(findings):
            size = len(json.dumps(fi, ensure_ascii=False).encode())
            if size > 240 * 1024:
                problems.append(f"line {n} finding {i}: {size} bytes (240 KB per finding)")
            acct = fi.get("AwsAccountId", "")
            arn = fi.get("ProductArn", "")
            if not re.fullmatch(rf"arn:aws[a-z-]*:securityhub:[a-z0-9-]+:{acct}:product/{acct}/default", arn):
                problems.append(f"line {n} finding {i}: ProductArn {arn!r} is not {acct}'s default product")
        if len({(fi.get("AwsAccountId"), fi.get("ProductArn")) for fi in findings}) > 1:
            problems.append(f"line {n}: findings of several accounts or products in one call")
        batches.append(findings)
    ids = [fi.get("Id") for b in batches for fi in b]
    if len(ids) != len(set(ids)):
        problems.append("duplicate finding Ids")
    for p in problems[:30]:
        print("asff:", p, file=sys.stderr)
    print(json.dumps({"batches": [len(b) for b in batches], "problems": len(problems)}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
