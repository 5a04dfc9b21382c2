"""The look-alike families (issue 14, items 4 and 5) against their real HF classes, every
head: CamemBERT (RoBERTa's classes renamed), MPNet (a shared relative-position bias), ERNIE
(a task-type table, added in place) and the pre-LayerNorm families — RoBERTa-PreLayerNorm,
XLM-R XL, Megatron-BERT — whose LayerNorms move before attention and FFN (one more after
the last layer, none on XL's and Megatron's embeddings) and whose saved activations differ
from their post-LN twins' — and the newer families, each its own layout or primitive
(ModernBERT, nomic-bert, Jina v3, MobileBERT, SqueezeBERT's grouped convolutions, ConvBERT's
mixed attention).  Parameters, forward and backward FLOPs at two shapes, and the
CPU saved activations in fp32 and bf16 autocast, eager and SDPA, every dropout on."""

from __future__ import annotations

import pytest

import bertsize

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

FAMILIES = ("camembert", "roberta-prelayernorm", "xlm-roberta-xl", "megatron-bert", "mpnet", "ernie", "modernbert",
            "nomic_bert", "jina_embeddings_v3", "mobilebert", "squeezebert", "convbert")
#: the families whose RoPE is modelled with 64-wide heads
ROTARY = ("modernbert", "nomic_bert", "jina_embeddings_v3")
SHAPES = [(2, 16), (1, 7)]


def _encoder(family: str, **fields) -> bertsize.Encoder:
    positions = 40 if family == "megatron-bert" else 42  # RoBERTa-style ids start at 2
    segments = 0 if family == "mpnet" else 2  # MPNet has no segment embeddings
    if family == "ernie":
        fields.setdefault("task_types", 3)  # use_task_id, ERNIE 3.0's 3 task types
    if family in ROTARY:
        fields = {"hidden": 128, "heads": 2, **fields}
    if family == "mobilebert":  # a bottleneck narrower than hidden, embeddings narrower still
        fields = {"embedding": 8, "bottleneck": 16, **fields}
    if family == "convbert":  # embeddings narrower than hidden: projected
        fields = {"embedding": 16, **fields}
    if family == "modernbert":  # a window shorter than the longer shape (a mask) but not the shorter
        fields = {"local_attention": 16, "layers": 4, **fields}
        segments = 0
    fields = {"layers": 2, "hidden": 32, "heads": 4, **fields}
    return bertsize.Encoder(family=family, intermediate=48, vocab=99,
                            max_positions=positions, type_vocab=segments, hidden_dropout=0.1, attention_dropout=0.1,
                            **fields)


CASES = [(family, head) for family in FAMILIES for head in bertsize.HEADS if _encoder(family).has_head(head)]


@pytest.mark.parametrize(("family", "head"), CASES)
def test_params_and_flops(family, head):
    encoder = _encoder(family)
    labels = 2 if head == "pretraining" else 3
    model = hf.build(encoder, head, num_labels=labels)
    assert bertsize.count_params(encoder, head, labels) == hf.count_params(model)
    for batch, seq_len in SHAPES:
        forward, backward = hf.measure_flops(model, hf.inputs(encoder, head, batch, seq_len, labels))
        estimate = bertsize.estimate(encoder, bertsize.Workload(batch=batch, seq_len=seq_len, training=True),
                                     head, labels)
        assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward), (batch, seq_len)


# HF's MegatronBertModel refuses attn_implementation="sdpa" (its PreTrainedModel has no
# _supports_sdpa); bertsize refuses it too (test_megatron_bert_runs_only_eager_attention)
SDPA = {"camembert", "roberta-prelayernorm", "xlm-roberta-xl", "ernie", "modernbert", "nomic_bert", "jina_embeddings_v3",
        "mobilebert"}


@pytest.mark.parametrize(("family", "head", "attention"),
                         [(f, h, a) for f, h in CASES for a in ("eager", "sdpa") if a == "eager" or f in SDPA])
