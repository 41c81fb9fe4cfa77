"""Start moto in server mode for Fleetkit's integration tests, with AWS-accurate IoT certificate IDs.

Usage: python3 test/support/moto-server.py <port> [host]

moto computes an IoT certificate ID as the SHA-256 of the PEM text unless its ``iot.use_valid_cert``
setting is on, in which case it uses the SHA-256 of the DER bytes, as AWS IoT does. That setting lives in
``moto.core.config.default_user_config`` and is read by ``moto.settings.iot_use_valid_cert()`` on every
RegisterCertificate call. moto's ``POST /moto-api/config`` only accepts the ``batch``, ``lambda`` and
``stepfunctions`` sections, so the setting must be made in this process before the server starts.

The server is ``moto.server.main``, the entry point behind the ``moto_server`` command: it installs a
SIGTERM/SIGINT handler that exits cleanly, which is how the test harness stops it. A watchdog thread also
stops the server when the process that started it dies, so a crashed test run leaves no orphan server.
"""

import logging
import os
import signal
import sys
import threading
import time

DEFAULT_HOST = "127.0.0.1"


def enable_valid_certificate_ids() -> None:
    """Make moto derive certificate IDs from the DER encoding, as AWS IoT does."""
    from moto import settings
    from moto.core.config import default_user_config

    # Mutate the shared dict in place: moto.settings imported this very object.
    default_user_config.setdefault("iot", {})["use_valid_cert"] = True
    if not settings.iot_use_valid_cert():
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


def main(argv: list[str]) -> int:
    if len(argv) < 1 or not argv[0].isdigit():
        print("usage: moto-server.py <port> [host]", file=sys.stderr)
        return 2
    port = argv[0]
    host = argv[1] if len(argv) > 1 else DEFAULT_HOST

    try:
        from moto.server import main as moto_server_main
    except ImportError as error:
        print(f"moto is not installed for python3: pip install 'moto[server]' ({error})", file=sys.stderr)
        return 3

    enable_valid_certificate_ids()
    # One log line per request would flood the harness's stderr buffer; keep warnings and errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    watch_parent(os.getppid())
    print(f"fleetkit moto-server: iot.use_valid_cert=True, listening on http://{host}:{port}", file=sys.stderr)
    sys.stderr.flush()
    moto_server_main(["--host", host, "--port", port])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
