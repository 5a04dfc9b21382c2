"""Measure real HuggingFace models: the independent reference for the oracle.

Models are built from config objects with random weights (never downloaded).  The
Encoder -> HF config mapping below is written out by hand, independently of
``bertsize.hf_config.to_hf_config`` (which bertsize.measure() uses): a reference that
called the library's mapping would share its mistakes.
"""

from __future__ import annotations

import contextlib

import torch
import transformers
from torch.utils.flop_counter import FlopCounterMode

_CLASS_PREFIX = {
    "bert": "Bert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta",
    "distilbert": "DistilBert", "albert": "Albert", "electra": "Electra", "camembert": "Camembert",
    "roberta-prelayernorm": "RobertaPreLayerNorm", "xlm-roberta-xl": "XLMRobertaXL", "megatron-bert": "MegatronBert",
    "mpnet": "MPNet", "ernie": "Ernie", "modernbert": "ModernBert", "deberta-v2": "DebertaV2",
    "nomic_bert": "NomicBert", "jina_embeddings_v3": "JinaEmbeddingsV3", "mobilebert": "MobileBert",
    "squeezebert": "SqueezeBert", "convbert": "ConvBert",
}
_CLASS_SUFFIX = {
    "model": "Model", "masked_lm": "ForMaskedLM", "pretraining": "ForPreTraining",
    "sequence_classification": "ForSequenceClassification", "token_classification": "ForTokenClassification",
    "question_answering": "ForQuestionAnswering", "next_sentence_prediction": "ForNextSentencePrediction",
    "multiple_choice": "ForMultipleChoice", "causal_lm": "ForCausalLM",
}


def hf_config(enc, num_labels: int = 2, attention: str = "eager"):
    """The transformers config object describing ``enc``."""
    if enc.family == "modernbert":
        config = transformers.ModernBertConfig(
            vocab_size=enc.vocab, hidden_size=enc.hidden, num_hidden_layers=enc.layers,
            num_attention_heads=enc.heads, intermediate_size=enc.intermediate,
            max_position_embeddings=enc.max_positions, hidden_activation=enc.activation,
            mlp_dropout=enc.hidden_dropout, embedding_dropout=enc.hidden_dropout,
            attention_dropout=enc.attention_dropout, classifier_dropout=enc.classifier_dropout,
            classifier_pooling=enc.pooling, local_attention=enc.local_attention, num_labels=num_labels, tie_word_embeddings=enc.tie_word_embeddings,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, cls_token_id=1, sep_token_id=2,
        )
    elif enc.family == "deberta-v2":
        rel = enc.disentangled
        config = transformers.DebertaV2Config(
            vocab_size=enc.vocab, hidden_size=enc.hidden, num_hidden_layers=enc.layers,
            num_attention_heads=enc.heads, intermediate_size=enc.intermediate,
            max_position_embeddings=enc.max_positions, type_vocab_size=enc.type_vocab,
            embedding_size=enc.embedding_size, hidden_act=enc.activation, hidden_dropout_prob=enc.hidden_dropout,
            attention_probs_dropout_prob=enc.attention_dropout, cls_dropout=enc.classifier_dropout,
            # HF's log buckets divide by span // 2: a span of 1 goes unbucketed
            relative_attention=True, position_buckets=rel.span if rel.span > 1 else -1,
            max_relative_positions=rel.span if rel.span == 1 else -1,
            pos_att_type=[kind for kind, on in (("p2c", rel.p2c), ("c2p", rel.c2p)) if on],
            share_att_key=rel.share_att_key, norm_rel_ebd="layer_norm" if rel.norm_rel_ebd else "none",
            position_biased_input=rel.position_biased_input, conv_kernel_size=rel.conv_kernel_size,
            conv_act=rel.conv_act, num_labels=num_labels,
            tie_word_embeddings=enc.tie_word_embeddings,
        )
    elif enc.family == "distilbert":
        config = transformers.DistilBertConfig(
            vocab_size=enc.vocab, dim=enc.hidden, n_layers=enc.layers, n_heads=enc.heads,
            hidden_dim=enc.intermediate, max_position_embeddings=enc.max_positions,
            activation=enc.activation, dropout=enc.hidden_dropout, attention_dropout=enc.attention_dropout,
            seq_classif_dropout=enc.classifier_dropout, qa_dropout=enc.classifier_dropout, num_labels=num_labels,
            tie_word_embeddings=enc.tie_word_embeddings,
        )
    else:
        kwargs = dict(
            vocab_size=enc.vocab, hidden_size=enc.hidden, num_hidden_layers=enc.layers,
            num_attention_heads=enc.heads, intermediate_size=enc.intermediate,
            max_position_embeddings=enc.max_positions, type_vocab_size=enc.type_vocab,
            hidden_act=enc.activation, hidden_dropout_prob=enc.hidden_dropout,
            attention_probs_dropout_prob=enc.attention_dropout, num_labels=num_labels,
            tie_word_embeddings=enc.tie_word_embeddings,
        )
        if enc.is_decoder:
            kwargs["is_decoder"] = True
        if enc.task_types:  # ERNIE's task-type table
            kwargs.update(use_task_id=True, task_type_vocab_size=enc.task_types)
        if enc.family == "albert":
            kwargs.update(embedding_size=enc.embedding_size, num_hidden_groups=enc.hidden_groups,
                          classifier_dropout_prob=enc.classifier_dropout)
        else:
            kwargs["classifier_dropout"] = enc.classifier_dropout
        if enc.family == "mobilebert":
            kwargs.update(embedding_size=enc.embedding_size, intra_bottleneck_size=enc.bottleneck)
        if enc.family == "squeezebert":  # the published groups are SqueezeBertConfig's defaults
            kwargs.update(embedding_size=enc.hidden)
            del kwargs["classifier_dropout"]
        if enc.family == "convbert":
            kwargs["embedding_size"] = enc.embedding_size
        if enc.family == "electra":
            # the multiple-choice summary's dropout is the classifier dropout's
            kwargs.update(embedding_size=enc.embedding_size,
                          summary_last_dropout=enc.classifier_dropout)
        config_class = getattr(transformers, _CLASS_PREFIX[enc.family] + "Config")
        config = config_class(**kwargs)
    config._attn_implementation = attention
    return config


