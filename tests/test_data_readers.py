import json

import numpy as np
import pytest

from training.data.readers import read_modelnet40_h5, read_pointblip, read_ulip2_objaverse


def test_modelnet40_hdf5_fixture(tmp_path):
    h5py = pytest.importorskip("h5py")
    root = tmp_path / "modelnet40_ply_hdf5_2048"
    root.mkdir()
    (root / "shape_names.txt").write_text("airplane\nbathtub\nbed\n")
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        name = f"ply_data_{split}0.h5"
        with h5py.File(root / name, "w") as h5:
            h5["data"] = rng.random((count, 2048, 3), dtype=np.float32)
            h5["label"] = np.arange(count, dtype=np.uint8).reshape(-1, 1)
        (root / f"{split}_files.txt").write_text(f"data/modelnet40_ply_hdf5_2048/{name}\n")
    records = list(read_modelnet40_h5(root, "train"))
    assert [r.category for r in records] == ["airplane", "bathtub", "bed"]
    assert records[0].cloud.shape == (2048, 3) and records[0].cloud.dtype == np.float32
    assert len(list(read_modelnet40_h5(root, "test"))) == 2


def test_ulip2_objaverse_fixture(tmp_path):
    uids = ["0a1b", "ff02"]
    for uid in uids:
        folder = tmp_path / "objaverse_pc_parallel" / uid
        folder.mkdir(parents=True)
        np.savez(folder / f"{uid}_8192.npz", np.ones((8192, 6), np.float32))
    captions = {uids[0]: ["a red chair", "a chair"], uids[1]: "a lamp", "missing": ["x"]}
    (tmp_path / "ulip2_captions.json").write_text(json.dumps(captions))
    records = list(read_ulip2_objaverse(tmp_path))
    assert [r.id for r in records] == uids
    assert records[0].captions == ["a red chair", "a chair"] and records[1].captions == ["a lamp"]
    assert records[0].cloud.shape == (8192, 3) and records[0].category is None


def test_pointblip_fixture_both_json_styles(tmp_path):
    clouds = tmp_path / "clouds"
    clouds.mkdir()
    np.save(clouds / "obj1_8192.npy", np.zeros((8192, 6), np.float32))
    (clouds / "obj2").mkdir()
    np.savez(clouds / "obj2" / "obj2_8192.npz", np.zeros((100, 3), np.float32))
    mapping = tmp_path / "merged_data_new.json"
    mapping.write_text(json.dumps({"obj1": "a wooden table", "obj2": "a car"}))
    records = list(read_pointblip(mapping, clouds))
    assert [(r.id, r.captions) for r in records] == [
        ("obj1", ["a wooden table"]),
        ("obj2", ["a car"]),
    ]
    conversations = tmp_path / "conversations.json"
    conversations.write_text(
        json.dumps(
            [
                {
                    "object_id": "obj1",
                    "conversations": [
                        {"from": "human", "value": "<point>\nDescribe it."},
                        {"from": "gpt", "value": "A table."},
                        {"from": "human", "value": "How many legs?"},
                        {"from": "gpt", "value": "four"},
                    ],
                }
            ]
        )
    )
    (record,) = read_pointblip(conversations, clouds)
    assert record.captions == ["A table."]
    assert record.qa == [{"question": "How many legs?", "answer": "four", "type": "free"}]
    assert record.cloud.shape == (8192, 3)
