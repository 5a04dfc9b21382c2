"""The question bertsize was founded on, answered by computation."""

import bertsize


def test_24_layers_adds_more_parameters_than_1024_hidden():
    base = bertsize.Encoder(layers=12, hidden=768, heads=12)
    deeper = base.replace(layers=24)
    wider = base.replace(hidden=1024, heads=16, intermediate=4 * 1024)
    base_params = bertsize.count_params(base)
    added_by_depth = bertsize.count_params(deeper) - base_params
    added_by_width = bertsize.count_params(wider) - base_params
    # Hand derivation of BERT's parameters, h = hidden, I = 4h, V = 30522, P = 512, T = 2:
    #   layer: 4(h² + h) + 2·2h + (hI + I) + (Ih + h)            = 12h² + 13h
    #   embeddings: (V + P + T)·h + 2h;  pooler: h² + h
    def by_hand(layers, h):
        return layers * (12 * h * h + 13 * h) + (30522 + 512 + 2) * h + 2 * h + h * h + h
    assert base_params == by_hand(12, 768)
    assert added_by_depth == by_hand(24, 768) - by_hand(12, 768) == 12 * (12 * 768**2 + 13 * 768)
    assert added_by_width == by_hand(12, 1024) - by_hand(12, 768)
    assert added_by_depth > added_by_width
