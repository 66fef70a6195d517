"""A PNG grid of sample clouds with their captions, so a person can see what the data is like."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.data.objects import ObjectRecord, read_manifest


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
        title = f"{record.id} ({len(record.cloud)} pts)"
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
