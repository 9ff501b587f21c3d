# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets stay secret, even when a peer answers with them.

* appsuite_facts with credentials in ``cloud.proxy`` and ``replication.peer_url``, run for real
  at ``-vvv`` against a hostile loopback peer that answers every request with the credentials it
  got: neither the password nor the base64 form of the Basic credentials is in the output.
* A backend with Basic credentials (ServiceNow) whose peer echoes the Authorization header in its
  error: neither the password nor its base64 form is in the output.
* A token-bearing backend with an ``http://`` URL to another host than loopback is refused (exit
  78, nothing sent) unless IMAGICLE_ALLOW_HTTP=true.
"""

from __future__ import annotations

import base64
import json
import socket
import threading

import pytest

from fault_job import Estate, Job, Tickets, appsuite_disk, healthy, rt_settings

PROXY_USER, PROXY_PASSWORD = "proxyuser", "S3cretProxyPw"
PEER_USER, PEER_PASSWORD = "peeruser", "S3cretPeerPw"
SN_USER, SN_PASSWORD = "proactive", "S3cretSnowPw"


def _basic(user: str, password: str) -> str:
    return base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


class EchoPeer:
    """A hostile peer on a loopback port: answers every request (CONNECT included) with the
    credential headers it received, in the status line and in a JSON error body."""

    def __init__(self, status: int = 407):
        self.status = status
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen: list = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, dummy = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            client.settimeout(5)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = client.recv(4096)
                    if not chunk:
                        break
                    head += chunk
            except OSError:
                return
            lines = head.decode("latin-1").split("\r\n")
            credentials = [line.split(":", 1)[1].strip() for line in lines[1:]
                           if line.lower().startswith(("authorization:", "proxy-authorization:"))]
            self.seen.append(lines[0])
            said = " ".join(credentials) or "no credentials"
            body = json.dumps({"error": {"message": "denied for %s" % said, "detail": said}, "status": "failure"}).encode()
            answer = ("HTTP/1.1 %d Denied for %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n" % (self.status, said, len(body))).encode("latin-1") + body
            try:
                client.sendall(answer)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def echo_peer():
    peer = EchoPeer()
    yield peer
    peer.close()


def _leaks(text: str, user: str, password: str) -> list:
    forms = [password, "%s:%s" % (user, password), _basic(user, password)]
    return [form for form in forms if form in text]


def test_module_credentials_in_proxy_and_peer_urls_never_shown(tmp_path, echo_peer):
    host = "t09-module"
    estate = Estate(tmp_path / "estate")
    status_file = tmp_path / "replication.json"
    status_file.write_text(json.dumps({"state": "sync_ready", "reason": None, "peer": "ias-b",
                                       "updated_at": "2026-11-26T05:39:00Z"}))
    estate.add(host, None, facts_subset=["cloud", "replication"], facts_cloud={
        "url": "https://127.0.0.1:%d/test" % echo_peer.port, "timeout": 5,
        "proxy": "http://%s:%s@127.0.0.1:%d" % (PROXY_USER, PROXY_PASSWORD, echo_peer.port)}, facts_replication={
        "status_file": str(status_file), "validate_certs": False,
        "peer_url": "http://%s:%s@127.0.0.1:%d/" % (PEER_USER, PEER_PASSWORD, echo_peer.port)})
    run = Job(estate, tmp_path / "state.sqlite").run("-vvv", playbook="facts.yml")
    assert run.returncode == 0, run.describe()
    assert any(line.startswith("CONNECT ") for line in echo_peer.seen), "the module never used the proxy: %s" % echo_peer.seen
    assert any(line.startswith("GET ") for line in echo_peer.seen), "the module never asked the peer: %s" % echo_peer.seen
    leaks = _leaks(run.output, PROXY_USER, PROXY_PASSWORD) + _leaks(run.output, PEER_USER, PEER_PASSWORD)
    assert leaks == [], "credentials in the -vvv output: %s\n%s" % (leaks, run.describe())


def test_basic_credentials_of_a_backend_never_shown_even_when_echoed(tmp_path):
    host = "t09-basic"
    peer = EchoPeer(status=400)
    try:
        estate = Estate(tmp_path / "estate")
        estate.add(host, appsuite_disk(healthy(host), 96))
        job = Job(estate, tmp_path / "state.sqlite", IMAGICLE_CASES_BACKEND="servicenow",
                  IMAGICLE_SERVICENOW_URL="http://127.0.0.1:%d" % peer.port, IMAGICLE_SERVICENOW_USERNAME=SN_USER,
                  IMAGICLE_SERVICENOW_PASSWORD=SN_PASSWORD)
        run = job.run("-vvv")
    finally:
        peer.close()
    assert peer.seen, "the backend never called its peer:\n%s" % run.describe()
    leaks = _leaks(run.output, SN_USER, SN_PASSWORD)
    assert leaks == [], "credentials in the output: %s\n%s" % (leaks, run.describe())
    assert "denied for" in run.output, "the peer's answer is reported (scrubbed):\n%s" % run.describe()


def _loopback_name() -> str:
    """A host name of this machine that resolves to a loopback address but is not 'localhost' nor an IP."""
    candidates = [socket.gethostname(), socket.getfqdn(), "localhost.localdomain", "ip6-localhost", "ip6-loopback"]
    for name in candidates:
        if not name or name == "localhost" or name.replace(".", "").isdigit():
            continue
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)}
        except OSError:
            continue
        if addresses and all(address.startswith("127.") for address in addresses):
            return name
    raise AssertionError("no host name of this machine resolves to 127.x only (tried %s): add one to /etc/hosts" % candidates)


def test_a_token_over_clear_text_http_to_another_host_is_refused(tmp_path, rt, rt_proxy):
    host = "t09-http"
    name = _loopback_name()  # not loopback by name: the token would cross a network
    estate = Estate(tmp_path / "estate")
    estate.add(host, appsuite_disk(healthy(host), 96))
    url = "http://%s:%d" % (name, rt_proxy.port)
    job = Job(estate, tmp_path / "state.sqlite", **rt_settings(url, rt.token))

    refused = job.run()
    assert rt_proxy.log() == [], "the token was sent over http:// to %s" % name
    assert Tickets(rt).count(host) == 0
    assert refused.returncode == 78, "a token over clear text must fail the run (78):\n%s" % refused.describe()
    assert "IMAGICLE_ALLOW_HTTP" in refused.output or "allow_http" in refused.output, refused.describe()

    allowed = job.run(env={"IMAGICLE_ALLOW_HTTP": "true"})
    assert allowed.returncode == 0, allowed.describe()
    assert Tickets(rt).count(host) == 1, allowed.describe()