def test_saved_activations(family, head, attention):
    encoder = _encoder(family)
    labels = 2 if head == "pretraining" else 3
    model = hf.build(encoder, head, num_labels=labels, attention=attention)
    for precision in ("fp32", "bf16"):
        dtype = torch.bfloat16 if precision == "bf16" else None
        saved, casts = hf.measure_saved(model, hf.inputs(encoder, head, 2, 9, labels), dtype)
        work = bertsize.Workload(batch=2, seq_len=9, training=True, precision=precision, attention=attention,
                                 backend="cpu")
        estimate = bertsize.estimate(encoder, work, head, labels)
        assert estimate.activation_bytes == saved, precision
        assert estimate.weight_bytes - 4 * estimate.params == casts, precision


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in ("mpnet", "squeezebert")])
def test_gradient_checkpointing(family):
    """With HF gradient checkpointing only each layer's input (and the final LayerNorm's
    work, outside the layers) survives the forward."""
    encoder = _encoder(family)
    model = hf.build(encoder, "masked_lm")
    model.gradient_checkpointing_enable()
    saved, _ = hf.measure_saved(model, hf.inputs(encoder, "masked_lm", 2, 9))
    work = bertsize.Workload(batch=2, seq_len=9, training=True, backend="cpu", recompute="full")
    assert bertsize.estimate(encoder, work, "masked_lm").activation_bytes == saved


def test_xlm_roberta_xl_has_roberta_parameters_and_saves_more():
    """Goyal et al. 2021: XL moves the embeddings' LayerNorm after the last layer; the
    parameters stay RoBERTa's, the training activations do not."""
    sizes = dict(layers=2, hidden=32, heads=4, intermediate=48, vocab=99, max_positions=42, type_vocab=1)
    xl = bertsize.Encoder(family="xlm-roberta-xl", **sizes)
    post = bertsize.Encoder(family="xlm-roberta", **sizes)
    assert bertsize.count_params(xl, "masked_lm") == bertsize.count_params(post, "masked_lm")
    work = bertsize.Workload(batch=2, seq_len=16, training=True)
    assert bertsize.estimate(xl, work).activation_bytes != bertsize.estimate(post, work).activation_bytes


def test_megatron_bert_runs_only_eager_attention():
    encoder = _encoder("megatron-bert")
    with pytest.raises(ValueError):
        hf.build(encoder, "model", attention="sdpa")  # what HF does
    for attention in ("sdpa", "flash"):
        with pytest.raises(ValueError, match=f"attention='{attention}': family 'megatron-bert' runs only 'eager'"):
            bertsize.estimate(encoder, bertsize.Workload(attention=attention))


def test_mpnet_refuses_what_its_hf_classes_cannot_run():
    encoder = _encoder("mpnet")
    model = hf.build(encoder, "model")
    assert not model.supports_gradient_checkpointing  # HF: no gradient checkpointing for MPNet
    with pytest.raises(ValueError, match="recompute='full': family 'mpnet'"):
        bertsize.estimate(encoder, bertsize.Workload(training=True, recompute="full"))
    with pytest.raises(ValueError, match="attention='sdpa': family 'mpnet' runs only 'eager'"):
        bertsize.estimate(encoder, bertsize.Workload(attention="sdpa"))


def test_mpnet_relative_bias_by_hand():
    """The shared bias: 32 x heads parameters, one in-place add of b·heads·s² per layer
    (the elementwise FLOPs grow by exactly that over a twin without it, RoBERTa's)."""
    sizes = dict(layers=3, hidden=32, heads=4, intermediate=48, vocab=99, max_positions=42)
    mpnet = bertsize.Encoder(family="mpnet", type_vocab=0, **sizes)
    roberta = bertsize.Encoder(family="roberta", type_vocab=1, **sizes)
    assert bertsize.count_params(mpnet) == bertsize.count_params(roberta) - 32 + 32 * 4  # no segment row of 32
    b, s = 2, 10
    work = bertsize.Workload(batch=b, seq_len=s)
    extra = bertsize.estimate(mpnet, work).elementwise_flops_fwd - bertsize.estimate(roberta, work).elementwise_flops_fwd
    assert extra == 3 * b * 4 * s * s - b * s * 32  # the bias adds; RoBERTa's segment-embedding add is gone


