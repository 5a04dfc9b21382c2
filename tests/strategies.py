"""Hypothesis strategies for encoders and workloads."""

from __future__ import annotations

from hypothesis import strategies as st

import bertsize
from bertsize.families import FAMILIES
from bertsize.heads import HEADS

#: Families without segment embeddings, and those whose layers have no causal mode.
NO_SEGMENTS = ("distilbert", "mpnet", "modernbert")
NO_DECODER = ("distilbert", "albert", "mpnet", "modernbert", "deberta-v2", "nomic_bert", "jina_embeddings_v3",
              "mobilebert", "squeezebert", "convbert")
#: Families whose pooler is not a choice: their base model has none, or (SqueezeBERT's)
#: always has one.
FIXED_POOLER = ("distilbert", "electra", "modernbert", "deberta-v2", "squeezebert", "convbert")
#: SqueezeBERT groups its convolutions by 4: hidden and intermediate are multiples of 4.
GROUPED = {"squeezebert": 4}
#: ConvBERT gives half its heads to the span convolution: an even head count.
EVEN_HEADS = ("convbert",)
#: The RoPE families are modelled with 64-wide heads (hidden = 64 x heads).
HEAD_WIDTH = {"modernbert": 64, "nomic_bert": 64, "jina_embeddings_v3": 64}
#: Families with sliding-window layers (a mask that exists from some sequence length on).
WINDOWED = ("modernbert",)
#: Families with RoPE: cos and sin tables of seq_len x 64, whatever the batch.
ROTARY = ("modernbert", "nomic_bert", "jina_embeddings_v3")
#: Families whose embedding width may differ from hidden (MobileBERT's at most hidden:
#: drawn with its bottleneck).
FACTORISED = ("albert", "electra", "deberta-v2", "convbert")


@st.composite
def disentangled(draw, spans=st.integers(1, 12)) -> bertsize.Disentangled:
    """DeBERTa's settings: c2p, p2c or both (shared keys need both), with or without the
    convolution after layer 0."""
    c2p, p2c = draw(st.sampled_from(((True, True), (True, False), (False, True))))
    return bertsize.Disentangled(span=draw(spans), c2p=c2p, p2c=p2c,
                                 share_att_key=c2p and p2c and draw(st.booleans()), norm_rel_ebd=draw(st.booleans()),
                                 position_biased_input=draw(st.booleans()),
                                 conv_kernel_size=draw(st.sampled_from((0, 0, 1, 3, 5))),
                                 conv_act=draw(st.sampled_from(("tanh", "gelu", "gelu_new", "relu"))))


