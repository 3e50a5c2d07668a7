#!/usr/bin/env bash
# srun_without_pmi.sh MPI_TEST_BINARY: an MPI singleton whose SLURM variables say it is one of
# two tasks of an srun step (srun without PMI) must stop at start-up with exit code 2 and say
# how to launch; the same binary inside an sbatch allocation (SLURM_NTASKS set, no step) must
# run normally as a singleton.
set -uo pipefail
bin=$1
fail() { echo "FAIL: $*"; echo "--- output ---"; echo "$out"; exit 1; }

# Start from a clean launcher environment whatever runs this test.
clean=(env)
for v in OMPI_COMM_WORLD_SIZE OMPI_COMM_WORLD_RANK OMPI_COMM_WORLD_LOCAL_SIZE \
         OMPI_COMM_WORLD_LOCAL_RANK PMI_SIZE PMI_RANK PMIX_RANK SLURM_JOB_ID SLURM_STEP_ID \
         SLURM_NTASKS SLURM_PROCID SLURM_LOCALID SLURM_STEP_NUM_TASKS; do
  clean+=(-u "$v")
done

out=$("${clean[@]}" SLURM_JOB_ID=42 SLURM_STEP_ID=0 SLURM_PROCID=1 SLURM_LOCALID=1 \
      SLURM_NTASKS=2 SLURM_STEP_NUM_TASKS=2 "$bin" 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "srun without PMI: exit code $rc, expected 2"
grep -q "without PMI support" <<<"$out" || fail "srun without PMI: no explanation"
grep -q "srun --mpi=pmix" <<<"$out" || fail "srun without PMI: no suggestion"
[ "$(grep -c . <<<"$out")" -le 3 ] || fail "srun without PMI: expected one clear line"

out=$("${clean[@]}" SLURM_JOB_ID=42 SLURM_NTASKS=4 SLURM_PROCID=0 "$bin" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "singleton inside an allocation: exit code $rc, expected 0"
echo "PASS"
