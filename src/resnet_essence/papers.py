"""Published numbers the pipeline's results are set beside (sources in each name's comment)."""

from __future__ import annotations

import pandas as pd

# He et al. 2016a, "Deep Residual Learning for Image Recognition", Table 6: CIFAR-10 test error
# (%) and parameters of the 6n+2 residual nets
HE_RESNET_TEST_ERR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43}
HE_PARAMS = {20: "0.27M", 32: "0.46M", 44: "0.66M", 56: "0.85M", 110: "1.7M"}
# the plain nets, read off He et al. 2016a Fig. 6 (as tabulated in the a-martyn/resnet README)
HE_PLAIN_TEST_ERR = {20: 9.5, 32: 9.9, 44: 11.4, 56: 12.8}
# a widely used PyTorch reproduction: akamaster/pytorch_resnet_cifar10, README
AKAMASTER_RESNET_TEST_ERR = {20: 8.27, 32: 7.37, 44: 6.90, 56: 6.61, 110: 6.32}
# He et al. 2016b, "Identity Mappings in Deep Residual Networks", Table 2: ResNet-110, original
# block against full pre-activation (CIFAR-10 test error, %)
HE_PREACT_110 = {"residual": 6.61, "preact": 6.37}


def paper_table() -> pd.DataFrame:
    """He et al.'s CIFAR-10 test errors in long form: arch, depth, test_err (%)."""
    rows = [{"arch": "residual", "depth": d, "test_err": e} for d, e in HE_RESNET_TEST_ERR.items()]
    rows += [{"arch": "plain", "depth": d, "test_err": e} for d, e in HE_PLAIN_TEST_ERR.items()]
    rows.append({"arch": "preact", "depth": 110, "test_err": HE_PREACT_110["preact"]})
    return pd.DataFrame(rows)
