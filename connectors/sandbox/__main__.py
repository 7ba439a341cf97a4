"""Run the sandbox: ``python -m connectors.sandbox --host 127.0.0.1 --port 8900 [--tls-port 8943]``.

Host and ports default to SANDBOX_HOST / SANDBOX_PORT / SANDBOX_TLS_PORT (127.0.0.1:8900, no TLS); every
other setting is read from SANDBOX_* variables (see connectors/sandbox/settings.py). With a TLS port the
same app — one state, one clock — is also served over https with a certificate from SANDBOX_TLS_DIR.
"""

import argparse
import asyncio
from pathlib import Path

import uvicorn

from connectors.sandbox.app import create_app
from connectors.sandbox.common.tls import ensure_certificates
from connectors.sandbox.settings import SandboxSettings


def main(argv: list[str] | None = None) -> None:
    settings = SandboxSettings()
    parser = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--tls-port", type=int, default=settings.tls_port)
    parser.add_argument("--tls-dir", type=Path, default=settings.tls_dir)
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    args = parser.parse_args(argv)
    settings = settings.model_copy(
        update={"host": args.host, "port": args.port, "tls_port": args.tls_port, "tls_dir": args.tls_dir}
    )
    app = create_app(settings)
    # Requests held by a "timeout" fault must not keep a stopping server alive.
    common = {"host": args.host, "log_level": args.log_level, "timeout_graceful_shutdown": 2}
    servers = [uvicorn.Server(uvicorn.Config(app, port=args.port, **common))]
    if args.tls_port is not None:
        tls = ensure_certificates(args.tls_dir)
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    app,
                    port=args.tls_port,
                    ssl_certfile=str(tls.server_cert),
                    ssl_keyfile=str(tls.server_key),
                    lifespan="off",  # the app's start-up and shutdown belong to the first server
                    **common,
                )
            )
        )
    asyncio.run(_serve(servers))


async def _serve(servers: list[uvicorn.Server]) -> None:
    # A signal reaches one server (the last to capture it); when any stops, all stop.
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()


if __name__ == "__main__":
    main()
