#!/usr/bin/env python3
"""Summarises `shardbench bench --collectives` JSON: each point beside its collective alone at the
same op_bytes, and its check — the fused sharded paths' all-to-all phase at >= 90 % of the raw
ncclAlltoAll busbw wherever a rank sends >= 256 MiB (comm_of_raw = raw time / the path's collective
phase time, the same ratio as their busbw at equal op_bytes).

usage: tools/collectives_report.py COLLECTIVES.json [--min-mib 256] [--bound 0.9]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shardbench_tools.inputs import guarded, load_json  # noqa: E402

MIB = 1 << 20


def fields(name):
    """path, variant and tp of a point's benchmark name (path/variant/dtype/tp:P/...)."""
    parts = name.split('/')
    tp = next(int(p[3:]) for p in parts if p.startswith('tp:'))
    return parts[0], parts[1], tp


def pairs(benchmarks):
    """(point entry or None, raw entry) for every raw collective in the file."""
    by_name = {b['name'].split('/iterations')[0]: b for b in benchmarks if not b.get('error_occurred')}
    for name, raw in by_name.items():
        point, _, last = name.rpartition('/')
        if last.startswith('raw_'):
            yield point, by_name.get(point), raw, last[len('raw_'):]


def main(argv):
    ap = argparse.ArgumentParser(prog=argv[0], description=__doc__.splitlines()[0])
    ap.add_argument('file')
    ap.add_argument('--min-mib', type=float, default=256.0, help='bytes a rank sends, from which the bound applies')
    ap.add_argument('--bound', type=float, default=0.9, help='least comm_of_raw of a fused sharded path')
    a = ap.parse_args(argv[1:])
    benchmarks = load_json(a.file, "collectives_report", member="benchmarks")
    print(f"{'point':<64} {'collective':<10} {'MiB/rank':>9} {'path GB/s':>9} {'raw GB/s':>9} {'of raw':>6}")
    checked, failed = 0, []
    rows = list(pairs(benchmarks))
    for point, p, raw, coll in rows:
        path, variant, tp = fields(point)
        per_rank = raw['op_bytes'] / (tp if coll == 'all_gather' else 1) / MIB
        of_raw = raw.get('comm_of_raw')
        path_bw = p.get('comm_busbw', 0) / 1e9 if p else 0
        raw_bw = raw.get('busbw', 0) / 1e9
        print(f"{point:<64} {coll:<10} {per_rank:9.1f} {path_bw:9.1f} {raw_bw:9.1f} "
              f"{'-' if of_raw is None else f'{of_raw:.3f}':>6}")
        if path in ('batch', 'usp') and variant == 'fused' and coll == 'all_to_all' and per_rank >= a.min_mib:
            checked += 1
            if of_raw is None or of_raw < a.bound:
                failed.append(point)
    if not rows:
        print('no raw collectives in the file (was it written by bench --collectives?)')
        return 1
    if not checked:
        print(f'check: no fused batch/usp point sends >= {a.min_mib:g} MiB per rank: nothing to hold to the bound')
        return 0
    print(f'check: {checked - len(failed)} of {checked} fused batch/usp points at >= {a.min_mib:g} MiB per rank have '
          f'their all-to-all phase at >= {a.bound:.0%} of the raw collective: {"PASS" if not failed else "FAIL"}')
    for f in failed:
        print(f'  below: {f}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(guarded('collectives_report', main, sys.argv))
