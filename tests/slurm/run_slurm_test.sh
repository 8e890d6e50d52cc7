#!/usr/bin/env bash
# The smoke config through a real SLURM cluster, with the project's profile, compared with a local
# run of the same config.
#
#   bash tests/slurm/run_slurm_test.sh        (as root; Debian/Ubuntu; a few minutes)
#
# 1. installs slurmctld, slurmd, slurm-client and munge with apt-get if they are missing;
# 2. starts a one-node cluster on this host (munged, slurmctld, slurmd as root; no systemd, no
#    cgroups, no accounting): state, logs and munge key in one temporary directory, the
#    configuration at /etc/slurm/slurm.conf (refused if a foreign one is there; removed at the end);
# 3. runs `snakemake --workflow-profile profiles/slurm --configfile configs/smoke.yaml` in a
#    scratch copy of the repository, and beside it a plain local run in another copy;
# 4. checks that every job Snakemake did not run locally went through sbatch exactly once and
#    completed in SLURM (job ids from Snakemake's log and from squeue), with no GPU requested;
# 5. checks that final.csv, claims.csv and every metrics.csv are identical in both runs (wall time
#    left out);
# 6. on the same cluster, tests/slurm/faults.sh: a training job requeued with `scontrol requeue`,
#    and one stopped by a 2-minute time limit; both must resume from their checkpoints and end
#    with the numbers of a local run (job ids before and after are printed);
# 7. stops everything it started (also on failure or interrupt).
#
# Environment: PYTHON (default .venv/bin/python, with the project and the [slurm] extra),
# SLURM_TEST_CTLD_PORT / SLURM_TEST_SLURMD_PORT (default 16817 / 16818),
# SLURM_TEST_KEEP=1 keeps the temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
PARTITION=debug
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-16817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-16818}
SNAKEMAKE_TIMEOUT=1200
STARTED=$SECONDS

say() { printf 'slurm test: %s\n' "$*"; }
fail() {
    printf 'slurm test: FAILED: %s\n' "$*" >&2
    exit 1
}

SYSTEM_CONF=/etc/slurm/slurm.conf
MARKER="# written by resnet-essence tests/slurm/run_slurm_test.sh"
WROTE_CONF=0
WORK=""
DAEMONS=() # munged, slurmctld, slurmd: started by this script
RUNS=()    # the two Snakemake runs: started by this script

