#!/usr/bin/env bash
# Install the Debian packages the integration tests and the demo run as real daemons (and curl, and
# the Chromium the page is tested in).
# Does nothing when they are all there already; needs root or sudo otherwise.
#
# Starts nothing and leaves nothing enabled: Debian's packages of transmission-daemon, deluged and
# deluge-web enable and start system-wide services on install (deluge-web would listen on
# 0.0.0.0:8112 with its default password). The tests and the demo run their own daemons on
# 127.0.0.1 and never need those, so service starts are denied while apt installs (policy-rc.d), and
# every service the new packages ship is disabled (and stopped) right after.
set -euo pipefail
# curl: what a client in another place runs to post its report to `dlwatch listen`.
# chromium and chromium-driver: the page `dlwatch serve` answers is tested in a real browser.
packages=(transmission-daemon qbittorrent-nox nzbget deluged deluge-web rtorrent aria2 curl chromium chromium-driver)
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

# invoke-rc.d (which every Debian maintainer script starts services through) asks policy-rc.d first;
# exit 101 means "not allowed". One already there is put aside and back.
policy=/usr/sbin/policy-rc.d
saved="$policy.dlwatch-saved"
restore_policy() {
  $sudo rm -f "$policy"
  if [ -e "$saved" ]; then $sudo mv "$saved" "$policy"; fi
}
if [ -e "$policy" ]; then $sudo mv "$policy" "$saved"; fi
trap restore_policy EXIT
printf '#!/bin/sh\n# dlwatch install-clients.sh: no service starts while it installs\nexit 101\n' | $sudo tee "$policy" >/dev/null
$sudo chmod 755 "$policy"

echo "installing ${missing[*]} (no service of theirs is started or enabled)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# What the packages enabled anyway: systemd units (enabled by deb-systemd-helper even where systemd
# does not run, as in a container or chroot) and System V init links.
for unit in $(dpkg -L "${missing[@]}" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/@]+\.service$' | xargs -r -n1 basename); do
  if command -v systemctl >/dev/null; then
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now --quiet "$unit" || true
    else
      $sudo systemctl disable --quiet "$unit" 2>/dev/null || true
    fi
  fi
  if command -v deb-systemd-helper >/dev/null; then
    $sudo deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
  fi
done
for script in $(dpkg -L "${missing[@]}" 2>/dev/null | grep -E '^/etc/init\.d/[^/]+$' | xargs -r -n1 basename); do
  $sudo service "$script" stop >/dev/null 2>&1 || true  # in case one started before the policy held
  if command -v update-rc.d >/dev/null; then
    $sudo update-rc.d "$script" disable >/dev/null 2>&1 || true
  fi
done
