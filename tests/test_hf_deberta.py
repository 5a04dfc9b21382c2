"""DeBERTa-v2 / v3 (issue 14, item 2) against its real HF classes, every head, under each
relative-attention setting (:class:`bertsize.Disentangled`): shared or own position
projections, c2p, p2c or both, the relative table normalised or not, an absolute
position table, a segment table, ``embed_proj``.  Parameters, forward and backward FLOPs
at two shapes, CPU saved activations in fp32 and bf16 autocast (eager: HF runs DeBERTa
with its own attention only), gradient checkpointing; the published checkpoints'
parameters against an independent count (Keras Hub's); configs read as HF reads them."""

from __future__ import annotations

import pytest

import bertsize

torch = pytest.importorskip("torch")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

D = bertsize.Disentangled
#: (settings, layers, dropout, embedding width, segments): every setting at least once
VARIANTS = [
    (D(span=8), 1, 0.1, None, 0),
    (D(span=4, share_att_key=False), 2, 0.0, 24, 0),
    (D(span=4, share_att_key=False, p2c=False), 1, 0.1, None, 2),
    (D(span=4, share_att_key=False, c2p=False), 2, 0.0, 24, 2),
    (D(span=3, norm_rel_ebd=False), 1, 0.0, None, 0),  # the projections read the weight itself (a slice)
    (D(span=5, position_biased_input=True), 2, 0.1, 24, 2),
    # DeBERTa-v2 xlarge's convolution after layer 0: layer 0, the convolution, the other layers
    (D(span=8, conv_kernel_size=3, conv_act="gelu"), 3, 0.1, None, 0),
    (D(span=4, share_att_key=False, conv_kernel_size=1), 2, 0.0, 24, 2),
    (D(span=4, norm_rel_ebd=False, conv_kernel_size=5, conv_act="gelu_new"), 1, 0.1, None, 0),
    (D(span=4, share_att_key=False, c2p=False, conv_kernel_size=3, conv_act="relu"), 2, 0.1, 24, 2),
]
SHAPES = [(2, 9), (1, 5)]
HEADS = [head for head in bertsize.HEADS if bertsize.Encoder(family="deberta-v2").has_head(head)]


def _encoder(variant) -> bertsize.Encoder:
    settings, layers, dropout, embedding, segments = variant
    return bertsize.Encoder(family="deberta-v2", layers=layers, hidden=32, heads=4, intermediate=48, vocab=99,
                            max_positions=64, embedding=embedding, type_vocab=segments, hidden_dropout=dropout,
                            attention_dropout=dropout, disentangled=settings)


#: Every head under the default setting and under one with its own position projections,
#: embed_proj, segments and the convolution; the masked LM and the sequence classifier
#: (the heads that differ most) under every setting.
CASES = [(index, head) for index in range(len(VARIANTS)) for head in HEADS
         if index in (0, 7) or head in ("masked_lm", "sequence_classification")]


def _choices(head: str) -> int:
    return 3 if head == "multiple_choice" else 1


@pytest.mark.parametrize(("variant", "head"), CASES)
def test_params_and_flops(variant, head):
    encoder = _encoder(VARIANTS[variant])
    model = hf.build(encoder, head, num_labels=3)
    assert bertsize.count_params(encoder, head, 3) == hf.count_params(model)
    for batch, seq_len in SHAPES:
        batch_inputs = hf.inputs(encoder, head, batch, seq_len, 3, num_choices=_choices(head))
        forward, backward = hf.measure_flops(model, batch_inputs)
        work = bertsize.Workload(batch=batch, seq_len=seq_len, training=True, num_choices=_choices(head))
        estimate = bertsize.estimate(encoder, work, head, 3)
        assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward), (batch, seq_len)


@pytest.mark.parametrize(("variant", "head"), CASES)
def test_saved_activations(variant, head):
    encoder = _encoder(VARIANTS[variant])
    model = hf.build(encoder, head, num_labels=3)
    for precision in ("fp32", "bf16"):
        dtype = torch.bfloat16 if precision == "bf16" else None
        saved, casts = hf.measure_saved(model, hf.inputs(encoder, head, 2, 9, 3, num_choices=_choices(head)), dtype)
        work = bertsize.Workload(batch=2, seq_len=9, training=True, precision=precision, backend="cpu",
                                 num_choices=_choices(head))
        estimate = bertsize.estimate(encoder, work, head, 3)
        assert estimate.activation_bytes == saved, precision
        assert estimate.weight_bytes - 4 * estimate.params == casts, precision


