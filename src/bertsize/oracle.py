"""Pure-Python reference: the model written out tensor by tensor, in exact ints.

This module is bertsize's *inventory*.  It lists every parameter tensor the matching
HuggingFace class allocates (:func:`parameters`) and replays its forward pass op by op
(:func:`trace`): every matmul with its FLOPs, every elementwise op with its cost, every
tensor the op creates and every tensor autograd saves for backward.  It is written like
a model definition — independently of the closed forms in ``csrc/`` — so that tests can
check one against the other, and it is checked itself against real ``transformers``
models (``tests/test_hf_*.py``).

Conventions (README, "Conventions"):

* A matmul (m×k)·(k×n) costs 2·m·k·n FLOPs; bias adds are elementwise work.
* Elementwise FLOPs per element: bias add, residual add, embedding sum, attention
  scale, dropout, ReLU, tanh 1; softmax 5 (max, subtract, exp, sum, divide); LayerNorm 7
  (mean, centre, square, sum, normalise, scale, shift); GELU 5 (erf form: scale, erf,
  add, two multiplies); gelu_new 9 (HF's tanh form).  Losses are not counted.
* Saved activations, ``backend="cpu"``: what PyTorch 2.13 saves on CPU, storage by
  storage (a view keeps its whole storage alive; each storage counts once).
  ``backend="cuda"``: Korthikanti et al. 2022 — tensors in the compute precision,
  dropout masks 1 byte per element, LayerNorm statistics (O(b·s)) not counted.
* Inference memory: the largest set of simultaneously live tensors when each tensor is
  freed right after its last use (model outputs stay live).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bertsize.model import Encoder
from bertsize.workload import Workload

#: Breakdown rows, in the order :meth:`Estimate.breakdown` lists them.
COMPONENTS = ("embeddings", "attention", "ffn", "norms", "pooler", "head")

_ITEMSIZE = {"fp32": 4, "fp16": 2, "bf16": 2, "mask": 1}


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamTensor:
    """``count`` identical parameter tensors of the HF model (one per layer, say).

    ``kind`` is "linear" (an ``nn.Linear`` weight, stored (out, in)), "bias",
    "embedding" or "norm".  ``used_count`` of them run in the forward: ALBERT allocates
    ``hidden_groups`` weight sets but with more groups than layers some are never run.
    """

    name: str
    shape: tuple[int, ...]
    component: str
    kind: str
    count: int = 1
    used_count: int = 1

    @property
    def numel(self) -> int:
        """Elements of one tensor."""
        elements = 1
        for size in self.shape:
            elements *= size
        return elements

    @property
    def total(self) -> int:
        """Elements of all ``count`` tensors."""
        return self.numel * self.count


class _Params:
    """Collects :class:`ParamTensor` rows the way ``nn.Module.__init__`` allocates them."""

    def __init__(self) -> None:
        self.tensors: list[ParamTensor] = []

    def add(self, name: str, shape: tuple[int, ...], component: str, kind: str, count: int = 1, used: int = 1) -> None:
        self.tensors.append(ParamTensor(name, shape, component, kind, count, used))

    def linear(self, name: str, in_features: int, out_features: int, component: str, count: int = 1, used: int = 1) -> None:
        self.add(f"{name}.weight", (out_features, in_features), component, "linear", count, used)
        self.add(f"{name}.bias", (out_features,), component, "bias", count, used)

    def layer_norm(self, name: str, width: int, component: str = "norms", count: int = 1, used: int = 1) -> None:
        self.add(f"{name}.weight", (width,), component, "norm", count, used)
        self.add(f"{name}.bias", (width,), component, "norm", count, used)


def parameters(encoder: Encoder, head: str = "model", num_labels: int = 2) -> list[ParamTensor]:
    """Every parameter tensor of the HF class for ``head``; tied weights appear once.

    The MLM decoder's weight is the word-embedding matrix (``tie_word_embeddings``), and
    for BERT, RoBERTa, DistilBERT and ALBERT its bias is the head's ``bias`` parameter;
    ELECTRA's generator head owns its bias.
    """
    encoder.check_head(head)
    e, h, i, v = encoder.embedding_size, encoder.hidden, encoder.intermediate, encoder.vocab
    p = _Params()
    p.add("embeddings.word_embeddings.weight", (v, e), "embeddings", "embedding")
    p.add("embeddings.position_embeddings.weight", (encoder.max_positions, e), "embeddings", "embedding")
    if encoder.type_vocab:
        p.add("embeddings.token_type_embeddings.weight", (encoder.type_vocab, e), "embeddings", "embedding")
    p.layer_norm("embeddings.LayerNorm", e)
    if encoder.projects_embeddings:
        p.linear("embeddings.project", e, h, "embeddings")
    # One weight set per layer (ALBERT: per group).  ALBERT runs group
    # int(i / (layers / groups)) at layer i, so with more groups than layers only
    # `layers` of them ever run.
    sets = encoder.weight_sets
    used = min(sets, encoder.layers)
    for projection in ("query", "key", "value", "output"):
        p.linear(f"layer.*.attention.{projection}", h, h, "attention", sets, used)
    p.layer_norm("layer.*.attention.LayerNorm", h, count=sets, used=used)
    p.linear("layer.*.intermediate", h, i, "ffn", sets, used)
    p.linear("layer.*.output", i, h, "ffn", sets, used)
    p.layer_norm("layer.*.output.LayerNorm", h, count=sets, used=used)
    if encoder.uses_pooler(head):
        p.linear("pooler.dense", h, h, "pooler")
    _head_parameters(p, encoder, head, num_labels)
    return p.tensors


def _head_parameters(p: _Params, encoder: Encoder, head: str, num_labels: int) -> None:
    family, e, h, v = encoder.family, encoder.embedding_size, encoder.hidden, encoder.vocab
    if head in ("masked_lm", "pretraining") and not (family == "electra" and head == "pretraining"):
        # MLM transform: dense -> activation -> LayerNorm, then the tied decoder.
        width = e if family in ("albert", "electra") else h
        p.linear("head.transform.dense", h, width, "head")
        p.layer_norm("head.transform.LayerNorm", width, "head")
        p.add("head.decoder.bias", (v,), "head", "bias")
    if head == "pretraining":
        if family == "bert":
            p.linear("head.seq_relationship", h, 2, "head")
        elif family == "albert":
            p.linear("head.sop_classifier", h, num_labels, "head")
        else:  # ELECTRA discriminator
            p.linear("head.discriminator.dense", h, h, "head")
            p.linear("head.discriminator.dense_prediction", h, 1, "head")
    elif head == "sequence_classification":
        if family in ("roberta", "xlm-roberta", "electra", "distilbert"):
            p.linear("head.classifier.dense", h, h, "head")
        p.linear("head.classifier.out_proj", h, num_labels, "head")


def decoder_weight_numel(encoder: Encoder, head: str) -> int:
    """Elements of the (tied) MLM decoder weight used as a matmul operand, else 0."""
    has_decoder = head == "masked_lm" or (head == "pretraining" and encoder.family != "electra")
    return encoder.vocab * encoder.embedding_size if has_decoder else 0


# --------------------------------------------------------------------------------------
# Forward trace
# --------------------------------------------------------------------------------------
class _Storage:
    """One allocation; identity is what makes two tensors share memory."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


