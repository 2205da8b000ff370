"""Copy a PostgreSQL database into the build's database: pg_dump | pg_restore.

Shipped by the master (``pg_remote_copy`` step set) and run on the worker as
``python3 anybox-pg_copy.py --source-db DB [--source-host H] [--source-port P]
[--source-user U] --target-db TESTING_DB [--dump-option X]... [--restore-option
X]...``. Standard library only.

Why a script and not ``sh -c "pg_dump ... | pg_restore ..."``: the database
names and options come from manifests and worker files, and must reach the
programs as literal arguments. Here both programs get argument lists and the
pipe is made by ``subprocess`` itself, so no shell ever parses user text.

Database names are given to libpq as ``dbname='...'`` connection strings:
a bare ``-d`` value containing ``=`` (or starting with ``postgresql://``)
would otherwise be read as a connection string, not as a name.
Unspecified connection settings come from the environment (``PGHOST``,
``PGPORT``, ``PGUSER``... of the chosen ``postgresql`` capability), so the
target is the build's cluster and the source defaults to it too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time


def conninfo_quote(value: str) -> str:
    """A libpq connection-string value, quoted so it is taken literally."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(dbname: str, host: str | None = None, port: str | None = None,
             user: str | None = None) -> str:
    """``key='value' ...`` for the given settings; the others come from the
    environment (libpq falls back to ``PGHOST`` etc. for missing keys)."""
    items = [("dbname", dbname), ("host", host), ("port", port), ("user", user)]
    return " ".join(f"{key}={conninfo_quote(value)}" for key, value in items if value)


def commands(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The pg_dump and pg_restore argument lists."""
    source = conninfo(args.source_db, args.source_host, args.source_port, args.source_user)
    dump = ["pg_dump", "--format=custom", *args.dump_option, "--dbname", source]
    restore = ["pg_restore", "--no-owner", "--no-privileges", *args.restore_option,
               "--dbname", conninfo(args.target_db)]
    return dump, restore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source-db", required=True)
    parser.add_argument("--source-host")
    parser.add_argument("--source-port")
    parser.add_argument("--source-user")
    parser.add_argument("--target-db", required=True)
    parser.add_argument("--dump-option", action="append", default=[])
    parser.add_argument("--restore-option", action="append", default=[])
    args = parser.parse_args(argv)
    dump, restore = commands(args)
    print("running:", shlex.join(dump), "|", shlex.join(restore), flush=True)
    start = time.monotonic()
    with subprocess.Popen(dump, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL) as dumper:
        assert dumper.stdout is not None
        with subprocess.Popen(restore, stdin=dumper.stdout) as restorer:
            # Only the restorer reads the pipe now: if it dies early, the
            # dumper gets SIGPIPE instead of blocking on a full pipe.
            dumper.stdout.close()
            restore_rc = restorer.wait()
        dump_rc = dumper.wait()
    elapsed = time.monotonic() - start
    print(f"pg_dump exit code {dump_rc}, pg_restore exit code {restore_rc} "
          f"({elapsed:.1f} s)", flush=True)
    if dump_rc or restore_rc:
        print(f"copy of {args.source_db!r} into {args.target_db!r} failed", file=sys.stderr)
        return 1
    print(f"copied {args.source_db!r} into {args.target_db!r}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PGCONNECT_TIMEOUT", "30")
    sys.exit(main())
