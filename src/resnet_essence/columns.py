"""The columns of the tidy tables that rules hand each other, where two modules must agree.

gradstats.py writes the per-layer table, aggregate.py reads it; both take its columns from here
(aggregate without importing gradstats, which would load torch).
"""

# per-layer statistics of gradstats.layer_statistics, each in its own column
LAYER_STATISTICS = [
    "weight_grad_norm",
    "grad_to_weight",
    "signal_grad_norm",
    "signal_grad_rms",
    "relu_active_fraction",
    "dead_fraction",
    "response_std",
]
# the layer table: what identifies a row, then the statistics, with weight_norm (weight rows)
# beside the weight-gradient norm it scales
LAYER_COLUMNS = ["kind", "layer_index", "layer", "site", *LAYER_STATISTICS]
LAYER_COLUMNS.insert(LAYER_COLUMNS.index("weight_grad_norm") + 1, "weight_norm")
