#!/usr/bin/env bash
# The Docker side of the set-up, for the e2e fleet (e2e/test/*.docker.test.ts); idempotent:
#   1. a Docker engine that answers: `dockerd` started in the background (log /var/log/rhi-dockerd.log)
#      when `docker info` does not answer (no systemd here); docker.io comes from setup.sh's packages;
#   2. what a crashed e2e run left behind: containers and networks labelled rhi.e2e=true, removed;
#   3. the e2e image rhi-e2e:<tag>, built from Debian's packages (e2e/docker/packages.txt) with mmdebstrap
#      and `docker import`: no image registry is needed. Node is not in it: the tests mount the project's.
# Prints the image name on stdout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$RHI_ROOT"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! timeout 10 docker info >/dev/null 2>&1; then
  log "starting dockerd (log /var/log/rhi-dockerd.log)"
  $SUDO sh -c 'setsid dockerd >>/var/log/rhi-dockerd.log 2>&1 < /dev/null &'
  for _ in $(seq 1 120); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  timeout 10 docker info >/dev/null 2>&1 || { tail -20 /var/log/rhi-dockerd.log >&2; echo "setup-docker: dockerd does not answer (log above)" >&2; exit 1; }
fi

leftover_containers="$(docker ps -aq --filter label=rhi.e2e=true)"
if [ -n "$leftover_containers" ]; then
  log "removing containers an earlier e2e run left: $(echo "$leftover_containers" | wc -l)"
  # shellcheck disable=SC2086
  docker rm -f $leftover_containers >/dev/null
fi
leftover_networks="$(docker network ls -q --filter label=rhi.e2e=true)"
if [ -n "$leftover_networks" ]; then
  log "removing networks an earlier e2e run left: $(echo "$leftover_networks" | wc -l)"
  # shellcheck disable=SC2086
  docker network rm $leftover_networks >/dev/null
fi

image="rhi-e2e:$(sha256sum e2e/docker/packages.txt | cut -c1-12)"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  packages="$(grep -v '^#' e2e/docker/packages.txt | grep -v '^$' | paste -sd, -)"
  # The host's own apt sources when it is Debian bookworm (no mirror written into the repo); otherwise
  # mmdebstrap's default, Debian's own mirror.
  sources=()
  if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      [ -s "$f" ] && grep -q '^[^#]' "$f" && sources+=("$f")
    done
  fi
  aptopts=()
  if apt-config dump 2>/dev/null | grep -q '^Acquire::Check-Valid-Until "false"'; then
    aptopts+=(--aptopt='Acquire::Check-Valid-Until "false"')
  fi
  log "building $image from Debian bookworm: $packages (about a minute)"
  build_log="$(mktemp)"
  if ! $SUDO mmdebstrap --variant=apt --include="$packages" "${aptopts[@]}" bookworm - "${sources[@]}" 2>"$build_log" |
    docker import --change 'LABEL rhi.e2e.image=true' - "$image" >/dev/null; then
    tail -30 "$build_log" >&2
    rm -f "$build_log"
    echo "setup-docker: building $image failed (output above)" >&2
    exit 1
  fi
  rm -f "$build_log"
fi
echo "$image"
