# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cases of a run, planned and sent step by step by a process of their own.

The ``cases`` callback hands each host to the filer as soon as the host is evaluated (when it
stands alone, see :meth:`cases.RunInput.stands_alone`), and at the end of the run the whole run;
the filer plans and sends each step under the state store's run lock and answers, at the end,
with the run's report and the actions still undelivered.

Why a process and not a thread of ``ansible-playbook``: Ansible forks a worker for every task of
every host while the run goes on. A thread of the main process that is inside SQLite (or any C
library with locks of its own) when a worker is forked leaves that lock held, for ever, in the
worker, which then hangs at its own first use of SQLite (the evaluate action records the metric
history). The filer is forked from the main process, as Ansible's workers are, and inherits what the
main process has imported (the case manager, the backends: no second Python to start and no module
to import again); the main process never touches the state store during the run, and the filer
never touches what the main process uses (its display, its queues). It ends with ``os._exit``, so
that none of ``ansible-playbook``'s exit handlers runs twice.

The two talk over two pipes made before the fork with pickled tuples:
``("start", settings)``, ``("host", name, part)`` ..., ``("end", run)``; the answer is
``("done", report, undelivered)`` or ``("error", kind, message)``.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from datetime import datetime, timezone

from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases as case_manager

# The exit code of a filer that failed before it could answer (EX_SOFTWARE).
CRASHED = 70


