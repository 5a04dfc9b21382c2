"""The config keys that change a model or its head, each against the HF class that
transformers builds from the same config dict (random weights, never a download)."""

from __future__ import annotations

import json

import pytest

import bertsize

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

# Small config.json dicts of every family, in each config class's own key names.
CONFIGS = {
    "Bert": {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 40},
    "Roberta": {"model_type": "roberta", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 42, "type_vocab_size": 1},
    "XLMRoberta": {"model_type": "xlm-roberta", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "intermediate_size": 40, "vocab_size": 89, "max_position_embeddings": 42, "type_vocab_size": 1},
    "DistilBert": {"model_type": "distilbert", "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 48,
                   "vocab_size": 97, "max_position_embeddings": 40},
    "Albert": {"model_type": "albert", "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
               "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 40, "embedding_size": 16,
               "num_hidden_groups": 1},
    "Electra": {"model_type": "electra", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 40, "embedding_size": 16},
}
#: bertsize head -> the transformers class suffix (written out here, not read from bertsize)
SUFFIX = {"causal_lm": "ForCausalLM", "masked_lm": "ForMaskedLM", "pretraining": "ForPreTraining",
          "sequence_classification": "ForSequenceClassification", "token_classification": "ForTokenClassification",
          "question_answering": "ForQuestionAnswering", "next_sentence_prediction": "ForNextSentencePrediction"}


def _hf_model(config: dict, class_name: str, attention: str = "eager"):
    fields = {key: value for key, value in config.items() if key not in ("model_type", "architectures")}
    hf_config = transformers.AutoConfig.for_model(config["model_type"], **fields)
    hf_config._attn_implementation = attention
    return getattr(transformers, class_name)(hf_config).train()


@pytest.mark.parametrize("prefix", CONFIGS)
@pytest.mark.parametrize("head", ["sequence_classification", "token_classification"])
def test_num_labels_is_read_from_id2label_or_num_labels(prefix, head):
    for extra in ({"id2label": {str(i): f"tag{i}" for i in range(9)}}, {"num_labels": 5}):
        config = {**CONFIGS[prefix], **extra}
        encoder = bertsize.from_hf_config(config)
        with torch.device("meta"):
            model = _hf_model(config, prefix + SUFFIX[head])
        assert encoder.num_labels == model.config.num_labels
        # no num_labels passed: the config's is used
        assert bertsize.count_params(encoder, head) == hf.count_params(model)
        assert bertsize.estimate(encoder, bertsize.Workload(seq_len=8), head).params == hf.count_params(model)


@pytest.mark.parametrize("prefix", CONFIGS)
def test_untied_word_embeddings(prefix):
    """tie_word_embeddings=false: the decoder's own weight (BERT, RoBERTa and ALBERT
    also untie the decoder bias, leaving the head's bias unread); FLOPs unchanged; under
    CPU autocast the decoder weight is cast on its own."""
    config = {**CONFIGS[prefix], "tie_word_embeddings": False}
    encoder = bertsize.from_hf_config(config)
    heads = [h for h in ("masked_lm", "pretraining") if encoder.has_head(h)]
    for head in heads:
        model = _hf_model(config, prefix + SUFFIX[head])
        assert bertsize.count_params(encoder, head) == hf.count_params(model), head
        batch = hf.inputs(encoder, head, 2, 7)
        forward, backward = hf.measure_flops(model, batch)
        work = bertsize.Workload(batch=2, seq_len=7, training=True, precision="bf16", backend="cpu")
        estimate = bertsize.estimate(encoder, work, head)
        assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward), head
        saved, casts = hf.measure_saved(model, batch, torch.bfloat16)
        assert estimate.activation_bytes == saved, head
        assert estimate.weight_bytes - 4 * estimate.params == casts, head
    tied = bertsize.from_hf_config(CONFIGS[prefix])
    assert bertsize.count_params(encoder, "masked_lm") > bertsize.count_params(tied, "masked_lm")


def test_an_unread_bias_has_no_gradient_and_no_optimizer_state():
    """BertForMaskedLM untied: cls.predictions.bias is a parameter the forward never
    reads, so backward leaves its grad None and AdamW keeps no state for it."""
    config = {**CONFIGS["Bert"], "tie_word_embeddings": False}
    model = _hf_model(config, "BertForMaskedLM")
    encoder = bertsize.from_hf_config(config)
    output = model(**hf.inputs(encoder, "masked_lm", 2, 5))
    output.loss.backward()
    optimizer = torch.optim.AdamW(model.parameters())
    optimizer.step()
    with_grad = [p for p in model.parameters() if p.grad is not None]
    states = sum(t.numel() * t.element_size() for s in optimizer.state.values() for t in s.values() if t.dim())
    estimate = bertsize.estimate(encoder, bertsize.Workload(batch=2, seq_len=5, training=True), "masked_lm")
    assert estimate.grad_bytes == 4 * sum(p.numel() for p in with_grad)
    assert estimate.optimizer_bytes == states
    assert len(with_grad) == len(list(model.parameters())) - 1


