"""The formula sheet: each family's parameters, forward FLOPs and saved activations in
closed form, derived by hand from the HF modeling code, against the oracle.

Notation: L layers, H hidden, A heads, I intermediate, V vocab, P positions, T token
types, E embedding width, G ALBERT's weight sets, C labels; b batch, s sequence, n = b·s.
Nothing here calls the recipe: only the public estimate() (which both backends answer).
"""

from __future__ import annotations

from hypothesis import given, strategies as st

import bertsize
from strategies import heads_for, small_encoders


#: The families whose classes are RoBERTa's (a dense classification head, pooled multiple choice).
ROBERTA_LIKE = ("roberta", "xlm-roberta", "camembert", "roberta-prelayernorm", "xlm-roberta-xl", "mpnet",
                "jina_embeddings_v3")
#: The families whose classes are BERT's (pooled classification, next-sentence pre-training).
BERT_LIKE = ("bert", "megatron-bert", "ernie")
#: Pre-LayerNorm layers: a LayerNorm before attention and FFN, and a final one after the last layer.
PRE_LN = ("roberta-prelayernorm", "xlm-roberta-xl", "megatron-bert")
#: No LayerNorm on the embeddings (the pre-LN models whose first layer normalises them).
NO_EMBEDDING_NORM = ("xlm-roberta-xl", "megatron-bert")
#: BERT's post-LN layers with RoPE (cos and sin tables of s x 64, no position table);
#: nomic-bert's without biases and with a SwiGLU FFN (gate, up and down: three H x I
#: Linears), Jina v3's with XLM-R's biases and heads.
ROTARY = ("nomic_bert", "jina_embeddings_v3")
#: The families whose sequence classifier reads the pooled output.
POOLED = ("albert", *BERT_LIKE, "nomic_bert", "mobilebert", "squeezebert")
#: SqueezeBERT: BERT's layers with 1 x 1 convolutions for projections, q, k, v and the
#: FFN's two in 4 groups (each output channel reads a quarter of the inputs), the
#: attention output in 1; its base model always runs the pooler.
SQUEEZE_GROUPS = 4
ALWAYS_POOLED = ("squeezebert",)
#: The heads that do not read the pooled output (an always-run pooler gets no gradient).
UNPOOLED_HEADS = ("masked_lm", "token_classification", "question_answering")
#: ConvBERT: ELECTRA's embeddings and heads, mixed attention (Jiang et al. 2020): q, k, v
#: at H/2, heads/2 attending heads of H/A features, a separable convolution (H x 9
#: depthwise taps, H -> H/2 pointwise, a bias) times q -> a kernel Linear (H/2 -> A/2 x 9),
#: conv_out (H -> H/2) and the span convolution of its values (9 taps per head).
SPAN_KERNEL = 9


def _sizes(e: bertsize.Encoder):
    return e.layers, e.hidden, e.heads, e.intermediate, e.vocab, e.max_positions, e.type_vocab, e.embedding_size


def _projects(e: bertsize.Encoder) -> bool:
    """ALBERT projects its embeddings to hidden; ELECTRA and ConvBERT when the widths differ."""
    return e.family == "albert" or (e.family in ("electra", "convbert") and e.embedding_size != e.hidden)


def _mlm_width(e: bertsize.Encoder) -> int:
    return e.embedding_size if e.family in ("albert", "electra", "convbert") else e.hidden


def _has_pooler(e: bertsize.Encoder, head: str) -> bool:
    if e.family in ALWAYS_POOLED:
        return True
    if head == "model":
        return e.pooler
    if head == "multiple_choice":  # RoBERTa's and XLM-R's multiple choice pool too
        return e.family in ("albert", "mobilebert", *BERT_LIKE, *ROBERTA_LIKE)
    pooled_heads = ("pretraining", "sequence_classification", "next_sentence_prediction")
    return head in pooled_heads and e.family in POOLED