def test_ernie_task_table_is_read_as_hf_reads_it():
    """use_task_id false: no table (ErnieConfig's default); true: task_type_vocab_size x hidden."""
    plain = bertsize.from_hf_config({"model_type": "ernie", "task_type_vocab_size": 16})
    tasks = bertsize.from_hf_config({"model_type": "ernie", "use_task_id": True, "task_type_vocab_size": 16})
    assert plain.task_types is None and tasks.task_types == 16
    assert bertsize.count_params(tasks) - bertsize.count_params(plain) == 16 * 768
    with torch.device("meta"):
        model = hf.build(tasks, "masked_lm")
    assert bertsize.count_params(tasks, "masked_lm") == hf.count_params(model)
    with pytest.raises(ValueError, match="task_types=3 is ERNIE's"):
        bertsize.Encoder(family="bert", task_types=3)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("head", ["sequence_classification", "multiple_choice"])
def test_modernbert_mean_pooling(head, attention):
    """classifier_pooling="mean" (the published checkpoints'): the mean of each sequence's
    rows, nothing floating saved for it; HF's multiple choice needs the (all-ones) mask."""
    encoder = _encoder("modernbert", pooling="mean", classifier_dropout=0.1)
    model = hf.build(encoder, head, num_labels=3, attention=attention)
    choices = 3 if head == "multiple_choice" else 1
    inputs = hf.inputs(encoder, head, 2, 9, 3, num_choices=choices)
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])  # what HF's mean needs; all ones changes nothing
    for precision in ("fp32", "bf16"):
        saved, _ = hf.measure_saved(model, inputs, torch.bfloat16 if precision == "bf16" else None)
        work = bertsize.Workload(batch=2, seq_len=9, training=True, precision=precision, attention=attention,
                                 backend="cpu", num_choices=choices)
        assert bertsize.estimate(encoder, work, head, 3).activation_bytes == saved, precision
    forward, backward = hf.measure_flops(hf.build(encoder, head, num_labels=3), inputs)
    estimate = bertsize.estimate(encoder, bertsize.Workload(batch=2, seq_len=9, training=True, num_choices=choices),
                                 head, 3)
    assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward)


def test_modernbert_config_and_refusals():
    """A config reads as HF reads it; what is not modelled is refused, naming the key."""
    config = {"model_type": "modernbert", "classifier_pooling": "mean", "local_attention": 64,
              "embedding_dropout": 0.1, "mlp_dropout": 0.1}
    encoder = bertsize.from_hf_config(config)
    assert (encoder.pooling, encoder.local_attention, encoder.hidden_dropout) == ("mean", 64, 0.1)
    with torch.device("meta"):
        model = hf.build(bertsize.preset("answerdotai/ModernBERT-base"), "masked_lm")
    assert bertsize.count_params("answerdotai/ModernBERT-base", "masked_lm") == hf.count_params(model)
    for key, value in (("norm_bias", True), ("global_attn_every_n_layers", 2), ("sparse_prediction", True)):
        with pytest.raises(ValueError, match=key):
            bertsize.from_hf_config({**config, key: value})
    with pytest.raises(ValueError, match="embedding_dropout"):
        bertsize.from_hf_config({**config, "embedding_dropout": 0.0})
    with pytest.raises(ValueError, match="64 x heads"):
        bertsize.Encoder(family="modernbert", hidden=96, heads=2)
    with pytest.raises(ValueError, match="local_attention must be at most 4,294,967,296"):
        bertsize.Encoder(family="modernbert", local_attention=2**32 + 1)
    at_most = bertsize.Encoder(family="modernbert", local_attention=2**32, max_positions=8192)  # constants fit int64
    full = bertsize.estimate(at_most.replace(local_attention=128), bertsize.Workload(seq_len=64))
    assert bertsize.estimate(at_most, bertsize.Workload(seq_len=4096, attention="flash")).flops_fwd > full.flops_fwd