@pytest.mark.parametrize("variant", [0, 1, 4, 6])
@pytest.mark.parametrize("head", ["masked_lm", "sequence_classification"])
def test_gradient_checkpointing(variant, head):
    """Each layer keeps its input and the mask (positional checkpoint inputs); the
    relative table goes by keyword and is not kept."""
    encoder = _encoder(VARIANTS[variant])
    model = hf.build(encoder, head, num_labels=3)
    model.gradient_checkpointing_enable()
    for precision in ("fp32", "bf16"):
        dtype = torch.bfloat16 if precision == "bf16" else None
        saved, _ = hf.measure_saved(model, hf.inputs(encoder, head, 2, 9, 3), dtype)
        work = bertsize.Workload(batch=2, seq_len=9, training=True, precision=precision, backend="cpu",
                                 recompute="full")
        assert bertsize.estimate(encoder, work, head, 3).activation_bytes == saved, precision


#: Keras Hub's DebertaV3Backbone parameter counts (its presets' metadata): word and relative
#: embeddings, the layers, no head — an implementation independent of HF's.
KERAS_HUB_PARAMS = {
    "microsoft/deberta-v3-xsmall": 70_682_112, "microsoft/deberta-v3-small": 141_304_320,
    "microsoft/deberta-v3-base": 183_831_552, "microsoft/deberta-v3-large": 434_012_160,
    "microsoft/mdeberta-v3-base": 278_218_752,
}


@pytest.mark.parametrize("name", list(KERAS_HUB_PARAMS))
def test_published_checkpoints(name):
    with torch.device("meta"):
        model = hf.build(bertsize.preset(name), "model")
    assert bertsize.count_params(name) == hf.count_params(model) == KERAS_HUB_PARAMS[name]


#: microsoft/deberta-v2-xlarge's config.json as published (xxlarge: 48 layers, attention_head_size 64)
V2_XLARGE_CONFIG = {
    "model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 1536, "initializer_range": 0.02, "intermediate_size": 6144, "max_position_embeddings": 512,
    "relative_attention": True, "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": True,
    "pos_att_type": "p2c|c2p", "conv_kernel_size": 3, "conv_act": "gelu", "layer_norm_eps": 1e-7,
    "max_relative_positions": -1, "position_biased_input": False, "num_attention_heads": 24,
    "num_hidden_layers": 24, "type_vocab_size": 0, "vocab_size": 128100,
}


@pytest.mark.parametrize(("name", "config"), [
    ("microsoft/deberta-v2-xlarge", V2_XLARGE_CONFIG),
    ("microsoft/deberta-v2-xxlarge", {**V2_XLARGE_CONFIG, "num_hidden_layers": 48, "attention_head_size": 64}),
])
def test_v2_checkpoints_with_their_convolution(name, config):
    """The published v2 configs read to their presets, and the models' parameters (meta
    device) are bertsize's, the ConvLayer's Conv1d and LayerNorm included."""
    transformers = pytest.importorskip("transformers")
    assert bertsize.from_hf_config(config) == bertsize.preset(name)
    with torch.device("meta"):
        model = transformers.DebertaV2ForMaskedLM(transformers.DebertaV2Config(**config))
    assert bertsize.count_params(name, "masked_lm") == hf.count_params(model)
    H = config["hidden_size"]
    conv = sum(p.numel() for p in model.deberta.encoder.conv.parameters())
    assert conv == H * H * 3 + H + 2 * H  # Conv1d(H, H, 3) and its bias, the LayerNorm


#: microsoft/deberta-v3-base's config.json as published
V3_BASE_CONFIG = {
    "model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 512,
    "relative_attention": True, "position_buckets": 256, "norm_rel_ebd": "layer_norm", "share_att_key": True,
    "pos_att_type": "p2c|c2p", "layer_norm_eps": 1e-7, "max_relative_positions": -1, "position_biased_input": False,
    "num_attention_heads": 12, "num_hidden_layers": 12, "type_vocab_size": 0, "vocab_size": 128100,
}


