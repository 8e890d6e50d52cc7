#!/usr/bin/env bash
# The project's one-shot GPU call (benchmarks/README.md, "One GPU call"): on a machine with one
# GPU, no network and no Snakemake, within about nine minutes,
#   1. install the Snakemake wheels brought along in .whl/ (benchmarks/fetch_gpu_wheels.sh), unless
#      `python3 -m snakemake` already works;
#   2. unpack the CIFAR-10 JPEG archive brought along (.gpu-carry/cifar10-jpeg.tar.xz) into the
#      git-ignored work folder, and prepare the data set and the ReLU-collapse grid there (in the
#      background, during step 3);
#   3. benchmark our trainer against the textbook DataLoader loop (bench_train.py, depths 20 56 110);
#   4. derive from that benchmark the epochs that fit in the time left (benchmarks/gpu_plan.py),
#      then run the whole pipeline on configs/cifar10_gpu_short.yaml with device=cuda, the runs
#      side by side on the GPU, and cut the epochs if the first one shows they do not fit;
#   5. copy what it produced into OUTDIR: at most 8 files, each under 16 MiB, no subfolders.
#
#   bash benchmarks/gpu_run.sh OUTDIR [--archive FILE]          # the GPU run
#   bash benchmarks/gpu_run.sh OUTDIR --tiny [--archive FILE]   # the same end to end, on the CPU,
#                                                               # tiny (tests/test_gpu_script.py)
#
# --tiny: device cpu, tiny nets and sizes laid over the short config, a tiny image folder (a few
# generated PNGs per class, or the first few images of each class when --archive is given), no
# wheels when Snakemake is importable. Environment: PYTHON (default python3), GPU_RUN_BUDGET_S
# (whole run, default 540; tiny 240), GPU_RUN_SPEEDUP (assumed speed-up of the runs side by side
# over one after the other, default 2), GPU_RUN_MIN_EPOCHS / GPU_RUN_MAX_EPOCHS (bounds of the
# plan, default 2 (the warm-up takes one) and 40), GPU_RUN_POST_S (kept after training for the gradient statistics,
# figure and report, default 90), GPU_RUN_CORES (default all), GPU_RUN_GPU_JOBS (training jobs
# on the GPU at once, default 16: all of them), GPU_RUN_WORKDIR (default
# .gpu-work/, or a temporary folder with --tiny), SOURCE_COMMIT (the commit, where .git is not
# there), GPU_RUN_ARCHIVE_SHA256 (default: the known archive's; empty skips the check).
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR="" TINY=0 ARCHIVE=""
while (($#)); do
    case $1 in
    --tiny) TINY=1 ;;
    --archive) ARCHIVE=${2:?--archive needs a file}; shift ;;
    --archive=*) ARCHIVE=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "gpu_run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
        [[ -z $OUTDIR ]] || { usage >&2; exit 2; }
        OUTDIR=$1
        ;;
    esac
    shift
done
[[ -n $OUTDIR ]] || { usage >&2; exit 2; }
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
cd "$ROOT"

PY=${PYTHON:-python3}
T0=$(date +%s)
STARTED_UTC=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
RUNLOG="$OUTDIR/gpu_run.log"
: >"$RUNLOG"
DATASET=imagefolder # the short config's data set, the prefix of its result paths
CIFAR_SHA256=c6c0c97af31466165b559afd1c7344b2133672c7a5ef5781c9ec23b50dbe3179
if ((TINY)); then
    MODE=tiny DEVICE=cpu
    BUDGET=${GPU_RUN_BUDGET_S:-240}
    CORES=${GPU_RUN_CORES:-2}
    WORK=${GPU_RUN_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-run-tiny.XXXXXX")}
    BENCH_NAME=train-cpu-tiny.json
else
    MODE=gpu DEVICE=cuda
    BUDGET=${GPU_RUN_BUDGET_S:-540}
    CORES=${GPU_RUN_CORES:-$(nproc)}
    WORK=${GPU_RUN_WORKDIR:-$ROOT/.gpu-work}
    ARCHIVE=${ARCHIVE:-$ROOT/.gpu-carry/cifar10-jpeg.tar.xz}
    BENCH_NAME="" # train-cuda-<gpu>.json, once the GPU's name is known
fi
SPEEDUP=${GPU_RUN_SPEEDUP:-2}
GPU_JOBS=${GPU_RUN_GPU_JOBS:-16} # training jobs on the GPU at once (the cores bound them too)
PACK_S=30                        # kept at the end for collecting the outputs
POST_S=${GPU_RUN_POST_S:-90}     # after the last training: gradstats, tables, figure, report
DEADLINE=$((T0 + BUDGET - PACK_S))
TRAIN_DEADLINE=$((DEADLINE - POST_S))
LOGS="$WORK/gpu-run-logs"
PHASES=()
CONFIGS=()
PLAN_NOTE="the config's epochs (no plan made)"
RESTARTED=no
PIPELINE_S=""
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo "${SOURCE_COMMIT:-unknown}")

