#!/usr/bin/env bash
# demo.sh: the main job on a fresh machine, end to end on real images.
#   1. set-up: Debian packages and the Release build (launchers/setup.sh);
#   2. the Fashion-MNIST benchmark: a pre-training set and six VTAB-style tasks (sct_data fmnist-bench);
#   3. pre-training of a small ViT from scratch on the upstream classes (recipes/fmnist/pretrain.toml);
#   4. the sweep: SCT, linear probing and full fine-tuning on every task, 3 seeds, 2 MPI ranks
#      (recipes/fmnist/sweep.toml), ending in the results table (mean ± std over the seeds).
# Idempotent: a second run keeps the data, the checkpoint and the finished units, and prints the
# table again. See recipes/fmnist/README.md.
#
# Options:
#   --baselines          5. then the PEFT baselines (LoRA, Adapter; recipes/fmnist/sweep_baselines.toml)
#                        from the same checkpoint, with their own run directory and table
#
# Environment:
#   SCT_BUILD_DIR        build directory (default <repo>/build)
#   SCT_FMNIST_DATA      benchmark task files (default data/fmnist)
#   SCT_FMNIST_CKPT      pre-trained checkpoint (default runs/fmnist_vit.safetensors)
#   SCT_FMNIST_RUNS      run directories (default runs)
#   SCT_DEMO_RANKS       MPI ranks (default 2)
#   SCT_DEMO_SKIP_SETUP  1: use the existing build, install and build nothing
#   SCT_DEMO_QUICK       1: a reduced pipeline (fewer images, 2 epochs) for tests; not a benchmark
set -euo pipefail
baselines=0
for arg in "$@"; do
  case "$arg" in
    --baselines) baselines=1 ;;
    *) echo "demo: unknown option '$arg' (options: --baselines)" >&2; exit 2 ;;
  esac
done
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export SCT_BUILD_DIR="${SCT_BUILD_DIR:-$repo/build}"
export SCT_FMNIST_DATA="${SCT_FMNIST_DATA:-data/fmnist}"
export SCT_FMNIST_CKPT="${SCT_FMNIST_CKPT:-runs/fmnist_vit.safetensors}"
export SCT_FMNIST_RUNS="${SCT_FMNIST_RUNS:-runs}"
ranks="${SCT_DEMO_RANKS:-2}"
quick="${SCT_DEMO_QUICK:-0}"

now() { date +%s; }
say() { echo "demo: $*"; }

t_start=$(now)
if [ "${SCT_DEMO_SKIP_SETUP:-0}" != 1 ]; then
  "$repo/launchers/setup.sh"
fi
t_setup=$(now)

bin="$SCT_BUILD_DIR/bin"
for exe in sct_dist sct_data; do
  [ -x "$bin/$exe" ] || { echo "demo: $bin/$exe is missing; run launchers/setup.sh" >&2; exit 1; }
done

# The reduced pipeline of the integration test: same commands, far fewer images and epochs.
bench_args=() pretrain_sets=() sweep_sets=()
if [ "$quick" = 1 ]; then
  bench_args=(--upstream-per-class 300 --upstream-test 100 --train 80 --val 20 --test 100)
  pretrain_sets=(--set train.epochs=2 --set train.eval_every=1)
  sweep_sets=(--set train.epochs=2 --set train.warmup_epochs=1 --set train.eval_every=1
              --set 'task.train_split="train80val20"')
fi

# 2 ranks with cores/ranks threads each (1 on a 2-core machine); no core binding, so ranks
# share the machine fairly with whatever else runs on it.
run_mpi() {
  SCT_DIST="$bin/sct_dist" "$repo/launchers/run_local.sh" -n "$ranks" \
    --mpirun-arg --bind-to --mpirun-arg none "$@"
}

# 2. Benchmark data: sct_data keeps every file whose provenance matches, so this is a check
# when the files are there.
say "benchmark data in $SCT_FMNIST_DATA"
mkdir -p "$SCT_FMNIST_DATA"
log="$SCT_FMNIST_DATA/fmnist-bench.log"
if ! "$bin/sct_data" fmnist-bench --output-dir "$SCT_FMNIST_DATA" "${bench_args[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
grep -v " images, " "$log"  # the per-file lines, without the progress lines
t_data=$(now)

# 3. Pre-training, unless the checkpoint is there.
pretrain_dir="$SCT_FMNIST_RUNS/fmnist_pretrain"
sweep_dir="$SCT_FMNIST_RUNS/fmnist_sweep"
baselines_dir="$SCT_FMNIST_RUNS/fmnist_baselines"
if [ -f "$SCT_FMNIST_CKPT" ]; then
  say "pre-trained checkpoint $SCT_FMNIST_CKPT found; reusing it"
else
  # A finished pre-training whose export is gone would be skipped by the resume logic: start over.
  # An interrupted one resumes from its last checkpoint.
  if [ -f "$pretrain_dir/units/fm_upstream__full__s0/result.json" ]; then
    say "$SCT_FMNIST_CKPT is missing; pre-training again"
    rm -rf "$pretrain_dir"
  fi
  # Sweep results trained from an earlier checkpoint would no longer match it.
  for dir in "$sweep_dir" "$baselines_dir"; do
    if [ -d "$dir/units" ]; then
      say "new checkpoint: removing the sweep results of the previous one ($dir)"
      rm -rf "$dir"
    fi
  done
  say "pre-training (recipes/fmnist/pretrain.toml) on $ranks ranks"
  run_mpi run recipes/fmnist/pretrain.toml "${pretrain_sets[@]}"
  [ -f "$SCT_FMNIST_CKPT" ] || { echo "demo: pre-training wrote no $SCT_FMNIST_CKPT" >&2; exit 1; }
fi
t_pretrain=$(now)

# 4. The sweep: every method with its own settings ([sweep.method.*]), the table at the end.
# Finished units are skipped.
mkdir -p "$SCT_FMNIST_RUNS"
say "sweep (recipes/fmnist/sweep.toml) on $ranks ranks"
run_mpi run recipes/fmnist/sweep.toml "${sweep_sets[@]}"
t_sweep=$(now)

# 5. With --baselines: LoRA and Adapter on the same tasks and seeds, their own table.
if [ "$baselines" = 1 ]; then
  say "baselines (recipes/fmnist/sweep_baselines.toml) on $ranks ranks"
  run_mpi run recipes/fmnist/sweep_baselines.toml "${sweep_sets[@]}"
fi

say "times: set-up $((t_setup - t_start)) s; run $((t_sweep - t_setup)) s =" \
    "data $((t_data - t_setup)) s + pre-training $((t_pretrain - t_data)) s + sweep $((t_sweep - t_pretrain)) s"
say "results: $sweep_dir (sct_dist report $sweep_dir --format md|csv|html)"
if [ "$baselines" = 1 ]; then
  say "baselines: $baselines_dir (sct_dist report $baselines_dir --format md|csv|html)"
fi