def test_config_reads_as_hf_reads_it():
    transformers = pytest.importorskip("transformers")
    assert bertsize.from_hf_config(V3_BASE_CONFIG) == bertsize.preset("microsoft/deberta-v3-base")
    assert bertsize.from_hf_config(transformers.DebertaV2Config(**V3_BASE_CONFIG)) == bertsize.preset(
        "microsoft/deberta-v3-base")
    # no buckets: the span is max_relative_positions, else max_position_embeddings
    spans = {"max_relative_positions": 128}, {}
    for extra, span in zip(spans, (128, 512)):
        config = {**V3_BASE_CONFIG, "position_buckets": -1, **extra}
        assert bertsize.from_hf_config(config).disentangled.span == span
        with torch.device("meta"):
            model = transformers.DebertaV2Model(transformers.DebertaV2Config(**config))
        assert bertsize.count_params(bertsize.from_hf_config(config)) == hf.count_params(model)
    # DeBERTa-v2's own keys: an absolute position table, own projections, a list of terms
    v2 = {**V3_BASE_CONFIG, "share_att_key": False, "position_biased_input": True, "pos_att_type": ["c2p"],
          "norm_rel_ebd": "none", "type_vocab_size": 2}
    encoder = bertsize.from_hf_config(v2)
    assert encoder.disentangled == D(span=256, c2p=True, p2c=False, share_att_key=False, norm_rel_ebd=False,
                                     position_biased_input=True)
    with torch.device("meta"):
        model = transformers.DebertaV2Model(transformers.DebertaV2Config(**v2))
    assert bertsize.count_params(encoder) == hf.count_params(model)


@pytest.mark.parametrize(("key", "value"), [("conv_groups", 2), ("legacy", False), ("relative_attention", False),
                                            ("pooler_dropout", 0.1), ("pooler_hidden_act", "tanh"),
                                            ("attention_head_size", 32)])
def test_config_refuses_what_is_not_modelled(key, value):
    with pytest.raises(ValueError, match=key):
        bertsize.from_hf_config({**V3_BASE_CONFIG, key: value})


@pytest.mark.parametrize(("key", "value"), [("pos_att_type", 5), ("norm_rel_ebd", 7), ("position_buckets", "256"),
                                            ("conv_kernel_size", 2.0)])
def test_config_values_of_the_wrong_kind_are_refused(key, value):
    with pytest.raises(TypeError, match=key):
        bertsize.from_hf_config({**V3_BASE_CONFIG, key: value})


def test_refusals_name_the_setting():
    with pytest.raises(ValueError, match="attention='sdpa'"):
        bertsize.estimate("microsoft/deberta-v3-base", bertsize.Workload(attention="sdpa"))
    with pytest.raises(ValueError, match="c2p, p2c or both"):
        D(c2p=False, p2c=False, share_att_key=False)
    with pytest.raises(ValueError, match="share_att_key"):
        D(p2c=False)
    with pytest.raises(TypeError, match="Disentangled.span"):
        D(span=2.5)
    with pytest.raises(ValueError, match="Disentangled.span must be at most"):
        D(span=2**32 + 1)
    with pytest.raises(ValueError, match="conv_kernel_size must be 0 or odd"):
        D(conv_kernel_size=2)  # HF pads (k - 1) // 2 a side: an even kernel shortens the sequence
    with pytest.raises(ValueError, match="unknown Disentangled.conv_act 'swish'"):
        D(conv_kernel_size=3, conv_act="swish")
    with pytest.raises(ValueError, match="family 'bert' has none"):
        bertsize.Encoder(disentangled=D())
    with pytest.raises(TypeError, match="bertsize.Disentangled"):
        bertsize.Encoder(family="deberta-v2", disentangled={"span": 256})


def test_position_projections_do_not_grow_with_the_batch():
    """Per layer the relative table's projections cost 2 x 2·(2·span)·H² FLOPs whatever
    the batch; the c2p / p2c products grow with b·s."""
    encoder = bertsize.preset("microsoft/deberta-v3-base")
    L, H, span = encoder.layers, encoder.hidden, encoder.disentangled.span

    def flops(batch, seq_len):
        return bertsize.estimate(encoder, bertsize.Workload(batch=batch, seq_len=seq_len)).flops_fwd

    per_token = flops(2, 128) - flops(1, 128)  # one more sequence of 128 tokens
    assert flops(1, 128) - per_token == L * 2 * 2 * (2 * span) * H * H


def test_segment_table_is_a_search_axis():
    """DeBERTa-v2 has a segment table only when type_vocab_size > 0: a design axis whose
    rows cost hidden parameters each (v3 ships without one)."""
    base = bertsize.preset("microsoft/deberta-v3-small")
    budget = bertsize.Budget(params=bertsize.count_params(base) + 2 * base.hidden)  # room for two segment rows
    result = bertsize.search(bertsize.Space(base, type_vocab=[1, 2, 3]), budget)
    assert (result.count, result.total) == (2, 3)
