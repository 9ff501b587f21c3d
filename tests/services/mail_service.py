# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives, for the tests.

``running_mail_server()`` starts one on a free loopback port and yields ``(port, mailbox)``;
``mailbox.messages`` holds ``{"to": [recipients], "data": "the message as text"}`` in arrival
order. aiosmtpd comes from requirements-test.txt: without it the ImportError says so.
"""

from __future__ import annotations

import contextlib

from rt_service import free_port


class Mailbox:
    """The handler of the SMTP server: what it received, in order."""

    def __init__(self):
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append({"to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@contextlib.contextmanager
def running_mail_server():
    """A started SMTP server on a free loopback port: ``(port, mailbox)``; stopped after."""
    from aiosmtpd.controller import Controller  # pylint: disable=import-outside-toplevel

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()
