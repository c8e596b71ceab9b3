#!/usr/bin/env bash
# Builds Vigil's container images with buildah, without a Docker engine and without
# pulling anything from a registry:
#   localhost/vigil:latest                 deploy/Containerfile
#   localhost/vigil-inventory-demo:latest  deploy/inventory-demo.Containerfile
#
# The build stage runs here on Debian 12: a Release build of vigil and inventory_demo,
# then a staging root per image with the stripped binary, the shared libraries it links
# (ldd) and the dynamic loader, passwd/group with the non-root user (nobody, 65534),
# nsswitch.conf, the CA bundle, busybox-static (for `wget` health checks) and, for vigil,
# /etc/vigil/prometheus.yml and the /vigil data folder. `buildah build` then makes each
# image FROM scratch with that root. Needs root (or a rootless buildah setup).
#
#   bash deploy/build-image.sh [--build-dir DIR] [--no-build] [--only vigil|inventory-demo]
#                              [--vigil-tag TAG] [--demo-tag TAG] [--staging DIR]
#
#   --build-dir DIR  CMake build folder (default: build-image, Release). With --no-build,
#                    an existing build folder whose binaries are used as they are
#                    (e.g. build/, RelWithDebInfo: the staged copy is stripped).
#   --no-build       skip CMake; the binaries must exist in --build-dir.
#   --only WHICH     build one image only.
#   --staging DIR    where the image roots are staged (default: <build-dir>/image-staging).
# To run the images with Docker: buildah push localhost/vigil:latest docker-daemon:localhost/vigil:latest
# (podman sees buildah's images as they are).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=build-image
do_build=1
only=""
vigil_tag=localhost/vigil:latest
demo_tag=localhost/vigil-inventory-demo:latest
staging=""

die() { echo "build-image: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --no-build) do_build=0; shift ;;
    --only) only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --vigil-tag) vigil_tag=$2; shift 2 ;;
    --vigil-tag=*) vigil_tag=${1#*=}; shift ;;
    --demo-tag) demo_tag=$2; shift 2 ;;
    --demo-tag=*) demo_tag=${1#*=}; shift ;;
    --staging) staging=$2; shift 2 ;;
    --staging=*) staging=${1#*=}; shift ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
done
case "$only" in "" | vigil | inventory-demo) ;; *) die "--only takes vigil or inventory-demo" ;; esac
case "$build_dir" in /*) ;; *) build_dir=$repo/$build_dir ;; esac

command -v buildah >/dev/null || die "buildah not found (apt-get install buildah)"
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"

if [ "$do_build" = 1 ]; then
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF
  cmake --build "$build_dir" --target vigil inventory_demo -j"$(nproc)"
fi

# copy_with_parents SRC ROOT: SRC (symlinks followed) to the same absolute path under ROOT.
copy_with_parents() {
  mkdir -p "$2$(dirname "$1")"
  cp -L "$1" "$2$1"
}

# stage_binary BINARY ROOT: the stripped binary as ROOT/bin/<name>, every shared library
# it needs and the dynamic loader at the paths the binary looks them up.
stage_binary() {
  local binary=$1 root=$2 name lib
  name=$(basename "$binary")
  mkdir -p "$root/bin"
  strip --strip-unneeded -o "$root/bin/$name" "$binary"
  if ldd "$binary" | grep -q "not found"; then
    ldd "$binary" >&2
    die "$binary: a shared library is missing"
  fi
  # "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)";
  # linux-vdso has no file.
  for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    copy_with_parents "$lib" "$root"
  done
}

# stage_base ROOT: what every image has besides its binary.
stage_base() {
  local root=$1
  mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    copy_with_parents /etc/ssl/certs/ca-certificates.crt "$root"
  else
    echo "build-image: warning: no /etc/ssl/certs/ca-certificates.crt (apt-get install ca-certificates);" \
      "HTTPS targets will fail certificate checks" >&2
  fi
  cp /bin/busybox "$root/bin/busybox"
}

staging=${staging:-$build_dir/image-staging}
# build_one NAME BINARY CONTAINERFILE TAG
build_one() {
  local name=$1 binary=$2 containerfile=$3 tag=$4
  local dir=$staging/$name
  [ -x "$binary" ] || die "$binary not built (run without --no-build, or build it first)"
  rm -rf "$dir"
  mkdir -p "$dir/rootfs" "$dir/data"
  stage_base "$dir/rootfs"
  stage_binary "$binary" "$dir/rootfs"
  if [ "$name" = vigil ]; then
    mkdir -p "$dir/rootfs/etc/vigil"
    cp "$repo/examples/prometheus.yml" "$dir/rootfs/etc/vigil/prometheus.yml"
  fi
  echo "build-image: $tag from $(du -sh "$dir/rootfs" | cut -f1) staged in $dir"
  buildah build --quiet --layers=false -f "$containerfile" -t "$tag" "$dir" >/dev/null
  echo "build-image: built $tag"
}

if [ -z "$only" ] || [ "$only" = vigil ]; then
  build_one vigil "$build_dir/src/vigil" "$repo/deploy/Containerfile" "$vigil_tag"
fi
if [ -z "$only" ] || [ "$only" = inventory-demo ]; then
  build_one inventory-demo "$build_dir/examples/inventory/inventory_demo" \
    "$repo/deploy/inventory-demo.Containerfile" "$demo_tag"
fi
