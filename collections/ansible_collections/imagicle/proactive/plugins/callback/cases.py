# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cases
type: notification
short_description: Open, update, resolve and reopen support cases from the alarms of the run
version_added: 0.1.0
description:
  - Takes the alarms that M(imagicle.proactive.evaluate) returns for each host of the run to the case manager, which
    opens a case for a new alarm, updates it when its priority changes, resolves it when its host was checked and the
    alarm no longer fires, and reopens it when the condition is back within the reopen window.
  - The cases of a host are planned and sent as soon as that host is evaluated, while the run goes on with the other
    hosts, so a slow or unreachable host does not delay them. A host that did not report, or whose alarms join
    hosts (an HA replication alarm, a lost cloud connection), is planned at the end of the run with every host in
    view, so that one case stands for the cause (a dead HA peer, a customer that lost the cloud everywhere).
  - Every action goes through an outbox in the state store with an idempotency key, before it is sent;
    what the backend cannot take now stays queued and is sent first at the next run.
  - Hosts that are not eligible for proactive support (plan, consent, release) are left out entirely.
  - Nothing is forgotten - an action that cannot be delivered (a backend down, a refused token, a login page instead
    of the API) stays in the outbox with its reason and is retried with backoff on later runs; every run reports what
    is still undelivered. Cases whose rule could not be measured in the run keep their state.
  - Failing loudly - when cases cannot be filed (a missing or wrong setting, a state store that cannot be used, the
    lock of another run held past O(lock_wait_seconds)) the playbook ends with exit code 78; when an action was
    refused in this run, or has waited longer than O(undelivered_fail_minutes), with exit code 75. The table of the
    run is printed first. Playbooks that evaluate nothing (or only look, with C(file_cases=false)) are not failed.
  - Memory across runs - an alarm of a rule with C(for_runs) or C(for_minutes) is pending (no case, mail or page)
    until its condition held that long; a value between a rule's C(clear) and C(warn) thresholds keeps an open case
    quietly; a condition that changes state more than O(flap_changes) times within O(flap_window_minutes) is flapping
    and kept on its one case. The table of the run counts the pending and the flapping alarms.
  - With O(pager) set, a case for an alarm whose plan pages (platinum P1) pages the on-call platform, with the
    alarm fingerprint as the dedup key, and the page is resolved when the case is. With O(mail) on, the
    customer's contacts (C(imagicle_contacts)) are mailed when a case opens and when it is resolved, in
    their language (C(imagicle_language)).
author:
  - imagicle.proactive contributors (@imagicle-proactive)
requirements:
  - enable in configuration (C(callbacks_enabled = imagicle.proactive.cases) in the C([defaults]) section of
    C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=imagicle.proactive.cases))
  - requests on the controller, for the V(rt), V(servicenow) and V(webhook) backends and the pagers
  - psycopg2 (the C(psycopg2-binary) package) on the controller, only for a PostgreSQL state store
