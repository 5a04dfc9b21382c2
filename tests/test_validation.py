"""Bad input never produces a number: a clear error naming the field (table-driven)."""

from __future__ import annotations

import math

import pytest

import bertsize

ENCODER_CASES = [
    # (fields, exception, text the message must contain)
    ({"layers": 0}, ValueError, "layers must be positive, got 0"),
    ({"layers": -3}, ValueError, "layers must be positive, got -3"),
    ({"layers": True}, TypeError, "layers must be an integer, got True"),
    ({"layers": 12.0}, TypeError, "layers must be an integer, got 12.0"),
    ({"layers": "12"}, TypeError, "layers must be an integer, got '12'"),
    ({"hidden": 0}, ValueError, "hidden must be positive"),
    ({"hidden": 770}, ValueError, "heads=12 does not divide hidden=770"),
    ({"heads": 0}, ValueError, "heads must be positive"),
    ({"heads": 7}, ValueError, "heads=7 does not divide hidden=768"),
    ({"intermediate": -1}, ValueError, "intermediate must be positive, got -1"),
    ({"vocab": 0}, ValueError, "vocab must be positive"),
    ({"vocab": None}, TypeError, "vocab must be an integer, got None"),
    ({"max_positions": 0}, ValueError, "max_positions must be positive"),
    ({"type_vocab": 0}, ValueError, "type_vocab must be positive"),
    ({"family": "distilbert", "type_vocab": 2}, ValueError, "type_vocab must be 0 for family 'distilbert'"),
    ({"family": "gpt2"}, ValueError, "unknown family 'gpt2'"),
    ({"family": "robrta"}, ValueError, "did you mean 'roberta'"),
    ({"embedding": 128}, ValueError, "embedding=128 differs from hidden=768"),
    ({"family": "albert", "embedding": 0}, ValueError, "embedding must be positive"),
    ({"pooler": 1}, TypeError, "pooler must be True or False, got 1"),
    ({"family": "electra", "pooler": True}, ValueError, "pooler=True is impossible for family 'electra'"),
    ({"family": "albert", "hidden_groups": 0}, ValueError, "hidden_groups must be positive"),
    ({"hidden_groups": 2}, ValueError, "hidden_groups=2 is ALBERT's layer sharing"),
    ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
    ({"hidden_dropout": 1.0}, ValueError, "hidden_dropout must be in [0, 1), got 1.0"),
    ({"attention_dropout": math.nan}, ValueError, "attention_dropout must be in [0, 1), got nan"),
    ({"classifier_dropout": True}, TypeError, "classifier_dropout must be a number in [0, 1)"),
]


@pytest.mark.parametrize(("fields", "error", "text"), ENCODER_CASES)
def test_encoder_rejects(fields, error, text):
    with pytest.raises(error) as info:
        bertsize.Encoder(**fields)
    assert text in str(info.value)


WORKLOAD_CASES = [
    ({"batch": 0}, ValueError, "batch must be positive, got 0"),
    ({"batch": 2.5}, TypeError, "batch must be an integer, got 2.5"),
    ({"seq_len": -1}, ValueError, "seq_len must be positive, got -1"),
    ({"seq_len": False}, TypeError, "seq_len must be an integer, got False"),
    ({"training": 1}, TypeError, "training must be True or False, got 1"),
    ({"precision": "fp8"}, ValueError, "unknown precision 'fp8'"),
    ({"precision": "bf61"}, ValueError, "did you mean 'bf16'"),
    ({"optimizer": "lion"}, ValueError, "unknown optimizer 'lion'"),
    ({"attention": "flex"}, ValueError, "unknown attention 'flex'"),
    ({"recompute": "all"}, ValueError, "unknown recompute 'all'"),
    ({"backend": "tpu"}, ValueError, "unknown backend 'tpu'"),
    ({"zero_stage": 4}, ValueError, "zero_stage must be 0, 1, 2 or 3, got 4"),
    ({"zero_stage": -1}, ValueError, "zero_stage must be >= 0, got -1"),
    ({"data_parallel": 0}, ValueError, "data_parallel must be positive"),
    ({"training": True, "precision": "int8"}, ValueError, "weight-only quantisation for inference"),
    ({"recompute": "full"}, ValueError, "only applies to training"),
    ({"backend": "cpu", "attention": "flash"}, ValueError, "attention='flash' needs backend='cuda'"),
    ({"backend": "cpu", "training": True, "recompute": "selective"}, ValueError, "Megatron's CUDA scheme"),
]


@pytest.mark.parametrize(("fields", "error", "text"), WORKLOAD_CASES)
def test_workload_rejects(fields, error, text):
    with pytest.raises(error) as info:
        bertsize.Workload(**fields)
    assert text in str(info.value)


ESTIMATE_CASES = [
    ((bertsize.preset("bert-tiny"), bertsize.Workload(seq_len=513)), {}, ValueError, "seq_len=513 exceeds the 512"),
    ((bertsize.preset("roberta-base"), bertsize.Workload(seq_len=513)), {}, ValueError, "exceeds the 512 positions"),
    ((bertsize.preset("roberta-base"),), {"head": "pretraining"}, ValueError, "HF has no roberta ForPreTraining"),
    ((bertsize.preset("bert-tiny"),), {"head": "lm"}, ValueError, "unknown head 'lm'"),
    ((bertsize.preset("bert-tiny"),), {"num_labels": 0}, ValueError, "num_labels must be positive"),
    ((42,), {}, TypeError, "encoder must be a bertsize.Encoder or a preset name"),
    ((bertsize.preset("bert-tiny"), {"batch": 2}), {}, TypeError, "workload must be a bertsize.Workload"),
]


@pytest.mark.parametrize(("args", "kwargs", "error", "text"), ESTIMATE_CASES)
def test_estimate_rejects(args, kwargs, error, text):
    with pytest.raises(error) as info:
        bertsize.estimate(*args, **kwargs)
    assert text in str(info.value)


def test_unknown_preset_suggests():
    with pytest.raises(ValueError, match=r"unknown preset 'bert-base-uncase'.*did you mean 'bert-base-uncased'"):
        bertsize.preset("bert-base-uncase")
    with pytest.raises(TypeError, match="preset name must be a string"):
        bertsize.preset(12)
