#!/usr/bin/env bash
# The one-shot GPU call (benchmarks/README.md, "One GPU call"): on a machine with one GPU, no
# network and no Snakemake, what a Snakemake profile cannot do, around one Snakemake call
# (`--workflow-profile profiles/workstation --configfile configs/cifar10_gpu_short.yaml`):
#   1. install the Snakemake wheels brought along in .whl/ (benchmarks/fetch_gpu_wheels.sh),
#      unless `$PYTHON -m snakemake` works already;
#   2. check the CIFAR-10 JPEG archive and unpack it into the work folder (once: it is kept);
#   3. run the pipeline and rule `publish` (docs/example-cifar10-gpu/, PROVENANCE.md included)
#      in the work folder within the time budget: at its end `timeout` sends SIGTERM, the
#      training jobs checkpoint and stop, and a call again with the same work folder resumes them;
#   4. pack what came out into OUTDIR: four files, no folders (the device tool's limits).
#
#   bash benchmarks/gpu_run.sh OUTDIR [--archive FILE] [--budget SECONDS] [--workdir DIR] [--tiny]
#
# --archive  the CIFAR-10 JPEG archive, cifar10/{train,test}/CLASS/*.jpg inside (default
#            .gpu-carry/cifar10-jpeg.tar.xz; its sha256 is checked, except with --tiny)
# --budget   seconds for the whole call, collecting the outputs included (default 540)
# --workdir  where the pipeline runs (default .gpu-work/, or a temporary folder with --tiny)
# --tiny     the same route on the CPU at toy sizes (tests/test_gpu_script.py): device cpu,
#            configs/smoke.yaml laid over the GPU config, depth 8, one seed, 30 training and 10
#            test images a class of the archive
# Environment: PYTHON (default python3), SOURCE_COMMIT (logged where the copy has no .git).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "gpu_run.sh: $*" >&2 && exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR="" TINY=0 ARCHIVE=$ROOT/.gpu-carry/cifar10-jpeg.tar.xz BUDGET=540 WORK=""
while (($#)); do
    case $1 in
    --tiny) TINY=1 ;;
    --archive | --budget | --workdir)
        (($# > 1)) || die "$1 needs a value"
        case $1 in --archive) ARCHIVE=$2 ;; --budget) BUDGET=$2 ;; *) WORK=$2 ;; esac
        shift
        ;;
    -h | --help) usage && exit 0 ;;
    -*) die "unknown option $1 (--help lists them)" ;;
    *)
        [[ -z $OUTDIR ]] || die "one OUTDIR only, got $OUTDIR and $1"
        OUTDIR=$1
        ;;
    esac
    shift
done
[[ -n $OUTDIR ]] || die "no OUTDIR given (--help says how to call it)"
PACK_S=20 # kept at the end of the budget for packing the outputs
if [[ ! $BUDGET =~ ^[0-9]+$ ]] || ((BUDGET < PACK_S + 20)); then
    die "--budget must be a whole number of seconds, at least $((PACK_S + 20)) ($PACK_S for packing \
the outputs); got '$BUDGET'"
fi
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET - PACK_S))
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
TEMP_WORK=0
if [[ -z $WORK ]] && ((TINY)); then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-run-tiny.XXXXXX") && TEMP_WORK=1
fi
WORK=${WORK:-$ROOT/.gpu-work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
EXAMPLE=example-cifar10-gpu # the folder rule `publish` writes under docs/
LOG=$OUTDIR/gpu_run.log
: >"$LOG"

say() { echo "[$(date +%H:%M:%S) +$(($(date +%s) - T0))s] $*" | tee -a "$LOG"; }
fail() { say "ERROR: $*" && exit 1; }
gpu() {
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total,utilization.gpu \
            --format=csv,noheader 2>&1
    else
        echo "none (no nvidia-smi)"
    fi
}

collect() { # on exit, whatever happened before: the outputs into OUTDIR
    local rc=$? limit=$((15 * 2 ** 20)) tarball=$OUTDIR/results.tar.gz
    set +e && trap - EXIT && trap '' TERM INT
    say "collecting into $OUTDIR (exit status $rc); GPU: $(gpu)"
    if [[ -f $WORK/docs/$EXAMPLE/PROVENANCE.md ]]; then
        tar -czf "$OUTDIR/$EXAMPLE.tar.gz" -C "$WORK/docs" --exclude=.snakemake_timestamp "$EXAMPLE"
    fi
    if [[ -d $WORK/results ]]; then
        tar -czf "$tarball" -C "$WORK" --exclude='*.pt' --exclude='*.npz' results
        if (($(stat -c %s "$tarball") > limit)); then
            say "results.tar.gz is over 15 MiB: again without traces, HTML, PDF and SVG"
            tar -czf "$tarball" -C "$WORK" --exclude='*.pt' --exclude='*.npz' \
                --exclude=trace.csv --exclude='*.html' --exclude='*.pdf' --exclude='*.svg' results
        fi
    fi
    ((TEMP_WORK)) && rm -rf "$WORK"
    say "finished: exit status $rc after $(($(date +%s) - T0)) s; in $OUTDIR: $(cd "$OUTDIR" && echo *)"
    exit "$rc"
}
trap collect EXIT
trap 'exit 143' TERM INT

COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo "${SOURCE_COMMIT:-unknown}")
say "gpu_run.sh$( ((TINY)) && echo " --tiny"): budget ${BUDGET}s, commit $COMMIT, work folder $WORK"
say "GPU: $(gpu)"

