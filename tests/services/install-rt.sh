#!/usr/bin/env bash
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Install Request Tracker 5 (Debian 12 package request-tracker5) with an SQLite database, non-interactively,
# for the backend tests and demos. Needs root (apt-get). Idempotent: does nothing when it is already installed.
#
# Usage: tests/services/install-rt.sh [PORT]      (PORT only seeds debconf's webbaseurl; default 8081;
#                                                   tests/services/rt_service.py sets the real port per run)
# Environment: RT_INITIAL_ROOT_PASSWORD (default: a random one; the tests log in with a token, not with it).
set -euo pipefail

PORT="${1:-8081}"

if dpkg-query -W -f='${Status}\n' request-tracker5 2>/dev/null | grep -q '^install ok installed$' \
   && [ -x /usr/share/request-tracker5/libexec/rt-server ]; then
    echo "request-tracker5 is already installed: nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-rt.sh: must run as root (apt-get install request-tracker5)" >&2
    exit 1
fi

ROOT_PW="${RT_INITIAL_ROOT_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}"

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q debconf-utils >/dev/null

debconf-set-selections <<SEL
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/rtname string rt.test
request-tracker5 request-tracker5/organization string rt.test
request-tracker5 request-tracker5/correspondaddress string rt@localhost
request-tracker5 request-tracker5/commentaddress string rt-comment@localhost
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1:${PORT}
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/initial-root-password password ${ROOT_PW}
SEL

apt-get install -y -q --no-install-recommends request-tracker5 rt5-db-sqlite rt5-standalone
echo "request-tracker5 installed (SQLite database; start it with tests/services/rt_service.py start)"
