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
  - Collects the alarms that M(imagicle.proactive.evaluate) returned for each host of the run, and the
    hosts that were checked, and at the end of the run hands them to the case manager, which opens a
    case for a new alarm, updates it when its priority changes, resolves it when its host was checked
    and the alarm no longer fires, and reopens it when the condition is back within the reopen window.
  - Every action goes through an outbox in the state store with an idempotency key, before it is sent;
    what the backend cannot take now stays queued and is sent first at the next run.
  - Hosts that are not eligible for proactive support (plan, consent, release) are left out entirely.
  - A missing or wrong setting gives one warning and disables the plugin; it never fails the playbook.
    At the end it prints how many cases were opened, updated, resolved, reopened, how many actions
    wait in the outbox for the next run and how many the backend rejected.
  - With O(pager) set, a case for an alarm whose plan pages (platinum P1) pages the on-call platform, with the
    alarm fingerprint as the dedup key, and the page is resolved when the case is. With O(mail) on, the
    customer's contacts (C(imagicle_contacts)) are mailed when a case opens and when it is resolved, in
    their language (C(imagicle_language)).
author:
  - imagicle.proactive contributors (@imagicle-proactive)
requirements:
  - enable in configuration (C(callbacks_enabled = imagicle.proactive.cases)); the project's ansible.cfg does
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
"""

from datetime import datetime, timedelta, timezone

from ansible.plugins.callback import CallbackBase

try:
    from ansible_collections.imagicle.proactive.plugins.plugin_utils import cases as case_manager
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.local import LocalBackend
    from ansible_collections.imagicle.proactive.plugins.plugin_utils.store import StoreError, open_store
except ImportError as import_error:  # pragma: no cover - reported when the plugin starts
    IMPORT_ERROR = import_error
else:
    IMPORT_ERROR = None

EVALUATE_ACTIONS = frozenset(("imagicle.proactive.evaluate", "evaluate"))


class CallbackModule(CallbackBase):
    """Hands the run's alarms to the case manager at the end of the run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "imagicle.proactive.cases"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self.disabled = False
        self.alarms = []
        self.checked_hosts = set()
        self.contacts = {}
        self.evaluated = False

    def _disable(self, why: str) -> None:
        self._display.warning("imagicle.proactive.cases is disabled for this run: %s" % why)
        self.disabled = True

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        if IMPORT_ERROR is not None:
            self._disable("a library it needs is missing (%s)" % IMPORT_ERROR)
            return
        needs = {
            "rt": (("rt_url", "IMAGICLE_RT_URL"), ("rt_token", "IMAGICLE_RT_TOKEN")),
            "servicenow": (("servicenow_url", "IMAGICLE_SERVICENOW_URL"),),
            "webhook": (("webhook_url", "IMAGICLE_WEBHOOK_URL"), ("webhook_secret", "IMAGICLE_WEBHOOK_SECRET")),
        }.get(self.get_option("backend"), ())
        missing = ["%s (%s)" % (option, env) for option, env in needs if not self.get_option(option)]
        if missing:
            self._disable("backend %s needs %s" % (self.get_option("backend"), " and ".join(missing)))
        if self.get_option("backend") == "servicenow" and not (
                self.get_option("servicenow_token") or (self.get_option("servicenow_username") and self.get_option("servicenow_password"))):
            self._disable("backend servicenow needs IMAGICLE_SERVICENOW_TOKEN, or a user and IMAGICLE_SERVICENOW_PASSWORD")
        if (self.get_option("reopen_window_hours") or 0) < 0:
            self._disable("reopen_window_hours must not be negative")
        pager = self.get_option("pager")
        if pager == "alertmanager" and not self.get_option("alertmanager_url"):
            self._disable("pager alertmanager needs alertmanager_url (IMAGICLE_ALERTMANAGER_URL)")
        if pager == "pagerduty" and not self.get_option("pagerduty_routing_key"):
            self._disable("pager pagerduty needs the routing key in IMAGICLE_PAGERDUTY_ROUTING_KEY")
        if self.get_option("mail"):
            missing = [name for name in ("smtp_host", "mail_from") if not self.get_option(name)]
            if missing:
                self._disable("mail needs %s (IMAGICLE_SMTP_HOST, IMAGICLE_MAIL_FROM)" % " and ".join(missing))

    def v2_runner_on_ok(self, result):
        if self.disabled or result._task.action not in EVALUATE_ACTIONS:
            return
        data = result._result
        evaluation = data.get("evaluation") or {}
        if evaluation.get("file_cases") is False:
            return  # a look at a host (playbooks/explain.yml), not a run that files cases
        self.evaluated = True
        if (evaluation.get("eligibility") or {}).get("eligible"):
            host = evaluation.get("host") or result._host.get_name()
            if evaluation.get("reporting"):
                self.checked_hosts.add(host)
            if isinstance(evaluation.get("notify"), dict):
                self.contacts[host] = evaluation["notify"]
            self.alarms.extend(alarm for alarm in data.get("alarms") or [] if isinstance(alarm, dict))

    def _backends(self, store) -> dict:
        backends = {"local": LocalBackend(store)}
        if self.get_option("backend") == "rt":
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.rt import RtBackend

            backends["rt"] = RtBackend(self.get_option("rt_url"), token=self.get_option("rt_token"),
                                       queue=self.get_option("rt_queue"), key_field=self.get_option("rt_key_field"))
        if self.get_option("backend") == "servicenow":
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.servicenow import ServiceNowBackend

            backends["servicenow"] = ServiceNowBackend(
                self.get_option("servicenow_url"), username=self.get_option("servicenow_username"),
                password=self.get_option("servicenow_password"), token=self.get_option("servicenow_token"),
                assignment_group=self.get_option("servicenow_assignment_group"))
        if self.get_option("backend") == "webhook":
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.backends.webhook import WebhookBackend

            backends["webhook"] = WebhookBackend(self.get_option("webhook_url"), secret=self.get_option("webhook_secret"))
        if self.get_option("pager") == "alertmanager":
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.alertmanager import AlertmanagerPager

            backends["alertmanager"] = AlertmanagerPager(self.get_option("alertmanager_url"))
        elif self.get_option("pager") == "pagerduty":
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.paging.pagerduty import PagerDutyPager

            backends["pagerduty"] = PagerDutyPager(self.get_option("pagerduty_routing_key"), url=self.get_option("pagerduty_url"))
        if self.get_option("mail"):
            from ansible_collections.imagicle.proactive.plugins.plugin_utils.mail import Mailer, SmtpSettings

            backends["mail"] = Mailer(SmtpSettings(
                host=self.get_option("smtp_host"), port=self.get_option("smtp_port"), security=self.get_option("smtp_security"),
                username=self.get_option("smtp_username"), password=self.get_option("smtp_password"),
                sender=self.get_option("mail_from"), ca_path=self.get_option("smtp_ca_path")))
        return backends

    def v2_playbook_on_stats(self, stats):
        if self.disabled or not self.evaluated:
            return
        now = datetime.now(timezone.utc)
        try:
            with open_store(self.get_option("store")) as store:
                with case_manager.run_lock(store, "imagicle.proactive.cases",
                                           wait_seconds=float(self.get_option("lock_wait_seconds"))):
                    backends = self._backends(store)
                    attempts = max(1, int(self.get_option("retry_attempts") or 1))
                    # What earlier runs could not send goes first.
                    report = case_manager.drain(store, backends, now, attempts_in_run=attempts)
                    pager = self.get_option("pager")
                    notifications = case_manager.Notifications(pager=None if pager == "none" else pager,
                                                               mail=bool(self.get_option("mail")), contacts=self.contacts)
                    case_manager.plan_run(store, self.alarms, self.checked_hosts, self.get_option("backend"), now,
                                          timedelta(hours=float(self.get_option("reopen_window_hours"))), report,
                                          notifications=notifications)
                    case_manager.drain(store, backends, now, report, attempts_in_run=attempts)
        except StoreError as exc:
            self._display.warning("imagicle.proactive.cases: the state store failed, no case was changed: %s" % exc)
            return
        except Exception as exc:  # pylint: disable=broad-except  # a callback must never break the run
            self._display.warning("imagicle.proactive.cases: %s: %s; what was queued stays queued" % (type(exc).__name__, exc))
            return
        self._display.banner("IMAGICLE CASES (%s)" % self.get_option("backend"))
        self._display.display("  " + " | ".join("%s %d" % row for row in report.as_rows()))
        for problem in report.problems:
            self._display.warning("imagicle.proactive.cases: %s" % problem)
