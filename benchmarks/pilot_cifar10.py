"""The pilot table behind configs/confirm_cifar10.yaml: per recipe, net and seed, the final
training error in eval mode (the convergence criterion's measure), the last epoch's running
training error, the test error and the minutes of training.

Run as ``python benchmarks/pilot_cifar10.py RECIPE=DIR [RECIPE=DIR ...] --out FILE``, each DIR a
working directory where ``snakemake`` ran configs/pilot_cifar10.yaml (benchmarks/pilot_cifar10.sh
makes them). Runs trained before summaries recorded the error in eval mode get it recomputed
here from their final weights (model.pt) and the prepared data, as the trainer computes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

try:
    from resnet_essence.files import write_json
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import write_json
from resnet_essence.data.normalise import Normaliser
from resnet_essence.data.npz import read_dataset
from resnet_essence.nets.resnet import build_model, spec_from_dict
from resnet_essence.train.trainer import evaluate


def clean_error(run: Path, data) -> float:
    """The final weights' error on the training set in eval mode (Trainer.clean_train_error)."""
    saved = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
    model = build_model(spec_from_dict(saved["spec"]))
    model.load_state_dict(saved["state_dict"])
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    return evaluate(
        model, x, y, Normaliser.fit(x), 1000, lambda: torch.autocast("cpu", enabled=False)
    )[1]


def table(recipe: str, folder: Path) -> list[dict]:
    rows = []
    data = None
    for summary_path in sorted(folder.glob("results/runs/*/*/seed*/summary.json")):
        summary = json.loads(summary_path.read_text())
        clean = summary.get("final_train_err_eval")
        if clean is None:
            if data is None:
                name = summary_path.parents[2].name
                data = read_dataset(folder / f"results/data/{name}.npz")
            clean = clean_error(summary_path.parent, data)
        train = summary["train"]
        rows.append(
            {
                "recipe": recipe,
                "arch": summary["arch"],
                "depth": summary["depth"],
                "seed": summary["seed"],
                "n_train": summary["n_train"],
                "epochs": train["epochs"],
                "batch_size": train["batch_size"],
                "lr": train["lr"],
                "steps": summary["steps"],
                "train_err_eval": clean,
                "train_err_running": summary["final_train_err"],
                "test_err": summary["final_test_err"],
                "train_minutes": summary["train_seconds"] / 60,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="+", help="NAME=DIR: a recipe and its working directory")
    parser.add_argument("--out", type=Path, help="write the table here as JSON")
    args = parser.parse_args(argv)
    rows = []
    for item in args.recipes:
        name, _, folder = item.partition("=")
        rows += table(name, Path(folder))
    print("recipe  net          steps  train_err(eval)  running  test_err  minutes")
    for r in rows:
        net = f"{r['arch']}-{r['depth']}"
        print(
            f"{r['recipe']:<7} {net:<12} {r['steps']:>5}  {r['train_err_eval']:>15.4f}  "
            f"{r['train_err_running']:>7.4f}  {r['test_err']:>8.4f}  {r['train_minutes']:>7.2f}"
        )
    if args.out:
        write_json(args.out, {"runs": rows})
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
