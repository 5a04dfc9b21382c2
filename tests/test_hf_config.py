"""from_hf_config reads config.json files, dicts and config objects without the network."""

from __future__ import annotations

import json
import re

import pytest

import bertsize

# config.json of hub checkpoints, as published (the keys that matter).
HUB_CONFIGS = {
    "bert-base-uncased": {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12,
                          "num_attention_heads": 12, "intermediate_size": 3072, "vocab_size": 30522,
                          "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu"},
    "roberta-base": {"model_type": "roberta", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                     "intermediate_size": 3072, "vocab_size": 50265, "max_position_embeddings": 514,
                     "type_vocab_size": 1},
    "xlm-roberta-large": {"model_type": "xlm-roberta", "hidden_size": 1024, "num_hidden_layers": 24,
                          "num_attention_heads": 16, "intermediate_size": 4096, "vocab_size": 250002,
                          "max_position_embeddings": 514, "type_vocab_size": 1},
    "distilbert-base-uncased": {"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12,
                                "hidden_dim": 3072, "vocab_size": 30522, "max_position_embeddings": 512,
                                "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1},
    "albert-xxlarge-v2": {"model_type": "albert", "hidden_size": 4096, "num_hidden_layers": 12,
                          "num_attention_heads": 64, "intermediate_size": 16384, "embedding_size": 128,
                          "vocab_size": 30000, "max_position_embeddings": 512, "type_vocab_size": 2,
                          "hidden_act": "gelu_new", "num_hidden_groups": 1, "inner_group_num": 1,
                          "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0},
    "google/electra-small-discriminator": {"model_type": "electra", "hidden_size": 256, "num_hidden_layers": 12,
                                           "num_attention_heads": 4, "intermediate_size": 1024,
                                           "embedding_size": 128, "vocab_size": 30522,
                                           "max_position_embeddings": 512, "type_vocab_size": 2},
}


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_hub_config_equals_preset(name, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HUB_CONFIGS[name]))
    assert bertsize.from_hf_config(path) == bertsize.preset(name)
    assert bertsize.from_hf_config(str(path)) == bertsize.preset(name)
    assert bertsize.from_hf_config(HUB_CONFIGS[name]) == bertsize.preset(name)


def test_unsupported_model_type_lists_the_supported():
    with pytest.raises(ValueError) as info:
        bertsize.from_hf_config({"model_type": "gpt2"})
    message = str(info.value)
    assert "unsupported model_type 'gpt2'" in message
    for model_type in bertsize.supported_model_types():
        assert model_type in message
    with pytest.raises(ValueError, match="unsupported model_type None"):
        bertsize.from_hf_config({"hidden_size": 768})


@pytest.mark.parametrize(("extra", "text"), [
    ({"model_type": "albert", "inner_group_num": 2}, "inner_group_num=2 is not supported"),
    ({"model_type": "bert", "problem_type": "multi_label_classification", "num_labels": 3}, "problem_type"),
    ({"model_type": "bert", "problem_type": "regression", "num_labels": 3}, "problem_type"),
    ({"model_type": "bert", "num_labels": 3, "id2label": {"0": "a", "1": "b"}}, "disagrees"),
    ({"model_type": "distilbert", "seq_classif_dropout": 0.0}, "qa_dropout"),
    ({"model_type": "bert", "add_cross_attention": True}, "cross-attention"),
    ({"model_type": "bert", "hidden_size": 770}, "heads=12 does not divide hidden=770"),
    # a pruned checkpoint is smaller than its config says: refused, not sized full-size
    ({"model_type": "bert", "pruned_heads": {"0": [1, 2]}}, "pruned_heads=.* is not supported yet"),
])
def test_unmodelled_features_are_errors(extra, text):
    with pytest.raises(ValueError, match=text):
        bertsize.from_hf_config(extra)


def test_an_unpruned_config_reads():
    """transformers 4.x wrote pruned_heads: {} into every config it saved: nothing is pruned then."""
    assert bertsize.from_hf_config({"model_type": "bert", "pruned_heads": {}}) == bertsize.from_hf_config(
        {"model_type": "bert"})


def test_rejects_other_objects(tmp_path):
    with pytest.raises(TypeError, match="config must be a path to config.json"):
        bertsize.from_hf_config(42)
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="does not hold a JSON object"):
        bertsize.from_hf_config(path)


class _ConfigLike:
    def to_dict(self):
        return {"model_type": "roberta", "vocab_size": 50265, "max_position_embeddings": 514, "type_vocab_size": 1}


def test_object_with_to_dict():
    assert bertsize.from_hf_config(_ConfigLike()) == bertsize.preset("roberta-base")


@pytest.mark.hf
@pytest.mark.parametrize("model_type", bertsize.supported_model_types())
def test_defaults_match_transformers_config_classes(model_type):
    """A config that states only model_type means the transformers class defaults
    (DeBERTa-v2's class defaults to relative_attention=False, which no published
    checkpoint uses and bertsize refuses: both forms refuse it alike)."""
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model(model_type)
    try:
        expected = bertsize.from_hf_config(config)
    except ValueError as error:
        with pytest.raises(ValueError, match=re.escape(str(error))):
            bertsize.from_hf_config({"model_type": model_type})
        assert "relative_attention" in str(error)
        return
    assert bertsize.from_hf_config({"model_type": model_type}) == expected