@pytest.mark.parametrize("seq_len", [5, 17, 18, 40])
def test_modernbert_flash_skips_what_the_window_excludes(seq_len):
    """Under flash attention a local layer's q·kᵀ and p·v cover the band |i - j| <= w
    (w = local_attention // 2): s (2w + 1) - w (w + 1) pairs from s = w + 2 on, all s²
    below; global layers and everything else cost what they cost under eager."""
    encoder = _encoder("modernbert", layers=5, local_attention=32)  # layers 0 and 3 global, 3 local
    b, w, H = 2, 16, encoder.hidden
    band = seq_len * (2 * w + 1) - w * (w + 1) if seq_len >= w + 2 else seq_len * seq_len
    work = bertsize.Workload(batch=b, seq_len=seq_len, precision="bf16")
    eager = bertsize.estimate(encoder, work).flops_fwd
    flash = bertsize.estimate(encoder, work.replace(attention="flash")).flops_fwd
    assert eager - flash == 3 * 2 * (2 * b * H * (seq_len * seq_len - band))


def test_rotary_families_read_their_configs_as_hf_does():
    """nomic-embed-text-v1.5's config.json keeps GPT-2-style keys transformers 5.x does not
    read (it builds NomicBertConfig's defaults, the checkpoint's sizes); a head width other
    than hidden / heads is refused, naming the key; Jina v3's defaults are the model's."""
    published = {"model_type": "nomic_bert", "architectures": ["NomicBertModel"], "n_embd": 768, "n_layer": 12,
                 "n_head": 12, "n_inner": 3072, "vocab_size": 30528, "type_vocab_size": 2, "n_positions": 8192,
                 "max_position_embeddings": 2048, "rotary_emb_fraction": 1.0, "activation_function": "swiglu",
                 "rope_parameters": {"rope_theta": 1000.0, "rope_type": "default"}}
    encoder = bertsize.from_hf_config(published)
    hf_model = hf.build(encoder.replace(layers=1), "model")  # our reading, built by HF ...
    reference = transformers.NomicBertModel(transformers.NomicBertConfig(**{**published, "num_hidden_layers": 1}))
    assert hf.count_params(hf_model) == hf.count_params(reference)  # ... is what HF builds from the dict
    assert (encoder.activation, encoder.hidden_dropout, encoder.pooler) == ("silu", 0.0, False)
    assert bertsize.count_params(encoder) == bertsize.count_params("nomic-ai/nomic-embed-text-v1.5")
    assert bertsize.from_hf_config({**published, "head_dim": 64}) == encoder
    with pytest.raises(ValueError, match="head_dim=32 is not supported"):
        bertsize.from_hf_config({**published, "head_dim": 32})
    with pytest.raises(ValueError, match="64 x heads"):
        bertsize.Encoder(family="nomic_bert", hidden=96, heads=2)
    jina = bertsize.from_hf_config({"model_type": "jina_embeddings_v3"})
    assert jina == bertsize.preset("jinaai/jina-embeddings-v3").replace(num_labels=2)
    assert bertsize.hf_head({"model_type": "nomic_bert", "architectures": ["NomicBertForTokenClassification"]}) == (
        "token_classification")


def test_heads_a_rotary_family_lacks_are_refused():
    """HF has no NomicBertForQuestionAnswering nor a multiple-choice class for either."""
    for family, missing in (("nomic_bert", ("question_answering", "multiple_choice")),
                            ("jina_embeddings_v3", ("multiple_choice",))):
        prefix = hf._CLASS_PREFIX[family]
        encoder = _encoder(family)
        for head in missing:
            assert not hasattr(transformers, prefix + hf._CLASS_SUFFIX[head])
            assert not encoder.has_head(head)
            with pytest.raises(ValueError, match=head):
                bertsize.estimate(encoder, head=head)


def test_jina_v3_is_xlm_roberta_large_without_its_position_table():
    """Same vocabulary, layers and heads as XLM-R large (Sturua et al. 2024 start from it),
    RoPE instead of its 514 x 1024 position table; the LoRA adapters are not HF's."""
    assert bertsize.count_params("jinaai/jina-embeddings-v3") == bertsize.count_params("xlm-roberta-large") - 514 * 1024


