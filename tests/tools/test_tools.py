"""Tests of tools/ (compare, gate, nightly report, plots) on small committed result files
(data/frontier_deepseek_v3_h100.json is `shardbench frontier` on an H100 with 60 GiB reserved):
data/h100_nightly_{a,b}.json are two runs of configs/nightly.yaml (4K points) on one H100 (an A/A
pair); data/h100_nightly_regressed.json is run B with a 10 % slowdown on one point, 1 MiB more
memory on another, a verification failure on a third and a missing fourth."""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from shardbench_tools import compare, nightly_report  # noqa: E402
from shardbench_tools.stats import mann_whitney_u, median  # noqa: E402

A = os.path.join(HERE, "data", "h100_nightly_a.json")
B = os.path.join(HERE, "data", "h100_nightly_b.json")
R = os.path.join(HERE, "data", "h100_nightly_regressed.json")


def run(main, argv):
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def cut_down(path, edit):
    """A temporary copy of the result file at path, edited by edit(doc): a file cut short or written
    by hand."""
    with open(path) as f:
        doc = json.load(f)
    edit(doc)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(doc, out)
    return out.name


def first_ok(doc):
    return next(p for p in doc["points"] if p["status"] == "ok")


class stats_test(unittest.TestCase):
    def test_mann_whitney_matches_the_asymptotic_formula(self):
        # Hand-computed: U=0, mu=4.5, var=5.25, z=(4.5-0.5)/sqrt(5.25), p=erfc(z/sqrt2)=0.08085.
        u, p = mann_whitney_u([1, 2, 3], [4, 5, 6])
        self.assertEqual(u, 0.0)
        self.assertAlmostEqual(p, 0.080856, places=5)

    def test_identical_samples_are_not_significant(self):
        self.assertEqual(mann_whitney_u([5, 5, 5], [5, 5, 5])[1], 1.0)
        self.assertGreater(mann_whitney_u([1, 3, 5, 7], [2, 4, 6, 8])[1], 0.5)

    def test_median(self):
        self.assertEqual(median([3, 1, 2]), 2)
        self.assertEqual(median([4, 1, 2, 3]), 2.5)


class compare_test(unittest.TestCase):
    def test_aa_pair_passes_the_gate(self):
        code, out = run(compare.main, [A, B, "--gate"])
        self.assertEqual(code, 0, out)
        self.assertIn("summary:", out)
        self.assertNotIn("gate failures", out)

    def test_regression_is_caught_with_each_reason(self):
        code, out = run(compare.main, [A, R, "--gate"])
        self.assertEqual(code, 1)
        self.assertRegex(out, r"baseline/specforge .*: 9\.\d% slower \(p=")  # B's own drift shaves 0.2 %
        self.assertIn("tracked peak", out)
        self.assertIn("stopped verifying", out)
        self.assertIn("missing from B", out)
        self.assertIn("only in A (1)", out)

    def test_thresholds_are_configurable(self):
        code, _ = run(compare.main, [A, R, "--gate", "--max-slowdown", "0.2", "--max-memory-growth", "0.01"])
        self.assertEqual(code, 1)  # the verification failure and the missing point still fail
        rows, _, _, failures = compare.compare(compare.load(A), compare.load(R), max_slowdown=0.2,
                                               max_memory_growth=0.01)
        self.assertFalse(any("slower" in f for f in failures))
        self.assertFalse(any("tracked peak" in f for f in failures))
        self.assertEqual([r["verdict"] for r in rows if r["point"].startswith("baseline/specforge")], ["slower"])

    def test_a_point_timed_with_another_launch_gate_is_flagged(self):
        def gate(doc):
            first_ok(doc)["launch_gate"] = "whole"
        gated = cut_down(B, gate)
        try:
            rows, _, _, failures = compare.compare(compare.load(A), compare.load(gated))
        finally:
            os.unlink(gated)
        flagged = [r for r in rows if r["flags"]]
        self.assertEqual(len(flagged), 1)
        self.assertEqual(flagged[0]["flags"], ["launch gate off -> whole"])
        self.assertEqual(failures, [])  # a flag, not a gate failure

    def test_markdown_output(self):
        _, out = run(compare.main, [A, B, "--markdown"])
        self.assertTrue(out.startswith("| point | median A (us) |"))

    def test_bad_input_exits_2_never_1(self):  # 1 is the gate's failure alone
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"schema": "other"}, f)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as broken:
            broken.write("{")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as listing:
            json.dump([1, 2], listing)
        err = io.StringIO()
        with redirect_stderr(err):
            for bad in (f.name, broken.name, listing.name, "/nonexistent.json"):
                self.assertEqual(compare.main([bad, B, "--gate"]), 2, bad)
        self.assertIn("is not a shardbench.result/1 file", err.getvalue())
        self.assertIn(broken.name + ": not JSON (", err.getvalue())  # which of the two files
        for flags in (["--max-slowdown", "-1"], ["--alpha", "0"], ["--noise", "nan"], ["--max-memory-growth", "-0.1"]):
            with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as e:
                compare.main([A, B, "--gate"] + flags)
            self.assertEqual(e.exception.code, 2, flags)
        with self.assertRaises(ValueError):
            compare.load(f.name)

    def test_a_result_file_lacking_what_the_gate_reads_exits_2(self):
        cases = {
            "time_us.median": lambda d: first_ok(d)["time_us"].pop("median"),
            "time_us.samples": lambda d: first_ok(d)["time_us"].update(samples=[]),
            "memory.tracked_peak_bytes": lambda d: first_ok(d).pop("memory"),
            "'points' list": lambda d: d.pop("points"),
            "has no status": lambda d: d["points"][0].pop("status"),
            "seq": lambda d: d["points"][-1].update(seq="long"),
        }
        for what, edit in cases.items():
            bad = cut_down(A, edit)
            err = io.StringIO()
            with redirect_stderr(err), redirect_stdout(io.StringIO()):
                self.assertEqual(compare.main([A, bad, "--gate"]), 2, what)
            self.assertTrue(err.getvalue().startswith("compare: error: " + bad), err.getvalue())
            self.assertIn(what, err.getvalue())
            self.assertEqual(len(err.getvalue().splitlines()), 1)


