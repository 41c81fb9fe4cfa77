"""Start moto in server mode with the settings Fleetkit needs, on a given port.

Usage: python3 tools/moto-server.py <port> [host] [--config JSON]

JSON is a partial moto configuration, merged section by section into ``moto.core.config.default_user_config``
before the server starts, e.g. ``{"iot": {"use_valid_cert": true}}``. tools/emulator.ts passes that one by
default: moto computes an IoT certificate ID as the SHA-256 of the PEM text unless ``iot.use_valid_cert`` is on,
in which case it uses the SHA-256 of the DER bytes, as AWS IoT does. The setting is read by
``moto.settings.iot_use_valid_cert()`` on every RegisterCertificate call. moto's ``POST /moto-api/config`` only
accepts the ``batch``, ``lambda`` and ``stepfunctions`` sections, so settings must be made in this process
before the server starts.

The server is ``moto.server.main``, the entry point behind the ``moto_server`` command: it installs a
SIGTERM/SIGINT handler that exits cleanly, which is how the launcher stops it. A watchdog thread also stops
the server when the process that started it dies, so a crashed run leaves no orphan server.
"""

import json
import logging
import os
import signal
import sys
import threading
import time

DEFAULT_HOST = "127.0.0.1"


def apply_config(config: dict) -> None:
    """Merge ``config`` into moto's settings, section by section, and check that the IoT setting took."""
    from moto import settings
    from moto.core.config import default_user_config

    for section, values in config.items():
        if not isinstance(values, dict):
            raise ValueError(f"moto config section {section!r} must be an object, got {values!r}")
        # Mutate the shared dict in place: moto.settings imported this very object.
        default_user_config.setdefault(section, {}).update(values)  # type: ignore[misc]
    wanted = config.get("iot", {}).get("use_valid_cert")
    if wanted is not None and settings.iot_use_valid_cert() != wanted:
        raise RuntimeError("moto did not take iot.use_valid_cert; check the installed moto version")


def watch_parent(parent_pid: int) -> None:
    """Stop this server (through its own SIGTERM handler) once the process that started it is gone."""

    def run() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=run, name="parent-watchdog", daemon=True).start()


def parse_args(argv: list[str]) -> tuple[str, str, dict] | None:
    config: dict = {}
    positionals: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--config" and rest:
            parsed = json.loads(rest.pop(0))
            if not isinstance(parsed, dict):
                return None
            config = parsed
        else:
            positionals.append(arg)
    if not 1 <= len(positionals) <= 2 or not positionals[0].isdigit():
        return None
    return positionals[0], positionals[1] if len(positionals) > 1 else DEFAULT_HOST, config


def main(argv: list[str]) -> int:
    try:
        args = parse_args(argv)
    except json.JSONDecodeError as error:
        print(f"moto-server.py: --config is not JSON: {error}", file=sys.stderr)
        return 2
    if args is None:
        print("usage: moto-server.py <port> [host] [--config JSON]", file=sys.stderr)
        return 2
    port, host, config = args

    try:
        from moto.server import main as moto_server_main
    except ImportError as error:
        print(f"moto is not installed for python3: pip install 'moto[server]' ({error})", file=sys.stderr)
        return 3

    apply_config(config)
    # One log line per request would flood the launcher's stderr buffer; keep warnings and errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    watch_parent(os.getppid())
    print(f"fleetkit moto-server: config {json.dumps(config)}, listening on http://{host}:{port}", file=sys.stderr)
    sys.stderr.flush()
    moto_server_main(["--host", host, "--port", port])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
