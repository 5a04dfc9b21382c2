"""backend="cuda" accounting reproduces the worked figures of the papers it follows."""

from __future__ import annotations

import pytest

import bertsize
from bertsize import states
from bertsize.tracer import Parameter


def _layer_bytes(encoder, workload):
    """Activation bytes of one transformer layer: the difference between L=2 and L=1."""
    two = bertsize.estimate(encoder.replace(layers=2), workload).activation_bytes
    one = bertsize.estimate(encoder.replace(layers=1), workload).activation_bytes
    return two - one


# Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
# Models", Table 3 (GPT-3 175B: a = 96, h = 12288, s = 2048) with micro-batch b = 1.
GPT3 = dict(hidden=12288, heads=96, seq_len=2048, batch=1)


def _gpt3_layer(recompute="none", attention="eager", precision="fp16"):
    encoder = bertsize.Encoder(layers=1, hidden=GPT3["hidden"], heads=GPT3["heads"], max_positions=2048, vocab=8)
    workload = bertsize.Workload(batch=1, seq_len=2048, training=True, precision=precision,
                                 attention=attention, recompute=recompute)
    return _layer_bytes(encoder, workload)


def test_korthikanti_equation_1_per_layer():
    """§4.1, Eq. (1): activation memory per layer = s·b·h·(34 + 5·a·s/h) bytes (16-bit, eager)."""
    s, b, h, a = GPT3["seq_len"], GPT3["batch"], GPT3["hidden"], GPT3["heads"]
    assert 5 * a * s // h == 80  # §5: "for GPT-3 ... 5as/h = 80"
    assert _gpt3_layer() == s * b * h * 34 + 5 * a * s * s * b


def test_korthikanti_selective_recompute_keeps_34sbh():
    """Table 2, selective recomputation (t = 1): 34·s·b·h; §5: saves 70% for GPT-3."""
    s, b, h = GPT3["seq_len"], GPT3["batch"], GPT3["hidden"]
    selective = _gpt3_layer(recompute="selective")
    assert selective == 34 * s * b * h
    saved_share = 1 - selective / _gpt3_layer()
    assert round(saved_share, 2) == 0.70


def test_korthikanti_full_recompute_keeps_2sbh():
    """Table 2, full activation recomputation: 2·s·b·h per layer."""
    s, b, h = GPT3["seq_len"], GPT3["batch"], GPT3["hidden"]
    assert _gpt3_layer(recompute="full") == 2 * s * b * h


def test_generalisations_of_equation_1():
    """fp32 doubles every tensor except the 1-byte dropout masks; intermediate = I replaces
    the 16·s·b·h of the two FFN tensors by 4·s·b·I; fused attention drops the 5·a·s²·b
    terms and keeps an fp32 log-sum-exp per (head, token)."""
    s, b, h, a, i = 64, 2, 96, 4, 200
    encoder = bertsize.Encoder(layers=1, hidden=h, heads=a, intermediate=i, max_positions=64, vocab=8)

    def layer(**work):
        return _layer_bytes(encoder, bertsize.Workload(batch=b, seq_len=s, training=True, **work))

    # 16-bit: 2·sbh·(QKV in, Q, K, V, out-proj in, LN, LN, FFN in) + 2 masks + 4·sbI + 5as²b
    assert layer(precision="bf16") == 2 * s * b * h * 8 + 2 * s * b * h + 4 * s * b * i + 5 * a * s * s * b
    # fp32: 4 bytes per element, masks stay 1 byte: the as²b mask term too
    assert layer(precision="fp32") == 4 * s * b * h * 8 + 2 * s * b * h + 8 * s * b * i + (8 + 1) * a * s * s * b
    assert layer(precision="fp16", attention="flash") == 2 * s * b * h * 8 + 2 * s * b * h + 4 * s * b * i + 4 * a * s * b


# Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter
# Models", Figure 1: Ψ = 7.5B parameters, Nd = 64 GPUs, mixed-precision Adam (K = 12).
@pytest.mark.parametrize(("stage", "gigabytes"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_figure_1(stage, gigabytes):
    params = [Parameter("w", (7_500_000_000,), "ffn", "linear")]
    work = bertsize.Workload(training=True, precision="fp16", optimizer="adam", zero_stage=stage, data_parallel=64)
    total = states.model_states(params, work).total
    assert round(total / 1e9, 1) == gigabytes


def test_zero_section_3_1_sixteen_bytes_per_parameter():
    """§3.1: mixed-precision Adam holds 2Ψ + 2Ψ + 12Ψ = 16Ψ bytes; GPT-2 (1.5B) needs 24 GB."""
    gpt2 = [Parameter("w", (1_500_000_000,), "ffn", "linear")]
    work = bertsize.Workload(training=True, precision="fp16", optimizer="adamw")
    result = states.model_states(gpt2, work)
    assert (result.weight_bytes, result.grad_bytes, result.optimizer_bytes) == (3e9, 3e9, 18e9)
    assert result.total == 24e9
    # and on a real encoder: exactly 16 bytes per parameter
    encoder = bertsize.preset("bert-large-uncased")
    estimate = bertsize.estimate(encoder, work)
    assert estimate.weight_bytes + estimate.grad_bytes + estimate.optimizer_bytes == 16 * estimate.params
