"""What tools/torch-run puts between a plugin and torch.distributed. Installed over the module's
attributes before the plugin is imported, so a plugin calls it unchanged, through `dist.all_to_all`
or a name it imported from torch.distributed. Every collective is counted (the bytes that leave the
rank) and timed (the `comm` phase).

Real ranks (torchrun, NCCL or gloo): calls pass through. On gloo, the list all-to-all and
all_gather_into_tensor (which gloo lacks in older PyTorch) are point-to-point sends and receives and
a list all-gather into views of the output, and bfloat16 travels as bytes (gloo moves none): the
same bytes, no extra buffer.

One emulated rank (`--emulate one`): rank r runs alone and this layer stands in for its peers.
Before the timed iterations it records what every peer contributes: the plugin runs as peer q, on
q's own input, up to its k-th collective, which is recorded and cut short; all-gathers are recorded
from every rank, so a peer can run past them, and an all-to-all is the last collective this mode
follows. Timed iterations then get the recorded all-gathered values (they may steer the code, as
SpecForge's gathered sp ranks do) and, for an all-to-all, copies of the rank's own chunks into the
receive buffers: the same bytes moved device to device, without holding the peers' data on the
device beside the run. One more iteration, untimed, receives the peers' recorded chunks (kept in
host memory) and its output is the one verified."""
import time

import torch
import torch.distributed as dist

NAMES = ("get_world_size", "get_rank", "all_gather", "all_gather_into_tensor", "all_to_all", "all_to_all_single")
GATHERS = ("all_gather", "all_gather_into_tensor")


class UsageError(Exception):
    """A plugin this runner cannot serve as asked (exit 2)."""


class _CutShort(Exception):
    """Raised into a peer's recording run at the collective being recorded."""


def _nbytes(t):
    return t.numel() * t.element_size()


