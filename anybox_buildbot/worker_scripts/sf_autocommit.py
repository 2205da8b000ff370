"""Commit a path of the checkout and push the commit back.

Shipped to the worker by the ``autocommit`` step set. Standard library
only. Every git call is an argument list; the message goes through stdin
(``--file=-``), so no text of the manifest is ever read as an option or
by a shell. Nothing to commit is a success.

    python sf_autocommit.py --path=P --branch=B --url=URL \
        --author-name=N --author-email=E --message=M
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def git(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    command = ["git", *args]
    print("running:", " ".join(command), flush=True)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(command, input=stdin, text=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    for name in ("path", "branch", "url", "author-name", "author-email", "message"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args(argv)
    if git("add", "--all", "--", args.path).returncode != 0:
        return 1
    if git("diff", "--cached", "--quiet", "--", args.path).returncode == 0:
        print(f"autocommit: nothing to commit in {args.path}")
        return 0
    identity = ["-c", f"user.name={args.author_name}", "-c",
                f"user.email={args.author_email}", "-c", "commit.gpgsign=false"]
    if git(*identity, "commit", "--quiet", "--file=-", "--", args.path,
           stdin=args.message).returncode != 0:
        return 1
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    if git("push", "--", args.url, f"HEAD:refs/heads/{args.branch}").returncode != 0:
        print(f"autocommit: push to {args.url} {args.branch} failed", file=sys.stderr)
        return 1
    print(f"autocommit: pushed {head.stdout.strip()} to {args.url} {args.branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