stop_pid() { # stop_pid PID: TERM, wait up to 20 s, then KILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    local rc=$? i pid cwd
    set +e
    trap - EXIT INT TERM
    cd / || true
    # Snakemake first (on TERM it cancels its own SLURM jobs), then whatever is left in our
    # private cluster, then the daemons
    for pid in "${RUNS[@]}"; do stop_pid "$pid"; done
    if ((${#DAEMONS[@]} == 3)); then
        scancel --user="$(id -un)" 2>/dev/null
        for i in $(seq 20); do
            [[ -z $(squeue --noheader --states=PENDING,RUNNING,COMPLETING,CONFIGURING 2>/dev/null) ]] && break
            sleep 0.5
        done
    fi
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        stop_pid "${DAEMONS[i]}"
    done
    ((WROTE_CONF)) && rm -f "$SYSTEM_CONF"
    if [[ -n $WORK ]]; then
        # anything left that runs inside our temporary directory (job steps of a cancelled job)
        for cwd in /proc/[0-9]*/cwd; do
            pid=${cwd#/proc/}
            pid=${pid%/cwd}
            [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
            [[ $(readlink "$cwd" 2>/dev/null) == "$WORK"/* ]] && kill -KILL "$pid" 2>/dev/null
        done
        if ((rc != 0)); then
            for f in "$WORK"/*.log "$WORK"/log/slurmctld.log "$WORK"/log/slurmd.log \
                "$WORK"/{requeue,timelimit}/results/logs/train/*/*.log; do
                [[ -s $f ]] && { echo "----- last lines of $f"; tail -n 40 "$f"; }
            done
            for f in "$WORK"/*/.snakemake/slurm_logs/*/*/*.log "$WORK"/*/.snakemake/slurm_logs/*/*.log; do
                [[ -s $f ]] && grep -qiE "error|exception" "$f" && { echo "----- $f"; tail -n 30 "$f"; }
            done
            echo "slurm test: kept $WORK for inspection" >&2
        elif [[ ${SLURM_TEST_KEEP:-0} == 1 ]]; then
            say "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- prerequisites
[[ $(id -u) == 0 ]] || fail "run as root: the test starts munged, slurmctld and slurmd itself"
[[ -x $PY ]] || fail "no Python at $PY (set PYTHON, or create .venv as in the README)"
"$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null ||
    fail "snakemake-executor-plugin-slurm is not installed: $PY -m pip install -e '.[slurm]'"
command -v git >/dev/null || fail "git is needed to copy the repository"

if ! [[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd && -x /usr/sbin/munged ]] ||
    ! command -v sbatch >/dev/null || ! command -v munge >/dev/null; then
    command -v apt-get >/dev/null || fail "SLURM is not installed and there is no apt-get"
    say "installing slurmctld, slurmd, slurm-client and munge with apt-get"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge; } >/tmp/slurm-test-apt.log 2>&1; then
        tail -n 30 /tmp/slurm-test-apt.log >&2
        fail "apt-get could not install SLURM (log: /tmp/slurm-test-apt.log)"
    fi
fi

# ---------------------------------------------------------------- the cluster
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slurm-test.XXXXXX")
chmod 755 "$WORK" # munged wants its socket directory reachable by everyone
mkdir -p "$WORK"/{munge,key,state,spool,log,run}
chmod 755 "$WORK/munge"
chmod 700 "$WORK/key"
dd if=/dev/urandom of="$WORK/key/munge.key" bs=1024 count=1 status=none
chmod 600 "$WORK/key/munge.key"

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
# every job's memory request must fit the node, or sbatch refuses it
NEED_MB=$("$PY" - "$ROOT/profiles/slurm/config.yaml" <<'EOF'
import sys, yaml
profile = yaml.safe_load(open(sys.argv[1]))
values = [profile.get("default-resources", {}).get("mem_mb", 0)]
values += [r.get("mem_mb", 0) for r in profile.get("set-resources", {}).values()]
print(max(int(v) for v in values))
EOF
)
((MEM_MB >= NEED_MB)) ||
    fail "this machine offers SLURM ${MEM_MB} MB, the profile asks up to ${NEED_MB} MB per job"

sed -e "s|@HOST@|$HOST|g" -e "s|@WORK@|$WORK|g" -e "s|@CPUS@|$CPUS|g" \
    -e "s|@MEM_MB@|$MEM_MB|g" -e "s|@PARTITION@|$PARTITION|g" \
    -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
    "$ROOT/tests/slurm/slurm.conf.in" >"$WORK/slurm.conf"
# The configuration goes to SLURM's default path, as on a real cluster. SLURM_CONF pointing to
# $WORK would not do: the jobstep executor plugin deletes every SLURM_* variable except a few
# job ids before its `srun` inside the job, and that srun then finds no configuration.
if [[ -e $SYSTEM_CONF ]] && ! head -n 1 "$SYSTEM_CONF" | grep -qF "$MARKER"; then
    fail "$SYSTEM_CONF exists and was not written by this test; not overwriting it"
fi
mkdir -p "$(dirname "$SYSTEM_CONF")"
{
    echo "$MARKER (removed when the test ends)"
    cat "$WORK/slurm.conf"
} >"$SYSTEM_CONF"
WROTE_CONF=1
unset SLURM_CONF SLURM_JOB_ID SNAKEMAKE_PROFILE

/usr/sbin/munged --foreground --force --socket="$WORK/munge/munge.sock" \
    --key-file="$WORK/key/munge.key" --pid-file="$WORK/run/munged.pid" \
    --log-file="$WORK/log/munged.log" --seed-file="$WORK/run/munged.seed" \
    >"$WORK/log/munged.out" 2>&1 &
DAEMONS+=($!)
for i in $(seq 40); do
    munge -S "$WORK/munge/munge.sock" -n >/dev/null 2>&1 && break
    ((i < 40)) || fail "munged did not start: $(tail -n 5 "$WORK/log/munged.log" 2>/dev/null)"
    sleep 0.25
done

/usr/sbin/slurmctld -D >"$WORK/log/slurmctld.out" 2>&1 &
DAEMONS+=($!)
/usr/sbin/slurmd -D -N "$HOST" >"$WORK/log/slurmd.out" 2>&1 &
DAEMONS+=($!)
for i in $(seq 120); do
    state=$(sinfo --noheader --nodes="$HOST" --format=%T 2>/dev/null || true)
    [[ $state == idle ]] && break
    ((i < 120)) || fail "node $HOST not idle after 60 s (state: '${state:-none}'); see $WORK/log"
    sleep 0.5
done
for pid in "${DAEMONS[@]}"; do # a daemon that died at once (port taken?) must not go unnoticed
    kill -0 "$pid" 2>/dev/null || fail "a daemon exited at start; see $WORK/log (port $CTLD_PORT or $SLURMD_PORT taken?)"
done
say "$(sbatch --version), $(/usr/sbin/munged --version 2>&1 | head -n 1)," \
    "snakemake $("$PY" -m snakemake --version)," \
    "executor plugin $("$PY" -c 'import importlib.metadata as m; print(m.version("snakemake-executor-plugin-slurm"))')"
say "cluster up: node $HOST, $CPUS CPUs, ${MEM_MB} MB, partition $PARTITION ($((SECONDS - STARTED)) s)"

# ---------------------------------------------------------------- two copies of the repository
copy_repo() {
    mkdir -p "$1"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$1"
}
copy_repo "$WORK/cluster"
copy_repo "$WORK/local"
SMOKE=(--configfile configs/smoke.yaml)

# the local run, meanwhile: a plain command line must stay local (no profile loaded by itself)
(cd "$WORK/local" && exec "$PY" -m snakemake --cores 2 "${SMOKE[@]}") >"$WORK/local.log" 2>&1 &
LOCAL_PID=$!
RUNS+=("$LOCAL_PID")

# ---------------------------------------------------------------- the SLURM run
cd "$WORK/cluster"
SLURM_ARGS=(--workflow-profile profiles/slurm "${SMOKE[@]}"
    --default-resources "slurm_partition=$PARTITION" runtime=60 mem_mb=4000) # as in docs/cluster.md
# no slurmdbd here: poll with squeue (MinJobAge is a day), poll soon, keep the job logs
TEST_ARGS=(--slurm-status-command squeue --slurm-init-seconds-before-status-checks 2
    --slurm-keep-successful-logs)

"$PY" -m snakemake "${SLURM_ARGS[@]}" --dry-run >"$WORK/dryrun.log" 2>&1 ||
    fail "dry run with the slurm profile failed: $(tail -n 20 "$WORK/dryrun.log")"
# the dry run's job table, as "rule count" lines
awk '/^Job stats:/ {on = 1; next} on && /^total/ {exit} on && NF == 2 && $2 ~ /^[0-9]+$/ {print $1, $2}' \
    "$WORK/dryrun.log" >"$WORK/expected.txt"
[[ -s $WORK/expected.txt ]] || fail "no job table in the dry run"

say "snakemake ${SLURM_ARGS[*]} ${TEST_ARGS[*]}"
# in the background, so that an interrupt reaches the trap at once (bash runs traps only
# between foreground commands)
timeout "$SNAKEMAKE_TIMEOUT" "$PY" -m snakemake "${SLURM_ARGS[@]}" "${TEST_ARGS[@]}" \
    >"$WORK/cluster.log" 2>&1 &
CLUSTER_PID=$!
RUNS+=("$CLUSTER_PID")
wait "$CLUSTER_PID" || fail "the SLURM run failed (log below)"
say "SLURM run done ($((SECONDS - STARTED)) s)"

# ---------------------------------------------------------------- every non-local job went through sbatch
RUN_ID=$(sed -n 's/.*SLURM run ID: \([0-9a-zA-Z_-]*\).*/\1/p' "$WORK/cluster.log" | head -n 1)
[[ -n $RUN_ID ]] || fail "no 'SLURM run ID' in the log: was the slurm executor used?"
grep -o 'has been submitted with SLURM jobid [0-9]*' "$WORK/cluster.log" | awk '{print $NF}' |
    sort -n >"$WORK/submitted.txt"
sort -n -u "$WORK/submitted.txt" >"$WORK/submitted_unique.txt"
cmp -s "$WORK/submitted.txt" "$WORK/submitted_unique.txt" || fail "a SLURM job id was reported twice"
N_SUBMITTED=$(wc -l <"$WORK/submitted.txt")

# what Snakemake ran, per rule: "rule R:" went to the executor, "localrule R:" ran here
grep -E '^(local)?rule [A-Za-z_0-9]+:$' "$WORK/cluster.log" | tr -d ':' |
    sort | uniq -c | awk '{print $3, $1, $2}' | sort >"$WORK/ran.txt"
N_REMOTE=0
N_LOCAL=0
REMOTE_RULES=""
LOCAL_RULES=""
while read -r rule count; do
    remote=$(awk -v r="$rule" '$1 == r && $3 == "rule" {print $2}' "$WORK/ran.txt")
    local_=$(awk -v r="$rule" '$1 == r && $3 == "localrule" {print $2}' "$WORK/ran.txt")
    remote=${remote:-0}
    local_=${local_:-0}
    ((remote + local_ == count)) ||
        fail "rule $rule: the dry run plans $count jobs, the SLURM run ran $remote via SLURM and $local_ locally"
    ((remote == 0 || local_ == 0)) || fail "rule $rule ran partly locally and partly via SLURM"
    if ((remote > 0)); then
        N_REMOTE=$((N_REMOTE + remote))
        REMOTE_RULES+=" $rule($remote)"
    else
        N_LOCAL=$((N_LOCAL + local_))
        LOCAL_RULES+=" $rule($local_)"
    fi
done <"$WORK/expected.txt"
((N_SUBMITTED == N_REMOTE)) ||
    fail "$N_SUBMITTED sbatch submissions for $N_REMOTE jobs not marked local (a retry, or a job run without sbatch)"
[[ "$REMOTE_RULES " == *" train("* ]] || fail "rule train did not go through SLURM"

# SLURM's own view: the same job ids under this run's job name, all COMPLETED, no GPU asked for
squeue --noheader --states=all --name="$RUN_ID" --format='%i|%T' | sort -n >"$WORK/squeue.txt"
cut -d'|' -f1 "$WORK/squeue.txt" | diff -q - "$WORK/submitted.txt" >/dev/null ||
    fail "squeue lists other job ids than Snakemake submitted: $(tr '\n' ' ' <"$WORK/squeue.txt")"
if grep -qv '|COMPLETED$' "$WORK/squeue.txt"; then
    fail "jobs not COMPLETED in SLURM: $(grep -v '|COMPLETED$' "$WORK/squeue.txt" | tr '\n' ' ')"
fi
while read -r id; do
    scontrol show job "$id" >>"$WORK/jobs.txt"
done <"$WORK/submitted.txt"
if grep -iE 'gres/gpu|gpu:|TresPerJob=.*gpu|TresPerNode=.*gpu' "$WORK/jobs.txt" >/dev/null; then
    fail "a job asked for a GPU although device is cpu"
fi
say "via sbatch:$REMOTE_RULES; locally:${LOCAL_RULES:- none}"
say "SLURM job ids: $(tr '\n' ' ' <"$WORK/submitted.txt")"

# ---------------------------------------------------------------- same numbers as the local run
if ! wait "$LOCAL_PID"; then
    fail "the local run failed: $(tail -n 20 "$WORK/local.log")"
fi
# the auto-loaded profiles/default/ (rerun-incomplete only) is fine; any other profile is not
if grep -E 'Using (workflow specific )?profile' "$WORK/local.log" | grep -vq 'profiles/default'; then
    fail "the plain local run loaded a profile other than profiles/default"
fi
if grep -qE 'SLURM|sbatch' "$WORK/local.log"; then
    fail "the plain local run touched SLURM"
fi
cd "$ROOT"
"$PY" "$ROOT/tests/slurm/compare_results.py" "$WORK/cluster" "$WORK/local" ||
    fail "the SLURM run and the local run differ"

say "$N_SUBMITTED jobs submitted via sbatch, results identical to the local run ($((SECONDS - STARTED)) s)"

# ---------------------------------------------------------------- requeue and time limit
# shellcheck source=tests/slurm/faults.sh
source "$ROOT/tests/slurm/faults.sh"

say "done in $((SECONDS - STARTED)) s"
