"""The report half of tools/nightly: picks the baseline for this GPU, runs the gate, writes
report.md with the comparison and plots, and optionally replaces the baseline. Given the run's
command, a failing gate runs the set once more and counts only the points that fail again."""
import os
import re
import shutil
import subprocess
import sys

from . import compare
from .inputs import env_of


def baseline_name(doc):
    env = env_of(doc)
    gpu = re.sub(r"[^A-Za-z0-9]+", "-", env.get("gpu") or "cpu").strip("-")
    return f"{gpu}x{env.get('gpu_count', 0) or 1}.json"


def point_of(failure):
    """The point a gate failure names (compare's failures read '<point>: <what>')."""
    return failure.split(": ", 1)[0]


def confirm(ref, failures, rerun, folder):
    """Runs the set again (`rerun` plus --out FILE) and keeps the failures whose point fails again. A
    point whose time holds host syncs (usp/specforge's pack: eight per iteration) can lose one run
    to a host that stalls, as lent H100s did (docs/results.md, "Host latency"); a regression shows
    in both runs. Returns the kept failures and the report's section, or None if the rerun broke."""
    out = os.path.join(folder, "results_confirm.json")
    with open(os.path.join(folder, "run_confirm.log"), "w") as log:
        rc = subprocess.run(rerun + ["--out", out], stdout=log, stderr=subprocess.STDOUT).returncode
    if rc not in (0, 1):  # 1: a point did not verify, which the rerun's table shows
        print(f"nightly: error: the confirming run failed (rc={rc}, see {log.name})", file=sys.stderr)
        return None
    try:
        doc = compare.load(out)
    except (OSError, ValueError) as e:
        print(f"nightly: error: the confirming run's {e}", file=sys.stderr)
        return None
    rows, only_a, only_b, again = compare.compare(ref, doc)
    repeated = {point_of(f) for f in again}
    kept = [f for f in failures if point_of(f) in repeated]
    dropped = [f for f in failures if point_of(f) not in repeated]
    lines = ["## Confirming run", "",
             "The gate failed, so the set ran once more (`results_confirm.json`); a failure counts only "
             "where this run fails the same point.", "",
             compare.render(rows, only_a, only_b, again, markdown=True), ""]
    if dropped:
        lines += ["**Not reproduced, not counted:**"] + [f"- {f}" for f in dropped] + [""]
    return kept, lines


def main(argv):
    folder, update, rerun = argv[0], argv[1] == "1", argv[2:]
    results = os.path.join(folder, "results.json")
    try:
        doc = compare.load(results)
    except (OSError, ValueError) as e:  # the run's own file: broken means the run broke, not a regression
        print(f"nightly: error: {e}", file=sys.stderr)
        return 2
    base_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(folder))), "baselines")
    base = os.path.join(base_dir, baseline_name(doc))
    env = env_of(doc)
    lines = [f"# shardbench nightly, {os.path.basename(folder)}", "",
             f"GPU: {env.get('gpu')} x{env.get('gpu_count')}, driver {env.get('driver')}, "
             f"CUDA {env.get('cuda')}, NCCL {env.get('nccl')}, git {env.get('git_sha')}, "
             f"backend: {env.get('backend')}", ""]
    code = 0
    ref = None
    if os.path.exists(base):
        try:
            ref = compare.load(base)
        except (OSError, ValueError) as e:  # a broken baseline is not a regression: say so, or replace it
            if not update:
                print(f"nightly: error: baseline {e} (--update-baseline replaces it)", file=sys.stderr)
                return 2
            lines.append(f"The baseline `{os.path.relpath(base)}` could not be read ({e}); it is replaced.")
    if ref is not None:
        rows, only_a, only_b, failures = compare.compare(ref, doc)
        lines += [f"Compared with `{os.path.relpath(base)}` (git {env_of(ref).get('git_sha')}).", "",
                  compare.render(rows, only_a, only_b, failures, markdown=True), ""]
        if failures and rerun:
            confirmed = confirm(ref, failures, rerun, folder)
            if confirmed is None:
                return 3
            failures, section = confirmed
            lines += section
        lines.append("**Gate: FAIL**" if failures else "**Gate: pass**")
        code = 1 if failures else 0
    elif not os.path.exists(base):
        lines.append(f"No baseline for this GPU yet (`{os.path.relpath(base)}`): run with --update-baseline.")
    unverified = [p for p in doc["points"] if p["status"] not in ("ok", "skipped")]
    if unverified:
        lines.append(f"**{len(unverified)} points did not verify or failed**: " +
                     "; ".join(f"{p['path']}/{p['variant']} {p['status']}" for p in unverified))
        code = 1
    try:
        from . import plot
        pngs = plot.plot_all([results], folder)
        lines += ["", "## Plots", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in pngs]
    except ImportError:
        lines += ["", "(plots skipped: matplotlib is not installed)"]
    except ValueError as e:  # no measured point to draw (the failures are listed above)
        lines += ["", f"(plots skipped: {e})"]
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if update:
        os.makedirs(base_dir, exist_ok=True)
        shutil.copyfile(results, base)
        print(f"nightly: baseline replaced: {base}")
    print(f"nightly: report {os.path.join(folder, 'report.md')} (gate {'FAIL' if code else 'pass'})")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
