"""An embedded Postgres (the ``pgserver`` wheel) for ``billing dev`` and laptops.

Used only when ``DATABASE_URL`` is unset: the data directory lives in
``./.billing/postgres`` so a second start reuses the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return a postgresql:// URL."""
        import pgserver

        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(str(self._data_dir), cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
