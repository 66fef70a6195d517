"""``pointlang-data``: generate object datasets, scene rosbags and contact sheets.

pointlang-data objects --out DIR --per-category K --seed S --sensor {surface,lidar,depth}
pointlang-data scene --out BAG [--storage mcap|sqlite3] [--sweeps N] [--seed S] ...
pointlang-data contact-sheet --dataset DIR [--out PNG]
"""

from __future__ import annotations

import argparse
import os
import sys

from training.data.categories import CATEGORIES, SEEN_CATEGORIES, UNSEEN_CATEGORIES

CATEGORY_SETS = {"all": CATEGORIES, "seen": SEEN_CATEGORIES, "unseen": UNSEEN_CATEGORIES}


def _categories(text: str) -> tuple[str, ...]:
    if text in CATEGORY_SETS:
        return CATEGORY_SETS[text]
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown categories {unknown}; expected all, seen, unseen or ModelNet40 names"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pointlang-data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    objects = sub.add_parser("objects", help="objects with clouds, captions and QA + manifest.json")
    objects.add_argument("--out", required=True, help="output folder")
    objects.add_argument("--per-category", type=int, default=10, help="objects per category")
    objects.add_argument("--seed", type=int, default=0)
    objects.add_argument("--sensor", choices=("surface", "lidar", "depth"), default="lidar")
    objects.add_argument(
        "--categories",
        type=_categories,
        default=CATEGORIES,
        help="all, seen, unseen or a comma-separated list (default all)",
    )
    objects.add_argument("--points", type=int, default=2048, help="points per surface cloud")
    objects.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    objects.add_argument("--no-contact-sheet", action="store_true")
    objects.add_argument("--quiet", action="store_true", help="no progress bar")

    scene = sub.add_parser("scene", help="a rosbag2 of LiDAR sweeps over objects with ground truth")
    scene.add_argument("--out", required=True, help="bag folder to create")
    scene.add_argument("--seed", type=int, default=0)
    scene.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    scene.add_argument("--sweeps", type=int, default=30)
    scene.add_argument("--rate", type=float, default=10.0, help="sweeps per second")
    scene.add_argument("--min-objects", type=int, default=3)
    scene.add_argument("--max-objects", type=int, default=12)
    scene.add_argument("--lidar", default="hdl32", help="vlp16, hdl32, os1-64 or os1-128")
    scene.add_argument("--no-walls", action="store_true")
    scene.add_argument("--categories", type=_categories, default=CATEGORIES)

    sheet = sub.add_parser("contact-sheet", help="PNG of one cloud per category of a dataset")
    sheet.add_argument("--dataset", required=True, help="folder with manifest.json")
    sheet.add_argument("--out", default=None, help="PNG path (default DATASET/contact_sheet.png)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "objects":
            return _objects(args)
        if args.command == "scene":
            return _scene(args)
        from training.data.contact_sheet import contact_sheet_for_dataset

        print(f"contact sheet: {contact_sheet_for_dataset(args.dataset, args.out)}")
        return 0
    except ValueError as error:
        print(f"pointlang-data: error: {error}", file=sys.stderr)
        return 2


def _objects(args: argparse.Namespace) -> int:
    from training.data.objects import write_object_dataset

    summary = write_object_dataset(
        args.out,
        args.per_category,
        args.seed,
        args.sensor,
        args.categories,
        workers=args.workers,
        surface_points=args.points,
        progress=not args.quiet,
    )
    print(
        f"{summary.objects} objects ({args.sensor}) in {summary.seconds:.2f} s: "
        f"{summary.objects_per_second:.1f} objects/s with {args.workers} worker(s)"
    )
    print(f"manifest: {summary.manifest}")
    if not args.no_contact_sheet:
        from training.data.contact_sheet import contact_sheet_for_dataset

        print(f"contact sheet: {contact_sheet_for_dataset(args.out)}")
    return 0


def _scene(args: argparse.Namespace) -> int:
    from training.data.scenes import SceneConfig, write_scene_bag

    config = SceneConfig(
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        walls=not args.no_walls,
        sweeps=args.sweeps,
        rate_hz=args.rate,
        lidar=args.lidar,
        categories=args.categories,
    )
    result = write_scene_bag(args.out, args.seed, config, args.storage, progress=True)
    objects = ", ".join(f"{i}:{c}" for i, c in result["objects"])
    print(
        f"bag: {result['bag']} ({result['storage']}, {result['sweeps']} sweeps, "
        f"{result['points']} points)"
    )
    print(f"objects: {objects}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
