"""Stage 1 (ULIP-2 / PointBLIP): align point embeddings with frozen caption embeddings.

Data comes from a `pointlang-data objects` folder (manifest.json, see training/data). Every
cloud goes through `ros_pointlang.preprocess.prepare_object`, the function the robot runs, so
training never sees a cloud prepared differently from the live one. Augmentations act on the
metric cloud before that step, so the size input stays the true box size of what the model sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ros_pointlang.preprocess import farthest_point_sample, prepare_object
from training.config import AugmentConfig
from training.data.manifest import load_manifest

# Prompt wording shared by training ("label captions") and zero-shot labels.
PROMPT_TEMPLATES: tuple[str, ...] = (
    "a point cloud of a {}.",
    "a 3D scan of a {}.",
    "a {}.",
    "a LiDAR scan of a {}.",
    "a 3D model of a {}.",
    "there is a {} here.",
)


def display_name(category: str) -> str:
    return category.replace("_", " ")


def load_objects(roots: list[str] | str) -> tuple[list[dict], list[str]]:
    """Objects of one or more dataset folders, each with `cloud_path` and `sensor` filled in.

    The sensor comes from the object, else its manifest, else the folder name (`…lidar…`);
    `data_seed` is the generator's seed from the manifest (None for imported data).
    Returns the objects and the union of the manifests' unseen categories.
    """
    objects, unseen = [], set()
    for root in [roots] if isinstance(roots, str) else roots:
        manifest, folder = load_manifest(root)
        unseen.update(manifest.get("unseen_categories", []))
        default_sensor = manifest.get("sensor") or next(
            (s for s in ("lidar", "depth", "surface") if s in folder.name.lower()), "surface"
        )
        for obj in manifest["objects"]:
            objects.append(
                obj
                | {
                    "cloud_path": str(folder / obj["cloud"]),
                    "sensor": obj.get("sensor") or default_sensor,
                    "data_seed": manifest.get("seed"),
                }
            )
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
    """Training objects with their caption choices; item i depends only on (seed, epoch, i)."""

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
        self.prompt_ids = {
            c: [index_of(t.format(display_name(c))) for t in PROMPT_TEMPLATES] for c in categories
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
        if not captions or rng.random() < self.aug.label_caption_prob:
            captions = self.prompt_ids[obj["category"]]
        return {
            "points": torch.from_numpy(sample.points),
            "size": torch.from_numpy(sample.size),
            "size_known": torch.tensor(sample.size_known),
            "text": torch.tensor(captions[rng.integers(len(captions))]),
            "category": torch.tensor(self.category_index[obj["category"]]),
        }


def contrastive_loss(
    point_emb: torch.Tensor,
    text_emb: torch.Tensor,
    logit_scale: torch.Tensor,
    category: torch.Tensor,
    same_category_weight: float,
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of (cloud, caption) pairs with label-aware targets.

    point_emb, text_emb (B, E) unit vectors; category (B,). Same-category pairs share
    `same_category_weight` of the target mass, so another chair's caption is not pushed away
    as hard as a table's. With weight 0 this is CLIP's loss.
    """
    if not 0.0 <= same_category_weight < 1.0:
        raise ValueError(f"same_category_weight {same_category_weight} must be in [0, 1)")
    scale = logit_scale.clamp(max=np.log(100.0)).exp()
    logits = scale * point_emb @ text_emb.t()  # (B, B)
    same = (category.unsqueeze(0) == category.unsqueeze(1)).to(logits.dtype)  # (B, B)
    eye = torch.eye(len(logits), dtype=logits.dtype, device=logits.device)
    # Symmetric: rows i and j share a category iff columns do, so the column sums match too.
    targets = (1 - same_category_weight) * eye + same_category_weight * same / same.sum(
        1, keepdim=True
    )
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets.t())) / 2
