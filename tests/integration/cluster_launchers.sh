#!/usr/bin/env bash
# The launchers' decisions, without MPI or SLURM running: run_srun.sh's GPU binding per local
# rank and its srun command (MPI plugin check, threads from --cpus-per-task), run_local.sh's
# mpirun flags. Fake nvidia-smi and srun on the PATH stand in for the real ones.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
srun_sh="$SCT_SRC/launchers/run_srun.sh"
local_sh="$SCT_SRC/launchers/run_local.sh"
mkdir -p "$tmp/gpu4" "$tmp/slurm" "$tmp/slurm_nopmix" "$tmp/empty"
printf '#!/bin/sh\n[ "$1" = -L ] && for i in 0 1 2 3; do echo "GPU $i: NVIDIA H100 (UUID: GPU-$i)"; done\n' >"$tmp/gpu4/nvidia-smi"
printf '#!/bin/sh\n[ "$1" = --mpi=list ] && printf "MPI plugin types are...\\n\\tpmix\\n\\tnone\\n\\tpmi2\\n"\n' >"$tmp/slurm/srun"
printf '#!/bin/sh\n[ "$1" = --mpi=list ] && printf "MPI plugin types are...\\n\\tnone\\n\\tpmi2\\n"\n' >"$tmp/slurm_nopmix/srun"
chmod +x "$tmp"/*/*
base=/usr/bin:/bin

# bind PATH_PREFIX [VAR=value...]: the CUDA_VISIBLE_DEVICES a task of run_srun.sh ends up with.
bind() {
  local dir=$1; shift
  env -i PATH="$dir:$base" SCT_SRUN_TASK=1 "$@" bash "$srun_sh" sh -c 'echo "${CUDA_VISIBLE_DEVICES-unset}"'
}
[ "$(bind "$tmp/gpu4" SLURM_LOCALID=5)" = 1 ] || fail "4 GPUs, local rank 5: want GPU 1, got $(bind "$tmp/gpu4" SLURM_LOCALID=5)"
[ "$(bind "$tmp/gpu4" SLURM_LOCALID=2)" = 2 ] || fail "4 GPUs, local rank 2: want GPU 2"
[ "$(bind "$tmp/empty" SLURM_LOCALID=1 CUDA_VISIBLE_DEVICES=3,5,7)" = 5 ] || fail "list 3,5,7, local rank 1: want 5"
[ "$(bind "$tmp/empty" SLURM_LOCALID=4 CUDA_VISIBLE_DEVICES=3,5,7)" = 5 ] || fail "list 3,5,7, local rank 4: want 5 (4 mod 3 = 1)"
[ "$(bind "$tmp/gpu4" SLURM_LOCALID=1 CUDA_VISIBLE_DEVICES=2)" = 2 ] || fail "one GPU bound by SLURM: must be kept"
[ "$(bind "$tmp/gpu4" SLURM_LOCALID=1 CUDA_VISIBLE_DEVICES=0,1 SCT_GPU_BIND=none)" = 0,1 ] || fail "SCT_GPU_BIND=none must leave the list"
[ "$(bind "$tmp/empty" SLURM_LOCALID=1)" = unset ] || fail "no GPU: CUDA_VISIBLE_DEVICES must stay unset"

# The srun command line.
cmd() { env -i PATH="$1:$base" SLURM_JOB_ID=1 "${@:2}" SCT_DIST=/bin/true bash "$srun_sh" --dry run r.toml; }
out=$(cmd "$tmp/slurm" SLURM_CPUS_PER_TASK=6)
case "$out" in *"srun --mpi=pmix --kill-on-bad-exit=1 env SCT_SRUN_TASK=1 "*"run_srun.sh /bin/true --threads 6 run r.toml"*) ;;
  *) fail "srun command: $out" ;; esac
out=$(cmd "$tmp/slurm")
case "$out" in *"--threads"*) fail "no --cpus-per-task: no --threads expected: $out" ;; esac
out=$(cmd "$tmp/slurm" SCT_SRUN_MPI=pmi2)
case "$out" in *"--mpi=pmi2 "*) ;; *) fail "SCT_SRUN_MPI=pmi2: $out" ;; esac
if cmd "$tmp/slurm_nopmix" >"$tmp/out" 2>&1; then fail "no pmix plugin: expected a refusal"
else grep -q "no 'pmix' MPI plugin" "$tmp/out" || fail "no pmix plugin: message '$(cat "$tmp/out")'"; fi
env -i PATH="$tmp/slurm:$base" SCT_DIST=/bin/true bash "$srun_sh" run r.toml >"$tmp/out" 2>&1 &&
  fail "outside an allocation: expected a refusal"
grep -q "not inside a SLURM allocation" "$tmp/out" || fail "outside an allocation: '$(cat "$tmp/out")'"

# run_local.sh's mpirun flags.
lcmd() { SCT_DIST=/bin/true MPIRUN=true bash "$local_sh" --dry "$@"; }
cores=$(nproc)
out=$(lcmd -n $((cores + 1)) run r.toml)
case "$out" in *"--oversubscribe"*"/bin/true --threads 1 run r.toml"*) ;; *) fail "more ranks than cores: $out" ;; esac
out=$(lcmd -n 1 run r.toml)
case "$out" in *"--oversubscribe"*) fail "1 rank: no --oversubscribe expected: $out" ;; esac
case "$out" in *"--threads $cores run"*) ;; *) fail "1 rank on $cores cores: want --threads $cores: $out" ;; esac
if [ "$(id -u)" = 0 ]; then case "$out" in *--allow-run-as-root*) ;; *) fail "root: --allow-run-as-root missing" ;; esac; fi
out=$(lcmd -n 1 --threads 3 run r.toml)
case "$out" in *"/bin/true --threads 3 run"*) ;; *) fail "--threads 3: $out" ;; esac
out=$(lcmd -n 1 --threads=2 run r.toml)
case "$out" in *"/bin/true --threads=2 run"*) ;; *) fail "user's --threads=2 must be the only one: $out" ;; esac

if [ $fails = 0 ]; then echo "cluster_launchers: all checks passed"; else echo "cluster_launchers: $fails failures"; exit 1; fi
