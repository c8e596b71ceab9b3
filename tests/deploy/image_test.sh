#!/usr/bin/env bash
# deploy_image: builds the images of deploy/build-image.sh from the binaries this build
# tree already has (no rebuild), then runs each image's own files the way a container
# runtime would, without one (`podman run` is refused in this sandbox): `buildah mount`
# the image, `chroot --userspec=<the image's user>` into it and start its entrypoint and
# default command on a free loopback port. Vigil must answer /-/ready and a query, write
# its data into the /vigil volume as the non-root user, refuse /-/reload (lifecycle off)
# and stop cleanly on SIGTERM, with the root read-only and only /vigil writable (as the
# StatefulSet runs it, when this machine allows a private bind mount); the inventory
# demo must serve its metrics; the health check command the compose file uses (busybox
# wget) must work inside the image.
#
#   image_test.sh BUILD_DIR          exit 77 (skipped) without buildah, root or busybox-static
#
# The images live in a private containers-storage (vfs) under a temporary folder that is
# removed at the end, so the machine's image store is left as it was.
set -euo pipefail

build_dir=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

skip() { echo "SKIP deploy_image: $*"; exit 77; }
fail() { echo "FAIL deploy_image: $*" >&2; exit 1; }
command -v buildah >/dev/null || skip "buildah is not installed (apt-get install buildah)"
[ "$(id -u)" = 0 ] || skip "needs root (buildah mount and chroot)"
[ -x /bin/busybox ] || skip "busybox-static is not installed (apt-get install busybox-static)"
[ -x "$build_dir/src/vigil" ] || fail "$build_dir/src/vigil is not built"
[ -x "$build_dir/examples/inventory/inventory_demo" ] || fail "inventory_demo is not built"

work=$(mktemp -d /tmp/vigil-image-test.XXXXXX)
export CONTAINERS_STORAGE_CONF=$work/storage.conf
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' \
  "$work/storage" "$work/run" >"$CONTAINERS_STORAGE_CONF"
vigil_tag=localhost/vigil-image-test:$$
demo_tag=localhost/vigil-inventory-demo-image-test:$$
pids=()
containers=()

cleanup() {
  local pid c
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for c in "${containers[@]}"; do
    buildah umount "$c" >/dev/null 2>&1 || true
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  buildah rmi -f "$vigil_tag" "$demo_tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# image_config TAG KEY: one field of the image's OCI config, as JSON.
image_config() {
  buildah inspect --type image "$1" |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["OCIv1"]["config"].get(sys.argv[1])))' "$2"
}

# image_argv TAG: entrypoint and default command, one argument per line.
image_argv() {
  buildah inspect --type image "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)["OCIv1"]["config"]
print("\n".join((c.get("Entrypoint") or []) + (c.get("Cmd") or [])))'
}

