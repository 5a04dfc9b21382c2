"""The plan compiler and the evaluator: programs equal the oracle, the C evaluator equals
the programs' semantics, and what the search reads off a program is true.

The C evaluator is imported directly, so these tests check it in both runs of the suite.
"""

from __future__ import annotations

import importlib
import pathlib
import pickle
import re

import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

import bertsize
from bertsize import _reference, oracle, program, symbolic, validity
from bertsize.estimate import row_of
from bertsize.metrics import NAMES, QUANTITIES
from bertsize.options import Options
from strategies import GROUPED, ROTARY, WINDOWED, any_encoders, heads_for, runnable, small_encoders, workloads

kernel = importlib.import_module("bertsize._kernel")
INT64_MAX = 2**63 - 1
SOURCE = pathlib.Path(bertsize.__file__).parent


def _call(encoder, workload, head, num_labels):
    options = Options.of(encoder.options, workload.options, head)
    return options, row_of(encoder, workload, num_labels)


def _oracle(options, row, names):
    values, too_big = oracle.metric_values(options, dict(zip(validity.FIELDS, row)), names=names)
    return [None if name in too_big else values[name] for name in names]


def _extreme(**changes):
    return bertsize.Encoder(**{"layers": 1, "hidden": 1, "heads": 1, "intermediate": 1, "vocab": 1,
                               "max_positions": 1, **changes})


@given(data=st.data(), encoder=any_encoders(), workload=workloads())
@example(data=None, encoder=_extreme(vocab=INT64_MAX), workload=bertsize.Workload(seq_len=1))
@example(data=None, encoder=_extreme(layers=2**62), workload=bertsize.Workload(seq_len=1, training=True))
def test_programs_equal_the_oracle(data, encoder, workload):
    """The compiled plan (every quantity, every field a row input) says what the recipe
    on ints says, overflow included, in the programs' own semantics (program.run)."""
    workload = runnable(encoder, workload)
    head, num_labels = "model", 2
    if data is not None:
        head = data.draw(heads_for(encoder))
        num_labels = data.draw(st.one_of(st.integers(1, 8), st.integers(1, 2**40)))
    assume(encoder.max_seq_len >= 1)
    workload = workload.replace(seq_len=min(workload.seq_len, encoder.max_seq_len))
    options, row = _call(encoder, workload, head, num_labels)
    names = tuple(QUANTITIES)
    emitted = program.emit(program.compile_plan(options), {}, names)
    assert program.run(emitted, row) == (_oracle(options, row, names), -1)


ROW_VALUES = st.one_of(st.integers(-3, 40), st.integers(0, 2**52 + 2), st.integers(2**52 - 2, 2**53 + 2),
                       st.integers(0, INT64_MAX))


@given(data=st.data(), encoder=small_encoders(), workload=workloads())
def test_the_evaluator_runs_programs_as_their_semantics(data, encoder, workload):
    """The C evaluator's checked path equals program.run on any row: valid or not, near
    2**52, 2**53 and 2**63 - 1; and a specialised program (constants folded) equals the
    general one on rows with those constants."""
    workload = runnable(encoder, workload)
    head = data.draw(heads_for(encoder))
    options, _ = _call(encoder, workload, head, 2)
    general = program.emit(program.compile_plan(options), {}, NAMES)
    compiled = kernel.CompiledProgram(general)
    for _ in range(4):
        row = [data.draw(ROW_VALUES) for _ in validity.FIELDS]
        outputs, violated = program.run(general, row)
        got = kernel.run_row(compiled, row)
        if violated >= 0:
            assert got == 1 + violated
        elif None in outputs:
            assert got == -(1 + outputs.index(None))
        else:
            assert got == tuple(outputs)
    fixed = data.draw(st.lists(st.sampled_from(validity.FIELDS), unique=True, max_size=6))
    row = row_of(encoder, workload.replace(seq_len=min(workload.seq_len, encoder.max_seq_len)), 2)
    constants = tuple((name, row[validity.FIELD_INDEX[name]]) for name in fixed)
    specialised = program.specialised(options, constants, NAMES, False)
    assert program.run(specialised, row) == program.run(general, row)
    assert kernel.run_row(kernel.CompiledProgram(specialised), row) == kernel.run_row(compiled, row)


