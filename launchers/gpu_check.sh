#!/usr/bin/env bash
# gpu_check.sh OUTDIR: builds sct_dist on a machine that has a compiler, CMake, ninja and
# (ideally) a CUDA PyTorch, but none of the project's other development packages and no
# package registry, from the Debian packages that launchers/gpu_bundle.sh gathered; then runs
# the GPU tests and the GPU benchmark. Also runs on the Debian machine the bundle was made on,
# as a rehearsal (see SCT_GPU_CHECK_HIDE_SYSTEM below).
#
# Usage:  launchers/gpu_check.sh OUTDIR
#
# Steps (each one a phase, timed; OUTDIR/gpu_check.json records them):
#   env        machine summary: OS, glibc, cores, GPUs (nvidia-smi -L), compilers, PyTorch
#   unpack     checks the bundle's SHA256SUMS, unpacks every .deb with `dpkg -x` into the
#              prefix and makes it work there: soname links, the Open MPI tool links that
#              update-alternatives would make, .pc / CMake config / PMIx paths rewritten into
#              the prefix; fallback libraries linked in only where the machine lacks them
#   mpi        `mpiexec -n 2 hostname` from the prefix, through tests/tools/mpirun.sh
#   configure  Release, Ninja, in the build dir, with SCT_BUILD_TESTS=ON SCT_BUILD_BENCH=ON,
#              CMAKE_PREFIX_PATH and the HDF5/MPI hints pointing into the prefix; LibTorch from
#              python3's torch when that torch has CUDA (else the system's, with no hint);
#              NCCL from the nvidia-nccl Python package when present; ccache when present
#   cache      CMakeCache.txt: HDF5, MPI, fmt, TOML++, nlohmann-json, CLI11, GTest, libzip, stb
#              and libjpeg must resolve into the prefix, never /usr/include or /usr/lib
#   build      cmake --build with all cores
#   ldd        build/bin/sct_dist takes libhdf5, libmpi, libfmt, libzip from the prefix, and no
#              binary in build/bin has a library "not found"
#   test       ctest -L gpu --output-on-failure ("No tests were found" is a note, not a failure)
#   bench      launchers/bench_gpu.sh OUTDIR, when it exists and is executable
# Writes OUTDIR/gpu_check.log (everything) and OUTDIR/gpu_check.json (phase -> {rc, seconds},
# torch version, CUDA availability, GPU name, ctest counts); per-phase logs go to
# BUILD/gpu_check_logs/. Exits non-zero when unpack, mpi, configure, cache, build or ldd fails,
# or a gpu test fails (the bench's status is recorded, not judged).
#
# Needs: bash, coreutils (timeout), dpkg-deb or binutils' ar + tar, readelf, ldconfig, cmake
# (3.20+), ninja, a C and C++ compiler, and the bundle (launchers/gpu_bundle.sh, run on Debian 12).
#
# Environment (all optional):
#   SCT_GPU_BUNDLE          the bundle (default <repo>/.gpu_bundle)
#   SCT_GPU_PREFIX          where it is unpacked (default <repo>/.gpu_prefix; reused while the
#                           bundle is unchanged)
#   SCT_GPU_BUILD_DIR       the build dir (default <repo>/build-gpu)
#   SCT_GPU_CHECK_BUDGET    seconds for the whole run (default 480); every phase's timeout is
#                           cut to what is left of it
#   SCT_GPU_TIMEOUT_CONFIGURE, _BUILD, _TEST, _BENCH   per-phase caps (180, 420, 240, 300 s)
#   SCT_GPU_JOBS            build jobs (default: nproc)
#   SCT_GPU_BUILD_TARGETS   the targets to build (space-separated; default: what the gpu tests
#                           and the bench run: sct_dist sct_data_cli gpu_tests bench_train; "all":
#                           everything, the whole test suite included)
#   SCT_GPU_CMAKE_ARGS      extra configure arguments
#   SCT_GPU_CHECK_UNTIL     stop after this phase (e.g. cache: unpack and configure only)
#   SCT_GPU_CHECK_HIDE_SYSTEM=1   rehearsal on a machine that has the packages installed:
#                           runs in a private mount namespace (root, unshare) where the
#                           system's copies of the bundle's primary packages are hidden, so
#                           anything that still reached for them fails
# (the phases are functions called through phase_fn/phase_cmd, which shellcheck cannot follow)
# shellcheck disable=SC2317
set -euo pipefail

