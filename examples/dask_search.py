"""A sharded search on a dask.distributed LocalCluster: each worker walks one shard of
the space, and the results merge into the whole (counts add, top-k and Pareto merge).

    pip install "dask[distributed]" && python examples/dask_search.py
"""

from __future__ import annotations

from dask.distributed import Client, LocalCluster

import bertsize

SHARDS = 4


def shard(index: int) -> bertsize.Result:
    space = bertsize.Space(
        "bert-base-uncased",
        layers=range(1, 49), hidden=range(128, 2049, 64), head_dim=[32, 64, 128], ffn_ratio=[2, 3, 4],
        batch=range(1, 65), seq_len=range(32, 513, 32),
    )
    workload = bertsize.Workload(training=True, precision="bf16")
    return bertsize.search(space, bertsize.Budget(memory="40GiB"), workload, limit=0, shard=(index, SHARDS))


def main() -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        parts = client.gather(client.map(shard, range(SHARDS)))
    merged = bertsize.Result.merge(parts)
    print(f"{SHARDS} shards on a LocalCluster: {merged.count:,} of {merged.total - merged.skipped:,} valid "
          f"configurations fit 40 GiB ({merged.skipped:,} skipped)")
    best = merged.top_k(3, by="params")  # each shard walks for its best, then they merge
    for row in best:
        print(f"  {int(row['layers'])} layers x {int(row['hidden'])}, ffn {int(row['intermediate'])}, "
              f"batch {int(row['batch'])} x {int(row['seq_len'])}: {int(row['params']):,} parameters")


if __name__ == "__main__":
    main()