@given(data=st.data(), encoder=small_encoders(max_layers=3, min_positions=40))
def test_the_plane_read_off_a_program_gives_every_batch_and_sequence_length(data, encoder):
    """A training step's peak bytes and FLOPs are c + b (k0 + k1 s + k2 s²) in the batch
    and the sequence length: the coefficients read off the program give estimate()'s
    numbers at other (b, s)."""
    head = data.draw(heads_for(encoder))
    work = bertsize.Workload(training=True, precision=data.draw(st.sampled_from(["fp32", "bf16"])),
                             backend=data.draw(st.sampled_from(bertsize.BACKENDS)), seq_len=1)
    options, row = _call(encoder, work, head, 2)
    constants = tuple((n, v) for n, v in zip(validity.FIELDS, row) if n not in ("batch", "seq_len"))
    plane = program.plane_program(options, constants, ["peak_bytes", "flops"], [])
    # no closed form where the model changes with the sequence length: ModernBERT's window
    # mask comes at seq_len >= local_attention / 2, DeBERTa's convolution copies its input
    # from seq_len = 2 on; nor where a saved tensor grows with the sequence alone (RoPE's
    # tables, s x 64 whatever the batch)
    convolves = encoder.disentangled is not None and encoder.disentangled.conv_kernel_size > 0
    if encoder.family in (*WINDOWED, *ROTARY) or (convolves and encoder.hidden > 1):
        assert plane is None
        return
    assert plane is not None
    c0, k0, k1, k2, f0, g0, g1, g2 = program.run(plane, row)[0]
    for _ in range(3):
        b, s = data.draw(st.integers(1, 50)), data.draw(st.integers(1, encoder.max_seq_len))
        result = bertsize.estimate(encoder, work.replace(batch=b, seq_len=s), head)
        assert result.peak_bytes == c0 + b * (k0 + k1 * s + k2 * s * s)
        assert result.flops_step == f0 + b * (g0 + g1 * s + g2 * s * s)


def _monotone(encoder, work, head, fields, ranges=None) -> bool:
    options, row = _call(encoder, work, head, 2)
    constants = tuple((n, v) for n, v in zip(validity.FIELDS, row) if n not in fields)
    exprs = program.specialised_quantities(options, constants, ["peak_bytes", "params", "flops"])
    return all(program.is_monotone(e, fields, ranges) for e in exprs)


def test_monotonicity_read_off_the_program_names_the_exceptions():
    """8-bit AdamW's 32-bit state below 4096 elements, and an ELECTRA whose hidden can meet
    its embedding width, make quantities that fall as a size grows; nothing else does."""
    tiny, train = bertsize.preset("bert-tiny"), bertsize.Workload(training=True)
    assert _monotone(tiny, train, "masked_lm", {"layers", "hidden", "heads", "intermediate", "batch", "seq_len"})
    assert not _monotone(tiny, train.replace(optimizer="adamw_8bit"), "model", {"intermediate"})
    electra = bertsize.preset("google/electra-small-discriminator")
    assert not _monotone(electra, train, "model", {"hidden"})
    assert _monotone(electra.replace(embedding=None), train, "model", {"hidden"})
    # ALBERT's embedding 0 means hidden; over an axis of positive widths it never is
    albert = bertsize.preset("albert-base-v2")
    assert not _monotone(albert, train, "model", {"embedding"})
    assert _monotone(albert, train, "model", {"embedding"}, {"embedding": (1, 512)})


@given(data=st.data(), encoder=small_encoders(max_layers=3, min_positions=24), workload=workloads(8, 8))
def test_what_the_program_calls_monotone_is(data, encoder, workload):
    """Where is_monotone says a quantity never falls along a field, it does not, on
    drawn neighbours (the search's pruning relies on it)."""
    workload = runnable(encoder, workload)
    head = data.draw(heads_for(encoder))
    workload = workload.replace(seq_len=min(workload.seq_len, encoder.max_seq_len - 1))
    field = data.draw(st.sampled_from(["layers", "intermediate", "vocab", "batch", "seq_len", "max_positions"]))
    if not _monotone(encoder, workload, head, {field}):
        return
    before = bertsize.estimate(encoder, workload, head)
    step = data.draw(st.integers(1, 4)) * (GROUPED.get(encoder.family, 1) if field == "intermediate" else 1)
    if field in ("batch", "seq_len"):
        after = bertsize.estimate(encoder, workload.replace(**{field: getattr(workload, field) + step}), head)
    else:
        after = bertsize.estimate(encoder.replace(**{field: getattr(encoder, field) + step}), workload, head)
    for name in ("peak_bytes", "params", "flops_step"):
        assert getattr(after, name) >= getattr(before, name), name