def _modernbert_params(e: bertsize.Encoder, head: str, C: int) -> int:
    """ModernBERT: no biases, no position table; per layer Wqkv (3H x H), Wo, Wi (2I x H),
    Wo (H x I) and two weight-only LayerNorms, less layer 0's attention norm; the
    embedding and final norms; heads behind a bias-free dense + LayerNorm."""
    L, H, _, I, V, _, _, _ = _sizes(e)
    total = V * H + H + L * (4 * H * H + 3 * H * I + 2 * H) - H + H
    head_body = H * H + H
    if head == "masked_lm":  # the decoder tied to the embeddings, with its own bias
        total += head_body + V + (0 if e.tie_word_embeddings else V * H)
    elif head in ("sequence_classification", "token_classification"):
        total += head_body + H * C + C
    elif head == "question_answering":
        total += head_body + 2 * H + 2
    elif head == "multiple_choice":
        total += head_body + H + 1
    return total


def _deberta_params(e: bertsize.Encoder, head: str, C: int) -> int:
    """DeBERTa-v2: word (and, with position_biased_input, absolute position; with T > 0,
    segment) tables E wide, embed_proj (E x H, no bias) when E != H, a LayerNorm at H;
    the 2·span x H relative table and its LayerNorm (norm_rel_ebd); BERT's layers, plus
    one projection (H x H + H) per scored term when the keys are not shared; ConvLayer's
    Conv1d (H x H x k + H) and LayerNorm; heads behind
    ContextPooler's dense (H x H + H); the legacy masked LM transforms to E."""
    L, H, _, I, V, P, T, E = _sizes(e)
    rel = e.disentangled
    layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H
    layer += 0 if rel.share_att_key else (rel.c2p + rel.p2c) * (H * H + H)
    total = (V + T + (P if rel.position_biased_input else 0)) * E + (E * H if E != H else 0) + 2 * H
    total += 2 * rel.span * H + (2 * H if rel.norm_rel_ebd else 0) + L * layer
    total += (H * H * rel.conv_kernel_size + H + 2 * H) if rel.conv_kernel_size else 0  # Conv1d, its LayerNorm
    pooled = H * H + H
    if head == "masked_lm":
        total += H * E + E + 2 * E + V + (V * E + V if not e.tie_word_embeddings else 0)
    elif head == "sequence_classification":
        total += pooled + H * C + C
    elif head == "token_classification":
        total += H * C + C
    elif head == "question_answering":
        total += 2 * H + 2
    elif head == "multiple_choice":
        total += pooled + H + 1
    return total


def _deberta_flops(e: bertsize.Encoder, head: str, C: int, b: int, s: int) -> int:
    """Forward matmul FLOPs of DeBERTa-v2 (b sequences): per layer the four projections,
    q·kᵀ and p·v, the FFN, for each scored term the (s x 2·span) product of the queries
    (c2p) or keys (p2c) with the projected positions, and the positions' projections —
    two with shared keys (query_proj and key_proj), else one per term — 2·(2·span)·H²
    each, whatever b and s; embed_proj; the convolution after layer 0; ContextPooler's
    dense on each first token."""
    L, H, _, I, V, _, _, E = _sizes(e)
    rel, n = e.disentangled, b * s
    terms = rel.c2p + rel.p2c
    projections = 2 if rel.share_att_key else terms
    layer = 8 * n * H * H + 4 * b * s * s * H + 4 * n * H * I + terms * 2 * n * (2 * rel.span) * H
    total = L * (layer + projections * 2 * (2 * rel.span) * H * H) + (2 * n * E * H if E != H else 0)
    total += 2 * n * H * H * rel.conv_kernel_size  # the convolution: k taps of an H x H matmul per token
    head_flops = {"masked_lm": 2 * n * H * E + 2 * n * E * V, "sequence_classification": 2 * b * H * H + 2 * b * H * C,
                  "token_classification": 2 * n * H * C, "question_answering": 2 * n * H * 2,
                  "multiple_choice": 2 * b * H * H + 2 * b * H}
    return total + head_flops.get(head, 0)