options:
  backend:
    description:
      - Where cases are kept. V(local) is the embedded register in the state store; V(rt) is Request Tracker;
        V(servicenow) is a ServiceNow instance (Table API, C(incident)); V(webhook) posts signed JSON to a URL.
    type: str
    choices: [local, rt, servicenow, webhook]
    default: local
    env:
      - name: IMAGICLE_CASES_BACKEND
    ini:
      - section: imagicle_cases
        key: backend
  store:
    description:
      - The state store, C(sqlite:///path) or a path for SQLite, C(postgresql://user@host:port/db) for PostgreSQL
        (the password from C(PGPASSWORD) or the URL). Default is a SQLite file in the user's state directory.
    type: str
    env:
      - name: IMAGICLE_STATE_STORE
    ini:
      - section: imagicle_cases
        key: store
  reopen_window_hours:
    description: A condition back within this many hours after its case was resolved reopens that case.
    type: float
    default: 24
    env:
      - name: IMAGICLE_CASES_REOPEN_WINDOW_HOURS
    ini:
      - section: imagicle_cases
        key: reopen_window_hours
  lock_wait_seconds:
    description:
      - Runs against one state store take turns; a run whose store is busy with another (a second slice of
        an AWX job, a run started while the last one still files) waits this long for it before giving up
        with a warning (its cases are then reconciled at the next run).
    type: float
    default: 300
    env:
      - name: IMAGICLE_CASES_LOCK_WAIT_SECONDS
    ini:
      - section: imagicle_cases
        key: lock_wait_seconds
  retry_attempts:
    description: Attempts per action within one run before it waits for the next run.
    type: int
    default: 3
    env:
      - name: IMAGICLE_CASES_RETRY_ATTEMPTS
    ini:
      - section: imagicle_cases
        key: retry_attempts
  rt_url:
    description: Base URL of Request Tracker (without C(/REST/2.0)), for O(backend=rt).
    type: str
    env:
      - name: IMAGICLE_RT_URL
    ini:
      - section: imagicle_cases
        key: rt_url
  rt_token:
    description: Request Tracker auth token, for O(backend=rt). Keep it out of files; give it by environment.
    type: str
    env:
      - name: IMAGICLE_RT_TOKEN
  rt_queue:
    description: Request Tracker queue of the cases.
    type: str
    default: General
    env:
      - name: IMAGICLE_RT_QUEUE
    ini:
      - section: imagicle_cases
        key: rt_queue
  servicenow_url:
    description: ServiceNow instance URL (C(https://<instance>.service-now.com)), for O(backend=servicenow).
    type: str
    env:
      - name: IMAGICLE_SERVICENOW_URL
    ini:
      - section: imagicle_cases
        key: servicenow_url
  servicenow_username:
    description: ServiceNow user (Basic authentication), for O(backend=servicenow).
    type: str
    env:
      - name: IMAGICLE_SERVICENOW_USERNAME
    ini:
      - section: imagicle_cases
        key: servicenow_username
  servicenow_password:
    description: ServiceNow password. Give it by environment.
    type: str
    env:
      - name: IMAGICLE_SERVICENOW_PASSWORD
  servicenow_token:
    description: ServiceNow OAuth bearer token, instead of user and password. Give it by environment.
    type: str
    env:
      - name: IMAGICLE_SERVICENOW_TOKEN
  servicenow_assignment_group:
    description: sys_id of the assignment group of new incidents.
    type: str
    env:
      - name: IMAGICLE_SERVICENOW_ASSIGNMENT_GROUP
    ini:
      - section: imagicle_cases
        key: servicenow_assignment_group
  webhook_url:
    description: URL that receives the case events, for O(backend=webhook).
    type: str
    env:
      - name: IMAGICLE_WEBHOOK_URL
    ini:
      - section: imagicle_cases
        key: webhook_url
  webhook_secret:
    description: Shared secret of the HMAC-SHA256 signature (at least 16 characters). Give it by environment.
    type: str
    env:
      - name: IMAGICLE_WEBHOOK_SECRET
  pager:
    description: The on-call platform paged for alarms whose plan pages (platinum P1); V(none) pages nobody.
    type: str
    choices: [none, alertmanager, pagerduty]
    default: none
    env:
      - name: IMAGICLE_PAGER
    ini:
      - section: imagicle_cases
        key: pager
  alertmanager_url:
    description: Base URL of Prometheus Alertmanager (API v2), for O(pager=alertmanager).
    type: str
    env:
      - name: IMAGICLE_ALERTMANAGER_URL
    ini:
      - section: imagicle_cases
        key: alertmanager_url
  pagerduty_routing_key:
    description: PagerDuty Events API v2 routing (integration) key, for O(pager=pagerduty). Give it by environment.
    type: str
    env:
      - name: IMAGICLE_PAGERDUTY_ROUTING_KEY
  pagerduty_url:
    description: PagerDuty Events API v2 endpoint.
    type: str
    default: https://events.pagerduty.com/v2/enqueue
    env:
      - name: IMAGICLE_PAGERDUTY_URL
    ini:
      - section: imagicle_cases
        key: pagerduty_url
  mail:
    description: Mail the customer's contacts when a case opens and when it is resolved.
    type: bool
    default: false
    env:
      - name: IMAGICLE_MAIL
    ini:
      - section: imagicle_cases
        key: mail
  smtp_host:
    description: SMTP server for customer mail.
    type: str
    env:
      - name: IMAGICLE_SMTP_HOST
    ini:
      - section: imagicle_cases
        key: smtp_host
  smtp_port:
    description: SMTP port.
    type: int
    default: 587
    env:
      - name: IMAGICLE_SMTP_PORT
    ini:
      - section: imagicle_cases
        key: smtp_port
  smtp_security:
    description: V(starttls), V(tls) (implicit TLS) or V(none) (only to a loopback server).
    type: str
    choices: [starttls, tls, none]
    default: starttls
    env:
      - name: IMAGICLE_SMTP_SECURITY
    ini:
      - section: imagicle_cases
        key: smtp_security
  smtp_username:
    description: SMTP user, when the server wants AUTH.
    type: str
    env:
      - name: IMAGICLE_SMTP_USERNAME
    ini:
      - section: imagicle_cases
        key: smtp_username
  smtp_password:
    description: SMTP password. Give it by environment.
    type: str
    env:
      - name: IMAGICLE_SMTP_PASSWORD
  smtp_ca_path:
    description: CA bundle that signed the SMTP server's certificate; the system's store when unset.
    type: path
    env:
      - name: IMAGICLE_SMTP_CA_PATH
    ini:
      - section: imagicle_cases
        key: smtp_ca_path
  mail_from:
    description: Sender of customer mail, for example C(Imagicle Support <support@example.net>).
    type: str
    env:
      - name: IMAGICLE_MAIL_FROM
    ini:
      - section: imagicle_cases
        key: mail_from
  rt_key_field:
    description: Request Tracker custom field that holds each case's idempotency key.
    type: str
    default: AlarmKey
    env:
      - name: IMAGICLE_RT_KEY_FIELD
    ini:
      - section: imagicle_cases
        key: rt_key_field
  allow_http:
    description:
      - Allow C(http://) URLs for backends and pagers that send a credential (token, password, routing key). By default
        they are refused, except to this machine (loopback), because the credential would cross the network in clear
        text. Set it only for a trusted network.
    type: bool
    default: false
    env:
      - name: IMAGICLE_ALLOW_HTTP
    ini:
      - section: imagicle_cases
        key: allow_http
  request_timeout_seconds:
    description: The longest one request to a backend, pager or mail server may take, answer included (a total, not per read).
    type: float
    default: 10
    env:
      - name: IMAGICLE_CASES_REQUEST_TIMEOUT_SECONDS
    ini:
      - section: imagicle_cases
        key: request_timeout_seconds
  send_deadline_seconds:
    description:
      - How long a run may spend sending the outbox; what is left waits for the next run. Keep it below
        O(lock_ttl_seconds).
    type: float
    default: 240
    env:
      - name: IMAGICLE_CASES_SEND_DEADLINE_SECONDS
    ini:
      - section: imagicle_cases
        key: send_deadline_seconds
  lock_ttl_seconds:
    description:
      - Lifetime of the run lock of the state store. A run keeps its lock alive while it works; a lock that is not
        refreshed for this long (its run hung or died on another machine) is taken over by the next run. A lock whose
        run died on this machine is taken over at once.
    type: int
    default: 900
    env:
      - name: IMAGICLE_CASES_LOCK_TTL_SECONDS
    ini:
      - section: imagicle_cases
        key: lock_ttl_seconds
  retry_backoff_seconds:
    description:
      - An action that fails is retried at the next run, then after this long, doubling at each failure up to
        O(retry_backoff_max_seconds). V(0) retries at every run.
    type: float
    default: 60
    env:
      - name: IMAGICLE_CASES_RETRY_BACKOFF_SECONDS
    ini:
      - section: imagicle_cases
        key: retry_backoff_seconds
  retry_backoff_max_seconds:
    description: The longest wait between two attempts of an action.
    type: float
    default: 3600
    env:
      - name: IMAGICLE_CASES_RETRY_BACKOFF_MAX_SECONDS
    ini:
      - section: imagicle_cases
        key: retry_backoff_max_seconds
  undelivered_fail_minutes:
    description:
      - When an action has waited in the outbox for longer than this, the run fails (exit code 75) until it is
        delivered, requeued or dropped, so that cron mail and AWX show it. A refused action fails the run at once.
    type: float
    default: 60
    env:
      - name: IMAGICLE_CASES_UNDELIVERED_FAIL_MINUTES
    ini:
      - section: imagicle_cases
        key: undelivered_fail_minutes
  max_new_cases_per_host:
    description:
      - At most this many cases open (or reopen) for one host in one run, the most urgent first; the alarms past it are
        summarised in one case for the host (rule C(alarm_flood)).
    type: int
    default: 10
    env:
      - name: IMAGICLE_CASES_MAX_NEW_PER_HOST
    ini:
      - section: imagicle_cases
        key: max_new_cases_per_host
  max_new_cases_per_run:
    description: At most this many cases open (or reopen) in one run; the alarms past it are summarised in one case.
    type: int
    default: 100
    env:
      - name: IMAGICLE_CASES_MAX_NEW_PER_RUN
    ini:
      - section: imagicle_cases
        key: max_new_cases_per_run
  no_data_note_minutes:
    description:
      - A case whose rule cannot be measured (its section failed or vanished, a value reads null or NaN, the host does
        not report) keeps its state; after this many minutes without data the case says so, once.
    type: float
    default: 60
    env:
      - name: IMAGICLE_CASES_NO_DATA_NOTE_MINUTES
    ini:
      - section: imagicle_cases
        key: no_data_note_minutes
  flap_changes:
    description:
      - A condition that changes state (firing to clear or back) more than this many times within
        O(flap_window_minutes) is flapping. Its case says so once and stays open; it is not resolved, reopened, mailed or
        paged at each change, and its priority is raised but not lowered. It is resolved, with a note, once the condition
        is clear and changed state no more than this many times within the window.
    type: int
    default: 3
    env:
      - name: IMAGICLE_CASES_FLAP_CHANGES
    ini:
      - section: imagicle_cases
        key: flap_changes
  flap_window_minutes:
    description:
      - The window in which O(flap_changes) changes of state are counted. V(0) turns flapping detection off (every change
        is filed).
    type: float
    default: 360
    env:
      - name: IMAGICLE_CASES_FLAP_WINDOW_MINUTES
    ini:
      - section: imagicle_cases
        key: flap_window_minutes
"""

import os
from datetime import datetime, timedelta, timezone

from ansible.plugins.callback import CallbackBase

try:
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases as case_manager
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.filer import Filer, FilerError
    # What each host's evaluate task needs, imported here once: the run's workers are forked from this
    # process and inherit it instead of importing it again for every host.
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import evaluation as _evaluation
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import history as _history  # noqa: F401 pylint: disable=unused-import
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.settings import store_url
except ImportError as import_error:  # pragma: no cover - reported when the plugin starts
    IMPORT_ERROR = import_error
else:
    IMPORT_ERROR = None

EVALUATE_ACTIONS = frozenset(("imagicle.proactive.evaluate", "evaluate"))
# The options the filer process needs (plugin_utils/filer.py).
OPTION_NAMES = ("backend", "store", "rt_url", "rt_token", "rt_queue", "rt_key_field", "servicenow_url", "servicenow_username",
                "servicenow_password", "servicenow_token", "servicenow_assignment_group", "webhook_url", "webhook_secret",
                "pager", "alertmanager_url", "pagerduty_routing_key", "pagerduty_url", "mail", "smtp_host", "smtp_port",
                "smtp_security", "smtp_username", "smtp_password", "smtp_ca_path", "mail_from", "allow_http",
                "request_timeout_seconds")
# Exit codes of a run whose cases could not be filed (sysexits.h): a setting or the store must be
# fixed (EX_CONFIG); an action was refused or waits too long (EX_TEMPFAIL).
EXIT_SETTINGS = 78
EXIT_UNDELIVERED = 75
POSITIVE = ("request_timeout_seconds", "send_deadline_seconds", "lock_ttl_seconds", "max_new_cases_per_host",
            "max_new_cases_per_run", "flap_changes")
NOT_NEGATIVE = ("reopen_window_hours", "lock_wait_seconds", "retry_backoff_seconds", "retry_backoff_max_seconds",
                "undelivered_fail_minutes", "no_data_note_minutes", "flap_window_minutes")


class CallbackModule(CallbackBase):
    """Hands the run's alarms to the case manager at the end of the run; fails the run loudly when they cannot be filed."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "imagicle.proactive.cases"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self.broken = None
        self.run = case_manager.RunInput() if IMPORT_ERROR is None else None
        self.evaluated = False
        self.playbook = "a playbook"
        self.filer = None
        self.submitted = set()

    def _broken(self, why: str) -> None:
        """A setting is missing or wrong: no case can be filed in this run (said now, and failed at the end if cases were due)."""
        if self.broken is None:
            self._display.warning("imagicle.proactive.cases cannot file cases in this run: %s" % why)
            self.broken = why

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        if IMPORT_ERROR is not None:
            self._broken("a library it needs is missing on the controller (%s); install the controller requirements" % IMPORT_ERROR)
            return
        backend = self.get_option("backend")
        needs = {
            "rt": (("rt_url", "IMAGICLE_RT_URL"), ("rt_token", "IMAGICLE_RT_TOKEN")),
            "servicenow": (("servicenow_url", "IMAGICLE_SERVICENOW_URL"),),
            "webhook": (("webhook_url", "IMAGICLE_WEBHOOK_URL"), ("webhook_secret", "IMAGICLE_WEBHOOK_SECRET")),
        }.get(backend, ())
        missing = ["%s (%s)" % (option, env) for option, env in needs if not self.get_option(option)]
        if missing:
            self._broken("backend %s needs %s" % (backend, " and ".join(missing)))
        if backend == "servicenow" and not (
                self.get_option("servicenow_token") or (self.get_option("servicenow_username") and self.get_option("servicenow_password"))):
            self._broken("backend servicenow needs IMAGICLE_SERVICENOW_TOKEN, or a user and IMAGICLE_SERVICENOW_PASSWORD")
        for name in POSITIVE + NOT_NEGATIVE:
            value = self.get_option(name)
            if value is None or value < 0 or (name in POSITIVE and value == 0):
                self._broken("%s must be %s, got %r" % (name, "a positive number" if name in POSITIVE else "zero or more", value))
        if (self.get_option("send_deadline_seconds") or 0) >= (self.get_option("lock_ttl_seconds") or 0):
            self._broken("send_deadline_seconds (%s) must be below lock_ttl_seconds (%s), so that a run never sends without "
                         "holding the lock" % (self.get_option("send_deadline_seconds"), self.get_option("lock_ttl_seconds")))
        pager = self.get_option("pager")
        if pager == "alertmanager" and not self.get_option("alertmanager_url"):
            self._broken("pager alertmanager needs alertmanager_url (IMAGICLE_ALERTMANAGER_URL)")
        if pager == "pagerduty" and not self.get_option("pagerduty_routing_key"):
            self._broken("pager pagerduty needs the routing key in IMAGICLE_PAGERDUTY_ROUTING_KEY")
        if self.get_option("mail"):
            missing = [name for name in ("smtp_host", "mail_from") if not self.get_option(name)]
            if missing:
                self._broken("mail needs %s (IMAGICLE_SMTP_HOST, IMAGICLE_MAIL_FROM)" % " and ".join(missing))

    def v2_playbook_on_start(self, playbook):
        self.playbook = getattr(playbook, "_file_name", None) or self.playbook
        if IMPORT_ERROR is None:
            # Read once here, before the run forks a worker for every task of every host: the workers inherit them.
            _evaluation.preload()
            try:
                store_url(None)
            except Exception:  # pylint: disable=broad-except  # each host's evaluation reads it again and says what is wrong
                pass

    def v2_runner_on_ok(self, result):
        if result._task.action not in EVALUATE_ACTIONS:
            return
        if self.run is None:  # a library is missing: only remember that cases were due
            evaluation = (result._result or {}).get("evaluation") if isinstance(result._result, dict) else None
            self.evaluated = self.evaluated or not (isinstance(evaluation, dict) and evaluation.get("file_cases") is False)
            return
        host = self.run.add(result._result, result._host.get_name())
        self.evaluated = self.run.evaluated
        if host is not None and self.broken is None and host not in self.submitted and self.run.stands_alone(host):
            # Planned and sent now, by the filer process, while the run goes on with the other hosts.
            self.submitted.add(host)
            if self.filer is None:
                self.filer = Filer(self._settings())
            self.filer.submit(host, self.run.part(host))

    def _policy(self):
        return case_manager.Policy(
            reopen_window=timedelta(hours=float(self.get_option("reopen_window_hours"))),
            max_new_per_host=int(self.get_option("max_new_cases_per_host")),
            max_new_per_run=int(self.get_option("max_new_cases_per_run")),
            no_data_note_after=timedelta(minutes=float(self.get_option("no_data_note_minutes"))),
            retry_backoff=timedelta(seconds=float(self.get_option("retry_backoff_seconds"))),
            retry_backoff_max=timedelta(seconds=float(self.get_option("retry_backoff_max_seconds"))),
            flap_changes=int(self.get_option("flap_changes")),
            flap_window=timedelta(minutes=float(self.get_option("flap_window_minutes"))))

    def _settings(self) -> dict:
        """What the filer needs to plan and send: the callback's options, read once here."""
        return {
            "options": {name: self.get_option(name) for name in OPTION_NAMES},
            "policy": self._policy(),
            "attempts": max(1, int(self.get_option("retry_attempts") or 1)),
            "send_seconds": float(self.get_option("send_deadline_seconds")),
            "lock_wait_seconds": float(self.get_option("lock_wait_seconds")),
            "lock_ttl_seconds": int(self.get_option("lock_ttl_seconds")),
            "playbook": self.playbook,
            "run_pid": os.getpid(),
        }

    def _file(self):
        """The end of the run: the filer plans and sends what is left; returns (report, undelivered lines)."""
        if self.filer is None:
            self.filer = Filer(self._settings())
        return self.filer.finish(self.run)

    def v2_playbook_on_stats(self, stats):
        if not self.evaluated:
            return
        if self.broken is not None:
            self._fail(EXIT_SETTINGS, "no case was filed: %s. Fix the setting (ansible-doc -t callback imagicle.proactive.cases) "
                                      "and run again" % self.broken)
        now = datetime.now(timezone.utc)
        try:
            report, undelivered = self._file()
        except FilerError as exc:
            if exc.kind == "StoreLocked":
                self._fail(EXIT_SETTINGS, "the state store is busy with another run for longer than lock_wait_seconds; no "
                                          "case was changed in this step of the run (the next run reconciles them): %s" % exc)
            elif exc.kind == "StoreError":
                self._fail(EXIT_SETTINGS, "the state store failed, no case was changed in this step of the run: %s" % exc)
            elif exc.kind == "BackendError":
                self._fail(EXIT_SETTINGS, "a backend setting is wrong, nothing was sent: %s" % exc)
            self._fail(EXIT_SETTINGS, "%s: %s; what was queued stays queued" % (exc.kind, exc))
        except Exception as exc:  # pylint: disable=broad-except  # said loudly, with what stays queued
            self._fail(EXIT_SETTINGS, "%s: %s; what was queued stays queued" % (type(exc).__name__, exc))
        self._display.banner("IMAGICLE CASES (%s)" % self.get_option("backend"))
        self._display.display("  " + " | ".join("%s %d" % row for row in report.as_rows()))
        for note in report.notes:
            self._display.display("  %s" % note)
        if report.stopped:
            self._display.warning("imagicle.proactive.cases: %s" % report.stopped)
        for problem in report.problems:
            self._display.warning("imagicle.proactive.cases: %s" % problem)
        if undelivered:
            self._display.display("  undelivered actions, oldest first:")
            for line in undelivered:
                self._display.display("    %s" % line)
        limit = timedelta(minutes=float(self.get_option("undelivered_fail_minutes")))
        if report.refused:
            self._fail(EXIT_UNDELIVERED, "%d action(s) were refused in this run (see the warnings above); they stay queued and are "
                                         "retried: fix what the backend says, then requeue them (playbook outbox.yml) or let "
                                         "the next runs retry them" % report.refused)
        if report.oldest_undelivered is not None and now - report.oldest_undelivered > limit:
            self._fail(EXIT_UNDELIVERED, "%d action(s) are still undelivered, the oldest since %s (more than %s min): see the list "
                                         "above; fix the backend, or requeue or drop them on purpose (playbook outbox.yml)"
                       % (report.undelivered, report.oldest_undelivered.strftime("%Y-%m-%d %H:%M UTC"),
                          self.get_option("undelivered_fail_minutes")))

    def _fail(self, code: int, message: str) -> None:
        """End the playbook with ``code`` after saying why: cron mail and AWX must show that cases were not filed."""
        self._display.error("imagicle.proactive.cases: %s" % message)
        raise SystemExit(code)