# -- what the call needs, checked before any of it is done ---------------------------------
((TINY)) || command -v nvidia-smi >/dev/null || fail "no nvidia-smi: no GPU here (--tiny runs on the CPU)"
DATA=$WORK/data/cifar10 WHEELS=$ROOT/.whl
[[ -d $DATA || -f $ARCHIVE ]] || fail "no data archive $ARCHIVE: mkdir -p .gpu-carry && \
cp ../shared/data/cifar10-jpeg.tar.xz .gpu-carry/ (or give --archive FILE)"
export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
smk_version() { "$PY" -c 'import snakemake; print(snakemake.__version__)' 2>/dev/null; }
shopt -s nullglob && wheels=("$WHEELS"/*.whl) && shopt -u nullglob
SMK=$(smk_version) || ((${#wheels[@]})) || fail "$PY cannot import snakemake and $WHEELS holds \
no wheels: run 'bash benchmarks/fetch_gpu_wheels.sh' where there is network, and carry .whl"

# -- 1. Snakemake, from the wheels brought along -------------------------------------------
if [[ -z $SMK ]]; then
    say "wheels: installing ${#wheels[@]} from $WHEELS into $WORK/site"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$WORK/site" "${wheels[@]}" >>"$LOG" 2>&1 || fail "pip could not install them"
    SMK=$(smk_version) || fail "snakemake is still not importable after installing $WHEELS"
fi
say "versions: Snakemake $SMK; $("$PY" -c 'import sys, torch
print(f"Python {sys.version.split()[0]}, torch {torch.__version__}, CUDA {torch.version.cuda}")')"

# -- 2. the data ----------------------------------------------------------------------------
if [[ -d $DATA ]]; then
    say "data: $DATA is there already"
else
    if ((!TINY)); then
        sum=$(sha256sum "$ARCHIVE" | cut -d ' ' -f 1)
        [[ $sum == c6c0c97af31466165b559afd1c7344b2133672c7a5ef5781c9ec23b50dbe3179 ]] ||
            fail "$ARCHIVE has sha256 $sum, not that of the CIFAR-10 JPEG archive"
    fi
    say "data: unpacking $ARCHIVE"
    rm -rf "$WORK/unpack" && mkdir -p "$WORK/unpack"
    "$PY" -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    tar.extractall(sys.argv[2], filter="data")' "$ARCHIVE" "$WORK/unpack" ||
        fail "could not unpack $ARCHIVE"
    [[ -d $WORK/unpack/cifar10/train && -d $WORK/unpack/cifar10/test ]] ||
        fail "$ARCHIVE holds no cifar10/train and cifar10/test folders"
    mkdir -p "$WORK/data" && mv "$WORK/unpack/cifar10" "$DATA" && rm -rf "$WORK/unpack"
    say "data: $(find "$DATA/train" -type f | wc -l) training and $(find "$DATA/test" -type f |
        wc -l) test images in $DATA"
fi

# -- 3. the pipeline, within the budget ------------------------------------------------------
cp "$ROOT/config.yaml" "$WORK/config.yaml" # the Snakefile's `configfile:`, read in --directory
CONFIGS=("$ROOT/configs/cifar10_gpu_short.yaml") SET=(device=cuda)
if ((TINY)); then
    CONFIGS+=("$ROOT/configs/smoke.yaml")
    SET=(device=cpu dataset=imagefolder data_root=data/cifar10 "depths=[8]" "seeds=[0]"
        "data={train_per_class: 30, test_per_class: 10}" "bottleneck={widths: [2]}"
        "probes={widths: []}")
fi
# the profile's gpu: 1 (one training job at a time) raised: the small nets share the GPU
OPTS=(--workflow-profile "$ROOT/profiles/workstation" --snakefile "$ROOT/Snakefile"
    --directory "$WORK" --resources "gpu=$(nproc)" --configfile "${CONFIGS[@]}" --config "${SET[@]}")
if [[ -n $(ls -A "$WORK/.snakemake/locks" 2>/dev/null) ]]; then
    say "pipeline: unlocking $WORK, left locked by a call that was killed"
    "$PY" -m snakemake --unlock "${OPTS[@]}" >>"$OUTDIR/snakemake.log" 2>&1 || fail "unlock failed"
fi
limit=$((DEADLINE - $(date +%s)))
((limit > 10)) || fail "no time left for the pipeline (${limit}s)"
say "pipeline: snakemake all docs/$EXAMPLE/PROVENANCE.md, ${limit}s at most (log snakemake.log)"
set +e
timeout --kill-after=30 "$limit" "$PY" -m snakemake all "docs/$EXAMPLE/PROVENANCE.md" "${OPTS[@]}" \
    2>&1 | tee -a "$OUTDIR/snakemake.log" |
    grep --line-buffered -E '^[0-9]+ of [0-9]+ steps|^Error|Exception|rror in rule' |
    while read -r line; do say "  $line"; done
rc=${PIPESTATUS[0]}
set -e
if ((rc == 124 || rc == 137)); then
    say "ERROR: pipeline: TIMED OUT after ${limit}s; the training jobs checkpointed on SIGTERM: \
the same call again (the same --workdir) resumes them" && exit 124
elif ((rc != 0)); then
    tail -n 30 "$OUTDIR/snakemake.log" | sed 's/^/    | /' | tee -a "$LOG"
    fail "pipeline: FAILED with exit status $rc; the end of snakemake.log is above"
fi
say "pipeline: done, docs/$EXAMPLE published"