def synthetic_point(samples, backend="local(one)", **fields):
    """A measured point with the fields the gate reads."""
    p = {"path": "batch", "variant": "fused", "backend": backend, "dtype": "bf16", "tp": 8, "sp_ulysses": 1, "sp_ring": 1,
         "batch": 1, "seq": 4096, "vocab": 129280, "vocab_pad": 64, "hidden": 7168, "ttt": 7, "seed": 1,
         "consumer": "none", "draft_vocab": 32000, "t2d": "uniform", "status": "ok", "verified": True,
         "time_us": {"median": median(samples), "samples": samples}, "memory": {"tracked_peak_bytes": 1000},
         "op_bytes": 1, "busbw_gbps": 0.0, "effective_gbps": 1.0}
    p.update(fields)
    return p


def synthetic_file(points):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump({"schema": "shardbench.result/1", "env": {}, "config": {}, "points": points}, out)
    return out.name


class gate_identity_test(unittest.TestCase):
    """Findings of a careful user: points matched on part of their identity overwrote each other, cpu
    times failed A/A gates, and 3 samples could never show a slowdown."""

    FAST = [100.0 + i * 0.1 for i in range(20)]

    def test_points_that_differ_in_t2d_consumer_or_draft_vocab_are_different_points(self):
        consumer = dict(consumer="target_p", variant="pruned")
        a = [synthetic_point(self.FAST, t2d=t, draft_vocab=v, **consumer) for t in ("uniform", "skewed") for v in (16000, 32000)]
        a.append(synthetic_point(self.FAST))
        slow = [x * 3 for x in self.FAST]
        b = [synthetic_point(slow if t == "uniform" else self.FAST, t2d=t, draft_vocab=v, verified=t != "uniform", **consumer)
             for t in ("uniform", "skewed") for v in (16000, 32000)]
        b.append(synthetic_point(self.FAST))
        code, out = run(compare.main, [synthetic_file(a), synthetic_file(b), "--gate"])
        self.assertEqual(code, 1, out)
        self.assertEqual(out.count("200.0% slower"), 2, out)
        self.assertEqual(out.count("stopped verifying"), 4, out)  # two in the table's flags, two in the failures
        self.assertIn("t2d=uniform", out)
        self.assertIn("summary: 3 same, 2 slower; 0 only in A, 0 only in B", out)

    def test_a_file_holding_one_point_twice_exits_2(self):
        f = synthetic_file([synthetic_point(self.FAST), synthetic_point(self.FAST)])
        err = io.StringIO()
        with redirect_stderr(err):
            code, _ = run(compare.main, [f, f])
        self.assertEqual(code, 2)
        self.assertTrue(err.getvalue().startswith("compare: error: A: two points are the same point (batch/fused"), err.getvalue())

    def test_cpu_backend_times_are_reported_not_gated_unless_asked(self):
        a = synthetic_file([synthetic_point(self.FAST, backend="cpu")])
        b = synthetic_file([synthetic_point([x * 1.4 for x in self.FAST], backend="cpu")])
        code, out = run(compare.main, [a, b, "--gate"])
        self.assertEqual(code, 0, out)
        self.assertIn("slower", out)
        self.assertIn("cpu times: not gated", out)
        code, out = run(compare.main, [a, b, "--gate", "--gate-cpu-times"])
        self.assertEqual(code, 1, out)
        self.assertIn("40.0% slower", out)

    def test_three_samples_are_inconclusive_and_fail_the_gate(self):
        a = synthetic_file([synthetic_point([100.0, 101.0, 102.0])])
        b = synthetic_file([synthetic_point([120.0, 121.0, 122.0])])
        code, out = run(compare.main, [a, b, "--gate"])
        self.assertEqual(code, 1, out)
        self.assertIn("inconclusive", out)
        self.assertIn("inconclusive: 3 and 3 samples cannot reach p < 0.05 (run more --iters)", out)
        self.assertAlmostEqual(compare.min_p(3, 3), 0.080856, places=5)
        self.assertLess(compare.min_p(5, 5), 0.05)


