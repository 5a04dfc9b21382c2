"""The tracer primitives: what each op of an HF forward costs and keeps.

The recipe (:mod:`bertsize.recipe`) calls these primitives as an ``nn.Module``'s forward
would: declaring a Linear (``t.linear("layer.intermediate", x, H, I)``) registers its
weight and bias — once per name, so a layer traced for a group of layers, or a weight
tied to another, counts once — and traces the matmul.  Each primitive records, in the
sizes of the tracer's number domain:

* parameters (:class:`Parameter`): shape, kind and how many weight sets exist / run;
* matmul FLOPs (2 per multiply-accumulate) and elementwise FLOPs, per component;
* the tensors it creates and those autograd saves for backward, with their dtypes
  (``backend="cpu"``: what PyTorch 2.13 saves on CPU, storage by storage;
  ``backend="cuda"``: Korthikanti et al. 2022 — the compute precision, 1-byte dropout
  masks, no LayerNorm statistics);
* the ops of the roofline: FLOPs, activation elements moved, raw bytes (weights, masks);
* with ``profile=True``, all of it per *module* too: the path of scopes an op runs in
  (components, the layer group, the primitive's name: ``("layers", "attention",
  "layer.attention.query")``), for the per-module table of :mod:`bertsize.module_table`.

Two domains run it: :data:`EXACT` (Python ints: the oracle) and
:class:`bertsize.symbolic.Symbolic` (polynomials: the plan compiler).  The primitives
never branch on a size: a choice that depends on sizes goes through ``num.where``
(a value) or ``t.branch`` (a structure), which the symbolic domain explores both ways.

Per-element costs (README, "Conventions"): bias add, residual add, embedding sum,
attention scale, dropout, ReLU, tanh 1; softmax 5; LayerNorm 7; GELU 5; gelu_new 9.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Breakdown rows, in the order :meth:`Estimate.breakdown` lists them.
COMPONENTS = ("embeddings", "attention", "ffn", "norms", "pooler", "head")
#: Roofline groups of an op: part of a layer, the attention core (inside a layer too),
#: other, and forward only (a result no loss reads: backward never runs it).
GROUPS = ("layer", "core", "other", "forward_only")

ITEMSIZE = {"fp32": 4, "fp16": 2, "bf16": 2, "mask": 1}
#: Bytes per Linear weight element read by the roofline, by workload precision.
WEIGHT_FORMAT_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
#: FLOPs an element; SiLU is x / (1 + exp(-x)): a negation, an exp, a sum, a division
ACTIVATION_FLOPS = {"gelu": 5, "gelu_new": 9, "relu": 1, "tanh": 1, "silu": 4}

_COMPARE = {"eq": operator.eq, "ne": operator.ne, "ge": operator.ge, "gt": operator.gt}


class Exact:
    """The int domain of the oracle: exact Python ints.  Divisions note their dividend
    (:attr:`dividends`): a metric built from one past int64 is an overflow too."""

    name = "exact"

    def __init__(self) -> None:
        self.dividends: list[int] = []

    @staticmethod
    def compare(op: str, left: int, right: int) -> bool:
        return _COMPARE[op](left, right)

    max = staticmethod(max)
    min = staticmethod(min)

    @staticmethod
    def where(condition: bool, a: int, b: int) -> int:
        return a if condition else b

    def ceil_div(self, a: int, divisor: int) -> int:
        self.dividends.append(a)
        return -(-a // divisor)

    def floor_div(self, a: int, divisor: int) -> int:
        self.dividends.append(a)
        return a // divisor

    @staticmethod
    def minus(a: int, k: int) -> int:
        return a - k

    @staticmethod
    def difference(a: int, b: int) -> int:
        return a - b


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """``count`` identical parameter tensors of the HF model (one per weight set).

    ``kind``: "linear" (an ``nn.Linear`` weight, stored (out, in)), "conv" (an
    ``nn.Conv1d`` weight, (out, in, kernel)), "bias", "embedding", "norm", or "unused" (a parameter the forward never reads: no gradient, no optimizer
    state).  ``used`` of the ``count`` run in the forward (ALBERT allocates
    ``hidden_groups`` sets; with more groups than layers some never run).
    """

    name: str
    shape: tuple
    component: str
    kind: str
    count: object = 1
    used: object = 1
    #: the module path where the parameter is declared (see :class:`ModuleTally`)
    path: tuple = ()

    @property
    def numel(self):
        """Elements of one tensor."""
        elements = 1
        for size in self.shape:
            elements = elements * size
        return elements

    @property
    def total(self):
        """Elements of all ``count`` tensors."""
        return self.numel * self.count


class Storage:
    """One allocation; identity is what makes two tensors share memory."""

    __slots__ = ("nbytes",)

    def __init__(self, nbytes) -> None:
        self.nbytes = nbytes


@dataclass(frozen=True, eq=False)
class Tensor:
    """A (rows, width) activation of a dtype, over a storage."""

    rows: object
    width: object
    dtype: str
    storage: Storage
    #: a column block of a wider storage (a fused QKV's q, k, v): not contiguous
    strided: bool = False

    @property
    def numel(self):
        return self.rows * self.width


@dataclass
class Op:
    """Roofline ops of one kind: ``count`` of them, each FLOPs, activation elements
    moved, and raw bytes (``raw_factor`` x ``raw_elements``: weights, masks)."""

    flops: object
    elements: object
    raw_elements: object
    raw_factor: float
    group: str
    count: object


@dataclass
class ModuleTally:
    """What the ops of one module path do (profiling only): forward matmul and
    elementwise FLOPs (all its repeats), and its roofline ops, one per call site."""

    matmul_flops: object = 0
    elementwise_flops: object = 0
    ops: list[Op] = field(default_factory=list)


class _Scope:
    """``with tracer.scope(name):`` — the ops inside run in module ``name``."""

    __slots__ = ("outer", "path", "tracer")

    def __init__(self, tracer: Tracer, name: str) -> None:
        self.tracer, self.path = tracer, (*tracer.path, name)

    def __enter__(self) -> None:
        tracer = self.tracer
        self.outer, tracer.path = tracer.path, self.path
        if tracer._modules is not None and self.path not in tracer._modules:
            tracer._modules[self.path] = ModuleTally()  # entered first: the walk's order

    def __exit__(self, *exc: object) -> None:
        self.tracer.path = self.outer


@dataclass
class Trace:
    """What one forward does: the recipe's result, in the tracer's domain.

    Counts are for the whole batch; bytes per data-parallel rank.
    """

    parameters: dict[str, Parameter]
    matmul_flops: dict[str, object]
    elementwise_flops: dict[str, object]
    saved_bytes: dict[str, object]
    #: forward matmul FLOPs whose results a loss reads (each has an input and a weight
    #: gradient in backward): all of them but :meth:`Tracer.forward_only`'s
    graded_flops: object
    #: forward matmul FLOPs that the backward runs again (recomputation)
    recompute_flops: object
    #: bytes live only while one layer (or attention core) is recomputed in backward
    recompute_transient_bytes: object
    #: inference: the largest set of simultaneously live activations, bytes
    live_peak_bytes: object
    #: elements of the matmul weights that run (autocast casts each once)
    matmul_weight_elements: object
    ops: list[Op]
    #: roofline groups whose ops the backward recomputes
    recomputed_groups: tuple[str, ...]
    #: profiling only (else empty): per module path, its tally, its saved bytes, and
    #: how many times a layer group's path repeats
    modules: dict[tuple, ModuleTally] = field(default_factory=dict)
    module_saved_bytes: dict[tuple, object] = field(default_factory=dict)
    module_repeats: dict[tuple, object] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# The tracer
# --------------------------------------------------------------------------------------
class Tracer:
    """Replays an HF forward in a number domain, with the workload's rules for what is
    saved (see the module docstring).

    Args:
        num: the number domain (:class:`Exact` or :class:`bertsize.symbolic.Symbolic`).
        options: the call's :class:`bertsize.options.Options`.
        sizes: the row's sizes in that domain (:class:`bertsize.recipe.Sizes`).
        decide: how ``branch`` answers a condition the domain leaves open (the plan
            compiler's path explorer); the int domain never leaves one open.
        profile: also tally everything per module path (:attr:`Trace.modules`).
    """

    def __init__(self, num, options, sizes, decide: Callable | None = None, profile: bool = False) -> None:
        self.num, self.options, self.sizes = num, options, sizes
        self._decide = decide
        work = options
        self.training = work.training
        self.cpu = work.backend == "cpu"
        mixed = work.precision in ("fp16", "bf16")
        self.low = "bf16" if work.precision == "bf16" else "fp16"
        # CPU mixed-precision training runs fp32 weights under torch.autocast, which casts
        # matmul inputs to 16 bits and leaves embeddings, sums and the loss in fp32.  Every
        # other case runs in one dtype: Korthikanti's 16-bit model on CUDA, or
        # model.to(dtype) for inference (int8 / int4 keep fp16 activations).
        self.autocast = self.cpu and self.training and mixed
        self.dtype = "fp32" if work.precision == "fp32" else self.low
        self.weight_format = WEIGHT_FORMAT_BYTES[work.precision]
        self.component = "embeddings"
        self.path: tuple[str, ...] = ()
        self._modules: dict[tuple, ModuleTally] | None = {} if profile else None
        self._repeats: dict[tuple, object] = {}
        self.group = "other"
        self.multiplier = 1
        self._weight_sets = (1, 1)
        self.parameters: dict[str, Parameter] = {}
        self._matmul_weights: dict[str, Parameter] = {}
        # storages a layer group's layers all read (its ``shared``): saved once, not per layer
        self._shared: set[Storage] = set()
        self._names = ""  # the prefix of parameter names (a group with its own weights)
        self.matmul_flops = dict.fromkeys(COMPONENTS, 0)
        self.elementwise_flops = dict.fromkeys(COMPONENTS, 0)
        self.graded_flops = 0
        self.recompute_flops = 0
        self._checkpointing = False  # inside a layer that full recomputation repeats
        self._recomputed: set[str] = set()
        self._transients: list = []
        # storage -> (component, multiplier, module path); insertion order = first saver
        self._saved: dict[Storage, tuple[str, object, tuple]] = {}
        self._sink: dict[Storage, tuple[str, object, tuple]] | None = None
        # inference liveness: (storages read, storage written) per op, in order
        self._events: list[tuple[tuple[Storage, ...], Storage]] = []
        self._ops: dict[tuple, Op] = {}

    # ----- structure -----------------------------------------------------------------
    def branch(self, condition) -> bool:
        """A structural choice on sizes (a Linear that exists only when two widths
        differ, a loss chosen by num_labels): the int domain decides it, the symbolic one
        traces each way."""
        if isinstance(condition, bool):
            return condition
        return self._decide(condition)

    @contextmanager
    def in_component(self, name: str) -> Iterator[None]:
        """The ops inside belong to component ``name`` (and run in a module of that name)."""
        previous, self.component = self.component, name
        try:
            with self.scope(name):
                yield
        finally:
            self.component = previous

    @contextmanager
    def forward_only(self) -> Iterator[None]:
        """The ops inside compute a result no loss reads (SqueezeBERT's pooler under a
        head of the hidden states): autograd saves their inputs all the same, but no
        gradient reaches them, so the backward runs none of their matmuls."""
        previous, self.group = self.group, "forward_only"
        try:
            yield
        finally:
            self.group = previous

    def scope(self, name: str) -> _Scope:
        """The ops inside run in the module ``name``, nested in the current one."""
        return _Scope(self, name)

    def layer_group(self, count, body: Callable[[Tensor], Tensor], x: Tensor, weight_sets=None,
                    shared: tuple[Tensor, ...] = (), by_keyword: tuple[Tensor, ...] = (),
                    name: str = "layers", own_weights: bool = False) -> Tensor:
        """``count`` layers of one kind, each ``body``, sharing ``weight_sets`` weight
        sets (default one per layer; ALBERT shares fewer); ``shared``: tensors other
        than x that every layer takes as positional inputs (a decoder's mask: HF's
        gradient checkpointing keeps them), ``by_keyword``: those it takes by keyword
        (not checkpoint inputs); saved by a layer, either counts once; ``name``: the
        group's module; ``own_weights``: its parameters are its own, named under
        ``name`` (two groups of one layer kind, as DeBERTa's around its convolution).

        The layer is traced once, standing for all ``count``: its input and output have
        one shape and dtype (checked), so every layer sees what the first sees.
        """
        sets = count if weight_sets is None else weight_sets
        if x.storage in self._saved:
            raise RuntimeError("a layer group's input is already saved: its layers would not trace alike")
        scope = self.scope(name)
        self._repeats[scope.path] = count
        if self.training and self.options.recompute == "full":
            with scope:
                for tensor in shared:  # an input of every checkpointed call: kept once
                    self.save(tensor)
        outer = (self.multiplier, self.group, self._weight_sets, self._shared, self._names)
        self._shared = self._shared | {tensor.storage for tensor in (*shared, *by_keyword)}
        if own_weights:
            self._names = f"{self._names}{name}."
        self.multiplier, self.group = self.multiplier * count, "layer"
        self._weight_sets = (sets, self.num.min(sets, count))
        try:
            with scope:
                y = self._checkpointed(body, x) if self.training and self.options.recompute == "full" else body(x)
        finally:
            self.multiplier, self.group, self._weight_sets, self._shared, self._names = outer
        if (y.rows, y.width, y.dtype) != (x.rows, x.width, x.dtype):
            raise RuntimeError(f"a layer maps {x.dtype} ({x.rows}, {x.width}) to {y.dtype} ({y.rows}, {y.width}): "
                               "its group's layers would not trace alike")
        return y

    def _checkpointed(self, body: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
        """Full recomputation (HF gradient checkpointing): a layer keeps only its input;
        backward recomputes it, holding its saved tensors for a while."""
        self.save(x)
        self._sink = scratch = {}
        self._checkpointing = True
        try:
            y = body(x)
        finally:
            self._sink, self._checkpointing = None, False
        self._transients.append(sum((s.nbytes for s in scratch if s is not x.storage), 0))
        self._recomputed |= {"layer", "core"}
        return y

    # ----- parameters ----------------------------------------------------------------
    def parameter(self, name: str, shape: tuple = (), kind: str = "") -> Parameter:
        """The parameter ``name``: registered on first use (in the current component and
        weight sets), the same one after."""
        name = self._names + name
        existing = self.parameters.get(name)
        if existing is not None:
            return existing
        if not shape:
            raise KeyError(f"parameter {name!r} is used before it is declared")
        sets, used = self._weight_sets
        param = Parameter(name, shape, self.component, kind, sets, used, self.path)
        self.parameters[name] = param
        return param

    # ----- bookkeeping ---------------------------------------------------------------
    def _new(self, rows, width, dtype: str, *inputs: Tensor) -> Tensor:
        tensor = Tensor(rows, width, dtype, Storage(rows * width * ITEMSIZE[dtype]))
        self._events.append((tuple(t.storage for t in inputs), tensor.storage))
        return tensor

    def save(self, tensor: Tensor, once: bool = False) -> None:
        """Autograd keeps ``tensor`` for backward (each storage counts once); ``once``:
        a tensor made outside the layer group and saved by its layers (RoPE's tables)
        counts once, not once per layer."""
        if not self.training:
            return
        sink = self._saved if self._sink is None else self._sink
        if tensor.storage not in sink:
            once = once or tensor.storage in self._shared
            multiplier = self.num.min(self.multiplier, 1) if once else self.multiplier
            sink[tensor.storage] = (self.component, multiplier, self.path)

    def _tally(self) -> ModuleTally:
        tally = self._modules.get(self.path)
        if tally is None:  # an op outside every scope
            tally = self._modules[self.path] = ModuleTally()
        return tally

    def _op(self, flops, elements, raw_elements=0, raw_factor: float = 1.0) -> None:
        key = (flops, elements, raw_elements, raw_factor, self.group)
        op = self._ops.get(key)
        if op is None:
            self._ops[key] = Op(flops, elements, raw_elements, raw_factor, self.group, self.multiplier)
        else:
            op.count = op.count + self.multiplier
        if self._modules is not None:
            self._tally().ops.append(Op(flops, elements, raw_elements, raw_factor, self.group, self.multiplier))

    def _matmul(self, flops) -> None:
        self.matmul_flops[self.component] = self.matmul_flops[self.component] + flops * self.multiplier
        if self.group != "forward_only":
            self.graded_flops = self.graded_flops + flops * self.multiplier
        if self._checkpointing:
            self.recompute_flops = self.recompute_flops + flops * self.multiplier
        if self._modules is not None:
            tally = self._tally()
            tally.matmul_flops = tally.matmul_flops + flops * self.multiplier

    def _elementwise(self, flops) -> None:
        self.elementwise_flops[self.component] = self.elementwise_flops[self.component] + flops * self.multiplier
        if self._modules is not None:
            tally = self._tally()
            tally.elementwise_flops = tally.elementwise_flops + flops * self.multiplier

    def first_token(self, x: Tensor) -> Tensor:
        """``x[:, 0]``: one row per sequence, a view over x's storage."""
        return Tensor(self.sizes.batch, x.width, x.dtype, x.storage)

    def last_token(self, x: Tensor) -> Tensor:
        """``x[:, -1]``: one row per sequence, a view over x's storage."""
        return Tensor(self.sizes.batch, x.width, x.dtype, x.storage)

    def views(self, x: Tensor, width, parts: int) -> list[Tensor]:
        """``x.chunk(parts, dim=-1)`` (or a view and ``unbind``): ``parts`` column blocks
        of ``width`` columns, views over x's storage (a fused QKV's q, k and v; a GLU's
        halves)."""
        return [Tensor(x.rows, width, x.dtype, x.storage, strided=True) for _ in range(parts)]

    def mean_pool(self, x: Tensor) -> Tensor:
        """``(x * mask).sum(dim=1) / mask.sum(dim=1)``: each sequence's mean row (the
        boolean mask and its counts are not floating point: nothing floating is saved)."""
        with self.scope("mean_pool"):
            b = self.sizes.batch
            self._elementwise(2 * x.numel + b * x.width)  # the mask product, the sum, the division
            self._op(2 * x.numel + b * x.width, 3 * x.numel + 2 * b * x.width)
            product = self._new(x.rows, x.width, x.dtype, x)
            total = self._new(b, x.width, x.dtype, product)
            return self._new(b, x.width, x.dtype, total)

    def copy(self, x: Tensor) -> Tensor:
        """A copy of x (advanced indexing gathers rows into a new tensor)."""
        with self.scope("copy"):
            self._op(0, 2 * x.numel)
            return self._new(x.rows, x.width, x.dtype, x)

    def gather_rows(self, x: Tensor) -> Tensor:
        """``torch.gather`` of x's rows (DeBERTa's labelled logits, here every row): a
        copy, and gather saves its input."""
        with self.scope("gather"):
            self._op(0, 2 * x.numel)
            self.save(x)
            return self._new(x.rows, x.width, x.dtype, x)

    def split_columns(self, x: Tensor, rows, width) -> list[Tensor]:
        """``x.split(1, dim=-1)``, each piece squeezed and made ``contiguous()``: one
        (rows, width) copy per column of x, where rows x width = x.rows (HF's start and
        end logits are (batch, seq_len) copies of a (batch, seq_len, 2) tensor)."""
        with self.scope("split"):
            pieces = []
            for _ in range(x.width):
                self._op(0, 2 * rows * width)  # a strided read, a write
                pieces.append(self._new(rows, width, x.dtype, x))
            return pieces

    # ----- primitives ----------------------------------------------------------------
    def embedding(self, name: str, num_embeddings, width, rows) -> Tensor:
        """Look up ``rows`` rows of the table ``name`` (num_embeddings x width)."""
        with self.scope(name):
            self.parameter(f"{name}.weight", (num_embeddings, width), "embedding")
            self._op(0, 2 * rows * width)  # gather the rows, write them
            # An embedding lookup runs in the weight's dtype: fp32 under CPU autocast.
            return self._new(rows, width, "fp32" if self.autocast else self.dtype)

    def add(self, a: Tensor, b: Tensor, in_place: bool = False) -> Tensor:
        """a + b, b broadcast over a's rows (position embeddings are (1, s, e));
        ``in_place``: ``a += b``, into a's storage and dtype."""
        with self.scope("add"):
            self._elementwise(a.numel)
            self._op(a.numel, a.numel + b.numel + a.numel)
            if in_place:
                self._events.append(((a.storage, b.storage), a.storage))
                return a
            dtype = "fp32" if "fp32" in (a.dtype, b.dtype) else a.dtype
            return self._new(a.rows, a.width, dtype, a, b)

    def linear(self, name: str, x: Tensor, in_features, out_features, *, weight: Parameter | None = None,
               bias: bool = True) -> Tensor:
        """``nn.Linear(in_features, out_features)`` named ``name`` on x's rows; ``weight``
        ties the weight to another parameter (the MLM decoder to the word embeddings)."""
        with self.scope(name):
            if weight is None:
                weight = self.parameter(f"{name}.weight", (out_features, in_features), "linear")
            self._matmul_weights.setdefault(weight.name, weight)
            rows = x.rows
            flops = 2 * rows * in_features * out_features
            self._matmul(flops)
            if bias:
                self.parameter(f"{name}.bias", (out_features,), "bias")
                self._elementwise(rows * out_features)
            self._op(flops + (rows * out_features if bias else 0),
                     rows * in_features + (out_features if bias else 0) + rows * out_features,
                     in_features * out_features, self.weight_format)
            x = self._saved_matmul_input(x)
            return self._new(rows, out_features, self.low if self.autocast else x.dtype, x)

    def _saved_matmul_input(self, x: Tensor) -> Tensor:
        """What a Linear or convolution multiplies and autograd saves of its input x:
        under autocast its 16-bit cast, made afresh for every op (only leaf tensors are
        cached: Q, K and V each save their own copy of an fp32 input); else x."""
        if self.autocast and x.dtype != self.low:
            x = self._new(x.rows, x.width, self.low, x)
        self.save(x)
        return x

    @property
    def _conv_weight_format(self) -> float:
        """Bytes a convolution weight element is read in: bitsandbytes quantises
        nn.Linear only, so convolution weights stay 16-bit under int8 / int4."""
        return max(self.weight_format, 2.0)

    def dropout(self, x: Tensor, active: bool) -> Tensor:
        """Dropout of a positive probability when ``active``."""
        with self.scope("dropout"):
            if not (self.training and active):
                return x  # F.dropout(training=False) and p == 0 return the input itself
            self._elementwise(x.numel)
            self._op(x.numel, 2 * x.numel, x.numel)  # + a 1-byte mask
            # CPU keeps the scaled Bernoulli noise in the input's dtype (MulBackward saves
            # it); CUDA's fused kernel keeps a 1-byte mask.
            self.save(self._new(x.rows, x.width, x.dtype if self.cpu else "mask"))
            return self._new(x.rows, x.width, x.dtype, x)

    def layer_norm(self, name: str, x: Tensor, width, bias: bool = True) -> Tensor:
        """``nn.LayerNorm(width)`` named ``name`` (weight and, with ``bias``, bias)."""
        with self.scope(name):
            self.parameter(f"{name}.weight", (width,), "norm")
            if bias:
                self.parameter(f"{name}.bias", (width,), "norm")
            self._elementwise(7 * x.numel)
            self._op(7 * x.numel, 2 * x.numel + 2 * width)
            self.save(x)
            if self.cpu and self.training:  # mean and rstd, fp32, one per row
                self.save(self._new(x.rows, 1, "fp32"))
                self.save(self._new(x.rows, 1, "fp32"))
            return self._new(x.rows, x.width, x.dtype, x)

    def no_norm(self, name: str, x: Tensor, width) -> Tensor:
        """MobileBERT's ``NoNorm(width)``: ``x * weight + bias``, 2 FLOPs an element; the
        product saves x.  Under autocast the fp32 weight promotes a 16-bit x to fp32."""
        with self.scope(name):
            self.parameter(f"{name}.weight", (width,), "norm")
            self.parameter(f"{name}.bias", (width,), "norm")
            self._elementwise(2 * x.numel)
            self._op(2 * x.numel, 2 * x.numel + 2 * width)
            self.save(x)
            dtype = "fp32" if self.autocast else x.dtype
            product = self._new(x.rows, x.width, dtype, x)
            return self._new(x.rows, x.width, dtype, product)

    def trigram(self, x: Tensor) -> Tensor:
        """MobileBERT's trigram input: each token's embedding beside its right and left
        neighbours' (two zero-padded shifted copies, concatenated: (rows, 3 x width)).
        Padding and concatenation move data and save nothing."""
        with self.scope("trigram"):
            self._op(0, 2 * x.numel + 2 * 3 * x.numel)
            after = self._new(x.rows, x.width, x.dtype, x)
            before = self._new(x.rows, x.width, x.dtype, x)
            return self._new(x.rows, 3 * x.width, x.dtype, after, x, before)

    def stacked_decoder(self, name: str, x: Tensor, tied: Parameter | None, width, extra, vocab) -> Tensor:
        """MobileBERT's MLM decoder: ``x @ cat([decoder.weight.t(), dense.weight])``,
        then ``+= decoder.bias`` in place.  The (width + extra) x vocab matrix is built
        every forward from the decoder's weight (``tied``: the word embeddings; else its
        own vocab x width one) and the ``extra`` x vocab dense weight, in the weights'
        dtype; it is no parameter, so autograd saves it (under autocast, the 16-bit copy
        matmul makes of it) beside x."""
        with self.scope(name):
            if tied is None:
                self.parameter(f"{name}.decoder.weight", (vocab, width), "linear")
            self.parameter(f"{name}.dense.weight", (extra, vocab), "linear")
            self.parameter(f"{name}.decoder.bias", (vocab,), "bias")
            rows, inner = x.rows, x.width  # x is width + extra wide: hidden
            self._op(0, 2 * inner * vocab)  # the concatenation
            stacked = self._new(inner, vocab, "fp32" if self.autocast else self.dtype)
            flops = 2 * rows * inner * vocab
            self._matmul(flops)
            self._op(flops, rows * inner + inner * vocab + rows * vocab)
            if self.autocast:  # matmul casts both operands to 16 bits
                x = x if x.dtype == self.low else self._new(x.rows, x.width, self.low, x)
                stacked = self._new(inner, vocab, self.low, stacked)
            self.save(x)
            self.save(stacked)
            logits = self._new(rows, vocab, x.dtype, x, stacked)
            self._elementwise(rows * vocab)  # += decoder.bias
            self._op(rows * vocab, 2 * rows * vocab + vocab)
            self._events.append(((logits.storage,), logits.storage))
            return logits

    def activation(self, x: Tensor, kind: str) -> Tensor:
        """``kind``: "gelu" (F.gelu, erf form), "gelu_new" (HF's Python tanh form),
        "relu", "tanh", "silu"."""
        with self.scope(kind):
            flops = ACTIVATION_FLOPS[kind]
            self._op(flops * x.numel, 2 * x.numel)
            self._elementwise(flops * x.numel)
            if kind in ("gelu", "silu"):  # both backward formulas use the input
                self.save(x)
                return self._new(x.rows, x.width, x.dtype, x)
            if kind in ("relu", "tanh"):
                out = self._new(x.rows, x.width, x.dtype, x)
                self.save(out)  # both backward formulas use the result
                return out
            # gelu_new: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))), op by op:
            # pow saves x, tanh its result, and the final product both of its factors.
            self.save(x)
            tanh = self._new(x.rows, x.width, x.dtype, x)
            one_plus = self._new(x.rows, x.width, x.dtype, tanh)
            half_x = self._new(x.rows, x.width, x.dtype, x)
            for tensor in (tanh, one_plus, half_x):
                self.save(tensor)
            return self._new(x.rows, x.width, x.dtype, half_x, one_plus)

    def gated(self, x: Tensor, width, kind: str) -> Tensor:
        """A fused GLU (ModernBERT's GeGLU): x's two column halves of ``width``,
        ``act(first) * second``.  Both halves are views of x, so what the activation and
        the product save is x's whole storage, and the activation's output."""
        first, second = self.views(x, width, 2)
        return self.multiply(self.activation(first, kind), second)

    def multiply(self, active: Tensor, up: Tensor) -> Tensor:
        """An elementwise product ``active * up`` (a GLU's; ConvBERT's key convolution
        times the query), one FLOP an element, which saves both factors."""
        with self.scope("multiply"):
            self._elementwise(active.numel)
            self._op(active.numel, 3 * active.numel)
            self.save(active)
            self.save(up)
            return self._new(active.rows, active.width, active.dtype, active, up)

    def rotary_tables(self, name: str, x: Tensor, head_width) -> tuple[Tensor, Tensor]:
        """RoPE's cos and sin, (s, head_width) each in x's dtype, computed once per
        forward from the positions (their trigonometry is not counted as FLOPs: it is
        independent of the batch and of hidden)."""
        with self.scope(name):
            s = self.sizes
            self._op(0, 2 * s.seq_len * head_width)
            return (self._new(s.seq_len, head_width, x.dtype), self._new(s.seq_len, head_width, x.dtype))

    def rotary(self, x: Tensor, cos: Tensor, sin: Tensor, upcast: bool = True) -> Tensor:
        """RoPE on x (q or k, (b·s, h)), as HF's ``apply_rotary_pos_emb``:
        ``x·cos + rotate_half(x)·sin`` (3 FLOPs an element: two products and a sum; the
        half negation and concatenation move data).  ``upcast``: in fp32, cast back to
        x's dtype (ModernBERT's); else in the dtype the operands promote to (Llama's,
        which nomic-bert and Jina v3 run: 16-bit q times autocast's fp32 tables is
        fp32).  The two products save cos and sin (once for every layer that shares
        them)."""
        with self.scope("rotary"):
            self._elementwise(3 * x.numel)
            self._op(3 * x.numel, 2 * x.numel)
            dtype = "fp32" if upcast or "fp32" in (x.dtype, cos.dtype) else x.dtype
            wide = x if not upcast or x.dtype == "fp32" else self._new(x.rows, x.width, "fp32", x)
            self.save(cos, once=True)
            self.save(sin, once=True)
            product = self._new(x.rows, x.width, dtype, wide, cos)
            rotated = self._new(x.rows, x.width, wide.dtype, wide)
            turned = self._new(x.rows, x.width, dtype, rotated, sin)
            out = self._new(x.rows, x.width, dtype, product, turned)
            return out if not upcast or x.dtype == "fp32" else self._new(x.rows, x.width, x.dtype, out)

    def window_mask(self, x: Tensor) -> Tensor:
        """The bidirectional sliding-window mask of local-attention layers (ModernBERT):
        eager adds a materialised (b, 1, s, s) mask in x's dtype; SDPA gets a boolean
        (s, s) mask expanded over the batch."""
        with self.scope("window_mask"):
            s = self.sizes
            if self.options.attention == "eager":
                self._op(0, s.batch * s.seq_len * s.seq_len)
                return self._new(s.batch * s.seq_len, s.seq_len, x.dtype)
            self._op(0, s.seq_len * s.seq_len)
            return self._new(s.seq_len, s.seq_len, "mask")

    def causal_mask(self, x: Tensor) -> Tensor | None:
        """A decoder's causal mask for the layers whose input is ``x``: eager attention
        adds a materialised (b, 1, s, s) mask in x's dtype to the scores; SDPA and flash
        kernels take ``is_causal`` and no tensor (None)."""
        with self.scope("causal_mask"):
            if self.options.attention != "eager":
                return None
            s = self.sizes
            self._op(0, s.batch * s.seq_len * s.seq_len)
            return self._new(s.batch * s.seq_len, s.seq_len, x.dtype)

    def relative_position_bias(self, name: str, buckets, heads) -> Tensor:
        """A relative-position bias shared by every layer (MPNet's): the (buckets x
        heads) table ``name`` looked up for each (query, key) pair, expanded over the
        batch and made contiguous — a (b, heads, s, s) tensor in the table's dtype."""
        with self.scope(name):
            s = self.sizes
            self.parameter(f"{name}.weight", (buckets, heads), "embedding")
            pairs = s.seq_len * s.seq_len
            dtype = "fp32" if self.autocast else self.dtype  # the lookup runs in the weight's dtype
            self._op(0, 2 * pairs * heads)  # gather the rows, write them
            table = self._new(pairs, heads, dtype)
            self._op(0, pairs * heads + s.batch * heads * pairs)  # expand(...).contiguous()
            return self._new(s.batch * heads * s.seq_len, s.seq_len, dtype, table)

    def relative_embeddings(self, name: str, rows, width, norm: bool) -> Tensor:
        """DeBERTa's relative-position table ``name`` (rows x width) as its layers read
        it: the weight itself, or with ``norm`` its LayerNorm ``encoder.LayerNorm``,
        computed once per forward (its input is the weight: only the fp32 statistics
        are saved).  The weight is read through a slice, a view that is not a leaf: a
        saved view of it costs no activation bytes, but autocast casts it afresh for
        each Linear (no cache), as any activation."""
        with self.scope(name):
            self.parameter(f"{name}.weight", (rows, width), "embedding")
            table = Tensor(rows, width, "fp32" if self.autocast else self.dtype, Storage(0))
        if not norm:
            return table
        with self.in_component("norms"):
            return self.layer_norm("encoder.LayerNorm", table, width)

    def padding_mask(self) -> Tensor:
        """The (b, s) fp32 attention mask of ones HF makes when it is given none, as a
        (b·s, 1) column."""
        with self.scope("padding_mask"):
            s = self.sizes
            self._op(0, s.batch * s.seq_len)
            return self._new(s.batch * s.seq_len, 1, "fp32")

    def pair_mask(self, padding: Tensor) -> Tensor:
        """DeBERTa's (b, 1, s, s) attention mask, the outer product of the
        ``padding`` mask with itself, built once for every layer (no gradient: never saved)."""
        with self.scope("pair_mask"):
            s = self.sizes
            pairs = s.batch * s.seq_len * s.seq_len
            self._elementwise(pairs)
            self._op(pairs, pairs + 2 * s.batch * s.seq_len)
            return self._new(s.batch * s.seq_len, s.seq_len, "fp32", padding)

    def mask_tokens(self, x: Tensor, padding: Tensor) -> Tensor:
        """``x * mask``: DeBERTa zeroes padded tokens with the ``padding`` mask
        (:meth:`padding_mask`) cast to x's dtype — the same storage when x is fp32 —,
        which the product saves."""
        with self.scope("mask"):
            self._elementwise(x.numel)
            self._op(x.numel, 2 * x.numel + x.rows)
            if padding.dtype != x.dtype:
                padding = self._new(x.rows, 1, x.dtype, padding)
            self.save(padding)
            return self._new(x.rows, x.width, x.dtype, x, padding)

    def conv1d(self, name: str, x: Tensor, width, kernel: int) -> Tensor:
        """``nn.Conv1d(width, width, kernel, padding=(kernel - 1) // 2)`` named ``name``
        along the sequence of x's (b·s, width) rows (an odd kernel keeps s), as DeBERTa
        runs it: x permuted to (b, width, s) and made contiguous — a copy when s and
        width exceed 1, which the convolution saves (autocast: its 16-bit cast) —, the
        output permuted back and made contiguous.  FLOPs: 2 · b · s · width² · kernel,
        and the bias."""
        with self.scope(name):
            weight = self.parameter(f"{name}.weight", (width, width, kernel), "conv")
            self.parameter(f"{name}.bias", (width,), "bias")
            self._matmul_weights.setdefault(weight.name, weight)  # autocast casts it too
            flops = 2 * x.rows * width * width * kernel
            self._matmul(flops)
            self._elementwise(x.numel)
            copy = x
            num = self.num
            # permute(0, 2, 1).contiguous() copies unless a sequence or a width of 1 leaves
            # the permuted view contiguous
            if self.branch(num.compare("gt", self.sizes.seq_len, 1)) and self.branch(num.compare("gt", width, 1)):
                self._op(0, 2 * x.numel)
                copy = self._new(x.rows, width, x.dtype, x)
            copy = self._saved_matmul_input(copy)
            self._op(flops + x.numel, 2 * x.numel + width, width * width * kernel, self._conv_weight_format)
            out = self._new(x.rows, width, self.low if self.autocast else copy.dtype, copy)
            self._op(0, 2 * x.numel)
            return self._new(x.rows, width, out.dtype, out)

    def pointwise_conv(self, name: str, x: Tensor, in_features, out_features, groups: int,
                       bias: str | None = None) -> Tensor:
        """``nn.Conv1d(in_features, out_features, kernel_size=1, groups=groups)`` named
        ``name`` on the (b, channels, s) layout (SqueezeBERT's): a Linear of each group's
        in / groups channels to its out / groups — weight (out, in / groups, 1) and a
        bias, 2 · rows · in · out / groups FLOPs.  Every layout change around it is a
        view, so it saves its input as a Linear does (autocast: its 16-bit cast).
        ``bias``: the name of a bias added in place after a bias-free convolution
        (ConvBERT's separable convolution keeps it on the enclosing module)."""
        if bias is not None:  # declared in the enclosing module, as HF's SeparableConv1D does
            self.parameter(bias, (out_features,), "bias")
        with self.scope(name):
            per_group = in_features if groups == 1 else self.num.floor_div(in_features, groups)
            weight = self.parameter(f"{name}.weight", (out_features, per_group, 1), "conv")
            if bias is None:
                self.parameter(f"{name}.bias", (out_features,), "bias")
            self._matmul_weights.setdefault(weight.name, weight)  # autocast casts it too
            rows = x.rows
            flops = 2 * rows * weight.numel
            self._matmul(flops)
            self._elementwise(rows * out_features)
            self._op(flops + rows * out_features, rows * in_features + out_features + rows * out_features,
                     weight.numel, self._conv_weight_format)
            x = self._saved_matmul_input(x)
            return self._new(rows, out_features, self.low if self.autocast else x.dtype, x)

    def depthwise_conv(self, name: str, x: Tensor, width, kernel: int) -> Tensor:
        """``nn.Conv1d(width, width, kernel, groups=width, padding=kernel // 2,
        bias=False)`` named ``name`` along the sequence of x's (b·s, width) rows, on the
        (b, width, s) view ``x.transpose(1, 2)`` (ConvBERT's separable convolution): each
        channel its own ``kernel`` taps, 2 · rows · width · kernel FLOPs; it saves its
        input, a view of x (autocast: its 16-bit cast); the output is (b, width, s)."""
        with self.scope(name):
            weight = self.parameter(f"{name}.weight", (width, 1, kernel), "conv")
            self._matmul_weights.setdefault(weight.name, weight)  # autocast casts it too
            flops = 2 * x.rows * width * kernel
            self._matmul(flops)
            self._op(flops, 2 * x.numel, width * kernel, self._conv_weight_format)
            x = self._saved_matmul_input(x)
            return self._new(x.rows, width, self.low if self.autocast else x.dtype, x)

    def span_conv(self, kernel_logits: Tensor, values: Tensor, heads, kernel: int) -> Tensor:
        """ConvBERT's span-based dynamic convolution: each of the ``heads`` heads of
        each token mixes its ``kernel`` neighbours' ``values`` (n, h) by weights of its
        own, the softmax of ``kernel_logits`` (n, heads · kernel) over the taps.  As HF
        runs it: the softmax (saves its output); values transposed to (b, h, s) and made
        contiguous (a copy), ``unfold`` into the kernel windows (b, h · kernel, s), that
        transposed and reshaped to (n · heads, h / heads, kernel) (a copy, saved), a bmm
        with the weights (n · heads, kernel, 1): 2 · n · h · kernel FLOPs; (n, h) out."""
        with self.scope("span_conv"):
            windows = values.numel * kernel
            self._elementwise(5 * kernel_logits.numel)
            self._op(5 * kernel_logits.numel, 2 * kernel_logits.numel)
            weights = self._new(kernel_logits.rows, kernel_logits.width, kernel_logits.dtype, kernel_logits)
            self.save(weights)
            self._op(0, 2 * values.numel)
            transposed = self._new(values.rows, values.width, values.dtype, values)
            self._op(0, values.numel + windows)
            unfolded = self._new(values.rows, values.width * kernel, values.dtype, transposed)
            self._op(0, 2 * windows)
            gathered = self._new(values.rows, values.width * kernel, values.dtype, unfolded)
            self.save(gathered)
            flops = 2 * values.numel * kernel
            self._matmul(flops)
            self._op(flops, windows + weights.numel + values.numel)
            return self._new(values.rows, values.width, values.dtype, gathered, weights)

    def concat(self, a: Tensor, b: Tensor) -> Tensor:
        """``torch.cat([a, b], dim=-1)`` of two (rows, ·) tensors: a copy of both (cat
        saves nothing for backward)."""
        with self.scope("cat"):
            self._op(0, 2 * (a.numel + b.numel))
            return self._new(a.rows, a.width + b.width, a.dtype, a, b)

    def _heads_first(self, x: Tensor, rows=None) -> Tensor:
        """``transpose_for_scores``: x viewed (b, s, a, d), permuted to (b·a, s, d) and
        made contiguous, a copy (``rows``: its rows when it is repeated over the batch)."""
        rows = x.rows if rows is None else rows
        self._op(0, x.numel + rows * x.width)
        return self._new(rows, x.width, x.dtype, x)

    def _scalar(self, dtype: str) -> Tensor:
        """A 0-d tensor (DeBERTa's ``sqrt(d · scale_factor)``), saved by each division."""
        scalar = self._new(1, 1, dtype)
        self.save(scalar)
        return scalar

    def disentangled_core(self, q: Tensor, k: Tensor, v: Tensor, positions: dict[str, Tensor], heads,
                          dropout: bool, mask: Tensor) -> Tensor:
        """DeBERTa's ``DisentangledSelfAttention`` after its projections: q, k, v are
        the (b·s, h) Linear outputs, ``positions`` the projected relative-position
        table of each scored term ("c2p": through the key projection, "p2c": the query
        one; (2·span, h) each), ``mask`` the :meth:`pair_mask`.  Returns the context.

        Scores: q·kᵀ / sqrt(d·(1 + terms)), plus for c2p the (s, 2·span) products q·posᵀ
        and for p2c k·posᵀ, each gathered to (s, s) by relative distance and divided by
        the same scale; masked, softmax, dropout, times v.  Every (b·a, s, d) operand is
        a contiguous copy (``transpose_for_scores``), the position tables are repeated
        over the batch, and the gathers save their (s, 2·span) inputs."""
        with self.scope("core"):
            s = self.sizes
            b, seq, h = s.batch, s.seq_len, q.width
            scores = b * heads * seq * seq
            outer_group, self.group = self.group, "core"
            q, k, v = (self._heads_first(x) for x in (q, k, v))
            # kᵀ / scale: a scaled copy of k (the division saves the 0-d scale)
            self._elementwise(k.numel)
            self._op(k.numel, 2 * k.numel)
            self._scalar(k.dtype)
            scaled_k = self._new(k.rows, h, k.dtype, k)
            self._matmul(2 * b * seq * seq * h)
            self._op(2 * b * seq * seq * h, q.numel + k.numel + scores)
            self.save(q)
            self.save(scaled_k)
            total = self._new(b * heads * seq, seq, q.dtype, q, scaled_k)
            if self.training and self.options.recompute == "selective":
                pair_flops = 2 * b * seq * seq * h + sum(2 * b * seq * p.rows * h for p in positions.values())
                self.recompute_flops = self.recompute_flops + pair_flops * self.multiplier
                self._recomputed.add("core")
            operands = []
            for kind in ("c2p", "p2c"):
                table = positions.get(kind)
                if table is not None:
                    content = q if kind == "c2p" else k  # p2c multiplies the unscaled keys
                    repeated = self._heads_first(table, rows=b * table.rows)  # .repeat(b, 1, 1)
                    self.save(content)
                    self.save(repeated)
                    operands.append((content, repeated, table.rows))
            relative = None
            with self._selective():
                for content, table, span2 in operands:
                    self._matmul(2 * b * seq * span2 * h)
                    self._op(2 * b * seq * span2 * h, content.numel + table.numel + b * heads * seq * span2)
                    products = self._new(b * heads * seq, span2, content.dtype, content, table)
                    self.save(products)  # torch.gather saves its input
                    self._op(0, 2 * scores)
                    gathered = self._new(b * heads * seq, seq, products.dtype, products)
                    self._elementwise(2 * scores)  # / scale, then summed into the relative scores
                    self._op(2 * scores, 4 * scores)
                    self._scalar(products.dtype)
                    term = self._new(b * heads * seq, seq, gathered.dtype, gathered)
                    if relative is None:  # score = 0; score += term: a new tensor
                        relative = self._new(term.rows, seq, term.dtype, term)
                    else:  # then in place
                        self._events.append(((relative.storage, term.storage), relative.storage))
                self._elementwise(scores)  # attention_scores + rel_att
                self._op(scores, 3 * scores)
                total = self._new(total.rows, seq, total.dtype, total, relative)
                # masked_fill(~mask.bool(), min): two boolean copies of the mask
                self._op(0, 2 * b * seq * seq + 3 * scores)
                flags = self._new(b * seq, seq, "mask", mask)
                inverted = self._new(b * seq, seq, "mask", flags)
                filled = self._new(total.rows, seq, total.dtype, total, inverted)
                self._elementwise(5 * scores)
                self._op(5 * scores, 2 * scores)
                probs = self._new(filled.rows, seq, filled.dtype, filled)
                self.save(probs)
                probs = self.dropout(probs, dropout)
                self.save(probs)
            self.save(v)
            self._matmul(2 * b * seq * seq * h)
            self._op(2 * b * seq * seq * h, scores + 2 * v.numel)
            self.group = outer_group
            context = self._new(q.rows, h, q.dtype, probs, v)
            return self._heads_first(context)  # permute back, contiguous

    def attention_core(self, q: Tensor, k: Tensor, v: Tensor, heads, dropout: bool,
                       mask: Tensor | None = None, bias: Tensor | None = None, softmax_fp32: bool = False,
                       window: int = 0) -> Tensor:
        """softmax(q·kᵀ·scale + mask)·v for all heads (q, k, v are (b·s, h)); returns
        the (b·s, h) context.  ``dropout``: on the probabilities; ``mask``: a causal
        mask from :meth:`causal_mask`, broadcast over the heads; ``bias``: a
        relative-position bias (:meth:`relative_position_bias`) added to the scaled
        scores in place, which only the eager core takes; ``softmax_fp32``: the eager
        core's softmax runs in fp32 and its result is cast to q's dtype (ModernBERT's
        ``softmax(..., dtype=float32).to(query.dtype)``); ``window``: a sliding window
        of that many positions either side of each query, which a flash kernel really
        skips (ModernBERT's local layers: ``window_size=(w, w)``): its FLOPs are the
        band's, s (2w + 1) - w (w + 1) (query, key) pairs from s = w + 2 on, s² below."""
        with self.scope("core"):
            s = self.sizes
            b, seq, h = s.batch, s.seq_len, q.width
            num = self.num
            pairs = seq * seq
            if window and self.options.attention == "flash":
                pairs = num.where(num.compare("ge", seq, window + 2),
                                  num.minus(seq * (2 * window + 1), window * (window + 1)), seq * seq)
            scores = b * heads * pairs
            self._matmul(2 * b * pairs * h)  # q·kᵀ: (b·a) × (s×d)·(d×s)
            self._matmul(2 * b * pairs * h)  # p·v:  (b·a) × (s×s)·(s×d)
            dropout = self.training and dropout
            self._elementwise(6 * scores)  # scale + softmax
            attention = self.options.attention
            fused = attention == "flash" or (attention == "sdpa" and not (self.cpu and dropout))
            if bias is not None and fused:
                raise RuntimeError("a relative-position bias is added by the eager attention core only")
            tokens_h = q.numel
            if self.autocast:  # matmul and SDPA cast fp32 operands (RoPE's promoted q, k) to 16 bits
                q, k, v = (x if x.dtype == self.low else self._new(x.rows, x.width, self.low, x) for x in (q, k, v))
            outer_group, self.group = self.group, "core"
            if fused:
                if dropout:
                    self._elementwise(scores)
                # one kernel: q, k, v in, the output out; the s x s scores stay on chip
                self._op(4 * b * pairs * h + (7 if dropout else 6) * scores, 4 * tokens_h)
                self.group = outer_group
                # Flash-style kernels save q, k, v, the output and the fp32 log-sum-exp per
                # (batch, head, token); the output is laid out (b, s, a, d), so the
                # out-projection reads it in place.
                for tensor in (q, k, v):
                    self.save(tensor)
                if mask is not None:  # the CPU kernel saves the mask as an additive one in q's dtype
                    self._op(0, mask.numel + b * seq * seq)
                    self.save(self._new(b * seq, seq, q.dtype, mask))
                out = self._new(q.rows, q.width, q.dtype, q, k, v)
                self.save(out)
                if self.training:
                    self.save(self._new(b * heads * seq, 1, "fp32"))
                return out
            self._op(2 * b * seq * seq * h, 2 * tokens_h + scores)  # q.kT
            self._op(scores, 2 * scores)  # scale
            self._op(5 * scores, 2 * scores)  # softmax
            if self.training and self.options.recompute == "selective":
                self.recompute_flops = self.recompute_flops + 4 * b * seq * seq * h * self.multiplier
                self._recomputed.add("core")
            out_dtype = q.dtype
            # CPU SDPA with dropout falls back to the math path, which upcasts 16-bit inputs.
            dtype = "fp32" if attention == "sdpa" and self.autocast else q.dtype
            if self.cpu and self.training:
                # torch.matmul on the (b, a, s, d) views copies q, kᵀ and v contiguous and
                # saves the copies.
                q, k = self._matmul_copy(q, dtype, heads), self._matmul_copy(k, dtype, heads)
            self.save(q)
            self.save(k)
            logits = self._new(b * heads * seq, seq, dtype, q, k)
            scaled = self._new(logits.rows, seq, dtype, logits)
            if bias is not None:  # scores += bias: in place, in the scores' dtype
                self._elementwise(scores)
                self._op(scores, 2 * scores + bias.numel)
                self._events.append(((scaled.storage, bias.storage), scaled.storage))
            if mask is not None:
                # 16-bit scores plus autocast's fp32 mask promote to fp32 (type promotion)
                self._elementwise(scores)
                self._op(scores, 2 * scores + mask.numel)
                scaled = self._new(logits.rows, seq, "fp32" if "fp32" in (dtype, mask.dtype) else dtype, scaled, mask)
            softmax_fp32 = softmax_fp32 and attention == "eager"  # the model's code, not SDPA's math path
            probs = self._new(logits.rows, seq, "fp32" if softmax_fp32 else scaled.dtype, scaled)
            with self._selective():
                self.save(probs)
                if softmax_fp32 and probs.dtype != out_dtype:  # .to(query.dtype), before the dropout
                    probs = self._new(probs.rows, seq, out_dtype, probs)
                probs = self.dropout(probs, dropout)
                if probs.dtype != dtype:  # autocast casts fp32 probabilities to 16 bits for p·v
                    probs = self._new(probs.rows, seq, dtype, probs)
                self.save(probs)
            if self.training and (v.dtype != dtype or (self.cpu and not v.strided)):
                v = self._new(v.rows, v.width, dtype, v)  # autocast's upcast, or matmul's copy of the view
            elif self.training and v.strided and self.branch(self.num.compare("gt", b, 1)) and self.branch(
                    self.num.compare("gt", heads, 1)):
                # v, a column block of a fused QKV output viewed as (b, a, s, d): matmul's
                # reshape to (b·a, s, d) copies it unless a batch or head dimension of 1
                # lets the view merge, and autograd saves what it multiplies
                v = self._new(v.rows, v.width, dtype, v)
            self.save(v)
            self._op(2 * b * seq * seq * h, scores + 2 * tokens_h)  # p.v
            self.group = outer_group
            context = self._new(q.rows, q.width, dtype, probs, v)
            # transpose(1, 2).contiguous() copies the (b, a, s, d) result to (b, s, a, d)
            return self._new(q.rows, q.width, out_dtype, context)

    def _matmul_copy(self, x: Tensor, dtype: str, heads) -> Tensor:
        """What torch.matmul multiplies (and autograd saves) for x viewed (b, a, s, d):
        a contiguous copy in ``dtype`` — unless x is already of that dtype and a batch,
        head or sequence dimension of 1 lets the view merge into (b·a, s, d), when it is
        x itself.  Which of the two matters only where x's own storage is saved anyway
        (ConvBERT's q, a factor of the span convolution's product): only then is the
        merge traced; elsewhere the copy stands for it, as large."""
        if dtype == x.dtype and x.storage in self._saved:
            num, s = self.num, self.sizes
            if not (self.branch(num.compare("gt", s.batch, 1)) and self.branch(num.compare("gt", heads, 1))
                    and self.branch(num.compare("gt", s.seq_len, 1))):
                return x
        return self._new(x.rows, x.width, dtype, x)

    @contextmanager
    def _selective(self) -> Iterator[None]:
        """Selective recomputation drops the attention core's saved (s×s) tensors."""
        if not (self.training and self.options.recompute == "selective") or self._sink is not None:
            yield
            return
        self._sink = scratch = {}
        try:
            yield
        finally:
            self._sink = None
        self._transients.append(sum((s.nbytes for s in scratch), 0))

    def _fp32(self, x: Tensor) -> Tensor:
        return x if x.dtype == "fp32" else self._new(x.rows, x.width, "fp32", x)

    def cross_entropy(self, logits: Tensor) -> None:
        """Cross-entropy over logits' columns: log_softmax runs in fp32 (autocast's fp32
        list) and saves its output; nll_loss saves the fp32 scalar total_weight."""
        with self.scope("loss"):
            if not self.training:
                return
            logits = self._fp32(logits)
            self.save(self._new(logits.rows, logits.width, "fp32", logits))
            self.save(self._new(1, 1, "fp32"))

    def binary_cross_entropy(self, logits: Tensor) -> None:
        """BCEWithLogits saves its fp32 input and the labels.float() target it is given."""
        with self.scope("loss"):
            if not self.training:
                return
            logits = self._fp32(logits)
            self.save(logits)
            self.save(self._new(logits.rows, logits.width, "fp32"))

    def mse(self, prediction: Tensor) -> None:
        """MSE loss (regression) saves its fp32 prediction."""
        with self.scope("loss"):
            if not self.training:
                return
            self.save(self._fp32(prediction))

    # ----- the result ----------------------------------------------------------------
    def finish(self, outputs: list[Tensor]) -> Trace:
        """Sum the saved storages and, for inference, the live-set peak."""
        num = self.num
        saved = dict.fromkeys(COMPONENTS, 0)
        module_saved: dict[tuple, object] = {}
        for storage, (component, multiplier, path) in self._saved.items():
            saved[component] = saved[component] + storage.nbytes * multiplier
            if self._modules is not None:
                module_saved[path] = module_saved.get(path, 0) + storage.nbytes * multiplier
        live_peak = 0 if self.training else self._live_peak(outputs)
        transient = num.max(0, *self._transients) if self._transients else 0
        weights = sum((p.numel * p.used for p in self._matmul_weights.values()), 0)
        return Trace(
            parameters=self.parameters, matmul_flops=self.matmul_flops, elementwise_flops=self.elementwise_flops,
            saved_bytes=saved, graded_flops=self.graded_flops, recompute_flops=self.recompute_flops, recompute_transient_bytes=transient,
            live_peak_bytes=live_peak, matmul_weight_elements=weights, ops=list(self._ops.values()),
            recomputed_groups=tuple(sorted(self._recomputed)), modules=self._modules or {},
            module_saved_bytes=module_saved, module_repeats=self._repeats,
        )

    def _live_peak(self, outputs: list[Tensor]):
        """The largest set of simultaneously live tensors when each is freed after its
        last use (outputs stay live), walked op by op."""
        events = self._events
        last_use: dict[Storage, int] = {}
        for index, (reads, written) in enumerate(events):
            last_use[written] = index
            for storage in reads:
                last_use[storage] = index
        for tensor in outputs:
            last_use[tensor.storage] = len(events)
        live: dict[Storage, None] = {}
        points = []
        for index, (reads, written) in enumerate(events):
            live[written] = None
            points.append(sum((s.nbytes for s in live), 0))
            for storage in (*reads, written):
                if last_use[storage] == index:
                    live.pop(storage, None)
        return self.num.max(*points)