def test_corrupt_programs_are_refused():
    options, _ = _call(bertsize.preset("bert-tiny"), bertsize.Workload(), "model", 2)
    source = program.specialised(options, (), NAMES, False)

    def altered(**changes):
        return program.Program(**{**source.__dict__, **changes})

    outputs = source.outputs.copy()
    outputs[0] = source.n_slots
    with pytest.raises(ValueError, match="outside"):
        kernel.CompiledProgram(altered(outputs=outputs))
    instructions = source.instructions.copy()
    instructions[0, 1] = -1
    with pytest.raises(ValueError, match="no such op or slot"):
        kernel.CompiledProgram(altered(instructions=instructions))
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel.CompiledProgram(altered(terms=np.asfortranarray(source.terms.astype(np.int32))))


def test_pickles_carry_fields_not_packings():
    """An Encoder or Workload shipped to another process (Dask) packs itself afresh there:
    its pickle holds its fields only."""
    for value in (bertsize.preset("albert-base-v2"), bertsize.Workload(batch=3, training=True)):
        state = value.__getstate__()
        assert not any(key.startswith("_") for key in state) and "options" not in state
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value and copy._row == value._row and copy.options == value.options


def test_kernel_and_twin_share_one_interface():
    names = {"MAX_THREADS", "compiler", "estimate_tuple", "evaluate_columns", "max_threads", "openmp_enabled",
             "replace_sizes", "valid_rows"}
    walker = importlib.import_module("bertsize._search")
    for module in (kernel, _reference):
        assert names <= set(dir(module)), module
    for module in (walker, _reference):
        assert {"walk", "LATENCY_CODE", "KIND_PLAIN", "KIND_DIVIDED", "KIND_MULTIPLIED"} <= set(dir(module)), module


def test_max_batch_honours_every_budget_field():
    """min_params is part of the budget: a model below it fits at no batch (it used to
    answer 1790), and a budget that bounds nothing growing with the batch is refused
    rather than answered with the batch where FLOPs pass int64."""
    tiny, work = bertsize.preset("bert-tiny"), bertsize.Workload()
    assert bertsize.max_batch(tiny, work, bertsize.Budget(memory="1GiB", min_params=10**9)) is None
    assert bertsize.max_batch(tiny, work, bertsize.Budget(memory="1GiB")) > 1000
    with pytest.raises(ValueError, match="nothing that grows with the batch"):
        bertsize.max_batch(tiny, work, bertsize.Budget(params=10**9))


_FAMILY_NAME = re.compile(r"""["'](%s)["']""" % "|".join(map(re.escape, bertsize.FAMILIES)))
_HEAD_NAME = re.compile(r"""==\s*["'](model|masked_lm|pretraining|sequence_classification)["']""")


def test_no_family_or_head_is_named_outside_its_spec():
    """One place per fact: outside families/ a family's name is never tested, outside
    heads.py a head's never compared; csrc/ knows no family, head or metric."""
    for path in SOURCE.glob("*.py"):
        text = path.read_text()
        code = "\n".join(line for line in text.splitlines() if not line.strip().startswith(("#", '"', "'")))
        if path.name != "model.py":  # (Encoder's default family is "bert")
            assert not _FAMILY_NAME.search(code), path.name
        if path.name != "heads.py":
            assert not _HEAD_NAME.search(code), path.name
    csrc = SOURCE.parent.parent / "csrc"
    if csrc.is_dir():  # (a source checkout)
        words = set(bertsize.FAMILIES) | set(bertsize.HEADS) - {"model"} | set(QUANTITIES)
        for path in csrc.iterdir():
            found = set(re.findall(r"[a-z_]+", path.read_text().replace("xlm-roberta", "xlm_roberta"))) & words
            assert not found, (path.name, found)
