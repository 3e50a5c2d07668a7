#!/usr/bin/env bash
# run_srun.sh: runs sct_dist as one SLURM job step over the tasks of the current allocation
# (inside sbatch or salloc), one MPI rank per task:
#
#   launchers/run_srun.sh run recipes/vtab1k/sweep.toml
#   launchers/run_srun.sh --srun-arg --ntasks=8 run recipes/vtab1k/sweep.toml --task dtd
#
# What it adds to a plain `srun sct_dist ...`:
#   - the MPI plugin: --mpi=pmix (Open MPI 4 talks PMIx), after checking that `srun --mpi=list`
#     offers it; SCT_SRUN_MPI=pmi2 (or any listed type) chooses another;
#   - threads per rank: --threads $SLURM_CPUS_PER_TASK when the job set --cpus-per-task, so the
#     ranks of a node never use more cores than the allocation gave them;
#   - GPU binding: each task sees only the GPU of its local rank (CUDA_VISIBLE_DEVICES), unless
#     SLURM bound one GPU per task already (--gpus-per-task=1) or SCT_GPU_BIND=none;
#   - --kill-on-bad-exit, so a rank that dies takes the step down instead of leaving a hang.
# Options before the sct_dist arguments: --srun-arg ARG (repeatable), --dry (print the command).
# Environment: SCT_DIST (the binary; default <repo>/build/bin/sct_dist, else on the PATH).
#
# The exit status is the step's: 0 ok, 1 a unit failed, 2 bad input, 3 preempted (a stop signal
# reached the ranks; the same command resumes). cluster/*.sbatch requeue the job on 3.
set -euo pipefail

# Task mode: srun started this script once per task; bind the GPU, then become sct_dist.
if [ "${SCT_SRUN_TASK:-0}" = 1 ]; then
  unset SCT_SRUN_TASK
  local_id=${SLURM_LOCALID:-0}
  if [ "${SCT_GPU_BIND:-local}" != none ]; then
    if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
      # A list of several GPUs (e.g. --gres=gpu:4 shared by the node's tasks): keep this task's.
      IFS=, read -r -a gpus <<<"$CUDA_VISIBLE_DEVICES"
      if [ "${#gpus[@]}" -gt 1 ]; then
        export CUDA_VISIBLE_DEVICES=${gpus[$((local_id % ${#gpus[@]}))]}
      fi
    elif command -v nvidia-smi >/dev/null 2>&1; then
      n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
      [ "$n" -gt 0 ] && export CUDA_VISIBLE_DEVICES=$((local_id % n))
    fi
  fi
  exec "$@"
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$repo/launchers/run_srun.sh"
die() { echo "run_srun.sh: $*" >&2; exit 2; }

dry=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --srun-arg) [ $# -ge 2 ] || die "--srun-arg needs a value"; extra+=("$2"); shift 2 ;;
    --dry) dry=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || die "no sct_dist arguments (e.g. run RECIPE); see --help"
command -v srun >/dev/null || die "srun not found: run this inside a SLURM allocation (sbatch, salloc)"
[ -n "${SLURM_JOB_ID:-}" ] || die "not inside a SLURM allocation (SLURM_JOB_ID is unset); use sbatch or salloc, or launchers/run_local.sh"

bin="${SCT_DIST:-$repo/build/bin/sct_dist}"
if [ ! -x "$bin" ]; then
  bin=$(command -v sct_dist) || die "sct_dist not found at $repo/build/bin/sct_dist or on the PATH; build it or set SCT_DIST"
fi

mpi="${SCT_SRUN_MPI:-pmix}"
if [ "$mpi" != none ]; then
  types=$(srun --mpi=list 2>&1 || true)
  # Lines look like "srun: pmix" (older SLURM) or "	pmix" (22.05).
  if ! grep -Eq "(^|[[:space:]:])${mpi}([[:space:]]|\$)" <<<"$types"; then
    die "this SLURM has no '$mpi' MPI plugin (srun --mpi=list: $(tr '\n' ' ' <<<"$types")); set SCT_SRUN_MPI to one it lists, or start the ranks with mpirun inside the allocation"
  fi
fi

args=()
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
  args+=(--threads "$SLURM_CPUS_PER_TASK")
  for a in "$@"; do
    case "$a" in --threads|--threads=*) args=() ;; esac
  done
fi

cmd=(srun "--mpi=$mpi" --kill-on-bad-exit=1 "${extra[@]}" env SCT_SRUN_TASK=1 "$self" "$bin" "${args[@]}" "$@")
if [ "$dry" = 1 ]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
exec "${cmd[@]}"
