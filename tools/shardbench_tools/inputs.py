"""Reading the JSON files the tools take: a missing, broken or foreign file ends the tool with one
line `<tool>: error: ...` and exit 2 (exit 1 stays each tool's own verdict: a gate, a bound)."""
import json
import numbers
import signal
import sys

# A report piped into `head` ends quietly when the reader closes, as a Unix filter does, rather
# than with a BrokenPipeError traceback.
if hasattr(signal, "SIGPIPE"):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def fail(tool, message):
    print(f"{tool}: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_json(path):
    """The JSON document at path; OSError as open gives it (it names the path), ValueError naming the
    file when it is not JSON (json's own words do not say which file)."""
    with open(path) as f:
        try:
            return json.load(f)
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"{path}: not JSON ({e})") from None


def env_of(doc):
    """A result file's env block, or {} where it is missing or not a mapping (it is descriptive only)."""
    env = doc.get("env")
    return env if isinstance(env, dict) else {}


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
    if schema == "shardbench.result/1":
        try:
            check_result(doc, path)
        except ValueError as e:
            fail(tool, str(e))
    if member is not None:
        if not isinstance(doc, dict) or member not in doc:
            fail(tool, f"{path} has no '{member}'")
        return doc[member]
    return doc


# What the tools read of a result file's point (results/README.md has the whole schema): every
# point's shape and status; a measured ("ok") point's numbers too. A file cut short or written by
# hand that lacks one of them is refused up front, so no tool stops half-way with a traceback (or,
# for the gate, with exit 1, which would read as a regression).
POINT_SHAPE = ("path", "variant", "backend", "dtype", "tp", "sp_ulysses", "sp_ring", "batch", "seq", "vocab")
POINT_MEASURED = ("time_us.median", "time_us.samples", "memory.tracked_peak_bytes", "op_bytes", "busbw_gbps",
                  "effective_gbps")
FRONTIER_ROW = ("path", "variant", "sp_ulysses", "sp_ring", "measured_seq", "predicted_seq")


def _field(obj, dotted):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _missing(obj, fields):
    """The fields of obj that are absent, or not numbers where the schema has numbers."""
    out = []
    for f in fields:
        v = _field(obj, f)
        if v is None:
            out.append(f)
        elif f == "time_us.samples":
            if not isinstance(v, list) or not v or not all(_number(x) for x in v):
                out.append(f)
        elif f not in ("path", "variant", "backend", "dtype") and not _number(v):
            out.append(f)
    return out


def check_result(doc, path):
    """ValueError naming the file and the first point that lacks what the tools read."""
    if not isinstance(doc, dict) or doc.get("schema") != "shardbench.result/1":
        raise ValueError(f"{path} is not a shardbench.result/1 file")
    points = doc.get("points")
    if not isinstance(points, list):
        raise ValueError(f"{path} has no 'points' list")
    for n, p in enumerate(points):
        if not isinstance(p, dict) or not isinstance(p.get("status"), str):
            raise ValueError(f"{path}: point {n} has no status")
        need = POINT_SHAPE + (POINT_MEASURED if p["status"] == "ok" else ())
        lack = _missing(p, need)
        if lack:
            name = f"{p['path']}/{p['variant']}, " if isinstance(p.get("path"), str) and isinstance(p.get("variant"), str) else ""
            raise ValueError(f"{path}: point {n} ({name}{p['status']}) lacks " + ", ".join(lack))
    return doc


def check_frontier(doc, path):
    if not isinstance(doc, dict) or doc.get("schema") != "shardbench.frontier/1":
        raise ValueError(f"{path} is not a shardbench.frontier/1 file")
    rows = doc.get("frontier")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path} has no 'frontier' rows")
    lack = _missing(doc, ("budget_bytes", "reserve_bytes"))
    if lack:
        raise ValueError(f"{path} lacks " + ", ".join(lack))
    for n, r in enumerate(rows):
        lack = _missing(r, FRONTIER_ROW)
        if lack:
            raise ValueError(f"{path}: frontier row {n} lacks " + ", ".join(lack))
    return doc


def guarded(tool, run, *args):
    """run(*args) for a report script whose inputs passed load_json but may still lack a field deeper
    down (a Google Benchmark entry without a counter, a benchmark name without its tp): one line
    naming the field and exit 2, not a traceback. Anything else is the script's own bug and is
    raised."""
    try:
        return run(*args)
    except KeyError as e:
        fail(tool, f"an input lacks the field {e} that it reads")
    except StopIteration:
        fail(tool, "an input's benchmark name lacks a part it reads (e.g. tp:P)")