@st.composite
def small_encoders(draw, families=bertsize.FAMILIES, max_layers: int = 3, min_positions: int = 8) -> bertsize.Encoder:
    """Tiny encoders of any family: every structural option, sizes a CPU runs in ms."""
    family = draw(st.sampled_from(families))
    heads = draw(st.integers(1, 4))
    if family in EVEN_HEADS:
        heads = 2 * draw(st.integers(1, 2))
    groups = GROUPED.get(family, 1)
    hidden = heads * (HEAD_WIDTH.get(family) or groups * draw(st.integers(1, 8 // groups)))
    fields = dict(
        family=family,
        layers=draw(st.integers(1, max_layers)),
        hidden=hidden,
        heads=heads,
        intermediate=groups * draw(st.integers(1, 48 // groups)),
        vocab=draw(st.integers(4, 64)),
        max_positions=draw(st.integers(min_positions + 2, min_positions + 16)),
        activation=draw(st.sampled_from(bertsize.ACTIVATIONS)),
        hidden_dropout=draw(st.sampled_from((0.0, 0.1))),
        attention_dropout=draw(st.sampled_from((0.0, 0.1))),
        classifier_dropout=draw(st.sampled_from((0.0, 0.2))),
        tie_word_embeddings=draw(st.booleans()),
    )
    if family not in NO_SEGMENTS:
        fields["type_vocab"] = draw(st.integers(1, 3))
    if family in FACTORISED:
        fields["embedding"] = draw(st.integers(1, 24))
    if family == "albert":
        fields["hidden_groups"] = draw(st.integers(1, 3))
    if family not in FIXED_POOLER:
        fields["pooler"] = draw(st.booleans())
    if family not in NO_DECODER:  # the families whose layers have a causal mode
        fields["is_decoder"] = draw(st.booleans())
    if family == "ernie":
        fields["task_types"] = draw(st.integers(0, 4))
    if family == "modernbert":  # windows below and above the sequences drawn (the mask comes and goes)
        fields.update(pooling=draw(st.sampled_from(("cls", "mean"))), local_attention=draw(st.integers(2, 40)))
    if family == "deberta-v2":  # segments or none, and every relative-attention setting
        fields.update(type_vocab=draw(st.integers(0, 3)), disentangled=draw(disentangled()))
    if family == "mobilebert":  # embeddings at most hidden wide; a bottleneck the heads divide
        fields.update(embedding=draw(st.one_of(st.none(), st.integers(1, hidden))),
                      bottleneck=heads * draw(st.integers(1, 6)))
    return bertsize.Encoder(**fields)


def families_with(head: str) -> tuple[str, ...]:
    """The families whose HF classes have ``head``."""
    return tuple(name for name, spec in FAMILIES.items() if HEADS[head].exists_for(spec))


def heads_for(encoder: bertsize.Encoder) -> st.SearchStrategy[str]:
    return st.sampled_from([h for h in bertsize.HEADS if encoder.has_head(h)])


SIZE = st.one_of(st.integers(1, 64), st.integers(1, 2**20), st.integers(1, 2**40))


@st.composite
def any_encoders(draw, families=bertsize.FAMILIES) -> bertsize.Encoder:
    """Encoders of any family and any size: small ones, and sizes whose metrics approach
    or pass int64."""
    family = draw(st.sampled_from(families))
    heads = draw(st.one_of(st.integers(1, 16), st.integers(1, 2**20)))
    if family in EVEN_HEADS:
        heads = 2 * draw(st.one_of(st.integers(1, 8), st.integers(1, 2**19)))
    groups = GROUPED.get(family, 1)
    hidden = heads * (HEAD_WIDTH.get(family) or groups * draw(st.one_of(st.integers(1, 64), st.integers(1, 2**20))))
    fields = dict(
        family=family, layers=draw(SIZE), hidden=hidden, heads=heads, intermediate=groups * draw(SIZE),
        vocab=draw(SIZE), max_positions=draw(SIZE),
        activation=draw(st.sampled_from(bertsize.ACTIVATIONS)),
        hidden_dropout=draw(st.sampled_from((0.0, 0.1))),
        attention_dropout=draw(st.sampled_from((0.0, 0.1))),
        classifier_dropout=draw(st.sampled_from((0.0, 0.2))),
        tie_word_embeddings=draw(st.booleans()),
    )
    if family not in NO_SEGMENTS:
        fields["type_vocab"] = draw(SIZE)
    if family in FACTORISED:
        fields["embedding"] = draw(st.one_of(st.none(), SIZE))
    if family == "albert":
        fields["hidden_groups"] = draw(st.one_of(st.integers(1, 4), SIZE))
    if family not in FIXED_POOLER:
        fields["pooler"] = draw(st.booleans())
    if family not in NO_DECODER:
        fields["is_decoder"] = draw(st.booleans())
    if family == "ernie":
        fields["task_types"] = draw(st.one_of(st.integers(0, 16), SIZE))
    if family == "modernbert":
        fields.update(pooling=draw(st.sampled_from(("cls", "mean"))),
                      local_attention=draw(st.one_of(st.integers(2, 256), st.integers(2, 2**32))))
    if family == "deberta-v2":
        fields.update(type_vocab=draw(st.one_of(st.just(0), SIZE)),
                      disentangled=draw(disentangled(st.one_of(st.integers(1, 512), st.integers(1, 2**32)))))
    if family == "mobilebert":
        fields.update(embedding=draw(st.one_of(st.none(), st.integers(1, hidden))),
                      bottleneck=heads * draw(st.one_of(st.integers(1, 64), st.integers(1, 2**20))))
    return bertsize.Encoder(**fields)


@st.composite
def workloads(draw, max_batch: int = 2**20, max_seq_len: int = 2**20) -> bertsize.Workload:
    """Every combination of workload options that Workload accepts."""
    training = draw(st.booleans())
    backend = draw(st.sampled_from(bertsize.BACKENDS))
    precisions = bertsize.PRECISIONS[:3] if training else bertsize.PRECISIONS
    attentions = ("eager", "sdpa") if backend == "cpu" else bertsize.ATTENTIONS
    recomputes = ("none",)
    if training:
        recomputes = ("none", "full") if backend == "cpu" else bertsize.RECOMPUTES
    return bertsize.Workload(
        batch=draw(st.integers(1, max_batch)), seq_len=draw(st.integers(1, max_seq_len)), training=training,
        precision=draw(st.sampled_from(precisions)), optimizer=draw(st.sampled_from(bertsize.OPTIMIZERS)),
        attention=draw(st.sampled_from(attentions)), recompute=draw(st.sampled_from(recomputes)),
        zero_stage=draw(st.integers(0, 3)), data_parallel=draw(st.integers(1, 64)), backend=backend,
    )


#: The attention implementations of families whose HF classes (or bertsize) lack some:
#: MegatronBertPreTrainedModel, MPNetPreTrainedModel, DebertaV2PreTrainedModel and
#: SqueezeBertPreTrainedModel support neither SDPA nor flash attention.
ATTENTIONS = {"megatron-bert": ("eager",), "mpnet": ("eager",), "deberta-v2": ("eager",), "squeezebert": ("eager",),
              "convbert": ("eager",)}


def attention_for(family: str, attention: str) -> str:
    """``attention``, or the last the family runs where it lacks that one."""
    runs = ATTENTIONS.get(family, (attention,))
    return attention if attention in runs else runs[-1]


#: Families whose HF classes cannot checkpoint layers (MPNet's, SqueezeBERT's).
NO_CHECKPOINTING = ("mpnet", "squeezebert")


def runnable(encoder: bertsize.Encoder, workload: bertsize.Workload) -> bertsize.Workload:
    """The workload with an attention and a recomputation the encoder's HF classes run
    (the draws of a workload are independent of the encoder's)."""
    recompute = workload.recompute
    if encoder.family in NO_CHECKPOINTING and recompute == "full":
        recompute = "none"
    return workload.replace(attention=attention_for(encoder.family, workload.attention), recompute=recompute)



#: Families with a projection only while the embedding width differs from hidden: moving
#: hidden across the embedding width adds or removes a Linear (README, "Searching a design
#: space": the documented exception to monotonicity; search() visits every point then).
PROJECTED_WHEN_WIDTHS_DIFFER = ("electra", "convbert")


def grown(data, encoder: bertsize.Encoder, fields) -> list[bertsize.Encoder]:
    """Copies of ``encoder`` each with one size grown, keeping its family's rules: each of
    ``fields`` by 1 to 8 (SqueezeBERT's intermediate by multiples of 4), and hidden — by a
    head of the family's width, or by heads (times 4 for SqueezeBERT), keeping heads |
    hidden — where growing it is monotone."""
    groups = GROUPED.get(encoder.family, 1)
    result = [encoder.replace(**{f: getattr(encoder, f) + (groups if f == "intermediate" else 1) * data.draw(
        st.integers(1, 8))}) for f in fields]
    if encoder.family in HEAD_WIDTH:  # hidden is heads x the head width: a head more
        result.append(encoder.replace(hidden=encoder.hidden + HEAD_WIDTH[encoder.family], heads=encoder.heads + 1))
    elif not (encoder.family in PROJECTED_WHEN_WIDTHS_DIFFER and encoder.embedding is not None):
        result.append(encoder.replace(hidden=encoder.hidden + groups * encoder.heads))
    return result
