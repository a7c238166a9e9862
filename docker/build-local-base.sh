#!/usr/bin/env bash
# Build the images' Python base from Debian packages alone, for hosts that cannot pull public images
# (air-gapped networks, registries behind a proxy). Needs root, debootstrap and a Docker engine.
#
#   docker/build-local-base.sh [TAG]            # default TAG: rubric-rewards/base:bookworm
#
# Environment:
#   DEBIAN_MIRROR  Debian mirror to bootstrap from (default http://deb.debian.org/debian; a local mirror works)
#   CA_BUNDLE      CA bundle copied into the image so pip trusts your proxy (default: this host's bundle)
#   CACHE_DIR      where the root filesystem tarball is kept between runs (default /var/cache/rubric-rewards)
#
# The result stands in for python:3.11-slim-bookworm: Debian's Python 3.11 with venv, CA certificates and
# the OpenMP runtime that torch and llama.cpp load. Pass it to the builds as BASE_IMAGE (see README).
set -euo pipefail

TAG="${1:-rubric-rewards/base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
CACHE_DIR="${CACHE_DIR:-/var/cache/rubric-rewards}"
PACKAGES=python3,python3-venv,python3-pip,ca-certificates,libgomp1,tini

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "base image $TAG already present"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }

mkdir -p "$CACHE_DIR"
tarball="$CACHE_DIR/bookworm-minbase.tar"
if [[ ! -s "$tarball" ]]; then
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap bookworm into $rootfs (a few minutes) ..."
    debootstrap --variant=minbase --include="$PACKAGES" bookworm "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log"
    if [[ -s "$CA_BUNDLE" ]]; then
        cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    fi
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi

bundle=/etc/ssl/certs/ca-certificates.crt
docker import \
    --change "ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PIP_CERT=$bundle SSL_CERT_FILE=$bundle REQUESTS_CA_BUNDLE=$bundle" \
    --change 'CMD ["python3"]' \
    "$tarball" "$TAG" >/dev/null
echo "built $TAG"