def test_rope_costs_three_flops_per_element_of_q_and_k():
    """Against XLM-R of the same sizes: every layer rotates q and k (3 FLOPs an element),
    and the embeddings have no position table to add (1 FLOP an element fewer)."""
    sizes = dict(layers=3, hidden=128, heads=2, intermediate=48, vocab=99, max_positions=42, type_vocab=1)
    jina = bertsize.Encoder(family="jina_embeddings_v3", **sizes)
    xlmr = bertsize.Encoder(family="xlm-roberta", **sizes)
    b, s = 2, 10
    work = bertsize.Workload(batch=b, seq_len=s)
    extra = bertsize.estimate(jina, work).elementwise_flops_fwd - bertsize.estimate(xlmr, work).elementwise_flops_fwd
    assert extra == 3 * 2 * 3 * b * s * 128 - b * s * 128
    assert bertsize.estimate(jina, work).flops_fwd == bertsize.estimate(xlmr, work).flops_fwd


def test_mobilebert_config_and_refusals():
    """MobileBertConfig's defaults are google/mobilebert-uncased's sizes; what bertsize
    does not model (another FFN count, no bottleneck, LayerNorms, no trigram) is refused
    naming the key; the bottleneck and the embedding width are checked."""
    encoder = bertsize.from_hf_config({"model_type": "mobilebert", "embedding_size": 64, "intra_bottleneck_size": 96})
    assert (encoder.embedding, encoder.bottleneck, encoder.activation) == (64, 96, "relu")
    assert bertsize.from_hf_config({"model_type": "mobilebert"}) == bertsize.preset("google/mobilebert-uncased")
    for key, value in (("num_feedforward_networks", 2), ("use_bottleneck", False), ("trigram_input", False),
                       ("normalization_type", "layer_norm"), ("use_bottleneck_attention", True),
                       ("key_query_shared_bottleneck", False), ("classifier_activation", False)):
        with pytest.raises(ValueError, match=key):
            bertsize.from_hf_config({"model_type": "mobilebert", key: value})
    with pytest.raises(ValueError, match="embedding=600 exceeds hidden=512"):
        bertsize.Encoder(family="mobilebert", layers=2, hidden=512, heads=4, embedding=600)
    with pytest.raises(ValueError, match="heads=8 does not divide bottleneck=12"):
        bertsize.Encoder(family="mobilebert", layers=2, hidden=512, heads=8, bottleneck=12)
    with pytest.raises(ValueError, match="bottleneck=128 is MobileBERT's"):
        bertsize.Encoder(family="bert", bottleneck=128)


def test_mobilebert_decoder_stacks_the_word_embeddings_with_a_dense_block():
    """The MLM decoder multiplies by cat(word embeddings.T, dense.weight): H x V FLOPs per
    token, and (H - E) x V parameters beyond the tied E x V; its stacked weight is no
    parameter, so training saves it, as HF's forward does."""
    sizes = dict(layers=1, hidden=32, heads=4, intermediate=48, vocab=99, max_positions=40, bottleneck=16)
    narrow = bertsize.Encoder(family="mobilebert", embedding=8, **sizes)
    wide = bertsize.Encoder(family="mobilebert", embedding=32, **sizes)
    # the word table's 24 more columns are the dense block's 24 fewer rows; the trigram
    # projection is 3 x 24 x 32 larger
    assert bertsize.count_params(wide, "masked_lm") - bertsize.count_params(narrow, "masked_lm") == 3 * 24 * 32
    b, s = 2, 9
    work = bertsize.Workload(batch=b, seq_len=s)
    assert (bertsize.estimate(wide, work, "masked_lm").flops_fwd - bertsize.estimate(narrow, work, "masked_lm").flops_fwd
            == 2 * b * s * 3 * 24 * 32)
    train = bertsize.Workload(batch=b, seq_len=s, training=True, backend="cpu")
    model = hf.build(narrow, "masked_lm")
    saved, _ = hf.measure_saved(model, hf.inputs(narrow, "masked_lm", b, s))
    assert bertsize.estimate(narrow, train, "masked_lm").activation_bytes == saved
    assert model.cls.predictions.dense.weight.numel() == (32 - 8) * 99


