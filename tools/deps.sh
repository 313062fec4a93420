#!/bin/sh
# Install every Debian package that building, the demo and the tests need.
# Quiet and quick when all are present; as non-root, print the command instead.
set -e
PKGS="build-essential pkg-config libc-ares-dev libinih-dev check
debhelper lintian
iproute2 procps psmisc curl socat netcat-openbsd python3 dnsutils
dante-server microsocks tinyproxy dnsmasq-base proxychains4 nodejs
clang libclang-rt-14-dev iputils-ping
chromium firefox-esr
libseccomp-dev golang-go busybox-static strace"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
