#!/usr/bin/env bash
# Install the Debian packages the integration tests and the demo run as real daemons (and curl).
# Does nothing when they are all there already; needs root or sudo otherwise.
set -euo pipefail
# curl: what a client in another place runs to post its report to `dlwatch listen`.
packages=(transmission-daemon qbittorrent-nox nzbget deluged deluge-web rtorrent aria2 curl)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-clients: no apt-get here; install ${missing[*]} yourself" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
