"""The database itself: its tables, the steps that upgrade an older session's file, and opening it
in WAL mode with full sync (what every connection must set, since only WAL is a property of the file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bosun.orchestration.errors import BosunError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, state TEXT NOT NULL,
    agent TEXT, pinned TEXT, owner TEXT, epoch INTEGER NOT NULL DEFAULT 0, lease_until REAL,
    branch TEXT, worktree TEXT, base_commit TEXT, head_commit TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, merged_commit TEXT,
    candidate TEXT, candidate_parent TEXT, approved INTEGER NOT NULL DEFAULT 0,
    handback TEXT, detail TEXT, usage TEXT, pid INTEGER, pid_start TEXT, started_at REAL, updated REAL,
    gate_run INTEGER, queue TEXT, lease_mono REAL, lease_boot TEXT
);
CREATE INDEX IF NOT EXISTS units_by_state ON units (state, position);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL,
    unit TEXT, data TEXT NOT NULL
);
-- A claim's event, written by the claim's own UPDATE: a claim is then one statement, and no Python
-- runs while it holds the write lock. Only a claim sets a lease and raises the epoch together.
CREATE TRIGGER IF NOT EXISTS claim_logged AFTER UPDATE OF epoch ON units
WHEN NEW.state = 'claimed' AND NEW.lease_until IS NOT NULL AND NEW.epoch = OLD.epoch + 1 BEGIN
    INSERT INTO events (time, kind, unit, data) VALUES (NEW.updated, 'claimed', NEW.id, json_object(
        'from', 'ready', 'to', 'claimed', 'owner', NEW.owner, 'epoch', NEW.epoch,
        'lease_s', round(NEW.lease_until - NEW.updated, 3)));
END;
CREATE TABLE IF NOT EXISTS gate_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, attempt INTEGER NOT NULL,
    commit_id TEXT NOT NULL, parent TEXT NOT NULL, passed INTEGER NOT NULL,
    exit_code INTEGER, duration_s REAL NOT NULL, cause TEXT NOT NULL,
    output_tail TEXT NOT NULL, time REAL NOT NULL, checks TEXT NOT NULL DEFAULT '[]',
    covers TEXT NOT NULL DEFAULT '[]', label TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL,
    unit TEXT NOT NULL, args TEXT NOT NULL, done_time REAL, result TEXT
);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, ref TEXT NOT NULL,
    old TEXT NOT NULL, new TEXT NOT NULL, status TEXT NOT NULL, time REAL NOT NULL,
    units TEXT, gate_run INTEGER
);
"""

SCHEMA_VERSION = 4
UPGRADES = {
    1: ["ALTER TABLE gate_runs ADD COLUMN checks TEXT NOT NULL DEFAULT '[]'"],  # every check's verdict
    2: [  # the merge queue: which gate run covered which units, and batch landings
        "ALTER TABLE units ADD COLUMN gate_run INTEGER",
        "ALTER TABLE units ADD COLUMN queue TEXT",
        "ALTER TABLE gate_runs ADD COLUMN covers TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE gate_runs ADD COLUMN label TEXT",
        "ALTER TABLE intents ADD COLUMN units TEXT",
        "ALTER TABLE intents ADD COLUMN gate_run INTEGER",
    ],
    3: [  # leases timed on the boot clock, which a wall-clock jump does not move
        "ALTER TABLE units ADD COLUMN lease_mono REAL",
        "ALTER TABLE units ADD COLUMN lease_boot TEXT",
    ],
}


def open_database(path: Path) -> sqlite3.Connection:
    """Connect to the session's database (WAL, full sync, a 30 s busy wait), upgrading an older
    Bosun's file in place; a file from another version, or one that is no database, is a BosunError.

    The connection belongs to the thread that opens it (sqlite3's own check); `isolation_level=None`
    leaves every transaction to the store's explicit `BEGIN IMMEDIATE`."""
    try:
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=True)
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        version = stored = db.execute("PRAGMA user_version").fetchone()[0]
        fresh = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'units'").fetchone()[0] == 0
        if not fresh:
            version = _upgrade(db, version)
        if not fresh and version != SCHEMA_VERSION:
            db.close()
            raise BosunError(
                f"{path}: this session was written by another version of Bosun (store schema "
                f"{version}, this one reads {SCHEMA_VERSION}); finish it with that version or "
                "delete .bosun/ to start over"
            )
        db.executescript(SCHEMA)
        if stored != SCHEMA_VERSION:  # a write: a command that only reads a current file makes none
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        raise BosunError(f"{path}: cannot open the session store: {exc}") from None
    return db


def _upgrade(db: sqlite3.Connection, version: int) -> int:
    """Apply the additive steps from `version` on, one version at a time; returns the version reached."""
    while version in UPGRADES:
        for statement in UPGRADES[version]:
            try:
                db.execute(statement)
            except sqlite3.OperationalError as exc:  # another process migrated it a moment ago
                if "duplicate column" not in str(exc):
                    raise
        version += 1
    return version
