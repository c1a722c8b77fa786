"""``interlace`` and ``python -m interlace``: fix the hash seed, then run the command line.

Set iteration order depends on the hash seed, and every execution is a fork of this process,
so the seed must be fixed before anything runs for the same seed to give the same executions
(and a replay token to replay) from one command to the next.  The process re-executes itself
with ``PYTHONHASHSEED=0`` first thing, before it imports the rest of interlace.
"""

import os
import sys


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") is None and os.environ.get("INTERLACE_NO_REEXEC") is None:
        # the marker tells `interlace stress` to give its runs their own seeds again
        env = dict(os.environ, PYTHONHASHSEED="0", INTERLACE_FIXED_HASH_SEED="1")
        os.execve(sys.executable, [sys.executable, "-m", "interlace", *sys.argv[1:]], env)
    from .cli import main as run
    return run()


if __name__ == "__main__":
    raise SystemExit(main())