def _splits(t, sizes, world):
    """t split along dim 0 by sizes (None: evenly), as all_to_all_single does."""
    return list(t.split(sizes if sizes else t.shape[0] // world, dim=0))


class timer:
    """Elapsed time between marks: CUDA events on a GPU, the host clock on CPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def mark(self):
        if self.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def us(self, a, b):
        """Microseconds from mark a to mark b (on a GPU, after the stream has passed b)."""
        return a.elapsed_time(b) * 1e3 if self.cuda else (b - a) * 1e6


class collectives:
    def __init__(self, world, rank, device, emulated):
        self.world, self.rank, self.device, self.emulated = world, rank, device, emulated
        self.timer = timer(device)
        self.originals = {}
        self.mode = "real" if not emulated else "timed"  # emulated: "record", "timed" or "verify"
        self.as_rank = rank  # the rank a recording run plays
        self.stop_at = None
        self.call = 0
        self.kinds = []       # per call index: the collective's name
        self.gathered = []    # per call index: {rank: device tensor} (all-gathers)
        self.stash = []       # per call index: {peer: host tensor of what it sends this rank} (all-to-alls)
        self.sent_by = {}     # rank -> bytes it sends per iteration (emulated: from the recordings)
        self.counting = {}
        self.reset_iteration()

    # ---- bookkeeping ------------------------------------------------------------------------
    def reset_iteration(self):
        self.call = 0
        self.bytes_sent = 0
        self.op_bytes = 0
        self.op_kind = None
        self.spans = []  # (start mark, end mark) of each collective

    def _count(self, kind, sent, op):
        self.bytes_sent += sent
        if op > self.op_bytes:
            self.op_bytes, self.op_kind = op, "all_gather" if kind in GATHERS else "all_to_all"

    def comm_us(self):
        return sum(self.timer.us(a, b) for a, b in self.spans)

    def install(self):
        for n in NAMES:
            self.originals[n] = getattr(dist, n)
            setattr(dist, n, getattr(self, n))

    def uninstall(self):
        for n, f in self.originals.items():
            setattr(dist, n, f)
        self.originals = {}

    # ---- the calls a plugin makes ----------------------------------------------------------
    def get_world_size(self, group=None):
        return self.world if self.emulated else self.originals["get_world_size"](group)

    def get_rank(self, group=None):
        return self.as_rank if self.emulated else self.originals["get_rank"](group)

    def all_gather(self, tensor_list, tensor, group=None, async_op=False):
        self._collective("all_gather", lambda: self._real_all_gather(tensor_list, tensor, group),
                         sent=_nbytes(tensor) * (self.world - 1), op=_nbytes(tensor) * self.world,
                         contribution=tensor, outputs=tensor_list)

    def all_gather_into_tensor(self, output, tensor, group=None, async_op=False):
        self._collective("all_gather_into_tensor", lambda: self._real_gather_into(output, tensor, group),
                         sent=_nbytes(tensor) * (self.world - 1), op=_nbytes(tensor) * self.world,
                         contribution=tensor, outputs=list(output.view(self.world, -1).unbind(0)))

    def all_to_all(self, output_list, input_list, group=None, async_op=False):
        me = self.as_rank
        self._collective("all_to_all", lambda: self._real_all_to_all(output_list, input_list, group),
                         sent=sum(_nbytes(t) for q, t in enumerate(input_list) if q != me),
                         op=sum(_nbytes(t) for t in input_list), inputs=input_list, outputs=output_list)

    def all_to_all_single(self, output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                          async_op=False):
        ins = _splits(input, input_split_sizes, self.world)
        outs = _splits(output, output_split_sizes, self.world)
        me = self.as_rank
        self._collective("all_to_all_single",
                         lambda: self.originals["all_to_all_single"](output, input, output_split_sizes,
                                                                     input_split_sizes, group=group),
                         sent=sum(_nbytes(t) for q, t in enumerate(ins) if q != me), op=_nbytes(input),
                         inputs=ins, outputs=outs)

    # ---- one collective ------------------------------------------------------------------------
    def _collective(self, kind, real, sent, op, contribution=None, inputs=None, outputs=None):
        k = self.call
        self.call += 1
        if self.mode == "record":
            self.counting[self.as_rank] = self.counting.get(self.as_rank, 0) + sent
            if k >= self.stop_at:
                self._record(k, kind, contribution, inputs)  # raises _CutShort
            if self.kinds[k] not in GATHERS:
                raise UsageError("--emulate one follows a plugin only up to its first all-to-all; this one calls "
                                 "another collective after it (run it on real ranks under torchrun)")
            return self._replay(k, kind, contribution, inputs, outputs)  # recorded already: served
        self._count(kind, sent, op)
        start = self.timer.mark()
        if self.mode == "real":
            real()
        else:
            self._replay(k, kind, contribution, inputs, outputs)
        self.spans.append((start, self.timer.mark()))

    def _record(self, k, kind, contribution, inputs):
        if k == len(self.kinds):
            self.kinds.append(kind)
            self.gathered.append({})
            self.stash.append({})
        elif self.kinds[k] != kind:
            raise UsageError(f"rank {self.as_rank} makes a {kind} where rank {self.rank} makes a {self.kinds[k]} "
                             f"(collective {k}): the ranks would not meet")
        if kind in GATHERS:
            self.gathered[k][self.as_rank] = contribution.detach().clone()
        elif self.as_rank != self.rank:
            self.stash[k][self.as_rank] = inputs[self.rank].detach().to("cpu")
        raise _CutShort()

    def _replay(self, k, kind, contribution, inputs, outputs):
        """Collective k of the rank this layer plays (as_rank), from the recordings."""
        if k >= len(self.kinds) or self.kinds[k] != kind:
            raise UsageError(f"the plugin's collective {k} ({kind}) is not the one recorded for it: "
                             "--emulate one needs the same collectives on every call")
        me = self.as_rank
        if kind in GATHERS:
            for q, out in enumerate(outputs):
                out.view(-1).copy_((contribution if q == me else self.gathered[k][q]).reshape(-1))
            return
        for q, out in enumerate(outputs):
            if q == me or self.mode == "timed":
                if out.shape != inputs[q].shape:
                    raise UsageError("--emulate one times an all-to-all by copying the rank's own chunks: the chunk "
                                     f"to and from rank {q} differ in size (run it under torchrun)")
                out.copy_(inputs[q])
            else:
                out.copy_(self.stash[k][q].view(out.shape))

    # ---- recording the peers (emulated) ------------------------------------------------------
    def record(self, run_as):
        """Records every peer's contributions: run_as(q) runs the plugin as rank q on q's inputs."""
        self.mode = "record"
        k = 0
        try:
            while True:
                self.counting = {}
                if not self._record_one(run_as, self.rank, k):
                    break  # rank r makes no collective k: all are recorded
                for q in range(self.world):
                    if q != self.rank and not self._record_one(run_as, q, k):
                        raise UsageError(f"rank {q} makes fewer collectives than rank {self.rank}")
                self.sent_by = self.counting  # every rank's bytes through collective k
                if self.kinds[k] not in GATHERS:
                    break
                k += 1
        finally:
            self.mode, self.as_rank, self.stop_at = "timed", self.rank, None

    def _record_one(self, run_as, q, k):
        self.as_rank, self.stop_at, self.call = q, k, 0
        try:
            run_as(q)
        except _CutShort:
            return True
        return False

    # ---- the real collectives, where gloo lacks them ------------------------------------------
    @staticmethod
    def _gloo_view(t):
        """gloo moves no bfloat16: the same bytes, as bytes."""
        return t.view(torch.uint8) if t.dtype == torch.bfloat16 else t

    def _real_all_gather(self, tensor_list, tensor, group):
        if dist.get_backend(group) == "gloo":
            tensor_list, tensor = [self._gloo_view(t) for t in tensor_list], self._gloo_view(tensor)
        self.originals["all_gather"](tensor_list, tensor, group=group)

    def _real_gather_into(self, output, tensor, group):
        if dist.get_backend(group) != "gloo":
            return self.originals["all_gather_into_tensor"](output, tensor, group=group)
        self._real_all_gather(list(output.view(self.world, *tensor.shape).unbind(0)), tensor, group)

    def _real_all_to_all(self, output_list, input_list, group):
        if dist.get_backend(group) != "gloo":
            return self.originals["all_to_all"](output_list, input_list, group=group)
        reqs = []
        for q in range(self.world):
            if q == self.rank:
                output_list[q].copy_(input_list[q])
                continue
            reqs.append(dist.isend(self._gloo_view(input_list[q].contiguous()), q, group=group))
            reqs.append(dist.irecv(self._gloo_view(output_list[q]), q, group=group))
        for r in reqs:
            r.wait()
