"""Training data: objects of `pointlang-data objects` folders, their clouds prepared exactly
as the robot prepares them, augmented, and served to both stages.

Every cloud goes through `ros_pointlang.preprocess.prepare_object`, the function the robot
runs, so training never sees a cloud prepared differently from the live one. Augmentations act
on the metric cloud before that step, so the size input stays the true box size of what the
model sees.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ros_pointlang.decode import DESCRIBE
from ros_pointlang.preprocess import farthest_point_sample, prepare_object
from ros_pointlang.vocabulary import PROMPT_TEMPLATES
from training.common import data_fingerprint, save_atomically
from training.config import AugmentConfig, CaptionConfig
from training.data.categories import category_names
from training.data.manifest import load_manifest

# Views with fewer returns are left out of training and evaluation: the node's segmentation
# drops them as noise (a glancing depth view of an airplane can even have none).
MIN_OBJECT_POINTS = 10


def load_objects(roots: list[str] | str) -> tuple[list[dict], list[str]]:
    """Objects of one or more dataset folders, each with `cloud_path` and `sensor` filled in.

    The sensor comes from the object, else its manifest, else the folder name (`…lidar…`);
    `data_seed` is the generator's seed from the manifest (None for imported data). Objects
    with fewer than `MIN_OBJECT_POINTS` points are skipped, and counted in one printed line.
    Returns the objects and the union of the manifests' unseen categories.
    """
    objects, unseen, skipped = [], set(), 0
    for root in [roots] if isinstance(roots, str) else roots:
        manifest, folder = load_manifest(root)
        unseen.update(manifest.get("unseen_categories", []))
        default_sensor = manifest.get("sensor") or next(
            (s for s in ("lidar", "depth", "surface") if s in folder.name.lower()), "surface"
        )
        for obj in manifest["objects"]:
            if obj.get("num_points", MIN_OBJECT_POINTS) < MIN_OBJECT_POINTS:
                skipped += 1
                continue
            objects.append(
                obj
                | {
                    "cloud_path": str(folder / obj["cloud"]),
                    "sensor": obj.get("sensor") or default_sensor,
                    "data_seed": manifest.get("seed"),
                }
            )
    if skipped:
        print(f"skipped {skipped} objects with fewer than {MIN_OBJECT_POINTS} points")
    return objects, sorted(unseen)


def split_training_objects(roots: list[str] | str) -> tuple[list[dict], list[dict], list[dict]]:
    """All objects of dataset folders, and their train and val splits.

    Refuses data whose training split holds an unseen category: zero-shot figures would lie.
    """
    objects, unseen = load_objects(roots)
    train_objects = [o for o in objects if o["split"] == "train"]
    val_objects = [o for o in objects if o["split"] == "val"]
    if not train_objects:
        raise ValueError(f"{roots} hold no objects with split 'train'")
    if set(unseen) & {o["category"] for o in train_objects}:
        raise ValueError(f"training split contains unseen categories {unseen}; fix the data")
    return objects, train_objects, val_objects


def load_cloud(obj: dict) -> np.ndarray:
    cloud = np.load(obj["cloud_path"]).astype(np.float32)
    if cloud.ndim != 2 or cloud.shape[1] != 3:
        raise ValueError(f"cloud {obj['cloud_path']} has shape {cloud.shape}; expected (N, 3)")
    return cloud[np.isfinite(cloud).all(axis=1)]


def augment_cloud(points: np.ndarray, aug: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Rotate about z, scale, stretch, cut to one side and drop points, in metres."""
    centre = points.mean(axis=0)
    x = points - centre  # (N, 3)
    if aug.rotate_z:
        angle = rng.uniform(0, 2 * np.pi)
        c, s = np.cos(angle), np.sin(angle)
        x = x @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]], np.float32)
    scale = rng.uniform(aug.scale_min, aug.scale_max)
    stretch = rng.uniform(1 - aug.stretch, 1 + aug.stretch, size=2)
    x = x * (scale * np.array([stretch[0], stretch[0], stretch[1]], np.float32))
    if rng.random() < aug.partial_prob:
        # A planar cut is a cheap stand-in for the self-occlusion a single LiDAR view gives.
        view = rng.uniform(0, 2 * np.pi)
        depth = x[:, :2] @ np.array([np.cos(view), np.sin(view)], np.float32)  # (N,)
        x = x[depth >= np.quantile(depth, rng.uniform(0.2, 0.5))]
    if aug.dropout_max > 0:
        keep = rng.random(len(x)) >= rng.uniform(0, aug.dropout_max)
        if keep.sum() >= 16:
            x = x[keep]
    return (x + centre).astype(np.float32)


