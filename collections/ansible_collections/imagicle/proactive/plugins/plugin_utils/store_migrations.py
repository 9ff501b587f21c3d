# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The schema of the state store, as the migrations that build it, one list per engine; the
store (:mod:`store`) applies the missing steps when it is opened."""

from __future__ import annotations

# --- migrations ----------------------------------------------------------------------------------

# One list per engine; step N (1-based) brings the schema to version N.  Append, never edit.
MIGRATIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sqlite": (
        (
            """CREATE TABLE cases (
                fingerprint TEXT PRIMARY KEY,
                customer TEXT, host TEXT, rule TEXT, subject TEXT, priority TEXT,
                status TEXT NOT NULL,
                backend TEXT, case_ref TEXT, title TEXT,
                opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, resolved_at TEXT,
                reopen_count INTEGER NOT NULL DEFAULT 0,
                paged INTEGER NOT NULL DEFAULT 0,
                page_ref TEXT)""",
            "CREATE INDEX cases_status ON cases (status)",
            "CREATE INDEX cases_customer ON cases (customer)",
            "CREATE INDEX cases_host ON cases (host)",
            """CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL, backend TEXT NOT NULL, fingerprint TEXT,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL,
                last_error TEXT,
                created_at TEXT NOT NULL, sent_at TEXT,
                result TEXT)""",
            "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
            "CREATE INDEX outbox_fingerprint ON outbox (fingerprint)",
            """CREATE TABLE run_lock (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL, token TEXT NOT NULL,
                host TEXT, pid INTEGER,
                acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL)""",
        ),
        (
            """CREATE TABLE local_cases (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                fields TEXT NOT NULL,
                status TEXT NOT NULL, priority TEXT,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
            "CREATE INDEX local_cases_status ON local_cases (status)",
            """CREATE TABLE local_comments (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                case_id INTEGER NOT NULL REFERENCES local_cases (id) ON DELETE CASCADE,
                at TEXT NOT NULL, body TEXT NOT NULL)""",
            "CREATE INDEX local_comments_case ON local_comments (case_id, id)",
            """CREATE TABLE metrics (
                host TEXT NOT NULL, name TEXT NOT NULL, at TEXT NOT NULL, value REAL NOT NULL,
                PRIMARY KEY (host, name, at))""",
            "CREATE INDEX metrics_at ON metrics (at)",
        ),
        (
            """CREATE TABLE silences (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                customer TEXT, host TEXT, rule TEXT,
                starts_at TEXT NOT NULL, ends_at TEXT NOT NULL,
                reason TEXT NOT NULL, created_by TEXT,
                created_at TEXT NOT NULL, lifted_at TEXT)""",
            "CREATE INDEX silences_ends ON silences (ends_at)",
        ),
        (
            "ALTER TABLE cases ADD COLUMN case_key TEXT",
            "ALTER TABLE cases ADD COLUMN generation INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE cases ADD COLUMN no_data_since TEXT",
            "ALTER TABLE cases ADD COLUMN no_data_noted INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE outbox ADD COLUMN dropped_at TEXT",
            "ALTER TABLE outbox ADD COLUMN drop_reason TEXT",
            # an action parked by an older collection is retried: nothing is forgotten
            "UPDATE outbox SET status = 'queued', refused = 1 WHERE status = 'parked'",
            "ALTER TABLE local_comments ADD COLUMN marker TEXT",
            "CREATE INDEX local_comments_marker ON local_comments (case_id, marker)",
        ),
        (
            """CREATE TABLE conditions (
                fingerprint TEXT PRIMARY KEY,
                host TEXT, rule TEXT, subject TEXT,
                firing INTEGER NOT NULL DEFAULT 0,
                streak INTEGER NOT NULL DEFAULT 0,
                streak_since TEXT,
                changes TEXT NOT NULL DEFAULT '[]',
                flapping_since TEXT,
                updated_at TEXT NOT NULL)""",
            "CREATE INDEX conditions_host ON conditions (host)",
        ),
        (
            # Metric history, compact (version 6): a series per host and metric name, and its points
            # keyed by (series, time), the time as whole microseconds since the UTC epoch, in a table
            # without rowid; the rows of ``metrics`` move over, the time index is built after them.
            """CREATE TABLE metric_series (
                id INTEGER PRIMARY KEY,
                host TEXT NOT NULL, name TEXT NOT NULL,
                UNIQUE (host, name))""",
            """CREATE TABLE metric_points (
                series INTEGER NOT NULL, at INTEGER NOT NULL, value REAL NOT NULL,
                PRIMARY KEY (series, at)) WITHOUT ROWID""",
            "INSERT INTO metric_series (host, name) SELECT DISTINCT host, name FROM metrics ORDER BY host, name",
            """INSERT INTO metric_points (series, at, value)
                SELECT s.id,
                       CAST(strftime('%s', substr(m.at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(m.at, 21, 6) AS INTEGER),
                       m.value
                FROM metrics m JOIN metric_series s ON s.host = m.host AND s.name = m.name
                ORDER BY s.id, m.at""",
            "DROP TABLE metrics",
            "CREATE INDEX metric_points_at ON metric_points (at)",
        ),
    ),
    "postgresql": (
        (
            """CREATE TABLE cases (
                fingerprint TEXT PRIMARY KEY,
                customer TEXT, host TEXT, rule TEXT, subject TEXT, priority TEXT,
                status TEXT NOT NULL,
                backend TEXT, case_ref TEXT, title TEXT,
                opened_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, resolved_at TIMESTAMPTZ,
                reopen_count INTEGER NOT NULL DEFAULT 0,
                paged BOOLEAN NOT NULL DEFAULT FALSE,
                page_ref TEXT)""",
            "CREATE INDEX cases_status ON cases (status)",
            "CREATE INDEX cases_customer ON cases (customer)",
            "CREATE INDEX cases_host ON cases (host)",
            """CREATE TABLE outbox (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL, backend TEXT NOT NULL, fingerprint TEXT,
                payload JSONB NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TIMESTAMPTZ NOT NULL,
                last_error TEXT,
                created_at TIMESTAMPTZ NOT NULL, sent_at TIMESTAMPTZ,
                result JSONB)""",
            "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
            "CREATE INDEX outbox_fingerprint ON outbox (fingerprint)",
            """CREATE TABLE run_lock (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL, token TEXT NOT NULL,
                host TEXT, pid INTEGER,
                acquired_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
        ),
        (
            """CREATE TABLE local_cases (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                fields JSONB NOT NULL,
                status TEXT NOT NULL, priority TEXT,
                created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX local_cases_status ON local_cases (status)",
            """CREATE TABLE local_comments (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                case_id BIGINT NOT NULL REFERENCES local_cases (id) ON DELETE CASCADE,
                at TIMESTAMPTZ NOT NULL, body TEXT NOT NULL)""",
            "CREATE INDEX local_comments_case ON local_comments (case_id, id)",
            """CREATE TABLE metrics (
                host TEXT NOT NULL, name TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, value DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (host, name, at))""",
            "CREATE INDEX metrics_at ON metrics (at)",
        ),
        (
            """CREATE TABLE silences (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                customer TEXT, host TEXT, rule TEXT,
                starts_at TIMESTAMPTZ NOT NULL, ends_at TIMESTAMPTZ NOT NULL,
                reason TEXT NOT NULL, created_by TEXT,
                created_at TIMESTAMPTZ NOT NULL, lifted_at TIMESTAMPTZ)""",
            "CREATE INDEX silences_ends ON silences (ends_at)",
        ),
        (
            "ALTER TABLE cases ADD COLUMN case_key TEXT, ADD COLUMN generation INTEGER NOT NULL DEFAULT 1, "
            "ADD COLUMN no_data_since TIMESTAMPTZ, ADD COLUMN no_data_noted BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE outbox ADD COLUMN refused BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN dropped_at TIMESTAMPTZ, "
            "ADD COLUMN drop_reason TEXT",
            "UPDATE outbox SET status = 'queued', refused = TRUE WHERE status = 'parked'",
            "ALTER TABLE local_comments ADD COLUMN marker TEXT",
            "CREATE INDEX local_comments_marker ON local_comments (case_id, marker)",
        ),
        (
            """CREATE TABLE conditions (
                fingerprint TEXT PRIMARY KEY,
                host TEXT, rule TEXT, subject TEXT,
                firing BOOLEAN NOT NULL DEFAULT FALSE,
                streak INTEGER NOT NULL DEFAULT 0,
                streak_since TIMESTAMPTZ,
                changes JSONB NOT NULL DEFAULT '[]'::jsonb,
                flapping_since TIMESTAMPTZ,
                updated_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX conditions_host ON conditions (host)",
        ),
        (
            """CREATE TABLE metric_series (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                host TEXT NOT NULL, name TEXT NOT NULL,
                UNIQUE (host, name))""",
            """CREATE TABLE metric_points (
                series BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, value DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (series, at))""",
            "INSERT INTO metric_series (host, name) SELECT DISTINCT host, name FROM metrics ORDER BY host, name",
            """INSERT INTO metric_points (series, at, value)
                SELECT s.id, m.at, m.value FROM metrics m JOIN metric_series s ON s.host = m.host AND s.name = m.name
                ORDER BY s.id, m.at""",
            "DROP TABLE metrics",
            "CREATE INDEX metric_points_at ON metric_points (at)",
        ),
    ),
}

SCHEMA_VERSION = len(MIGRATIONS["sqlite"])

_SCHEMA_VERSION_DDL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
}
