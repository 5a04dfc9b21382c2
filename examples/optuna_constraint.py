"""An Optuna study over BERT hyperparameters that only keeps configurations under a
memory and latency budget: bertsize answers each trial's constraints in microseconds.

    pip install optuna && python examples/optuna_constraint.py

Optuna's constrained samplers treat a trial as feasible when every constraint value is
<= 0; here the constraints are "peak memory minus the budget" and "latency minus the
budget" (Optuna >= 5 reads them from ``trial.set_constraint``; older versions from a
sampler's ``constraints_func``).
"""

from __future__ import annotations

import optuna

import bertsize

BUDGET = bertsize.Budget(memory="16GiB", latency="60ms", device="nvidia-t4")
WORKLOAD = bertsize.Workload(batch=32, seq_len=128, training=True, precision="fp16")
SET_CONSTRAINT = hasattr(optuna.trial.Trial, "set_constraint")


def encoder_of(trial: optuna.Trial) -> bertsize.Encoder:
    hidden = trial.suggest_int("hidden", 256, 1536, step=128)
    return bertsize.preset("bert-base-uncased").replace(
        layers=trial.suggest_int("layers", 2, 24),
        hidden=hidden,
        heads=hidden // 64,
        intermediate=hidden * trial.suggest_int("ffn_ratio", 2, 4),
    )


def objective(trial: optuna.Trial) -> float:
    estimate = bertsize.estimate(encoder_of(trial), WORKLOAD, device=BUDGET.device)
    memory, latency = estimate.peak_bytes - BUDGET.memory, estimate.latency_s - BUDGET.latency
    if SET_CONSTRAINT:
        trial.set_constraint("memory", memory)
        trial.set_constraint("latency", latency)
    trial.set_user_attr("constraints", (memory, latency))
    # stand-in for a validation score: larger models score higher, if they fit
    return estimate.params / 1e6


def constraints(trial: optuna.trial.FrozenTrial) -> tuple[float, float]:
    return trial.user_attrs["constraints"]


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=0) if SET_CONSTRAINT else \
        optuna.samplers.TPESampler(seed=0, constraints_func=constraints)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=60)
    feasible = [t for t in study.trials if all(c <= 0 for c in t.user_attrs["constraints"])]
    best = max(feasible, key=lambda t: t.value)
    print(f"{len(feasible)} of {len(study.trials)} trials fit {bertsize.units.format_bytes(BUDGET.memory)} and "
          f"{BUDGET.latency * 1e3:.0f} ms on {BUDGET.device.name}")
    print(f"best feasible: {best.params} -> {best.value:.1f}M parameters")


if __name__ == "__main__":
    main()
