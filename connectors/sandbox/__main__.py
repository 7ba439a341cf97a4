"""Run the sandbox: ``python -m connectors.sandbox --host 127.0.0.1 --port 8900``.

Host and port default to SANDBOX_HOST / SANDBOX_PORT (127.0.0.1:8900); every other setting is read
from SANDBOX_* variables (see connectors/sandbox/settings.py).
"""

import argparse

import uvicorn

from connectors.sandbox.app import create_app
from connectors.sandbox.settings import SandboxSettings


def main(argv: list[str] | None = None) -> None:
    settings = SandboxSettings()
    parser = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    args = parser.parse_args(argv)
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # Requests held by a "timeout" fault must not keep a stopping server alive.
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
