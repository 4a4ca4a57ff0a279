#!/usr/bin/env bash
# pgibot's set-up on a fresh Debian 12 machine. Two uses, both from the repository root:
#   bash deploy/setup.sh run    installs what is missing, builds, starts the bot on config/pgibot.toml
#   bash deploy/setup.sh test   installs what is missing, builds, runs every test
# Nothing is downloaded but Debian packages (apt) and, for `test`, the browser test's one npm package
# (playwright-core, pinned in tests/web/package-lock.json; it drives Debian's chromium, downloads no browser).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-}"
case "$mode" in
  run|test) ;;
  *) echo "usage: bash deploy/setup.sh run|test" >&2; exit 2 ;;
esac

# Build and run-time dependencies (Debian 12 "bookworm" package names).
packages=(
  g++ cmake ninja-build pkg-config ccache
  libboost1.81-dev libssl-dev nlohmann-json3-dev libspdlog-dev libsqlite3-dev
  libtomlplusplus-dev libcli11-dev libutf8proc-dev libsodium-dev prometheus-cpp-dev
  libcurl4-openssl-dev ca-certificates openssl
)
if [ "$mode" = test ]; then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev sqlite3 python3)
  # The end-to-end browser test of /chat (tests/web): Chromium, and Node.js + npm unless already on PATH.
  packages+=(chromium)
  { command -v node && command -v npm; } >/dev/null 2>&1 || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$mode" = test ]; then
  # Before cmake: tests/web/CMakeLists.txt registers web_chat only when node_modules is there.
  echo "== installing the browser test's npm package (tests/web)"
  if [ -f tests/web/package-lock.json ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/web --no-audit --no-fund
  else
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix tests/web --no-audit --no-fund
  fi
fi

jobs="$(nproc 2>/dev/null || echo 2)"
echo "== building (release preset, $jobs jobs)"
tests=OFF
[ "$mode" = test ] && tests=ON
cmake --preset release -DPGIBOT_BUILD_TESTS="$tests" >/dev/null
cmake --build --preset release -j "$jobs"

if [ "$mode" = run ]; then
  echo "== starting pgibot on config/pgibot.toml; open http://127.0.0.1:8080/chat to talk to it"
  exec build/release/bot/app/pgibot serve --config config/pgibot.toml
fi

echo "== running every test"
ctest --preset release -j "$jobs" --timeout 600
