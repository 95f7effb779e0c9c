"""Reference PyTorch implementations of the three paths, written for shardbench from the steps of
SGLang's logits all-gather and SpecForge's sharded-target-logits redistribution (docs/torch-run.md):
each step its own allocation and pass, zero fills and host syncs where that code has them. They
take SpecForge's calling convention, so `tools/torch-run --impl reference` and
`--impl specforge...:all_to_all_sequence_sharded_logits` run under the same runner.

They call torch.distributed through its module attributes at call time, which is what lets the
runner stand in for the collectives (`--emulate one`)."""
import torch
import torch.distributed as dist


def _padded_samples(logits, input_lens, samples):
    """[samples, S_max, Vl] zero-filled, each sample's rows copied in (samples >= len(input_lens))."""
    s_max = max(input_lens)
    padded = torch.zeros(samples, s_max, logits.shape[1], dtype=logits.dtype, device=logits.device)
    start = 0
    for b, n in enumerate(input_lens):
        padded[b, :n] = logits[start:start + n]
        start += n
    return padded


def all_to_all_batch_sharded_logits(logits, group, input_lens):
    """batch: the rank's fp32 shard [T, Vl] (samples concatenated) -> (its samples' rows with full
    vocab [n_tokens, Vp], their lengths, their indices). Samples are dealt in blocks of
    ceil(B / P); the batch is padded with zero samples up to a multiple of P."""
    world, rank = dist.get_world_size(group), dist.get_rank(group)
    per_rank = -(-len(input_lens) // world)
    padded = _padded_samples(logits, input_lens, per_rank * world)
    send = list(padded.view(world, per_rank, padded.shape[1], padded.shape[2]).unbind(0))
    recv = [torch.empty_like(chunk) for chunk in send]
    dist.all_to_all(recv, send, group=group)
    concat = torch.cat(recv, dim=-1)  # [per_rank, S_max, Vp]
    mine = list(range(rank * per_rank, min((rank + 1) * per_rank, len(input_lens))))
    if mine:
        local = torch.cat([concat[j, :input_lens[b]] for j, b in enumerate(mine)], dim=0)
    else:
        local = concat.new_empty(0, concat.shape[-1])
    return local, [input_lens[b] for b in mine], mine


def all_to_all_sequence_sharded_logits(logits, group, input_lens, ttt_length, sequence_rank, sequence_size):
    """usp: the rank's fp32 shard [T, Vl] -> (every sample's window of this rank's sp rank with full
    vocab [B·Lloc, Vp], [Lloc] * B, list(range(B))). Every rank learns its peers' sp ranks by an
    all-gather and sends each of them the window of every sample (zero past the sample's end)."""
    world = dist.get_world_size(group)
    samples = len(input_lens)
    padded = _padded_samples(logits, input_lens, samples)
    s_max = padded.shape[1]
    chunk = s_max // sequence_size
    window = chunk + ttt_length
    mine = torch.tensor([sequence_rank], dtype=torch.int64, device=logits.device)
    sp_ranks = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(sp_ranks, mine, group=group)
    send = torch.zeros(world, samples, window, logits.shape[1], dtype=logits.dtype, device=logits.device)
    for d in range(world):
        start = int(sp_ranks[d].item()) * chunk  # a host sync per destination
        rows = max(0, min(window, s_max - start))
        for b in range(samples):
            send[d, b, :rows] = padded[b, start:start + rows]
    recv = torch.empty_like(send)
    dist.all_to_all(list(recv.unbind(0)), list(send.unbind(0)), group=group)
    concat = torch.cat(list(recv.unbind(0)), dim=-1)  # [B, Lloc, Vp]
    return concat.view(samples * window, concat.shape[-1]), [window] * samples, list(range(samples))


def _tp_all_gather(x, group):
    """SGLang's tensor-parallel all-gather along the last dimension: gather [P, T, Vl], then the
    movedim(0, 1) reorder into [T, P·Vl] (a copy; the gathered buffer is freed on return)."""
    world = dist.get_world_size(group)
    gathered = torch.empty((world,) + tuple(x.shape), dtype=x.dtype, device=x.device)
    dist.all_gather_into_tensor(gathered, x, group=group)
    return gathered.movedim(0, 1).reshape(x.shape[0], world * x.shape[1])


def all_gather_logits(logits, group, vocab_size):
    """baseline (SGLang's logits processor): the rank's shard [T, Vl] in the LM head's dtype ->
    the full logits [T, V] in fp32 (all-gather, reorder, then the slice to V with the upcast)."""
    full = _tp_all_gather(logits, group)
    return full[:, :vocab_size].float()