@dataclass
class Sample:
    points: np.ndarray  # (N, 3) unit sphere
    size: np.ndarray  # (3,) metres
    size_known: bool


def prepare_sample(
    cloud: np.ndarray,
    num_points: int,
    aug: AugmentConfig | None,
    rng: np.random.Generator | None,
) -> Sample:
    """The encoder inputs of one metric cloud, augmented when `aug` is given."""
    if aug is not None and rng is not None:
        cloud = augment_cloud(cloud, aug, rng)
    prepared = prepare_object(cloud, num_points)
    points, size_known = prepared.points, True
    if aug is not None and rng is not None:
        noise = rng.normal(0, aug.jitter_sigma, points.shape).astype(np.float32)
        points = points + np.clip(noise, -aug.jitter_clip, aug.jitter_clip)
        size_known = bool(rng.random() >= aug.size_dropout)
    return Sample(points.astype(np.float32), prepared.size.astype(np.float32), size_known)


@torch.no_grad()
def embed_objects(
    model: torch.nn.Module, objects: list[dict], metric: bool = True, batch_size: int = 64
) -> torch.Tensor:
    """Unit point embeddings (n, E) of objects, prepared exactly as the robot prepares clouds.

    metric=False marks every size unknown, as the runtime does for CAD data in arbitrary units.
    """
    was_training = model.training
    model.eval()
    num_points = model.config.num_points
    out = []
    for start in range(0, len(objects), batch_size):
        chunk = objects[start : start + batch_size]
        samples = [prepare_sample(load_cloud(o), num_points, None, None) for o in chunk]
        points = torch.from_numpy(np.stack([s.points for s in samples]))  # (B, N, 3)
        size = torch.from_numpy(np.stack([s.size for s in samples]))  # (B, 3)
        known = torch.full((len(chunk),), metric, dtype=torch.bool)  # (B,)
        out.append(model(points, size, known)[0])
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, model.config.embed_dim)


class AlignDataset(torch.utils.data.Dataset):
    """Training objects with their caption choices; item i depends only on (seed, epoch, i).

    ``categories`` is the label vocabulary. An object of another category (the generic family,
    whose name labels nothing) trains on its captions only and is its own class in the
    label-aware loss, so two unrelated primitive assemblies are never pulled together.
    """

    def __init__(
        self,
        objects: list[dict],
        categories: list[str],
        num_points: int,
        aug: AugmentConfig,
        seed: int,
    ):
        self.objects, self.num_points, self.aug, self.seed = objects, num_points, aug, seed
        self.category_index = {c: i for i, c in enumerate(categories)}
        self.epoch = 0
        # Every caption and every label prompt, encoded once by the caller into one table.
        self.texts: list[str] = []
        text_index: dict[str, int] = {}

        def index_of(text: str) -> int:
            if text not in text_index:
                text_index[text] = len(self.texts)
                self.texts.append(text)
            return text_index[text]

        self.caption_ids = [[index_of(c) for c in obj["captions"]] for obj in objects]
        for obj, ids in zip(objects, self.caption_ids, strict=True):
            if not ids and obj["category"] not in self.category_index:
                raise ValueError(
                    f"object {obj.get('id')!r} has no captions and its category "
                    f"{obj['category']!r} is not a label; expected captions or a label category"
                )
        self.prompt_ids = {
            c: [index_of(t.format(category_names(c)[0])) for t in PROMPT_TEMPLATES]
            for c in categories
        }
        self._sampled: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.objects)

    def base_cloud(self, index: int) -> np.ndarray:
        """The object's cloud thinned once by FPS to N points; augmentations start from here.

        FPS per item and epoch would cost more than the model's step on a CPU; after cropping
        and dropout the runtime's `prepare_object` repeats points, as it does for sparse scans.
        """
        if index not in self._sampled:
            cloud = load_cloud(self.objects[index])
            if len(cloud) > self.num_points:
                cloud = cloud[farthest_point_sample(cloud, self.num_points)]
            self._sampled[index] = cloud
        return self._sampled[index]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        obj = self.objects[index]
        sample = prepare_sample(self.base_cloud(index), self.num_points, self.aug, rng)
        captions = self.caption_ids[index]
        label = self.category_index.get(obj["category"])
        if label is not None and (not captions or rng.random() < self.aug.label_caption_prob):
            captions = self.prompt_ids[obj["category"]]
        return {
            "points": torch.from_numpy(sample.points),
            "size": torch.from_numpy(sample.size),
            "size_known": torch.tensor(sample.size_known),
            "text": torch.tensor(captions[rng.integers(len(captions))]),
            "category": torch.tensor(len(self.category_index) + index if label is None else label),
        }