if [ $# -lt 1 ] || [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '/^# (the phases/,$d; s/^# \{0,1\}//'
  exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
bundle="${SCT_GPU_BUNDLE:-$repo/.gpu_bundle}"
prefix="${SCT_GPU_PREFIX:-$repo/.gpu_prefix}"
build="${SCT_GPU_BUILD_DIR:-$repo/build-gpu}"
budget="${SCT_GPU_CHECK_BUDGET:-480}"
jobs="${SCT_GPU_JOBS:-$(nproc)}"
arch=x86_64-linux-gnu
lib="$prefix/usr/lib/$arch"
logs="$build/gpu_check_logs"

# Rehearsal: re-run this script in a private mount namespace (see hide_system).
if [ "${SCT_GPU_CHECK_HIDE_SYSTEM:-0}" = 1 ] && [ "${SCT_GPU_CHECK_IN_NS:-0}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "gpu_check: SCT_GPU_CHECK_HIDE_SYSTEM=1 needs root" >&2; exit 2; }
  exec unshare -m --propagation private env SCT_GPU_CHECK_IN_NS=1 bash "$0" "$@"
fi

start_all=$(date +%s)
deadline=$((start_all + budget))
declare -A phase_rc phase_sec
phases=()
fatal=0
notes=()

note() { notes+=("$*"); echo "NOTE: $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
record() { phases+=("$1"); phase_rc[$1]=$2; phase_sec[$1]=$3; echo "== $1: rc=$2 (${3} s)"; }
# stop_here NAME: true when SCT_GPU_CHECK_UNTIL asks to end after phase NAME
stop_here() { [ "${SCT_GPU_CHECK_UNTIL:-}" = "$1" ]; }

# phase_fn NAME FUNCTION: a phase made of shell code (each slow command in it has its own timeout).
phase_fn() {
  local name=$1 t0 rc=0
  shift
  echo
  echo "== $name"
  t0=$(now)
  "$@" || rc=$?
  record "$name" "$rc" "$(secs "$t0" "$(now)")"
  return "$rc"
}

# phase_cmd NAME CAP CMD...: a phase made of one command, under min(CAP, time left) seconds.
phase_cmd() {
  local name=$1 cap=$2 t left t0 rc
  shift 2
  left=$((deadline - $(date +%s) - 10))
  t=$((cap < left ? cap : left))
  echo
  if ((t < 5)); then
    echo "== $name: skipped, the time budget (${budget} s) is spent"
    record "$name" 124 0
    return 124
  fi
  echo "== $name (timeout ${t} s): $*"
  mkdir -p "$logs"
  t0=$(now)
  set +e
  timeout --kill-after=15 "$t" "$@" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  ((rc != 124 && rc != 137)) || echo "gpu_check: $name timed out after ${t} s"
  record "$name" "$rc" "$(secs "$t0" "$(now)")"
  return "$rc"
}

# --- rehearsal: hide the system's copies of the primary packages ------------------------------
hide_system() {
  command -v python3 >/dev/null || { echo "hide: needs python3"; return 1; }
  local primary debs=() kind path nd=0 nf=0
  primary=$(sed -n 's/^primary=//p' "$bundle/bundle.info")
  for p in $primary; do debs+=("$(ls "$bundle"/debs/"${p}"_*.deb)"); done
  # Directories all of whose entries belong to those packages are covered by an empty tmpfs
  # (as if absent); other files of theirs by /dev/null (any use fails loudly).
  while read -r kind path; do
    case $kind in
      dir) mount -t tmpfs -o ro,size=64k,mode=755 sct-hidden "$path" && nd=$((nd + 1)) ;;
      file) mount --bind /dev/null "$path" && nf=$((nf + 1)) ;;
    esac
  done < <(python3 - "${debs[@]}" <<'EOF'
import os, subprocess, sys
entries = {}
for deb in sys.argv[1:]:
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        parts = line.split(None, 5)
        kind, name = parts[0][0], parts[5]
        if kind == "l":
            name = name.split(" -> ")[0]
        elif kind == "h":
            name = name.split(" link to ")[0]
        name = name[1:] if name.startswith("./") else name
        entries[os.path.normpath("/" + name.lstrip("/"))] = kind
skip = ("/usr/share/doc", "/usr/share/man", "/usr/share/lintian")
deny = {"/", "/etc", "/usr", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib/x86_64-linux-gnu",
        "/usr/share", "/usr/share/pkgconfig", "/usr/lib/x86_64-linux-gnu/pkgconfig",
        "/usr/lib/x86_64-linux-gnu/cmake", "/usr/share/cmake", "/usr/src"}
memo = {}
def exclusive(d):
    if d not in memo:
        ok = entries.get(d) == "d" and d not in deny and os.path.isdir(d) and not os.path.islink(d)
        if ok:
            for n in os.listdir(d):
                p = os.path.join(d, n)
                if p not in entries or (entries[p] == "d" and not exclusive(p)):
                    ok = False
                    break
        memo[d] = ok
    return memo[d]
for p, kind in sorted(entries.items()):
    if any(p == s or p.startswith(s + "/") for s in skip):
        continue
    if exclusive(os.path.dirname(p)):
        continue
    if kind == "d":
        if exclusive(p) and os.listdir(p):
            print("dir", p)
    elif not os.path.islink(p) and os.path.isfile(p):
        print("file", p)
EOF
  )
  echo "rehearsal: hid $nd directories and $nf files of the system's copies of the primary packages"
}

# --- env --------------------------------------------------------------------------------------
libtorch_version="" torch_version="" torch_cuda="" cuda_available=false gpu_name="" torch_dir="" nccl_dir=""
env_phase() {
  local k v info
  echo "date: $(date -Is)  host: $(hostname)  kernel: $(uname -r)"
  echo "os: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release 2>/dev/null | tr -d '"')"
  echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc)  memory: $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  if command -v nvidia-smi >/dev/null; then
    echo "nvidia-smi -L:"
    timeout 30 nvidia-smi -L 2>&1 | sed 's/^/  /' || true
  else
    echo "nvidia-smi: not present"
  fi
  echo "c++: $(c++ --version 2>/dev/null | head -1 || echo none)"
  echo "cmake: $(cmake --version | head -1)  ninja: $(ninja --version 2>/dev/null || echo none)"
  echo "nvcc: $(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || echo none)"
  echo "ccache: $(command -v ccache || echo none)  pkg-config: $(command -v pkg-config || echo none)"
  command -v python3 >/dev/null || { echo "python3: none"; return 0; }
  echo "python3: $(command -v python3) ($(python3 --version 2>&1))"
  info=$(timeout 180 python3 - <<'EOF' 2>&1
import importlib.util, os
try:
    import torch
    print("torch_version=" + torch.__version__)
    print("torch_cuda=" + (torch.version.cuda or ""))
    ok = bool(torch.version.cuda) and torch.cuda.is_available()
    print("cuda_available=" + ("true" if ok else "false"))
    print("gpu_name=" + (torch.cuda.get_device_name(0) if ok else ""))
    print("torch_dir=" + os.path.join(torch.utils.cmake_prefix_path, "Torch"))
except Exception as e:
    print("torch_error=" + repr(e).replace("\n", " "))
try:
    spec = importlib.util.find_spec("nvidia.nccl")
    if spec and spec.submodule_search_locations:
        print("nccl_dir=" + list(spec.submodule_search_locations)[0])
except Exception:
    pass
EOF
  ) || true
  while IFS='=' read -r k v; do
    case $k in
      torch_version) torch_version=$v ;;
      torch_cuda) torch_cuda=$v ;;
      cuda_available) cuda_available=$v ;;
      gpu_name) gpu_name=$v ;;
      torch_dir) torch_dir=$v ;;
      nccl_dir) nccl_dir=$v ;;
      torch_error) echo "python3 torch: not importable ($v)" ;;
    esac
  done <<<"$info"
  if [ -n "$torch_version" ]; then
    echo "torch: $torch_version, built for CUDA ${torch_cuda:-none}, GPU usable: $cuda_available${gpu_name:+ ($gpu_name)}"
  fi
  if [ -n "$nccl_dir" ]; then echo "nccl (Python package): $nccl_dir"; fi
  return 0
}