class FilerError(Exception):
    """The filer could not file the run's cases: ``kind`` is the class of what went wrong
    (``StoreLocked``, ``StoreError``, ``BackendError``, ``crashed`` or another exception's name)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- the callback's side -----------------------------------------------------------------------


class Filer:
    """Starts the filer process and talks to it (the callback's side)."""

    def __init__(self, settings: dict):
        to_filer, from_callback = os.pipe()
        to_callback, from_filer = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice by the filer
            stream.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the filer
            code = CRASHED
            try:
                os.close(from_callback)
                os.close(to_callback)
                _filer_process(os.fdopen(to_filer, "rb"), os.fdopen(from_filer, "wb"))
                code = 0
            except BaseException:  # pylint: disable=broad-except  # said on standard error; the callback reports "crashed"
                traceback.print_exc()
            finally:
                os._exit(code)  # pylint: disable=protected-access  # never ansible-playbook's exit handlers
        os.close(to_filer)
        os.close(from_filer)
        self.requests = os.fdopen(from_callback, "wb")
        self.answers = os.fdopen(to_callback, "rb")
        self.broken = None
        self._send(("start", settings))

    def _send(self, message) -> None:
        if self.broken is not None:
            return
        try:
            pickle.dump(message, self.requests, protocol=pickle.HIGHEST_PROTOCOL)
            self.requests.flush()
        except (OSError, ValueError) as exc:  # the filer is gone: finish() says why
            self.broken = exc

    def wait(self) -> int:
        """The filer's exit code (it has ended or is ending)."""
        while True:
            try:
                return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            except InterruptedError:
                continue
            except ChildProcessError:
                return CRASHED

    def submit(self, host: str, part) -> None:
        """Plan and send ``host`` now (``part``: its RunInput alone)."""
        self._send(("host", host, part))

    def finish(self, run):
        """The end of the run (``run``: the whole RunInput): (report, undelivered lines), or FilerError."""
        self._send(("end", run))
        try:
            self.requests.close()
        except OSError:
            pass
        try:
            answer = pickle.load(self.answers)
        except (EOFError, pickle.UnpicklingError, OSError):
            answer = None
        self.answers.close()
        code = self.wait()
        if not isinstance(answer, tuple) or not answer:
            raise FilerError("crashed", "the process that files the cases ended without a report (exit code %s)" % code)
        if answer[0] == "error":
            raise FilerError(answer[1], answer[2])
        return answer[1], answer[2]


# --- the filer's side ----------------------------------------------------------------------------


def backends(store, options: dict) -> dict:
    """The case backends, pager and mailer of the callback's options."""
    timeout = float(options["request_timeout_seconds"])
    allow_http = bool(options["allow_http"])
    found = {"local": _local(store)}
    backend, pager = options["backend"], options["pager"]
    if backend == "rt":
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend

        found["rt"] = RtBackend(options["rt_url"], token=options["rt_token"], queue=options["rt_queue"],
                                key_field=options["rt_key_field"], timeout=timeout, allow_http=allow_http)
    if backend == "servicenow":
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.servicenow import ServiceNowBackend

        found["servicenow"] = ServiceNowBackend(
            options["servicenow_url"], username=options["servicenow_username"], password=options["servicenow_password"],
            token=options["servicenow_token"], assignment_group=options["servicenow_assignment_group"], timeout=timeout,
            allow_http=allow_http)
    if backend == "webhook":
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.webhook import WebhookBackend

        found["webhook"] = WebhookBackend(options["webhook_url"], secret=options["webhook_secret"], timeout=timeout,
                                          allow_http=allow_http)
    if pager == "alertmanager":
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.alertmanager import AlertmanagerPager

        found["alertmanager"] = AlertmanagerPager(options["alertmanager_url"], timeout=timeout, allow_http=allow_http)
    elif pager == "pagerduty":
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.pagerduty import PagerDutyPager

        found["pagerduty"] = PagerDutyPager(options["pagerduty_routing_key"], url=options["pagerduty_url"], timeout=timeout,
                                            allow_http=allow_http)
    if options["mail"]:
        from ansible_collections.imagicle.proactive.plugins.plugin_utils.mail import Mailer, SmtpSettings

        found["mail"] = Mailer(SmtpSettings(
            host=options["smtp_host"], port=options["smtp_port"], security=options["smtp_security"],
            username=options["smtp_username"], password=options["smtp_password"], sender=options["mail_from"],
            ca_path=options["smtp_ca_path"], timeout=timeout))
    return found


def _local(store):
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend

    return LocalBackend(store)


class Steps:
    """The run's cases, step by step: what the filer process does with the callback's messages."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.policy = settings["policy"]
        self.report = case_manager.RunReport()
        self.planned: set = set()
        self.sent_seconds = 0.0
        self.down: set = set()

    def _lock(self, store, report=None):
        # The lock holds this process's pid (a lock whose process died is taken over at once); the owner names the
        # ansible-playbook run it files for.
        owner = "imagicle.proactive.cases (%s, ansible-playbook pid %s)" % (self.settings["playbook"], self.settings["run_pid"])
        return case_manager.run_lock(store, owner,
                                     wait_seconds=float(self.settings["lock_wait_seconds"]),
                                     ttl_seconds=int(self.settings["lock_ttl_seconds"]), report=report)

    def _plan(self, store, run, now: datetime, host=None) -> None:
        options = self.settings["options"]
        pager = options["pager"]
        notifications = case_manager.Notifications(pager=None if pager == "none" else pager, mail=bool(options["mail"]),
                                                   contacts=run.contacts)
        case_manager.plan_run(store, run.alarms, run.checked_hosts, options["backend"], now, self.report,
                              notifications=notifications, gaps=run.gaps, evaluated_hosts=run.evaluated_hosts,
                              policy=self.policy, customers=None if host is not None else run.customers, host=host,
                              planned_hosts=None if host is not None else set(self.planned))

    def _send(self, store, found, lock, now: datetime) -> None:
        left = float(self.settings["send_seconds"]) - self.sent_seconds
        if left <= 0:
            return
        started = time.monotonic()
        # What earlier runs could not send is older, so it goes first.
        case_manager.drain(store, found, now, self.report, attempts_in_run=int(self.settings["attempts"]),
                           policy=self.policy, lock=lock, send_seconds=left, down=self.down)
        self.sent_seconds += time.monotonic() - started

    def run(self, store, next_hosts) -> tuple:
        """Plan and send the hosts ``next_hosts()`` gives ([(host, part)], ending with (None, run)), then the rest of
        the run; returns (report, undelivered lines)."""
        found = backends(store, self.settings["options"])
        # While the run's own flood case is open, the run is planned as a whole, so that its cap holds.
        flood = store.get_case(case_manager.flood_fingerprint(case_manager.RUN_FLOOD_CUSTOMER, case_manager.RUN_FLOOD_HOST))
        one_by_one = flood is None or flood.status != "open"
        run = None
        while run is None:
            hosts = next_hosts()
            if hosts and hosts[-1][0] is None:
                run = hosts.pop()[1]
            if not hosts or not one_by_one or self.report.new_cases >= self.policy.max_new_per_run:
                continue  # planned with the rest at the end
            # The run lock is held for each step only, so that runs against the same store (the slices of an
            # AWX job) take turns host by host instead of waiting for each other's end.
            try:
                with self._lock(store, report=self.report) as lock:  # a wait or a takeover is told in the run's notes
                    now = datetime.now(timezone.utc)
                    for host, part in hosts:
                        self._plan(store, part, now, host=host)
                        self.planned.add(host)
                    self._send(store, found, lock, now)
            except case_manager.StoreLocked:
                continue  # busy past lock_wait_seconds: these hosts are planned at the end
        with self._lock(store, report=self.report) as lock:
            now = datetime.now(timezone.utc)
            self._plan(store, run.without(self.planned), now)
            self._send(store, found, lock, now)
            return self.report, case_manager.undelivered_lines(store, now)


def _reader(stream, inbox: queue.Queue) -> None:
    """Every message of the callback into ``inbox`` as soon as it comes (the callback never waits on a full pipe)."""
    while True:
        try:
            message = pickle.load(stream)
        except (EOFError, pickle.UnpicklingError, OSError):
            inbox.put(("end", None))
            return
        inbox.put(message)
        if message[0] == "end":
            return


def _next_hosts(inbox: queue.Queue):
    def take() -> list:
        """The hosts handed over so far (waiting for the first), the end of the run last: [(host, part)]."""
        waiting = [inbox.get()]
        while waiting[-1][0] == "host":
            try:
                waiting.append(inbox.get_nowait())
            except queue.Empty:
                break
        steps = [(message[1], message[2]) for message in waiting if message[0] == "host"]
        if waiting[-1][0] == "end":
            if waiting[-1][1] is None:
                raise FilerError("crashed", "the callback ended without handing over the end of the run")
            steps.append((None, waiting[-1][1]))
        return steps
    return take


def _kind(exc: Exception) -> str:
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.base import BackendError
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError, StoreLocked

    for kind in (StoreLocked, StoreError, BackendError):
        if isinstance(exc, kind):
            return kind.__name__
    return type(exc).__name__


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """Leave at once when the ansible-playbook run is gone (killed): a filer must not outlive its run, holding the
    run lock or sending, while the next run starts. What it was sending stays queued in the outbox."""
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(3)  # pylint: disable=protected-access


def serve(instream, outstream, parent: int | None = None) -> int:
    """The filer process: read the callback's messages from ``instream``, answer on ``outstream``."""
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import open_store

    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        start = pickle.load(instream)
        settings = start[1]
        inbox: queue.Queue = queue.Queue()
        threading.Thread(target=_reader, args=(instream, inbox), daemon=True).start()
        with open_store(settings["options"]["store"]) as store:
            report, undelivered = Steps(settings).run(store, _next_hosts(inbox))
        answer = ("done", report, undelivered)
    except FilerError as exc:
        answer = ("error", exc.kind, exc.message)
    except Exception as exc:  # pylint: disable=broad-except  # told to the callback, which fails the run loudly
        answer = ("error", _kind(exc), str(exc))
    pickle.dump(answer, outstream, protocol=pickle.HIGHEST_PROTOCOL)
    outstream.flush()
    return 0


def _filer_process(requests, answers) -> None:
    """The forked filer: the signals as a new process has them (not ansible-playbook's handlers), whatever a
    library prints on standard error, then :func:`serve`."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    os.dup2(2, 1)
    serve(requests, answers, parent=os.getppid())
