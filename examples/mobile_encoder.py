"""A BERT encoder for a phone: the largest that runs a 128-token query in under 10 ms and
100 MB on a Snapdragon-8-Gen-2-class CPU, and the trade-off around it.

    python examples/mobile_encoder.py
"""

from __future__ import annotations

import bertsize
from bertsize import units

PHONE = "snapdragon-8-gen-2-cpu"


def main() -> None:
    space = bertsize.Space(
        "bert-base-uncased",
        layers=range(1, 13), hidden=range(128, 769, 64), head_dim=64, ffn_ratio=[2, 3, 4],
        vocab=[8000, 16000, 30522],  # a smaller WordPiece vocabulary buys layers
    )
    budget = bertsize.Budget(memory="100MB", latency="10ms", device=PHONE)
    for precision in ("fp32", "int8"):
        workload = bertsize.Workload(batch=1, seq_len=128, precision=precision)
        result = bertsize.search(space, budget, workload)
        best = result.top_k(1, by="params")[0]
        print(f"{precision}: {result.count} of {len(space)} encoders fit; the largest has {int(best['layers'])} layers, "
              f"hidden {int(best['hidden'])}, ffn {int(best['intermediate'])}, vocab {int(best['vocab'])}: "
              f"{units.format_count(int(best['params']))} parameters, {units.format_bytes(int(best['peak_bytes']))}, "
              f"{units.format_seconds(float(best['latency_s']))}")
    front = bertsize.search(space, budget, bertsize.Workload(batch=1, seq_len=128, precision="int8")).pareto(
        ("params", "latency_s"))
    print("\nint8 Pareto front (most parameters for the latency):")
    for row in front[:8]:
        print(f"  {int(row['layers']):2d} x {int(row['hidden']):4d}, ffn {int(row['intermediate']):4d}, "
              f"vocab {int(row['vocab']):5d}: "
              f"{units.format_count(int(row['params'])):>8}  {units.format_seconds(float(row['latency_s'])):>8}")


if __name__ == "__main__":
    main()
