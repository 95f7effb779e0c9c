"""PNG plots from one or more shardbench result files:
  time_vs_seq.png       median time vs sequence length, one line per path/variant
  memory_vs_seq.png     per-rank tracked peak vs sequence length, with the GPU's capacity as a line
  bandwidth_vs_bytes.png busbw (nccl) or effective bandwidth vs op bytes
  speedup_heatmap.png   best sharded variant's speed-up over baseline/fused, over tp x seq
  frontier.png          from a `shardbench frontier --out` file: longest sequence per path/variant
Needs matplotlib (installed by tools/deps where pip can reach PyPI)."""
import argparse
import os
import sys

from .inputs import check_frontier, check_result, env_of, read_json

# Memory a GPU reports (MiB), for the capacity line when the results name the GPU.
CAPACITY_MIB = {"H100 80GB": 81559, "H200": 143771, "A100-SXM4-80GB": 81920, "A100-SXM4-40GB": 40960}


def load_points(paths):
    pts, gpu = [], None
    for p in paths:
        doc = check_result(read_json(p), p)
        gpu = gpu or env_of(doc).get("gpu")
        pts += [q for q in doc["points"] if q["status"] == "ok"]
    return pts, gpu


def capacity_bytes(gpu, override_gib):
    if override_gib:
        return override_gib * 2 ** 30
    for name, mib in CAPACITY_MIB.items():
        if gpu and name in gpu:
            return mib * 2 ** 20
    return None


AXES = ("tp", "batch", "vocab", "dtype", "backend")


def varying(pts):
    """The axes (besides seq) whose values differ across the points: they go into series labels."""
    return [a for a in AXES if len({p[a] for p in pts}) > 1]


def describe(pts):
    """What all the points share, for titles."""
    fixed = [a for a in AXES if len({p[a] for p in pts}) == 1]
    return ", ".join(f"{a} {pts[0][a]}" for a in fixed)


def series(pts, value):
    """One line per path/variant (and sp for usp) and per value of every other varying axis."""
    vary = varying(pts)
    out = {}
    for p in pts:
        name = f"{p['path']}/{p['variant']}" + (f" sp{p['sp_ulysses']}x{p['sp_ring']}" if p["path"] == "usp" else "")
        name += "".join(f" {a}={p[a]}" for a in vary)
        out.setdefault(name, []).append((p["seq"], value(p)))
    return {k: sorted(v) for k, v in sorted(out.items())}


def save(plt, fig, path):
    """fig as the PNG at path, written beside it first: a run stopped half-way leaves the old file or
    none, never a truncated one."""
    tmp = f"{path}.partial"
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_lines(plt, data, title, ylabel, path, hline=None, hlabel=None):
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, xy in data.items():
        ax.plot([x for x, _ in xy], [y for _, y in xy], marker="o", label=name)
    if hline:
        ax.axhline(hline, color="red", linestyle="--", label=hlabel)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7 if len(data) < 12 else 5, ncol=1 if len(data) < 12 else 2)
    fig.tight_layout()
    save(plt, fig, path)


