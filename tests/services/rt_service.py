# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real Request Tracker 5 (Debian ``request-tracker5``) for tests and demos, without touching /etc.

Each instance lives in its own state directory:

* ``etc/RT_SiteConfig.pm`` and ``etc/RT_SiteConfig.d/99-instance.pm``: the whole site configuration
  (WebDomain 127.0.0.1, WebPort, WebPath '', WebBaseURL, its own SQLite database, outgoing mail
  written to ``outgoing.mbox`` in the state directory). RT reads them through its ``RT_SITE_CONFIG``
  and ``RT_SITE_CONFIG_DIR`` environment variables, so /etc/request-tracker5 is left as installed
  and several instances can run side by side on different ports.
* ``rtdb``: the instance's SQLite database, first copied from Debian's freshly installed
  ``/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb``, then set up once (see below);
  ``rtdb.setup``: a copy taken right after the setup, restored by :meth:`RtService.reset`.
* ``tokens.json`` (mode 0600): REST 2 auth tokens made with ``RT::AuthToken->Create`` and the
  random password of ``proactive-api`` (for Basic authentication).
* ``rt-server.pid``, ``rt-server.log``, ``instance.json`` (port of the last start).

The setup (a short Perl script run through RT's own libraries) creates the ticket custom field
``AlarmKey`` (FreeformSingle, applied to queue General), the privileged user ``proactive-api`` with
the queue rights a case backend needs (SeeQueue, CreateTicket, ShowTicket, ModifyTicket,
CommentOnTicket, ReplyToTicket, ShowTicketComments; SeeCustomField and ModifyCustomField on the CF),
the user ``proactive-readonly`` (see and read only) and one token for each of them and for ``root``.

Install RT first with ``tests/services/install-rt.sh`` (root). CLI for demos::

    python3 tests/services/rt_service.py start|stop|reset|status [--state-dir D] [--port P]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

RT_SERVER = "/usr/share/request-tracker5/libexec/rt-server"
RT_LIB_DIRS = ("/usr/share/request-tracker5/lib", "/usr/local/share/request-tracker5/lib")
DEBIAN_DB = "/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb"
DEFAULT_PORT = 8081
DEFAULT_STATE_DIR = "/tmp/imagicle-proactive-rt"
API_USER = "proactive-api"
READONLY_USER = "proactive-readonly"
KEY_FIELD = "AlarmKey"
QUEUE = "General"

_SETUP_PERL = r"""
use strict;
use warnings;
use lib @ARGV[0 .. 1];
use RT;
RT::LoadConfig();
RT::Init();

my $sys = RT->SystemUser;
my $queue = RT::Queue->new($sys);
$queue->Load('__QUEUE__');
die "queue __QUEUE__ not found\n" unless $queue->id;

my $cf = RT::CustomField->new($sys);
$cf->LoadByName(Name => '__KEY__', LookupType => RT::Ticket->CustomFieldLookupType);
unless ($cf->id) {
    my ($id, $msg) = $cf->Create(
        Name => '__KEY__', Type => 'FreeformSingle',
        LookupType => RT::Ticket->CustomFieldLookupType,
        Description => 'Idempotency key of the alarm that opened this ticket',
    );
    die "cannot create custom field __KEY__: $msg\n" unless $id;
}
unless ($cf->IsAdded($queue->id)) {
    my ($ok, $msg) = $cf->AddToObject($queue);
    die "cannot apply custom field __KEY__ to queue __QUEUE__: $msg\n" unless $ok;
}

sub ensure_user {
    my ($name) = @_;
    my $user = RT::User->new($sys);
    $user->Load($name);
    unless ($user->id) {
        my ($id, $msg) = $user->Create(Name => $name, EmailAddress => "$name\@localhost", Privileged => 1);
        die "cannot create user $name: $msg\n" unless $id;
    }
    return $user;
}

sub grant {
    my ($user, $object, @rights) = @_;
    for my $right (@rights) {
        next if $user->PrincipalObj->HasRight(Right => $right, Object => $object);
        my ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => $object);
        die "cannot grant $right to " . $user->Name . ": $msg\n" unless $ok;
    }
}

sub token {
    my ($user) = @_;
    my $token = RT::AuthToken->new($sys);
    my ($id, $msg, $auth) = $token->Create(Owner => $user->id, Description => 'imagicle.proactive tests');
    die "cannot create an auth token for " . $user->Name . ": $msg\n" unless $id;
    return $auth;
}

my $api = ensure_user('__API__');
my ($pw_ok, $pw_msg) = $api->SetPassword($ENV{RT_TEST_API_PASSWORD});
die "cannot set the password of __API__: $pw_msg\n" unless $pw_ok;
grant($api, $queue, qw(SeeQueue CreateTicket ShowTicket ModifyTicket CommentOnTicket ReplyToTicket ShowTicketComments));
grant($api, $cf, qw(SeeCustomField ModifyCustomField));
my $ro = ensure_user('__RO__');
grant($ro, $queue, qw(SeeQueue ShowTicket ShowTicketComments));
grant($ro, $cf, qw(SeeCustomField));

print "api\t" . token($api) . "\n";
print "readonly\t" . token($ro) . "\n";
my $root = RT::User->new($sys);
$root->Load('root');
die "user root not found\n" unless $root->id;
print "root\t" . token($root) . "\n";
"""


class RtServiceError(RuntimeError):
    """The local Request Tracker could not be installed, set up, started or stopped."""


@dataclass(frozen=True)
class RtTokens:
    """REST 2 auth tokens of the instance (secrets: never print them)."""

    api: str
    readonly: str
    root: str
    api_password: str

    def __repr__(self) -> str:
        return "RtTokens(<hidden>)"


def rt_installed() -> bool:
    """True when Debian's request-tracker5 (rt-server and its SQLite database) is installed."""
    return os.access(RT_SERVER, os.X_OK) and os.path.isfile(DEBIAN_DB)


@contextlib.contextmanager
def running_rt(directory: str):
    """A started Request Tracker in ``directory`` on a free loopback port, stopped at the end; the
    test is skipped when RT is not installed."""
    import pytest  # pylint: disable=import-outside-toplevel

    if not rt_installed():
        pytest.skip("Request Tracker is not installed (/usr/share/request-tracker5/libexec/rt-server missing): "
                    "run tests/services/install-rt.sh as root")
    service = RtService(directory, free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 chosen by the kernel (ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _perl_quote(text: str) -> str:
    """A Perl single-quoted string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class RtService:
    """One Request Tracker instance on 127.0.0.1:<port> with its state under ``state_dir``."""

    def __init__(self, state_dir: str, port: int = DEFAULT_PORT, start_timeout: float = 90.0) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.port = int(port)
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"RtService(state_dir={self.state_dir!r}, port={self.port})"

    # paths -------------------------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        return os.path.join(self.state_dir, *parts)

    @property
    def url(self) -> str:
        """Base URL of the web server (WebBaseURL, WebPath '')."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        """Base URL of REST 2."""
        return f"{self.url}/REST/2.0"

    @property
    def db_path(self) -> str:
        return self._path("rtdb")

    @property
    def log_path(self) -> str:
        return self._path("rt-server.log")

    @property
    def mbox_path(self) -> str:
        """Where RT's outgoing mail is written (nothing leaves the machine)."""
        return self._path("outgoing.mbox")

    # tokens -------------------------------------------------------------------------------------
    @property
    def tokens(self) -> RtTokens:
        path = self._path("tokens.json")
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise RtServiceError(f"no tokens in {path}: start the service once to set it up ({exc.__class__.__name__})") from None
        try:
            return RtTokens(api=data["api"], readonly=data["readonly"], root=data["root"], api_password=data["api_password"])
        except KeyError as exc:
            raise RtServiceError(f"{path} has no token {exc}: delete {self.state_dir} and start again") from None

    @property
    def token(self) -> str:
        """REST 2 token of the API user ``proactive-api`` (a secret: never print it)."""
        return self.tokens.api

    # configuration ------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["RT_SITE_CONFIG"] = self._path("etc", "RT_SiteConfig.pm")
        env["RT_SITE_CONFIG_DIR"] = self._path("etc", "RT_SiteConfig.d")
        return env

    def _write_config(self) -> None:
        conf_d = self._path("etc", "RT_SiteConfig.d")
        os.makedirs(conf_d, exist_ok=True)
        with open(self._path("etc", "RT_SiteConfig.pm"), "w", encoding="utf-8") as handle:
            handle.write("# Site configuration of this test instance: see RT_SiteConfig.d/ beside this file.\n1;\n")
        sendmail = self._path("sendmail")
        with open(sendmail, "w", encoding="utf-8") as handle:
            handle.write(f"#!/bin/sh\n# Outgoing mail of the test RT: appended to a local mbox, never sent.\n"
                         f"{{ echo \"From rt@localhost $(date)\"; cat; echo; }} >> {_shell_quote(self.mbox_path)}\n")
        os.chmod(sendmail, 0o755)
        lines = [
            "# Written by tests/services/rt_service.py for this instance only.",
            "Set($rtname, 'rt.test');",
            "Set($Organization, 'rt.test');",
            "Set($CorrespondAddress, 'rt@localhost');",
            "Set($CommentAddress, 'rt-comment@localhost');",
            "Set($Timezone, 'UTC');",
            "Set($DatabaseType, 'SQLite');",
            f"Set($DatabaseName, {_perl_quote(self.db_path)});",
            "Set($WebDomain, '127.0.0.1');",
            f"Set($WebPort, {self.port});",
            "Set($WebPath, '');",
            f"Set($WebBaseURL, {_perl_quote(self.url)});",
            "Set($LogToSyslog, undef);",
            "Set($LogToFile, undef);",
            "Set($LogToSTDERR, 'warning');",
            "Set($MailCommand, 'sendmailpipe');",
            f"Set($SendmailPath, {_perl_quote(sendmail)});",
            "Set($SendmailArguments, '');",
            "1;",
        ]
        with open(os.path.join(conf_d, "99-instance.pm"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        with open(self._path("instance.json"), "w", encoding="utf-8") as handle:
            json.dump({"port": self.port, "url": self.url}, handle)

    def _setup_database(self) -> None:
        """First start: copy Debian's database, add the CF, users, rights and tokens, snapshot it."""
        if not os.path.isfile(DEBIAN_DB):
            raise RtServiceError(f"{DEBIAN_DB} not found: install RT with tests/services/install-rt.sh (as root)")
        shutil.copyfile(DEBIAN_DB, self.db_path)
        script = (_SETUP_PERL.replace("__QUEUE__", QUEUE).replace("__KEY__", KEY_FIELD)
                  .replace("__API__", API_USER).replace("__RO__", READONLY_USER))
        password = secrets.token_urlsafe(18)
        env = {**self._env(), "RT_TEST_API_PASSWORD": password}
        proc = subprocess.run(["perl", "-e", script, *RT_LIB_DIRS], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        if proc.returncode != 0:
            raise RtServiceError(f"setting up {self.db_path} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
        tokens = dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)
        if not {"api", "readonly", "root"} <= set(tokens):
            raise RtServiceError(f"setting up {self.db_path}: the Perl setup printed no tokens; stderr: {proc.stderr.strip()[-2000:]}")
        path = self._path("tokens.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({**{name: tokens[name] for name in ("api", "readonly", "root")}, "api_password": password}, handle)
        shutil.copyfile(self.db_path, self._path("rtdb.setup"))

    # process ------------------------------------------------------------------------------------
    def pid(self) -> int | None:
        """PID of the running rt-server of this state directory, or None."""
        try:
            with open(self._path("rt-server.pid"), encoding="ascii") as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def _answers(self) -> bool:
        """True when REST 2 answers GET /rt with the API token (200)."""
        request = urllib.request.Request(f"{self.rest_url}/rt", headers={
            "Authorization": f"token {self.token}", "User-Agent": "imagicle-proactive-tests"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # nosec - loopback only
                return response.status == 200
        except urllib.error.HTTPError as exc:
            raise RtServiceError(f"GET {self.rest_url}/rt answered HTTP {exc.code}: the instance setup is broken; "
                                 f"delete {self.state_dir} and start again") from None
        except (urllib.error.URLError, OSError):
            return False

    def start(self) -> RtService:
        """Set up (first time) and start rt-server in the background; wait until REST 2 answers."""
        if not rt_installed():
            raise RtServiceError(f"Request Tracker is not installed ({RT_SERVER} or {DEBIAN_DB} missing): "
                                 "run tests/services/install-rt.sh as root")
        if self.running():
            return self
        os.makedirs(self.state_dir, exist_ok=True)
        self._write_config()
        if not os.path.isfile(self._path("rtdb.setup")):
            self._setup_database()
        elif not os.path.isfile(self.db_path):
            shutil.copyfile(self._path("rtdb.setup"), self.db_path)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RtServiceError(f"port {self.port} on 127.0.0.1 is already in use: choose another with --port")
        log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        try:
            self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [RT_SERVER, "--host", "127.0.0.1", "--port", str(self.port), "--max-workers", "2"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                cwd=self.state_dir, start_new_session=True)
        finally:
            log.close()
        with open(self._path("rt-server.pid"), "w", encoding="ascii") as handle:
            handle.write(f"{self._proc.pid}\n")
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RtServiceError(f"rt-server exited with {self._proc.returncode} while starting on port {self.port}; "
                                     f"log {self.log_path}:\n{self.log_tail()}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RtServiceError(f"rt-server did not answer {self.rest_url}/rt within {self.start_timeout:.0f} s; "
                             f"log {self.log_path}:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop rt-server by its PID (TERM, then KILL after ``timeout``) and wait until it is gone."""
        pid = self.pid()
        if pid is None:
            self._reap()
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self._reap()
                if not _pid_alive(pid):
                    break
                time.sleep(0.05)
            if not _pid_alive(pid):
                break
        # the prefork workers are in the server's own session (process group = its PID)
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._reap()
        if _pid_alive(pid):
            raise RtServiceError(f"rt-server PID {pid} did not stop")
        try:
            os.unlink(self._path("rt-server.pid"))
        except FileNotFoundError:
            pass

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    def reset(self) -> RtService:
        """Stop, restore the database copy taken after setup, start again."""
        if not os.path.isfile(self._path("rtdb.setup")):
            return self.start()
        self.stop()
        for suffix in ("-journal", "-wal", "-shm"):
            try:
                os.unlink(self.db_path + suffix)
            except FileNotFoundError:
                pass
        shutil.copyfile(self._path("rtdb.setup"), self.db_path)
        with open(self.mbox_path, "w", encoding="utf-8"):
            pass
        return self.start()

    def status(self) -> dict[str, object]:
        return {"running": self.running(), "pid": self.pid(), "url": self.url, "rest_url": self.rest_url,
                "state_dir": self.state_dir, "log": self.log_path, "tokens_file": self._path("tokens.json"),
                "installed": rt_installed()}


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _saved_port(state_dir: str) -> int | None:
    try:
        with open(os.path.join(state_dir, "instance.json"), encoding="utf-8") as handle:
            return int(json.load(handle)["port"])
    except (OSError, ValueError, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local Request Tracker 5 for tests and demos (127.0.0.1 only).")
    parser.add_argument("action", choices=("start", "stop", "reset", "status"))
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help=f"instance directory (default {DEFAULT_STATE_DIR})")
    parser.add_argument("--port", type=int, default=None,
                        help=f"TCP port on 127.0.0.1 (default: the last one used in the state dir, else {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    port = args.port or _saved_port(args.state_dir) or DEFAULT_PORT
    service = RtService(args.state_dir, port)
    try:
        if args.action == "start":
            started = time.monotonic()
            service.start()
            print(f"RT running at {service.url} (REST 2: {service.rest_url}), PID {service.pid()}, "
                  f"ready in {time.monotonic() - started:.1f} s; API token in {service.status()['tokens_file']}")
        elif args.action == "stop":
            service.stop()
            print("RT stopped")
        elif args.action == "reset":
            started = time.monotonic()
            service.reset()
            print(f"RT reset to its post-setup database and running at {service.url} in {time.monotonic() - started:.1f} s")
        else:
            print(json.dumps(service.status(), indent=2))
    except RtServiceError as exc:
        print(f"rt_service: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
