"""How the vocabulary eats the memory budget: multilingual BERT against BERT-base.

mBERT's 119,547-token vocabulary makes its embedding matrix 4x BERT-base's; this prints
where the parameters and the training memory go, and how many layers each vocabulary
leaves inside the same budget.

    python examples/multilingual_vocab.py
"""

from __future__ import annotations

import bertsize
from bertsize import units

WORKLOAD = bertsize.Workload(batch=16, seq_len=256, training=True, precision="fp16")


def main() -> None:
    for name in ("bert-base-uncased", "bert-base-multilingual-cased", "xlm-roberta-base"):
        encoder = bertsize.preset(name)
        estimate = bertsize.estimate(encoder, WORKLOAD, head="masked_lm")
        rows = {row.component: row for row in estimate.breakdown()}
        share = rows["embeddings"].params / estimate.params
        print(f"{name:30s} vocab {encoder.vocab:7,}: {units.format_count(estimate.params):>8} parameters, "
              f"{share:5.1%} in the embeddings; masked-LM training peak {units.format_bytes(estimate.peak_bytes)}")
    print()
    budget = bertsize.Budget(memory="12GiB")
    for vocab in (30522, 119547, 250002):
        base = bertsize.preset("bert-base-uncased").replace(vocab=vocab)
        layers = bertsize.search(bertsize.Space(base, layers=range(1, 49)), budget, WORKLOAD, "masked_lm")
        deepest = int(layers.top_k(1, by="params")[0]["layers"]) if layers.count else 0
        print(f"vocab {vocab:7,}: at most {deepest:2d} BERT-base layers fit 12 GiB for masked-LM training")


if __name__ == "__main__":
    main()
