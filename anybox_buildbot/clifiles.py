"""The commands that write files: ``create-master`` (a new master
directory from the package's templates, ``newmaster``) and ``migrate``
(files of anybox.buildbot.odoo in today's format, ``migrate``).

Both import their module when run, so the other commands do not pay for
loading them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_create_master(args: argparse.Namespace) -> int:
    from .newmaster import MasterSettings, NewMasterError, create_master

    try:
        settings = MasterSettings.from_options(args.directory, title=args.title,
                                               web_port=args.web_port,
                                               worker_port=args.worker_port, url=args.url,
                                               worker=args.worker)
        report = create_master(settings)
    except NewMasterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Files of anybox.buildbot.odoo in today's format: the diff, then what
    was left and why; ``--write`` replaces the files. Exit 1 if something
    was left."""
    from .migrate import migrate_manifest
    from .migrateworkers import migrate_workers

    done = []
    for path, convert in [*((p, migrate_manifest) for p in args.manifest),
                          *((p, migrate_workers) for p in args.workers)]:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 1
        done.append((path, convert(text, path)))
    left = [line for _, m in done for line in m.left]
    for path, migration in done:
        print(migration.diff(), end="")
        if args.write and migration.new != migration.old:
            Path(path).write_text(migration.new, encoding="utf-8")
    if left:
        print(f"could not convert ({len(left)}):")
        print("\n".join(f"  {line}" for line in left))
    return 1 if left else 0