def test_architectures_name_the_default_head(tmp_path):
    for prefix, config in CONFIGS.items():
        for head, suffix in SUFFIX.items():
            named = {**config, "architectures": [prefix + suffix]}
            expected = head if hasattr(transformers, prefix + suffix) else None
            assert bertsize.hf_head(named) == expected, prefix + suffix
    assert bertsize.hf_head({**CONFIGS["Bert"], "architectures": ["BertLMHeadModel"]}) == "causal_lm"
    assert bertsize.hf_head({**CONFIGS["Bert"], "architectures": ["RobertaForMaskedLM"]}) is None
    assert bertsize.hf_head(CONFIGS["Bert"]) is None


def test_the_cli_sizes_the_class_a_config_names(tmp_path):
    """`bertsize estimate config.json` of a NER checkpoint: its head and its 9 labels."""
    from test_cli import run

    config = {**CONFIGS["Bert"], "architectures": ["BertForTokenClassification"],
              "id2label": {str(i): f"tag{i}" for i in range(9)}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with torch.device("meta"):
        model = _hf_model(config, "BertForTokenClassification")
    data = json.loads(run("estimate", str(path), "--seq-len", "16", "--json").stdout)
    assert data["head"] == "token_classification"
    assert data["params"] == hf.count_params(model)
    override = json.loads(run("estimate", str(path), "--seq-len", "16", "--head", "model", "--json").stdout)
    with torch.device("meta"):
        base = _hf_model(config, "BertModel")
    assert override["head"] == "model" and override["params"] == hf.count_params(base)


def test_distilbert_sinusoidal_positions_remain_parameters():
    """transformers 5.x fills the position table with sinusoids at init but keeps it an
    nn.Embedding parameter (requires_grad stays True): the count does not change."""
    config = {**CONFIGS["DistilBert"], "sinusoidal_pos_embds": True}
    model = _hf_model(config, "DistilBertForMaskedLM")
    assert model.distilbert.embeddings.position_embeddings.weight.requires_grad
    assert bertsize.count_params(bertsize.from_hf_config(config), "masked_lm") == hf.count_params(model)


def test_question_answering_has_two_logits_per_token():
    """qa_outputs is Linear(hidden, num_labels) in HF and its forward splits it into
    start and end, so only num_labels=2 runs; bertsize sizes the 2 whatever is passed."""
    encoder = bertsize.from_hf_config(CONFIGS["Bert"])
    model = _hf_model(CONFIGS["Bert"], "BertForQuestionAnswering")
    assert model.qa_outputs.out_features == 2
    assert bertsize.count_params(encoder, "question_answering", 7) == hf.count_params(model)


@pytest.mark.parametrize("prefix", ["Bert", "Roberta", "Electra"])
def test_is_decoder_masks_every_head(prefix):
    """is_decoder=true makes the self-attention causal: under CPU autocast, eager
    attention adds the fp32 mask to 16-bit scores, which promotes the probabilities."""
    config = {**CONFIGS[prefix], "is_decoder": True}
    encoder = bertsize.from_hf_config(config)
    assert encoder.is_decoder
    for head, attention in (("model", "eager"), ("sequence_classification", "eager"), ("model", "sdpa")):
        class_name = prefix + ("Model" if head == "model" else SUFFIX[head])
        model = _hf_model(config, class_name, attention)
        batch = hf.inputs(encoder, head, 2, 9)
        saved, casts = hf.measure_saved(model, batch, torch.bfloat16)
        work = bertsize.Workload(batch=2, seq_len=9, training=True, precision="bf16", backend="cpu",
                                 attention=attention)
        estimate = bertsize.estimate(encoder, work, head)
        assert (estimate.activation_bytes, estimate.weight_bytes - 4 * estimate.params) == (saved, casts), head
    bidirectional = bertsize.estimate(encoder.replace(is_decoder=False), work.replace(attention="eager"))
    causal = bertsize.estimate(encoder, work.replace(attention="eager"))
    if encoder.embedding_size != encoder.hidden:  # ELECTRA's projection runs in 16 bits: so does the mask
        assert causal.activation_bytes == bidirectional.activation_bytes
    else:  # fp32 probabilities (4 bytes each more than their 16-bit copy) in each of the layers
        extra = encoder.layers * 2 * encoder.heads * 9 * 9 * 4
        assert causal.activation_bytes - bidirectional.activation_bytes == extra


@pytest.mark.parametrize("prefix", ["DistilBert", "Albert"])
def test_is_decoder_is_ignored_where_hf_ignores_it(prefix):
    config = {**CONFIGS[prefix], "is_decoder": True}
    assert not bertsize.from_hf_config(config).is_decoder
    family = bertsize.from_hf_config(config).family
    with pytest.raises(ValueError, match="is_decoder=True is impossible"):
        bertsize.from_hf_config(config).replace(is_decoder=True)
    assert family in ("distilbert", "albert")
