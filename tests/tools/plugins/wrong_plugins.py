"""Implementations that are wrong in one way each, handed to tools/torch-run by its tests: each must
be reported as a mismatch (exit 1), or as the plugin's failure (exit 3)."""
import torch
import torch.distributed as dist

from shardbench_tools import torch_reference as ref


def batch_peers_reversed(logits, group, input_lens):
    """Concatenates the received vocab shards in reverse rank order."""
    world = dist.get_world_size(group)
    local, lens, idx = ref.all_to_all_batch_sharded_logits(logits, group, input_lens)
    vl = local.shape[-1] // world
    return torch.cat(list(reversed(local.split(vl, dim=-1))), dim=-1), lens, idx


def usp_window_one_late(logits, group, input_lens, ttt_length, sequence_rank, sequence_size):
    """Every window starts one token late."""
    shifted = torch.cat([logits[1:], logits[:1]])
    return ref.all_to_all_sequence_sharded_logits(shifted, group, input_lens, ttt_length, sequence_rank, sequence_size)


def baseline_no_reorder(logits, group, vocab_size):
    """Reads the gathered [P, T, Vl] as [T, Vp] without the movedim."""
    world = dist.get_world_size(group)
    gathered = torch.empty((world,) + tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    dist.all_gather_into_tensor(gathered, logits, group=group)
    return gathered.reshape(logits.shape[0], -1)[:, :vocab_size].float()


def batch_raises(logits, group, input_lens):
    raise ValueError("this plugin fails")


not_a_function = 3
