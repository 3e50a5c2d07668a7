#!/usr/bin/env bash
# The SLURM scripts on a real single-node SLURM started here (munged, slurmctld, slurmd in a
# temporary directory, random ports; root only). cluster/sweep.sbatch: a stop signal to the job
# step during training -> exit code 3 -> the script requeues the job -> the second start resumes
# and finishes, both starts appended to one log. cluster/array.sbatch: one element per task in
# its own run directory, a preempted element requeues and finishes, cluster/merge_array.sh joins
# them. Exits 77 (skipped) when SLURM is not installed or this is not root.
set -uo pipefail
skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "starting slurmctld/slurmd needs root"
for p in munged slurmctld slurmd sbatch srun scontrol scancel squeue sinfo; do
  command -v $p >/dev/null || skip "$p not found (Debian: apt-get install slurm-wlm munge)"
done
tmp=$(mktemp -d)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
jobs_started=()
cleanup() {
  if [ $fails != 0 ]; then
    echo "--- SLURM logs"; tail -n 15 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log"
  fi
  for j in "${jobs_started[@]}"; do scancel "$j" 2>/dev/null; done
  # SCT_KEEP_TMP=1 keeps the cluster and its files for a look (stop it with the kills below).
  if [ "${SCT_KEEP_TMP:-0}" = 1 ]; then echo "kept $tmp; SLURM_CONF=$tmp/slurm.conf"; return; fi
  for f in slurmd slurmctld; do [ -f "$tmp/$f.pid" ] && kill "$(cat "$tmp/$f.pid")" 2>/dev/null; done
  sleep 1
  [ -f "$tmp/munge/munged.pid" ] && kill "$(cat "$tmp/munge/munged.pid")" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- a one-node cluster ----------------------------------------------------------------------
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/data"
chmod 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 600 "$tmp/munge/munge.key"
munged -f --socket="$tmp/munge/sock" --key-file="$tmp/munge/munge.key" --log-file="$tmp/log/munged.log" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/seed" || { echo "FAIL: munged did not start"; exit 1; }
port=$((20000 + RANDOM % 20000))
node=$(hostname -s)
cat >"$tmp/slurm.conf" <<CONF
ClusterName=scttest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/sock
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" || { echo "FAIL: slurmctld/slurmd did not start"; exit 1; }
for i in $(seq 60); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.5; done
if [ "$(sinfo -h -o %t 2>/dev/null)" != idle ]; then
  echo "FAIL: the node did not become idle"; tail -5 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log"; exit 1
fi
srun --mpi=list 2>&1 | grep -qw pmix || skip "this SLURM has no pmix MPI plugin (Open MPI 4 needs it under srun)"

# --- data: the example sweep's tasks, large enough that a signal lands during training ----------
tool="$SCT_BUILD/bin/sct_data"
"$tool" synth --output "$tmp/data/synth_a.h5" --task synth_a --classes 4 --size 16 --split train=1024 --split test=128 --seed 1 >/dev/null &&
"$tool" synth --output "$tmp/data/synth_b.h5" --task synth_b --classes 6 --size 16 --split train=512 --split test=128 --seed 2 >/dev/null &&
"$tool" synth --output "$tmp/data/synth_c.h5" --task synth_c --classes 3 --size 16 --split train=256 --split test=96 --seed 3 >/dev/null ||
  { echo "FAIL: sct_data synth"; exit 1; }
recipe=recipes/examples/sweep.toml
export SCT_DIST="$SCT_BUILD/bin/sct_dist" SCT_DATA="$tmp/data" SCT_REPO="$SCT_SRC"

state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
restarts() { scontrol show job "$1" 2>/dev/null | grep -o 'Restarts=[0-9]*' | head -1 | cut -d= -f2; }
# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
  local n=$(( $1 * 5 )); shift
  for _ in $(seq $n); do "$@" && return 0; sleep 0.2; done
  return 1
}
has_metrics() { compgen -G "$1/units/*/metrics.jsonl" >/dev/null && [ -n "$(cat $1/units/*/metrics.jsonl)" ]; }
is_state() { [ "$(state "$1")" = "$2" ]; }
requeued() { [ "$(restarts "$1")" = 1 ] && is_state "$1" PENDING; }
# A requeued batch job becomes eligible only after SLURM's requeue delay (about two minutes);
# the test shortens it, but only once the first start's step daemons are gone (a new step with
# the same id fails to launch before that) and 2 s after that (slurmd refuses a credential
# issued within the second of the previous one's revocation: "Job credential revoked").
stepd_gone() { ! grep -qs "slurmstepd: \[$1\." /proc/[0-9]*/cmdline; }
start_now() {
  local id; id=$(scontrol show job "$1" | grep -o 'JobId=[0-9]*' | head -1 | cut -d= -f2)
  wait_until 60 stepd_gone "$id" || echo "note: slurmstepd of job $id still running"
  sleep 2
  scontrol update JobId="$1" StartTime=now
}