@dataclass(frozen=True, eq=False)
class _Tensor:
    numel: int
    dtype: str
    storage: _Storage

    def view(self, numel: int) -> _Tensor:
        """A view (slice) of ``numel`` elements over the same storage."""
        return _Tensor(numel, self.dtype, self.storage)


@dataclass
class Trace:
    """What one forward pass does, summed per component.

    All counts are for the whole batch.  Bytes are per data-parallel rank.
    """

    matmul_flops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    elementwise_flops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    saved_bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    #: Forward FLOPs that the backward pass runs again (recomputation).
    recompute_flops: int = 0
    #: Bytes live only while one layer is recomputed during backward.
    recompute_transient_bytes: int = 0
    #: Inference: the largest set of simultaneously live tensors, in bytes.
    live_peak_bytes: int = 0
    #: The forward's ops for the roofline: (FLOPs, bytes moved, multiplicity, group),
    #: group "layer" or "core" (the attention core, also part of the layer) or "other".
    ops: list[tuple[int, float, int, str]] = field(default_factory=list)


class _Tracer:
    """Replays an HF forward, applying the backend's rules for what is saved."""

    def __init__(self, encoder: Encoder, workload: Workload) -> None:
        self.encoder = encoder
        self.workload = workload
        self.training = workload.training
        self.cpu = workload.backend == "cpu"
        low = "bf16" if workload.precision == "bf16" else "fp16"
        # CPU mixed-precision training runs fp32 weights under torch.autocast, which casts
        # matmul inputs to 16 bits and leaves embeddings, sums and the loss in fp32.  Every
        # other case runs in one dtype: Korthikanti's 16-bit model on CUDA, or
        # model.to(dtype) for inference (int8 / int4 keep fp16 activations).
        self.autocast = self.cpu and self.training and workload.mixed_precision
        self.low = low
        self.dtype = "fp32" if workload.precision == "fp32" else ("bf16" if workload.precision == "bf16" else "fp16")
        # Roofline bytes per element: activations in the compute precision, Linear weights
        # in the weight format (int8 1, int4 half a byte), embeddings and norms like the
        # activations.
        self.act_bytes = 4 if workload.precision == "fp32" else 2
        self.weight_bytes = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "int4": 0.5}[workload.precision]
        self.group = "other"
        self.component = "embeddings"
        self.multiplier = 1
        self.result = Trace()
        # storage -> (component, multiplier); insertion order = first saver
        self.saved: dict[_Storage, tuple[str, int]] = {}
        self._sink: dict[_Storage, tuple[str, int]] | None = None
        # inference liveness: (storages read, storage written) per op, in order
        self.events: list[tuple[tuple[_Storage, ...], _Storage]] = []

    # ----- bookkeeping ---------------------------------------------------------------
    @contextmanager
    def part(self, component: str) -> Iterator[None]:
        previous, self.component = self.component, component
        try:
            yield
        finally:
            self.component = previous

    def new(self, numel: int, dtype: str, *inputs: _Tensor) -> _Tensor:
        tensor = _Tensor(numel, dtype, _Storage(numel * _ITEMSIZE[dtype]))
        self.events.append((tuple(t.storage for t in inputs), tensor.storage))
        return tensor

    def save(self, tensor: _Tensor) -> None:
        if not self.training:
            return
        sink = self.saved if self._sink is None else self._sink
        if tensor.storage not in sink:
            sink[tensor.storage] = (self.component, self.multiplier)

    def op(self, flops: int, elements: int, weights: float = 0) -> None:
        """One op for the roofline: FLOPs, activation elements read + written, weight bytes."""
        self.result.ops.append((flops, elements * self.act_bytes + weights, self.multiplier, self.group))

    def matmul_cost(self, flops: int) -> None:
        self.result.matmul_flops[self.component] += flops * self.multiplier

    def elementwise_cost(self, flops: int) -> None:
        self.result.elementwise_flops[self.component] += flops * self.multiplier

    # ----- ops -----------------------------------------------------------------------
    def embedding(self, rows: int, width: int) -> _Tensor:
        self.op(0, 2 * rows * width)  # gather the rows, write them
        # An embedding lookup runs in the weight's dtype: fp32 under CPU autocast.
        dtype = "fp32" if self.autocast else self.dtype
        return self.new(rows * width, dtype)

    def add(self, a: _Tensor, b: _Tensor) -> _Tensor:
        dtype = "fp32" if "fp32" in (a.dtype, b.dtype) else a.dtype
        numel = max(a.numel, b.numel)  # broadcasting (position embeddings are (1, s, e))
        self.elementwise_cost(numel)
        self.op(numel, a.numel + b.numel + numel)
        return self.new(numel, dtype, a, b)

    def linear(self, x: _Tensor, in_features: int, out_features: int) -> _Tensor:
        rows = x.numel // in_features
        self.matmul_cost(2 * rows * in_features * out_features)
        self.elementwise_cost(rows * out_features)  # bias
        self.op(2 * rows * in_features * out_features + rows * out_features,
                rows * in_features + out_features + rows * out_features,
                self.weight_bytes * in_features * out_features)
        if self.autocast and x.dtype != self.low:
            # Autocast casts the input afresh for every Linear (only leaf tensors are
            # cached), so Q, K and V each save their own 16-bit copy of an fp32 input.
            x = self.new(x.numel, self.low, x)
        self.save(x)
        return self.new(rows * out_features, self.low if self.autocast else x.dtype, x)

    def dropout(self, x: _Tensor, p: float) -> _Tensor:
        if not (self.training and p > 0):
            return x  # F.dropout(training=False) and p == 0 return the input itself
        self.elementwise_cost(x.numel)
        self.op(x.numel, 2 * x.numel, x.numel)  # + a 1-byte mask
        # CPU keeps the scaled Bernoulli noise in the input's dtype (MulBackward saves
        # it); CUDA's fused kernel keeps a 1-byte mask.
        self.save(self.new(x.numel, x.dtype if self.cpu else "mask"))
        return self.new(x.numel, x.dtype, x)

    def layer_norm(self, x: _Tensor, width: int) -> _Tensor:
        self.elementwise_cost(7 * x.numel)
        self.op(7 * x.numel, 2 * x.numel + 2 * width)
        self.save(x)
        if self.cpu and self.training:  # mean and rstd, fp32, one per row
            rows = x.numel // width
            self.save(self.new(rows, "fp32"))
            self.save(self.new(rows, "fp32"))
        return self.new(x.numel, x.dtype, x)

    def activation(self, x: _Tensor, kind: str) -> _Tensor:
        self.op({"gelu": 5, "gelu_new": 9}.get(kind, 1) * x.numel, 2 * x.numel)
        if kind == "gelu":
            self.elementwise_cost(5 * x.numel)
            self.save(x)
            return self.new(x.numel, x.dtype, x)
        if kind in ("relu", "tanh"):
            self.elementwise_cost(x.numel)
            out = self.new(x.numel, x.dtype, x)
            self.save(out)  # both backward formulas use the result
            return out
        # gelu_new: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), op by op:
        # pow saves x, tanh its result, and the final product both of its factors.
        self.elementwise_cost(9 * x.numel)
        self.save(x)
        tanh = self.new(x.numel, x.dtype, x)
        one_plus = self.new(x.numel, x.dtype, tanh)
        half_x = self.new(x.numel, x.dtype, x)
        for tensor in (tanh, one_plus, half_x):
            self.save(tensor)
        return self.new(x.numel, x.dtype, half_x, one_plus)

    def attention_core(self, q: _Tensor, k: _Tensor, v: _Tensor) -> _Tensor:
        """softmax(q·kᵀ·scale)·v for all heads; returns the (b, s, h) context."""
        enc, work = self.encoder, self.workload
        b, s, h, a = work.batch, work.seq_len, enc.hidden, enc.heads
        scores = b * a * s * s
        self.matmul_cost(2 * b * s * s * h)  # q·kᵀ: (b·a) × (s×d)·(d×s)
        self.matmul_cost(2 * b * s * s * h)  # p·v:  (b·a) × (s×s)·(s×d)
        dropout = self.training and enc.attention_dropout > 0
        self.elementwise_cost(6 * scores)  # scale + softmax
        fused = work.attention == "flash" or (work.attention == "sdpa" and not (self.cpu and dropout))
        tokens_h = b * s * h
        outer_group, self.group = self.group, "core"
        if fused:
            if dropout:
                self.elementwise_cost(scores)
            # one kernel: q, k, v in, the output out; the s x s scores stay on chip
            self.op(4 * b * s * s * h + (7 if dropout else 6) * scores, 4 * tokens_h)
            self.group = outer_group
            return self._fused_attention(q, k, v, b * a * s)
        self.op(2 * b * s * s * h, 2 * tokens_h + scores)  # q.kT
        self.op(scores, 2 * scores)  # scale
        self.op(5 * scores, 2 * scores)  # softmax
        if work.recompute == "selective":
            self.result.recompute_flops += 4 * b * s * s * h * self.multiplier
        out_dtype = q.dtype
        # CPU SDPA with dropout falls back to the math path, which upcasts 16-bit inputs.
        dtype = "fp32" if work.attention == "sdpa" and self.autocast else q.dtype
        if self.cpu and self.training:
            # torch.matmul on the (b, a, s, d) views copies q, kᵀ and v contiguous and
            # saves the copies.
            q, k = self.new(q.numel, dtype, q), self.new(k.numel, dtype, k)
        self.save(q)
        self.save(k)
        logits = self.new(scores, dtype, q, k)
        scaled = self.new(scores, dtype, logits)
        probs = self.new(scores, dtype, scaled)
        with self._selective():
            self.save(probs)
            probs = self.dropout(probs, enc.attention_dropout)
            self.save(probs)
        if self.cpu and self.training:
            v = self.new(v.numel, dtype, v)
        self.save(v)
        self.op(2 * b * s * s * h, scores + 2 * tokens_h)  # p.v
        self.group = outer_group
        context = self.new(q.numel, dtype, probs, v)
        # transpose(1, 2).contiguous() copies the (b, a, s, d) result to (b, s, a, d)
        return self.new(q.numel, out_dtype, context)

    def _fused_attention(self, q: _Tensor, k: _Tensor, v: _Tensor, rows: int) -> _Tensor:
        # Flash-style kernels save q, k, v, the output and the fp32 log-sum-exp per row;
        # the output is laid out (b, s, a, d), so the out-projection reads it in place.
        for tensor in (q, k, v):
            self.save(tensor)
        out = self.new(q.numel, q.dtype, q, k, v)
        self.save(out)
        if self.training:
            self.save(self.new(rows, "fp32"))
        return out

    @contextmanager
    def _selective(self) -> Iterator[None]:
        """Selective recomputation drops the attention core's saved (s×s) tensors."""
        if self.workload.recompute != "selective" or self._sink is not None:
            yield
            return
        self._sink = scratch = {}
        try:
            yield
        finally:
            self._sink = None
        self.result.recompute_transient_bytes = max(
            self.result.recompute_transient_bytes, sum(s.nbytes for s in scratch)
        )

    def cross_entropy(self, logits: _Tensor, classes: int) -> None:
        if not self.training:
            return
        # log_softmax runs in fp32 (autocast's fp32 list) and saves its output; nll_loss
        # saves the fp32 scalar total_weight.
        if logits.dtype != "fp32":
            logits = self.new(logits.numel, "fp32", logits)
        self.save(self.new(logits.numel, "fp32", logits))
        self.save(self.new(1, "fp32"))

    def binary_cross_entropy(self, logits: _Tensor) -> None:
        if not self.training:
            return
        # BCEWithLogits saves its fp32 input and the labels.float() target it is given.
        if logits.dtype != "fp32":
            logits = self.new(logits.numel, "fp32", logits)
        self.save(logits)
        self.save(self.new(logits.numel, "fp32"))

    def mse(self, prediction: _Tensor) -> None:
        if not self.training:
            return
        if prediction.dtype != "fp32":
            prediction = self.new(prediction.numel, "fp32", prediction)
        self.save(prediction)


