"""Reading the JSON files the tools take: a missing, broken or foreign file ends the tool with one
line `<tool>: error: ...` and exit 2 (exit 1 stays each tool's own verdict: a gate, a bound)."""
import json
import sys


def fail(tool, message):
    print(f"{tool}: error: {message}", file=sys.stderr)
    sys.exit(2)


def load_json(path, tool, schema=None, member=None):
    """The document at path, or its `member` (e.g. "points", "benchmarks"); with `schema`, only a
    document that declares it."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        fail(tool, f"{path}: {e}")
    if schema and (not isinstance(doc, dict) or doc.get("schema") != schema):
        fail(tool, f"{path} is not a {schema} file")
    if member is not None:
        if not isinstance(doc, dict) or member not in doc:
            fail(tool, f"{path} has no '{member}'")
        return doc[member]
    return doc

