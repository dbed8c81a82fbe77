"""Parses Terraform files with python-hcl2, a real HCL2 parser, for tests/it/remediate.rs.

Prints one JSON object: each file's path to its parsed body. String values are the strings'
values (quotes removed, escape sequences resolved; python-hcl2 leaves `$${` and `%%{` as written,
which the test reads as Terraform does); expressions stay `${...}`; blocks carry `__is_block__`.
"""
import json
import sys

import hcl2
from hcl2.utils import SerializationOptions

OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)

out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        out[path] = hcl2.loads(f.read(), serialization_options=OPTIONS)
json.dump(out, sys.stdout)
