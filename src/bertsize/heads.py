"""The heads: which HF class, whether it runs the pooler, its outputs and its loss.

A :class:`Head` is one HF class suffix (``BertForMaskedLM`` is ``masked_lm``).  What a
head builds on top of the encoder can differ by family — RoBERTa classifies the first
token through a dense layer, BERT the pooled output — so the bodies are small classes
here (:class:`MaskedLMBody`, the classifier and pre-training bodies) and each family's
spec says which one it uses.  Every body is written in tracer primitives
(:mod:`bertsize.tracer`); declaring a Linear registers its weight and traces the op.

In the bodies ``m`` is the model being traced (:class:`bertsize.recipe.Model`): its
family spec, its sizes ``m.s`` (numbers of the tracer's domain) and its flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from bertsize.tracer import Tensor, Tracer

_WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


# --------------------------------------------------------------------------------------
# Bodies a family chooses
# --------------------------------------------------------------------------------------
def _transform(t: Tracer, m, x: Tensor, width, activation: str, bias: bool = True) -> Tensor:
    """The MLM heads' prediction transform: dense (hidden -> ``width``), the activation,
    a LayerNorm (both with biases unless ``bias`` is False)."""
    y = t.activation(t.linear("cls.predictions.transform.dense", x, m.s.hidden, width, bias=bias), activation)
    return t.layer_norm("cls.predictions.transform.LayerNorm", y, width, bias=bias)


@dataclass(frozen=True)
class MaskedLMBody:
    """Transform (dense -> activation -> LayerNorm) and the decoder tied to the word
    embeddings, with its own bias; cross-entropy over the vocabulary.

    ``width``: "hidden" or "embedding" (ALBERT, ELECTRA transform to the embedding
    width); ``activation``: None for the configured one, else the one HF hard-codes;
    ``output_bias``: the head keeps the decoder's bias as a parameter of its own
    (BERT's ``predictions.bias``, tied to ``decoder.bias``).  Untied word embeddings
    (``tie_word_embeddings=False``) untie both: the decoder gets its own weight and
    bias, and the head's bias stays a parameter the forward never reads.
    """

    width: str = "hidden"
    activation: str | None = None
    output_bias: bool = True
    #: whether the transform's dense and LayerNorm have biases (ModernBERT's have none)
    transform_bias: bool = True

    def forward(self, t: Tracer, m, x: Tensor) -> Tensor:
        s = m.s
        width = s.embedding if self.width == "embedding" else s.hidden
        y = _transform(t, m, x, width, self.activation or m.activation, self.transform_bias)
        weight = t.parameter(_WORD_EMBEDDINGS) if m.tied_embeddings else None
        if not m.tied_embeddings and self.output_bias:
            t.parameter("cls.predictions.bias", (s.vocab,), "unused")
        logits = t.linear("cls.predictions.decoder", y, width, s.vocab, weight=weight)
        t.cross_entropy(logits)
        return logits


@dataclass(frozen=True)
class StackedMaskedLMBody:
    """MobileBERT's: the transform (dense -> activation -> LayerNorm, at hidden), then
    logits against the word embeddings (embedding wide) stacked with a dense block of
    the other hidden - embedding features (:meth:`~bertsize.tracer.Tracer.stacked_decoder`);
    the head's bias is the decoder's (tied); untying the word embeddings unties both."""

    def forward(self, t: Tracer, m, x: Tensor) -> Tensor:
        s = m.s
        y = _transform(t, m, x, s.hidden, m.activation)
        tied = t.parameter(_WORD_EMBEDDINGS) if m.tied_embeddings else None
        if not m.tied_embeddings:
            t.parameter("cls.predictions.bias", (s.vocab,), "unused")
        logits = t.stacked_decoder("cls.predictions", y, tied, s.embedding, t.num.difference(s.hidden, s.embedding),
                                   s.vocab)
        t.cross_entropy(logits)
        return logits


class FirstToken:
    """What a sequence classifier reads when no pooler runs: the first token's row."""

    #: whether the loss gathers the labelled rows first (DeBERTa's sequence classifier)
    gathers_labels = False

    def features(self, t: Tracer, m, x: Tensor) -> Tensor:
        return t.first_token(x)


def _dropout_active(m, which: str) -> bool:
    """Whether the encoder's ``which`` dropout ("classifier" or "hidden") is active."""
    return m.classifier_dropout if which == "classifier" else m.hidden_dropout


@dataclass(frozen=True)
class PooledClassifier(FirstToken):
    """BERT, ALBERT: dropout -> classifier on the pooled output.  ``dropout``: which of
    the encoder's dropouts (RoBERTa's multiple choice applies the hidden dropout)."""

    dropout: str = "classifier"
    uses_pooler = True

    def forward(self, t: Tracer, m, features: Tensor, outputs=None) -> Tensor:
        outputs = m.s.num_labels if outputs is None else outputs
        return t.linear("classifier", t.dropout(features, _dropout_active(m, self.dropout)), m.s.hidden, outputs)


@dataclass(frozen=True)
class PreClassifier(FirstToken):
    """A dense layer and its activation on the first token -> classifier dropout ->
    classifier.  DistilBERT: ``pre_classifier`` -> ReLU.  DeBERTa: ``ContextPooler``
    (``pooler.dense`` -> GELU; its own ``pooler_dropout`` is 0 in every checkpoint), the
    classifier dropout being ``cls_dropout``, else the hidden dropout.
    ``gathers_labels``: the classification loss first gathers the rows whose label is
    not negative (``DebertaV2ForSequenceClassification``), which saves the logits."""

    dense: str = "pre_classifier"
    activation: str = "relu"
    gathers_labels: bool = False
    uses_pooler = False

    def forward(self, t: Tracer, m, features: Tensor, outputs=None) -> Tensor:
        h = m.s.hidden
        outputs = m.s.num_labels if outputs is None else outputs
        y = t.activation(t.linear(self.dense, features, h, h), self.activation)
        return t.linear("classifier", t.dropout(y, m.classifier_dropout), h, outputs)


@dataclass(frozen=True)
class DenseClassifier(FirstToken):
    """RoBERTa / XLM-R (tanh), ELECTRA (gelu), ConvBERT (the configured one: None):
    dropout -> dense -> activation -> dropout -> out_proj on the first token.
    ``dropout``: which of the encoder's dropouts (MPNet's head applies the hidden dropout)."""

    #: the dense layer's activation; None: the encoder's own (``config.hidden_act``)
    activation: str | None
    dropout: str = "classifier"
    uses_pooler = False

    def forward(self, t: Tracer, m, features: Tensor) -> Tensor:
        h, active = m.s.hidden, _dropout_active(m, self.dropout)
        y = t.linear("classifier.dense", t.dropout(features, active), h, h)
        y = t.activation(y, self.activation or m.activation)
        return t.linear("classifier.out_proj", t.dropout(y, active), h, m.s.num_labels)


@dataclass(frozen=True)
class SequenceSummary(FirstToken):
    """ELECTRA's multiple-choice summary: the first token -> dense -> activation ->
    dropout (``summary_last_dropout``: the classifier dropout) -> classifier."""

    activation: str
    uses_pooler = False

    def forward(self, t: Tracer, m, features: Tensor, outputs=None) -> Tensor:
        h = m.s.hidden
        outputs = m.s.num_labels if outputs is None else outputs
        y = t.activation(t.linear("sequence_summary.summary", features, h, h), self.activation)
        return t.linear("classifier", t.dropout(y, m.classifier_dropout), h, outputs)


@dataclass(frozen=True)
class LastTokenClassifier:
    """ConvBERT's multiple choice: its sequence summary, which ConvBertConfig leaves at
    ``summary_type="last"`` without projection, activation or dropout, is the last
    token's row; the classifier reads it."""

    uses_pooler = False

    def features(self, t: Tracer, m, x: Tensor) -> Tensor:
        return t.last_token(x)

    def forward(self, t: Tracer, m, features: Tensor, outputs=None) -> Tensor:
        outputs = m.s.num_labels if outputs is None else outputs
        return t.linear("classifier", features, m.s.hidden, outputs)


@dataclass(frozen=True)
class TokenClassifier:
    """Dropout -> classifier on every token (token classification).

    ``dropout``: which of the encoder's dropouts runs before the classifier:
    "classifier" (BERT, RoBERTa, XLM-R, ELECTRA: ``classifier_dropout``; ALBERT:
    ``classifier_dropout_prob``) or "hidden" (DistilBERT applies ``config.dropout``).
    """

    dropout: str = "classifier"

    def forward(self, t: Tracer, m, x: Tensor) -> Tensor:
        return t.linear("classifier", t.dropout(x, _dropout_active(m, self.dropout)), m.s.hidden, m.s.num_labels)


#: Logits per token of question answering: HF splits qa_outputs into start and end.
SPAN_LOGITS = 2


@dataclass(frozen=True)
class HeadClassifier:
    """ModernBERT's classification heads: ``ModernBertPredictionHead`` (dense without
    bias -> GELU -> LayerNorm without bias) -> classifier dropout -> classifier.
    What a sequence is classified by (:meth:`features`): the <cls> row or the mean of
    its rows (``Encoder.pooling``); ``gather``: the <cls> rows are gathered (multiple
    choice indexes them, a copy) rather than viewed; ``outputs``: logits per row
    (question answering's start and end), else the call's or num_labels."""

    gather: bool = False
    outputs: int | None = None
    uses_pooler = False
    gathers_labels = False

    def features(self, t: Tracer, m, x: Tensor) -> Tensor:
        if t.options.pooling == "mean":
            return t.mean_pool(x)
        first = t.first_token(x)
        return t.copy(first) if self.gather else first

    def forward(self, t: Tracer, m, features: Tensor, outputs=None) -> Tensor:
        h = m.s.hidden
        y = t.activation(t.linear("head.dense", features, h, h, bias=False), "gelu")
        y = t.dropout(t.layer_norm("head.norm", y, h, bias=False), m.classifier_dropout)
        return t.linear("classifier", y, h, outputs or self.outputs or m.s.num_labels)


@dataclass(frozen=True)
class SpanClassifier:
    """``qa_outputs``: two logits per token, the span's start and end (extractive
    question answering).  ``dropout``: whether the classifier dropout runs first
    (DistilBERT's ``qa_dropout``; the other families apply none)."""

    dropout: bool = False

    def forward(self, t: Tracer, m, x: Tensor) -> Tensor:
        if self.dropout:
            x = t.dropout(x, m.classifier_dropout)
        return t.linear("qa_outputs", x, m.s.hidden, SPAN_LOGITS)


@dataclass(frozen=True)
class NextSentencePrediction:
    """BERT pre-training: masked LM, and a 2-way classifier on the pooled output."""

    uses_pooler = True
    masked_lm = True

    def forward(self, t: Tracer, m, x: Tensor, pooled: Tensor) -> list[Tensor]:
        logits = t.linear("cls.seq_relationship", pooled, m.s.hidden, 2)
        t.cross_entropy(logits)
        return [logits]


@dataclass(frozen=True)
class SentenceOrderPrediction:
    """ALBERT pre-training: masked LM, and dropout -> a num_labels-way classifier on
    the pooled output."""

    uses_pooler = True
    masked_lm = True

    def forward(self, t: Tracer, m, x: Tensor, pooled: Tensor) -> list[Tensor]:
        logits = t.linear("sop_classifier", t.dropout(pooled, m.classifier_dropout), m.s.hidden, m.s.num_labels)
        t.cross_entropy(logits)
        return [logits]


@dataclass(frozen=True)
class ReplacedTokenDetection:
    """ELECTRA pre-training (the discriminator): dense -> activation -> one logit per
    token, binary cross-entropy; no masked LM."""

    uses_pooler = False
    masked_lm = False

    def forward(self, t: Tracer, m, x: Tensor, pooled: Tensor | None) -> list[Tensor]:
        h = m.s.hidden
        hidden = t.activation(t.linear("discriminator_predictions.dense", x, h, h), m.activation)
        logits = t.linear("discriminator_predictions.dense_prediction", hidden, h, 1)
        t.binary_cross_entropy(logits)
        return [logits]


# --------------------------------------------------------------------------------------
# The heads
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Head:
    """One HF head class.

    Attributes:
        name: what users type (the class suffix in snake case).
        hf_suffix: the suffix of the transformers class (``Bert`` + suffix).
        description: one line for listings.
    """

    name: str
    hf_suffix: str
    description: str
    #: whether the batch's examples each run Workload.num_choices sequences
    per_choice = False
    #: whether the class masks future tokens (a decoder: HF's is_decoder=True)
    causal = False

    def exists_for(self, family) -> bool:
        """Whether transformers has this head for ``family``."""
        return True

    def class_suffix(self, family) -> str:
        """The suffix of ``family``'s class for this head (``family.hf_prefix`` + it)."""
        return self.hf_suffix

    def runs_pooler(self, family, pooler: bool) -> bool:
        """Whether the class runs the pooler: where it reads the pooled output, or
        always in a family whose base model always has one (``pooler``: the Encoder's
        flag, which is ``add_pooling_layer`` of the base model)."""
        return family.pooler_always or self.reads_pooler(family, pooler)

    def reads_pooler(self, family, pooler: bool) -> bool:
        """Whether the class's outputs or loss read the pooled output."""
        raise NotImplementedError

    def forward(self, t: Tracer, m, x: Tensor, pooled: Tensor | None) -> list[Tensor]:
        """The head on the last hidden state ``x`` (and the pooled output): its outputs."""
        raise NotImplementedError


class BaseModel(Head):
    def reads_pooler(self, family, pooler: bool) -> bool:
        return pooler

    def forward(self, t, m, x, pooled):
        return [x] if pooled is None else [x, pooled]


class MaskedLM(Head):
    def reads_pooler(self, family, pooler: bool) -> bool:
        return False

    def forward(self, t, m, x, pooled):
        return [m.family.masked_lm.forward(t, m, x)]


class PreTraining(Head):
    def exists_for(self, family) -> bool:
        return family.pretraining is not None

    def reads_pooler(self, family, pooler: bool) -> bool:
        return family.pretraining.uses_pooler

    def forward(self, t, m, x, pooled):
        objective = m.family.pretraining
        outputs = [m.family.masked_lm.forward(t, m, x)] if objective.masked_lm else []
        return outputs + objective.forward(t, m, x, pooled)


class SequenceClassification(Head):
    def reads_pooler(self, family, pooler: bool) -> bool:
        return family.classifier.uses_pooler

    def forward(self, t, m, x, pooled):
        body = m.family.classifier
        features = pooled if body.uses_pooler else body.features(t, m, x)
        logits = body.forward(t, m, features)
        # HF's problem_type: one label is a regression (MSE), more are classes
        if t.branch(t.num.compare("eq", m.s.num_labels, 1)):
            t.mse(logits)
        else:
            t.cross_entropy(t.gather_rows(logits) if body.gathers_labels else logits)
        return [logits]


class MultipleChoice(Head):
    """Each of ``batch`` examples runs ``Workload.num_choices`` sequences through the
    encoder (:attr:`per_choice`); one score per sequence, a softmax over the choices."""

    per_choice = True

    def exists_for(self, family) -> bool:
        return family.choice_classifier is not None

    def reads_pooler(self, family, pooler: bool) -> bool:
        return family.choice_classifier.uses_pooler

    def forward(self, t, m, x, pooled):
        body = m.family.choice_classifier
        features = pooled if body.uses_pooler else body.features(t, m, x)
        scores = body.forward(t, m, features, outputs=1)
        t.cross_entropy(scores)  # over scores.view(-1, num_choices), a view of the same storage
        return [scores]


class TokenClassification(Head):
    def reads_pooler(self, family, pooler: bool) -> bool:
        return False  # its classifier reads every token, never the pooled output

    def forward(self, t, m, x, pooled):
        logits = m.family.token_classifier.forward(t, m, x)
        t.cross_entropy(logits)  # over logits.view(-1, num_labels): one row per token
        return [logits]


class QuestionAnswering(Head):
    def exists_for(self, family) -> bool:
        return family.span_classifier is not None

    def reads_pooler(self, family, pooler: bool) -> bool:
        return False

    def forward(self, t, m, x, pooled):
        logits = m.family.span_classifier.forward(t, m, x)
        # start / end logits: (batch, seq_len) each, a softmax over the positions; the
        # loss is the mean of their two cross-entropies
        positions = t.split_columns(logits, m.s.batch, m.s.seq_len)
        for scores in positions:
            t.cross_entropy(scores)
        return positions


class CausalLM(MaskedLM):
    """The decoder LM classes (``is_decoder=True``): the masked-LM head (no pooler, the
    family's body and loss; HF shifts the labels and pads them, so every position has a
    target) under a causal self-attention mask."""

    causal = True

    def exists_for(self, family) -> bool:
        return family.causal_lm_suffix is not None

    def class_suffix(self, family) -> str:
        return family.causal_lm_suffix


class NextSentence(Head):
    def exists_for(self, family) -> bool:
        return family.next_sentence is not None

    def reads_pooler(self, family, pooler: bool) -> bool:
        return True  # the model is built with its pooler (add_pooling_layer's default)

    def forward(self, t, m, x, pooled):
        return m.family.next_sentence.forward(t, m, x, pooled)


#: Every head, in the order of :data:`bertsize.HEADS`.
HEADS = {
    head.name: head for head in (
        BaseModel("model", "Model", "the encoder (add_pooling_layer: Encoder.pooler)"),
        MaskedLM("masked_lm", "ForMaskedLM", "masked-LM head tied to the word embeddings"),
        PreTraining("pretraining", "ForPreTraining", "the family's pre-training objectives"),
        SequenceClassification("sequence_classification", "ForSequenceClassification",
                               "num_labels classes (1: regression)"),
        TokenClassification("token_classification", "ForTokenClassification",
                            "num_labels classes per token (NER, tagging)"),
        QuestionAnswering("question_answering", "ForQuestionAnswering",
                          "span start / end logits per token (extractive QA)"),
        NextSentence("next_sentence_prediction", "ForNextSentencePrediction",
                     "2-way is-next classifier on the pooled output"),
        MultipleChoice("multiple_choice", "ForMultipleChoice",
                       "one score per choice (Workload.num_choices sequences an example)"),
        CausalLM("causal_lm", "ForCausalLM", "next-token LM head under a causal mask (is_decoder=True)"),
    )
}
