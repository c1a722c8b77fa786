"""Shared by the DPOR test programs: append the final state to the file named by argv[1]."""
import sys


def report(*values):
    if len(sys.argv) > 1:
        with open(sys.argv[1], "a") as out:
            out.write(" ".join(map(str, values)) + "\n")