def trace(encoder: Encoder, workload: Workload, head: str = "model", num_labels: int = 2) -> Trace:
    """Replay the forward pass of the HF class for ``head`` and account for it."""
    encoder.check_head(head)
    t = _Tracer(encoder, workload)
    x = _embeddings(t, encoder, workload)
    # Layers 2..L see the same input dtype, so they save the same tensors: trace layer 1
    # once and layer 2 standing in for the other layers - 1.  (Layer 1 differs when the
    # embeddings reach it in another dtype, e.g. after ALBERT's projection under autocast.)
    x = _layer(t, encoder, x)
    if encoder.layers > 1:
        t.multiplier = encoder.layers - 1
        x = _layer(t, encoder, x)
        t.multiplier = 1
    outputs = _head(t, encoder, workload, head, num_labels, x)
    _finish(t, outputs)
    return t.result


def _embeddings(t: _Tracer, enc: Encoder, work: Workload) -> _Tensor:
    rows, e = work.batch * work.seq_len, enc.embedding_size
    x = t.embedding(rows, e)
    if enc.type_vocab:
        x = t.add(x, t.embedding(rows, e))
    x = t.add(x, t.embedding(work.seq_len, e))  # positions, broadcast over the batch
    with t.part("norms"):
        x = t.layer_norm(x, e)
    x = t.dropout(x, enc.hidden_dropout)
    if enc.projects_embeddings:
        x = t.linear(x, e, enc.hidden)
    return x