def _deberta_saved(e: bertsize.Encoder, head: str, C: int, b: int, s: int, d: int) -> int:
    """DeBERTa-v2 under the sheet's accounting.  Embeddings: the projection's input
    (when E != H), the LayerNorm's input, the padding-mask column the product saves, the
    dropout mask.  A layer: the q/k/v input; the contiguous copies of q, of kᵀ / scale and
    of v (and of k itself when p2c multiplies it); a 0-d scale per division (q·kᵀ and each
    term); per term the position table repeated over the batch and the gather's
    (s x 2·span) input; the probabilities, and with dropout their mask and dropped copy;
    the out-projection's input, the two LayerNorms' inputs, the FFN's input, GELU's and
    the down-projection's inputs, two hidden dropout masks.  The positions' dropout
    (mask and dropped copy) per layer; without dropout each layer's projections read the
    one normalised table (saved once; the weight itself without norm_rel_ebd).  The
    convolution after layer 0 (ConvLayer), when there is one."""
    L, H, A, I, V, _, _, E = _sizes(e)
    rel, n = e.disentangled, b * s
    terms, rows = rel.c2p + rel.p2c, 2 * rel.span
    total = (2 * n * E if E != H else 0) + 2 * n * H + 2 * n + d * n * H
    layer = 16 * n * H + 2 * n * H * rel.p2c + 4 * n * I + 2 * (1 + terms) + d * 2 * n * H
    layer += terms * (2 * b * rows * H + 2 * b * A * s * rows) + 2 * b * A * s * s + d * 3 * b * A * s * s
    layer += d * 3 * rows * H
    total += L * layer + (0 if d or not rel.norm_rel_ebd else 2 * rows * H)
    if rel.conv_kernel_size:
        # the convolution's input: a permuted contiguous copy (none when s or H is 1: then
        # the embeddings themselves, saved already); its dropout mask, what its activation
        # saves (gelu_new: four tensors), the LayerNorm's input, the mask's cast
        saves = 4 if rel.conv_act == "gelu_new" else 1
        total += (2 * n * H if s > 1 and H > 1 else 0) + d * n * H + saves * 2 * n * H + 2 * n * H + 2 * n
    if head == "masked_lm":
        total += 2 * n * H + 3 * 2 * n * E + 4 * n * V + 4
    elif head == "token_classification":
        total += 2 * n * H + d * n * H + 4 * n * C + 4
    elif head == "question_answering":
        total += 2 * n * H + 2 * (4 * n + 4)
    elif head == "multiple_choice":  # the pooler's dense reads x[:, 0] (all of x), GELU's input, its output or the dropped copy
        total += 2 * n * H + 2 * b * H + (3 * b * H if d else 2 * b * H) + 4 * b + 4
    return total


#: MobileBERT's stacked FFNs a layer (num_feedforward_networks, the published value)
MOBILE_FFNS = 4


def _mobilebert_params(e: bertsize.Encoder, head: str, C: int) -> int:
    """MobileBERT (HF's MobileBert*): the word table E wide, its trigram (3E) projected to
    H, H-wide position and segment tables, a NoNorm (weight and bias); a layer: two
    H -> B bottleneck projections with NoNorms, q and k (B -> B), v (H -> B), the
    attention output (B -> B) and its NoNorm, four B -> I -> B FFNs with NoNorms, and
    B -> H with a NoNorm; the pooler; the MLM transform (H -> H, LayerNorm) and the
    decoder's dense (H - E) x V block and bias (the E x V part is the word table)."""
    L, H, _, I, V, P, T, E = _sizes(e)
    B = e.bottleneck
    embeddings = V * E + (P + T) * H + 3 * E * H + H + 2 * H
    layer = 2 * (H * B + B + 2 * B) + 2 * (B * B + B) + (H * B + B) + (B * B + B) + 2 * B
    layer += MOBILE_FFNS * (B * I + I + I * B + B + 2 * B) + B * H + H + 2 * H
    total = embeddings + L * layer + (H * H + H if _has_pooler(e, head) else 0)
    mlm = H * H + H + 2 * H + (H - E) * V + V + (0 if e.tie_word_embeddings else V * E + V)
    return total + {"masked_lm": mlm, "pretraining": mlm + 2 * H + 2, "sequence_classification": H * C + C,
                    "token_classification": H * C + C, "question_answering": 2 * H + 2,
                    "next_sentence_prediction": 2 * H + 2, "multiple_choice": H + 1}.get(head, 0)


