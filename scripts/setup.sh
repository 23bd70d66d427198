#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 / Ubuntu machine (run as root, or with sudo available):
#   1. Debian packages the tests use as real daemons and tools (haproxy 2.6, bird2 2.0, nats-server 2.9,
#      iproute2, openssl for the NATS TLS the controller makes, Debian's chromium and a font for the
#      dashboard's browser tests);
#   2. Node 24 LTS under .tools/ (the system Node is left alone);
#   3. npm dependencies (npm ci, only when package-lock.json changed);
#   4. for the e2e fleet: Docker (Debian's docker.io, dockerd started when it does not answer) and the e2e
#      image built from Debian's packages (scripts/setup-docker.sh).
# Every step checks first and does nothing when already done.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$RHI_ROOT"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(haproxy bird2 nats-server iproute2 ca-certificates openssl chromium fonts-dejavu-core docker.io mmdebstrap)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  # Keep package installs from starting system daemons: the tests start their own instances.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$created_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi

if [ ! -x "$RHI_NODE_DIR/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "unsupported machine $(uname -m)" >&2; exit 1 ;;
  esac
  log "installing Node $RHI_NODE_VERSION into $RHI_NODE_DIR (npm package node-linux-$arch)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$RHI_NODE_VERSION" >/dev/null)
  mkdir -p "$RHI_NODE_DIR.partial"
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$RHI_NODE_DIR.partial" --strip-components=1
  rm -rf "$tmp" "$RHI_NODE_DIR"
  mv "$RHI_NODE_DIR.partial" "$RHI_NODE_DIR"
fi
[ "$(node --version)" = "v$RHI_NODE_VERSION" ] || { echo "node on PATH is $(node --version), expected v$RHI_NODE_VERSION" >&2; exit 1; }

stamp="node_modules/.rhi-lock-$(sha256sum package-lock.json | cut -c1-16)-$RHI_NODE_VERSION"
if [ ! -e "$stamp" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# Build the packages (nx caches: a no-op when nothing changed) so that bins such as `npx rhi-rules` work.
build_log="$(mktemp)"
if ! nx run-many -t build --output-style=static >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  echo "setup: the build failed (output above)" >&2
  exit 1
fi
rm -f "$build_log"
e2e_image="$(bash "$RHI_ROOT/scripts/setup-docker.sh")"
log "setup done: node $(node --version), haproxy $(haproxy -v | head -1 | awk '{print $3}'), bird $(bird --version 2>&1 | awk '{print $3}'), nats-server $(nats-server --version | awk '{print $2}'), docker $(docker version --format '{{.Server.Version}}'), e2e image $e2e_image"