class inputs_test(unittest.TestCase):
    def test_a_bad_input_ends_the_tool_with_one_line_and_exit_2(self):
        from shardbench_tools.inputs import load_json
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as broken:
            broken.write("{")
        for args, message in (((broken.name, "t"), "t: error: " + broken.name + ": Expecting"),
                              (("/nonexistent.json", "t"), "t: error: /nonexistent.json: [Errno 2]"),
                              ((A, "t", "shardbench.frontier/1"), "t: error: " + A + " is not a shardbench.frontier/1 file"),
                              ((A, "t", None, "benchmarks"), "t: error: " + A + " has no 'benchmarks'"),
                              ((cut_down(A, lambda d: first_ok(d).pop("op_bytes")), "t", "shardbench.result/1", "points"),
                               "t: error: ")):  # a result file lacking what the tools read
            err = io.StringIO()
            with redirect_stderr(err), self.assertRaises(SystemExit) as e:
                load_json(*args)
            self.assertEqual(e.exception.code, 2)
            self.assertTrue(err.getvalue().startswith(message), err.getvalue())
        self.assertEqual(len(load_json(A, "t", "shardbench.result/1", "points")), 8)

    def test_a_report_piped_into_a_reader_that_stops_ends_without_a_traceback(self):
        script = os.path.join(HERE, "..", "..", "tools", "repeatability.py")
        head = subprocess.Popen([sys.executable, script, A, B], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head.stdout.close()  # the reader goes away before the first line, as `| head -0` would
        err = head.stderr.read().decode()
        head.wait(timeout=60)
        self.assertNotIn("Traceback", err)


class nightly_script_test(unittest.TestCase):
    def test_bad_arguments_exit_2_before_building(self):
        script = os.path.join(HERE, "..", "..", "tools", "nightly")
        for args, message in ((["--preset"], "nightly: --preset needs a value"),
                              (["--config", "/nonexistent.yaml"], "nightly: cannot read the config /nonexistent.yaml"),
                              (["--bogus"], "nightly: unknown argument '--bogus'")):
            r = subprocess.run(["bash", script] + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr.strip(), message)


class nightly_report_test(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.day = os.path.join(self.root, "nightly", "2026-11-25")
        os.makedirs(self.day)

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_first_run_has_no_baseline_then_update_then_regression_fails(self):
        shutil.copyfile(A, os.path.join(self.day, "results.json"))
        code, out = run(nightly_report.main, [self.day, "0"])
        self.assertEqual(code, 0)
        with open(os.path.join(self.day, "report.md")) as f:
            self.assertIn("No baseline", f.read())
        code, out = run(nightly_report.main, [self.day, "1"])
        base = os.path.join(self.root, "baselines", "NVIDIA-H100-80GB-HBM3x1.json")
        self.assertTrue(os.path.exists(base), out)
        shutil.copyfile(R, os.path.join(self.day, "results.json"))
        code, out = run(nightly_report.main, [self.day, "0"])
        self.assertEqual(code, 1)
        with open(os.path.join(self.day, "report.md")) as f:
            report = f.read()
        self.assertIn("**Gate: FAIL**", report)
        self.assertIn("![time_vs_seq.png](time_vs_seq.png)", report)

    def test_a_broken_baseline_or_run_file_exits_2_and_update_replaces_the_baseline(self):
        base = os.path.join(self.root, "baselines", "NVIDIA-H100-80GB-HBM3x1.json")
        os.makedirs(os.path.dirname(base), exist_ok=True)
        shutil.copyfile(cut_down(A, lambda d: first_ok(d).pop("time_us")), base)
        shutil.copyfile(A, os.path.join(self.day, "results.json"))
        err = io.StringIO()
        with redirect_stderr(err):
            code, _ = run(nightly_report.main, [self.day, "0"])
        self.assertEqual(code, 2)  # not 1: nothing regressed
        self.assertTrue(err.getvalue().startswith("nightly: error: baseline " + base), err.getvalue())
        code, out = run(nightly_report.main, [self.day, "1"])
        self.assertEqual(code, 0, out)
        with open(os.path.join(self.day, "report.md")) as f:
            self.assertIn("could not be read", f.read())
        self.assertEqual(compare.load(base)["points"], compare.load(A)["points"])
        shutil.copyfile(cut_down(A, lambda d: d.pop("points")), os.path.join(self.day, "results.json"))
        with redirect_stderr(io.StringIO()) as err:
            code, _ = run(nightly_report.main, [self.day, "0"])
        self.assertEqual(code, 2)
        self.assertIn("has no 'points' list", err.getvalue())


class nightly_confirm_test(unittest.TestCase):
    """A failing gate reruns the set (the command the script passes, plus --out FILE) and counts only
    the points that fail again; here the "run" copies a result file to FILE."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.day = os.path.join(self.root, "nightly", "2026-12-05")
        os.makedirs(self.day)
        base = os.path.join(self.root, "baselines", "NVIDIA-H100-80GB-HBM3x1.json")
        os.makedirs(os.path.dirname(base))
        shutil.copyfile(A, base)
        # Run B with one point 30 % slower: a host-synced point in a host stall, or a regression.
        def slow(doc):
            p = first_ok(doc)
            p["time_us"]["samples"] = [1.3 * x for x in p["time_us"]["samples"]]
            p["time_us"]["median"] *= 1.3
        self.slowed = cut_down(B, slow)
        shutil.copyfile(self.slowed, os.path.join(self.day, "results.json"))

    def tearDown(self):
        shutil.rmtree(self.root)
        os.unlink(self.slowed)

    def rerun(self, source, rc=0):
        return [sys.executable, "-c", f"import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[3]); sys.exit({rc})",
                source]

    def report(self):
        with open(os.path.join(self.day, "report.md")) as f:
            return f.read()

    def test_a_failure_the_rerun_does_not_repeat_is_not_counted(self):
        code, out = run(nightly_report.main, [self.day, "0"] + self.rerun(B))
        self.assertEqual(code, 0, out)
        report = self.report()
        self.assertIn("## Confirming run", report)
        self.assertIn("**Not reproduced, not counted:**\n- baseline/specforge local(one) bf16 tp8 sp1x1 b1 s4096 v129280: "
                      "29.8% slower", report)
        self.assertIn("**Gate: pass**", report)
        self.assertTrue(os.path.exists(os.path.join(self.day, "results_confirm.json")))

    def test_a_failure_the_rerun_repeats_fails_the_gate(self):
        code, out = run(nightly_report.main, [self.day, "0"] + self.rerun(self.slowed))
        self.assertEqual(code, 1, out)
        report = self.report()
        self.assertIn("## Confirming run", report)
        self.assertNotIn("Not reproduced", report)
        self.assertIn("**Gate: FAIL**", report)

    def test_no_rerun_without_a_failure_and_a_broken_rerun_exits_3(self):
        shutil.copyfile(B, os.path.join(self.day, "results.json"))
        code, out = run(nightly_report.main, [self.day, "0"] + self.rerun(self.slowed))
        self.assertEqual(code, 0, out)
        self.assertNotIn("Confirming run", self.report())
        shutil.copyfile(self.slowed, os.path.join(self.day, "results.json"))
        with redirect_stderr(io.StringIO()) as err:
            code, _ = run(nightly_report.main, [self.day, "0"] + self.rerun(B, rc=3))
        self.assertEqual(code, 3)
        self.assertIn("nightly: error: the confirming run failed (rc=3", err.getvalue())


class plot_test(unittest.TestCase):
    def test_every_plot_is_written_as_a_png(self):
        from shardbench_tools import plot
        out = tempfile.mkdtemp()
        files = plot.plot_all([A, B], out)
        self.assertEqual([os.path.basename(f) for f in files],
                         ["time_vs_seq.png", "memory_vs_seq.png", "bandwidth_vs_bytes.png", "speedup_heatmap.png"])
        for f in files:
            with open(f, "rb") as png:
                self.assertEqual(png.read(8), b"\x89PNG\r\n\x1a\n")
        shutil.rmtree(out)

    def test_a_file_that_is_not_a_result_or_frontier_exits_2(self):
        from shardbench_tools import plot
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as broken:
            broken.write("{")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as other:
            json.dump({"schema": "other"}, other)
        out = tempfile.mkdtemp()
        for bad in (broken.name, other.name, "/nonexistent.json"):
            err = io.StringIO()
            with redirect_stderr(err):
                self.assertEqual(plot.main([bad, "--out", out]), 2, bad)
            self.assertTrue(err.getvalue().startswith("plot: error: "), err.getvalue())
        self.assertEqual(os.listdir(out), [])
        with redirect_stderr(io.StringIO()) as err:
            self.assertEqual(plot.main([A, "--out", A]), 2)  # --out names a file
        self.assertIn("plot: error: --out " + A, err.getvalue())
        with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as e:
            plot.main([A, "--out", out, "--capacity-gib", "-5"])
        self.assertEqual(e.exception.code, 2)
        shutil.rmtree(out)

    def test_a_file_lacking_what_a_plot_reads_exits_2_and_draws_nothing(self):
        from shardbench_tools import plot
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as frontier:
            json.dump({"schema": "shardbench.frontier/1", "frontier": []}, frontier)
        # The good file first where there is one: nothing is drawn until every file has been checked.
        cases = {
            "effective_gbps": [A, cut_down(A, lambda d: first_ok(d).pop("effective_gbps"))],
            "no measured points": [cut_down(A, lambda d: [p.update(status="skipped") for p in d["points"]])],
            # a good frontier beside such results: not drawn either
            "no measured points (status ok)": [os.path.join(HERE, "data", "frontier_deepseek_v3_h100.json"),
                                               cut_down(A, lambda d: [p.update(status="skipped") for p in d["points"]])],
            "'frontier' rows": [A, frontier.name],
        }
        for what, files in cases.items():
            out = tempfile.mkdtemp()
            err = io.StringIO()
            with redirect_stderr(err), redirect_stdout(io.StringIO()):
                self.assertEqual(plot.main(files + ["--out", out]), 2, what)
            self.assertTrue(err.getvalue().startswith("plot: error: "), err.getvalue())
            self.assertIn(what, err.getvalue())
            self.assertEqual(len(err.getvalue().splitlines()), 1)
            self.assertEqual(os.listdir(out), [])
            shutil.rmtree(out)

    def test_frontier_file_is_drawn(self):
        from shardbench_tools import plot
        out = tempfile.mkdtemp()
        code, printed = run(plot.main, [os.path.join(HERE, "data", "frontier_deepseek_v3_h100.json"), "--out", out])
        self.assertEqual(code, 0)
        self.assertTrue(printed.strip().endswith("frontier.png"))
        with open(os.path.join(out, "frontier.png"), "rb") as png:
            self.assertEqual(png.read(8), b"\x89PNG\r\n\x1a\n")
        shutil.rmtree(out)


class repeatability_gated_test(unittest.TestCase):
    """tools/repeatability.py --gated: run B (--gate) against run A (no gate) of the same config."""

    def gated_run(self, doc):
        script = os.path.join(HERE, "..", "..", "tools", "repeatability.py")
        path = cut_down(B, doc)
        try:
            return subprocess.run([sys.executable, script, "--gated", A, path], capture_output=True, text=True,
                                  timeout=60)
        finally:
            os.unlink(path)

    def test_a_gated_run_of_the_same_points_passes_and_prints_ratios_and_spreads(self):
        def gate_all(doc):
            for p in doc["points"]:
                p["launch_gate"] = "whole"
        r = self.gated_run(gate_all)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("gated/ungated median time: median ", r.stdout)
        self.assertIn("median spread ", r.stdout)
        self.assertRegex(r.stdout, r"gated run: \d+ of \d+ points slower by more than 3 %")

    def test_a_point_not_gated_fails_and_is_named(self):
        def gate_all_but_first(doc):
            for p in doc["points"]:
                p["launch_gate"] = "whole"
            first_ok(doc)["launch_gate"] = "off"
        r = self.gated_run(gate_all_but_first)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(r.stdout.count("not gated as asked: "), 1)

    def test_a_gated_run_slower_everywhere_fails(self):
        def gate_and_slow(doc):
            for p in doc["points"]:
                p["launch_gate"] = "whole"
                p["time_us"]["median"] *= 1.2
        r = self.gated_run(gate_and_slow)
        self.assertEqual(r.returncode, 1, r.stdout)

    def test_a_file_lacking_a_field_exits_2_with_one_line(self):
        def strip(doc):
            for p in doc["points"]:
                p["launch_gate"] = "whole"
                del p["time_us"]
        r = self.gated_run(strip)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)


NVCC = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)


@unittest.skipIf(NVCC is None, "nvcc is not installed")
class cubin_diff_test(unittest.TestCase):
    """cubin_diff on a repository of one small kernel: a comment or a helper is no change to the
    machine code; a changed constant is, and is named."""
    KERNEL = ("__global__ void scale(float* x, int n) {\n"
              "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
              "  if (i < n) x[i] = x[i] * 2.0f;\n"
              "}\n")

    def setUp(self):
        self.repo = tempfile.mkdtemp()
        self.write(self.KERNEL)
        for cmd in (["init", "-q"], ["add", "k.cu"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "k"]):
            subprocess.run(["git", "-C", self.repo] + cmd, check=True, capture_output=True)

    def tearDown(self):
        shutil.rmtree(self.repo)

    def write(self, text):
        with open(os.path.join(self.repo, "k.cu"), "w") as f:
            f.write(text)

    def diff(self, *args):
        tool = os.path.join(HERE, "..", "..", "tools", "run_tool.py")
        return subprocess.run([sys.executable, tool, "cubin_diff", "k.cu", *args], cwd=self.repo, capture_output=True,
                              text=True, timeout=120)

    def test_the_same_code_written_otherwise_is_identical(self):
        self.write("// a comment\n__device__ __forceinline__ float twice(float v) { return v * 2.0f; }\n" +
                   self.KERNEL.replace("x[i] * 2.0f", "twice(x[i])"))
        r = self.diff()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\d+ sections identical, 0 differ")

    def test_a_changed_kernel_is_named_and_exits_1(self):
        self.write(self.KERNEL.replace("2.0f", "3.0f"))
        r = self.diff()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("differs: .text.", r.stdout)
        self.assertIn("scale", r.stdout)

    def test_a_kernel_moved_to_another_file_and_renamed_is_matched(self):
        # A template parameter dropped (its mangled name changes) and the kernel moved to m.cu, whose
        # anonymous namespace nvcc names otherwise: --after and --rename match it, code unchanged.
        self.write("namespace {\ntemplate <bool Unused>\n" + self.KERNEL.replace("void scale", "void scale_k") +
                   "}\nvoid launch(float* x, int n) { scale_k<false><<<1, 32>>>(x, n); }\n")
        subprocess.run(["git", "-C", self.repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "t"],
                       check=True, capture_output=True)
        self.write("void other() {}\n")
        with open(os.path.join(self.repo, "m.cu"), "w") as f:
            f.write("namespace {\n" + self.KERNEL.replace("void scale", "void scale_k") +
                    "}\nvoid launch(float* x, int n) { scale_k<<<1, 32>>>(x, n); }\n")
        r = self.diff("--after", "m.cu")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # the name changed
        r = self.diff("--after", "m.cu", "--rename", "scale_kILb0EEEvPfi=scale_kEPfi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\d+ sections identical, 0 differ")

    def test_bad_input_exits_2_with_one_line(self):
        for args, words in ((["--base", "no-such-rev"], "no revision"), (["--arch", "sm_1"], "nvcc failed")):
            r = self.diff(*args)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn(words, r.stderr)


DOCS_DATA = os.path.join(HERE, "..", "..", "docs", "data")


class variants_report_test(unittest.TestCase):
    """The variants' bounds on the committed H100 results, and a broken bound caught."""

    def setUp(self):
        sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
        import variants_report
        self.report = variants_report
        self.files = [os.path.join(DOCS_DATA, f) for f in (
            "deepseek_v3_32k_variants_h100.json", "deepseek_v3_32k_consumer_h100.json", "kernels_vs_d2d_h100.json")]

    def test_committed_h100_results_pass(self):
        code, out = run(self.report.main, ["variants_report.py"] + self.files)
        self.assertEqual(code, 0, out)
        self.assertIn("2.0000x fewer bytes", out)
        self.assertIn("variants check: PASS", out)

    def test_a_peer_pull_peak_over_its_inputs_and_outputs_fails(self):
        doc = json.load(open(self.files[0]))
        for p in doc["points"]:
            if p["variant"] == "peer_pull" and p["status"] == "ok":
                p["memory"]["tracked_peak_bytes"] = int(p["memory"]["predicted_peak_bytes"] * 1.2)
        tmp = tempfile.mkdtemp()
        bad = os.path.join(tmp, "v.json")
        with open(bad, "w") as f:
            json.dump(doc, f)
        code, out = run(self.report.main, ["variants_report.py", bad] + self.files[1:])
        self.assertEqual(code, 1)
        self.assertIn("variants check: FAIL", out)
        shutil.rmtree(tmp)


class collectives_report_test(unittest.TestCase):
    """The collectives' bound: fused batch/usp all-to-all phases at >= 90 % of the raw collective from
    256 MiB per rank (a synthetic bench --collectives file: names and counters as shardbench writes)."""

    def setUp(self):
        sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
        import collectives_report
        self.report = collectives_report
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def file(self, of_raw_usp, of_raw_batch):
        def point(name, busbw):
            return {"name": name + "/iterations:10/manual_time", "comm_busbw": busbw}

        def raw(name, op_bytes, of_raw):
            return {"name": name + "/iterations:10/manual_time", "op_bytes": op_bytes, "busbw": 300e9,
                    "comm_of_raw": of_raw}
        usp = "usp/fused/bf16/tp:8/sp:8x1/batch:1/seq:131072/vocab:129280/ttt:7"
        batch = "batch/fused/bf16/tp:8/sp:1x1/batch:8/seq:32768/vocab:129280/ttt:7"
        spec = "usp/specforge/bf16/tp:8/sp:8x1/batch:1/seq:131072/vocab:129280/ttt:7"
        small = "usp/fused/bf16/tp:8/sp:8x1/batch:1/seq:4096/vocab:129280/ttt:7"
        doc = {"benchmarks": [
            point(usp, 290e9), raw(usp + "/raw_all_to_all", 512 << 20, of_raw_usp),
            point(batch, 250e9), raw(batch + "/raw_all_to_all", 300 << 20, of_raw_batch),
            point(spec, 100e9), raw(spec + "/raw_all_to_all", 1024 << 20, 0.3),  # not held to the bound
            point(small, 50e9), raw(small + "/raw_all_to_all", 16 << 20, 0.2)]}  # below 256 MiB
        path = os.path.join(self.tmp, "c.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_fused_paths_at_the_raw_rate_pass(self):
        code, out = run(self.report.main, ["collectives_report.py", self.file(0.97, 0.91)])
        self.assertEqual(code, 0, out)
        self.assertIn("check: 2 of 2 fused batch/usp points at >= 256 MiB per rank", out)
        self.assertIn("PASS", out)

    def test_a_slow_fused_phase_fails_and_is_named(self):
        code, out = run(self.report.main, ["collectives_report.py", self.file(0.97, 0.85)])
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL", out)
        self.assertIn("below: batch/fused/bf16/tp:8", out)


class kernels_report_test(unittest.TestCase):
    """bench --kernels summaries (a synthetic file: names and counters as shardbench writes): phases
    below 90 % of the copy are listed, and a phase of several launches with its launch-size ratio."""

    def test_counts_and_lists_the_phases_below(self):
        import kernels_report
        k = "kernel/{}/seq:4096/sp:8x1/iterations:10/manual_time"
        doc = {"benchmarks": [
            {"name": k.format("usp/fused/unpack/bf16"), "kernel_GBps": 3800, "kernels_GBps": 3880, "d2d_GBps": 3960,
             "of_d2d": 0.96, "kernels_of_d2d": 0.98, "launches": 1, "d2d_launch_GBps": 3960, "kernels_of_d2d_launch": 0.98},
            {"name": k.format("usp/specforge/pack/bf16"), "kernel_GBps": 1800, "kernels_GBps": 3362, "d2d_GBps": 3987,
             "of_d2d": 0.45, "kernels_of_d2d": 0.843, "launches": 8, "d2d_launch_GBps": 3140,
             "kernels_of_d2d_launch": 1.07}]}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "kernels.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            out = io.StringIO()
            with redirect_stdout(out):
                self.assertTrue(kernels_report.report(path))
        text = out.getvalue()
        self.assertIn("kernels: 1 of 2 phases with kernels (CUPTI) at >= 90 % of the D2D copy rate (1 with the phase "
                      "timed by events, launch gaps and host syncs included; 2 against copies of the phase's launch sizes)",
                      text)
        self.assertIn("kernel/usp/specforge/pack/bf16/seq:4096/sp:8x1", text)
        self.assertIn("(0.84); 8 launches, vs copies of one launch's bytes   3140 (1.07)", text)
        self.assertNotIn("unpack", text)

    def test_an_entry_lacking_a_counter_or_a_name_part_exits_2_with_one_line(self):
        tools = os.path.join(HERE, "..", "..", "tools")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "k.json")
            with open(path, "w") as f:
                json.dump({"benchmarks": [{"name": "kernel/usp/fused/unpack/bf16"}]}, f)
            raw = os.path.join(tmp, "c.json")
            with open(raw, "w") as f:  # a raw collective whose name has no tp:P
                json.dump({"benchmarks": [{"name": "usp/fused/bf16/raw_all_to_all", "op_bytes": 1}]}, f)
            for script, arg, line in (("kernels_report.py", path, "kernels_report: error: an input lacks the field 'of_d2d'"),
                                      ("collectives_report.py", raw, "collectives_report: error: an input's benchmark name"),
                                      ("variants_report.py", None, "variants_report: error: usage:")):
                r = subprocess.run([sys.executable, os.path.join(tools, script)] + ([arg] if arg else []),
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.startswith(line), r.stderr)
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()


# A stand-in for tools/nightly under a temporary tree: its run is a copy of $RUN_FILE, its rerun of
# $RERUN_FILE; the rest is the real report (nightly_report.main), as tools/nightly execs it.
FAKE_NIGHTLY = r'''
import os, shutil, sys
sys.path.insert(0, sys.argv[1])
from shardbench_tools import nightly_report
day = os.path.join(os.environ["ROOT"], "nightly", "2026-12-05")
os.makedirs(day, exist_ok=True)
shutil.copyfile(os.environ["RUN_FILE"], os.path.join(day, "results.json"))
update = "1" if "--update-baseline" in sys.argv else "0"
rerun = [sys.executable, "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[3])", os.environ["RERUN_FILE"]]
sys.exit(nightly_report.main([day, update] + rerun))
'''


class nightly_rerun_check_test(unittest.TestCase):
    """tools/gpu-check's end-to-end check of the confirming rerun: a doctored baseline must fail the
    gate twice; here with a stand-in for tools/nightly that copies recorded runs."""

    def setUp(self):
        from shardbench_tools import nightly_rerun_check
        self.check = nightly_rerun_check
        self.root = tempfile.mkdtemp()
        self.fake = os.path.join(self.root, "nightly.py")
        with open(self.fake, "w") as f:
            f.write(FAKE_NIGHTLY)
        self.env = dict(os.environ)
        os.environ.update(ROOT=self.root, RUN_FILE=B, RERUN_FILE=B)
        self.cmd = [sys.executable, self.fake, os.path.join(HERE, "..", "..", "tools")]
        self.base = os.path.join(self.root, "baselines", "NVIDIA-H100-80GB-HBM3x1.json")

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.env)
        shutil.rmtree(self.root)

    def test_a_doctored_baseline_is_failed_twice_and_the_doctoring_undone(self):
        code, out = run(self.check.main, self.cmd)
        self.assertEqual(code, 0, out)
        self.assertIn("nightly rerun check: the gate failed batch/fused local(one) bf16 tp8 sp1x1 b1 s4096 v129280 "
                      "in the run and again in its rerun", out)
        with open(self.base) as f, open(B) as g:
            self.assertEqual(json.load(f), json.load(g))  # the baseline is the run's again

    def test_a_rerun_that_does_not_repeat_the_failure_fails_the_check(self):
        def fast(doc):  # the doctored point as fast as the doctored baseline says
            p = next(p for p in doc["points"] if p["status"] == "ok" and p["path"] == "batch" and p["variant"] == "fused")
            p["time_us"]["samples"] = [0.7 * x for x in p["time_us"]["samples"]]
            p["time_us"]["median"] *= 0.7
        quick = cut_down(B, fast)
        try:
            os.environ["RERUN_FILE"] = quick
            code, out = run(self.check.main, self.cmd)
        finally:
            os.unlink(quick)
        self.assertEqual(code, 1, out)
        self.assertIn("nightly rerun check: FAIL: tools/nightly exited 0, not 1", out)

    def test_a_failed_baseline_run_exits_2(self):
        os.environ["RUN_FILE"] = os.path.join(self.root, "missing.json")
        with redirect_stderr(io.StringIO()) as err:
            code, _ = run(self.check.main, self.cmd)
        self.assertEqual(code, 2)
        self.assertIn("nightly rerun check: error: the baseline run failed", err.getvalue())

    def test_a_command_that_does_not_exist_exits_2(self):
        with redirect_stderr(io.StringIO()) as err:
            code, _ = run(self.check.main, [os.path.join(self.root, "no-such-nightly")])
        self.assertEqual(code, 2)
        self.assertIn("nightly rerun check: error: the baseline run failed (rc=127)", err.getvalue())
        self.assertIn("No such file or directory", err.getvalue())
