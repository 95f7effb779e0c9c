"""tools/torch-run: times a PyTorch implementation of a path on exactly shardbench's inputs, verifies
its output bit for bit against the path's definition, and writes a shardbench.result/1 file, so that
tools/compare, tools/plot and the gate put real Python code beside shardbench's variants.

  tools/torch-run --path baseline|batch|usp --impl reference|MODULE:FUNCTION [shape flags of
                  `shardbench run`] [--device cpu|cuda] [--emulate one [--emulated-rank R]] [--out FILE]

A plugin takes SpecForge's calling convention (docs/torch-run.md): batch
`f(logits, group, input_lens)`, usp `f(logits, group, input_lens, ttt_length, sequence_rank,
sequence_size)`, baseline `f(logits, group, vocab_size)`. The runner's own steps around the call are
the same for every plugin: SGLang's fp32 upcast before batch and usp, and the trainer's after it
(the split into samples for the baseline, SpecForge's shift, usp's pick of the rank's own sample).

Ranks: real ones under torchrun (or any launcher that sets RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT), NCCL on GPUs and gloo on CPU; or `--emulate one`, one rank whose peers the runner
stands in for (torch_collectives.py). Exit codes as shardbench's: 0 verified, 1 a mismatch, 2 usage
(one line), 3 a failure of the plugin or the machine, 4 nothing verified (out of memory)."""
import argparse
import datetime
import importlib
import json
import os
import socket
import statistics
import subprocess
import sys
import weakref

import torch
import torch.distributed as dist
from torch.utils._python_dispatch import TorchDispatchMode

from . import torch_gen, torch_reference
from .torch_collectives import UsageError, collectives, timer

PATHS = ("baseline", "batch", "usp")
REFERENCE = {"baseline": torch_reference.all_gather_logits, "batch": torch_reference.all_to_all_batch_sharded_logits,
             "usp": torch_reference.all_to_all_sequence_sharded_logits}
EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_RUNTIME, EXIT_NOTHING_VERIFIED = 0, 1, 2, 3, 4
# The bounds shardbench documents for its axes (docs/cli.md).
LIMITS = {"tp": 1024, "sp_ulysses": 1024, "sp_ring": 1024, "batch": 1 << 20, "seq": 1 << 24, "vocab": (1 << 31) - 1,
          "vocab_pad": 1 << 20, "hidden": 1 << 20, "ttt": 1 << 24, "iters": 1000000, "warmup": 1000000}


class _parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    ap = _parser(prog="tools/torch-run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", required=True, choices=PATHS)
    ap.add_argument("--impl", required=True, help="reference, or MODULE:FUNCTION importable from here or PYTHONPATH")
    for flag, default in (("tp", 1), ("sp-ulysses", 1), ("sp-ring", 1), ("batch", None), ("seq", 1024),
                          ("vocab", 32000), ("vocab-pad", 64), ("hidden", 4096), ("ttt", None), ("seed", 1),
                          ("iters", 20), ("warmup", 5)):
        ap.add_argument("--" + flag, type=int, default=default)
    ap.add_argument("--dtype", default="bf16", choices=sorted(torch_gen.DTYPES))
    ap.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when a GPU is present")
    ap.add_argument("--emulate", choices=("one",), help="one rank, its peers stood in for by the runner")
    ap.add_argument("--emulated-rank", type=int, default=0)
    ap.add_argument("--out", help="results JSON (shardbench.result/1)")
    return ap.parse_args(argv)