def _layer(t: _Tracer, enc: Encoder, x: _Tensor) -> _Tensor:
    recompute_full = t.training and t.workload.recompute == "full"
    flops_before = sum(t.result.matmul_flops.values())
    if recompute_full:
        # Checkpointing keeps the layer input; everything inside is recomputed.
        t.save(x)
        t._sink = scratch = {}
    h = enc.hidden
    t.group = "layer"
    with t.part("attention"):
        q, k, v = (t.linear(x, h, h) for _ in range(3))
        context = t.attention_core(q, k, v)
        attended = t.linear(context, h, h)
        if enc.family != "distilbert":  # DistilBERT applies no dropout after out_lin
            attended = t.dropout(attended, enc.hidden_dropout)
        attended = t.add(attended, x)
    with t.part("norms"):
        attended = t.layer_norm(attended, h)
    with t.part("ffn"):
        inner = t.linear(attended, h, enc.intermediate)
        inner = t.activation(inner, enc.activation)
        out = t.linear(inner, enc.intermediate, h)
        if enc.family != "albert":  # AlbertLayer defines a dropout but never applies it
            out = t.dropout(out, enc.hidden_dropout)
        out = t.add(out, attended)
    with t.part("norms"):
        out = t.layer_norm(out, h)
    t.group = "other"
    if recompute_full:
        t._sink = None
        transient = sum(s.nbytes for s in scratch if s is not x.storage)
        t.result.recompute_transient_bytes = max(t.result.recompute_transient_bytes, transient)
        t.result.recompute_flops += sum(t.result.matmul_flops.values()) - flops_before
    return out


