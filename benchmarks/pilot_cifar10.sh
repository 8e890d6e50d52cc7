#!/usr/bin/env bash
# The pilot behind configs/confirm_cifar10.yaml: configs/pilot_cifar10.yaml (one seed) in three
# recipes, each in its own working directory under $1 (default /tmp/pilot), then the table of
# benchmarks/pilot_cifar10.py. Needs data/cifar10 (the JPEG copy unpacked as an image folder).
# Recipes after $1 run only those (e.g. `bash benchmarks/pilot_cifar10.sh /tmp/pilot bs32-200`);
# the committed table came from two recipes at a time, each on one core, and the batch-64
# recipe stopped after plain-32 and residual-32 (it left residual-32 unconverged).
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/tmp/pilot}
shift || true
recipes=("$@")
[[ ${#recipes[@]} -gt 0 ]] || recipes=(bs64-250 bs32-250 bs32-200)
settings() {  # the --config words of each recipe, one a line
    case $1 in
        bs64-250) echo 'train={"batch_size": 64, "lr": 0.05}' ;;
        bs32-250) echo 'train={"batch_size": 32, "lr": 0.025}' ;;
        bs32-200) printf '%s\n' 'train={"batch_size": 32, "lr": 0.025}' 'data={"train_per_class": 200}' ;;
        *) echo "unknown recipe $1" >&2; exit 2 ;;
    esac
}
targets=()
for arch in plain residual preact; do
    depths="20 32"
    [[ $arch == plain ]] && depths="8 14 20 26 32"
    for depth in $depths; do
        targets+=("results/runs/imagefolder/$arch-$depth/seed0/summary.json")
    done
done
args=()
for recipe in "${recipes[@]}"; do
    dir=$root/$recipe
    mkdir -p "$dir"
    cp -r Snakefile config.yaml configs workflow scripts profiles "$dir/"
    ln -sfn "$PWD/data" "$dir/data"
    mapfile -t config < <(settings "$recipe")
    (cd "$dir" && "$OLDPWD/.venv/bin/snakemake" --cores 1 "${targets[@]}" \
        --configfile configs/pilot_cifar10.yaml --config "${config[@]}")
    args+=("$recipe=$dir")
done
.venv/bin/python benchmarks/pilot_cifar10.py "${args[@]}" --out benchmarks/results/pilot-cifar10.json
