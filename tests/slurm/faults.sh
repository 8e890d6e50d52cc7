# Faults a cluster throws at a training job, on the test cluster of run_slurm_test.sh, which
# sources this file once its own checks have passed (it defines WORK, PY, PARTITION, ROOT, RUNS,
# SNAKEMAKE_TIMEOUT, TEST_ARGS, say, fail, copy_repo; its trap stops what is started here).
#
#   requeue     `scontrol requeue` of the running training job, as preemption with
#               PreemptMode=REQUEUE (or an administrator) does: SLURM stops the job with SIGTERM
#               and starts it again under the same job id
#   time limit  the training job's first attempt gets 2 minutes instead of 240; the profile's
#               `--signal=TERM@60` stops it before the limit, Snakemake resubmits it (a retry)
#
# Both run one network, two seeds packed into one job (tests/slurm/faults.yaml), through
# profiles/slurm, beside a local run of the same config; each must log the SIGTERM and the
# resume of its seeds, and end with the local numbers.

FAULT_CONFIG=(--configfile configs/smoke.yaml tests/slurm/faults.yaml)
FAULT_RUN=results/runs/digits/plain-20/seed0
# the two seeds of faults.yaml train packed in one job (jobs.pack_seeds), which logs per net
FAULT_LOG=results/logs/train/digits/plain-20.log
PROFILE_ARGS=(--workflow-profile profiles/slurm
    --default-resources "slurm_partition=$PARTITION" runtime=60 mem_mb=4000)

