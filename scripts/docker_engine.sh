#!/usr/bin/env bash
# Make sure a Docker engine answers: start one where this machine allows it (root, Debian's docker.io).
# Used by .ci/run before `make compose-test`; harmless where an engine already runs. Exit 0 either way:
# the compose test skips, saying why, when no engine could be started.
set -uo pipefail
if docker info >/dev/null 2>&1; then
    echo "docker engine: already running"
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "docker engine: not running, and starting one needs root"
    exit 0
fi
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap; }; } >/tmp/apt-docker.log 2>&1 \
        || { echo "docker engine: apt-get install docker.io failed (see /tmp/apt-docker.log)"; exit 0; }
fi
nohup dockerd >/tmp/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        echo "docker engine: started"
        exit 0
    fi
    sleep 1
done
echo "docker engine: dockerd did not come up (see /tmp/dockerd.log)"
exit 0
