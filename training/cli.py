"""`pointlang-train`: the two training stages, each its own subcommand.

    pointlang-train align --config training/configs/align_small.yaml     # stage 1 (align.py)
    pointlang-train caption --config training/configs/caption_small.yaml # stage 2 (caption.py)
    torchrun --nproc_per_node 2 -m training.cli align --config ...       # many processes

Without a subcommand, `pointlang-train --config ...` trains stage 1, as it always has.
"""

from __future__ import annotations

import sys

STAGES = ("align", "caption")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    stage, rest = (argv[0], argv[1:]) if argv[:1] and argv[0] in STAGES else ("align", argv)
    if stage == "caption":
        from training.caption import main as stage_main
    else:
        from training.align import main as stage_main
    return stage_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
