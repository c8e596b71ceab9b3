#!/usr/bin/env bash
# Installs everything Vigil needs to build, test and benchmark on Debian 12,
# from Debian's packages only. Safe to run again: it skips apt when all
# packages are present. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git clang libclang-rt-14-dev ccache
  clang-format  # scripts/check_format.sh
  # libraries (see README "Dependencies")
  librocksdb-dev libcpp-httplib-dev libyaml-cpp-dev libsnappy-dev libfmt-dev libre2-dev
  nlohmann-json3-dev zlib1g-dev libssl-dev libbrotli-dev libcrypt-dev  # TLS, bcrypt (web/)
  libgtest-dev libgmock-dev libbenchmark-dev
  # reference oracle and peers for differential and end-to-end tests
  prometheus prometheus-node-exporter prometheus-alertmanager
  victoria-metrics  # remote_write receiver (tests/e2e/remote_write_test.cc)
  # test and benchmark drivers
  curl python3 procps chromium linux-perf openssl apache2-utils  # certs, htpasswd (README "Securing Vigil")
  # deploy/: container images (buildah, from scratch), their health-check tool and CA
  # bundle, the compose file's check, YAML for the deploy tests (tests/deploy)
  buildah busybox-static ca-certificates docker-compose python3-yaml
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# Node.js and npm build the web UI; any Node >= 18 with npm will do (Debian's
# nodejs+npm, or a preinstalled one).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's prometheus package starts a service where systemd runs; tests start
# their own instances on loopback ports, so make sure none holds :9090.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl stop prometheus prometheus-node-exporter prometheus-alertmanager || true
fi
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet victoria-metrics 2>/dev/null; then
  $SUDO systemctl stop victoria-metrics || true
fi
echo "install-deps: all dependencies present"
