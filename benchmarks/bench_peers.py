"""What the model-instance FLOP counters (calflops, fvcore, ptflops, DeepSpeed's profiler)
pay per configuration, against bertsize, measured in one run here.

Those tools count the FLOPs of a traced forward of an instantiated model, so each
configuration costs a model build and a forward.  This prints, for BertModel
(bert-base-uncased, random weights, batch 1, seq 128): the build time, one
torch.utils.flop_counter.FlopCounterMode forward under SDPA (the default) and eager
attention with the FLOPs each reports, and bertsize.estimate()'s time and matmul FLOPs.

    python benchmarks/bench_peers.py        (needs torch and transformers)

Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import time
import timeit

import torch
import transformers
from torch.utils.flop_counter import FlopCounterMode

import bertsize
from bertsize.hf_config import to_hf_config

ENCODER = bertsize.preset("bert-base-uncased")
WORKLOAD = bertsize.Workload(batch=1, seq_len=128)


def main() -> None:
    start = time.perf_counter()
    model = transformers.BertModel(to_hf_config(ENCODER, attention="sdpa")).eval()
    build = time.perf_counter() - start
    tokens = torch.randint(0, ENCODER.vocab, (WORKLOAD.batch, WORKLOAD.seq_len))
    print(f"building BertModel(bert-base-uncased) from its config: {build:.2f} s")
    for attention in ("sdpa", "eager"):
        model.config._attn_implementation = attention
        counter = FlopCounterMode(display=False)
        start = time.perf_counter()
        with torch.no_grad(), counter:
            model(tokens)
        seconds = time.perf_counter() - start
        print(f"FlopCounterMode forward, {attention} attention: {seconds:.2f} s, "
              f"{counter.get_total_flops() / 1e9:.2f} GFLOP")
    flops = bertsize.estimate(ENCODER, WORKLOAD).flops_fwd
    calls = 100_000
    per_call = min(timeit.repeat(lambda: bertsize.estimate(ENCODER, WORKLOAD), number=calls, repeat=3)) / calls
    print(f"bertsize.estimate(): {per_call * 1e6:.2f} us, {flops / 1e9:.2f} GFLOP (matmuls, eager-equivalent)")


if __name__ == "__main__":
    main()
