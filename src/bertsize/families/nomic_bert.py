"""nomic-bert (Nussbaum et al. 2024, arXiv:2402.01613) as HF's ``NomicBert*`` classes:
BERT's post-LN layers with RoPE instead of a position table (word and segment embeddings,
a LayerNorm), projections without biases (q, k, v and the output), and a SwiGLU FFN of
two bias-free Linears, ``down(silu(gate(x)) * up(x))`` (``GemmaMLP``); the LayerNorms and
the heads keep their biases.  RoPE follows Llama's ``apply_rotary_pos_emb``: no cast, so
under autocast 16-bit q and k times the fp32 tables are fp32 (which the attention's
matmul casts back to 16 bits).  The base model has no pooler by default
(``add_pooling_layer=False``); the sequence classifier builds one.  No question-answering
or multiple-choice class.

The published checkpoints' config.json keep GPT-2-style keys (``n_embd``, ``n_layer``,
``n_head``, ``n_inner``) that transformers 5.x does not read: it builds the defaults,
which are those checkpoints' sizes; bertsize reads the config as HF does."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, PooledClassifier

#: the heads' width RoPE's tables are modelled with: both checkpoints' (768 / 12)
HEAD_WIDTH = 64
#: NomicBertConfig's defaults (transformers 5.x), where they differ from BertConfig's
_DEFAULTS = {**CONFIG_DEFAULTS, "vocab_size": 30528, "max_position_embeddings": 2048, "hidden_act": "silu",
             "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
#: RoPE over a 64-wide head: one constraint for the families that rotate q and k
ROTARY_HEADS = validity.Constraint("multiple", "hidden", "heads", k=HEAD_WIDTH,
                                   why=f"is modelled with {HEAD_WIDTH}-wide heads (its RoPE tables' width)")


def _preset(name: str) -> Preset:
    # n_positions: 8192, the context RoPE serves (its max_position_embeddings, 2048, is
    # the trained window and sizes no table)
    return Preset(name, dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30528, max_positions=8192,
                             type_vocab=2),
                  f"https://huggingface.co/{name}/blob/main/config.json (n_embd 768, n_layer 12, n_head 12, "
                  "n_inner 3072, vocab_size 30528, n_positions 8192); 137M parameters on its model card",
                  (name.split("/")[1],))


SPEC = Family(
    name="nomic_bert",
    hf_prefix="NomicBert",
    config=HFConfig(model_types=("nomic_bert",), keys=CONFIG_KEYS, defaults=_DEFAULTS, head_width_key="head_dim"),
    presets=(_preset("nomic-ai/nomic-embed-text-v1.5"), _preset("nomic-ai/nomic-embed-text-v1")),
    constraints=(TOKEN_TYPES, NOT_FACTORISED, ROTARY_HEADS),
    masked_lm=MaskedLMBody(),  # its transform's activation is the configured one (SiLU)
    classifier=PooledClassifier(),
    pretraining=None,
    defaults={"type_vocab": 2, "activation": "silu", "hidden_dropout": 0.0, "attention_dropout": 0.0,
              "classifier_dropout": None},
    base_pooler=False,
    rotary=True,
    head_width=HEAD_WIDTH,
    linear_bias=False,
    glu=True,
    span_classifier=None,
    choice_classifier=None,
)
