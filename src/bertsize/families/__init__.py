"""The families bertsize knows, one spec module each (see :class:`spec.Family`)."""

from __future__ import annotations

from bertsize.families import (albert, bert, camembert, convbert, deberta_v2, distilbert, electra, ernie, jina_embeddings_v3,
                               megatron_bert, mobilebert, modernbert, mpnet, nomic_bert, roberta,
                               roberta_prelayernorm, squeezebert, xlm_roberta, xlm_roberta_xl)
from bertsize.families.spec import Family, HFConfig, Preset

#: Family name -> spec, in the order of :data:`bertsize.FAMILIES`.
FAMILIES: dict[str, Family] = {
    module.SPEC.name: module.SPEC for module in (bert, roberta, xlm_roberta, distilbert, albert, electra, camembert,
                                                 roberta_prelayernorm, xlm_roberta_xl, megatron_bert, mpnet,
                                                 ernie, modernbert, deberta_v2, nomic_bert, jina_embeddings_v3,
                                                 mobilebert, squeezebert, convbert)
}
#: HF ``model_type`` -> family spec.
MODEL_TYPES: dict[str, Family] = {
    model_type: spec for spec in FAMILIES.values() for model_type in spec.config.model_types
}

__all__ = ["FAMILIES", "MODEL_TYPES", "Family", "HFConfig", "Preset"]
