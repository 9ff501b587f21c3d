# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of appsuite_facts that may carry credentials are secrets: no_log, and never in the output."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.imagicle.proactive.plugins.modules import appsuite_facts

# (section, option) of every option that may hold a password, directly or inside a URL.
SECRET_OPTIONS = [
    ("webapi", "password"),
    ("database", "password"),
    ("cloud", "proxy"),
    ("replication", "peer_url"),
]


@pytest.mark.parametrize("section, option", SECRET_OPTIONS)
def test_options_that_may_carry_credentials_are_no_log(section, option):
    assert appsuite_facts.argument_spec()[section]["options"][option].get("no_log") is True


@pytest.mark.parametrize("section, option", [("cloud", "proxy"), ("replication", "peer_url")])
def test_their_documentation_says_so(section, option):
    documentation = yaml.safe_load(appsuite_facts.DOCUMENTATION)
    description = " ".join(documentation["options"][section]["suboptions"][option]["description"])
    assert "no_log" in description and "credentials" in description


def test_urls_with_credentials_never_come_back(tmp_path, capsys):
    replication = tmp_path / "replication.json"
    replication.write_text(json.dumps({"state": "sync_ready", "peer": "ias-b", "updated_at": "2026-11-26T05:39:00Z"}))
    args = {
        "state_dir": str(tmp_path / "state"),
        "gather_subset": ["cloud", "replication"],
        "gather_timeout": 2,
        "cloud": {"url": "http://127.0.0.1:9/test", "proxy": "http://proxyuser:Pr0xy-S3cret@127.0.0.1:9", "timeout": 1},
        "replication": {"status_file": str(replication), "peer_url": "https://peeruser:P33r-S3cret@127.0.0.1:9/"},
    }
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            appsuite_facts.main()
    output = capsys.readouterr().out
    result = json.loads(output)
    assert "imagicle_health" in result["ansible_facts"]
    # What -vvv prints: the module's arguments, with the secrets replaced.
    arguments = result["invocation"]["module_args"]
    assert arguments["cloud"]["proxy"] == arguments["replication"]["peer_url"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    for secret in ("Pr0xy-S3cret", "P33r-S3cret", "proxyuser:", "peeruser:"):
        assert secret not in output


def test_credentials_echoed_by_a_proxy_never_come_back_in_any_form(tmp_path, capsys):
    """A proxy that answers 407 with the Proxy-Authorization it received in its reason phrase."""
    import base64
    import http.server
    import threading

    pair = "proxyuser:Pr0xy-S3cret"
    encoded = base64.b64encode(pair.encode()).decode()

    class EchoingProxy(http.server.BaseHTTPRequestHandler):
        def do_CONNECT(self):  # noqa: N802 (http.server's naming)
            self.send_response(407, "denied %s %s" % (self.headers.get("Proxy-Authorization"), pair))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_CONNECT  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoingProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        args = {
            "state_dir": str(tmp_path / "state"),
            "gather_subset": ["cloud"],
            "gather_timeout": 3,
            "cloud": {"url": "http://127.0.0.1:9/test", "proxy": "http://%s@127.0.0.1:%d" % (pair, server.server_address[1]),
                      "timeout": 2},
        }
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                appsuite_facts.main()
    finally:
        server.shutdown()
        server.server_close()
    output = capsys.readouterr().out
    cloud = json.loads(output)["ansible_facts"]["imagicle_health"]["cloud"]
    assert "407" in cloud["problem"], cloud
    for secret in (encoded, pair, "Pr0xy-S3cret"):
        assert secret not in output
