"""The baseline of the throughput benchmark: bare pyModeS on a capture of time<TAB>hex lines.

One ``PipeDecoder`` decodes every frame with its receive time, as a program that only
wants pyModeS' answers would: nothing is kept, nothing is skipped. Run as a whole process
beside ``flightwatch replay`` of the same file, it is what "faster than bare pyModeS"
is measured against.

    python benchmarks/bare_pymodes.py CAPTURE.tsv
"""

from __future__ import annotations

import sys
from datetime import datetime

from pyModeS import PipeDecoder


def main(path: str) -> int:
    decode = PipeDecoder().decode
    frames = 0
    with open(path, encoding="ascii") as lines:
        for line in lines:
            stamp, _, message = line.rstrip("\n").partition("\t")
            decode(message, timestamp=datetime.fromisoformat(stamp).timestamp())
            frames += 1
    print(f"{frames} frames decoded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
