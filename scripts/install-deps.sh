#!/usr/bin/env bash
# Installs the Debian 12 packages cachelab needs to build, run, test and benchmark. Idempotent: only what
# is missing is installed (as root, or through sudo). The single list of packages for make, CI and the
# container build.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang-format
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libpq-dev libhiredis-dev libspdlog-dev libfmt-dev libcli11-dev libgtest-dev
  # private backends for the demo, the tests and the benchmarks
  postgresql-15 postgresql-contrib redis-server redis-tools
  # benchmarks
  wrk
  # fuzzing (fuzz/, make fuzz; make test replays the corpora with GCC): Debian's clang and the libFuzzer runtime that matches it
  clang libclang-rt-14-dev
  # deployment-file checks in make test (yamllint; node + npm run the schema validators, see below)
  yamllint
  # /metrics checks in make test: promtool (check metrics) and a real Prometheus server that scrapes cachelab
  prometheus
  # the dashboard's browser tests: Debian's Chromium, driven by playwright-core (npm) at /usr/bin/chromium
  chromium
)
case "${1:-}" in
  # What the container's build stage needs: the compilers and libraries, no servers.
  --build-only)
    PACKAGES=(build-essential cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev
              libboost-url1.81-dev libboost-system1.81-dev libpq-dev libhiredis-dev libspdlog-dev libfmt-dev
              libcli11-dev nodejs npm) ;;
  # What the container's runtime stage needs: the shared libraries the binary links (see `ldd cachelab`).
  --runtime-only)
    PACKAGES=(libpq5 libhiredis0.14 libspdlog1.10 libfmt9 libboost-json1.81.0 libboost-url1.81.0) ;;
  # What `make image-test` needs: podman (rootful, runc), debootstrap for the base images, curl for the checks.
  --image-test)
    PACKAGES=(podman runc conmon containernetworking-plugins catatonit uidmap slirp4netns fuse-overlayfs
              debootstrap curl) ;;
  "") ;;
  *) echo "usage: $0 [--build-only|--runtime-only|--image-test]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm: Debian's packages unless a node and npm are already on PATH. Any Node from 18 (Debian 12's)
# will do: it only runs `npm ci`, which installs the Node that package-lock.json pins (npm's node-linux-<cpu>), and
# the build and the Node tests run on that one (CMakeLists.txt, scripts/node.sh).
if [[ -z "${1:-}" ]] && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian's postgresql and redis packages try to start system-wide services; cachelab never uses them.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
