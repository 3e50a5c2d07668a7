#!/usr/bin/env bash
# setup.sh: installs the Debian packages sct_dist needs (when missing) and builds it in Release.
# Idempotent: a second run installs nothing and rebuilds only what changed.
#   SCT_BUILD_DIR   build directory (default: <repo>/build)
#   SCT_SKIP_BUILD  set to 1 to only install packages
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SCT_BUILD_DIR:-$repo/build}"

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp          # LibTorch 1.13 (CPU) and a fast BLAS for it
  libopenmpi-dev openmpi-bin                # MPI
  libhdf5-dev hdf5-tools                    # task datasets
  libfmt-dev libtomlplusplus-dev libgtest-dev nlohmann-json3-dev libzip-dev libstb-dev zlib1g-dev
  libcli11-dev                              # command-line parsing
  python3 python3-numpy python3-pil python3-h5py  # independent NumPy/Pillow references in tests
  clang libclang-rt-14-dev                  # libFuzzer for the parser fuzz tests
  chromium                                  # renders the HTML report in its test
  slurm-wlm                                 # a one-node SLURM for the cluster-script tests
  dataset-fashion-mnist                     # real images for the default benchmark
)

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "setup: installing with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages. As root, run:" >&2
    echo "  sudo $line" >&2
    echo "then run $0 again." >&2
    exit 1
  fi
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi

# LibTorch calls whichever libblas.so.3 the alternatives system points at; make it OpenBLAS.
blas_alt=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$blas_alt" ] && [ "$(id -u)" = 0 ]; then
  update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas_alt" >/dev/null 2>&1 || true
  update-alternatives --set liblapack.so.3-x86_64-linux-gnu \
    /usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3 >/dev/null 2>&1 || true
fi

[ "${SCT_SKIP_BUILD:-0}" = 1 ] && exit 0

start=$(date +%s)
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${SCT_CMAKE_ARGS:-} | grep -E "^-- (Build type|LibTorch|NCCL|NumPy|Tests|Fuzz|HDF5|[A-Za-z ]+: )" || true
cmake --build "$build" -j "$(nproc)"
echo "setup: build finished in $(( $(date +%s) - start )) s; binaries in $build/bin"
