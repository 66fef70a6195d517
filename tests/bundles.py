"""Building small real bundles for tests (export needs torch; the runtime under test does not)."""

import shutil
from pathlib import Path

DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "models" / "pointlang-small"


def add_text_encoder(bundle: Path) -> Path:
    """Give an exported bundle the committed int8 text encoder (listed with its hashes), as
    `pointlang-export text-encoder` would, without quantising MiniLM again for every test."""
    from export.cli import export_text_encoder_into
    from ros_pointlang.bundle import load_bundle

    text = load_bundle(DEFAULT_BUNDLE).text_encoder
    for key in ("file", "tokenizer_file"):
        shutil.copy(DEFAULT_BUNDLE / text[key], bundle / text[key])
    export_text_encoder_into(bundle)
    return bundle


def make_tiny_bundle(out: Path, seed: int = 0) -> Path:
    import torch

    from export.cli import export_bundle
    from training.models.encoder import PointEncoder, PointEncoderConfig

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = PointEncoder(PointEncoderConfig.named("tiny"))
    checkpoint = out.parent / f"{out.name}-encoder.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model_config": model.config.to_dict(), "model": model.state_dict()}, checkpoint)
    export_bundle(checkpoint, out, vocabulary=["chair", "table", "mug"], unknown_threshold=-1.0)
    return add_text_encoder(out)


def tiny_caption_args(
    data: Path, out_dir: Path, bundle: Path, steps: int, batch_size: int = 8
) -> list[str]:
    """`pointlang-train caption` arguments: the tiny decoder on bundle/point_encoder.pt, for
    `steps` steps, writing captioner.pt into bundle."""
    return [
        "--config",
        "training/configs/caption_tiny.yaml",
        f"data.roots={data}",
        f"out_dir={out_dir}",
        f"encoder_checkpoint={bundle / 'point_encoder.pt'}",
        f"bundle_dir={bundle}",
        f"optim.max_steps={steps}",
        f"optim.batch_size={batch_size}",
        "vocab_size=200",
    ]


def make_tiny_generation_bundle(out: Path, data: Path, steps: int = 4) -> Path:
    """A complete runtime bundle with the caption/answer stage: an untrained tiny encoder, the
    tiny decoder trained `steps` steps on `data` (a tests/tiny_objects manifest), exported."""
    import torch

    from export.cli import export_bundle
    from training.caption import main as train_caption
    from training.models.encoder import PointEncoder, PointEncoderConfig

    torch.manual_seed(0)
    torch.set_num_threads(1)
    checkpoints = out.parent / f"{out.name}-checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    encoder = PointEncoder(PointEncoderConfig.named("tiny"))
    state = {"model_config": encoder.config.to_dict(), "model": encoder.state_dict()}
    torch.save(state, checkpoints / "point_encoder.pt")
    args = tiny_caption_args(data, out.parent / f"{out.name}-run", checkpoints, steps, 4)
    if train_caption(args) != 0:
        raise RuntimeError(f"training the tiny captioner for {out} failed")
    export_bundle(
        checkpoints / "point_encoder.pt",
        out,
        checkpoints / "captioner.pt",
        vocabulary=["bottle", "dresser", "bowl", "door"],
        unknown_threshold=-1.0,
    )
    return add_text_encoder(out)
