"""Optional SQLite persistence of the sandbox state (standard library only)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from stripe_sandbox.state import State

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._seq = 0

    def load(self, state: State) -> bool:
        """Fill ``state`` from disk; False when the file held nothing yet."""
        rows = self._db.execute("SELECT kind, id, body, seq FROM objects ORDER BY seq").fetchall()
        for kind, object_id, body, seq in rows:
            state.table(kind)[object_id] = json.loads(body)
            self._seq = max(self._seq, seq)
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        state.clock_offset = int(meta.get("clock_offset", "0"))
        state.dirty.clear()
        return bool(rows)

    def flush(self, state: State) -> None:
        with self._db:
            if state.reset_requested:
                self._db.execute("DELETE FROM objects")
                state.reset_requested = False
            for kind, object_id in state.removed:
                self._db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, object_id))
            kinds = {kind for kind, _ in state.dirty}
            ordered = [
                (kind, object_id, obj)
                for kind in sorted(kinds)
                for object_id, obj in state.table(kind).items()
                if (kind, object_id) in state.dirty
            ]
            for kind, object_id, obj in ordered:
                self._seq += 1
                self._db.execute(
                    "INSERT INTO objects (kind, id, seq, body) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                    (kind, object_id, self._seq, json.dumps(obj)),
                )
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('clock_offset', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(state.clock_offset),),
            )
        state.dirty.clear()
        state.removed.clear()

    def close(self) -> None:
        self._db.close()
