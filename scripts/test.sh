#!/usr/bin/env bash
# Runs every check and every test of ward, as CI does. Installs what the tests
# need when it is missing (a fresh machine has only the Rust toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  if [ "$(id -u)" = 0 ] && need apt-get; then
    echo "test.sh: installing $*" >&2
    # One `apt-get update` per run, before the first install.
    if [ -z "$apt_updated" ]; then
      apt-get update -qq >/dev/null 2>&1 || true
      apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "test.sh: missing $* (install it, or run as root to let this script do it)" >&2
    exit 1
  fi
}
# Services in the tests are POSIX sh one-liners using sleep, awk, kill.
need sh && need sleep && need awk || apt_install coreutils gawk
# Readiness tests (tests/e2e/health.rs) use the real `systemd-notify` (Debian's
# systemd package; nothing of systemd needs to run) and `python3 -m http.server`.
[ -x /usr/bin/systemd-notify ] || apt_install systemd
need python3 || apt_install python3
# `ward logs` colours only on a terminal: tests/e2e/logs_stream.rs gives it one with `script`.
need script || apt_install bsdutils
# The deployment examples are checked by tools from PyPI in a virtualenv
# (scripts/check-deploy.sh); Debian's python3 needs python3-venv for that.
python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv
# Containers (tests/e2e/oci.rs) need root, runc, and a busybox rootfs to run;
# without root they are skipped.
static_busybox() { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; }
if [ "$(id -u)" = 0 ]; then
  need runc || apt_install runc
  static_busybox || apt_install busybox-static
  export WARD_TEST_ROOTFS="${WARD_TEST_ROOTFS:-$PWD/target/test-rootfs}"
  BUSYBOX=/bin/busybox ./scripts/busybox-rootfs.sh "$WARD_TEST_ROOTFS"
else
  echo "test.sh: not root: the container tests will be skipped" >&2
fi
# Real daemons (tests/e2e/daemons.rs): PostgreSQL, redis and nginx run under
# ward as root. Their packages must not start the distro's own copies:
# policy-rc.d refuses every service start while they install.
if [ "$(id -u)" = 0 ] && { ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! need redis-server || ! [ -x /usr/sbin/nginx ]; }; then
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=1
  fi
  apt_install postgresql redis-server nginx-light
  if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
# The metrics test checks /metrics with the real `promtool check metrics`
# (Debian's prometheus package; --no-install-recommends keeps it to ~100 MB).
need promtool || apt_install --no-install-recommends prometheus
# `ward top` is driven in a real terminal, a detached tmux session (tests/e2e/top.rs).
need tmux || apt_install tmux
# The TCP API's tests: a real Prometheus scrapes ward (tests/e2e/prometheus.rs;
# the same package), openssl makes a test certificate (tests/e2e/tcp.rs), and
# headless Chromium drives the dashboard (tests/e2e/dashboard.rs).
need prometheus || apt_install --no-install-recommends prometheus
need openssl || apt_install openssl
need chromium || apt_install chromium

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== no cycle between the modules of crates/ward (scripts/module-cycles.py)"
python3 scripts/module-cycles.py
# The benchmark must not rot: a quick run of every scenario (about 15 s).
# The README's door: `cargo run` at the root must pick the `ward` binary
# (the first command is `cargo run --release -- up -f examples/demo.yaml`).
echo "== the README's first command resolves (cargo run -- check on the demo)"
cargo run --quiet -- check -f examples/demo.yaml
# ward-core as a library: it builds without its `spec` feature (no serde, no
# YAML), with its examples; its docs have no warnings; its public API listing
# is current (needs a nightly toolchain for rustdoc's JSON; skipped without one).
echo "== ward-core alone (--no-default-features, examples, docs)"
cargo build --quiet -p ward-core --no-default-features --examples
RUSTDOCFLAGS="-D warnings" cargo doc --quiet -p ward-core --no-deps
# ward-supervisor as a library: its examples run (each takes a few seconds at
# most; they kill what they start), its docs have no warnings, and both
# library crates package and build from their packages alone (with the
# crates.io index, as the rest of the build).
echo "== ward-supervisor's examples, docs, and the library crates' packages"
cargo run --quiet -p ward-supervisor --example load_balancer >/dev/null
cargo run --quiet -p ward-supervisor --example child_processes >/dev/null
RUSTDOCFLAGS="-D warnings" cargo doc --quiet -p ward-supervisor --no-deps
# Cargo takes a packaged crate for an immutable registry one: its unpacked
# copy and its build are never refreshed for the same version. So the check
# builds in a target folder of its own, cleared of our crates (their deps stay),
# and forgets cargo's unpacked copies of our packages.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ward-core-* "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ward-supervisor-*
cargo clean --quiet --target-dir target/package-check -p ward-core -p ward-supervisor
cargo package --quiet --target-dir target/package-check -p ward-core -p ward-supervisor --allow-dirty
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "== public API listings of ward-core and ward-supervisor (scripts/public-api.sh)"
  ./scripts/public-api.sh
else
  echo "test.sh: no nightly toolchain: the public API listings are not checked" >&2
fi
echo "== ward-bench --quick (smoke)"
cargo build --quiet -p ward -p ward-bench
target/debug/ward-bench --quick
echo "== deployment examples (Kubernetes schemas, Nomad HCL, hadolint, ward check)"
./scripts/check-deploy.sh target/debug/ward
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
# One closing line for every test binary together (cargo prints one per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