def build(enc, head: str = "model", num_labels: int = 2, attention: str = "eager"):
    """A randomly initialised HF model for ``enc`` and ``head`` (train mode).

    Question answering always has 2 labels: its qa_outputs are split into start and end.
    """
    if head == "question_answering":
        num_labels = 2
    config = hf_config(enc, num_labels, attention)
    if head == "causal_lm":
        config.is_decoder = True
    # BERT's decoder LM class is BertLMHeadModel; the other families' <Family>ForCausalLM
    suffix = "LMHeadModel" if (enc.family, head) == ("bert", "causal_lm") else _CLASS_SUFFIX[head]
    model_class = getattr(transformers, _CLASS_PREFIX[enc.family] + suffix)
    if head == "model" and enc.family not in ("distilbert", "electra", "modernbert", "deberta-v2", "squeezebert",
                                            "convbert"):
        model = model_class(config, add_pooling_layer=enc.pooler)
    else:
        model = model_class(config)
    return model.train()


def count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def inputs(enc, head: str, batch: int, seq_len: int, num_labels: int = 2, seed: int = 0,
           num_choices: int = 1) -> dict:
    """input_ids (no padding, no attention mask) and the labels the head's loss needs;
    multiple choice: (batch, num_choices, seq_len) ids and a choice per example."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, num_choices, seq_len) if head == "multiple_choice" else (batch, seq_len)
    ids = torch.randint(3, enc.vocab, shape, generator=generator)
    result = {"input_ids": ids}
    if head in ("masked_lm", "causal_lm"):
        result["labels"] = ids.clone()
    elif head == "pretraining":
        if enc.family in ("bert", "megatron-bert", "ernie", "mobilebert"):  # masked LM and next sentence
            result.update(labels=ids.clone(), next_sentence_label=torch.randint(0, 2, (batch,), generator=generator))
        elif enc.family == "albert":
            result.update(labels=ids.clone(), sentence_order_label=torch.randint(0, 2, (batch,), generator=generator))
        else:
            result["labels"] = torch.randint(0, 2, (batch, seq_len), generator=generator)
    elif head == "token_classification":
        result["labels"] = torch.randint(0, num_labels, (batch, seq_len), generator=generator)
    elif head == "question_answering":
        result.update(start_positions=torch.randint(0, seq_len, (batch,), generator=generator),
                      end_positions=torch.randint(0, seq_len, (batch,), generator=generator))
    elif head == "next_sentence_prediction":
        result["labels"] = torch.randint(0, 2, (batch,), generator=generator)
    elif head == "multiple_choice":
        result["labels"] = torch.randint(0, num_choices, (batch,), generator=generator)
        if enc.pooling == "mean":  # ModernBertForMultipleChoice's mean needs the (all-ones) mask
            result["attention_mask"] = torch.ones_like(ids)
    elif head == "sequence_classification":
        if num_labels == 1:
            result["labels"] = torch.randn(batch, generator=generator)
        else:
            result["labels"] = torch.randint(0, num_labels, (batch,), generator=generator)
    return result


def _loss(output):
    if getattr(output, "loss", None) is not None:
        return output.loss
    total = output.last_hidden_state.sum()
    pooled = getattr(output, "pooler_output", None)
    return total if pooled is None else total + pooled.sum()


def measure_flops(model, batch_inputs: dict) -> tuple[int, int]:
    """(forward, backward) FLOPs as FlopCounterMode counts them, less its overcount of
    grouped convolutions (:func:`grouped_conv_overcount`)."""
    shapes = []
    hooks = [module.register_forward_hook(lambda module, args, _: shapes.append((module, args[0].shape)))
             for module in model.modules() if isinstance(module, torch.nn.Conv1d) and module.groups > 1]
    try:
        with FlopCounterMode(display=False) as forward_counter:
            output = model(**batch_inputs)
    finally:
        for hook in hooks:
            hook.remove()
    loss = _loss(output)
    with FlopCounterMode(display=False) as backward_counter:
        loss.backward()
    overcount = sum(grouped_conv_overcount(module, shape) for module, shape in shapes)
    return forward_counter.get_total_flops(), backward_counter.get_total_flops() - overcount


def grouped_conv_overcount(conv, input_shape) -> int:
    """What FlopCounterMode (torch 2.13) counts too many for the weight gradient of one
    call of ``conv`` (an ``nn.Conv1d`` of ``groups`` > 1) on an input of ``input_shape``:
    ``conv_backward_flop`` counts it as conv(input, grad_out) with every input channel
    against every output channel, 2 · batch · out_length · in · out · kernel, where each
    group's output channels see only their in / groups input channels."""
    batch, _, length = input_shape
    out_length = length + 2 * conv.padding[0] - conv.dilation[0] * (conv.kernel_size[0] - 1)  # stride 1
    counted = 2 * batch * out_length * conv.in_channels * conv.out_channels * conv.kernel_size[0]
    return counted - counted // conv.groups