def test_flop_counter_counts_a_grouped_convolutions_weight_gradient_as_if_ungrouped():
    """torch 2.13's FlopCounterMode: forward and input gradient of a grouped Conv1d are
    right, its weight gradient is counted with every input channel against every output
    channel.  The HF comparisons subtract that (hf_reference.grouped_conv_overcount); a
    torch that fixes it fails here, and the correction goes."""
    from torch.utils.flop_counter import FlopCounterMode

    conv = torch.nn.Conv1d(8, 12, kernel_size=1, groups=4)
    x = torch.randn(2, 8, 5, requires_grad=True)
    with FlopCounterMode(display=False) as forward:
        y = conv(x)
    with FlopCounterMode(display=False) as backward:
        y.sum().backward()
    true = 2 * 2 * 5 * 8 * 12 // 4  # each of 12 outputs sums 8 / 4 inputs, at 2 x 5 positions
    assert forward.get_total_flops() == true
    assert backward.get_total_flops() == true + 4 * true  # input gradient right, weight gradient ungrouped
    assert backward.get_total_flops() - hf.grouped_conv_overcount(conv, x.shape) == 2 * true


def test_squeezebert_refuses_what_its_hf_classes_cannot_run():
    """No SDPA (HF refuses it too), no gradient checkpointing, no pooler-less base model
    (SqueezeBertModel has no add_pooling_layer), only the published groups."""
    encoder = _encoder("squeezebert")
    with pytest.raises(ValueError):
        hf.build(encoder, "model", attention="sdpa")
    assert not hf.build(encoder, "model").supports_gradient_checkpointing
    with pytest.raises(ValueError, match="attention='sdpa': family 'squeezebert' runs only 'eager'"):
        bertsize.estimate(encoder, bertsize.Workload(attention="sdpa"))
    with pytest.raises(ValueError, match="recompute='full': family 'squeezebert'"):
        bertsize.estimate(encoder, bertsize.Workload(training=True, recompute="full"))
    with pytest.raises(ValueError, match="pooler=False is impossible for family 'squeezebert'"):
        bertsize.Encoder(family="squeezebert", pooler=False)
    for key in ("q_groups", "k_groups", "v_groups", "post_attention_groups", "intermediate_groups", "output_groups"):
        with pytest.raises(ValueError, match=key):
            bertsize.from_hf_config({"model_type": "squeezebert", key: 2})
    with pytest.raises(ValueError, match="hidden=30 is not a multiple of 4"):
        bertsize.Encoder(family="squeezebert", layers=1, hidden=30, heads=3, intermediate=48)
    with pytest.raises(ValueError, match="intermediate=50 is not a multiple of 4"):
        bertsize.Encoder(family="squeezebert", layers=1, hidden=32, heads=4, intermediate=50)
    with pytest.raises(ValueError, match="embedding"):
        bertsize.from_hf_config({"model_type": "squeezebert", "embedding_size": 512})


def test_squeezebert_preset_is_the_published_checkpoint():
    """squeezebert/squeezebert-uncased's config.json holds SqueezeBertConfig's defaults but
    a 30,528-row vocabulary; Iandola et al. 2020 (Table 2) give 51.1M parameters."""
    encoder = bertsize.from_hf_config({"model_type": "squeezebert", "vocab_size": 30528})
    # the config names embedding_size (which must be hidden_size): read as the field
    assert encoder == bertsize.preset("squeezebert/squeezebert-uncased").replace(embedding=768)
    with torch.device("meta"):
        model = hf.build(encoder, "model")
    assert bertsize.count_params(encoder) == hf.count_params(model)
    assert round(bertsize.count_params(encoder) / 1e6, 1) == 51.1


