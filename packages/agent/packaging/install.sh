#!/usr/bin/env bash
# Installs the built rhi-agent on this machine (or under --root, for a package or an image):
#   /usr/lib/rhi-agent/       bin/rhi-agent.js + dist/rhi-agent.mjs: the whole agent, dependencies inlined
#   /usr/bin/rhi-agent        runs it on the Node 24 given (--node, default the `node` on PATH)
#   /etc/systemd/system/rhi-agent.service, /etc/tmpfiles.d/rhi-agent.conf
#   /etc/rhi/agent.yaml, /etc/rhi/rules.cfg   the examples, only where no file is there yet
#   /usr/share/doc/rhi-agent/examples/        the examples, always (bird.conf snippet included)
# and, on this machine only (no --root), the system user `rhi` in the groups `haproxy` and `bird`. The
# group `rhi` is the operators': it reads /etc/rhi and may use the admin socket (rhi-agent drain).
# Run from a checkout (the build, examples/ and scripts/install-common.sh are taken from there).
# Idempotent: run it again after an upgrade; it never overwrites /etc/rhi. It enables and starts nothing.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: packaging/install.sh [--root DIR] [--node PATH]
  --root DIR    install under DIR instead of / (no user is created, systemd is not told)
  --node PATH   the Node 24 that runs the agent (default: `node` on PATH)
Build first: scripts/setup.sh (or nx run @rhi/agent:build).
EOF
}

pkg=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$(cd "$pkg/../../scripts" && pwd)/install-common.sh"
install_args "$@"
examples=$(cd "$pkg/../../examples" && pwd)
[[ -f $pkg/dist/rhi-agent.mjs ]] || die "the agent is not built ($pkg/dist/rhi-agent.mjs is missing): run scripts/setup.sh first"
install_checks rhi-agent

lib=$(at /usr/lib/rhi-agent)
install -d -m 0755 "$lib/bin" "$lib/dist" "$(at /usr/bin)" "$(at /etc/systemd/system)" "$(at /etc/tmpfiles.d)" \
  "$(at /usr/share/doc/rhi-agent/examples)"
install -m 0644 "$pkg/bin/rhi-agent.js" "$lib/bin/rhi-agent.js"
install -m 0644 "$pkg/dist/rhi-agent.mjs" "$lib/dist/rhi-agent.mjs"
echo '{ "type": "module" }' >"$lib/package.json"

# The command: Node's flags from the bin's shebang, on the Node checked above. Written next to its place
# and renamed over it, so that a running `rhi-agent` never sees half a file.
flags=$(sed -n '1s|^#!/usr/bin/env -S node||p' "$pkg/bin/rhi-agent.js")
wrapper=$(mktemp "$(at /usr/bin)/.rhi-agent.XXXXXX")
cat >"$wrapper" <<EOF
#!/bin/sh
# Written by rhi's packaging/install.sh: rhi-agent on Node $("$node" --version).
exec '$node'$flags "\$(dirname "\$(readlink -f "\$0")")/../lib/rhi-agent/bin/rhi-agent.js" "\$@"
EOF
chmod 0755 "$wrapper"
mv -f "$wrapper" "$(at /usr/bin/rhi-agent)"

install -m 0644 "$pkg/packaging/rhi-agent.service" "$(at /etc/systemd/system/rhi-agent.service)"
install -m 0644 "$pkg/packaging/rhi-agent.tmpfiles.conf" "$(at /etc/tmpfiles.d/rhi-agent.conf)"
install -m 0644 "$examples"/* "$(at /usr/share/doc/rhi-agent/examples)/"

install -d -m 0755 "$(at /etc/rhi)"
for f in agent.yaml rules.cfg; do
  if [[ -e $(at /etc/rhi/$f) ]]; then
    echo "kept $(at /etc/rhi/$f)"
  else
    install -m 0640 "$examples/$f" "$(at /etc/rhi/$f)"
    echo "wrote $(at /etc/rhi/$f) (the example: edit it)"
  fi
done

if [[ $root == / ]]; then
  getent passwd rhi >/dev/null ||
    useradd --system --user-group --home-dir /var/lib/rhi --no-create-home --shell /usr/sbin/nologin rhi
  for group in haproxy bird; do
    if getent group "$group" >/dev/null; then
      usermod -a -G "$group" rhi
    else
      echo "note: no group $group yet (install $group first, then run this again)"
    fi
  done
  chgrp rhi /etc/rhi/agent.yaml /etc/rhi/rules.cfg
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    systemd-tmpfiles --create rhi-agent.conf
  fi
fi

cat <<EOF
rhi-agent installed under ${root} (Node $("$node" --version) at $node). Next:
  1. edit /etc/rhi/agent.yaml and /etc/rhi/rules.cfg; add include "/run/rhi/rhi-routes.conf"; to bird.conf
  2. rhi-agent check
  3. systemctl enable --now rhi-agent
  4. operators who may drain the node: usermod -a -G rhi <user> (rhi-agent drain uses /run/rhi/admin.sock)
EOF
