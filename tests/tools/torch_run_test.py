"""tools/torch-run on CPU: its generator is shardbench's bit for bit, the reference implementations
reproduce the golden cases and verify over their shapes on one emulated rank and on real gloo ranks,
a wrong implementation is a mismatch, and bad input is one line with exit 2. Needs PyTorch and the
shardbench binary ($SHARDBENCH)."""
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(HERE, "plugins"))

from shardbench_tools import torch_gen, torch_run  # noqa: E402
from shardbench_tools.inputs import check_result  # noqa: E402
from shardbench_tools.torch_collectives import collectives  # noqa: E402

GOLDEN = os.path.join(ROOT, "tests", "golden")


def run(args):
    """torch_run.main in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = torch_run.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def shape_args(c, path):
    args = ["--tp", c["tp"], "--seq", c["seq"], "--vocab", c["vocab"], "--vocab-pad", c["vocab_pad"], "--hidden", 4,
            "--iters", 2, "--warmup", 1, "--device", "cpu"]
    if path == "usp":
        args += ["--sp-ulysses", c["sp_ulysses"], "--sp-ring", c["sp_ring"], "--ttt", c["ttt"]]
    else:
        args += ["--batch", c["batch"]]
    return args


def cases():
    with open(os.path.join(GOLDEN, "cases.json")) as f:
        return json.load(f)


class generator(unittest.TestCase):
    def test_inputs_equal_shardbench_dumps_bitwise(self):
        binary = os.environ.get("SHARDBENCH")
        self.assertTrue(binary, "SHARDBENCH names the shardbench binary")
        for tp, batch, seq, vocab, dtype, seed in ((1, 2, 16, 100, "bf16", 1), (3, 4, 8, 190, "fp16", 5),
                                                   (8, 1, 24, 1000, "fp32", 123456789012)):
            with self.subTest(tp=tp, dtype=dtype), tempfile.TemporaryDirectory() as d:
                subprocess.run([binary, "run", "--backend", "cpu", "--paths", "batch", "--variants", "fused", "--tp", str(tp),
                                "--batch", str(batch), "--seq", str(seq), "--vocab", str(vocab), "--dtype", dtype,
                                "--seed", str(seed), "--iters", "1", "--warmup", "0", "--dump", d], check=True,
                               stdout=subprocess.DEVNULL)
                s = torch_gen.Shape(dtype=dtype, tp=tp, batch=batch, seq=seq, vocab=vocab, seed=seed)
                for r in range(tp):
                    dumped = np.load(os.path.join(d, f"batch_fused_{dtype}_r{r}_input.npy"))
                    mine = torch_gen.input_shard(s, r, "cpu").float().numpy()
                    self.assertEqual(dumped.shape, mine.shape)
                    self.assertTrue((dumped.astype(np.float32).view(np.uint32) == mine.view(np.uint32)).all(), f"rank {r}")


class golden(unittest.TestCase):
    """The reference implementations on the golden cases' own inputs (not shardbench's generator)
    give the outputs SpecForge's and SGLang's code gave, bit for bit."""

    def test_reference_reproduces_the_golden_outputs(self):
        for c in cases():
            for path in ("baseline", c["path"]):
                with self.subTest(case=c["name"], path=path):
                    self.check(c, path)

    def check(self, c, path):
        s = torch_gen.Shape(dtype="fp32", tp=c["tp"], sp_ulysses=c["sp_ulysses"] if path == "usp" else 1,
                            sp_ring=c["sp_ring"] if path == "usp" else 1, batch=c["batch"], seq=c["seq"],
                            vocab=c["vocab"], vocab_pad=c["vocab_pad"], ttt=c["ttt"])
        inputs = [torch.from_numpy(np.load(os.path.join(GOLDEN, c["name"], f"input_r{q}.npy"))) for q in range(s.tp)]
        for r in range(s.tp):
            layer = collectives(s.tp, r, torch.device("cpu"), emulated=True)
            layer.install()
            try:
                runner = torch_run.runner(path, s, torch_run.REFERENCE[path], layer, None, torch.device("cpu"))
                runner.input_of = lambda q: inputs[q]
                layer.record(lambda q: runner.call(runner.input_of(q), q))
                layer.mode = "verify"
                out, _ = runner.iteration(inputs[r], r)
            finally:
                layer.uninstall()
            want = np.load(os.path.join(GOLDEN, c["name"], f"{path}_r{r}.npy"))
            self.assertEqual(list(out.shape), list(want.shape), f"rank {r}")
            self.assertTrue(np.array_equal(out.numpy().view(np.uint32), want.view(np.uint32)), f"rank {r}")


class emulated(unittest.TestCase):
    def test_reference_verifies_over_the_golden_shapes_on_every_rank(self):
        for c in cases():
            for path in ("baseline", c["path"]):
                for r in range(c["tp"]):
                    with self.subTest(case=c["name"], path=path, rank=r):
                        code, out, err = run(["--path", path, "--impl", "reference", "--emulate", "one",
                                              "--emulated-rank", r] + shape_args(c, path))
                        self.assertEqual(code, 0, err)

    def test_results_are_a_shardbench_result_file_with_the_plans_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.json")
            code, _, err = run(["--path", "usp", "--impl", "reference", "--emulate", "one", "--tp", 4, "--sp-ulysses", 2,
                                "--seq", 64, "--vocab", 1000, "--ttt", 3, "--device", "cpu", "--iters", 3,
                                "--warmup", 0, "--out", out])
            self.assertEqual(code, 0, err)
            with open(out) as f:
                doc = check_result(json.load(f), out)
        p = doc["points"][0]
        self.assertEqual((p["path"], p["variant"], p["impl"], p["status"], p["verified"]), ("usp", "torch", "reference", "ok", True))
        lloc, vl = 64 // 2 + 3, 1024 // 4
        self.assertEqual(p["bytes_sent_per_rank"], 3 * 2 * lloc * vl * 4 + 3 * 8)  # every sample to every rank, fp32
        self.assertEqual(p["op_bytes"], 4 * 2 * lloc * vl * 4)
        self.assertEqual(len(p["time_us"]["samples"]), 3)
        self.assertEqual(sorted(p["phases_us"]), ["call", "comm", "trainer"])
        # padded, send, recv and the concat of both samples above the fp32 input; the sp ranks and
        # PyTorch's own scalars add a few dozen bytes
        fp32 = 2 * 64 * vl * 4
        above = p["memory"]["above_input_bytes"] - fp32 - (2 * 64 * vl * 4 + 3 * 4 * 2 * lloc * vl * 4)
        self.assertTrue(0 <= above <= 64, above)

    def test_a_wrong_implementation_is_a_mismatch(self):
        for path, fn, extra in (("batch", "batch_peers_reversed", ["--batch", 3]),
                                ("usp", "usp_window_one_late", ["--sp-ulysses", 4, "--ttt", 2]),
                                ("baseline", "baseline_no_reorder", ["--batch", 2])):
            with self.subTest(fn=fn):
                code, _, err = run(["--path", path, "--impl", f"wrong_plugins:{fn}", "--emulate", "one", "--tp", 4,
                                    "--seq", 16, "--vocab", 300, "--device", "cpu", "--iters", 1, "--warmup", 0] + extra)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, rf"^torch-run: verification failed: {path}/torch rank 0 buffer 'output': \d+ "
                                      r"mismatches, first at flat index \d+: expected \S+ got \S+\n$")

    def test_a_plugin_that_fails_exits_3_with_one_line(self):
        code, _, err = run(["--path", "batch", "--impl", "wrong_plugins:batch_raises", "--emulate", "one", "--tp", 2,
                            "--seq", 8, "--vocab", 100, "--device", "cpu"])
        self.assertEqual(code, 3)
        self.assertEqual(err, "torch-run: error: ValueError: this plugin fails\n")

    def test_bad_input_is_one_line_and_exit_2(self):
        base = ["--emulate", "one", "--device", "cpu", "--seq", 16, "--vocab", 100]
        for args, message in (
                (["--path", "usp", "--impl", "reference", "--tp", 8, "--sp-ulysses", 4, "--batch", 1],
                 "--batch applies to the baseline and batch paths only (usp takes B = P/sp)"),
                (["--path", "usp", "--impl", "reference", "--tp", 6, "--sp-ulysses", 4, "--vocab-pad", 96],
                 "usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P=6, U*R=4)"),
                (["--path", "usp", "--impl", "reference", "--tp", 2, "--sp-ulysses", 2, "--ttt", 16],
                 "usp needs ttt below seq (ttt=16, seq=16)"),
                (["--path", "baseline", "--impl", "reference", "--tp", 2, "--ttt", 7], "--ttt applies to the usp path only"),
                (["--path", "batch", "--impl", "reference", "--tp", 3], "padded vocab must divide by tp: Vp % P != 0 (Vp=128, P=3)"),
                (["--path", "batch", "--impl", "reference", "--tp", 2, "--sp-ulysses", 2],
                 "sp applies to the usp path only: batch needs sp_ulysses=sp_ring=1 (got 2x1)"),
                (["--path", "batch", "--impl", "nowhere_module:f", "--tp", 2], None),
                (["--path", "batch", "--impl", "wrong_plugins:missing", "--tp", 2], "--impl wrong_plugins:missing: wrong_plugins has no missing"),
                (["--path", "batch", "--impl", "wrong_plugins:not_a_function", "--tp", 2],
                 "--impl wrong_plugins:not_a_function: not_a_function is not a function"),
                (["--impl", "reference"], "the following arguments are required: --path"),
                (["--path", "batch", "--impl", "reference", "--tp", 2, "--emulated-rank", 2],
                 "--emulated-rank must be in [0, tp) (got 2, tp=2)"),
                (["--path", "batch", "--impl", "reference", "--tp", 2000], "tp must be between 1 and 1024 (got 2000)"),
                (["--path", "nope", "--impl", "reference"], None)):
            with self.subTest(args=args):
                code, out, err = run(args + base if "--tp" in args else args + base + ["--tp", 2])
                self.assertEqual(code, 2, err)
                self.assertEqual(err.count("\n"), 1, err)
                self.assertTrue(err.startswith("torch-run: error: "), err)
                if message:
                    self.assertEqual(err, f"torch-run: error: {message}\n")
        code, _, err = run(["--path", "batch", "--impl", "reference", "--tp", 2, "--device", "cpu"])
        self.assertEqual((code, err), (2, "torch-run: error: tp 2 needs --emulate one, or 2 processes under torchrun\n"))


class report(unittest.TestCase):
    """shardbench's specforge variants and the reference, side by side: the same bytes on the wire and
    the same peak above the inputs (torch_report's check)."""

    def test_specforge_and_the_reference_send_the_same_bytes_and_hold_the_same_peak(self):
        binary = os.environ.get("SHARDBENCH")
        self.assertTrue(binary, "SHARDBENCH names the shardbench binary")
        from shardbench_tools import torch_report
        with tempfile.TemporaryDirectory() as d:
            files = []
            for path, flags in (("usp", ["--tp", "8", "--sp-ulysses", "4", "--seq", "64"]),
                                ("batch", ["--tp", "8", "--batch", "6", "--seq", "32"]),
                                ("baseline", ["--tp", "4", "--batch", "3", "--seq", "32"])):
                common = flags + ["--vocab", "1000", "--hidden", "4", "--iters", "2", "--warmup", "0"]
                sb = os.path.join(d, f"sb_{path}.json")
                subprocess.run([binary, "run", "--backend", "cpu", "--paths", path, "--variants", "specforge", "--out", sb]
                               + common, check=True, stdout=subprocess.DEVNULL)
                t = os.path.join(d, f"t_{path}.json")
                code, _, err = run(["--path", path, "--impl", "reference", "--emulate", "one", "--device", "cpu",
                                    "--out", t] + common)
                self.assertEqual(code, 0, err)
                files.append((sb, t))
            for sb, t in files:
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    code = torch_report.main([sb, t])
                self.assertEqual(code, 0, out.getvalue())
                self.assertIn("PASS", out.getvalue())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class real_ranks(unittest.TestCase):
    """Two processes on gloo, started as torchrun starts them (its environment variables)."""

    def test_every_path_verifies_on_two_gloo_ranks(self):
        for path, extra in (("baseline", ["--batch", 3]), ("batch", ["--batch", 3]), ("usp", ["--sp-ulysses", 2])):
            with self.subTest(path=path), tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "r.json")
                port = str(free_port())
                procs = []
                for r in range(2):
                    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(r), WORLD_SIZE="2",
                               LOCAL_RANK=str(r))
                    procs.append(subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "torch-run"), "--path", path,
                                                   "--impl", "reference", "--tp", "2", "--seq", "32", "--vocab", "300",
                                                   "--device", "cpu", "--iters", "2", "--warmup", "1", "--out", out]
                                                  + [str(a) for a in extra], env=env, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, text=True))
                for p in procs:
                    _, err = p.communicate(timeout=120)
                    self.assertEqual(p.returncode, 0, err)
                with open(out) as f:
                    p = json.load(f)["points"][0]
                self.assertEqual((p["status"], p["backend"], p["verified"]), ("ok", "torch(gloo) cpu", True))


if __name__ == "__main__":
    unittest.main()
