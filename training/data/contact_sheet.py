"""PNG grids of clouds with captions, so a person can see what the data is like: one sample per
category of a dataset, or every rig at a near and a far range (a far car is a few scan lines)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.data.objects import ObjectRecord, read_manifest

# (category, near m, far m) each kind of rig is shown with: a road rig sees a car and a person,
# an indoor one a chair and a person; depth cameras a chair and a small thing.
RIG_SUBJECTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "car": (("car", 10.0, 50.0), ("person", 8.0, 35.0)),
    "robot": (("chair", 2.0, 8.0), ("person", 3.0, 20.0)),
    "depth": (("chair", 1.0, 3.5), ("bottle", 0.5, 2.0)),
}


def pick_samples(records: Sequence[ObjectRecord], per_category: int = 1) -> list[ObjectRecord]:
    """The first ``per_category`` records of each category, in first-seen order."""
    taken: dict[str | None, int] = {}
    out = []
    for record in records:
        if taken.get(record.category, 0) < per_category:
            taken[record.category] = taken.get(record.category, 0) + 1
            out.append(record)
    return out


def draw_cloud(ax: Any, cloud: np.ndarray, max_points: int = 3000) -> None:
    """Scatter a metric cloud into a 3D axes as seen from the sensor side (-x), coloured by z."""
    if len(cloud) > max_points:
        cloud = cloud[np.linspace(0, len(cloud) - 1, max_points).astype(int)]
    if len(cloud):
        centre = (cloud.max(0) + cloud.min(0)) / 2
        # Equal scales on every axis: a flat table must look flat.
        half = float((cloud.max(0) - cloud.min(0)).max()) / 2 or 0.5
        ax.scatter(
            cloud[:, 0],
            cloud[:, 1],
            cloud[:, 2],
            s=0.6,
            c=cloud[:, 2],
            cmap="viridis",
            depthshade=False,
        )
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.view_init(elev=20, azim=200)
    ax.set_axis_off()


def render_contact_sheet(
    records: Sequence[ObjectRecord], out_png: str | os.PathLike, columns: int = 8
) -> Path:
    """Draw each record as a 3D scatter seen from the sensor side (-x), caption underneath."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not records:
        raise ValueError("no records to draw; expected at least one object")
    rows = (len(records) + columns - 1) // columns
    fig = plt.figure(figsize=(columns * 2.6, rows * 3.2), dpi=80)
    for i, record in enumerate(records):
        ax = fig.add_subplot(rows, columns, i + 1, projection="3d")
        draw_cloud(ax, record.cloud)
        caption = record.captions[0] if record.captions else (record.category or record.id)
        seen = record.view
        title = f"{record.id} ({len(record.cloud)} pts)"
        if seen:
            title += f"\n{seen['rig']} at {seen['range_m']:.1f} m"
        ax.set_title(title, fontsize=7)
        ax.text2D(
            0.5,
            -0.08,
            textwrap.fill(caption, 42),
            transform=ax.transAxes,
            fontsize=6,
            ha="center",
            va="top",
        )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.97, bottom=0.06, wspace=0.05, hspace=0.45)
    out_png = Path(out_png)
    fig.savefig(out_png)
    plt.close(fig)
    return out_png


def contact_sheet_for_dataset(dataset: str | os.PathLike, out_png: str | os.PathLike | None = None):
    """One sample per category of a dataset written by ``pointlang-data objects``."""
    dataset = Path(dataset)
    records = pick_samples(list(read_manifest(dataset)))
    return render_contact_sheet(records, out_png or dataset / "contact_sheet.png")


def rig_samples(seed: int = 0) -> list[ObjectRecord]:
    """Every rig looking at its subjects at a near and a far range, nothing around them."""
    import numpy as np

    from training.data.families import build_shape
    from training.data.sensors import RIGS
    from training.data.views import Surroundings, view_at

    records = []
    for name, rig in RIGS.items():
        group = "depth" if rig.kind == "depth" else name.split("-")[0]
        for category, near, far in RIG_SUBJECTS[group]:
            rng = np.random.default_rng(np.random.SeedSequence([seed, len(records)]))
            shape = build_shape(category, rng)
            yaw = float(rng.uniform(-np.pi, np.pi))
            mount = float(np.mean(rig.mount_height_m))
            for range_m in (near, far):
                cloud, seen = view_at(shape, yaw, rig, range_m, mount, Surroundings.bare(0.5), rng)
                records.append(
                    ObjectRecord(
                        id=f"{name} {category}",
                        category=category,
                        cloud=cloud,
                        captions=[f"{rig.sensor.description}, {rig.carrier} at {mount:.2f} m"],
                        qa=[],
                        view=seen.fields(),
                    )
                )
    return records


def rig_contact_sheet(out_png: str | os.PathLike, seed: int = 0) -> Path:
    """Each rig at near and far range (``RIG_SUBJECTS``) as one PNG."""
    return render_contact_sheet(rig_samples(seed), out_png, columns=8)
