# Fails unless it got the arguments after `--` and a hash seed of its own (not interlace's 0).
import os
import sys

assert sys.argv[1:] == ["alpha", "beta"], sys.argv
assert os.environ.get("PYTHONHASHSEED") != "0", "the run inherited interlace's fixed hash seed"
