#!/usr/bin/env bash
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Install Prometheus Alertmanager (Debian 12 package prometheus-alertmanager, 0.25) for the paging tests and demos.
# Needs root (apt-get). Idempotent: does nothing when it is already installed. Nothing is started: the tests
# (tests/paging/conftest.py) run their own instance on a loopback port with their own configuration and storage,
# and stop it by PID.
#
# Usage: tests/services/install-alertmanager.sh
set -euo pipefail

if dpkg-query -W -f='${Status}\n' prometheus-alertmanager 2>/dev/null | grep -q '^install ok installed$' \
   && [ -x /usr/bin/prometheus-alertmanager ]; then
    echo "prometheus-alertmanager is already installed: nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-alertmanager.sh: must run as root (apt-get install prometheus-alertmanager)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends prometheus-alertmanager
echo "prometheus-alertmanager installed: $(/usr/bin/prometheus-alertmanager --version 2>&1 | head -n 1)"
