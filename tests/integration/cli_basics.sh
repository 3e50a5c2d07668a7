#!/usr/bin/env bash
# The sct_dist binary as a user meets it: help, version, dry runs at -n 1 and -n 2, and every
# kind of bad recipe failing with exit code 2 and the same single line at any world size.
set -uo pipefail
bin="$SCT_BUILD/bin/sct_dist"
recipes="$SCT_SRC/tests/integration/recipes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_error NAME EXPECTED_LINE CMD...: exit code 2, stderr is exactly the one expected line,
# identically for 1 process and under mpiexec -n 2.
expect_error() {
  local name=$1 expected=$2
  shift 2
  for np in 1 2; do
    local rc
    if [ $np = 1 ]; then
      timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    else
      SCT_MPI_QUIET=1 SCT_MPI_TIMEOUT=60 "$SCT_MPIRUN" 2 "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    fi
    [ $rc = 2 ] || fail "$name (-n $np): exit code $rc, expected 2"
    local lines; lines=$(wc -l <"$tmp/err")
    [ "$lines" = 1 ] || { fail "$name (-n $np): $lines lines on stderr, expected 1"; cat "$tmp/err"; }
    grep -qxF "sct_dist: error: $expected" "$tmp/err" ||
      { fail "$name (-n $np): got '$(cat "$tmp/err")', expected 'sct_dist: error: $expected'"; }
  done
}

"$bin" --help | grep -q "run RECIPE\|run  " || fail "--help does not list run"
"$bin" --version >"$tmp/v" || fail "--version exit code"
for want in "sct_dist " "LibTorch " "BLAS: " "MPI: " "NCCL: "; do
  grep -q "^$want" "$tmp/v" || fail "--version lacks '$want'"
done
grep -q "git " "$tmp/v" || fail "--version lacks the git revision"

# Dry run: resolved recipe and plan, on 1 and 2 ranks.
for np in 1 2; do
  if [ $np = 1 ]; then "$bin" run "$recipes/tiny.toml" --dry-run --set train.lr=0.5 >"$tmp/dry" 2>&1
  else "$SCT_MPIRUN" 2 "$bin" run "$recipes/tiny.toml" --dry-run --set train.lr=0.5 >"$tmp/dry" 2>&1; fi
  [ $? = 0 ] || { fail "dry run -n $np failed"; cat "$tmp/dry"; }
  grep -q "^lr = 0.5$" "$tmp/dry" || fail "dry run -n $np: resolved recipe lacks the --set value"
  grep -q "^seed = 7$" "$tmp/dry" || fail "dry run -n $np: resolved recipe lacks the leaf value"
  grep -q "^dim = 32$" "$tmp/dry" || fail "dry run -n $np: resolved recipe lacks the base value"
  grep -q "world: $np rank" "$tmp/dry" || fail "dry run -n $np: plan lacks the world size"
  grep -q "plan:" "$tmp/dry" || fail "dry run -n $np: no plan"
  [ "$(grep -c '^\[model\]' "$tmp/dry")" = 1 ] || fail "dry run -n $np: resolved recipe printed more than once"
done

# Bad recipes.
printf 'seed = 1\n[train\nlr = 1\n' >"$tmp/malformed.toml"
expect_error malformed "$tmp/malformed.toml:2: malformed TOML: $(
  "$bin" run "$tmp/malformed.toml" 2>&1 | sed -n 's/.*malformed TOML: //p')" run "$tmp/malformed.toml"
printf 'extends = "%s"\n[train]\nweight_decy = 1\n' "$recipes/tiny.toml" >"$tmp/unknown.toml"
expect_error unknown-key "$tmp/unknown.toml:3: unknown key 'train.weight_decy' (did you mean 'train.weight_decay'?)" \
  run "$tmp/unknown.toml"
printf '[train]\nepochs = "ten"\n' >"$tmp/type.toml"
expect_error wrong-type "$tmp/type.toml:2: key 'train.epochs' expects an integer, found a string" run "$tmp/type.toml"
printf 'extends = "absent.toml"\n' >"$tmp/missing.toml"
expect_error missing-extends "$tmp/missing.toml:1: key 'extends': file '$tmp/absent.toml' not found" \
  run "$tmp/missing.toml"
printf 'extends = "cyc2.toml"\n' >"$tmp/cyc1.toml"
printf 'extends = "cyc1.toml"\n' >"$tmp/cyc2.toml"
expect_error cyclic-extends "$tmp/cyc2.toml:1: key 'extends': cycle: $tmp/cyc1.toml -> $tmp/cyc2.toml -> $tmp/cyc1.toml" \
  run "$tmp/cyc1.toml"
expect_error bad-set "--set train.lr: expected key=value (e.g. --set train.lr=0.01)" \
  run "$recipes/tiny.toml" --set train.lr
expect_error bad-set-key "--set train.lrr=1: unknown key 'train.lrr' (did you mean 'train.lr'?)" \
  run "$recipes/tiny.toml" --set train.lrr=1
expect_error missing-recipe "$tmp/nope.toml: recipe file not found" run "$tmp/nope.toml"
expect_error unknown-command "unknown command 'rnu' (did you mean 'run'?); see sct_dist --help" rnu
expect_error unknown-option "run: unknown option '--dryrun' (see sct_dist run --help)" \
  run "$recipes/tiny.toml" --dryrun

# A global batch that does not divide by the ranks is refused before any work.
SCT_MPI_QUIET=1 "$SCT_MPIRUN" 3 "$bin" run "$recipes/tiny.toml" --dry-run --set train.batch_size=8 \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 2 ] || fail "batch 8 on 3 ranks: exit $rc"
grep -q "key 'train.batch_size' = 8 does not divide by the 3 ranks" "$tmp/err" || { fail "batch check message"; cat "$tmp/err"; }

if [ $fails = 0 ]; then echo "cli_basics: all checks passed"; else echo "cli_basics: $fails failures"; exit 1; fi
