"""``python -m stripe_sandbox [--port N] [--state-file PATH]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="stripe_sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--state-file", type=Path, default=None)
    args = parser.parse_args()
    serve(SandboxConfig(host=args.host, port=args.port, state_file=args.state_file))


if __name__ == "__main__":
    main()
