"""The model bundle: a folder the runtime loads, validated before anything runs.

    manifest.json          schema version, model name, recipe, data hash, sizes, hashes, metrics
                           (read_manifest, write_manifest: its one reader and writer)
    point_encoder.onnx     points (B, N, 3), size (B, 3), size_known (B,) → embedding, tokens
    label_embeddings.npz   the default vocabulary and its prompt-ensembled text embeddings
    decoder.onnx, bridge   (with the generation stage) + tokenizer.json, and label_prompt.npz
                           when the decoder reads the encoder's own label before its prompt
    text_encoder.onnx      MiniLM as int8 ONNX + text_tokenizer.json: embeds the label words an
                           operator adds at run time, on a robot without torch

Every problem is one sentence naming the file and what was expected, raised at load time: a
robot should refuse to start with a broken model rather than publish nonsense.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_MODEL = "pointlang-small"


class BundleError(ValueError):
    """A model bundle is missing, corrupt or does not fit this runtime."""


@dataclass(frozen=True)
class Bundle:
    """A validated bundle folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.manifest.get("model_name", self.path.name))

    def file(self, name: str) -> Path:
        """Path of a bundle file the manifest lists (validated at load)."""
        return self.path / name

    @property
    def encoder(self) -> dict[str, Any]:
        return self.manifest["point_encoder"]

    @property
    def labels(self) -> dict[str, Any]:
        return self.manifest["labels"]

    @property
    def generation(self) -> dict[str, Any] | None:
        return self.manifest.get("generation")

    @property
    def text_encoder(self) -> dict[str, Any]:
        return self.manifest["text_encoder"]

    def label_embeddings(
        self, name: str | None = None
    ) -> tuple[list[str], npt.NDArray[np.float32]]:
        """The default vocabulary and its unit embeddings (C, D); with `name`, another file of
        that layout (`labels`, `embeddings`), such as generation.label_prompt_file."""
        path = self.file(name or self.labels["embeddings_file"])
        try:
            with np.load(path, allow_pickle=False) as stored:
                labels = [str(s) for s in stored["labels"]]
                embeddings = np.asarray(stored["embeddings"], np.float32)
        except Exception as error:
            raise BundleError(f"label embeddings {path} cannot be read ({error})") from error
        if embeddings.shape != (len(labels), self.encoder["embed_dim"]):
            raise BundleError(
                f"label embeddings {path} have shape {embeddings.shape}; expected "
                f"({len(labels)}, {self.encoder['embed_dim']})"
            )
        return labels, embeddings


def default_bundle_path() -> Path:
    """The shipped default bundle: in the checkout, else in the ROS install's share folder."""
    checkout = Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL
    if checkout.is_dir():
        return checkout
    try:
        from ament_index_python.packages import get_package_share_directory

        share = Path(get_package_share_directory("ros_pointlang")) / "models" / DEFAULT_MODEL
        if share.is_dir():
            return share
    except (ImportError, LookupError):
        pass
    raise BundleError(
        f"no default model bundle found (looked in {checkout} and the ros_pointlang share "
        "folder); pass a bundle path"
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """A bundle folder's manifest as stored, or {} when it has none yet. Not validated: the
    training bundles that export reads hold torch checkpoints, not what the runtime loads."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path} is not valid JSON ({error})") from error
    if not isinstance(manifest, dict):
        raise BundleError(f"{path} must hold a JSON object")
    return manifest


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> Path:
    """Write `manifest` as the folder's manifest.json: the one writer of the file (export,
    both training stages and `pointlang-eval dataset --update-bundle` go through it)."""
    path = Path(folder) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def load_bundle(path: str | Path | None = None) -> Bundle:
    """Read and validate the bundle at `path` (the default bundle when None)."""
    folder = Path(path) if path is not None else default_bundle_path()
    if not folder.is_dir():
        raise BundleError(f"model bundle {folder} does not exist or is not a folder")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"model bundle {folder} has no {MANIFEST}")
    manifest = read_manifest(folder)
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            f"{manifest_path} has schema version {version!r}; this runtime reads version "
            f"{SCHEMA_VERSION} (re-export the bundle with this version's pointlang-export)"
        )
    for key in ("model_name", "point_encoder", "labels", "text_encoder", "files"):
        if key not in manifest:
            raise BundleError(f"{manifest_path} lacks the required key {key!r}")
    for name, entry in manifest["files"].items():
        file = folder / name
        if not file.is_file():
            raise BundleError(f"model bundle {folder} is missing {name}, which its manifest lists")
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected and sha256_file(file) != expected:
            raise BundleError(
                f"{file} does not match the hash in {MANIFEST} (corrupt or replaced); "
                "re-export or restore it"
            )
    bundle = Bundle(folder, manifest)
    _check_text_encoder(bundle)
    _check_box_prompt(bundle)
    _check_label_prompt(bundle)
    _check_tokenizer_matches_decoder(bundle)
    return bundle


def _check_tokenizer_matches_decoder(bundle: Bundle) -> None:
    generation = bundle.generation
    if not generation:
        return
    tokenizer_file = bundle.file(generation["tokenizer_file"])
    from tokenizers import Tokenizer

    try:
        size = Tokenizer.from_file(str(tokenizer_file)).get_vocab_size(with_added_tokens=True)
    except Exception as error:
        raise BundleError(f"tokenizer {tokenizer_file} cannot be read ({error})") from error
    expected = int(generation["vocab_size"])
    if size != expected:
        raise BundleError(
            f"tokenizer {tokenizer_file} has {size} tokens but the decoder was trained "
            f"for {expected}; the two files come from different models"
        )


def _check_text_encoder(bundle: Bundle) -> None:
    """The text encoder and its tokenizer are listed (so hash-checked above) and readable:
    without them a robot cannot take new label words."""
    text = bundle.text_encoder
    for key in ("file", "tokenizer_file"):
        name = text.get(key) if isinstance(text, dict) else None
        if not name or name not in bundle.manifest["files"]:
            raise BundleError(
                f"{bundle.path / MANIFEST} lists no text encoder {key} among its files; new "
                f"labels need it: run `pointlang-export text-encoder --bundle {bundle.path}`"
            )
    from tokenizers import Tokenizer

    tokenizer_file = bundle.file(text["tokenizer_file"])
    try:
        Tokenizer.from_file(str(tokenizer_file))
    except Exception as error:
        raise BundleError(f"tokenizer {tokenizer_file} cannot be read ({error})") from error


def _check_label_prompt(bundle: Bundle) -> None:
    """generation.label_prompt_file, if present, is listed (so hash-checked) and readable."""
    name = (bundle.generation or {}).get("label_prompt_file")
    if name is None:
        return
    if not isinstance(name, str) or name not in bundle.manifest["files"]:
        raise BundleError(
            f"{bundle.path / MANIFEST} has generation.label_prompt_file {name!r}, which is not "
            "among its files; expected the .npz of labels the decoder's prompt names"
        )
    if not bundle.label_embeddings(name)[0]:
        raise BundleError(f"{bundle.file(name)} holds no labels; expected the training categories")


def _check_box_prompt(bundle: Bundle) -> None:
    """generation.box_prompt, if present, is a JSON bool (absent: a bundle from before it)."""
    box_prompt = (bundle.generation or {}).get("box_prompt", False)
    if not isinstance(box_prompt, bool):
        raise BundleError(
            f"{bundle.path / MANIFEST} has generation.box_prompt {box_prompt!r}; expected true "
            "or false"
        )
