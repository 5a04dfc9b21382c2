"""The recipe: the forward of a BERT-family HF model, in tracer primitives.

One recipe serves every family: where families differ, it asks the family's spec (a
segment table or not, a projection after the embeddings, shared layer weights, the head
bodies).  It runs on the numbers of any domain (:mod:`bertsize.tracer`): ints in the
oracle, polynomials in the plan compiler, so the parameter inventory, the FLOPs, the
saved activations and the roofline ops all come from this one walk.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from bertsize.families import FAMILIES, Family
from bertsize.heads import HEADS, Head
from bertsize.options import Options
from bertsize.tracer import Tensor, Tracer, Trace
from bertsize.validity import FIELDS


@dataclass(frozen=True)
class Sizes:
    """A row's sizes as numbers of a domain; ``embedding`` is the width of the
    embedding tables (the row's 0 means hidden; see :func:`trace`); ``bottleneck`` the
    width inside MobileBERT's layers (0 for the other families)."""

    layers: object
    hidden: object
    heads: object
    intermediate: object
    vocab: object
    max_positions: object
    type_vocab: object
    embedding: object
    hidden_groups: object
    bottleneck: object
    batch: object
    seq_len: object
    num_labels: object

    @classmethod
    def of(cls, row: Mapping[str, object], num, options: Options) -> Sizes:
        """The sizes the forward sees: ``batch`` is sequences, so with multiple choice
        it is the row's batch x num_choices (HF flattens the (batch, choices, seq) input)."""
        values = {name: row[name] for name in FIELDS}
        values["embedding"] = num.where(num.compare("eq", row["embedding"], 0), row["hidden"], row["embedding"])
        if options.num_choices != 1:
            values["batch"] = values["batch"] * options.num_choices
        return cls(**values)


@dataclass(frozen=True)
class Model:
    """What the recipe and the head bodies read: the family and head specs, the sizes
    ``s``, the encoder's flags (dropouts: whether each is active; whether the masked-LM
    decoder is tied to the word embeddings) and whether a Linear projects the embeddings
    to hidden."""

    family: Family
    head: Head
    s: Sizes
    activation: str
    pooler: bool
    hidden_dropout: bool
    attention_dropout: bool
    classifier_dropout: bool
    tied_embeddings: bool = True
    projects: bool = False

    @classmethod
    def of(cls, options: Options, sizes: Sizes) -> Model:
        return cls(FAMILIES[options.family], HEADS[options.head], sizes, options.activation, options.pooler,
                   options.hidden_dropout, options.attention_dropout, options.classifier_dropout,
                   options.tied_embeddings)


def _with_embedding_width(t: Tracer, m: Model) -> Model:
    """Decide the projection; without one the embedding tables are hidden wide (the
    row's embedding is 0 or hidden then), so every size downstream is in hidden."""
    family, s = m.family, m.s
    projects = family.projection == "always" or (
        family.projection == "when_widths_differ" and t.branch(t.num.compare("ne", s.embedding, s.hidden)))
    width = s.embedding if projects else s.hidden
    return dataclasses.replace(m, s=dataclasses.replace(s, embedding=width), projects=projects)


def trace(t: Tracer, m: Model) -> Trace:
    """Replay the forward of ``m``'s HF class on the tracer ``t``."""
    m = _with_embedding_width(t, m)
    if m.family.layout == "modern":
        x = modernbert_encoder(t, m)
    elif m.family.layout == "deberta":
        x = deberta_encoder(t, m)
    elif m.family.layout == "mobile":
        x = mobilebert_encoder(t, m)
    else:
        x = bert_encoder(t, m)
    pooled = None
    if m.pooler:
        # a pooler the head does not read (SqueezeBERT's always runs) gets no gradient
        unread = t.forward_only() if not m.head.reads_pooler(m.family, m.pooler) else contextlib.nullcontext()
        with t.in_component("pooler"), unread:
            pooled = t.activation(t.linear("pooler.dense", t.first_token(x), m.s.hidden, m.s.hidden), "tanh")
    with t.in_component("head"):
        outputs = m.head.forward(t, m, x, pooled)
    return t.finish(outputs)


def bert_encoder(t: Tracer, m: Model) -> Tensor:
    """BERT's embeddings and layers (post- or pre-LN): the last hidden state."""
    x = embeddings(t, m)
    # a decoder's causal mask, built once in the dtype of the layers' input
    mask = t.causal_mask(x) if t.options.causal else None
    bias = None
    if m.family.relative_bias_buckets:  # computed once, added to every layer's scores
        with t.in_component("attention"):
            bias = t.relative_position_bias("encoder.relative_attention_bias", m.family.relative_bias_buckets,
                                            m.s.heads)
    tables = None
    if m.family.rotary:  # RoPE's cos and sin, computed once, given to every layer by keyword
        with t.in_component("attention"):
            tables = t.rotary_tables("rotary_emb", x, m.family.head_width)
    sets = m.s.hidden_groups if m.family.weight_sharing else None
    x = t.layer_group(m.s.layers, lambda y: layer(t, m, y, mask, bias, tables), x, weight_sets=sets,
                      shared=tuple(tensor for tensor in (mask, bias) if tensor is not None))
    if m.family.norm_position == "pre":  # pre-LN layers leave the last sum unnormalised
        with t.in_component("norms"):
            x = t.layer_norm("encoder.LayerNorm", x, m.s.hidden)
    return x


#: ModernBERT's global_attn_every_n_layers: layers 0, 3, 6, ... attend globally
GLOBAL_EVERY = 3


def modernbert_encoder(t: Tracer, m: Model) -> Tensor:
    """ModernBERT (Warner et al. 2024): token embeddings and a bias-free LayerNorm, then
    pre-LN layers without biases — fused QKV, RoPE, GeGLU — where layer 0 has no
    attention LayerNorm and every third layer attends globally, the others within a
    sliding window (eager and SDPA: a mask over the full scores), and a final LayerNorm.
    The layers run as up to three groups: layer 0, the other global layers, the local ones."""
    s, h, num = m.s, m.s.hidden, t.num
    with t.in_component("embeddings"):
        x = t.embedding("embeddings.word_embeddings", s.vocab, h, s.batch * s.seq_len)
        with t.in_component("norms"):
            x = t.layer_norm("embeddings.norm", x, h, bias=False)
        x = t.dropout(x, m.hidden_dropout)
    head_width = m.family.head_width  # hidden = head_width x heads (a row constraint)
    with t.in_component("attention"):
        full = t.rotary_tables("rotary.global", x, head_width)
    x = t.layer_group(1, lambda y: _modern_layer(t, m, y, "layers.0", full, None, first=True), x, name="layers.0")
    globals_ = num.ceil_div(s.layers, GLOBAL_EVERY)
    if t.branch(num.compare("gt", globals_, 1)):
        x = t.layer_group(num.minus(globals_, 1), lambda y: _modern_layer(t, m, y, "layers.global", full, None), x,
                          name="layers.global")
    if t.branch(num.compare("gt", s.layers, 1)):  # every layer but each third is local
        with t.in_component("attention"):
            local = t.rotary_tables("rotary.local", x, head_width)
            # HF skips the mask where the window covers every pair (seq_len < window // 2);
            # flash attention takes the window itself
            mask = None
            if t.options.attention != "flash" and t.branch(num.compare("ge", s.seq_len, t.options.window // 2)):
                mask = t.window_mask(x)
        # L - ceil(L/3) local layers, written floor(2L/3): the sizes' polynomials never subtract
        x = t.layer_group(num.floor_div(2 * s.layers, GLOBAL_EVERY),
                          lambda y: _modern_layer(t, m, y, "layers.local", local, mask, window=t.options.window // 2), x,
                          name="layers.local")  # the mask goes by keyword: no checkpoint input
    with t.in_component("norms"):
        return t.layer_norm("final_norm", x, h, bias=False)


def _modern_layer(t: Tracer, m: Model, x: Tensor, name: str, tables, mask: Tensor | None, first: bool = False,
                  window: int = 0):
    """One ModernBERT layer: x + attn(attn_norm(x)) (layer 0: no attn_norm), then
    + mlp(mlp_norm(x)); its attention dropout also drops the attention's output.
    ``window``: a local layer's half window (``config.sliding_window``), which only a
    flash kernel turns into less work."""
    s, h = m.s, m.s.hidden
    y = x
    if not first:
        with t.in_component("norms"):
            y = t.layer_norm(f"{name}.attn_norm", x, h, bias=False)
    with t.in_component("attention"):
        q, k, v = t.views(t.linear(f"{name}.attn.Wqkv", y, h, 3 * h, bias=False), h, 3)
        q, k = t.rotary(q, *tables), t.rotary(k, *tables)
        context = t.attention_core(q, k, v, s.heads, m.attention_dropout, mask, softmax_fp32=True, window=window)
        out = t.dropout(t.linear(f"{name}.attn.Wo", context, h, h, bias=False), m.attention_dropout)
        attended = t.add(x, out)
    with t.in_component("norms"):
        y = t.layer_norm(f"{name}.mlp_norm", attended, h, bias=False)
    with t.in_component("ffn"):
        gated = t.gated(t.linear(f"{name}.mlp.Wi", y, h, 2 * s.intermediate, bias=False), s.intermediate,
                        m.activation)
        out = t.linear(f"{name}.mlp.Wo", t.dropout(gated, m.hidden_dropout), s.intermediate, h, bias=False)
        return t.add(attended, out)


def deberta_encoder(t: Tracer, m: Model) -> Tensor:
    """DeBERTa-v2 / v3 (He et al. 2021): embeddings (word; absolute positions only with
    ``position_biased_input``; segments when type_vocab > 0; ``embed_proj`` without bias
    when the embedding width differs), a LayerNorm at hidden, the padding mask, dropout;
    then BERT's post-LN layers with disentangled attention, all reading one relative-
    position table (its LayerNorm computed once) and one (b, 1, s, s) mask; with a
    convolution (``conv_kernel_size``) the first layer's output goes through it, so the
    layers run as two groups: layer 0, then the others."""
    s, h, settings = m.s, m.s.hidden, t.options.disentangled
    rows = s.batch * s.seq_len
    padding = t.padding_mask()
    with t.in_component("embeddings"):
        x = t.embedding("embeddings.word_embeddings", s.vocab, s.embedding, rows)
        if settings.position_biased_input:
            x = t.add(x, t.embedding("embeddings.position_embeddings", s.max_positions, s.embedding, s.seq_len))
        if t.branch(t.num.compare("gt", s.type_vocab, 0)):
            x = t.add(x, t.embedding("embeddings.token_type_embeddings", s.type_vocab, s.embedding, rows))
        if m.projects:
            x = t.linear("embeddings.embed_proj", x, s.embedding, h, bias=False)
        with t.in_component("norms"):
            x = t.layer_norm("embeddings.LayerNorm", x, h)
        embedded = t.dropout(t.mask_tokens(x, padding), m.hidden_dropout)
    with t.in_component("attention"):
        table = t.relative_embeddings("encoder.rel_embeddings", 2 * settings.span, h, settings.norm_rel_ebd)
        mask = t.pair_mask(padding)

    convolves = settings.conv_kernel_size > 0  # then two groups, each with its own weights

    def layers(count, y: Tensor, name: str = "layers") -> Tensor:
        # DebertaV2Layer takes the mask positionally, the relative table by keyword
        return t.layer_group(count, lambda z: _deberta_layer(t, m, z, table, mask), y, shared=(mask,),
                             by_keyword=(table,), name=name, own_weights=convolves)

    if not convolves:
        return layers(s.layers, embedded)
    x = layers(1, embedded, "layers.0")
    with t.in_component("attention"):
        x = _deberta_conv(t, m, embedded, x, padding)
    if t.branch(t.num.compare("gt", s.layers, 1)):
        x = layers(t.num.minus(s.layers, 1), x, "layers.rest")
    return x


def _deberta_conv(t: Tracer, m: Model, embedded: Tensor, x: Tensor, padding: Tensor) -> Tensor:
    """DeBERTa-v2's ``ConvLayer`` after layer 0: the embeddings convolved along the
    sequence (padded positions zeroed in place), dropout, its activation, plus the
    layer's output ``x``, a LayerNorm, times the padding mask."""
    settings, h = t.options.disentangled, m.s.hidden
    out = t.conv1d("encoder.conv.conv", embedded, h, settings.conv_kernel_size)
    out = t.activation(t.dropout(out, m.hidden_dropout), settings.conv_act)
    with t.in_component("norms"):
        y = t.layer_norm("encoder.conv.LayerNorm", t.add(x, out), h)
    return t.mask_tokens(y, padding)


def _deberta_layer(t: Tracer, m: Model, x: Tensor, table: Tensor, mask: Tensor) -> Tensor:
    attended = _residual(t, m, x, "attention", "layer.attention.output.LayerNorm", False,
                         lambda y: _disentangled_attention(t, m, y, table, mask))
    return _residual(t, m, attended, "ffn", "layer.output.LayerNorm", False, lambda y: _ffn(t, m, y))


def _disentangled_attention(t: Tracer, m: Model, x: Tensor, table: Tensor, mask: Tensor) -> Tensor:
    """Projections of the tokens and, after the position dropout, of the relative
    table (by the layer's query / key projections when ``share_att_key``, else by
    ``pos_key_proj`` for c2p and ``pos_query_proj`` for p2c), the core, the output."""
    h, settings = m.s.hidden, t.options.disentangled
    prefix = "layer.attention.self"
    q, k, v = (t.linear(f"{prefix}.{name}_proj", x, h, h) for name in ("query", "key", "value"))
    table = t.dropout(table, m.hidden_dropout)
    if settings.share_att_key:  # HF projects through query_proj first, then key_proj
        by_query = t.linear(f"{prefix}.query_proj", table, h, h)
        positions = {"c2p": t.linear(f"{prefix}.key_proj", table, h, h), "p2c": by_query}
    else:
        names = {"c2p": "pos_key_proj", "p2c": "pos_query_proj"}
        positions = {kind: t.linear(f"{prefix}.{names[kind]}", table, h, h) for kind in settings.kinds}
    context = t.disentangled_core(q, k, v, positions, m.s.heads, m.attention_dropout, mask)
    return t.dropout(t.linear("layer.attention.output.dense", context, h, h), m.hidden_dropout)


def mobilebert_encoder(t: Tracer, m: Model) -> Tensor:
    """MobileBERT (Sun et al. 2020): word embeddings of the embedding width, their
    trigram (each token beside its neighbours) projected to hidden, plus hidden-wide
    position and segment tables, a NoNorm, dropout; then its layers."""
    s, h = m.s, m.s.hidden
    rows = s.batch * s.seq_len
    with t.in_component("embeddings"):
        words = t.embedding("embeddings.word_embeddings", s.vocab, s.embedding, rows)
        x = t.linear("embeddings.embedding_transformation", t.trigram(words), 3 * s.embedding, h)
        positions = t.embedding("embeddings.position_embeddings", s.max_positions, h, s.seq_len)
        segments = t.embedding("embeddings.token_type_embeddings", s.type_vocab, h, rows)
        x = t.dropout(_no_norm(t, "embeddings.LayerNorm", t.add(t.add(x, positions), segments), h), m.hidden_dropout)
    return t.layer_group(s.layers, lambda y: _mobile_layer(t, m, y), x)


def _no_norm(t: Tracer, name: str, x: Tensor, width) -> Tensor:
    """A NoNorm, in the norms component (where the other families' LayerNorms are)."""
    with t.in_component("norms"):
        return t.no_norm(name, x, width)


def _mobile_layer(t: Tracer, m: Model, x: Tensor) -> Tensor:
    """One MobileBERT layer (``use_bottleneck``, ``key_query_shared_bottleneck``): two
    bottleneck projections of x to the bottleneck width B (each a Linear and a NoNorm):
    the residual's and the one q and k share; v projects x itself; attention at width B;
    its output projection plus the residual, a NoNorm; the family's stacked FFNs
    (B -> intermediate -> B, each with a residual and a NoNorm), the last one's output
    plus its input, a NoNorm; then back to hidden, dropout, plus x, a NoNorm."""
    s, h, b = m.s, m.s.hidden, m.s.bottleneck
    with t.in_component("attention"):
        residual = _no_norm(t, "layer.bottleneck.input.LayerNorm", t.linear("layer.bottleneck.input.dense", x, h, b), b)
        shared = _no_norm(t, "layer.bottleneck.attention.LayerNorm",
                          t.linear("layer.bottleneck.attention.dense", x, h, b), b)
        q = t.linear("layer.attention.self.query", shared, b, b)
        k = t.linear("layer.attention.self.key", shared, b, b)
        v = t.linear("layer.attention.self.value", x, h, b)
        context = t.attention_core(q, k, v, s.heads, m.attention_dropout)
        out = t.add(t.linear("layer.attention.output.dense", context, b, b), residual)
    y = _no_norm(t, "layer.attention.output.LayerNorm", out, b)
    with t.in_component("ffn"):
        for index in range(m.family.feedforward_networks - 1):
            y = _mobile_ffn(t, m, y, f"layer.ffn.{index}")
        y = _mobile_ffn(t, m, y, "layer")
        out = t.add(t.dropout(t.linear("layer.output.bottleneck.dense", y, b, h), m.hidden_dropout), x)
    return _no_norm(t, "layer.output.bottleneck.LayerNorm", out, h)


def _mobile_ffn(t: Tracer, m: Model, y: Tensor, name: str) -> Tensor:
    """``name``.intermediate (bottleneck -> intermediate), the activation, ``name``.output
    (back to the bottleneck), plus y, a NoNorm."""
    s, b = m.s, m.s.bottleneck
    inner = t.activation(t.linear(f"{name}.intermediate.dense", y, b, s.intermediate), m.activation)
    return _no_norm(t, f"{name}.output.LayerNorm", t.add(t.linear(f"{name}.output.dense", inner, s.intermediate, b), y),
                    b)


def embeddings(t: Tracer, m: Model) -> Tensor:
    s, family = m.s, m.family
    rows, width = s.batch * s.seq_len, s.embedding
    with t.in_component("embeddings"):
        x = t.embedding("embeddings.word_embeddings", s.vocab, width, rows)
        if family.token_types:
            x = t.add(x, t.embedding("embeddings.token_type_embeddings", s.type_vocab, width, rows))
        if not family.rotary:
            x = t.add(x, t.embedding("embeddings.position_embeddings", s.max_positions, width, s.seq_len))
        if t.options.task_types:  # ERNIE: embeddings += task_type_embeddings(zeros), in place
            x = t.add(x, t.embedding("embeddings.task_type_embeddings", t.options.task_types, width, rows),
                      in_place=True)
        if family.embedding_norm:
            with t.in_component("norms"):
                x = t.layer_norm("embeddings.LayerNorm", x, width)
        x = t.dropout(x, m.hidden_dropout)
        if m.projects:
            x = t.linear("embeddings.projection", x, width, s.hidden)
    return x


def layer(t: Tracer, m: Model, x: Tensor, mask: Tensor | None = None, bias: Tensor | None = None,
          tables: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """One transformer layer: self-attention (under ``mask``, a decoder's causal mask;
    with ``bias``, a relative-position bias on the scores; with ``tables``, RoPE's cos
    and sin rotating q and k) and the FFN, each with a residual add and a LayerNorm —
    after the add (post-LN) or at the start of the branch (pre-LN, the family's
    ``norm_position``)."""
    pre = m.family.norm_position == "pre"
    attended = _residual(t, m, x, "attention", "layer.attention.LayerNorm", pre,
                         lambda y: _self_attention(t, m, y, mask, bias, tables))
    return _residual(t, m, attended, "ffn", "layer.output.LayerNorm", pre, lambda y: _ffn(t, m, y))


def _residual(t: Tracer, m: Model, x: Tensor, component: str, norm: str, pre: bool, branch) -> Tensor:
    """x + branch(x) and its LayerNorm ``norm``: post-LN normalises the sum, pre-LN the
    branch's input."""
    h = m.s.hidden
    if pre:
        with t.in_component("norms"):
            y = t.layer_norm(norm, x, h)
        with t.in_component(component):
            return t.add(branch(y), x)
    with t.in_component(component):
        summed = t.add(branch(x), x)
    with t.in_component("norms"):
        return t.layer_norm(norm, summed, h)


def _self_attention(t: Tracer, m: Model, x: Tensor, mask: Tensor | None, bias: Tensor | None,
                    tables: tuple[Tensor, Tensor] | None) -> Tensor:
    """The projections (q and k rotated by RoPE's ``tables``), the attention core and
    the output projection (and its dropout)."""
    if m.family.span_kernel:
        return _mixed_attention(t, m, x, mask, bias)
    h = m.s.hidden
    q, k, v = (_dense(t, m, f"layer.attention.{name}", x, h, h) for name in ("query", "key", "value"))
    if tables is not None:
        q, k = t.rotary(q, *tables, upcast=False), t.rotary(k, *tables, upcast=False)
    context = t.attention_core(q, k, v, m.s.heads, m.attention_dropout, mask, bias)
    out = _dense(t, m, "layer.attention.output", context, h, h)
    return t.dropout(out, m.hidden_dropout) if m.family.attention_output_dropout else out


def _mixed_attention(t: Tracer, m: Model, x: Tensor, mask: Tensor | None, bias: Tensor | None) -> Tensor:
    """ConvBERT's mixed attention (Jiang et al. 2020), in HF's order, with r the family's
    ``span_head_ratio`` (2): key and value (hidden -> hidden / 2); the key's separable
    convolution of x (a depthwise convolution along the sequence, a pointwise one to
    hidden / 2, its bias in place) times the query, which a Linear turns into a kernel
    of ``span_kernel`` taps per attending head; the span convolution of
    ``conv_out_layer``'s values under those kernels; self-attention of heads / r heads
    (hidden / heads features each when r is 2); the two halves concatenated into the
    output projection."""
    h, kernel = m.s.hidden, m.family.span_kernel
    heads = t.num.floor_div(m.s.heads, m.family.span_head_ratio)  # exact: a family constraint
    width = t.num.floor_div(h, 2)  # the attention and the convolution each make half the context
    prefix = "layer.attention"
    k = t.linear(f"{prefix}.key", x, h, width)
    v = t.linear(f"{prefix}.value", x, h, width)
    conv = f"{prefix}.key_conv_attn_layer"
    separable = t.pointwise_conv(f"{conv}.pointwise", t.depthwise_conv(f"{conv}.depthwise", x, h, kernel), h, width,
                                 groups=1, bias=f"{conv}.bias")
    q = t.linear(f"{prefix}.query", x, h, width)
    kernels = t.linear(f"{prefix}.conv_kernel_layer", t.multiply(separable, q), width, heads * kernel)
    convolved = t.span_conv(kernels, t.linear(f"{prefix}.conv_out_layer", x, h, width), heads, kernel)
    context = t.attention_core(q, k, v, heads, m.attention_dropout, mask, bias)
    out = t.linear(f"{prefix}.output", t.concat(context, convolved), h, h)
    return t.dropout(out, m.hidden_dropout)


def _ffn(t: Tracer, m: Model, x: Tensor) -> Tensor:
    """intermediate -> activation -> output, or the family's GLU
    ``output(act(gate(x)) * intermediate(x))``; then the output's dropout."""
    s = m.s
    if m.family.glu:  # HF evaluates the gate and its activation before the up projection
        active = t.activation(_dense(t, m, "layer.gate", x, s.hidden, s.intermediate), m.activation)
        inner = t.multiply(active, _dense(t, m, "layer.intermediate", x, s.hidden, s.intermediate))
    else:
        inner = t.activation(_dense(t, m, "layer.intermediate", x, s.hidden, s.intermediate), m.activation)
    out = _dense(t, m, "layer.output", inner, s.intermediate, s.hidden)
    return t.dropout(out, m.hidden_dropout) if m.family.ffn_output_dropout else out


def _dense(t: Tracer, m: Model, name: str, x: Tensor, in_features, out_features) -> Tensor:
    """The layer's Linear ``name`` (with the family's biases or none), or the 1 x 1
    convolution the family has in its place (SqueezeBERT's, grouped)."""
    groups = m.family.conv_groups.get(name)
    if groups is None:
        return t.linear(name, x, in_features, out_features, bias=m.family.linear_bias)
    return t.pointwise_conv(name, x, in_features, out_features, groups)
