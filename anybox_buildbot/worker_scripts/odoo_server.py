"""Start a server in the background until it answers HTTP; stop it later.

Shipped by the master (``functional-odoo`` step set) and run on the worker:

``python3 anybox-odoo_server.py start --port P --pidfile F --logfile L
--timeout T -- SERVER ARGS...``
    Refuses a port something else listens on; starts SERVER detached (its
    own session, output to L, pid and start time to F); polls
    ``http://127.0.0.1:P/`` until any HTTP answer, at most T seconds. Exit
    0 once it answers; 1 (after stopping it) if it exits or stays silent,
    with the end of its log; 2 when the port is taken.

``python3 anybox-odoo_server.py stop --pidfile F --logfile L``
    Stops the process group F names (SIGTERM, then SIGKILL after
    ``--grace`` seconds) if it is still the process ``start`` made (same
    kernel start time: nothing is signalled when that cannot be checked),
    removes F, prints the end of the server's log. No server: nothing to
    do, exit 0.

``start`` first stops a server F still names: one left by a build of the
same builder that was interrupted before its stop step.

Why a script: a build step's command must end for the next step to run,
while the server has to outlive it; the server's output goes to a file
so that the step's pipes close. Arguments arrive as a list, never through
a shell. Standard library only.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

LOG_TAIL_BYTES = 64 * 1024


def log_tail(path: str, size: int = LOG_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (any interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def answers(port: int) -> str | None:
    """The HTTP status the server answers on ``/`` with, or None."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:   # 404, 500...: it answers all the same
        return str(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (Linux), '' elsewhere: tells a
    recycled pid from ours."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode(errors="replace")
        return stat.rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


def stop_group(pid: int, grace: float) -> str:
    try:
        return _stop_group(pid, grace)
    except PermissionError:
        return "not allowed to signal its process group (another user's?): nothing stopped"


def _stop_group(pid: int, grace: float) -> str:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "already stopped"
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return "stopped"
        try:   # reap it when it is our child (start's own clean-up)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return "stopped"
    return f"killed (still running {grace:g} s after SIGTERM)"


def stop_recorded(pidfile: str, grace: float) -> str | None:
    """Stop the server ``pidfile`` names, if it is still that process;
    remove the file. None: no file.

    A pid is recycled once its process is gone: only a process whose
    kernel start time is the one recorded at start is ours. Without both
    (an old pid file, a system with no /proc) nothing is signalled: a
    server left running is better than an unrelated group killed.
    """
    try:
        with open(pidfile) as handle:
            fields = handle.read().split()
    except FileNotFoundError:
        return None
    try:
        return _identified_stop(fields, grace)
    finally:
        try:   # whatever happened: a stale file must not block later starts
            os.unlink(pidfile)
        except FileNotFoundError:
            pass


def _identified_stop(fields: list[str], grace: float) -> str:
    try:
        pid = int(fields[0])
    except (IndexError, ValueError):
        return "unreadable pid file: nothing stopped"
    recorded = fields[1] if len(fields) > 1 else ""
    if pid <= 1:
        return f"pid {pid} cannot be a server this build started: nothing stopped"
    if not recorded:
        return (f"pid {pid}: no start time recorded, cannot tell it is the server this "
                "build started: nothing stopped")
    current = start_time(pid)
    if not current:
        return (f"pid {pid}: its start time cannot be read (it is gone, or this system "
                "has no /proc), cannot tell it is the server this build started: "
                "nothing stopped")
    if current != recorded:
        return f"pid {pid} is no longer the server this build started: nothing stopped"
    return f"server (pid {pid}): {stop_group(pid, grace)}"


def start(args: argparse.Namespace) -> int:
    if not args.command:
        print("no server command given", file=sys.stderr)
        return 2
    # A build interrupted before its stop step (worker restarted) may have
    # left its server running: the pid file of this builder names it.
    leftover = stop_recorded(args.pidfile, args.grace)
    if leftover is not None:
        print(f"left by an earlier build: {leftover}", flush=True)
    if not port_is_free(args.port):
        print(f"port {args.port} is already in use on this worker, by a process this build "
              "did not start: stop it, or take the port out of the worker's build-ports",
              file=sys.stderr)
        return 2
    with open(args.logfile, "wb") as log:
        process = subprocess.Popen(args.command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    with open(args.pidfile, "w") as handle:
        handle.write(f"{process.pid} {start_time(process.pid)}\n")
    print(f"started {args.command[0]} (pid {process.pid}), waiting at most "
          f"{args.timeout:g} s for it to answer on port {args.port}", flush=True)
    began = time.monotonic()
    deadline = began + args.timeout
    while True:
        code = process.poll()
        if code is not None:
            problem = f"the server exited with code {code} before answering on port {args.port}"
            break
        status = answers(args.port)
        if status is not None:
            print(f"the server answers on port {args.port} (HTTP {status}) after "
                  f"{time.monotonic() - began:.1f} s")
            return 0
        if time.monotonic() >= deadline:
            problem = (f"the server did not answer on port {args.port} within "
                       f"{args.timeout:g} s (functional-odoo.wait)")
            stop_group(process.pid, args.grace)
            break
        time.sleep(0.25)
    print(problem, file=sys.stderr)
    print(f"--- end of the server's log ({args.logfile}) ---", file=sys.stderr)
    print(log_tail(args.logfile), file=sys.stderr)
    try:
        os.unlink(args.pidfile)
    except OSError:
        pass
    return 1


def stop(args: argparse.Namespace) -> int:
    outcome = stop_recorded(args.pidfile, args.grace)
    if outcome is None:
        print("no server to stop")
        return 0
    print(outcome)
    print(f"--- end of the server's log ({args.logfile}) ---")
    print(log_tail(args.logfile))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    begin = commands.add_parser("start")
    begin.add_argument("--port", type=int, required=True)
    begin.add_argument("--timeout", type=float, default=60.0)
    end = commands.add_parser("stop")
    for sub in (begin, end):
        sub.add_argument("--pidfile", required=True)
        sub.add_argument("--logfile", required=True)
        sub.add_argument("--grace", type=float, default=10.0)
    begin.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.action == "start":
        if args.command[:1] == ["--"]:
            args.command = args.command[1:]
        return start(args)
    return stop(args)


if __name__ == "__main__":
    sys.exit(main())