def pick_text(obj: dict, rng: np.random.Generator, caption: bool) -> tuple[str, str]:
    """(prompt, target): a caption after "describe:", or one QA pair (whichever it has)."""
    qa = obj.get("qa") or []
    if obj.get("captions") and (caption or not qa):
        return DESCRIBE, obj["captions"][int(rng.integers(len(obj["captions"])))]
    if not qa:
        raise ValueError(f"object {obj.get('id')!r} has neither captions nor qa pairs")
    pair = qa[int(rng.integers(len(qa)))]
    return pair["question"], pair["answer"]


def cloud_inputs(
    objects: list[dict], num_points: int, views: list[int], aug: AugmentConfig, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encoder inputs of objects[i] seen as view views[i]: 0 clean, others augmented."""
    samples = []
    for obj, view in zip(objects, views, strict=True):
        rng = np.random.default_rng([seed, view, zlib.crc32(obj["id"].encode())])
        augment = aug if view > 0 else None
        samples.append(prepare_sample(load_cloud(obj), num_points, augment, rng))
    points = torch.from_numpy(np.stack([s.points for s in samples]))  # (B, N, 3)
    size = torch.from_numpy(np.stack([s.size for s in samples]))  # (B, 3)
    known = torch.tensor([s.size_known for s in samples])  # (B,)
    return points, size, known


def views_name(cfg: CaptionConfig, objects: list[dict], num_points: int) -> str:
    """File name of the prepared views: data, view count, points, augmentation and seed."""
    recipe = json.dumps([asdict(cfg.augment), cfg.seed, cfg.cache_views, num_points])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:8]
    return f"views_{data_fingerprint(objects)}_{digest}.pt"


def prepared_views(
    objects: list[dict], num_points: int, cfg: CaptionConfig, path: Path
) -> dict[str, torch.Tensor]:
    """Encoder inputs of every object's cached views, stored at path (encoder-independent).

    Row v * len(objects) + i is view v of object i: "points" (rows, N, 3), "size" (rows, 3)
    metres, "size_known" (rows,) bool. Preparing clouds costs more than encoding them, and a
    new encoder reuses this file.
    """
    if path.exists():
        return torch.load(path, weights_only=True)
    from tqdm import tqdm

    rows = len(objects) * cfg.cache_views
    out = {
        "points": torch.empty(rows, num_points, 3),
        "size": torch.empty(rows, 3),
        "size_known": torch.empty(rows, dtype=torch.bool),
    }
    pairs = [(v, i) for v in range(cfg.cache_views) for i in range(len(objects))]
    for start in tqdm(range(0, rows, 256), desc="prepare", mininterval=10):
        chunk = pairs[start : start + 256]
        points, size, known = cloud_inputs(
            [objects[i] for _, i in chunk], num_points, [v for v, _ in chunk], cfg.augment, cfg.seed
        )
        out["points"][start : start + len(chunk)] = points
        out["size"][start : start + len(chunk)] = size
        out["size_known"][start : start + len(chunk)] = known
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(out, path)
    return out
