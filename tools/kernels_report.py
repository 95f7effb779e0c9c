#!/usr/bin/env python3
"""Summarises `shardbench bench --kernels` JSON files: how many phases' kernels (CUPTI durations)
reach >= 90 % of the D2D copy rate measured in the same run, and each phase below that; for a phase of
several launches, also its kernels against as many copies of one launch's share of the bytes.

usage: tools/kernels_report.py KERNELS.json [MORE.json ...]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shardbench_tools.inputs import fail, guarded, load_json  # noqa: E402


def report(path):
    b = [x for x in load_json(path, 'kernels_report', member='benchmarks') if not x.get('error_occurred')]
    low = [x for x in b if x.get('kernels_of_d2d', 0) < 0.9]
    ph = sum(x['of_d2d'] >= 0.9 for x in b)
    name = path.rsplit('/', 1)[-1].removesuffix('.json')
    per_launch = sum(x.get('kernels_of_d2d_launch', x.get('kernels_of_d2d', 0)) >= 0.9 for x in b)
    print(f'{name}: {len(b) - len(low)} of {len(b)} phases with kernels (CUPTI) at >= 90 % of the D2D copy rate '
          f'({ph} with the phase timed by events, launch gaps and host syncs included; {per_launch} against copies '
          f'of the phase\'s launch sizes); below:')
    for x in low:
        launch = ''
        if x.get('launches', 1) > 1:
            launch = (f"; {x['launches']:.0f} launches, vs copies of one launch's bytes {x['d2d_launch_GBps']:6.0f} "
                      f"({x['kernels_of_d2d_launch']:.2f})")
        print(f"  {x['name'].split('/iterations')[0]:<58} kernels {x.get('kernels_GBps', 0):6.0f} GB/s, "
              f"phase {x['kernel_GBps']:6.0f} vs D2D {x['d2d_GBps']:6.0f} ({x.get('kernels_of_d2d', 0):.2f}){launch}")
    return len(b) > 0


if __name__ == '__main__':
    if len(sys.argv) < 2:
        fail('kernels_report', 'usage: tools/kernels_report.py KERNELS.json [MORE.json ...]')
    sys.exit(0 if all([guarded('kernels_report', report, p) for p in sys.argv[1:]]) else 1)