def shape_of(a):
    """The point's shape; usp trains one sample per draft data-parallel group, B = P/sp, as shardbench."""
    if a.path == "usp" and a.batch is not None:
        raise UsageError("--batch applies to the baseline and batch paths only (usp takes B = P/sp)")
    if a.path != "usp" and a.ttt is not None:
        raise UsageError("--ttt applies to the usp path only")
    sp = a.sp_ulysses * a.sp_ring
    batch = a.batch if a.batch is not None else (a.tp // sp if a.path == "usp" and sp > 0 and a.tp % sp == 0 else 1)
    return torch_gen.Shape(dtype=a.dtype, tp=a.tp, sp_ulysses=a.sp_ulysses, sp_ring=a.sp_ring, batch=batch, seq=a.seq,
                           vocab=a.vocab, vocab_pad=a.vocab_pad, hidden=a.hidden, ttt=7 if a.ttt is None else a.ttt,
                           seed=a.seed)


def validate(a, s):
    """The rules shardbench's validate() applies (docs/cli.md), as one line each."""
    values = dict(tp=s.tp, sp_ulysses=s.sp_ulysses, sp_ring=s.sp_ring, batch=s.batch, seq=s.seq, vocab=s.vocab,
                  vocab_pad=s.vocab_pad, hidden=s.hidden, ttt=s.ttt, iters=a.iters, warmup=a.warmup)
    for name, v in values.items():
        low = 0 if name in ("ttt", "warmup") else 1
        if not low <= v <= LIMITS[name]:
            raise UsageError(f"{name} must be between {low} and {LIMITS[name]} (got {v})")
    if s.seed < 0 or s.seed >= 1 << 64:
        raise UsageError(f"seed must be an unsigned 64-bit integer (got {s.seed})")
    if s.vocab_padded % s.tp:
        raise UsageError(f"padded vocab must divide by tp: Vp % P != 0 (Vp={s.vocab_padded}, P={s.tp})")
    if a.path != "usp":
        if s.sp != 1:
            raise UsageError(f"sp applies to the usp path only: {a.path} needs sp_ulysses=sp_ring=1 "
                             f"(got {s.sp_ulysses}x{s.sp_ring})")
        return
    if s.tp % s.sp:
        raise UsageError(f"usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P={s.tp}, U*R={s.sp})")
    if s.batch != s.tp // s.sp:
        raise UsageError(f"usp needs one sample per draft dp group: B == P/sp (B={s.batch}, P/sp={s.tp // s.sp})")
    if s.seq % s.sp:
        raise UsageError(f"usp needs S % sp == 0 (S={s.seq}, sp={s.sp})")
    if s.ttt >= s.seq:
        raise UsageError(f"usp needs ttt below seq (ttt={s.ttt}, seq={s.seq})")


def load_impl(impl, path):
    if impl == "reference":
        return REFERENCE[path]
    module, sep, name = impl.partition(":")
    if not sep or not module or not name:
        raise UsageError(f"--impl must be reference or MODULE:FUNCTION (got '{impl}')")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        fn = getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise UsageError(f"--impl {impl}: cannot import {module} ({e})") from None
    except AttributeError:
        raise UsageError(f"--impl {impl}: {module} has no {name}") from None
    if not callable(fn):
        raise UsageError(f"--impl {impl}: {name} is not a function")
    return fn


def shift(x):
    """SpecForge's padding(x, left=False) along dim 1: row s takes row s+1, the last row is 0."""
    out = torch.empty_like(x)
    out[:, :-1] = x[:, 1:]
    out[:, -1] = 0
    return out


class runner:
    """One rank's path: the runner's steps around the plugin's call, timed per phase."""

    def __init__(self, path, shape, plugin, layer, group, device):
        self.path, self.s, self.plugin, self.layer, self.group, self.device = path, shape, plugin, layer, group, device
        self.lens = [shape.seq] * shape.batch
        self.timer = timer(device)

    def input_of(self, rank):
        return torch_gen.input_shard(self.s, rank, self.device)

    def call(self, x, rank):
        """SGLang's upcast (batch, usp) and the plugin's call, as rank `rank`."""
        s = self.s
        if self.path == "baseline":
            return self.plugin(x, self.group, s.vocab)
        logits = x.float()
        if self.path == "batch":
            return self.plugin(logits, self.group, self.lens)
        return self.plugin(logits, self.group, self.lens, s.ttt, rank % s.sp, s.sp)

    def trainer(self, box, rank):
        """The trainer's steps on what the call returned (handed over in a one-item list, so that
        dropping it here frees it as the trainer's code would): the rank's output."""
        s = self.s
        ret = box.pop()
        if self.path == "baseline":
            samples = torch.cat([x.unsqueeze(0) for x in ret.split(self.lens)])
            del ret
            return shift(samples)
        flat, lens, indices = ret
        del ret
        if len(set(lens)) > 1:
            raise UsageError(f"the plugin returned samples of different lengths {lens}; every sample here has {s.seq}")
        rows = lens[0] if lens else s.seq
        if self.path == "batch":
            return shift(flat.view(len(lens), rows, flat.shape[-1]))
        shifted = shift(flat.view(len(lens), rows, flat.shape[-1]))
        del flat
        mine = indices.index(rank // s.sp)
        return shifted[mine].clone()

    def iteration(self, x, rank):
        """One iteration: (output, {phase: us} marks resolved later)."""
        self.layer.reset_iteration()
        t0 = self.timer.mark()
        box = [self.call(x, rank)]
        t1 = self.timer.mark()
        out = self.trainer(box, rank)
        t2 = self.timer.mark()
        return out, (t0, t1, t2)

    def phases(self, marks):
        t0, t1, t2 = marks
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        comm = self.layer.comm_us()
        total = self.timer.us(t0, t2)
        return total, {"comm": comm, "call": self.timer.us(t0, t1) - comm, "trainer": self.timer.us(t1, t2)}


def peak_above(run_once, device):
    """Bytes the allocator held above what was allocated before, at its peak, over run_once()."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        reserved = torch.cuda.memory_reserved(device)
        torch.cuda.reset_peak_memory_stats(device)
        run_once()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base, torch.cuda.max_memory_reserved(device) - reserved
    # PyTorch keeps no allocator statistics on CPU: follow every storage an op makes until the last
    # tensor that holds it is gone.
    with storage_tracker() as tracker:
        run_once()
    return tracker.peak, None


def _storage(t):
    return t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()


class storage_tracker(TorchDispatchMode):
    """The peak of the bytes held in storages that ops made while it was active: an op's output whose
    storage none of its inputs holds is an allocation; it is freed when the last tensor viewing it
    dies. Storages made before it started (the input) are not counted, nor are views of them."""

    def __init__(self):
        super().__init__()
        self.live = {}  # storage address -> [bytes, tensors holding it]
        self.level = self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        seen = {_storage(a).data_ptr() for a in _tensors(args) + _tensors(kwargs)}
        for t in _tensors(out):
            key = _storage(t).data_ptr()
            if key in self.live:
                self._hold(t, key)
            elif key not in seen and _storage(t).nbytes():
                self.live[key] = [_storage(t).nbytes(), 0]
                self.level += self.live[key][0]
                self.peak = max(self.peak, self.level)
                self._hold(t, key)
        return out

    def _hold(self, t, key):
        self.live[key][1] += 1
        weakref.finalize(t, self._release, key)

    def _release(self, key):
        entry = self.live[key]
        entry[1] -= 1
        if entry[1] == 0:
            self.level -= entry[0]
            del self.live[key]


def _tensors(x):
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for e in x for t in _tensors(e)]
    if isinstance(x, dict):
        return [t for e in x.values() for t in _tensors(e)]
    return []


def git_sha():
    if os.environ.get("SHARDBENCH_GIT_SHA"):
        return os.environ["SHARDBENCH_GIT_SHA"]
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment(device, backend):
    cuda = device.type == "cuda"
    return {"gpu": torch.cuda.get_device_name(device) if cuda else "none (cpu)",
            "gpu_count": torch.cuda.device_count() if cuda else 0, "driver": "", "cuda": torch.version.cuda or "",
            "nccl": ".".join(map(str, torch.cuda.nccl.version())) if cuda else "", "host": socket.gethostname(),
            "git_sha": git_sha(), "build_type": f"python, torch {torch.__version__}", "backend": backend,
            "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "clocks": ""}


def summary(samples):
    if not samples:
        return {"median": 0.0, "min": 0.0, "max": 0.0, "mean": 0.0, "stddev": 0.0, "samples": []}
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "mean": statistics.fmean(samples), "stddev": statistics.stdev(samples) if len(samples) > 1 else 0.0,
            "samples": samples}


def useful_bytes(path, s, rank):
    """Bytes from peers the rank's output needs, at the LM head's dtype (as shardbench's plans)."""
    w = torch_gen.DTYPES[s.dtype].itemsize if hasattr(torch_gen.DTYPES[s.dtype], "itemsize") else \
        torch.tensor([], dtype=torch_gen.DTYPES[s.dtype]).element_size()
    rows = {"baseline": s.tokens, "batch": torch_gen.output_window(s, "batch", rank).rows(),
            "usp": torch_gen.output_window(s, "usp", rank).valid_len}[path]
    return (s.tp - 1) * rows * s.vocab_local * w


def point_record(a, s, backend, impl):
    return {"path": a.path, "variant": "torch", "impl": impl, "backend": backend, "timing": "", "launch_gate": "off",
            "dtype": s.dtype, "tp": s.tp, "sp_ulysses": s.sp_ulysses, "sp_ring": s.sp_ring, "batch": s.batch,
            "seq": s.seq, "vocab": s.vocab, "vocab_pad": s.vocab_pad, "vocab_padded": s.vocab_padded,
            "hidden": s.hidden, "ttt": s.ttt, "seed": s.seed, "consumer": "none", "draft_vocab": 32000,
            "t2d": "uniform", "status": "ok", "reason": "", "verified": False, "mismatches": 0, "first_mismatch": "",
            "cross_checked_with_baseline": False, "iters": a.iters, "warmup": a.warmup, "warmup_ms": 0.0}


def write_results(out, env, config, point):
    doc = {"schema": "shardbench.result/1", "env": env, "config": config, "points": [point]}
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{out}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)


def check_out(out):
    """--out names a file this run may write: nothing there yet, or a regular file."""
    if out is None:
        return
    if out == "":
        raise UsageError("--out is empty; give a file name")
    if os.path.exists(out) and not os.path.isfile(out):
        raise UsageError(f"--out {out}: exists and is not a regular file")
    if out.endswith(os.sep):
        raise UsageError(f"--out {out}: names a folder; give a file name")


def is_oom(e):
    return isinstance(e, getattr(torch.cuda, "OutOfMemoryError", ())) or (
        isinstance(e, RuntimeError) and ("out of memory" in str(e) or "can't allocate memory" in str(e)))


class ranks:
    """This process's place: one emulated rank, or a real rank of a torch.distributed group."""

    def __init__(self, a, device):
        launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        if launched and a.emulate:
            raise UsageError("--emulate one runs one process alone; under torchrun the ranks are real")
        if not launched and not a.emulate and a.tp > 1:
            raise UsageError(f"tp {a.tp} needs --emulate one, or {a.tp} processes under torchrun")
        self.emulated = not launched
        if self.emulated:
            if not 0 <= a.emulated_rank < a.tp:
                raise UsageError(f"--emulated-rank must be in [0, tp) (got {a.emulated_rank}, tp={a.tp})")
            self.rank, self.world, self.group = a.emulated_rank, a.tp, None
            self.backend = "torch(one)"
            return
        self.rank, self.world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        if self.world != a.tp:
            raise UsageError(f"--tp {a.tp} but torchrun started {self.world} processes")
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", self.rank)))
        name = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(name)
        self.group = dist.group.WORLD
        self.backend = f"torch({name})"

    def reduce(self, values, op, device):
        """values reduced over the ranks (op: "max" or "sum"); as they are for one emulated rank."""
        if self.emulated:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
        return t.tolist()


def measure(a, s, device, where, point):
    """Records the peers (emulated), warms up, times, measures the allocator's peak and verifies."""
    layer = collectives(where.world, where.rank, device, where.emulated)
    layer.install()  # before the plugin is imported: names it takes from torch.distributed are ours
    try:
        plugin = load_impl(a.impl, a.path)
        r = runner(a.path, s, plugin, layer, where.group, device)
        if where.emulated:
            layer.record(lambda q: r.call(r.input_of(q), q))
        x = r.input_of(where.rank)
        for _ in range(a.warmup):
            out, marks = r.iteration(x, where.rank)
            del out
            r.phases(marks)
        totals, phases, kept = [], {}, []

        def timed():
            for i in range(a.iters):
                if not where.emulated:
                    dist.barrier()
                out, marks = r.iteration(x, where.rank)
                total, ph = r.phases(marks)
                totals.append(total)
                for k, v in ph.items():
                    phases.setdefault(k, []).append(v)
                if i == a.iters - 1 and not where.emulated:
                    kept.append(out)  # real ranks: the last timed output is the one verified
                del out

        above, reserved = peak_above(timed, device)
        if device.type == "cpu":  # the CPU's peak comes from a profiled iteration, apart from the timed ones
            above, reserved = peak_above(lambda: r.iteration(x, where.rank), device)
            reserved = above
        sent, op, kind = layer.bytes_sent, layer.op_bytes, layer.op_kind
        if where.emulated:
            layer.mode = "verify"  # the peers' recorded bytes, this once
            out, _ = r.iteration(x, where.rank)
            layer.mode = "timed"
        else:
            out = kept[0]
        n, first, want, got = torch_gen.compare(out, s, a.path, where.rank)
    finally:
        layer.uninstall()
    keys = sorted(phases)
    flat = totals + [v for k in keys for v in phases[k]]
    flat = where.reduce(flat, "max", device)
    totals = flat[:a.iters]
    phases = {k: flat[a.iters * (i + 1):a.iters * (i + 2)] for i, k in enumerate(keys)}
    mismatches, sent_all = where.reduce([n, sent], "sum", device)
    sent_max, above_max, reserved_max = where.reduce([sent, above, reserved], "max", device)
    if where.emulated and layer.sent_by:
        sent_max, sent_all = max(layer.sent_by.values()), sum(layer.sent_by.values())
    input_bytes = x.numel() * x.element_size()
    point.update({"verified": mismatches == 0, "mismatches": int(mismatches), "collective": kind or "all_to_all",
                  "bytes_sent_per_rank": int(sent_max), "bytes_sent_all_ranks": int(sent_all), "op_bytes": int(op),
                  "useful_bytes": useful_bytes(a.path, s, where.rank), "time_us": summary(totals),
                  "phases_us": {k: statistics.median(v) for k, v in phases.items()}})
    med = point["time_us"]["median"]
    real_links = not where.emulated and device.type == "cuda"
    point["algbw_gbps"] = op / med / 1e3 if real_links and med > 0 else 0.0
    point["busbw_gbps"] = point["algbw_gbps"] * (s.tp - 1) / s.tp
    point["effective_gbps"] = point["useful_bytes"] / med / 1e3 if med > 0 else 0.0
    point["memory"] = {"predicted_peak_bytes": 0, "tracked_peak_bytes": int(input_bytes + above_max),
                       "device_peak_bytes": int(input_bytes + reserved_max), "inputs_bytes": input_bytes,
                       "above_input_bytes": int(above_max),
                       "allocator": "torch.cuda caching allocator" if device.type == "cuda" else "torch cpu (storages followed)"}
    if mismatches:
        point["status"] = "mismatch"
        where_ = f"flat index {first}: expected {want} got {got}" if first >= 0 else f"shape: expected {want} got {got}"
        point["first_mismatch"] = point["reason"] = (
            f"{a.path}/torch rank {where.rank} buffer 'output': {int(mismatches)} mismatches, first at {where_}")


def main(argv=None):
    try:
        a = parse_args(argv)
        s = shape_of(a)
        validate(a, s)
        check_out(a.out)
        if a.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: no GPU is visible to PyTorch")
        device = torch.device(a.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        where = ranks(a, device)
    except UsageError as e:
        print(f"torch-run: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    backend = where.backend + ("" if device.type == "cuda" else " cpu")
    point = point_record(a, s, backend, a.impl)
    point["timing"] = "cuda events" if device.type == "cuda" else "cpu wall clock"
    code = EXIT_OK
    try:
        measure(a, s, device, where, point)
        code = EXIT_MISMATCH if point["status"] == "mismatch" else EXIT_OK
    except UsageError as e:
        print(f"torch-run: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # the plugin's or the machine's failure: recorded, one line
        point["status"], point["reason"] = ("oom", str(e).splitlines()[0]) if is_oom(e) else ("error", f"{type(e).__name__}: {e}")
        code = EXIT_NOTHING_VERIFIED if point["status"] == "oom" else EXIT_RUNTIME
    if where.rank == 0 or where.emulated:
        if a.out:
            config = {k: v for k, v in vars(a).items() if k != "out"}
            write_results(a.out, environment(device, backend), config, point)
        m = point.get("memory", {})
        print(f"torch-run {a.path}/{a.impl} {backend} rank {where.rank}: {point['status']}"
              + (f", median {point['time_us']['median'] / 1e3:.3f} ms, peak above the input {m['above_input_bytes'] / 1e9:.3f} GB, "
                 f"{point['bytes_sent_per_rank'] / 1e9:.3f} GB sent per rank" if point["status"] in ("ok", "mismatch") else
                 f": {point['reason']}"))
        if point["status"] == "mismatch":
            print(f"torch-run: verification failed: {point['first_mismatch']}", file=sys.stderr)
        elif code == EXIT_RUNTIME:
            print(f"torch-run: error: {point['reason']}", file=sys.stderr)
    if not where.emulated:
        dist.destroy_process_group()
    return code
