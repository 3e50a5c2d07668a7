#!/usr/bin/env bash
# Two ranks on one GPU: NCCL refuses a GPU shared by two ranks, so the group reduces over MPI
# (device tensors staged through host memory) and gives the losses of one rank (20 steps, 1e-5
# relative), with the GPU and the MPI backend recorded.
source "$(dirname "$0")/gpu_common.sh"
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES%%,*}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make_task "$tmp" 16 24 4 16
write_recipe "$tmp/r.toml" 16 20 16 "eval_every = 0"
sed -i "1i device = \"$dev\"" "$tmp/r.toml"
u=units/r__sct__s5
"$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/n1" >"$tmp/log1" 2>&1 || { cat "$tmp/log1"; fail "-n 1 run"; }
"$SCT_MPIRUN" 2 "$bin" --threads 1 run "$tmp/r.toml" --out "$tmp/n2" >"$tmp/log2" 2>&1 || { cat "$tmp/log2"; fail "-n 2 run"; }
[ $dev = cpu ] || grep -q "share a GPU" "$tmp/log2" || { cat "$tmp/log2"; fail "the log does not say why NCCL was not used"; }
[ "$(result "$tmp/n2/$u/result.json" world.backend)" = mpi ] || fail "-n 2: backend"
[ "$(result "$tmp/n2/$u/result.json" world.device)" = "$want_device" ] || fail "-n 2: device"
losses_agree "$tmp/n1/$u/metrics.jsonl" "$tmp/n2/$u/metrics.jsonl" 20 1e-5 \
  "one GPU, 20 steps, -n 1 vs -n 2 (MPI)" || fail "losses differ"
cmp -s "$tmp/n1/$u/channels.json" "$tmp/n2/$u/channels.json" || fail "channels differ between -n 1 and -n 2"
finish gpu_shared_mpi
