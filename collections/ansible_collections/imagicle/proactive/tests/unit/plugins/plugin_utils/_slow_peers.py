# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peers on 127.0.0.1 for the deadline tests: they answer slowly, a byte at a time, or not at all.

:class:`SlowPeer` is a tiny threaded TCP server. For each connection it plays ``answers`` in
order: for each one it first waits for the client's request (unless ``speaks_first``, as an SMTP
server does), then sends the answer's bytes ``interval`` seconds apart; an answer of None sends
nothing and holds the connection open. With ``tls`` (an ``ssl.SSLContext``) it speaks TLS.
Everything stops in :meth:`SlowPeer.close`.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time


class SlowPeer:
    """A server on 127.0.0.1 that drips ``answers`` (``[(bytes or None, interval), ...]``) on each connection."""

    def __init__(self, answers: list[tuple[bytes | None, float]], *, speaks_first: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.answers = answers
        self.speaks_first = speaks_first
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that the accepting thread sees close() soon
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._talk, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _talk(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(0.2)
            for answer, interval in self.answers:
                if not self.speaks_first and not self._read_request(conn):
                    return
                if answer is None:
                    self._stop.wait()
                    return
                for index in range(len(answer)):
                    if self._stop.is_set():
                        return
                    conn.sendall(answer[index:index + 1])
                    if interval:
                        time.sleep(interval)
            self._stop.wait()
        except OSError:
            return
        finally:
            conn.close()

    def _read_request(self, conn: socket.socket) -> bool:
        """Wait for some bytes of the next request (False when the client went away or the peer stops)."""
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return False
            self.requests.append(data)
            return True
        return False

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()
