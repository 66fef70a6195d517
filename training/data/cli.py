"""``pointlang-data``: generate object datasets, scene rosbags and contact sheets.

pointlang-data objects --out DIR --per-category K --seed S --sensor {surface,lidar,depth}
                       [--rig NAME[,NAME]] [--range-m NEAR:FAR]
pointlang-data scene --out BAG [--kind room|street] [--rig NAME] [--sweeps N] [--seed S] ...
pointlang-data contact-sheet --dataset DIR [--out PNG]
pointlang-data rigs
pointlang-data stats --dataset DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from training.data.categories import CATEGORIES, SEEN_CATEGORIES, UNSEEN_CATEGORIES

CATEGORY_SETS = {"all": CATEGORIES, "seen": SEEN_CATEGORIES, "unseen": UNSEEN_CATEGORIES}


def _categories(text: str) -> tuple[str, ...]:
    if text in CATEGORY_SETS:
        return CATEGORY_SETS[text]
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown categories {unknown}; expected all, seen, unseen or category names"
        )
    return names


def _rigs(text: str) -> tuple[str, ...]:
    from training.data.sensors import RIGS

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RIGS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown rigs {unknown or text!r}; expected names from: {', '.join(RIGS)}"
        )
    return names


def _range_band(text: str) -> tuple[float, float]:
    try:
        near, far = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"range band {text!r} is not NEAR:FAR in metres (e.g. 20:40)"
        ) from None
    if not 0 < near <= far:
        raise argparse.ArgumentTypeError(f"range band {text!r}: expected 0 < NEAR <= FAR")
    return near, far


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
    objects.add_argument(
        "--rig",
        type=_rigs,
        default=(),
        help="comma-separated rigs to see objects with (default: the realistic mix; "
        "`pointlang-data rigs` lists them)",
    )
    objects.add_argument(
        "--range-m",
        type=_range_band,
        default=None,
        metavar="NEAR:FAR",
        help="horizontal range band in metres (default: where each category is met)",
    )
    objects.add_argument("--points", type=int, default=2048, help="points per surface cloud")
    objects.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    objects.add_argument("--no-contact-sheet", action="store_true")
    objects.add_argument("--quiet", action="store_true", help="no progress bar")

    scene = sub.add_parser("scene", help="a rosbag2 of LiDAR sweeps over objects with ground truth")
    scene.add_argument("--out", required=True, help="bag folder to create")
    scene.add_argument("--seed", type=int, default=0)
    scene.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    scene.add_argument("--kind", choices=("room", "street"), default="room")
    scene.add_argument("--sweeps", type=int, default=30)
    scene.add_argument("--rate", type=float, default=None, help="sweeps/s (default: the rig's)")
    scene.add_argument("--min-objects", type=int, default=3)
    scene.add_argument("--max-objects", type=int, default=12)
    scene.add_argument(
        "--rig", default=None, help="a LiDAR rig (default: robot-32 in a room, car-64 on a street)"
    )
    scene.add_argument("--no-walls", action="store_true", help="no room walls or building fronts")
    scene.add_argument(
        "--categories",
        type=_categories,
        default=None,
        help="default: every category met in the scene's setting",
    )

    sheet = sub.add_parser("contact-sheet", help="PNG of one cloud per category of a dataset")
    source = sheet.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="folder with manifest.json")
    source.add_argument(
        "--rigs", action="store_true", help="every rig at a near and a far range instead"
    )
    sheet.add_argument(
        "--out",
        default=None,
        help="PNG path (default DATASET/contact_sheet.png, or build/rigs_contact_sheet.png)",
    )

    sub.add_parser("rigs", help="list the sensor rigs with their datasheet figures")
    stats = sub.add_parser("stats", help="points per object by rig and range band of a dataset")
    stats.add_argument("--dataset", required=True, help="folder with manifest.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "objects":
            return _objects(args)
        if args.command == "scene":
            return _scene(args)
        if args.command == "rigs":
            return _list_rigs()
        if args.command == "stats":
            return _stats(args.dataset)
        return _contact_sheet(args)
    except ValueError as error:
        print(f"pointlang-data: error: {error}", file=sys.stderr)
        return 2


def _objects(args: argparse.Namespace) -> int:
    from training.data.objects import write_object_dataset
    from training.data.views import ViewConfig

    summary = write_object_dataset(
        args.out,
        args.per_category,
        args.seed,
        args.sensor,
        args.categories,
        workers=args.workers,
        surface_points=args.points,
        progress=not args.quiet,
        view=ViewConfig(rigs=args.rig, range_m=args.range_m),
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
        kind=args.kind,
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        walls=not args.no_walls,
        sweeps=args.sweeps,
        rate_hz=args.rate,
        rig=args.rig,
        categories=args.categories,
    )
    result = write_scene_bag(args.out, args.seed, config, args.storage, progress=True)
    objects = ", ".join(f"{i}:{c}" for i, c in result["objects"])
    print(
        f"bag: {result['bag']} ({result['kind']} seen by {result['rig']}, {result['storage']}, "
        f"{result['sweeps']} sweeps, {result['points']} points)"
    )
    print(f"objects: {objects}")
    return 0


def _contact_sheet(args: argparse.Namespace) -> int:
    from training.data.contact_sheet import contact_sheet_for_dataset, rig_contact_sheet

    if args.rigs:
        out = Path(args.out or "build/rigs_contact_sheet.png")
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"contact sheet: {rig_contact_sheet(out)}")
    else:
        print(f"contact sheet: {contact_sheet_for_dataset(args.dataset, args.out)}")
    return 0


def _stats(dataset: str) -> int:
    """Print objects and points per object (p10/p50/p90) by rig and range band."""
    import numpy as np

    from training.data.manifest import load_manifest
    from training.data.views import RANGE_BANDS_M, range_band

    manifest, _ = load_manifest(dataset)
    groups: dict[tuple[str, str], list[int]] = {}
    for entry in manifest["objects"]:
        view = entry.get("view")
        if view:
            key = (view["rig"], range_band(view["range_m"]))
            groups.setdefault(key, []).append(entry["num_points"])
            groups.setdefault((view["rig"], "all"), []).append(entry["num_points"])
    if not groups:
        raise ValueError(f"{dataset} has no simulated sensor views; expected --sensor lidar/depth")
    order = [range_band(lo) for lo in RANGE_BANDS_M] + ["all"]
    print(f"{'rig':13s} {'range':9s} {'objects':>7s} {'p10':>6s} {'p50':>6s} {'p90':>6s}")
    for rig_name, band in sorted(groups, key=lambda k: (k[0], order.index(k[1]))):
        counts = groups[(rig_name, band)]
        p10, p50, p90 = np.percentile(counts, [10, 50, 90])
        print(f"{rig_name:13s} {band:9s} {len(counts):7d} {p10:6.0f} {p50:6.0f} {p90:6.0f}")
    return 0


def _list_rigs() -> int:
    from training.data.sensors import RIGS, LidarModel

    for r in RIGS.values():
        s = r.sensor
        lo, hi = r.mount_height_m
        if isinstance(s, LidarModel):
            figures = (
                f"{s.beams} beams {min(s.elevations_deg):+.1f}..{max(s.elevations_deg):+.1f} deg, "
                f"azimuth step {s.azimuth_step_deg:.3f} deg at {s.rotation_hz:g} Hz, "
                f"range {s.max_range_m:g} m, noise {100 * s.range_noise_m:g} cm"
            )
        else:
            figures = (
                f"{s.width_px}x{s.height_px} px, {s.hfov_deg:g}x{s.vfov_deg:g} deg, "
                f"{s.min_range_m:g}-{s.max_range_m:g} m, {s.noise} noise"
            )
        print(f"{r.name:13s} {r.carrier} at {lo:g}-{hi:g} m: {s.description}; {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
