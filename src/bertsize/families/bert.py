"""BERT (Devlin et al. 2019): ``BertModel`` and its heads, and the published checkpoints."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, NextSentencePrediction, PooledClassifier

#: BertConfig's keys for the Encoder fields, shared by the families that copy BERT's config.
CONFIG_KEYS = {
    "layers": "num_hidden_layers", "hidden": "hidden_size", "heads": "num_attention_heads",
    "intermediate": "intermediate_size", "vocab": "vocab_size", "max_positions": "max_position_embeddings",
    "type_vocab": "type_vocab_size", "activation": "hidden_act", "hidden_dropout": "hidden_dropout_prob",
    "attention_dropout": "attention_probs_dropout_prob", "classifier_dropout": "classifier_dropout",
}
#: BertConfig's defaults (transformers 5.x).
CONFIG_DEFAULTS = {
    "num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
    "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
}
#: The row constraints of families with a segment table and unfactorised embeddings.
TOKEN_TYPES = validity.positive("type_vocab")
NOT_FACTORISED = validity.Constraint("zero_or_equal", "embedding", "hidden",
                                     why="does not factorise its embeddings (leave embedding=None)")
#: The row constraint of families without a segment (token-type) table.
NO_SEGMENTS = validity.Constraint("equals", "type_vocab", k=0, why="it has no segment embeddings")


def bert_sizes(layers: int, hidden: int, vocab: int = 30522) -> dict[str, int]:
    """BERT's recipe for a size: heads of 64 features, an FFN of 4 x hidden."""
    return dict(layers=layers, hidden=hidden, heads=hidden // 64, intermediate=4 * hidden, vocab=vocab)


def _hub(name: str) -> str:
    return f"https://huggingface.co/{name}/blob/main/config.json"


_CHECKPOINTS = [  # (name, sizes, hub repository)
    ("bert-base-uncased", bert_sizes(12, 768), "google-bert/bert-base-uncased"),
    ("bert-large-uncased", bert_sizes(24, 1024), "google-bert/bert-large-uncased"),
    ("bert-base-cased", bert_sizes(12, 768, 28996), "google-bert/bert-base-cased"),
    ("bert-large-cased", bert_sizes(24, 1024, 28996), "google-bert/bert-large-cased"),
    ("bert-base-multilingual-cased", bert_sizes(12, 768, 119547), "google-bert/bert-base-multilingual-cased"),
    ("bert-base-multilingual-uncased", bert_sizes(12, 768, 105879), "google-bert/bert-base-multilingual-uncased"),
]
#: Sentence-embedding and distilled checkpoints with BERT's classes, as their config.json
#: give them: (hub name, layers, hidden, heads, intermediate, vocab); MiniLM and the
#: multilingual models keep 32-wide heads, TinyBERT 26-wide ones.
_BERT_ARCHITECTURE = [
    ("sentence-transformers/all-MiniLM-L6-v2", 6, 384, 12, 1536, 30522),
    ("sentence-transformers/all-MiniLM-L12-v2", 12, 384, 12, 1536, 30522),
    ("microsoft/MiniLM-L12-H384-uncased", 12, 384, 12, 1536, 30522),
    ("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", 12, 384, 12, 1536, 250037),
    ("huawei-noah/TinyBERT_General_4L_312D", 4, 312, 12, 1200, 30522),
    ("huawei-noah/TinyBERT_General_6L_768D", 6, 768, 12, 3072, 30522),
    ("BAAI/bge-small-en-v1.5", 12, 384, 12, 1536, 30522),
    ("BAAI/bge-base-en-v1.5", 12, 768, 12, 3072, 30522),
    ("BAAI/bge-large-en-v1.5", 24, 1024, 16, 4096, 30522),
    ("intfloat/e5-small-v2", 12, 384, 12, 1536, 30522),
    ("intfloat/e5-base-v2", 12, 768, 12, 3072, 30522),
    ("intfloat/e5-large-v2", 24, 1024, 16, 4096, 30522),
    ("intfloat/multilingual-e5-small", 12, 384, 12, 1536, 250037),
]
# The 24 "Well-Read Students Learn Better" miniatures (Turc et al. 2019), with the names
# their README gives the four best known.
_MINIATURE_ALIASES = {(2, 128): "bert-tiny", (4, 256): "bert-mini", (4, 512): "bert-small", (8, 512): "bert-medium"}


def _presets() -> tuple[Preset, ...]:
    presets = [Preset(name, sizes, _hub(repository), (repository,)) for name, sizes, repository in _CHECKPOINTS]
    presets += [Preset(name, dict(layers=layers, hidden=hidden, heads=heads, intermediate=intermediate, vocab=vocab),
                       _hub(name), (name.split("/")[1],))
                for name, layers, hidden, heads, intermediate, vocab in _BERT_ARCHITECTURE]
    for layers in (2, 4, 6, 8, 10, 12):
        for hidden in (128, 256, 512, 768):
            name = f"google/bert_uncased_L-{layers}_H-{hidden}_A-{hidden // 64}"
            alias = _MINIATURE_ALIASES.get((layers, hidden))
            presets.append(Preset(name, bert_sizes(layers, hidden), _hub(name),
                                  (alias, f"prajjwal1/{alias}") if alias else ()))
    return tuple(presets)


SPEC = Family(
    name="bert",
    hf_prefix="Bert",
    config=HFConfig(model_types=("bert",), keys=CONFIG_KEYS, defaults=CONFIG_DEFAULTS),
    presets=_presets(),
    constraints=(TOKEN_TYPES, NOT_FACTORISED),
    masked_lm=MaskedLMBody(),
    classifier=PooledClassifier(),
    pretraining=NextSentencePrediction(),
    next_sentence=NextSentencePrediction(),
    causal_lm_suffix="LMHeadModel",
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
)
