#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; install it when it is missing (needs root or sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "error: /usr/bin/chromium is missing; install Debian's chromium package (apt-get install chromium)"; exit 1; }
  SUDO=sudo
fi
echo "installing Debian chromium for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium || { echo "error: chromium did not install to /usr/bin/chromium"; exit 1; }