def _mobilebert_flops(e: bertsize.Encoder, head: str, C: int, b: int, s: int) -> int:
    """The trigram's projection (3E -> H); a layer: the two bottlenecks and v (H -> B
    each), q, k and the attention output (B -> B), q·kᵀ and p·v at width B, four FFNs
    (B -> I -> B), B -> H; the pooler; the MLM transform and its H x V logits."""
    L, H, _, I, V, _, _, E = _sizes(e)
    B, n = e.bottleneck, b * s
    layer = 3 * 2 * n * H * B + 3 * 2 * n * B * B + 2 * 2 * b * s * s * B + MOBILE_FFNS * 2 * 2 * n * B * I
    layer += 2 * n * B * H
    total = 2 * n * 3 * E * H + L * layer + (2 * b * H * H if _has_pooler(e, head) else 0)
    mlm = 2 * n * H * H + 2 * n * H * V
    return total + {"masked_lm": mlm, "pretraining": mlm + 2 * b * H * 2, "sequence_classification": 2 * b * H * C,
                    "token_classification": 2 * n * H * C, "question_answering": 2 * n * H * 2,
                    "next_sentence_prediction": 2 * b * H * 2, "multiple_choice": 2 * b * H}.get(head, 0)


def _mobilebert_saved(e: bertsize.Encoder, head: str, C: int, b: int, s: int, d: int) -> int:
    """Embeddings: the trigram (n x 3E, the projection's input), the NoNorm's input, the
    dropout mask.  A layer: its input; each bottleneck NoNorm's input; the shared
    bottleneck (q's and k's input); q, k, v, the probabilities (their mask and dropped
    copy); the attention output's input and its NoNorm's input; per FFN (four) its
    input, GELU's input, the down projection's input, its NoNorm's input; the last
    NoNorm's output (B -> H's input), the dropout mask, the final NoNorm's input.  Then
    the pooler and the heads as BERT's, the MLM decoder saving its H x V stacked weight."""
    L, H, A, I, V, _, _, E = _sizes(e)
    B, n, scores = e.bottleneck, b * s, b * A * s * s
    total = 6 * n * E + 2 * n * H + d * n * H
    layer = 4 * n * H + d * n * H + 18 * n * B + MOBILE_FFNS * (4 * n * B + 4 * n * I) + 2 * scores + 3 * d * scores
    total += L * layer
    if _has_pooler(e, head):
        total += 2 * n * H + 2 * b * H
    if head == "masked_lm":
        total += 8 * n * H + 2 * H * V + 4 * n * V + 4
    elif head == "token_classification":
        total += 2 * n * H + d * n * H + 4 * n * C + 4
    elif head == "question_answering":
        total += 2 * n * H + 2 * (4 * n + 4)
    elif head == "next_sentence_prediction":
        total += 4 * b * 2 + 4
    elif head == "multiple_choice":
        total += 4 * b + 4 + d * 3 * b * H
    return total