def _head(t: _Tracer, enc: Encoder, work: Workload, head: str, num_labels: int, x: _Tensor) -> list[_Tensor]:
    b, h = work.batch, enc.hidden
    family = enc.family
    outputs = [x] if head == "model" else []
    pooled = None
    if enc.uses_pooler(head):
        with t.part("pooler"):
            pooled = t.activation(t.linear(x.view(b * h), h, h), "tanh")
        if head == "model":
            outputs.append(pooled)
    with t.part("head"):
        if head in ("masked_lm", "pretraining") and not (family == "electra" and head == "pretraining"):
            outputs.append(_masked_lm(t, enc, x))
        if head == "pretraining":
            if family == "bert":
                logits = t.linear(pooled, h, 2)
                t.cross_entropy(logits, 2)
            elif family == "albert":
                logits = t.linear(t.dropout(pooled, enc.classifier_dropout), h, num_labels)
                t.cross_entropy(logits, num_labels)
            else:  # ELECTRA discriminator: dense -> activation -> dense_prediction (1 logit per token)
                hidden = t.activation(t.linear(x, h, h), enc.activation)
                logits = t.linear(hidden, h, 1)
                t.binary_cross_entropy(logits)
            outputs.append(logits)
        elif head == "sequence_classification":
            logits = _classifier(t, enc, x.view(b * h) if pooled is None else pooled, num_labels)
            if num_labels == 1:
                t.mse(logits)
            else:
                t.cross_entropy(logits, num_labels)
            outputs.append(logits)
    return outputs


