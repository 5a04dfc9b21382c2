"""search() equals a brute force over the oracle on drawn spaces and budgets."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

import bertsize
from strategies import attention_for, heads_for, small_encoders

PURE = bertsize.build_info()["implementation"] == "python"


def brute_force(space, budget, workload, head):
    """Every point of the space through estimate(): (valid fits, skipped, metrics)."""
    names = list(space.axes)
    fits, skipped = [], 0
    for values in itertools.product(*(space.axes[n] for n in names)):
        point = dict(zip(names, values))
        fields = {k: v for k, v in point.items() if k in bertsize.COLUMNS}
        if "head_dim" in point:
            hidden = fields.get("hidden", space.base.hidden)
            if hidden % point["head_dim"]:
                skipped += 1
                continue
            fields["heads"] = hidden // point["head_dim"]
        if "ffn_ratio" in point:
            fields["intermediate"] = point["ffn_ratio"] * fields.get("hidden", space.base.hidden)
        work = workload.replace(**{k: fields.pop(k) for k in ("batch", "seq_len") if k in fields})
        try:
            encoder = space.base.replace(**fields)
        except ValueError:
            skipped += 1
            continue
        if work.seq_len > encoder.max_seq_len:
            skipped += 1
            continue
        result = bertsize.estimate(encoder, work, head)
        flops = result.flops_fwd + result.flops_bwd
        if budget.memory is not None and result.peak_bytes > budget.memory:
            continue
        if budget.params is not None and result.params > budget.params:
            continue
        if budget.min_params is not None and result.params < budget.min_params:
            continue
        if budget.flops is not None and flops > budget.flops:
            continue
        fits.append(result)
    return fits, skipped


def key(row_or_estimate):
    """Hyperparameters identifying a configuration."""
    if isinstance(row_or_estimate, bertsize.Estimate):
        e, w = row_or_estimate.encoder, row_or_estimate.workload
        return (e.layers, e.hidden, e.heads, e.intermediate, e.vocab, e.max_positions, e.type_vocab,
                e.embedding or 0, e.hidden_groups or 1, e.bottleneck or 0, w.batch, w.seq_len)
    return tuple(int(row_or_estimate[name]) for name in bertsize.COLUMNS)


AXIS_VALUES = {
    "layers": st.lists(st.integers(1, 6), min_size=1, max_size=4),
    "hidden": st.lists(st.sampled_from([4, 6, 8, 12, 16, 24, 32]), min_size=1, max_size=4),
    "heads": st.lists(st.integers(1, 4), min_size=1, max_size=3),
    "head_dim": st.lists(st.integers(1, 8), min_size=1, max_size=3),
    "intermediate": st.lists(st.integers(1, 64), min_size=1, max_size=3),
    "ffn_ratio": st.lists(st.integers(1, 4), min_size=1, max_size=3),
    "vocab": st.lists(st.integers(4, 200), min_size=1, max_size=3),
    "max_positions": st.lists(st.integers(4, 20), min_size=1, max_size=3),
    "batch": st.lists(st.integers(1, 8), min_size=1, max_size=4),
    "seq_len": st.lists(st.integers(1, 16), min_size=1, max_size=4),
}


@st.composite
def cases(draw):
    base = draw(small_encoders(max_layers=3, min_positions=16))
    names = draw(st.lists(st.sampled_from(sorted(AXIS_VALUES)), min_size=1, max_size=4, unique=True))
    if "heads" in names and "head_dim" in names:
        names.remove("heads")
    if "intermediate" in names and "ffn_ratio" in names:
        names.remove("intermediate")
    axes = {name: draw(AXIS_VALUES[name]) for name in names}
    if base.family in ("albert", "electra") and draw(st.booleans()):
        axes["embedding"] = draw(st.lists(st.integers(1, 16), min_size=1, max_size=3))
    # MobileBERT's embedding is at most hidden and its heads divide the bottleneck too: axes
    # whose values all keep those rules (the walk counts at most two validity tables, and
    # none of three axes: test_a_constraint_on_one_axis_joins_the_pair_that_holds_it)
    mobile = base.family == "mobilebert"
    if mobile and "hidden" not in axes and draw(st.booleans()):
        axes["embedding"] = draw(st.lists(st.integers(1, base.hidden), min_size=1, max_size=3))
    if mobile and not {"heads", "head_dim"} & set(axes) and draw(st.booleans()):
        axes["bottleneck"] = [base.heads * k for k in draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))]
    space = bertsize.Space(base, **axes)
    training = draw(st.booleans())
    workload = bertsize.Workload(
        batch=draw(st.integers(1, 4)), seq_len=draw(st.integers(1, 8)), training=training,
        precision=draw(st.sampled_from(["fp32", "bf16"])), backend=draw(st.sampled_from(bertsize.BACKENDS)),
        attention=attention_for(base.family, draw(st.sampled_from(["eager", "sdpa"]))),
    )
    head = draw(heads_for(base))
    # budgets drawn from the metrics the space really has, so that some points fit
    everything = bertsize.Budget()
    fits, _ = brute_force(space, everything, workload, head)
    peaks = sorted(r.peak_bytes for r in fits) or [1]
    params = sorted(r.params for r in fits) or [1]
    flops = sorted(r.flops_fwd + r.flops_bwd for r in fits) or [1]
    caps = dict(
        memory=draw(st.one_of(st.none(), st.sampled_from(peaks))),
        params=draw(st.one_of(st.none(), st.sampled_from(params))),
        flops=draw(st.one_of(st.none(), st.sampled_from(flops))),
        min_params=draw(st.one_of(st.none(), st.just(0), st.sampled_from(params))),
    )
    if caps["params"] is not None and caps["min_params"] is not None and caps["min_params"] > caps["params"]:
        caps["min_params"] = None
    return space, bertsize.Budget(**caps), workload, head


@given(case=cases())
def test_count_fits_and_skipped_equal_brute_force(case):
    space, budget, workload, head = case
    expected, skipped = brute_force(space, budget, workload, head)
    result = bertsize.search(space, budget, workload, head)
    assert (result.count, result.skipped, result.total) == (len(expected), skipped, space.size)
    fits = result.to_numpy()
    assert sorted(key(row) for row in fits) == sorted(key(r) for r in expected)
    for row in fits:  # the metrics reported for each fit are estimate()'s
        match = next(r for r in expected if key(r) == key(row))
        assert all(int(row[m]) == getattr(match, m) for m in bertsize.METRICS)


@given(case=cases(), k=st.integers(1, 5), by=st.sampled_from(["params", "peak_bytes", "flops", "activation_bytes"]))
def test_top_k_equals_brute_force(case, k, by):
    space, budget, workload, head = case
    expected, _ = brute_force(space, budget, workload, head)

    def value(r):
        return r.flops_fwd + r.flops_bwd if by == "flops" else getattr(r, by)

    want = sorted((value(r) for r in expected), reverse=(by == "params"))[:k]
    # walked (limit=0: nothing materialised) and from materialised fits
    walked = bertsize.search(space, budget, workload, head, limit=0).top_k(k, by=by)
    held = bertsize.search(space, budget, workload, head).top_k(k, by=by)
    for rows in (walked, held):
        got = (rows["flops_fwd"] + rows["flops_bwd"]) if by == "flops" else rows[by]
        assert [int(v) for v in got] == want


@given(case=cases(), objectives=st.sampled_from([("params", "peak_bytes"), ("params", "flops"),
                                                  ("activation_bytes", "params")]))
def test_pareto_equals_brute_force(case, objectives):
    space, budget, workload, head = case
    expected, _ = brute_force(space, budget, workload, head)

    def score(r):  # larger is better in both
        values = [(r.flops_fwd + r.flops_bwd) if name == "flops" else getattr(r, name) for name in objectives]
        return tuple(v if name == "params" else -v for v, name in zip(values, objectives))

    scores = {score(r) for r in expected}
    front = {s for s in scores if not any(o != s and o[0] >= s[0] and o[1] >= s[1] for o in scores)}
    for limit in (0, 10**6):
        rows = bertsize.search(space, budget, workload, head, limit=limit).pareto(objectives)
        got = set()
        for row in rows:
            values = [(int(row["flops_fwd"]) + int(row["flops_bwd"])) if n == "flops" else int(row[n]) for n in objectives]
            got.add(tuple(v if n == "params" else -v for v, n in zip(values, objectives)))
        assert got == front


@given(case=cases(), shards=st.integers(1, 4))
def test_shards_combine_to_the_whole(case, shards):
    space, budget, workload, head = case
    whole = bertsize.search(space, budget, workload, head)
    parts = [bertsize.search(space, budget, workload, head, shard=(i, shards)) for i in range(shards)]
    merged = bertsize.Result.merge(parts)
    assert (merged.count, merged.skipped, merged.total) == (whole.count, whole.skipped, whole.total)
    assert sorted(map(key, merged.to_numpy())) == sorted(map(key, whole.to_numpy()))
    assert [int(v) for v in merged.top_k(3)["params"]] == [int(v) for v in whole.top_k(3)["params"]]
    unheld = bertsize.Result.merge([bertsize.search(space, budget, workload, head, shard=(i, shards), limit=0)
                                    for i in range(shards)])
    assert [int(v) for v in unheld.top_k(3)["params"]] == [int(v) for v in whole.top_k(3)["params"]]


def test_a_constraint_on_one_axis_joins_the_pair_that_holds_it():
    """MobileBERT's heads divide hidden and its bottleneck: with heads and hidden axes and
    the bottleneck fixed at 4, the points are those whose heads divide both (counted by
    hand: of hidden 4, 6 x heads 1, 2, 3, all but heads 3)."""
    base = bertsize.Encoder(family="mobilebert", layers=1, hidden=4, heads=1, intermediate=8, vocab=10, embedding=2,
                            bottleneck=4)
    result = bertsize.search(bertsize.Space(base, hidden=[4, 6], heads=[1, 2, 3]), bertsize.Budget())
    assert (result.count, result.skipped) == (4, 2)
    with pytest.raises(ValueError, match="couple three axes"):  # heads | hidden and embedding <= hidden
        bertsize.search(bertsize.Space(base, hidden=[4, 6], heads=[1, 3], embedding=[2, 5]), bertsize.Budget())


@given(case=cases())
@settings(max_examples=20)
def test_thread_count_does_not_change_the_count(case):
    space, budget, workload, head = case
    assert bertsize.search(space, budget, workload, head, threads=1).count == \
        bertsize.search(space, budget, workload, head, threads=2).count


@given(encoder=small_encoders(min_positions=40), data=st.data())
def test_max_batch_and_max_seq_len_equal_a_scan(encoder, data):
    head = data.draw(heads_for(encoder))
    workload = bertsize.Workload(seq_len=data.draw(st.integers(1, 8)), training=data.draw(st.booleans()))
    sizes = [bertsize.estimate(encoder, workload.replace(batch=b), head).peak_bytes for b in range(1, 65)]
    memory = data.draw(st.sampled_from(sizes + [sizes[0] - 1]))
    budget = bertsize.Budget(memory=memory)
    fitting = [b for b in range(1, 65) if sizes[b - 1] <= memory]
    assert bertsize.max_batch(encoder, workload, budget, head) == (max(fitting) if fitting else None)
    lengths = [bertsize.estimate(encoder, workload.replace(seq_len=s), head).peak_bytes
               for s in range(1, encoder.max_seq_len + 1)]
    fitting = [s for s in range(1, encoder.max_seq_len + 1) if lengths[s - 1] <= memory]
    assert bertsize.max_seq_len(encoder, workload, budget, head) == (max(fitting) if fitting else None)


def test_more_fits_than_the_limit_are_not_materialised():
    space = bertsize.Space("bert-tiny", layers=range(1, 9), batch=range(1, 33))
    result = bertsize.search(space, bertsize.Budget(memory="1GiB"), limit=10)
    assert result.count > 10 and not result.materialised
    with pytest.raises(ValueError, match=r"more than the search's limit.*top_k"):
        result.to_numpy()
    assert len(result.top_k(3)) == 3


BAD_SPACES = [
    ({"layers": [1, 0]}, ValueError, r"axis 'layers': value 0 \(position 1\) must be positive"),
    ({"layers": [1.5]}, TypeError, r"axis 'layers': value 1.5 \(position 0\) is not an integer"),
    ({"layers": [True]}, TypeError, r"is not an integer"),
    ({"layres": [1]}, ValueError, r"unknown axis 'layres'"),
    ({"heads": [1], "head_dim": [64]}, ValueError, r"heads or head_dim, not both"),
    ({"intermediate": [1], "ffn_ratio": [4]}, ValueError, r"intermediate or ffn_ratio, not both"),
    ({"embedding": [128]}, ValueError, r"embedding axis needs a factorised family"),
    ({"hidden_groups": [2]}, ValueError, r"hidden_groups is ALBERT's"),
    ({"layers": []}, ValueError, r"axis 'layers' has no values"),
    ({"layers": "12"}, TypeError, r"axis 'layers' takes a list"),
    ({}, ValueError, r"at least one axis"),
]


@pytest.mark.parametrize(("axes", "error", "pattern"), BAD_SPACES)
def test_bad_spaces(axes, error, pattern):
    with pytest.raises(error, match=pattern):
        bertsize.Space("bert-base-uncased", **axes)


BAD_BUDGETS = [
    ({"memory": -1}, ValueError, r"memory must be a finite size >= 0"),
    ({"memory": float("nan")}, ValueError, r"memory must be a finite size >= 0"),
    ({"memory": "16 GiBs"}, ValueError, r"memory: unknown unit 'gibs'"),
    ({"memory": "lots"}, ValueError, r"memory: cannot read 'lots' as a size"),
    ({"memory": True}, TypeError, r"memory must be bytes"),
    ({"params": -5}, ValueError, r"params must be >= 0, got -5"),
    ({"flops": float("nan")}, ValueError, r"flops must be a number >= 0"),
    ({"min_params": 10, "params": 5}, ValueError, r"min_params=10 exceeds params=5"),
    ({"latency": "20ms"}, ValueError, r"a latency budget needs a device"),
]


@pytest.mark.parametrize(("fields", "error", "pattern"), BAD_BUDGETS)
def test_bad_budgets(fields, error, pattern):
    with pytest.raises(error, match=pattern):
        bertsize.Budget(**fields)


def test_budget_units():
    assert bertsize.Budget(memory="16GiB").memory == 16 * 2**30
    assert bertsize.Budget(memory="150MB").memory == 150 * 10**6
    assert bertsize.Budget(memory=4096).memory == 4096


def test_search_rejects_bad_arguments():
    space = bertsize.Space("bert-tiny", layers=[1, 2])
    with pytest.raises(TypeError, match="budget must be a bertsize.Budget"):
        bertsize.search(space, {"memory": 1})
    with pytest.raises(ValueError, match="shard index 2 must be below the shard count 2"):
        bertsize.search(space, bertsize.Budget(), shard=(2, 2))
    with pytest.raises(ValueError, match="unknown objective 'speed'"):
        bertsize.search(space, bertsize.Budget(), objective="speed")


def test_progress_is_reported_for_long_searches():
    """The walker reports long counts; the pure-Python brute force gets a small space."""
    calls = []
    space = bertsize.Space("bert-base-uncased", layers=range(1, 49), hidden=range(64, 4097, 64), head_dim=64,
                           ffn_ratio=[1, 2, 3, 4], batch=range(1, 129 if not PURE else 3),
                           seq_len=range(8, 513, 8 if not PURE else 256))
    result = bertsize.search(space, bertsize.Budget(memory="24GiB"), limit=0,
                             progress=lambda done, fits: calls.append((done, fits)))
    assert result.count > 0
    if calls:  # only searches longer than a second report; the last report is complete
        assert calls[-1] == (1.0, result.count)
        assert all(0 < done <= 1 for done, _ in calls)


def test_eight_bit_adam_threshold_is_searched_exactly():
    """8-bit AdamW keeps 32-bit state below 4096 elements: an FFN bias of 4095 costs more
    than one of 4096.  The search visits every point then, and still equals brute force."""
    base = bertsize.Encoder(layers=1, hidden=8, heads=1, intermediate=8, vocab=8, max_positions=8)
    work = bertsize.Workload(training=True, optimizer="adamw_8bit", seq_len=2)
    below, at = (bertsize.estimate(base.replace(intermediate=i), work).peak_bytes for i in (4095, 4096))
    assert at < below  # not monotone
    space = bertsize.Space(base, intermediate=range(4090, 4103), layers=[1, 2])
    for memory in (at, below, below - 1):
        budget = bertsize.Budget(memory=memory)
        expected, _ = brute_force(space, budget, work, "model")
        result = bertsize.search(space, budget, work)
        assert result.count == len(expected)
        assert sorted(map(key, result.to_numpy())) == sorted(map(key, expected))


def test_electra_embedding_equal_to_hidden_under_cpu_autocast_is_searched_exactly():
    """Without a projection (embedding == hidden) ELECTRA's residual stream stays fp32 under
    CPU autocast: more activation memory at a smaller embedding width."""
    base = bertsize.Encoder(family="electra", layers=2, hidden=16, heads=2, intermediate=32, vocab=20, embedding=8)
    work = bertsize.Workload(training=True, precision="bf16", backend="cpu", batch=4, seq_len=8)
    smaller, equal = (bertsize.estimate(base.replace(embedding=e), work).activation_bytes for e in (15, 16))
    larger = bertsize.estimate(base.replace(embedding=17), work).activation_bytes
    assert equal > larger  # not monotone in the embedding width
    space = bertsize.Space(base, embedding=range(12, 21), batch=[2, 4])
    peaks = sorted({r.peak_bytes for r in brute_force(space, bertsize.Budget(), work, "masked_lm")[0]})
    for memory in peaks[::3]:
        budget = bertsize.Budget(memory=memory)
        expected, _ = brute_force(space, budget, work, "masked_lm")
        assert bertsize.search(space, budget, work, "masked_lm").count == len(expected)


@given(case=cases(), seq=st.lists(st.integers(1, 16), min_size=1, max_size=6),
       batch=st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_training_plane_in_closed_form_equals_brute_force(case, seq, batch):
    """A training search with seq_len and batch axes counts the (seq_len, batch) plane
    in closed form; it must still equal brute force."""
    space, budget, workload, head = case
    axes = {**space.axes, "seq_len": seq, "batch": batch}
    if len(axes) < 3:
        axes["layers"] = [1, 2, 3]
    space = bertsize.Space(space.base, **axes)
    workload = workload.replace(training=True, recompute="none")
    expected, skipped = brute_force(space, budget, workload, head)
    result = bertsize.search(space, budget, workload, head, limit=0)
    assert (result.count, result.skipped) == (len(expected), skipped)


def test_points_past_int64_do_not_fit():
    """A metric past int64 is larger than any budget: such points never fit, and the rest
    of the space is still counted (the walk then evaluates with overflow checks)."""
    space = bertsize.Space("bert-tiny", vocab=[100, 2**40, 2**61], layers=[1, 2])
    work = bertsize.Workload()
    # bert-tiny has hidden 128: with vocab 2**61 the word embeddings alone hold 2**68 parameters
    with pytest.raises(OverflowError):
        bertsize.estimate(space.base.replace(vocab=2**61), work)
    assert bertsize.estimate(space.base.replace(vocab=2**40, layers=2), work).peak_bytes < 2**62
    result = bertsize.search(space, bertsize.Budget(memory=2**62), work)
    assert (result.count, result.skipped, result.total) == (4, 0, 6)
    assert sorted(int(v) for v in result.to_numpy()["vocab"]) == [100, 100, 2**40, 2**40]


def test_a_grouped_family_skips_the_widths_its_groups_do_not_divide():
    """SqueezeBERT groups its convolutions by 4: of hidden 32..40 and intermediate 46..49
    only 32, 36, 40 and 48 are models; the walk counts the others as skipped, by rule."""
    base = bertsize.Encoder(family="squeezebert", layers=1, hidden=32, heads=2, intermediate=48, vocab=30,
                            max_positions=16)
    space = bertsize.Space(base, hidden=[32, 34, 36, 38, 40], intermediate=[46, 47, 48, 49])
    result = bertsize.search(space, bertsize.Budget(params=10**9), bertsize.Workload(batch=1, seq_len=8))
    assert result.count == 3 * 1
    assert result.skip_reasons() == {"hidden not a multiple of 4": 2 * 4, "intermediate not a multiple of 4": 3 * 3}