def _is_parameter_cast(tensor) -> bool:
    """True for autocast's 16-bit copy of a parameter (possibly seen through a view)."""
    base = tensor if tensor._base is None else tensor._base
    node = base.grad_fn
    if node is None or type(node).__name__ != "ToCopyBackward0":
        return False
    source = node.next_functions[0][0]
    return source is not None and type(source).__name__ == "AccumulateGrad"


def measure_saved(model, batch_inputs: dict, autocast_dtype=None) -> tuple[int, int]:
    """Bytes autograd saves for backward during one forward.

    Returns ``(activation_bytes, parameter_cast_bytes)``: every saved storage once,
    excluding parameters, integer tensors and the caller's inputs; autocast's 16-bit
    copies of parameters are reported separately.  The pack hook keeps each tensor in
    its own table (so that a freed storage's address cannot be reused and counted
    twice) and returns a placeholder, which keeps no graph alive.
    """
    excluded = {p.untyped_storage().data_ptr() for p in model.parameters()}
    excluded |= {t.untyped_storage().data_ptr() for t in batch_inputs.values()}
    seen: dict[int, tuple[int, bool]] = {}
    keep_alive = []

    def pack(tensor):
        if tensor.dtype.is_floating_point:
            pointer = tensor.untyped_storage().data_ptr()
            if pointer not in excluded and pointer not in seen:
                seen[pointer] = (tensor.untyped_storage().nbytes(), _is_parameter_cast(tensor))
                keep_alive.append(tensor)
        return None

    context = (
        torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype is not None else contextlib.nullcontext()
    )
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda _: None), context:
        model(**batch_inputs)
    activations = sum(n for n, cast in seen.values() if not cast)
    casts = sum(n for n, cast in seen.values() if cast)
    return activations, casts