def params_by_hand(e: bertsize.Encoder, head: str, C: int) -> int:
    if e.family == "mobilebert":
        return _mobilebert_params(e, head, C)
    if e.family == "modernbert":
        return _modernbert_params(e, head, C)
    if e.family == "deberta-v2":
        return _deberta_params(e, head, C)
    L, H, _, I, V, P, T, E = _sizes(e)
    layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H  # q k v o, LN, FFN up/down, LN
    if e.family == "nomic_bert":  # q k v o and gate, up, down without biases; two LayerNorms
        layer = 4 * H * H + 3 * H * I + 4 * H
    if e.family == "squeezebert":  # weights (out, in / groups, 1): q k v, FFN up and down grouped
        g = SQUEEZE_GROUPS
        layer = 3 * (H * H // g + H) + (H * H + H) + 2 * H + (H * I // g + I) + (I * H // g + H) + 2 * H
    if e.family == "convbert":  # q k v, depthwise, pointwise + bias, kernel Linear, conv_out; o, LN, FFN, LN
        h, taps = H // 2, e.heads // 2 * SPAN_KERNEL
        layer = 3 * (H * h + h) + H * SPAN_KERNEL + (H * h + h) + (h * taps + taps) + (H * h + h)
        layer += (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H
    positions = 0 if e.family in ROTARY else P
    total = (V + positions + T) * E + (e.weight_sets if e.family == "albert" else L) * layer
    total += 0 if e.family in NO_EMBEDDING_NORM else 2 * E
    total += 2 * H if e.family in PRE_LN else 0  # the LayerNorm after the last layer
    total += 32 * e.heads if e.family == "mpnet" else 0  # the shared relative-position bias: 32 buckets x heads
    total += (e.task_types or 0) * E  # ERNIE's task-type table
    if _projects(e):
        total += E * H + H
    if _has_pooler(e, head):
        total += H * H + H
    W = _mlm_width(e)
    mlm = H * W + W + 2 * W + V  # transform dense, LayerNorm, decoder bias (its weight is tied)
    if not e.tie_word_embeddings:
        # the decoder's own V x W weight; BERT-style heads keep their bias apart from the
        # decoder's, and untying unties it too (ELECTRA, DistilBERT have no such bias)
        mlm += V * W + (V if e.family in (*POOLED, *ROBERTA_LIKE) else 0)
    if head in ("masked_lm", "causal_lm"):  # the decoder LM has the masked-LM body
        total += mlm
    elif head == "pretraining":
        total += {"bert": mlm + 2 * H + 2, "megatron-bert": mlm + 2 * H + 2, "ernie": mlm + 2 * H + 2,
                  "albert": mlm + H * C + C,
                  "electra": H * H + H + H + 1}[e.family]
    elif head == "sequence_classification":
        total += H * C + C if e.family in POOLED else H * H + H + H * C + C
    elif head == "token_classification":
        total += H * C + C
    elif head == "question_answering":
        total += H * 2 + 2  # start and end logits
    elif head == "next_sentence_prediction":
        total += H * 2 + 2
    elif head == "multiple_choice":
        # one score per choice; DistilBERT's pre-classifier and ELECTRA's summary are H x H
        total += H + 1 + (H * H + H if e.family in ("distilbert", "electra") else 0)
    return total


def forward_flops_by_hand(e: bertsize.Encoder, head: str, C: int, b: int, s: int, choices: int = 1) -> int:
    L, H, _, I, V, _, _, E = _sizes(e)
    b = b * choices if head == "multiple_choice" else b  # sequences: every choice of every example
    n = b * s
    if e.family == "deberta-v2":
        return _deberta_flops(e, head, C, b, s)
    if e.family == "mobilebert":
        return _mobilebert_flops(e, head, C, b, s)
    if e.family == "modernbert":  # Wqkv, q·kᵀ and p·v (masks change no FLOP), Wo, Wi (H -> 2I), Wo (I -> H)
        total = L * (8 * n * H * H + 4 * b * s * s * H + 6 * n * H * I)
        rows = {"masked_lm": n, "token_classification": n, "question_answering": n,
                "sequence_classification": b, "multiple_choice": b}.get(head, 0)
        outputs = {"masked_lm": V, "token_classification": C, "question_answering": 2,
                   "sequence_classification": C, "multiple_choice": 1}.get(head, 0)
        return total + (2 * rows * H * H + 2 * rows * H * outputs if rows else 0)
    ffn = 3 if e.family == "nomic_bert" else 2  # SwiGLU: gate, up and down
    layer = 4 * 2 * n * H * H + 2 * (2 * b * s * s * H) + ffn * 2 * n * H * I  # projections, q·kᵀ and p·v, FFN
    if e.family == "squeezebert":  # a grouped 1 x 1 convolution: 2 · n · in · out / groups
        g = SQUEEZE_GROUPS
        layer = 3 * 2 * n * H * H // g + 2 * n * H * H + 2 * (2 * b * s * s * H) + 2 * (2 * n * H * I // g)
    if e.family == "convbert":  # q k v; depthwise, pointwise; kernel Linear; conv_out; span bmm; q·kᵀ, p·v; o; FFN
        h, taps = H // 2, e.heads // 2 * SPAN_KERNEL
        layer = 3 * 2 * n * H * h + 2 * n * H * SPAN_KERNEL + 2 * n * H * h + 2 * n * h * taps + 2 * n * H * h
        layer += 2 * n * h * SPAN_KERNEL + 2 * (2 * b * s * s * h) + 2 * n * H * H + 2 * 2 * n * H * I
    total = L * layer + (2 * n * E * H if _projects(e) else 0)
    if _has_pooler(e, head):
        total += 2 * b * H * H
    W = _mlm_width(e)
    mlm = 2 * n * H * W + 2 * n * W * V
    if head in ("masked_lm", "causal_lm"):  # the decoder LM has the masked-LM body
        total += mlm
    elif head == "pretraining":
        total += {"bert": mlm + 2 * b * H * 2, "megatron-bert": mlm + 2 * b * H * 2, "ernie": mlm + 2 * b * H * 2,
                  "albert": mlm + 2 * b * H * C,
                  "electra": 2 * n * H * H + 2 * n * H}[e.family]
    elif head == "sequence_classification":
        total += 2 * b * H * C if e.family in POOLED else 2 * b * H * H + 2 * b * H * C
    elif head == "token_classification":
        total += 2 * n * H * C
    elif head == "question_answering":
        total += 2 * n * H * 2
    elif head == "next_sentence_prediction":
        total += 2 * b * H * 2
    elif head == "multiple_choice":
        total += 2 * b * H + (2 * b * H * H if e.family in ("distilbert", "electra") else 0)
    return total


def saved_bytes_by_hand(e: bertsize.Encoder, head: str, C: int, b: int, s: int, dropout: bool,
                        choices: int = 1) -> int:
    """Training, CUDA accounting (Korthikanti et al. 2022), 16-bit, eager attention, GELU,
    every dropout on (or every one off): 2 bytes a tensor element, 1 byte a mask."""
    L, H, A, I, V, _, _, E = _sizes(e)
    b = b * choices if head == "multiple_choice" else b
    n, d = b * s, int(dropout)
    if e.family == "modernbert":
        return _modernbert_saved(e, head, C, b, s, d)
    if e.family == "deberta-v2":
        return _deberta_saved(e, head, C, b, s, d)
    if e.family == "mobilebert":
        return _mobilebert_saved(e, head, C, b, s, d)
    # embeddings: the LayerNorm's input, the dropout mask, the projection's input
    total = (0 if e.family in NO_EMBEDDING_NORM else 2 * n * E) + d * n * E + (2 * n * E if _projects(e) else 0)
    # a layer: the q/k/v input, q, k, v, the out-projection's input, two LayerNorm inputs,
    # the FFN's input; GELU's input and the down-projection's input; the probabilities
    # (their mask and dropped copy too); the two hidden dropout masks, less the one
    # DistilBERT lacks after the attention and the one ALBERT and XLM-R XL never apply
    # after the FFN.  Pre-LN keeps as many: each LayerNorm's input is the branch's input
    # (the layer's input, then the attention's sum) and the q/k/v and FFN inputs are the
    # LayerNorms' outputs, where post-LN saves the layer's input and the two sums.
    masks = 2 - (e.family in ("distilbert", "albert", "xlm-roberta-xl"))
    layer = 16 * n * H + 4 * n * I + 2 * b * A * s * s + d * (masks * n * H + 3 * b * A * s * s)
    if e.family == "convbert":
        # x (read by every projection and the depthwise convolution), the depthwise output,
        # the product's factors (the pointwise output, q), the product, the kernel
        # softmax's output (A/2 x 9 per token), the span windows (H/2 x 9), k, v, the
        # concatenated context; the probabilities of A/2 heads; then as BERT
        half_scores = b * (A // 2) * s * s
        layer = (2 + 2 + 1 + 1 + 1 + 9 + 1 + 1 + 2) * n * H + 2 * n * (A // 2) * SPAN_KERNEL + 3 * 2 * n * H
        layer += 4 * n * I + 2 * half_scores + d * (2 * n * H + 3 * half_scores)
    # RoPE: q and k are the rotated ones (as large); the cos and sin tables, once
    total += 2 * (2 * s * 64) if e.family in ROTARY else 0
    # SwiGLU: the gate's output (GELU's input), GELU's output and the up projection's
    # (the product's factors) and the product (the down projection's input)
    layer += 4 * n * I if e.family == "nomic_bert" else 0
    total += L * layer + (2 * n * H if e.family in PRE_LN else 0)  # the final LayerNorm's input
    if _has_pooler(e, head):  # the dense saves the whole last hidden state, tanh its output
        total += 2 * n * H + 2 * b * H
        # SqueezeBERT's pooler under a head that saves the last hidden state itself (the
        # masked-LM transform; token classification's and QA's classifiers without a dropout)
        if e.family in ALWAYS_POOLED and (head == "masked_lm" or (head in UNPOOLED_HEADS and not (
                dropout and head == "token_classification"))):
            total -= 2 * n * H
    if head in ("masked_lm", "causal_lm"):  # the decoder LM has the masked-LM body
        W = _mlm_width(e)
        # the transform's input (the last hidden state), GELU's and the LayerNorm's inputs,
        # the decoder's input; the loss's fp32 log-softmax and its fp32 total weight
        total += 2 * n * H + 3 * 2 * n * W + 4 * n * V + 4
    elif head == "token_classification":
        # the classifier's input (the dropped copy, or the last hidden state), the mask;
        # the loss's fp32 log-softmax over C classes per token and its total weight
        total += 2 * n * H + d * n * H + 4 * n * C + 4
    elif head == "question_answering":
        # qa_outputs' input (DistilBERT drops it first: its mask); two losses, each a
        # log-softmax over the s positions of each sequence and a total weight
        total += 2 * n * H + (d * n * H if e.family == "distilbert" else 0) + 2 * (4 * n + 4)
    elif head == "next_sentence_prediction":
        # the classifier reads the pooled output tanh saved; a 2-way loss per sequence
        total += 4 * b * 2 + 4
    elif head == "multiple_choice":
        # a score per sequence: the loss's fp32 log-softmax over the choices, its weight
        total += 4 * b + 4
        dropped = 3 * b * H  # the classifier dropout's mask and the dropped copy the classifier reads
        if e.family == "convbert":  # the classifier reads x[:, -1], a view of all of x
            total += 2 * n * H
        elif e.family == "distilbert":  # pre_classifier reads x[:, 0], a view of all of x; ReLU's output
            total += 2 * n * H + 2 * b * H + d * dropped
        elif e.family == "electra":  # the summary reads all of x; GELU's input; then GELU's output or the dropout
            total += 2 * n * H + 2 * b * H + (dropped if dropout else 2 * b * H)
        else:  # the pooled output, saved by tanh, or its dropped copy
            total += d * dropped
    return total


def _modernbert_saved(e: bertsize.Encoder, head: str, C: int, b: int, s: int, d: int) -> int:
    """ModernBERT under the same accounting.  Embeddings: the LayerNorm's input and the
    dropout mask.  A layer: Wqkv's input; the rotated q and k; the probabilities in fp32
    (``softmax(dtype=float32)``), their mask and the 16-bit copy p·v reads (dropped or
    not); v, which matmul copies out of the fused QKV output when batch and heads both
    exceed 1 (else its (b, a, s, d) view merges and the whole (n, 3H) output is saved); Wo's input and the output
    dropout's mask; the MLP LayerNorm's input, Wi's input, Wi's whole (n, 2I) output
    (the GeGLU's halves are views of it), GELU's output, the MLP dropout's mask and Wo's
    input; every layer but the first its attention LayerNorm's input.  RoPE's cos and sin,
    (s, 64) each, once per attention kind present (global; local from 2 layers); eager
    saves no window mask.  The final LayerNorm's input, then the head."""
    L, H, A, I, V, _, _, _ = _sizes(e)
    n, scores = b * s, b * A * s * s
    v = 2 * n * H if b > 1 and A > 1 else 6 * n * H
    layer = 12 * n * H + v + 8 * n * I + 6 * scores + d * (scores + n * H + n * I)
    kinds = 1 + (L >= 2)
    total = 2 * n * H + d * n * H + L * layer + (L - 1) * 2 * n * H + kinds * 2 * (2 * s * 64) + 2 * n * H
    if head == "masked_lm":  # the head's dense, GELU and LayerNorm inputs, the decoder's; the loss
        total += 8 * n * H + 4 * n * V + 4
    elif head == "token_classification":
        total += 8 * n * H + d * n * H + 4 * n * C + 4
    elif head == "question_answering":
        total += 8 * n * H + d * n * H + 2 * (4 * n + 4)
    elif head == "multiple_choice":  # the pooled rows (a gathered copy or the mean), one score each
        total += 8 * b * H + d * b * H + 4 * b + 4
    return total


#: The heads whose saved activations the sheet derives.
SHEET_HEADS = ("model", "masked_lm", "causal_lm", "token_classification", "question_answering", "next_sentence_prediction",
               "multiple_choice")


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_parameters_by_hand(data, encoder):
    head = data.draw(heads_for(encoder))
    C = data.draw(st.integers(1, 6))
    assert bertsize.count_params(encoder, head, C) == params_by_hand(encoder, head, C)


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_forward_flops_by_hand(data, encoder):
    head = data.draw(heads_for(encoder))
    C = data.draw(st.integers(2, 6))
    b, s = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 8))
    choices = data.draw(st.integers(1, 4))
    work = bertsize.Workload(batch=b, seq_len=s, training=data.draw(st.booleans()), num_choices=choices)
    result = bertsize.estimate(encoder, work, head, C)
    assert result.flops_fwd == forward_flops_by_hand(encoder, head, C, b, s, choices)
    # input and weight gradients of every matmul a loss reads: not an always-run pooler's
    unread = 2 * b * encoder.hidden ** 2 if encoder.family in ALWAYS_POOLED and head in UNPOOLED_HEADS else 0
    assert result.flops_bwd == (2 * (result.flops_fwd - unread) if work.training else 0)


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_saved_activations_by_hand(data, encoder):
    head = data.draw(st.sampled_from([h for h in SHEET_HEADS if encoder.has_head(h)]))
    C = data.draw(st.integers(1, 6))
    dropout = data.draw(st.booleans())
    p = 0.1 if dropout else 0.0
    encoder = encoder.replace(activation="gelu", hidden_dropout=p, attention_dropout=p, classifier_dropout=p)
    b, s = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 8))
    choices = data.draw(st.integers(1, 4))
    work = bertsize.Workload(batch=b, seq_len=s, training=True, precision="bf16", num_choices=choices)
    expected = saved_bytes_by_hand(encoder, head, C, b, s, dropout, choices)
    assert bertsize.estimate(encoder, work, head, C).activation_bytes == expected


def test_sheet_against_a_published_count():
    """The sheet itself, on bert-base-uncased's published 110M (109,482,240 in HF)."""
    assert params_by_hand(bertsize.preset("bert-base-uncased"), "model", 2) == 109_482_240