# (both print nothing rather than fail when there is nothing yet: set -e and pipefail are on)
job_field() { # job_field ID FIELD: one field of `scontrol show job`
    scontrol show job "$1" 2>/dev/null | grep -o "\b$2=[^ ]*" | head -n 1 | cut -d= -f2- || true
}
train_jobs() { # train_jobs LOG: the SLURM job ids of rule train that Snakemake submitted
    { grep -o 'SLURM jobid [0-9]* (log: [^)]*/rule_train/' "$1" || true; } | awk '{print $3}'
}
start_run() { # start_run NAME ARGS...: Snakemake for the fault target in $WORK/NAME
    local name=$1
    shift
    (cd "$WORK/$name" && exec timeout "$SNAKEMAKE_TIMEOUT" "$PY" -m snakemake "$FAULT_RUN/summary.json" \
        "${FAULT_CONFIG[@]}" "$@") >"$WORK/$name.log" 2>&1 &
    RUNS+=($!)
}
check_resumed() { # check_resumed NAME: the SIGTERM in SLURM's job logs, the resume in the rule's log
    # (Snakemake deletes a rule's log before it runs the job again; SLURM's log of each job stays)
    local slurm_logs=("$WORK/$1"/.snakemake/slurm_logs/rule_train/*/*.log) log=$WORK/$1/$FAULT_LOG
    grep -q "SIGTERM received" "${slurm_logs[@]}" || fail "$1: no 'SIGTERM received' in ${slurm_logs[*]}"
    grep -q "resumed from .*checkpoint.pt" "$log" || fail "$1: no 'resumed from' in $log"
    say "$1: $(grep -o 'resumed from .*' "$log")"
}

say "faults: a training job requeued, and one stopped by its time limit (tests/slurm/faults.yaml)"
for name in faults-local requeue timelimit; do copy_repo "$WORK/$name"; done
# the time-limit copy: the project's profile with train's first attempt cut to 2 minutes
sed -i 's/runtime: "240\*attempt"/runtime: "2 if attempt == 1 else 240 * attempt"/' \
    "$WORK/timelimit/profiles/slurm/config.yaml"
grep -q '"2 if attempt == 1' "$WORK/timelimit/profiles/slurm/config.yaml" ||
    fail "could not shorten train's runtime in the time-limit copy of the profile"

start_run faults-local --cores 1
FAULTS_LOCAL_PID=${RUNS[-1]}
start_run requeue "${PROFILE_ARGS[@]}" "${TEST_ARGS[@]}"
REQUEUE_PID=${RUNS[-1]}
start_run timelimit "${PROFILE_ARGS[@]}" "${TEST_ARGS[@]}"
TIMELIMIT_PID=${RUNS[-1]}

# ---------------------------------------------------------------- requeue the running job
# once it runs and has written its first checkpoint (after epoch 1)
for i in $(seq 600); do
    kill -0 "$REQUEUE_PID" 2>/dev/null || fail "requeue: the run ended before its training job was requeued"
    BEFORE=$(train_jobs "$WORK/requeue.log" | head -n 1)
    [[ -n $BEFORE && $(job_field "$BEFORE" JobState) == RUNNING &&
        -s $WORK/requeue/$FAULT_RUN/checkpoint.pt ]] && break
    ((i < 600)) || fail "requeue: no running training job with a checkpoint after 300 s"
    sleep 0.5
done
RESTARTS_BEFORE=$(job_field "$BEFORE" Restarts)
scontrol requeue "$BEFORE" || fail "requeue: scontrol requeue $BEFORE refused"
say "requeue: training job $BEFORE RUNNING (Restarts=$RESTARTS_BEFORE, checkpoint written), scontrol requeue $BEFORE"

wait "$REQUEUE_PID" || fail "requeue: the SLURM run failed (log: $WORK/requeue.log)"
mapfile -t AFTER < <(train_jobs "$WORK/requeue.log")
((${#AFTER[@]} == 1)) || fail "requeue: Snakemake submitted train ${#AFTER[@]} times: ${AFTER[*]}"
[[ ${AFTER[0]} == "$BEFORE" ]] || fail "requeue: train ran as job ${AFTER[0]}, not $BEFORE"
[[ $(job_field "$BEFORE" JobState) == COMPLETED && $(job_field "$BEFORE" Restarts) == 1 ]] ||
    fail "requeue: job $BEFORE is $(job_field "$BEFORE" JobState), Restarts=$(job_field "$BEFORE" Restarts)"
say "requeue: job id before $BEFORE, after ${AFTER[0]} (same id, Restarts=1, COMPLETED);" \
    "Snakemake submitted train once"
check_resumed requeue

# ---------------------------------------------------------------- time limit
wait "$TIMELIMIT_PID" || fail "time limit: the SLURM run failed (log: $WORK/timelimit.log)"
mapfile -t JOBS < <(train_jobs "$WORK/timelimit.log")
((${#JOBS[@]} == 2)) || fail "time limit: expected 2 submissions of train, got ${#JOBS[@]}: ${JOBS[*]}"
# FAILED (exit status 143 via Snakemake), not TIMEOUT: the signal came before the limit
first=""
second=""
for field in JobState TimeLimit RunTime; do
    first+=" $field=$(job_field "${JOBS[0]}" "$field")"
    second+=" $field=$(job_field "${JOBS[1]}" "$field")"
done
[[ $first == " JobState=FAILED TimeLimit=00:02:00 "* ]] ||
    fail "time limit: the first training job should have stopped before its limit:$first"
[[ $second == " JobState=COMPLETED TimeLimit=08:00:00 "* ]] ||
    fail "time limit: the resubmitted training job:$second"
say "time limit: job ${JOBS[0]}$first; resubmitted as job ${JOBS[1]}$second"
check_resumed timelimit

# ---------------------------------------------------------------- same numbers as the local run
wait "$FAULTS_LOCAL_PID" || fail "the local run of faults.yaml failed: $(tail -n 20 "$WORK/faults-local.log")"
last_epoch() { # last_epoch METRICS_CSV: the last row's epoch and test error
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "test_err") c = i} END {print "epoch", $1, "test_err", $c}' "$1"
}
for name in requeue timelimit; do
    say "$name against the uninterrupted local run:"
    "$PY" "$ROOT/tests/slurm/compare_results.py" "$WORK/$name" "$WORK/faults-local" \
        "$FAULT_RUN/metrics.csv" "$FAULT_RUN/trace.csv" ||
        fail "$name: the results differ from the local run"
    say "  $name: $(last_epoch "$WORK/$name/$FAULT_RUN/metrics.csv");" \
        "local: $(last_epoch "$WORK/faults-local/$FAULT_RUN/metrics.csv")"
done
