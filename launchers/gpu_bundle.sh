#!/usr/bin/env bash
# gpu_bundle.sh [DIR]: gathers the Debian packages that a machine without a package registry
# needs to build and test sct_dist (HDF5, Open MPI, fmt, TOML++, nlohmann-json, libzip, stb,
# CLI11, GoogleTest and the runtime libraries they pull in), for launchers/gpu_check.sh to
# unpack there with `dpkg -x`.
#
# Usage:  launchers/gpu_bundle.sh [DIR]        (default DIR: <repo>/.gpu_bundle, git-ignored)
#
# Runs on a Debian 12 (bookworm, amd64) machine whose apt can reach the archive; it needs
# apt-get, apt-cache, dpkg-deb, readelf and sha256sum, and installs nothing. Writes:
#   DIR/debs/*.deb    the packages, downloaded with `apt-get download`
#   DIR/MANIFEST      package=version, one a line
#   DIR/SHA256SUMS    sha256sum of every .deb (check with: cd DIR && sha256sum -c SHA256SUMS)
#   DIR/bundle.info   key=value: the fallback packages, the newest glibc/libstdc++ symbol
#                     versions the bundled binaries need, the Debian release
# Idempotent: a .deb already in DIR/debs with the archive's version and SHA-256 is not
# downloaded again; .debs no longer in the list are removed. Fails, naming the packages, when
# apt-cache does not know a package or apt-get download fails (stale lists: apt-get update).
#
# Two kinds of packages:
#   primary   what the build links and the tests run (HDF5, Open MPI and its own runtime,
#             fmt, TOML++, libzip, ...): gpu_check.sh always uses the bundle's copy.
#   fallback  general-purpose libraries and tools that a stock Debian/Ubuntu image may or may
#             not have (libcurl and its closure, OpenSSL, the RDMA/fabric stack Open MPI's
#             plug-ins load, zlib headers, pkg-config): gpu_check.sh uses the bundle's copy only
#             where the machine lacks the library (by soname) or the tool.
# Left out as surely present on any image with a compiler, CUDA and Python: libc6, libstdc++6,
# libgcc-s1. The bundle checks itself: every NEEDED entry of every ELF file in it must be
# provided by the bundle or by those base packages (Fortran and Java bindings excepted).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$repo/.gpu_bundle}"
max_mib="${SCT_BUNDLE_MAX_MIB:-48}"

primary=(
  # HDF5 1.10 (serial) and the tools (h5dump, h5ls)
  libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 hdf5-tools
  # Open MPI 4.1 with the runtime it was built against
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
  libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7 libpmix2
  # the C++ libraries
  libfmt-dev libfmt9 libtomlplusplus-dev libtomlplusplus3 nlohmann-json3-dev
  libzip-dev libzip4 libstb-dev libcli11-dev libgtest-dev
  # libjpeg, so that sct_data decodes JPEG as it does here (Pillow's decoder)
  libjpeg62-turbo-dev libjpeg62-turbo
)
fallback=(
  # zlib headers (the project needs find_package(ZLIB)) and pkg-config
  zlib1g-dev zlib1g pkgconf-bin libpkgconf3
  # libzip and libhdf5 need OpenSSL's libcrypto and libbz2; libhdf5 needs libcurl
  libssl3 libbz2-1.0 libcurl4
  libnghttp2-14 librtmp1 libssh2-1 libpsl5 libldap-2.5-0 libsasl2-2
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2
  libbrotli1 libzstd1 libidn2-0 libunistring2
  libgnutls30 libnettle8 libhogweed6 libgmp10 libp11-kit0 libtasn1-6 libffi8
  # what Open MPI's and PMIx's plug-ins load (fabrics, UCX, verbs, PSM, NUMA, munge)
  libfabric1 libucx0 libpsm2-2 libpsm-infinipath1 libibverbs1 ibverbs-providers librdmacm1
  libnl-3-200 libnl-route-3-200 libnuma1 libmunge2 libatomic1 libudev1 libuuid1
)
# sonames a bundled binary may need without the bundle providing them (libc6, libstdc++6, libgcc-s1)
base_sonames="ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1
libresolv.so.2 libutil.so.1 libanl.so.1 libstdc++.so.6 libgcc_s.so.1"