# --- unpack -----------------------------------------------------------------------------------
extract() {  # extract DEB ROOT
  if command -v dpkg-deb >/dev/null; then
    timeout 120 dpkg-deb -x "$1" "$2"
  else
    local m z=()
    m=$(ar t "$1" | grep '^data\.tar')
    case $m in *.xz) z=(-J) ;; *.zst) z=(--zstd) ;; *.gz) z=(-z) ;; esac
    ar p "$1" "$m" | timeout 120 tar -x "${z[@]}" -C "$2" -f -
  fi
}

unpack_phase() {
  local info stamp deb pkg root f so need have_glibc
  if ! [ -f "$bundle/SHA256SUMS" ] || ! [ -f "$bundle/bundle.info" ] || ! [ -f "$bundle/MANIFEST" ]; then
    echo "gpu_check: no bundle at $bundle: run launchers/gpu_bundle.sh on a Debian 12 machine and carry it"
    return 1
  fi
  (cd "$bundle" && sha256sum --quiet -c SHA256SUMS) || { echo "gpu_check: the bundle's .debs do not match SHA256SUMS"; return 1; }
  info="$bundle/bundle.info"
  echo "bundle: $(wc -l <"$bundle/MANIFEST") packages from Debian $(sed -n 's/^debian=//p' "$info"), $(du -sh "$bundle/debs" | cut -f1)"
  need=$(sed -n 's/^glibc=//p' "$info")
  have_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
  if [ -n "$have_glibc" ] && [ "$(printf '%s\n%s\n' "$need" "$have_glibc" | sort -V | head -1)" != "$need" ]; then
    echo "gpu_check: the bundle's binaries need glibc >= $need ($(sed -n 's/^glibc_by=//p' "$info")), this machine has $have_glibc"
    return 1
  fi
  local fallback
  fallback=" $(sed -n 's/^fallback=//p' "$info") "

  # the bundle, this script and the prefix's own path (the rewritten files name it)
  stamp="$(sha256sum "$bundle/SHA256SUMS" | cut -c1-64) $(sha256sum "$0" | cut -c1-64) $prefix"
  if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$stamp" ]; then
    echo "prefix $prefix is up to date"
  else
    echo "unpacking into $prefix"
    rm -rf "$prefix"
    mkdir -p "$prefix/fallback"
    for deb in "$bundle"/debs/*.deb; do
      pkg=$(basename "$deb" | cut -d_ -f1)
      root=$prefix
      [[ "$fallback" == *" $pkg "* ]] && root=$prefix/fallback
      extract "$deb" "$root" || { echo "gpu_check: could not unpack $deb"; return 1; }
    done
    relocate "$prefix" && relocate "$prefix/fallback" || return 1
    echo "$stamp" >"$prefix/.stamp"
  fi

  # Fallback libraries: only those whose soname the machine lacks (the system's copy wins).
  rm -rf "$prefix/fallback-lib"
  mkdir -p "$prefix/fallback-lib"
  local sys_sonames used=()
  sys_sonames=" $( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true) | awk '/x86-64/{printf "%s ", $1}') "
  while IFS= read -r -d '' f; do
    head -c 4 "$f" | grep -q $'\x7fELF' || continue
    so=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ -n "$so" ] || continue
    [[ "$sys_sonames" == *" $so "* ]] && continue
    ln -sf "$f" "$prefix/fallback-lib/$so"
    used+=("$so")
  done < <(find "$prefix/fallback/usr/lib/$arch" "$prefix/fallback/usr/lib/libpsm1" -maxdepth 1 -type f -name 'lib*.so*' -print0 2>/dev/null)
  # UCX looks for its transport modules in ucx/ beside libucs
  if [ -e "$prefix/fallback-lib/libucs.so.0" ]; then ln -s "$prefix/fallback/usr/lib/$arch/ucx" "$prefix/fallback-lib/ucx"; fi
  echo "fallback libraries taken from the bundle (the machine lacks them): ${used[*]:-none}"

  # NCCL from the Python package: include/ and lib/ with the libnccl.so link it lacks.
  rm -rf "$prefix/nccl"
  if [ -n "$nccl_dir" ] && [ -f "$nccl_dir/include/nccl.h" ] && [ -e "$nccl_dir/lib/libnccl.so.2" ]; then
    mkdir -p "$prefix/nccl/lib"
    ln -s "$nccl_dir/include" "$prefix/nccl/include"
    ln -s "$nccl_dir/lib/libnccl.so.2" "$prefix/nccl/lib/libnccl.so.2"
    ln -s libnccl.so.2 "$prefix/nccl/lib/libnccl.so"
    echo "nccl: $prefix/nccl -> $nccl_dir"
  fi
  return 0
}

# relocate ROOT: what dpkg's maintainer scripts and the /usr prefix would otherwise provide.
relocate() {
  local root=$1 d f t
  # soname links (ldconfig makes them on install; some packages ship only the real file)
  while IFS= read -r d; do
    ldconfig -n "$d" 2>/dev/null || /sbin/ldconfig -n "$d" 2>/dev/null || true
  done < <(find "$root/usr/lib" -name 'lib*.so.*' -type f -printf '%h\n' 2>/dev/null | sort -u)
  # headers of the multiarch include dir (gcc searches /usr/include/<arch> by default, not the
  # prefix's): beside the others, so that jpeglib.h's "jconfig.h" is found
  while IFS= read -r -d '' f; do
    [ -e "$root/usr/include/${f##*/}" ] || ln -s "$arch/${f##*/}" "$root/usr/include/${f##*/}"
  done < <(find "$root/usr/include/$arch" -maxdepth 1 -type f -print0 2>/dev/null)
  # the links update-alternatives makes for Open MPI's tools
  if [ -e "$root/usr/bin/orterun" ]; then
    for t in mpirun mpiexec mpicc mpic++ mpicxx mpiCC; do
      f=$t.openmpi
      [ "$t" = mpicxx ] || [ "$t" = mpiCC ] && f=mpic++.openmpi
      [ -e "$root/usr/bin/$f" ] && ln -sfn "$f" "$root/usr/bin/$t"
    done
  fi
  # pkg-config files: prefix=/usr, -I/usr/..., -L/usr/... into the prefix
  while IFS= read -r -d '' f; do
    sed -i -E "s#(^|[=[:space:]]|-I|-L)/usr(/|\$)#\1$root/usr\2#g" "$f"
  done < <(find "$root" -name '*.pc' -type f -print0)
  # CMake package files: every quoted absolute /usr path into the prefix (Debian's are
  # relocatable already; this keeps any that are not from reaching the system's copy)
  while IFS= read -r -d '' f; do
    sed -i -e "s#\"/usr/#\"$root/usr/#g" -e "s#\"/usr\"#\"$root/usr\"#g" "$f"
  done < <(find "$root/usr/lib/$arch/cmake" "$root/usr/share/cmake" -name '*.cmake' -type f -print0 2>/dev/null)
  # PMIx's system parameter file names its plug-in dir
  f=$root/usr/lib/$arch/pmix2/share/pmix-mca-params.conf
  [ ! -f "$f" ] || sed -i -E "s#=[[:space:]]*/usr/#= $root/usr/#" "$f"
  return 0
}

