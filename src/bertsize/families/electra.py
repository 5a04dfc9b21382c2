"""ELECTRA (Clark et al. 2020): BERT's encoder with an embedding width of its own
(projected to hidden when they differ) and no pooler; pre-training is the
replaced-token discriminator, masked LM the generator's head."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import DenseClassifier, MaskedLMBody, ReplacedTokenDetection, SequenceSummary


def _preset(size: str, layers: int, hidden: int, heads: int, embedding: int) -> Preset:
    name = f"google/electra-{size}-discriminator"
    return Preset(name, dict(layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden, embedding=embedding),
                  f"https://huggingface.co/{name}/blob/main/config.json", (f"electra-{size}-discriminator",))


SPEC = Family(
    name="electra",
    hf_prefix="Electra",
    config=HFConfig(
        model_types=("electra",),
        keys={**CONFIG_KEYS, "embedding": "embedding_size"},
        defaults={**CONFIG_DEFAULTS, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024,
                  "embedding_size": 128, "summary_last_dropout": 0.1},
        # the multiple-choice summary as ElectraConfig defines it (every published checkpoint)
        required={"summary_type": "first", "summary_use_proj": True, "summary_activation": "gelu",
                  "summary_proj_to_labels": False, "summary_first_dropout": 0},
        same_activity={"summary_last_dropout": "classifier_dropout"},
    ),
    presets=(
        _preset("small", 12, 256, 4, 128),
        _preset("base", 12, 768, 12, 768),
        _preset("large", 24, 1024, 16, 1024),
    ),
    constraints=(TOKEN_TYPES,),
    masked_lm=MaskedLMBody(width="embedding", activation="gelu", output_bias=False),
    classifier=DenseClassifier(activation="gelu"),
    pretraining=ReplacedTokenDetection(),
    choice_classifier=SequenceSummary(activation="gelu"),
    causal_lm_suffix="ForCausalLM",
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
    projection="when_widths_differ",
    pooler=False,
)
