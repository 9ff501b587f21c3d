#!/usr/bin/env bash
# Sets up this machine for imagicle.proactive: Debian packages, the project's virtualenv
# (.venv) with the awx.awx collection and, for "test", the test tools, galaxy-importer in
# .venv-importer and ansible-test's offline pip bootstrap.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [runtime|test]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-runtime}"

apt_packages=(openssh-server openssh-client python3 python3-psutil python3-psycopg2 python3-venv
              iproute2 util-linux e2fsprogs openssl sqlite3 make procps)
if [ "$what" = test ]; then
  # shellcheck: the sanity test of the integration targets' runme.sh
  apt_packages+=(postgresql git shellcheck)
fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these Debian packages are missing: ${missing[*]}; run this as root, or install them first." >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$what" = test ]; then
  # A real Request Tracker for the case backend tests (SQLite database) and a real Alertmanager
  # for paging; the tests start and stop them.
  bash tests/services/install-rt.sh
  bash tests/services/install-alertmanager.sh
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
req=requirements.txt
[ "$what" = test ] && req=requirements-test.txt
stamp=".venv/.installed-$(sha256sum requirements.txt requirements-test.txt | sha256sum | cut -c1-16)-$what"
if [ ! -e "$stamp" ]; then
  echo "setup: installing Python packages from $req"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi

# awx.awx, for playbooks/awx_configure.yml (awx/requirements.yml pins it for Galaxy users): taken
# alone from the pinned community "ansible" wheel on PyPI, checked by its sha256, into the venv's
# site-packages/ansible_collections, where ansible-core finds collections on sys.path.
# Nothing is downloaded when that version is already there.
.venv/bin/python scripts/install_awx_collection.py 12.3.0 \
    cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414 24.6.1

if [ "$what" = test ]; then
  # galaxy-importer (tests/collection/test_galaxy_importer.py) pins attrs<24, which the test
  # tools above do not accept: it gets a virtualenv of its own, .venv-importer.
  if [ ! -x .venv-importer/bin/python ]; then
    echo "setup: creating .venv-importer with $($PY --version)"
    "$PY" -m venv .venv-importer
  fi
  stamp=".venv-importer/.installed-$(sha256sum requirements-importer.txt | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    echo "setup: installing galaxy-importer from requirements-importer.txt"
    .venv-importer/bin/python -m pip install -q --disable-pip-version-check -r requirements-importer.txt
    touch "$stamp"
  fi
fi

if [ "$what" = test ]; then
  # ansible-test downloads a get-pip script for its sanity venvs; give it the offline stand-in.
  pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" \
      .venv/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)
  cache="$HOME/.ansible/test/cache"
  mkdir -p "$cache"
  cp scripts/get_pip_offline.py "$cache/get_pip_${pip_version//./_}.py"
fi
echo "setup: ready ($what)"