# The environment that makes the prefix work (build, tests and bench inherit it).
prefix_env() {
  export OPAL_PREFIX="$prefix/usr"
  export PATH="$prefix/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$lib:$lib/openmpi/lib:$lib/hdf5/serial:$prefix/fallback-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  # Open MPI and PMIx read their system parameter files from fixed /etc and /usr paths
  export OMPI_MCA_mca_base_param_files="$prefix/etc/openmpi/openmpi-mca-params.conf"
  export OMPI_MCA_orte_default_hostfile="$prefix/etc/openmpi/openmpi-default-hostfile"
  export PMIX_MCA_mca_base_param_files="$lib/pmix2/share/pmix-mca-params.conf"
  export PMIX_MCA_mca_base_component_path="$lib/pmix2/lib/pmix"
  # no hwloc plug-ins (the bundle has none; keeps the system's out too)
  export HWLOC_PLUGINS_PATH="$lib/hwloc"
  # as root, one node, no ssh, possibly no ptrace between ranks (containers)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_plm=isolated
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  if [ -d "$prefix/nccl" ]; then export NCCL_HOME="$prefix/nccl"; fi
  export SCT_BUILD_DIR="$build"
}

# --- mpi --------------------------------------------------------------------------------------
mpi_phase() {
  local m rc=0
  m=$(command -v mpiexec || true)
  echo "mpiexec: ${m:-none}"
  [ "$m" = "$prefix/usr/bin/mpiexec" ] || { echo "gpu_check: mpiexec is not the prefix's"; return 1; }
  ldd "$(readlink -f "$m")" | grep -E 'libopen-(rte|pal)|libpmix|libhwloc|libevent' | sed 's/^[[:space:]]*/  /'
  SCT_MPI_TIMEOUT=60 bash "$repo/tests/tools/mpirun.sh" 2 hostname || rc=$?
  return "$rc"
}