def _masked_lm(t: _Tracer, enc: Encoder, x: _Tensor) -> _Tensor:
    family, h, v = enc.family, enc.hidden, enc.vocab
    width = enc.embedding_size if family in ("albert", "electra") else h
    # RoBERTa's LM head and ELECTRA's generator hard-code F.gelu; the others use the
    # configured activation.
    kind = "gelu" if family in ("roberta", "xlm-roberta", "electra") else enc.activation
    y = t.activation(t.linear(x, h, width), kind)
    y = t.layer_norm(y, width)
    logits = t.linear(y, width, v)
    t.cross_entropy(logits, v)
    return logits


def _classifier(t: _Tracer, enc: Encoder, features: _Tensor, num_labels: int) -> _Tensor:
    """Sequence-classification head on the first token (or the pooled output)."""
    family, h, p = enc.family, enc.hidden, enc.classifier_dropout
    if family in ("bert", "albert"):  # dropout -> classifier on the pooler output
        return t.linear(t.dropout(features, p), h, num_labels)
    if family == "distilbert":  # pre_classifier -> ReLU -> dropout -> classifier
        y = t.activation(t.linear(features, h, h), "relu")
        return t.linear(t.dropout(y, p), h, num_labels)
    # RoBERTa / XLM-R (tanh) and ELECTRA (gelu): dropout -> dense -> act -> dropout -> out_proj
    y = t.linear(t.dropout(features, p), h, h)
    y = t.activation(y, "tanh" if family != "electra" else "gelu")
    return t.linear(t.dropout(y, p), h, num_labels)


def _finish(t: _Tracer, outputs: list[_Tensor]) -> None:
    """Sum the saved storages and, for inference, the live-set peak."""
    for storage, (component, multiplier) in t.saved.items():
        t.result.saved_bytes[component] += storage.nbytes * multiplier
    if t.training:
        return
    last_use: dict[_Storage, int] = {}
    for index, (reads, written) in enumerate(t.events):
        last_use[written] = index
        for storage in reads:
            last_use[storage] = index
    for tensor in outputs:
        last_use[tensor.storage] = len(t.events)
    live: dict[_Storage, None] = {}
    peak = 0
    for index, (reads, written) in enumerate(t.events):
        live[written] = None
        peak = max(peak, sum(s.nbytes for s in live))
        for storage in (*reads, written):
            if last_use[storage] == index:
                live.pop(storage, None)
    t.result.live_peak_bytes = peak

