"""The `greenloop` command: serve the product, run the tests, drive a simulated kiosk, or any manage.py task.

With no DATABASE_URL every subcommand runs on the embedded default (a private PostgreSQL under
`.greenloop/`), so a fresh machine needs nothing but Python.
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()


def serve(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_reference_data", verbosity=0)
    if args.demo or (settings.EMBEDDED and not args.no_demo):
        call_command("load_demo_data")
    _collect_static_if_missing(settings)
    in_process_worker = _wants_in_process_worker(args, settings)
    base = f"http://{args.host}:{args.port}"
    where = "embedded PostgreSQL in .greenloop/" if settings.EMBEDDED else "DATABASE_URL"
    print(
        f"\nGreenLoop is serving on {base}  (database: {where})\n"
        f"  API docs:  {base}/api/docs/\n"
        f"  Admin:     {base}/admin/\n"
        f"  Dashboard: {base}/dashboard/\n"
        f"  Health:    {base}/healthz\n"
        f"  Jobs:      {'run inside this server' if in_process_worker else 'run by `greenloop worker`'}\n",
        flush=True,
    )
    if in_process_worker:
        os.environ["GREENLOOP_IN_PROCESS_WORKER"] = "1"
    import uvicorn

    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets the
    # embedded PostgreSQL's exit handler stop the private server instead of leaving it running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "backend.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # Forwarded headers only from the configured load balancers (TRUSTED_PROXIES), never by default.
        proxy_headers=bool(os.environ.get("TRUSTED_PROXIES")),
        forwarded_allow_ips=os.environ.get("TRUSTED_PROXIES") or None,
        # The lifespan starts and stops the in-process job worker; without it the app ignores it.
        lifespan="on",
        access_log=False,
    )
    return 0


def _collect_static_if_missing(settings) -> None:
    """With DEBUG off static files come from the manifest `collectstatic` writes; a server started
    from a checkout (not from the image, whose build wrote it) writes it once here."""
    from django.core.management import call_command

    if settings.DEBUG or (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return
    print(f"Collecting static files into {settings.STATIC_ROOT} (first start with DEBUG off)...", flush=True)
    call_command("collectstatic", interactive=False, verbosity=0)


def _wants_in_process_worker(args: argparse.Namespace, settings) -> bool:
    """Jobs run inside the server unless told otherwise or a separate worker is the plan.

    Without Redis events cross no process boundary, so there the jobs must run where the sockets are,
    which needs a single server process; with Redis a separate `greenloop worker` is the production
    shape and `--worker` still folds it in for a one-process setup.
    """
    if args.no_worker:
        return False
    if args.worker:
        return True
    return not settings.REDIS_URL and args.workers == 1


def worker(args: argparse.Namespace) -> int:
    _setup_django()
    from backend.jobs.worker import run_forever

    print(f"GreenLoop job worker: concurrency {args.concurrency}", flush=True)
    run_forever(concurrency=args.concurrency)
    return 0


def _browser_available() -> bool:
    if Path("/usr/bin/chromium").exists() or os.environ.get("GREENLOOP_CHROMIUM"):
        return True
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    return any(cache.glob("chromium*"))


def run_tests(pytest_args: list[str]) -> int:
    """Run the whole suite; fetches Playwright's Chromium first where no system Chromium exists."""
    if not _browser_available():
        print(
            "No Chromium found: installing Playwright's (needed by the dashboard browser test).", flush=True
        )
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    command = [sys.executable, "-m", "pytest", *pytest_args]
    return subprocess.call(command, cwd=PROJECT_ROOT)  # noqa: S603


def kiosk_sim(sim_args: list[str]) -> int:
    return manage(["kiosk_sim", *sim_args])


def manage(manage_args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from backend.audit.commands import audited_command

    with audited_command(manage_args):
        execute_from_command_line(["greenloop manage", *manage_args])
    return 0


# These hand every argument after their name to the tool they wrap (pytest, the simulator, Django).
PASSTHROUGH = {"test": run_tests, "kiosk-sim": kiosk_sim, "manage": manage}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenloop", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="migrate, load data and serve the ASGI app")
    serve_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve_parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    demo = serve_parser.add_mutually_exclusive_group()
    demo.add_argument(
        "--demo", action="store_true", help="load the demo data set (default on the embedded database)"
    )
    demo.add_argument("--no-demo", action="store_true", help="never load demo data")
    jobs = serve_parser.add_mutually_exclusive_group()
    jobs.add_argument(
        "--worker", action="store_true", help="run the scheduled jobs in this server (default without Redis)"
    )
    jobs.add_argument("--no-worker", action="store_true", help="leave the jobs to `greenloop worker`")
    serve_parser.set_defaults(handler=serve)

    worker_parser = commands.add_parser("worker", help="run the scheduled jobs (any number may run at once)")
    worker_parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "1"))
    )
    worker_parser.set_defaults(handler=worker)

    commands.add_parser("test", help="run the whole test suite (further arguments go to pytest)")
    commands.add_parser("kiosk-sim", help="drive a running server the way kiosk firmware would (see --help)")
    commands.add_parser("manage", help="any Django management command, e.g. `greenloop manage verify_ledger`")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASSTHROUGH:
        return PASSTHROUGH[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