# --- configure --------------------------------------------------------------------------------
cmake_args=()
configure_args() {
  local cuda_root=""
  cmake_args=(-S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DSCT_BUILD_TESTS=ON -DSCT_BUILD_BENCH=ON
    "-DCMAKE_PREFIX_PATH=$prefix/usr"
    "-DHDF5_ROOT=$lib/hdf5/serial" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON
    "-DMPI_HOME=$prefix/usr"
    "-DMPI_C_COMPILER=$prefix/usr/bin/mpicc.openmpi"
    "-DMPI_CXX_COMPILER=$prefix/usr/bin/mpic++.openmpi"
    "-DMPIEXEC_EXECUTABLE=$prefix/usr/bin/mpiexec.openmpi")
  if [ -n "$torch_dir" ] && [ -n "$torch_cuda" ] && [ -f "$torch_dir/TorchConfig.cmake" ]; then
    cmake_args+=("-DTorch_DIR=$torch_dir")
    echo "LibTorch: python3's torch $torch_version (CUDA $torch_cuda) at $torch_dir"
  else
    echo "LibTorch: the system's (python3 has no CUDA torch)"
  fi
  if [ -x /usr/local/cuda/bin/nvcc ]; then
    cuda_root=/usr/local/cuda
  elif command -v nvcc >/dev/null; then
    cuda_root=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  fi
  if [ -n "$cuda_root" ]; then
    cmake_args+=("-DSCT_CUDA_ROOT=$cuda_root")
    # LibTorch's CUDA part looks for the toolkit (the system's LibTorch has none)
    if [ -n "$torch_cuda" ]; then cmake_args+=("-DCUDAToolkit_ROOT=$cuda_root"); fi
    case ":$PATH:" in *":$cuda_root/bin:"*) ;; *) export PATH="$PATH:$cuda_root/bin" ;; esac
  fi
  if [ -d "$prefix/nccl" ]; then
    cmake_args+=("-DSCT_NCCL_INCLUDE=$prefix/nccl/include" "-DSCT_NCCL_LIB=$prefix/nccl/lib/libnccl.so")
  fi
  if command -v ccache >/dev/null; then
    cmake_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  # zlib headers and pkg-config: the machine's when it has them, else the bundle's
  if ! printf '#include <zlib.h>\n' | c++ -x c++ -fsyntax-only - 2>/dev/null; then
    local z
    z=$( (ldconfig -p 2>/dev/null || true) | awk '$1=="libz.so.1" && /x86-64/{print $NF; exit}')
    [ -n "$z" ] || z=$(ls "$prefix"/fallback/usr/lib/"$arch"/libz.so.1 2>/dev/null || true)
    cmake_args+=("-DZLIB_INCLUDE_DIR=$prefix/fallback/usr/include" "-DZLIB_LIBRARY=$z")
    echo "zlib: headers from the bundle, library $z"
  fi
  if ! command -v pkg-config >/dev/null && [ -x "$prefix/fallback/usr/bin/pkgconf" ]; then
    cmake_args+=("-DPKG_CONFIG_EXECUTABLE=$prefix/fallback/usr/bin/pkgconf")
    echo "pkg-config: the bundle's pkgconf"
  fi
  # shellcheck disable=SC2206  # word splitting of the user's extra arguments is intended
  [ -z "${SCT_GPU_CMAKE_ARGS:-}" ] || cmake_args+=(${SCT_GPU_CMAKE_ARGS})
  # A fresh cache every run, so that every path is found again (objects stay up to date).
  rm -f "$build/CMakeCache.txt"
  mkdir -p "$build"
}

