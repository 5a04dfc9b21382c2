"""bertsize: exact, fast sizing of BERT-family encoders.

Parameters, FLOPs, memory and latency of BERT, RoBERTa, XLM-R, DistilBERT, ALBERT and
ELECTRA for one configuration (:func:`estimate`) or millions (:func:`evaluate`).
"""

from bertsize._backend import MAX_THREADS, build_info
from bertsize.calibration import calibrate, measure
from bertsize.devices import Device, device, devices
from bertsize.disentangled import Disentangled
from bertsize.estimate import (METRICS, ComponentCost, Estimate, ModuleCost, Profile, breakdown, count_params, estimate,
                               profile)
from bertsize.evaluate import COLUMNS, evaluate
from bertsize.hf_config import from_hf_config, hf_head, supported_model_types
from bertsize.model import ACTIVATIONS, FAMILIES, HEADS, Encoder
from bertsize.presets import preset, presets
from bertsize.search import NearestMiss, Result, max_batch, max_seq_len, nearest_miss, search
from bertsize.space import Budget, Space
from bertsize.workload import ATTENTIONS, BACKENDS, OPTIMIZERS, PRECISIONS, RECOMPUTES, Workload

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "ATTENTIONS", "BACKENDS", "COLUMNS", "FAMILIES", "HEADS", "MAX_THREADS", "METRICS", "OPTIMIZERS",
    "PRECISIONS", "RECOMPUTES", "__version__", "Budget", "ComponentCost", "Device", "Disentangled", "Encoder", "Estimate",
    "ModuleCost", "NearestMiss", "Profile", "Result", "Space", "Workload", "breakdown", "build_info", "calibrate", "count_params", "device",
    "devices", "estimate", "evaluate", "from_hf_config", "hf_head", "max_batch", "max_seq_len", "measure",
    "nearest_miss", "preset", "presets", "profile", "search", "supported_model_types"
]