say() {
    local line
    line="[$(date +%H:%M:%S) +$(($(date +%s) - T0))s] $*"
    echo "$line"
    echo "$line" >>"$RUNLOG"
}

left() { echo $((DEADLINE - $(date +%s))); }

# phase NAME LIMIT_S COMMAND...: COMMAND under `timeout`, its output in $LOGS/NAME.log
phase() {
    local name=$1 limit=$2 start=$SECONDS rc=0
    shift 2
    if ((limit < 5)); then
        say "$name: no time left (${limit}s)"
        PHASES+=("$name: skipped, no time left")
        return 124
    fi
    say "$name: start (limit ${limit}s)"
    timeout --kill-after=15 "$limit" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
    PHASES+=("$name: $((SECONDS - start)) s, exit $rc")
    if ((rc == 0)); then
        say "$name: done in $((SECONDS - start))s"
    else
        if ((rc == 124)); then
            say "$name: TIMED OUT after ${limit}s; the end of $name.log:"
        else
            say "$name: FAILED (exit $rc) after $((SECONDS - start))s; the end of $name.log:"
        fi
        tail -n 30 "$LOGS/$name.log" | sed 's/^/    | /' | tee -a "$RUNLOG"
    fi
    return "$rc"
}

# -- collecting the outputs, whatever happened ---------------------------------------------
gpu_summary() {
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi 2>&1 || true
        nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm \
            --format=csv 2>&1 || true
    else
        echo "nvidia-smi: not on this machine"
    fi
}