# --- 1. the packed sweep: signal, exit 3, requeue, resume --------------------------------------
# Both ranks form one group here; preemption with several groups is cluster_preempt's subject.
cd "$SCT_SRC" || exit 1
job=$(sbatch --parsable --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-task=0 --time=10 \
  --output="$tmp/%x-%j.log" cluster/sweep.sbatch $recipe --set train.epochs=8 --set sweep.ranks_per_task=2 \
  --out "$tmp/packed") || { echo "FAIL: sbatch cluster/sweep.sbatch"; exit 1; }
jobs_started+=("$job")
log="$tmp/sct-sweep-$job.log"
if wait_until 120 has_metrics "$tmp/packed"; then
  # What --signal=USR1@T does T seconds before the time limit: USR1 to the tasks of every step.
  scancel --signal=USR1 "$job"
else
  fail "packed: no training started within 120 s"; cat "$log"
fi
wait_until 120 requeued "$job" && start_now "$job" || fail "packed: the job was not requeued (state $(state "$job"), restarts $(restarts "$job"))"
wait_until 180 is_state "$job" COMPLETED || fail "packed: the job did not complete (state $(state "$job"))"
grep -q "sweep.sbatch: job $job, start 1," "$log" || fail "packed: log lacks the first start"
grep -q "sweep.sbatch: sct_dist exit code 3" "$log" || fail "packed: log lacks exit code 3 after the signal"
grep -q "sweep.sbatch: preempted; requeueing job $job" "$log" || fail "packed: log lacks the requeue"
grep -q "sweep.sbatch: job $job, start 2," "$log" || fail "packed: log lacks the second start (not appended?)"
grep -q "sweep.sbatch: sct_dist exit code 0" "$log" || fail "packed: log lacks exit code 0 of the resumed run"
n=$(ls "$tmp"/packed/units/*/result.json 2>/dev/null | wc -l)
[ "$n" = 6 ] || fail "packed: $n of 6 results"
grep -lq '"resumed": *true' "$tmp"/packed/units/*/result.json || fail "packed: no unit records a resume"
[ $fails = 0 ] || { echo "--- $log"; cat "$log"; }

# --- 2. the job array: one element per task, one of them preempted; then the merge -------------
"$SCT_SRC/cluster/tasks_of.sh" $recipe >"$tmp/tasks.txt" || fail "tasks_of.sh"
[ "$(tr '\n' ' ' <"$tmp/tasks.txt")" = "synth_a synth_b synth_c " ] || fail "tasks_of.sh: '$(tr '\n' ' ' <"$tmp/tasks.txt")'"
export SCT_ARRAY_DIR="$tmp/array"
arr=$(sbatch --parsable --array=0-2 --ntasks=1 --cpus-per-task=1 --gpus-per-task=0 --time=10 \
  --output="$tmp/%x-%A_%a.log" cluster/array.sbatch $recipe "$tmp/tasks.txt" --set train.epochs=8) ||
  { echo "FAIL: sbatch cluster/array.sbatch"; exit 1; }
jobs_started+=("$arr")
if wait_until 120 has_metrics "$tmp/array/synth_a"; then
  scancel --signal=USR1 "${arr}_0"
else
  fail "array: element 0 did not start training within 120 s"
fi
wait_until 120 requeued "${arr}_0" && start_now "${arr}_0" || fail "array: element 0 was not requeued"
all_done() { [ -z "$(squeue -h -j "$arr" 2>/dev/null)" ]; }
wait_until 240 all_done || fail "array: elements still queued or running: $(squeue -h -j "$arr")"
for i in 0 1 2; do
  [ "$(state "${arr}_$i")" = COMPLETED ] || fail "array: element $i ended $(state "${arr}_$i")"
done
a0="$tmp/sct-array-${arr}_0.log"
grep -q "sct_dist exit code 3" "$a0" && grep -q "start 2," "$a0" && grep -q "sct_dist exit code 0" "$a0" ||
  { fail "array: element 0's log does not show stop, requeue and resume"; cat "$a0"; }
for t in synth_a synth_b synth_c; do
  [ "$(ls "$tmp/array/$t"/units/*/result.json 2>/dev/null | wc -l)" = 2 ] || fail "array: $t lacks its 2 results"
  [ -f "$tmp/array/$t/provenance.json" ] || fail "array: $t has no provenance.json of its own"
done
"$SCT_SRC/cluster/merge_array.sh" "$tmp/array" >"$tmp/merge.out" 2>&1 || { fail "merge_array.sh"; cat "$tmp/merge.out"; }
grep -q "6 finished units: 3 tasks" "$tmp/array/merged/summary.txt" || { fail "merged summary"; cat "$tmp/merge.out"; }

if [ $fails != 0 ]; then for f in "$tmp"/sct-array-*.log; do echo "--- $f"; grep -v " train\] epoch" "$f"; done; fi
if [ $fails = 0 ]; then echo "cluster_slurm: all checks passed"; else echo "cluster_slurm: $fails failures"; exit 1; fi