def plot_all(paths, out_dir, capacity_gib=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts, gpu = load_points(paths)
    if not pts:
        raise ValueError("no measured points (status ok) in " + ", ".join(paths))
    os.makedirs(out_dir, exist_ok=True)
    where = f"{gpu or 'cpu'}; {describe(pts)}"
    written = []
    f = os.path.join(out_dir, "time_vs_seq.png")
    plot_lines(plt, series(pts, lambda p: p["time_us"]["median"] / 1000.0), f"median time per iteration\n({where})",
               "ms", f)
    written.append(f)
    f = os.path.join(out_dir, "memory_vs_seq.png")
    cap = capacity_bytes(gpu, capacity_gib)
    plot_lines(plt, series(pts, lambda p: p["memory"]["tracked_peak_bytes"] / 2 ** 30),
               f"per-rank peak memory\n({where})", "GiB", f, cap / 2 ** 30 if cap else None,
               f"{gpu} capacity" if cap else None)
    written.append(f)

    f = os.path.join(out_dir, "bandwidth_vs_bytes.png")
    fig, ax = plt.subplots(figsize=(8, 5))
    link = any(p["busbw_gbps"] > 0 for p in pts)
    for name in sorted({f"{p['path']}/{p['variant']}" for p in pts}):
        xs = [(p["op_bytes"], p["busbw_gbps"] if link else p["effective_gbps"]) for p in pts
              if f"{p['path']}/{p['variant']}" == name]
        xs.sort()
        ax.plot([x for x, _ in xs], [y for _, y in xs], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("op bytes (nccl-tests' size)")
    ax.set_ylabel("busbw GB/s" if link else "effective GB/s (useful bytes / time; not link bandwidth)")
    ax.set_title(f"bandwidth ({where})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(plt, fig, f)
    written.append(f)

    f = os.path.join(out_dir, "speedup_heatmap.png")
    # Compare like with like: the (dtype, batch, vocab, backend) group with the most points.
    groups = {}
    for p in pts:
        groups.setdefault((p["dtype"], p["batch"], p["vocab"], p["backend"]), []).append(p)
    (g_dtype, g_batch, g_vocab, g_backend), group = max(groups.items(), key=lambda kv: len(kv[1]))
    base = {(p["tp"], p["seq"]): p["time_us"]["median"] for p in group if p["path"] == "baseline" and p["variant"] == "fused"}
    best = {}
    for p in group:
        if p["path"] != "baseline" and (p["tp"], p["seq"]) in base:
            k = (p["tp"], p["seq"])
            best[k] = min(best.get(k, float("inf")), p["time_us"]["median"])
    tps = sorted({k[0] for k in best})
    seqs = sorted({k[1] for k in best})
    fig, ax = plt.subplots(figsize=(8, 4))
    if tps and seqs:
        grid = [[base[(t, q)] / best[(t, q)] if (t, q) in best else float("nan") for q in seqs] for t in tps]
        im = ax.imshow(grid, cmap="viridis", aspect="auto")
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v == v:  # not measured: left blank
                    ax.text(j, i, f"{v:.2f}x", ha="center", va="center", fontsize=10,
                            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8))
        ax.set_xticks(range(len(seqs)), [str(q) for q in seqs])
        ax.set_yticks(range(len(tps)), [f"tp{t}" for t in tps])
        fig.colorbar(im, ax=ax, label="baseline/fused time / best sharded time")
    ax.set_xlabel("sequence length")
    ax.set_title(f"speed-up of the best sharded variant over baseline/fused\n({gpu or 'cpu'}; {g_backend}, "
                 f"{g_dtype}, batch {g_batch}, vocab {g_vocab})", fontsize=10)
    fig.tight_layout()
    save(plt, fig, f)
    written.append(f)
    return written


def plot_frontier(path, out_dir):
    """Bar chart of a `shardbench frontier --out` file: longest sequence per path/variant."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = check_frontier(read_json(path), path)
    rows = doc["frontier"]
    names = [f"{r['path']}/{r['variant']}" + (f" sp{r['sp_ulysses']}x{r['sp_ring']}" if r["path"] == "usp" else "")
             for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(names, [r["measured_seq"] for r in rows], color="#76b900", label="measured (real allocations)")
    ax.scatter([r["predicted_seq"] for r in rows], names, color="black", marker="|", s=300, label="plan's prediction")
    for i, r in enumerate(rows):
        ax.text(r["measured_seq"], i, f" {r['measured_seq']:,}", va="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("longest sequence that fits (tokens)")
    gpu = doc["env"].get("gpu") if isinstance(doc.get("env"), dict) else None
    ax.set_title(f"OOM frontier on {gpu}: budget {doc['budget_bytes'] / 2**30:.0f} GiB - reserve "
                 f"{doc['reserve_bytes'] / 2**30:.0f} GiB per rank", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    f = os.path.join(out_dir, "frontier.png")
    save(plt, fig, f)
    return f


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tools/plot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--out", default="plots", help="output folder (default plots/)")
    ap.add_argument("--capacity-gib", type=float, help="GPU memory line (default: from the GPU named in the results)")
    args = ap.parse_args(argv)
    if args.capacity_gib is not None and not args.capacity_gib > 0:  # NaN too
        ap.error(f"--capacity-gib must be positive (got {args.capacity_gib})")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        print(f"plot: error: --out {args.out} names a file; give a folder", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print(f"plot: error: --out {args.out}: {e.strerror}", file=sys.stderr)
        return 2
    frontiers, results = [], []
    for p in args.results:  # every file is read and checked before anything is drawn
        try:
            doc = read_json(p)
            schema = doc.get("schema") if isinstance(doc, dict) else None
            if schema == "shardbench.frontier/1":
                check_frontier(doc, p)
                frontiers.append(p)
            elif schema == "shardbench.result/1":
                check_result(doc, p)
                results.append(p)
            else:
                raise ValueError(f"{p} is neither a shardbench.result/1 nor a shardbench.frontier/1 file")
        except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
            print(f"plot: error: {e if str(p) in str(e) else f'{p}: {e}'}", file=sys.stderr)
            return 2
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot: error: needs matplotlib (tools/deps installs it; or python3 -m pip install matplotlib)",
              file=sys.stderr)
        return 2
    try:
        # The results first: plot_all refuses files without a measured point before it draws anything,
        # so such a run leaves no plot at all, a frontier's included.
        if results:
            for f in plot_all(results, args.out, args.capacity_gib):
                print(f)
        for p in frontiers:
            print(plot_frontier(p, args.out))
    except (OSError, ValueError) as e:
        print(f"plot: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
