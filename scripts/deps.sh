#!/bin/sh
# Installs the Debian packages mpbind needs, skipping those already present.
# Used by `make run`, `make test` and `make bench`. No network but apt.
set -eu

PACKAGES="build-essential pkg-config libfcgi-dev libmariadb-dev libjson-c-dev
libcurl4-openssl-dev libsodium-dev libssl-dev nginx mariadb-server mariadb-client
libcmocka-dev python3 python3-pytest python3-requests python3-pymysql python3-botocore
python3-cryptography python3-selenium chromium chromium-driver wrk ca-certificates
openssl procps tzdata fonts-wqy-microhei"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