# --- cache ------------------------------------------------------------------------------------
# judge_paths VALUE: "ok" when every absolute path in the ;-list is in the prefix, "FAIL" when
# one is the system's (/usr, /lib), "other" for paths elsewhere, "-" when there are none.
judge_paths() {
  local v verdict=- vs
  IFS=';' read -r -a vs <<<"$1"
  for v in "${vs[@]}"; do
    v=${v#-I}
    v=${v#-L}
    case $v in
      "$prefix"/*) [ "$verdict" != - ] || verdict=ok ;;
      /usr/* | /lib/* | /lib64/*) verdict=FAIL ;;
      /*) [ "$verdict" = FAIL ] || verdict=other ;;
    esac
  done
  echo "$verdict"
}

cache_phase() {
  local c=$build/CMakeCache.txt bad=0 n=0 name line verdict
  local required=(HDF5_C_INCLUDE_DIR HDF5_hdf5_LIBRARY_RELEASE MPI_CXX_COMPILER MPIEXEC_EXECUTABLE
    MPI_mpi_LIBRARY fmt_DIR tomlplusplus_DIR nlohmann_json_DIR CLI11_DIR GTest_DIR
    pkgcfg_lib_LIBZIP_zip LIBZIP_INCLUDE_DIRS SCT_STB_INCLUDE)
  local judged='^(HDF5_[A-Za-z0-9_]*(INCLUDE_DIR|LIBRARY_RELEASE|LIBRARY)|MPI_[A-Za-z0-9_]*(COMPILER|_LIBRARY|HEADER_DIR|ADDITIONAL_INCLUDE_DIRS)|MPIEXEC_EXECUTABLE|fmt_DIR|tomlplusplus_DIR|nlohmann_json_DIR|CLI11_DIR|GTest_DIR|pkgcfg_lib_LIBZIP_[A-Za-z0-9_]*|LIBZIP_(INCLUDE_DIRS|LIBRARY_DIRS|LINK_LIBRARIES)|SCT_STB_INCLUDE|JPEG_INCLUDE_DIR|JPEG_LIBRARY_RELEASE)(:[A-Z]+)?='
  local shown='^(ZLIB_INCLUDE_DIR|ZLIB_LIBRARY_RELEASE|PKG_CONFIG_EXECUTABLE|SCT_NCCL_INCLUDE|SCT_NCCL_LIB|SCT_CUDART_LIB|Torch_DIR)(:[A-Z]+)?='
  [ -f "$c" ] || { echo "no $c"; return 1; }
  for name in "${required[@]}"; do
    grep -qE "^$name(:[A-Z]+)?=." "$c" || { echo "FAIL  $name: not in the cache"; bad=$((bad + 1)); }
  done
  while IFS= read -r line; do
    verdict=$(judge_paths "${line#*=}")
    n=$((n + 1))
    [ "$verdict" != FAIL ] || bad=$((bad + 1))
    printf '%-5s %s\n' "$verdict" "$line"
  done < <(grep -E "$judged" "$c")
  echo "not judged (the machine's own, or not from the bundle):"
  grep -E "$shown" "$c" | sed 's/^/      /' || true
  echo "cache check: $n entries judged, $bad resolve to the system (/usr, /lib) instead of $prefix"
  ((bad == 0))
}

# --- ldd --------------------------------------------------------------------------------------
ldd_phase() {
  local exe=$build/bin/sct_dist bad=0 l path f
  [ -x "$exe" ] || { echo "no $exe"; return 1; }
  echo "ldd $exe (LD_LIBRARY_PATH=$LD_LIBRARY_PATH):"
  for l in libhdf5 libmpi.so libfmt libzip libtomlplusplus libopen-pal libsz libjpeg; do
    path=$(ldd "$exe" | awk -v l="$l" 'index($1, l) == 1 {print $3; exit}')
    case $path in
      "") case $l in libhdf5|libmpi.so|libfmt|libzip) echo "FAIL $l: not linked"; bad=$((bad + 1)) ;; *) echo "-     $l: not linked" ;; esac ;;
      "$prefix"/*) echo "ok    $l => $path" ;;
      *) echo "FAIL  $l => $path"; bad=$((bad + 1)) ;;
    esac
  done
  for f in "$build"/bin/*; do
    if ! [ -f "$f" ] || ! [ -x "$f" ] || ! head -c 4 "$f" | grep -q $'\x7fELF'; then continue; fi
    if ldd "$f" 2>/dev/null | grep -q 'not found'; then
      echo "FAIL  $(basename "$f"): $(ldd "$f" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')"
      bad=$((bad + 1))
    fi
  done
  ((bad == 0))
}

# --- report -----------------------------------------------------------------------------------
ct_total=0 ct_passed=0 ct_failed=0 ct_skipped=0 ct_note=""
parse_ctest() {
  local f=$logs/test.log m
  [ -f "$f" ] || return 0
  if grep -q "No tests were found" "$f"; then ct_note="No tests were found"; fi
  if ! grep -qE 'tests passed|No tests were found' "$f"; then ct_note="ctest printed no summary"; fi
  m=$(grep -oE '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$f" | tail -1 || true)
  if [ -n "$m" ]; then
    ct_failed=$(echo "$m" | awk '{print $4}')
    ct_total=$(echo "$m" | awk '{print $NF}')
    ct_skipped=$(grep -cE '\(Skipped\)$' "$f" || true)
    ct_passed=$((ct_total - ct_failed - ct_skipped))
  fi
}

write_json() {
  local j=$out/gpu_check.json p tsv
  tsv=$(for p in "${phases[@]}"; do printf '%s\t%s\t%s\n' "$p" "${phase_rc[$p]}" "${phase_sec[$p]}"; done)
  if command -v python3 >/dev/null; then
    PHASES="$tsv" TORCH_VERSION="$torch_version" TORCH_CUDA="$torch_cuda" CUDA_AVAILABLE="$cuda_available" \
    GPU_NAME="$gpu_name" LIBTORCH="$libtorch_version" CT="$ct_total $ct_passed $ct_failed $ct_skipped" CT_NOTE="$ct_note" \
    EXIT="$1" TOTAL="$(secs "$start_all" "$(now)")" NPROC="$(nproc)" NOTES="$(printf '%s\n' "${notes[@]}")" \
    python3 - "$j" <<'EOF'
import json, os, sys
phases = {}
for line in os.environ["PHASES"].splitlines():
    if line.strip():
        name, rc, sec = line.split("\t")
        phases[name] = {"rc": int(rc), "seconds": float(sec)}
total, passed, failed, skipped = (int(x) for x in os.environ["CT"].split())
doc = {
    "ok": os.environ["EXIT"] == "0",
    "exit_code": int(os.environ["EXIT"]),
    "seconds": float(os.environ["TOTAL"]),
    "phases": phases,
    "torch_version": os.environ["TORCH_VERSION"] or None,
    "libtorch_version": os.environ["LIBTORCH"] or None,
    "torch_cuda": os.environ["TORCH_CUDA"] or None,
    "cuda_available": os.environ["CUDA_AVAILABLE"] == "true",
    "gpu_name": os.environ["GPU_NAME"] or None,
    "nproc": int(os.environ["NPROC"]),
    "ctest": {"total": total, "passed": passed, "failed": failed, "skipped": skipped,
              "note": os.environ["CT_NOTE"] or None},
    "notes": [n for n in os.environ["NOTES"].splitlines() if n],
}
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
EOF
  else
    {
      printf '{\n  "exit_code": %s,\n  "phases": {' "$1"
      local sep=""
      for p in "${phases[@]}"; do printf '%s\n    "%s": {"rc": %s, "seconds": %s}' "$sep" "$p" "${phase_rc[$p]}" "${phase_sec[$p]}"; sep=","; done
      printf '\n  },\n  "torch_version": "%s",\n  "libtorch_version": "%s",\n  "cuda_available": %s,\n  "gpu_name": "%s",\n' \
        "$torch_version" "$libtorch_version" "$cuda_available" "$gpu_name"
      printf '  "ctest": {"total": %s, "passed": %s, "failed": %s, "skipped": %s, "note": "%s"}\n}\n' \
        "$ct_total" "$ct_passed" "$ct_failed" "$ct_skipped" "$ct_note"
    } >"$j"
  fi
  echo "wrote $j"
}

# --- main -------------------------------------------------------------------------------------
main() {
  local rc
  echo "gpu_check: repo $repo, bundle $bundle, prefix $prefix, build $build, budget ${budget} s, $jobs jobs"
  # one run at a time: two would share the prefix, the build dir and its logs
  mkdir -p "$build"
  if command -v flock >/dev/null; then
    exec 9>"$build/.gpu_check.lock"
    flock -n 9 || { echo "gpu_check: another gpu_check.sh is running on $build"; return 1; }
  fi
  if [ "${SCT_GPU_CHECK_IN_NS:-0}" = 1 ]; then hide_system || return 1; fi
  phase_fn env env_phase || true
  if stop_here env; then finish; return; fi
  if ! phase_fn unpack unpack_phase; then fatal=1; finish; return; fi
  prefix_env
  phase_fn mpi mpi_phase || fatal=1
  if stop_here mpi; then finish; return; fi

  configure_args
  echo "cmake ${cmake_args[*]}"
  if ! phase_cmd configure "${SCT_GPU_TIMEOUT_CONFIGURE:-180}" cmake "${cmake_args[@]}"; then fatal=1; finish; return; fi
  echo
  echo "configure summary:"
  sed -n '/---------------- sct_dist configuration/,/^-- -----------------------------*$/p' "$logs/configure.log" | grep '^-- ' || true
  libtorch_version=$(sed -n 's/^-- Build type: .*; LibTorch \([^;]*\);.*/\1/p' "$logs/configure.log" | head -1)
  phase_fn cache cache_phase || fatal=1
  if stop_here cache || stop_here configure; then finish; return; fi

  local targets=()
  local wanted=${SCT_GPU_BUILD_TARGETS:-sct_dist sct_data_cli gpu_tests bench_train}
  # shellcheck disable=SC2206  # a space-separated list
  [ "$wanted" = all ] || targets=(--target ${wanted})
  if ! phase_cmd build "${SCT_GPU_TIMEOUT_BUILD:-420}" cmake --build "$build" -j "$jobs" "${targets[@]}"; then
    fatal=1; finish; return
  fi
  if command -v ccache >/dev/null; then ccache -s 2>/dev/null | grep -iE 'hits|misses|hit rate' | head -4 || true; fi
  phase_fn ldd ldd_phase || fatal=1
  if stop_here ldd || stop_here build; then finish; return; fi

  rc=0
  phase_cmd test "${SCT_GPU_TIMEOUT_TEST:-240}" env -u CTEST_NO_TESTS_ACTION \
    ctest --test-dir "$build" -L gpu --output-on-failure || rc=$?
  parse_ctest
  if [ -n "$ct_note" ]; then note "ctest -L gpu: $ct_note"; fi
  # no gpu tests at all is a note, not a failure
  if ((rc != 0)) && ! { [ "$ct_note" = "No tests were found" ] && ((ct_failed == 0)); }; then fatal=1; fi
  if stop_here test; then finish; return; fi

  if [ -x "$repo/launchers/bench_gpu.sh" ]; then
    phase_cmd bench "${SCT_GPU_TIMEOUT_BENCH:-300}" "$repo/launchers/bench_gpu.sh" "$out" ||
      note "bench_gpu.sh exited with ${phase_rc[bench]}"
  else
    note "no executable launchers/bench_gpu.sh: no bench"
  fi
  finish
}

finish() {
  local p code=$fatal
  echo
  echo "== summary ($(secs "$start_all" "$(now)") s in all)"
  for p in "${phases[@]}"; do printf '  %-10s rc=%-4s %8s s\n' "$p" "${phase_rc[$p]}" "${phase_sec[$p]}"; done
  echo "  python3 torch ${torch_version:-none} (CUDA ${torch_cuda:-none}), GPU usable: $cuda_available${gpu_name:+, $gpu_name}; built against LibTorch ${libtorch_version:-?}"
  echo "  ctest -L gpu: $ct_total tests, $ct_passed passed, $ct_failed failed, $ct_skipped skipped${ct_note:+ ($ct_note)}"
  write_json "$code"
  echo "gpu_check: $([ "$code" = 0 ] && echo OK || echo FAILED)"
  return "$code"
}

main 2>&1 | tee "$out/gpu_check.log"
exit "${PIPESTATUS[0]}"
