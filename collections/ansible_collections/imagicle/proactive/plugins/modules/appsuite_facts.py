#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appsuite_facts
short_description: Health facts of an Imagicle ApplicationSuite server in one round trip
version_added: 0.1.0
description:
  - Collects the health of an Imagicle ApplicationSuite (UCX Suite) server and returns it as the
    fact C(imagicle_health), one section per collector - C(system), C(processes), C(disks),
    C(database), C(webserver), C(events), C(capacity), C(replication), C(cloud), C(release).
  - One call samples the CPU of the host and of every process once, over O(cpu_interval),
    while the network and disk collectors run in parallel.
  - A collector that fails reports C(error) inside its own section; every other section is
    still returned, and the failures are repeated as warnings.
  - What differs between installations has no default - the processes to watch (O(processes)),
    the database (O(database.engine), O(database.path)), the event logs (O(events.sources)), the
    release file (O(release.file)), the HA status file (O(replication.status_file)) and the CA
    bundles. The real product's process names and log paths are not public; set them for your
    installation, usually in inventory (the C(imagicle_*) variables of the
    C(imagicle.proactive.health_check) role, or its O(imagicle.proactive.health_check#role:main:imagicle_profile)
    for every server installed the same way).
  - A section with nothing to look at because such an option is unset is not collected; it holds
    C(not_configured), a message naming the option and the inventory variable to set, repeated as a
    warning. Nothing in it is reported as down (no process is "not running"); the evaluation turns
    it into a P4 alarm C(collector_failing) that names what to set.
  - Events and process start times are remembered on the host in O(state_dir), so that each run
    returns only new events and reports processes that restarted since the previous run.
author:
  - imagicle.proactive contributors (@imagicle-proactive)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the facts are collected as usual but O(state_dir) is not written,
      so the same events are returned again by the next run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
requirements:
  - psutil (on the managed host; the C(imagicle.proactive.prerequisites) role installs it)
  - psycopg2 or psycopg on the managed host, only when O(database.engine=postgresql)
  - pymssql or pyodbc on the managed host, only when O(database.engine=mssql)
options:
  gather_subset:
    description:
      - The sections to collect. V(all), V(min) (system, disks, release), or section names;
        prefix a name with V(!) to leave it out, for example V([all, "!events"]).
    type: list
    elements: str
    default: [all]
  gather_timeout:
    description: Time limit in seconds for each network or database call of a collector.
    type: int
    default: 10
  cpu_interval:
    description:
      - Length in seconds of the one CPU sample taken for the host and all processes together.
    type: float
    default: 0.25
  state_dir:
    description:
      - Directory on the managed host where event offsets and process start times are kept
        between runs. Created if missing.
    type: path
    default: /var/lib/imagicle-proactive
  processes:
    description:
      - The Imagicle processes to watch. Each is matched by exact process O(processes[].name)
        or by O(processes[].pattern), a regular expression searched in the name and command line.
      - No default - the names of the Suite's processes differ between installations. Unset or
        empty, the C(processes) section holds C(not_configured) and no process is reported.
    type: list
    elements: dict
    suboptions:
      id:
        description: Identifier of the process in the facts and in alarms.
        type: str
        required: true
      name:
        description: Exact process name (Linux C(comm), Windows image name).
        type: str
      pattern:
        description: Regular expression searched in the name and the command line.
        type: str
      role:
        description:
          - V(voip_stack) for the Suite's VoIP stack, V(application) for a licensed application,
            V(service) for anything else.
        type: str
        choices: [voip_stack, application, service]
        default: application
      application:
        description: Display name of the application.
        type: str
  disks:
    description: Which filesystems to report.
    type: dict
    default: {}
    suboptions:
      mounts:
        description: Mount points to report; empty means every local filesystem.
        type: list
        elements: str
        default: []
      exclude_fstypes:
        description: Filesystem types never reported.
        type: list
        elements: str
        default: [squashfs, tmpfs, devtmpfs, overlay, iso9660]
  database:
    description: The Suite's database and its size limit.
    type: dict
    default: {}
    suboptions:
      engine:
        description:
          - The database engine of the Suite; V(none) skips the section.
          - No default. Unset, the C(database) section holds C(not_configured).
        type: str
        choices: [none, sqlite, postgresql, mssql]
      path:
        description: SQLite database file (V(sqlite) only; no default).
        type: path
      host:
        description: Database server (PostgreSQL, SQL Server).
        type: str
        default: 127.0.0.1
      port:
        description: Database server port; the engine's default when unset.
        type: int
      name:
        description: Database name (PostgreSQL, SQL Server).
        type: str
      user:
        description: Database user.
        type: str
      password:
        description: Database password.
        type: str
      max_size_mb:
        description:
          - Size limit of the database in MiB. For SQL Server Express the 10 GB limit is
            detected and used when this is not set.
        type: float
      connect_timeout:
        description: Connection time limit in seconds.
        type: int
        default: 5
  webserver:
    description: The web portal to check.
    type: dict
    default: {}
    suboptions:
      url:
        description: URL of the portal.
        type: str
        default: https://127.0.0.1/
      ca_path:
        description: CA bundle that signed the portal's certificate; the system's default store when unset.
        type: path
      validate_certs:
        description:
          - Verify the portal's TLS certificate. The expiry date is reported either way.
        type: bool
        default: true
      timeout:
        description: Time limit in seconds; O(gather_timeout) when unset.
        type: float
  webapi:
    description: Access to the Suite's Web API (HTTP Basic), used by the capacity section.
    type: dict
    default: {}
    suboptions:
      base_url:
        description: Base URL of the Web API.
        type: str
        default: https://127.0.0.1
      username:
        description: Web API user (needs the "Complete Management" level for LiveRecordings).
        type: str
      password:
        description: Web API password.
        type: str
      ca_path:
        description: CA bundle that signed the server's certificate; the system's default store when unset.
        type: path
      validate_certs:
        description: Verify the server's TLS certificate.
        type: bool
        default: true
  capacity:
    description: Channels and licences in use against what is licensed, per application.
    type: dict
    default: {}
    suboptions:
      apps:
        description: Applications to report.
        type: list
        elements: str
        choices: [call_recording, advanced_queuing, ivr]
        default: [call_recording, advanced_queuing, ivr]
      licensed:
        description:
          - Licensed channels per application, where the Web API does not say it
            (keys V(call_recording), V(advanced_queuing), V(ivr)).
        type: dict
        default: {}
      paths:
        description:
          - Web API paths per application. V(call_recording) is the documented LiveRecordings
            API; the Advanced Queuing real-time and IVR paths are this collection's defaults.
        type: dict
        default:
          call_recording: /fw/Apps/Recorder/WebAPI/LiveRecordings
          advanced_queuing: /fw/Apps/QME/WebAPI/RealTimeStatistics
          ivr: /fw/Apps/IVR/WebAPI/ActiveCalls
  events:
    description:
      - Event logs to read. Only lines added since the previous run are returned; the first
        run starts at the end of each log. Phone numbers and e-mail addresses are masked.
    type: dict
    default: {}
    suboptions:
      sources:
        description:
          - Log files and the patterns that select lines from them (see the example below).
          - No default - where the Suite logs its events differs between installations. Unset or
            empty, the C(events) section holds C(not_configured).
        type: list
        elements: dict
        suboptions:
          path:
            description: Log file; a rotated predecessor is looked for at C(<path>.1).
            type: path
            required: true
          patterns:
            description: Regular expressions, first match wins, each with a severity.
            type: list
            elements: dict
            required: true
      max_events:
        description: At most this many lines per run.
        type: int
        default: 100
      max_bytes:
        description: At most this many bytes of lines per run.
        type: int
        default: 65536
  replication:
    description: HA replication state and the clock skew against the peer node.
    type: dict
    default: {}
    suboptions:
      status_file:
        description:
          - JSON replication status (C({"state", "reason", "peer", "updated_at"})).
          - No default. Unset, or the file absent, the host is not in an HA pair (C(configured=false)).
        type: path
      peer_url:
        description:
          - A URL of the peer node whose C(Date) header gives the peer's clock.
          - It may carry credentials (C(https://user:password@peer/)), so it is a secret (C(no_log)) - it
            never appears in the task's output, even with C(-vvv); keep credentials in it in Ansible Vault.
        type: str
      ca_path:
        description: CA bundle that signed the peer's certificate; the system's default store when unset.
        type: path
      validate_certs:
        description: Verify the peer's TLS certificate.
        type: bool
        default: true
  cloud:
    description: Reachability of the vendor cloud, as the Suite's own connection test does it.
    type: dict
    default: {}
    suboptions:
      url:
        description: The cloud test endpoint.
        type: str
        default: https://api.imagicle.com/test
      proxy:
        description:
          - HTTP proxy (C(http://host:port)) that tunnels TLS with CONNECT.
          - It may carry credentials (C(http://user:password@proxy:3128)), so it is a secret (C(no_log)) - it
            never appears in the task's output, even with C(-vvv); keep credentials in it in Ansible Vault. The
            facts' C(cloud.proxy) shows it without credentials, or as C(********) when it has none.
        type: str
      ca_path:
        description: CA bundle; the system's default store when unset.
        type: path
      validate_certs:
        description: Verify the endpoint's TLS certificate.
        type: bool
        default: true
      expected_message:
        description: The C(message) of a successful answer.
        type: str
        default: successfully connected!
      timeout:
        description: Time limit in seconds; O(gather_timeout) when unset.
        type: float
  release:
    description: Where the installed release (C(YYYY.Season.N)) is read.
    type: dict
    default: {}
    suboptions:
      file:
        description:
          - A file holding the release string.
          - No default - where the product records its release is not public. Unset, the
            C(release) section holds C(not_configured).
        type: path
notes:
  - The facts schema is documented in the collection guide R(The facts schema,ansible_collections.imagicle.proactive.docsite.facts_schema); its version is
    in C(imagicle_health.schema_version).
  - SQL Server cannot run on the machines this collection is tested on; its queries are tested
    against the documented shapes of SQL Server's answers only.
seealso:
  - module: ansible.builtin.setup
"""

EXAMPLES = r"""
- name: Collect the health of the AppSuite servers (the process names and paths of your installation)
  imagicle.proactive.appsuite_facts:
    processes:
      - {id: voip_stack, name: ias-voip, role: voip_stack, application: VoIP stack}
      - {id: call_recording, pattern: 'recorder\.exe', application: Call Recording}
    database:
      engine: mssql
      host: 127.0.0.1
      name: ImagicleAppSuite
      user: monitor
      password: "{{ imagicle_db_password }}"
    events:
      sources:
        - path: /var/log/appsuite/events.log
          patterns:
            - {regex: '\bCRITICAL\b', severity: critical}
            - {regex: '\bERROR\b', severity: error}
    release:
      file: /var/lib/appsuite/release.txt
    webapi:
      username: proactive
      password: "{{ imagicle_webapi_password }}"
    capacity:
      licensed:
        call_recording: 8
        ivr: 4

- name: Only disks and database, with an external PostgreSQL
  imagicle.proactive.appsuite_facts:
    gather_subset: [disks, database]
    database:
      engine: postgresql
      host: db.example.net
      name: appsuite
      user: monitor
      password: "{{ imagicle_db_password }}"
      max_size_mb: 10240

- name: Everything but the cloud check, for a host behind a proxy that is down today
  imagicle.proactive.appsuite_facts:
    gather_subset: [all, "!cloud"]

- name: Show the free space of every disk
  ansible.builtin.debug:
    msg: "{{ item.mount }}: {{ item.used_percent }} % used"
  loop: "{{ ansible_facts.imagicle_health.disks['items'] }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    imagicle_health:
      description:
        - The health of the server; see the collection guide R(The facts schema,ansible_collections.imagicle.proactive.docsite.facts_schema) for every key.
        - A section whose collector failed holds C(error) with the reason.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this schema.
          type: int
          sample: 1
        collected_at:
          description: When collection started, ISO 8601 UTC.
          type: str
          sample: "2026-11-26T05:40:00Z"
        gather_subset:
          description: The sections collected.
          type: list
          elements: str
          sample: [system, processes, disks]
        duration_seconds:
          description: Time the module spent on the host.
          type: float
          sample: 0.61
        check_mode:
          description: Whether the facts were collected in check mode.
          type: bool
        system:
          description: Hostname, CPU % over the sample, load, memory, swap, boot time, uptime.
          type: dict
          returned: when collected
          sample: {hostname: ias-a, cpu_count: 2, cpu_percent: 12.5, memory: {used_percent: 4.1}}
        processes:
          description:
            - One item per configured process - running, count, pids, CPU %, RSS, start time,
              the start time seen at the previous run and whether it C(restarted) since.
            - Any section may instead hold C(error) (its collector failed) or C(not_configured)
              (an option it needs is unset; the message says which).
          type: dict
          returned: when collected
          sample: {items: [{id: voip_stack, role: voip_stack, running: true, restarted: false}]}
        disks:
          description: One item per filesystem - mount, device, type, sizes, used %, inodes.
          type: dict
          returned: when collected
          sample: {items: [{mount: /srv/appsuite, used_percent: 41.2}]}
        database:
          description: Engine, size, limit and where it came from, used %, edition.
          type: dict
          returned: when collected
          sample: {engine: sqlite, size_bytes: 1048576, limit_bytes: 8388608, used_percent: 12.5}
        webserver:
          description: Whether the portal answered, status, latency and certificate expiry.
          type: dict
          returned: when collected
          sample: {up: true, status_code: 200, latency_ms: 12.3, tls: {days_left: 365.0}}
        events:
          description: New matching event lines since the last run, masked, capped.
          type: dict
          returned: when collected
          sample: {new_count: 1, returned: 1, truncated: false, items: [{severity: error}]}
        capacity:
          description: Per application - channels or licences in use, licensed, available.
          type: dict
          returned: when collected
          sample: {apps: {call_recording: {in_use: 2, licensed: 8, available: 6}}}
        replication:
          description: HA state, reason, peer, last update and clock skew against the peer.
          type: dict
          returned: when collected
          sample: {configured: true, state: sync_ready, healthy: true, clock_skew_seconds: 0.4}
        cloud:
          description: Whether the vendor cloud test endpoint answered as expected.
          type: dict
          returned: when collected
          sample: {reachable: true, status_code: 200, latency_ms: 31.0}
        release:
          description: The installed release, parsed.
          type: dict
          returned: when collected
          sample: {raw: 2024.Winter.1, year: 2024, season: Winter, number: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imagicle.proactive.plugins.module_utils._http import credential_forms_in
from ansible_collections.imagicle.proactive.plugins.module_utils.appsuite_health import (
    gather,
    section_errors,
)


def argument_spec() -> dict:
    """The module's options; defaults mirror DOCUMENTATION."""
    return dict(
        gather_subset=dict(type="list", elements="str", default=["all"]),
        gather_timeout=dict(type="int", default=10),
        cpu_interval=dict(type="float", default=0.25),
        state_dir=dict(type="path", default="/var/lib/imagicle-proactive"),
        processes=dict(
            type="list",
            elements="dict",
            options=dict(
                id=dict(type="str", required=True),
                name=dict(type="str"),
                pattern=dict(type="str"),
                role=dict(type="str", choices=["voip_stack", "application", "service"], default="application"),
                application=dict(type="str"),
            ),
            required_one_of=[("name", "pattern")],
        ),
        disks=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                mounts=dict(type="list", elements="str", default=[]),
                exclude_fstypes=dict(
                    type="list",
                    elements="str",
                    default=["squashfs", "tmpfs", "devtmpfs", "overlay", "iso9660"],
                ),
            ),
        ),
        database=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                engine=dict(type="str", choices=["none", "sqlite", "postgresql", "mssql"]),
                path=dict(type="path"),
                host=dict(type="str", default="127.0.0.1"),
                port=dict(type="int"),
                name=dict(type="str"),
                user=dict(type="str"),
                password=dict(type="str", no_log=True),
                max_size_mb=dict(type="float"),
                connect_timeout=dict(type="int", default=5),
            ),
        ),
        webserver=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                url=dict(type="str", default="https://127.0.0.1/"),
                ca_path=dict(type="path"),
                validate_certs=dict(type="bool", default=True),
                timeout=dict(type="float"),
            ),
        ),
        webapi=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                base_url=dict(type="str", default="https://127.0.0.1"),
                username=dict(type="str"),
                password=dict(type="str", no_log=True),
                ca_path=dict(type="path"),
                validate_certs=dict(type="bool", default=True),
            ),
        ),
        capacity=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                apps=dict(
                    type="list",
                    elements="str",
                    choices=["call_recording", "advanced_queuing", "ivr"],
                    default=["call_recording", "advanced_queuing", "ivr"],
                ),
                licensed=dict(type="dict", default={}),
                paths=dict(
                    type="dict",
                    default={
                        "call_recording": "/fw/Apps/Recorder/WebAPI/LiveRecordings",
                        "advanced_queuing": "/fw/Apps/QME/WebAPI/RealTimeStatistics",
                        "ivr": "/fw/Apps/IVR/WebAPI/ActiveCalls",
                    },
                ),
            ),
        ),
        events=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                sources=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        path=dict(type="path", required=True),
                        patterns=dict(type="list", elements="dict", required=True),
                    ),
                ),
                max_events=dict(type="int", default=100),
                max_bytes=dict(type="int", default=65536),
            ),
        ),
        replication=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                status_file=dict(type="path"),
                peer_url=dict(type="str", no_log=True),
                ca_path=dict(type="path"),
                validate_certs=dict(type="bool", default=True),
            ),
        ),
        cloud=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                url=dict(type="str", default="https://api.imagicle.com/test"),
                proxy=dict(type="str", no_log=True),
                ca_path=dict(type="path"),
                validate_certs=dict(type="bool", default=True),
                expected_message=dict(type="str", default="successfully connected!"),
                timeout=dict(type="float"),
            ),
        ),
        release=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(
                file=dict(type="path"),
            ),
        ),
    )


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    # A proxy or a peer may echo the credentials back (a reason phrase, an error): in every form, never returned.
    module.no_log_values.update(credential_forms_in(module.params))
    try:
        health = gather(module.params, check_mode=module.check_mode)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for error in section_errors(health):
        module.warn(error)
    module.exit_json(changed=False, ansible_facts={"imagicle_health": health})


if __name__ == "__main__":
    main()