die() { echo "gpu_bundle: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb readelf sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (run this on a Debian machine)"
done
[ "$(dpkg --print-architecture)" = amd64 ] || die "the bundle is for amd64; this machine is $(dpkg --print-architecture)"

mkdir -p "$dir/debs"
dir="$(cd "$dir" && pwd)"

# The archive's candidate of every package: name version arch sha256 (one a line).
declare -A want_ver want_file want_sha
unknown=()
for p in "${primary[@]}" "${fallback[@]}"; do
  rec=$(apt-cache show --no-all-versions "$p" 2>/dev/null |
        awk '/^Version:/{v=$2} /^Architecture:/{a=$2} /^SHA256:/{s=$2} /^$/{if(v)exit} END{print v, a, s}')
  read -r ver arch sha <<<"$rec"
  if [ -z "${ver:-}" ] || [ -z "${sha:-}" ]; then unknown+=("$p"); continue; fi
  want_ver[$p]=$ver
  want_sha[$p]=$sha
  want_file[$p]="${p}_${ver//:/%3a}_${arch}.deb"   # apt-get download's file name
done
((${#unknown[@]} == 0)) || die "apt-cache knows no candidate for: ${unknown[*]} (run apt-get update?)"

# Download what is missing or differs from the archive's version.
fetch=()
for p in "${!want_file[@]}"; do
  f="$dir/debs/${want_file[$p]}"
  if [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${want_sha[$p]}" ]; then continue; fi
  rm -f "$f"
  fetch+=("$p=${want_ver[$p]}")
done
if ((${#fetch[@]})); then
  echo "gpu_bundle: downloading ${#fetch[@]} packages into $dir/debs"
  log=$(mktemp)
  if ! (cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root "${fetch[@]}") >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get download failed for some of: ${fetch[*]} (stale package lists? run apt-get update)"
  fi
  rm -f "$log"
else
  echo "gpu_bundle: all ${#want_file[@]} packages already in $dir/debs at the archive's versions"
fi

# Verify every file, and drop .debs that are no longer wanted (older versions, removed packages).
declare -A keep
for p in "${!want_file[@]}"; do
  f="$dir/debs/${want_file[$p]}"
  [ -f "$f" ] || die "apt-get download did not produce ${want_file[$p]}"
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${want_sha[$p]}" ] || die "${want_file[$p]}: SHA-256 differs from the archive's"
  keep[${want_file[$p]}]=1
done
for f in "$dir"/debs/*.deb; do
  b=$(basename "$f")
  [ -n "${keep[$b]:-}" ] || { echo "gpu_bundle: removing stale $b"; rm -f "$f"; }
done

# Self-check: unpack into a scratch tree, every NEEDED must be provided by the bundle or base.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for f in "$dir"/debs/*.deb; do dpkg-deb -x "$f" "$scratch"; done
declare -A have
elves=()
while IFS= read -r -d '' f; do
  head -c 4 "$f" | grep -q $'\x7fELF' || continue
  elves+=("$f")
  so=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ -z "$so" ] || have[$so]=1
done < <(find "$scratch" -type f -print0)
for s in $base_sonames; do have[$s]=1; done
missing=""
glibc_max=2.2.5
glibc_by=""
glibcxx_max=3.4
for f in "${elves[@]}"; do
  case "$f" in *fortran*|*mpifh*|*usempi*|*java*) continue ;; esac
  for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ -n "${have[$n]:-}" ] || missing+="  ${f#"$scratch"} needs $n"$'\n'
  done
  vers=$(readelf -V "$f" 2>/dev/null | grep -oE 'Name: GLIBC(XX)?_[0-9.]+' | sed 's/Name: //' | sort -u || true)
  for v in $vers; do
    case "$v" in
      GLIBC_*)
        if [ "$(printf '%s\n%s\n' "$glibc_max" "${v#GLIBC_}" | sort -V | tail -1)" != "$glibc_max" ]; then
          glibc_max=${v#GLIBC_}
          glibc_by=$(basename "$f")
        elif [ "${v#GLIBC_}" = "$glibc_max" ]; then
          case " $glibc_by " in *" $(basename "$f") "*) ;; *) glibc_by+=" $(basename "$f")" ;; esac
        fi ;;
      GLIBCXX_*) glibcxx_max=$(printf '%s\n%s\n' "$glibcxx_max" "${v#GLIBCXX_}" | sort -V | tail -1) ;;
    esac
  done
done
[ -z "$missing" ] || die "the bundle is not closed; add the packages providing:"$'\n'"$missing"

# MANIFEST, SHA256SUMS, bundle.info
for p in "${!want_ver[@]}"; do echo "$p=${want_ver[$p]}"; done | sort >"$dir/MANIFEST"
(cd "$dir" && sha256sum debs/*.deb >SHA256SUMS)
{
  echo "debian=$(cat /etc/debian_version 2>/dev/null || echo unknown)"
  echo "primary=${primary[*]}"
  echo "fallback=${fallback[*]}"
  echo "glibc=$glibc_max"
  echo "glibc_by=$glibc_by"
  echo "glibcxx=$glibcxx_max"
} >"$dir/bundle.info"

bytes=$(du -cb "$dir"/debs/*.deb | tail -1 | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1048576}')
echo "gpu_bundle: $(wc -l <"$dir/MANIFEST") packages, $mib MiB in $dir/debs (limit $max_mib MiB);" \
     "binaries need glibc >= $glibc_max ($glibc_by), libstdc++ GLIBCXX_$glibcxx_max"
awk -v b="$bytes" -v m="$max_mib" 'BEGIN{exit !(b <= m*1048576)}' ||
  die "the bundle ($mib MiB) exceeds $max_mib MiB"