# wait_http URL: until URL answers 200, for at most 30 s.
wait_http() {
  local _
  for _ in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

expect_eq() {
  [ "$2" = "$3" ] || fail "$1: got $2, want $3"
  echo "ok: $1 = $3"
}

bash "$repo/deploy/build-image.sh" --build-dir "$build_dir" --no-build \
  --vigil-tag "$vigil_tag" --demo-tag "$demo_tag" --staging "$work/staging"

# --- the vigil image's configuration -------------------------------------------------
user=$(image_config "$vigil_tag" User | tr -d '"')
expect_eq "vigil image user" "$user" "65534:65534"
expect_eq "vigil image exposed ports" "$(image_config "$vigil_tag" ExposedPorts)" '{"9090/tcp": {}}'
expect_eq "vigil image volumes" "$(image_config "$vigil_tag" Volumes)" '{"/vigil": {}}'
mapfile -t argv < <(image_argv "$vigil_tag")
expect_eq "vigil image command" "${argv[*]}" \
  "/bin/vigil --config.file=/etc/vigil/prometheus.yml --storage.tsdb.path=/vigil"

container=$(buildah from --pull=false "$vigil_tag")
containers+=("$container")
root=$(buildah mount "$container")
expect_eq "owner of /vigil in the image" "$(stat -c %u:%g "$root/vigil")" "65534:65534"

# --- run it from the image's own files ---------------------------------------------------
# As the Kubernetes StatefulSet runs it (readOnlyRootFilesystem): in a private mount
# namespace (so no mount outlives the process), a read-only view of the image's root
# with only the /vigil volume writable.
view=$work/rootfs-ro
mkdir -p "$view"
# shellcheck disable=SC2016  # expanded by the inner sh, with its own $1 and $2
readonly_view='mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && mount --bind "$1/vigil" "$2/vigil"'
launcher=(env)
if unshare --mount --propagation private -- sh -c "$readonly_view && ! touch \"\$2/probe\" 2>/dev/null" \
  _ "$root" "$view"; then
  echo "ok: running with the image's root read-only and /vigil writable"
  launcher=(unshare --mount --propagation private -- sh -c "$readonly_view && shift 2 && exec \"\$@\"" _ "$root" "$view")
  run_root=$view
else
  echo "note: no private read-only mount here; running on the image's writable mount"
  run_root=$root
fi
port=$(free_port)
log=$work/vigil.log
"${launcher[@]}" chroot --userspec="$user" "$run_root" "${argv[@]}" \
  --web.listen-address="127.0.0.1:$port" >"$log" 2>&1 &
vigil_pid=$!
pids+=("$vigil_pid")
if ! wait_http "http://127.0.0.1:$port/-/ready"; then
  tail -n 30 "$log" >&2
  fail "vigil from the image did not answer /-/ready within 30 s"
fi
echo "ok: /-/ready answers 200"
expect_eq "uid of the vigil process" "$(stat -c %u "/proc/$vigil_pid")" 65534
answer=$(curl -sf "http://127.0.0.1:$port/api/v1/query?query=vector(6*7)")
case "$answer" in
  *'"status":"success"'*'"42"'*) echo "ok: query answered: $answer" ;;
  *) fail "query vector(6*7) answered: $answer" ;;
esac
expect_eq "POST /-/reload (lifecycle off)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/reload")" 403
health=$(chroot --userspec="$user" "$root" /bin/busybox wget -q -O - "http://127.0.0.1:$port/-/healthy")
case "$health" in
  *Healthy*) echo "ok: the health check command inside the image: $health" ;;
  *) fail "busybox wget /-/healthy inside the image answered: $health" ;;
esac
[ -f "$root/vigil/LOCK" ] || fail "no LOCK file in the /vigil volume: $(ls -la "$root/vigil")"
owners=$(find "$root/vigil" ! -uid 65534 | head -n 3)
[ -z "$owners" ] || fail "files in /vigil not owned by the image's user: $owners"
echo "ok: the data is written into /vigil as 65534"

kill -TERM "$vigil_pid"
status=0
wait "$vigil_pid" || status=$?
expect_eq "vigil exit code after SIGTERM" "$status" 0

# --- the inventory demo image ------------------------------------------------------------
mapfile -t demo_argv < <(image_argv "$demo_tag")
expect_eq "demo image command" "${demo_argv[*]}" "/bin/inventory_demo --listen-address=0.0.0.0:3000"
demo_container=$(buildah from --pull=false "$demo_tag")
containers+=("$demo_container")
demo_root=$(buildah mount "$demo_container")
demo_port=$(free_port)
chroot --userspec="$(image_config "$demo_tag" User | tr -d '"')" "$demo_root" "${demo_argv[0]}" \
  --listen-address="127.0.0.1:$demo_port" >"$work/demo.log" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
wait_http "http://127.0.0.1:$demo_port/metrics" || { cat "$work/demo.log" >&2; fail "the demo did not start"; }
curl -sf "http://127.0.0.1:$demo_port/metrics" | grep -q '^inventory_items_total ' ||
  fail "the demo's /metrics has no inventory_items_total"
echo "ok: the inventory demo image serves inventory_items_total"
chroot --userspec=65534:65534 "$demo_root" /bin/busybox wget -q --spider "http://127.0.0.1:$demo_port/metrics" ||
  fail "the demo image's health check command failed"
echo "ok: the health check command inside the demo image"
kill -TERM "$demo_pid"
wait "$demo_pid" 2>/dev/null || true
echo "deploy_image: all checks passed"
