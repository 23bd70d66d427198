#!/usr/bin/env bash
# Installs the built rhi-controller and rhictl on this machine (or under --root, for a package or an image):
#   /usr/lib/rhi-controller/   bin/{rhi-controller,rhictl}.js + dist/{rhi-controller,rhictl}.mjs: both
#                              commands, dependencies inlined (no node_modules)
#   /usr/bin/rhi-controller, /usr/bin/rhictl   run them on the Node 24 given (--node, default `node` on PATH)
#   /etc/systemd/system/rhi-controller.service
#   /etc/rhi/controller.yaml   the example, only where no file is there yet; mode 0640 (it holds the NATS
#                              secret and the API token hashes), group rhi-controller
#   /etc/rhi/ruleset-signing.{key,pub}   a new ed25519 rule-set signing key pair, only where no key is there
#                              yet (`rhi-controller keygen`): the private key 0600, owned by rhi-controller;
#                              the public key for every agent's rules.trustedKeys
#   /usr/share/doc/rhi-controller/examples/controller.yaml   the example, always
# and, on this machine only (no --root), the system user and group `rhi-controller`.
# Run from a checkout (the build, examples/ and scripts/install-common.sh are taken from there).
# Idempotent: run it again after an upgrade; it never overwrites /etc/rhi. It enables and starts nothing.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: packaging/install.sh [--root DIR] [--node PATH]
  --root DIR    install under DIR instead of / (no user is created, systemd is not told)
  --node PATH   the Node 24 that runs the controller (default: `node` on PATH)
Build first: scripts/setup.sh (or nx run @rhi/controller:build).
EOF
}

pkg=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$(cd "$pkg/../../scripts" && pwd)/install-common.sh"
install_args "$@"
examples=$(cd "$pkg/../../examples" && pwd)
commands=(rhi-controller rhictl)
for c in "${commands[@]}"; do
  [[ -f $pkg/dist/$c.mjs ]] || die "the controller is not built ($pkg/dist/$c.mjs is missing): run scripts/setup.sh first"
done
install_checks rhi-controller

lib=$(at /usr/lib/rhi-controller)
install -d -m 0755 "$lib/bin" "$lib/dist" "$(at /usr/bin)" "$(at /etc/systemd/system)" \
  "$(at /usr/share/doc/rhi-controller/examples)"
for c in "${commands[@]}"; do
  install -m 0644 "$pkg/bin/$c.js" "$lib/bin/$c.js"
  install -m 0644 "$pkg/dist/$c.mjs" "$lib/dist/$c.mjs"
done
# ESM, and the version `rhi-controller` reports (it reads ../package.json from its bundle).
"$node" -e 'const p = require(process.argv[1]); console.log(JSON.stringify({ name: p.name, version: p.version, type: "module" }))' \
  "$pkg/package.json" >"$lib/package.json"

# The commands, on the Node checked above. Each is written next to its place and renamed over it, so that
# a running command never sees half a file.
for c in "${commands[@]}"; do
  wrapper=$(mktemp "$(at /usr/bin)/.$c.XXXXXX")
  cat >"$wrapper" <<EOF
#!/bin/sh
# Written by rhi's packaging/install.sh: $c on Node $("$node" --version).
exec '$node' "\$(dirname "\$(readlink -f "\$0")")/../lib/rhi-controller/bin/$c.js" "\$@"
EOF
  chmod 0755 "$wrapper"
  mv -f "$wrapper" "$(at /usr/bin/$c)"
done

install -m 0644 "$pkg/packaging/rhi-controller.service" "$(at /etc/systemd/system/rhi-controller.service)"
install -m 0644 "$examples/controller.yaml" "$(at /usr/share/doc/rhi-controller/examples)/"

install -d -m 0755 "$(at /etc/rhi)"
config=$(at /etc/rhi/controller.yaml)
if [[ -e $config ]]; then
  echo "kept $config"
else
  install -m 0640 "$examples/controller.yaml" "$config"
  echo "wrote $config (the example: edit it)"
fi

key=$(at /etc/rhi/ruleset-signing)
if [[ -e $key.key ]]; then
  echo "kept $key.key"
else
  "$(at /usr/bin/rhi-controller)" keygen --out "$key" >/dev/null
  echo "wrote $key.key (the rule-set signing key, rules.signingKey) and $key.pub (for the agents)"
fi

if [[ $root == / ]]; then
  getent passwd rhi-controller >/dev/null ||
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin rhi-controller
  chgrp rhi-controller /etc/rhi/controller.yaml
  chown rhi-controller:rhi-controller /etc/rhi/ruleset-signing.key
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
  fi
fi

cat <<EOF
rhi-controller installed under ${root} (Node $("$node" --version) at $node). Next:
  1. edit /etc/rhi/controller.yaml: the NATS servers and credentials, and the API tokens
     (rhi-controller hash-token < token.txt prints the sha256 to put there)
  2. copy /etc/rhi/ruleset-signing.pub to every agent and name it in its config
     (rules.trustedKeys.ops-2026, the keyId of controller.yaml's rules section)
  3. rhi-controller check
  4. systemctl enable --now rhi-controller
  5. RHICTL_TOKEN_FILE=token.txt rhictl status
EOF
