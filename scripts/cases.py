# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List and show support cases: the case map, the local register, the silences and the outbox of the state store.

The same as playbooks/cases.yml, without Ansible:

    .venv/bin/python scripts/cases.py list [--status open|resolved] [--store URL]
    .venv/bin/python scripts/cases.py show FINGERPRINT_OR_LOCAL_ID [--store URL]
    .venv/bin/python scripts/cases.py outbox [--status queued|sent|dropped] [--store URL]

The store is the one the cases callback uses: --store, else IMAGICLE_STATE_STORE, else the
default SQLite file.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.imagicle.proactive.plugins.plugin_utils.case_report import QueryError, report  # noqa: E402
from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError, open_store  # noqa: E402


def list_cases(store, status) -> int:
    for line in report(store, datetime.now(timezone.utc), status=status or "all")["lines"]:
        print(line)
    return 0


def show_case(store, wanted) -> int:
    try:
        found = report(store, datetime.now(timezone.utc), case=wanted)
    except QueryError as exc:
        print("cases: %s" % exc, file=sys.stderr)
        return 1
    for line in found["lines"]:
        print(line)
    return 0


def list_outbox(store, status) -> int:
    for item in store.outbox(status=status):
        print("%-7s %-8s %-8s attempts %d%s  %s%s" % (item.status, item.kind, item.backend, item.attempts,
                                                      " REFUSED" if item.refused else "", item.key,
                                                      ("  (%s)" % (item.drop_reason or item.last_error))
                                                      if (item.drop_reason or item.last_error) else ""))
    return 0


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", default=os.environ.get("IMAGICLE_STATE_STORE"),
                        help="state store URL or SQLite path (default: IMAGICLE_STATE_STORE or the default file)")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="cases, newest state first")
    listing.add_argument("--status", choices=["open", "resolved"])
    show = sub.add_parser("show", help="one case with its body and comments")
    show.add_argument("case")
    outbox = sub.add_parser("outbox", help="the actions sent, undelivered (queued) or dropped")
    outbox.add_argument("--status", choices=["queued", "sent", "dropped"])
    args = parser.parse_args(argv)
    try:
        with open_store(args.store) as store:
            if args.command == "list":
                return list_cases(store, args.status)
            if args.command == "show":
                return show_case(store, args.case)
            return list_outbox(store, args.status)
    except StoreError as exc:
        print("cases: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