write_provenance() { # $1: the file
    local gpu
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
    cat >"$1" <<EOF
# Where this example comes from

- commit: \`$COMMIT\`
- published: $(date -u '+%Y-%m-%d %H:%M UTC')
- machine: ${gpu:-no GPU (device $DEVICE)}, $(nproc) CPU cores; $(versions)
- command: \`bash benchmarks/gpu_run.sh OUT$([[ $MODE == tiny ]] && echo " --tiny")\` (benchmarks/README.md), which ran
  \`snakemake all docs/example-cifar10-gpu/PROVENANCE.md --cores $CORES --resources gpu=$GPU_JOBS --configfile $(config_names) --config device=$DEVICE\`
- epochs: $PLAN_NOTE$([[ $RESTARTED == no ]] || echo "; restarted with fewer after the first epoch")
- config: \`config.yaml\` beside this file (the full, validated configuration)
- data: $DATA_NOTE
- wall time: pipeline ${PIPELINE_S:-?} s, the whole call $(($(date +%s) - T0)) s
EOF
}

versions() { # Python, torch, CUDA and cuDNN, as the benchmark recorded them
    "$PY" - "$WORK/$BENCH_NAME" 2>/dev/null <<'EOF' || echo "$("$PY" -V 2>&1), torch unknown"
import json, sys
env = json.load(open(sys.argv[1]))["environment"]
print(f"Python {env['python']}, torch {env['torch']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}")
EOF
}

config_names() {
    local names=() file
    for file in "${CONFIGS[@]}"; do
        case $file in
        "$ROOT"/*) names+=("${file#"$ROOT"/}") ;;
        *) names+=("$(basename "$file")") ;;
        esac
    done
    echo "${names[*]}"
}

pack_results() { # $1: the tar.gz; the rest: extra tar options
    local out=$1
    shift
    local parts=()
    for part in results gpu-run-logs; do [[ -e $WORK/$part ]] && parts+=("$part"); done
    ((${#parts[@]})) || return 0
    timeout 60 tar -czf "$out" -C "$WORK" --exclude='*.pt' --exclude='*.npz' "$@" "${parts[@]}"
}

collect() {
    local rc=$?
    set +eu
    trap - EXIT
    trap '' TERM INT
    say "collecting into $OUTDIR (exit status so far: $rc)"
    gpu_summary >"$LOGS/nvidia-smi-end.txt" 2>&1
    if [[ -n $BENCH_NAME && -f $WORK/$BENCH_NAME ]]; then
        cp "$WORK/$BENCH_NAME" "$OUTDIR/$BENCH_NAME"
    fi
    if [[ -f $WORK/docs/example-cifar10-gpu/report.md ]]; then
        local stage="$WORK/stage/example-cifar10-gpu"
        rm -rf "$WORK/stage" && mkdir -p "$stage"
        cp "$WORK"/docs/example-cifar10-gpu/* "$stage/"
        write_provenance "$stage/PROVENANCE.md"
        timeout 60 tar -czf "$OUTDIR/example-cifar10-gpu.tar.gz" -C "$WORK/stage" example-cifar10-gpu
    fi
    {
        echo "gpu_run.sh $MODE: exit status $rc"
        echo "started:  $STARTED_UTC"
        echo "finished: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "wall time: $(($(date +%s) - T0)) s (budget $BUDGET s); pipeline: ${PIPELINE_S:-(not run)} s"
        echo "commit: $COMMIT"
        echo "epochs: $PLAN_NOTE; restarted: $RESTARTED"
        echo "speed-up assumed for the runs side by side: $SPEEDUP; cores $CORES; GPU jobs $GPU_JOBS"
        echo "versions: $(versions); Snakemake ${SNAKEMAKE_VERSION:-unknown}"
        echo
        echo "phases:"
        printf '  %s\n' "${PHASES[@]}"
        if [[ -f $LOGS/plan.log ]]; then
            echo
            echo "plan:"
            sed 's/^/  /' "$LOGS/plan.log"
        fi
        echo
        echo "== nvidia-smi at the start =="
        cat "$LOGS/nvidia-smi-start.txt" 2>/dev/null
        echo
        echo "== nvidia-smi at the end =="
        cat "$LOGS/nvidia-smi-end.txt" 2>/dev/null
    } >"$OUTDIR/run-info.txt" 2>&1
    cp "$RUNLOG" "$LOGS/" 2>/dev/null
    local tarball="$OUTDIR/results.tar.gz" limit=$((15 * 1024 * 1024))
    pack_results "$tarball"
    if [[ -f $tarball ]] && (($(stat -c %s "$tarball") > limit)); then
        say "results.tar.gz is over 15 MiB: again without traces, examples, PDF and SVG"
        pack_results "$tarball" --exclude='trace.csv' --exclude='examples.csv' \
            --exclude='*.pdf' --exclude='*.svg'
        if (($(stat -c %s "$tarball") > limit)); then
            say "still over 15 MiB: only the tables, report and logs"
            timeout 60 tar -czf "$tarball" -C "$WORK" --exclude='trace.csv' \
                results/tables results/report.md gpu-run-logs 2>/dev/null
        fi
    fi
    say "finished with exit status $rc after $(($(date +%s) - T0))s; in $OUTDIR: $(cd "$OUTDIR" && echo *)"
    if ((TINY)) && [[ -z ${GPU_RUN_WORKDIR:-} ]]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# -- the work folder ----------------------------------------------------------------------------
if [[ -z ${GPU_RUN_WORKDIR:-} && $MODE == gpu ]]; then
    rm -rf "$WORK" # the default folder is ours: a rerun starts afresh
elif [[ -n ${GPU_RUN_WORKDIR:-} && -n $(ls -A "$WORK" 2>/dev/null) ]]; then
    echo "gpu_run.sh: GPU_RUN_WORKDIR $WORK is not empty" >&2
    exit 2
fi
mkdir -p "$LOGS" "$WORK/data"
trap collect EXIT
trap 'exit 143' TERM INT

say "gpu_run.sh $MODE: budget ${BUDGET}s, work folder $WORK, outputs to $OUTDIR, commit $COMMIT"
gpu_summary >"$LOGS/nvidia-smi-start.txt" 2>&1
if [[ $MODE == gpu ]]; then
    command -v nvidia-smi >/dev/null || { say "no nvidia-smi: is this the GPU machine?"; exit 1; }
    gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
    gpu_slug=""
    for token in ${gpu_name//-/ }; do
        if [[ $token =~ ^[A-Za-z]+[0-9]+$ && ${token,,} != nvidia ]]; then
            gpu_slug=${token,,}
            break
        fi
    done
    [[ -n $gpu_slug ]] || gpu_slug=$(echo "${gpu_name,,}" | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//')
    BENCH_NAME="train-cuda-$gpu_slug.json"
    say "GPU: $gpu_name"
fi

# -- 1. Snakemake -----------------------------------------------------------------------------
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
snakemake_version() { "$PY" -c 'import snakemake; print(snakemake.__version__)' 2>/dev/null; }
SNAKEMAKE_VERSION=$(snakemake_version || true)
if [[ ${SNAKEMAKE_VERSION%%.*} =~ ^[0-9]+$ ]] && ((${SNAKEMAKE_VERSION%%.*} >= 9)); then
    say "wheels: not needed, Snakemake $SNAKEMAKE_VERSION is importable"
else
    shopt -s nullglob
    wheels=("$ROOT"/.whl/*.whl)
    shopt -u nullglob
    if ((${#wheels[@]} == 0)); then
        say "no Snakemake 9 and no wheels in .whl/: run benchmarks/fetch_gpu_wheels.sh and carry .whl"
        exit 1
    fi
    SITE="${TMPDIR:-/tmp}/gpu-run-site"
    phase wheels 120 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target "$SITE" "${wheels[@]}"
    export PYTHONPATH="$SITE:$PYTHONPATH"
    SNAKEMAKE_VERSION=$(snakemake_version) || { say "Snakemake still not importable"; exit 1; }
    say "wheels: ${#wheels[@]} installed, Snakemake $SNAKEMAKE_VERSION"
fi

# -- 2. data ------------------------------------------------------------------------------------
# the tiny folder: generated PNGs, or the first images of each class of an unpacked archive
TINY_DATA_PY='
import sys
from pathlib import Path

import numpy as np
from PIL import Image

target, source = Path(sys.argv[1]), sys.argv[2]
counts = {"train": 6, "test": 3}
classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
rng = np.random.default_rng(0)
for split, count in counts.items():
    for label, name in enumerate(classes):
        folder = target / split / name
        folder.mkdir(parents=True, exist_ok=True)
        if source:
            files = sorted((Path(source) / split / name).glob("*.jpg"))[:count]
            if len(files) < count:
                sys.exit(f"{source}/{split}/{name}: fewer than {count} images")
            for file in files:
                (folder / file.name).write_bytes(file.read_bytes())
            continue
        colour = rng.integers(0, 256, size=3)
        for i in range(count):
            pixels = np.clip(colour + rng.integers(-40, 40, size=(32, 32, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:04d}.png")
print(f"tiny image folder in {target}")
'
DATA_NOTE="CIFAR-10 as JPEG images (quality 75) in class folders, the official 50,000/10,000
  split: expect errors a little above those on the official lossless data"
if ((TINY)); then
    DATA_NOTE="a tiny image folder (--tiny): 6 training and 3 test images per class, generated"
    [[ -z $ARCHIVE ]] || DATA_NOTE="${DATA_NOTE%generated}the first of each class in $ARCHIVE"
fi
if [[ -n $ARCHIVE ]]; then
    [[ -f $ARCHIVE ]] || {
        say "no archive $ARCHIVE: mkdir -p .gpu-carry && cp ../shared/data/cifar10-jpeg.tar.xz .gpu-carry/"
        exit 1
    }
    if [[ -n ${GPU_RUN_ARCHIVE_SHA256-$CIFAR_SHA256} ]]; then
        sum=$(sha256sum "$ARCHIVE" | cut -d ' ' -f 1)
        if [[ $sum != "${GPU_RUN_ARCHIVE_SHA256-$CIFAR_SHA256}" ]]; then
            say "archive $ARCHIVE: sha256 $sum, expected ${GPU_RUN_ARCHIVE_SHA256-$CIFAR_SHA256}"
            exit 1
        fi
    fi
    unpacked="$WORK/data"
    ((TINY)) && unpacked="$WORK/archive" && mkdir -p "$unpacked"
    if command -v xz >/dev/null; then
        phase unpack 120 tar -xJf "$ARCHIVE" -C "$unpacked"
    else # no xz on the machine: Python's lzma
        phase unpack 120 "$PY" -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    tar.extractall(sys.argv[2], filter="data")' "$ARCHIVE" "$unpacked"
    fi
    [[ -d $unpacked/cifar10/train && -d $unpacked/cifar10/test ]] || {
        say "the archive holds no cifar10/{train,test}"
        exit 1
    }
    say "unpacked: $(find "$unpacked/cifar10/train" -type f | wc -l) train and $(find "$unpacked/cifar10/test" -type f | wc -l) test images"
    if ((TINY)); then
        phase data 60 "$PY" -c "$TINY_DATA_PY" "$WORK/data/cifar10" "$unpacked/cifar10"
    fi
elif ((TINY)); then
    phase data 60 "$PY" -c "$TINY_DATA_PY" "$WORK/data/cifar10" ""
fi

# -- the pipeline's configuration -----------------------------------------------------------
cp "$ROOT/config.yaml" "$WORK/config.yaml" # the Snakefile's `configfile:`, under --directory
CONFIGS=("$ROOT/configs/cifar10_gpu_short.yaml")
if ((TINY)); then
    cat >"$LOGS/tiny.yaml" <<'EOF'
# gpu_run.sh --tiny: laid over configs/cifar10_gpu_short.yaml, seconds on a CPU
device: cpu
depths: [8]
seeds: [0]
model: {width: 4}
train:
  epochs: 2
  batch_size: 16
  warmup_epochs: 0.5
  eval_batch_size: 64
  trace_every: 2
  snapshot_epochs: [0]
jobs: {threads: 1, pack_seeds: false}
bottleneck: {variants: [linear, relu], widths: [2], expansion: 8, blocks: 1}
collapse:
  manifolds: [spiral, swiss_roll]
  max_embed_dim: 8
  n_points: 60
  n_matrices: 20
  example_dims: [2, 3, 5]
  example_points: 200
gradstats:
  batch_size: 16
  path_points: 16
  paths: 2
  lags: [1, 2]
EOF
    CONFIGS+=("$LOGS/tiny.yaml")
fi
# the gradient statistics run on the CPU, after training: two threads each on the GPU machine's
# 16 cores shorten the tail after the last run; none to spare on a 2-core machine
SET_THREADS=(--set-threads gradstats=2)
((TINY)) && SET_THREADS=(--set-threads gradstats=1)
snake() { # snake TARGET... : the pipeline in $WORK, with $CONFIGS
    "$PY" -m snakemake "$@" --snakefile "$ROOT/Snakefile" --directory "$WORK" --cores "$CORES" \
        --resources "gpu=$GPU_JOBS" "${SET_THREADS[@]}" --rerun-incomplete \
        --configfile "${CONFIGS[@]}" --config "device=$DEVICE"
}

# -- 3. the benchmark, with the data and the collapse grid prepared meanwhile ----------------
say "prepare: the data set and the collapse grid, in the background (log prepare.log)"
prepare_start=$SECONDS
timeout --kill-after=15 "$(left)" "$PY" -m snakemake "results/data/$DATASET.npz" \
    results/collapse/survival.csv --snakefile "$ROOT/Snakefile" --directory "$WORK" \
    --cores 2 --configfile "${CONFIGS[@]}" --config "device=$DEVICE" \
    >"$LOGS/prepare.log" 2>&1 &
prepare_pid=$!

if ((TINY)); then
    bench=(--device cpu --depths 8 --width 4 --steps 1 --warmup 0 --repeats 1 --images 32
        --batch-size 16 --threads 1)
else
    bench=(--device cuda --depths 20 56 110)
fi
bench_rc=0
phase bench 240 "$PY" benchmarks/bench_train.py "${bench[@]}" --out "$WORK/$BENCH_NAME" ||
    bench_rc=$?
if ((bench_rc == 0)); then
    sed -n '/^arch /,/^grid /p' "$LOGS/bench.log" | sed 's/^/    /' | tee -a "$RUNLOG"
else
    say "the benchmark failed: training with the config's epochs"
fi

prepare_rc=0
wait "$prepare_pid" || prepare_rc=$?
PHASES+=("prepare (background): $((SECONDS - prepare_start)) s, exit $prepare_rc")
if ((prepare_rc != 0)); then
    say "prepare: FAILED (exit $prepare_rc); the end of prepare.log:"
    tail -n 30 "$LOGS/prepare.log" | sed 's/^/    | /' | tee -a "$RUNLOG"
    exit "$prepare_rc"
fi
say "prepare: done ($(grep -o '"n_train": [0-9]*' "$WORK/results/data/$DATASET.json"))"

# -- 4. the pipeline ------------------------------------------------------------------------------
STARTUP_S=15 # a training job's start: imports, the data set read and copied to the device
# the watch restarts only past the training deadline plus this: the first epoch, which it goes
# by, is the slowest (cuDNN's first calls, He et al.'s warm-up syncing every step), and 20 s
# over still ends well inside the command's 600 s
GRACE_S=20
if ((bench_rc == 0)); then
    max_epochs=${GPU_RUN_MAX_EPOCHS:-40}
    ((TINY)) && max_epochs=2
    if phase plan 30 "$PY" benchmarks/gpu_plan.py plan --bench "$WORK/$BENCH_NAME" \
        --config "$WORK/config.yaml" "${CONFIGS[@]}" \
        --seconds $((TRAIN_DEADLINE - $(date +%s) - 5)) \
        --data-info "$WORK/results/data/$DATASET.json" --speedup "$SPEEDUP" \
        --startup "$STARTUP_S" --min-epochs "${GPU_RUN_MIN_EPOCHS:-2}" \
        --max-epochs "$max_epochs" --out "$LOGS/plan.yaml"; then
        sed 's/^/    /' "$LOGS/plan.log" | tee -a "$RUNLOG"
        CONFIGS+=("$LOGS/plan.yaml")
        PLAN_NOTE="$(grep -o 'EPOCHS=[0-9]*' "$LOGS/plan.log" | cut -d= -f2), from the benchmark (benchmarks/gpu_plan.py, speed-up $SPEEDUP assumed)"
    fi
fi

# run_pipeline [--no-restart]: the whole DAG and the example, followed by gpu_plan.py watch
run_pipeline() {
    local limit pid watch_rc=0 rc=0 start=$SECONDS
    limit=$(left)
    say "pipeline: start (limit ${limit}s, training until $(date -d "@$TRAIN_DEADLINE" +%H:%M:%S), log pipeline.log)"
    timeout --kill-after=20 "$limit" "$PY" -m snakemake all docs/example-cifar10-gpu/PROVENANCE.md \
        --snakefile "$ROOT/Snakefile" \
        --directory "$WORK" --cores "$CORES" --resources "gpu=$GPU_JOBS" \
        "${SET_THREADS[@]}" --rerun-incomplete --configfile "${CONFIGS[@]}" \
        --config "device=$DEVICE" >>"$LOGS/pipeline.log" 2>&1 &
    pid=$!
    "$PY" benchmarks/gpu_plan.py watch --workdir "$WORK" --config "$WORK/config.yaml" \
        "${CONFIGS[@]}" --pid "$pid" --deadline "$((TRAIN_DEADLINE + GRACE_S))" \
        --startup "$STARTUP_S" --interval "$((TINY ? 1 : 2))" "$@" |
        tee -a "$RUNLOG" "$LOGS/watch.log" ||
        watch_rc=$?
    if ((watch_rc == 3)); then
        # `timeout` leads its own process group, Snakemake and every training job in it: TERM
        # (the trainers checkpoint and stop), then KILL whatever is left after 10 s
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in {1..20}; do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        { wait "$pid"; } 2>/dev/null || true
        PHASES+=("pipeline (stopped to restart): $((SECONDS - start)) s")
        return 3
    fi
    wait "$pid" || rc=$?
    PHASES+=("pipeline: $((SECONDS - start)) s, exit $rc")
    PIPELINE_S=$((SECONDS - start))
    if ((rc != 0)); then
        if ((rc == 124)); then say "pipeline: TIMED OUT; the end of pipeline.log:"; else say "pipeline: FAILED (exit $rc); the end of pipeline.log:"; fi
        tail -n 40 "$LOGS/pipeline.log" | sed 's/^/    | /' | tee -a "$RUNLOG"
        return "$rc"
    fi
    say "pipeline: done in ${PIPELINE_S}s"
}

pipeline_rc=0
run_pipeline || pipeline_rc=$?
if ((pipeline_rc == 3)); then
    fewer=$(grep -o 'RESTART EPOCHS=[0-9]*' "$LOGS/watch.log" | tail -n 1 | cut -d= -f2)
    RESTARTED="yes, with $fewer epochs"
    "$PY" benchmarks/gpu_plan.py overlay --epochs "$fewer" --out "$LOGS/plan.yaml"
    [[ ${CONFIGS[-1]} == "$LOGS/plan.yaml" ]] || CONFIGS+=("$LOGS/plan.yaml")
    PLAN_NOTE="$fewer (the benchmark's plan was cut after the first epoch; benchmarks/gpu_plan.py)"
    snake --unlock >>"$LOGS/pipeline.log" 2>&1 || true
    run_pipeline --no-restart
else
    ((pipeline_rc == 0)) || exit "$pipeline_rc"
fi
# collect() runs on exit
