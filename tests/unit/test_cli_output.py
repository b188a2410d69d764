"""The command line's output when its reader goes away: `python -m core impact | head`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A command whose handler prints far more than a pipe holds, run through the real cli.main.
LONG_OUTPUT = """
import sys
from core import cli

def long_listing(args):
    for i in range(500_000):
        print("proposal", i)
    return 0

class Args:
    handler = staticmethod(long_listing)

class Parser:
    def parse_args(self, argv):
        return Args()

cli.build_parser = Parser
sys.exit(cli.main([]))
"""


def test_a_reader_that_stops_early_gets_what_it_read_and_no_traceback():
    process = subprocess.Popen([sys.executable, "-c", LONG_OUTPUT], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does once it has its line
    stderr = process.stderr.read()
    code = process.wait(timeout=60)
    assert first == "proposal 0\n"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert code == 1
