"""The titles and captions of the supplementary figures, by kind, in their order: the report
writes each under its figure, and Snakemake's report (workflow/report/supplementary.rst) picks
each figure's from its file name, S<k>_<kind>.png. Data only, so that the workflow reads it
without importing the plotting code."""

from __future__ import annotations

SUPPLEMENTARY_CAPTIONS = {
    "replications": (
        "Replications of published results",
        "Each replication row's effect divided by its margin, with its 95% interval, turned so "
        "that the published result's side is positive; the grey band is negligible, the marker "
        "the verdict (as in the main figure's forest plot).",
    ),
    "interventions": (
        "The essay's explanation, by intervention",
        "Each intervention row's effect divided by its margin, with its 95% interval, the "
        "predicted side positive; the grey band is negligible, the marker the verdict.",
    ),
    "training": (
        "Training at every depth",
        "Final training (dashed) and test (solid) error against depth, 95% intervals over seeds "
        "(on CIFAR-10, He et al.'s test errors beside them), and the learning curves at every "
        "depth, each on a log axis: the deepest nets beside the depths where all train.",
    ),
    "networks": (
        "Network statistics against depth",
        "Each network-level statistic of the claims against depth, at initialisation (dashed, "
        "open markers) and at the end of training (solid, filled), 95% intervals over seeds.",
    ),
    "collapse": (
        "Every collapse map",
        "The fraction of the spiral recoverable (the map stays locally injective) through ReLU, "
        "a linear map and z + ReLU(z), and through He et al.'s blocks on the lifted spiral, "
        "against the embedding dimension (claims 1-3c); the exact maps sit at 1 together.",
    ),
    "designs": (
        "Bottlenecks and widths",
        "The MobileNetV2-style nets' test error against bottleneck width (claims B1-B3) and the "
        "dead branch units against width (claim W1), where the run trains them.",
    ),
    "by_layer": (
        "Every measure by layer",
        "The per-layer measures of the nets at the deepest depth where every architecture "
        "trains: backward signal, BatchNorm responses, the branch ReLU's redundancy and what it "
        "keeps, linear units and lesions; initialisation dashed, the end solid.",
    ),
    "examples": (
        "The collapse of a spiral (MobileNetV2 Fig. 1)",
        "The input spiral and its pseudo-inverse reconstructions through ReLU, a linear map and "
        "z + ReLU(z), embedded into n dimensions by one random matrix each.",
    ),
}


def caption(stem: str) -> tuple[str, str]:
    """The title and caption of a supplementary figure from its file stem (S<k>_<kind>)."""
    number, kind = stem.split("_", 1)
    title, text = SUPPLEMENTARY_CAPTIONS[kind]
    return f"Figure {number}. {title}", text


def supplementary_captions() -> dict[str, str]:
    """Each kind's caption in one line: title, then text (Snakemake's report)."""
    return {kind: f"{title}: {text}" for kind, (title, text) in SUPPLEMENTARY_CAPTIONS.items()}
