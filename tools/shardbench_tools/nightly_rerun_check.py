"""tools/nightly's confirming rerun, end to end on the machine it runs on (tools/gpu-check runs it on
the GPU): writes a fresh baseline, makes one point of it 30 % faster, and runs the gate, which must
fail that point in the run and again in its rerun (exit 1, `results_confirm.json`, the point among
the confirmed failures). Like `tools/nightly --update-baseline`, it leaves this machine's baseline
replaced by the fresh one (commit that only deliberately); the doctored copy is undone whatever
happens.

    python3 tools/run_tool.py nightly_rerun_check [NIGHTLY [ARGS...]]

NIGHTLY defaults to tools/nightly; ARGS go to both of its runs (e.g. --preset ci --config FILE).
Exit 0 when the failure was confirmed, 1 when it was not, 2 when a run could not be made."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from . import compare

FASTER = 0.7  # the doctored baseline's times: tonight's point reads 1/0.7 = 1.43x slower


def run(cmd):
    """Runs cmd, echoing its output; returns (rc, output), rc 127 if it could not start."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        return 127, f"{cmd[0]}: {e.strerror}\n"
    sys.stdout.write(p.stdout)
    return p.returncode, p.stdout


def doctor(path):
    """Scales the times of one measured point of the baseline at path by FASTER (batch/fused if it
    has one); returns that point's label as the gate names it."""
    with open(path) as f:
        doc = json.load(f)
    ok = [p for p in doc["points"] if p["status"] == "ok"]
    if not ok:
        raise ValueError(f"{path} has no measured point")
    p = next((p for p in ok if p["path"] == "batch" and p["variant"] == "fused"), ok[0])
    t = p["time_us"]
    for k in ("max", "mean", "median", "min", "stddev"):
        t[k] *= FASTER
    t["samples"] = [FASTER * x for x in t["samples"]]
    with open(path, "w") as f:
        json.dump(doc, f)
    return compare.label(compare.key(p))


def confirmed(day, point):
    """Why the report in day does not show point's failure confirmed (None if it does)."""
    if not os.path.isfile(os.path.join(day, "results_confirm.json")):
        return "no results_confirm.json: the set did not run again"
    with open(os.path.join(day, "report.md")) as f:
        report = f.read()
    if "## Confirming run" not in report or "**Gate: FAIL**" not in report:
        return "the report has no confirming run or no failed gate"
    counted, _, dropped = report.split("## Confirming run", 1)[1].partition("**Not reproduced, not counted:**")
    if f"{point}: " not in counted or f"{point}: " in dropped:
        return f"{point} is not among the confirmed failures"
    return None


def main(argv):
    nightly = argv or ["tools/nightly"]
    rc, out = run(nightly + ["--update-baseline"])  # 1: its gate against the old baseline failed
    m = re.search(r"nightly: baseline replaced: (\S+)", out)
    if rc not in (0, 1) or not m:
        last = (out.strip().splitlines() or [""])[-1]
        print(f"nightly rerun check: error: the baseline run failed (rc={rc}): {last}", file=sys.stderr)
        return 2
    base = m.group(1)
    fd, keep = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    shutil.copyfile(base, keep)
    try:
        point = doctor(base)
        print(f"nightly rerun check: {base} made {1 / FASTER:.2f}x faster at {point}")
        rc, out = run(nightly)
    except (OSError, ValueError, KeyError) as e:  # a baseline without what the gate reads
        print(f"nightly rerun check: error: cannot doctor {base}: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.copyfile(keep, base)
        os.unlink(keep)
    m = re.search(r"nightly: report (\S+)/report\.md", out)
    why = f"tools/nightly exited {rc}, not 1" if rc != 1 else None
    if m is None:
        why = why or "tools/nightly wrote no report"
    else:
        why = why or confirmed(m.group(1), point)
    if why:
        print(f"nightly rerun check: FAIL: {why}")
        return 1
    print(f"nightly rerun check: the gate failed {point} in the run and again in its rerun (exit 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