def test_squeezebert_heads_that_ignore_the_pooler_still_run_it():
    """The masked LM runs the pooler forward (its FLOPs and saved tensors) but no
    gradient reaches it: the backward is twice the forward less the pooler's."""
    encoder = _encoder("squeezebert")
    b, s, h = 2, 9, encoder.hidden
    work = bertsize.Workload(batch=b, seq_len=s, training=True)
    estimate = bertsize.estimate(encoder, work, "masked_lm")
    pooler = 2 * b * h * h
    assert estimate.flops_bwd == 2 * (estimate.flops_fwd - pooler)
    layers, inner = encoder.layers, encoder.intermediate
    grouped = layers * (3 * (h * h - h * h // 4) + 2 * (h * inner - h * inner // 4))  # q, k, v; the FFN's two
    bert = bertsize.count_params(encoder.replace(family="bert"), "masked_lm")  # BERT's masked LM has no pooler
    assert bertsize.count_params(encoder, "masked_lm") == bert - grouped + h * h + h


def test_convbert_refuses_what_it_does_not_model():
    """Another head ratio, kernel, grouped FFN or a sequence summary is refused naming the
    key; an odd head count cannot be halved; HF runs it eagerly only, as bertsize does."""
    for key, value in (("head_ratio", 4), ("conv_kernel_size", 5), ("num_groups", 2), ("summary_type", "first"),
                       ("summary_use_proj", True)):
        with pytest.raises(ValueError, match=key):
            bertsize.from_hf_config({"model_type": "convbert", key: value})
    with pytest.raises(ValueError, match="heads=3 is not a multiple of 2"):
        bertsize.Encoder(family="convbert", layers=1, hidden=48, heads=3)
    encoder = _encoder("convbert")
    with pytest.raises(ValueError):
        hf.build(encoder, "model", attention="sdpa")
    with pytest.raises(ValueError, match="attention='sdpa': family 'convbert' runs only 'eager'"):
        bertsize.estimate(encoder, bertsize.Workload(attention="sdpa"))


def test_convbert_preset_is_the_published_size():
    """ConvBertConfig's defaults (YituTech/conv-bert-base's sizes) against the meta-device
    model; Jiang et al. 2020 (Table 2) give ConvBERT-base 106M parameters."""
    encoder = bertsize.from_hf_config({"model_type": "convbert"})
    assert encoder == bertsize.preset("YituTech/conv-bert-base")
    with torch.device("meta"):
        model = hf.build(encoder, "model")
    assert bertsize.count_params(encoder) == hf.count_params(model)
    assert round(bertsize.count_params(encoder) / 1e6) == 106


def test_convbert_mixed_attention_by_hand():
    """Per layer, against ELECTRA of the same sizes: q, k, v at hidden / 2 (half the
    projections), the separable convolution (H x 9 depthwise taps, H x H/2 pointwise and
    its bias), the kernel Linear (H/2 -> heads/2 x 9) and conv_out (H -> H/2); attention of
    heads / 2 heads at H / heads features (half the score FLOPs), the span convolution
    2 · n · H/2 · 9."""
    sizes = dict(layers=3, hidden=32, heads=4, intermediate=48, vocab=99, max_positions=40)
    conv = bertsize.Encoder(family="convbert", **sizes)
    electra = bertsize.Encoder(family="electra", **sizes)
    H, half, taps, k = 32, 16, 2 * 9, 9
    extra = (-3 * (H * H - H * half) - 3 * (H - half) + H * k + H * half + half + half * taps + taps + H * half + half)
    assert bertsize.count_params(conv) - bertsize.count_params(electra) == 3 * extra
    b, s = 2, 10
    n = b * s
    work = bertsize.Workload(batch=b, seq_len=s)
    flops = (-3 * 2 * n * H * (H - half) + 2 * n * H * k + 2 * n * H * half + 2 * n * half * taps + 2 * n * H * half
             - 2 * 2 * b * s * s * (H - half) + 2 * n * half * k)
    assert bertsize.estimate(conv, work).flops_fwd - bertsize.estimate(electra, work).flops_fwd == 3 * flops
