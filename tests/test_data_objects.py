import json

import numpy as np
import pytest

from training.data.categories import (
    CATEGORIES,
    HEIGHT_RANGE_M,
    SEEN_CATEGORIES,
    UNSEEN_CATEGORIES,
    find_unseen_words,
)
from training.data.manifest import ENTRY_FIELDS, VIEW_FIELDS
from training.data.objects import generate_object, object_split, read_manifest, write_object_dataset
from training.data.sensors import RIGS
from training.data.views import MIN_POINTS, ViewConfig


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("sensor", ["lidar", "depth"])
def test_same_seed_is_byte_identical_and_another_seed_differs(tmp_path, sensor):
    cats = ["chair", "cup", "car", "person"]
    a = write_object_dataset(tmp_path / "a", 2, 5, sensor, cats, workers=1, progress=False)
    b = write_object_dataset(tmp_path / "b", 2, 5, sensor, cats, workers=2, progress=False)
    c = write_object_dataset(tmp_path / "c", 2, 6, sensor, cats, workers=1, progress=False)
    files_a, files_b, files_c = (_files(s.manifest.parent) for s in (a, b, c))
    assert files_a == files_b
    assert files_a.keys() == files_c.keys()
    assert all(files_a[k] != files_c[k] for k in files_a)


def test_manifest_schema_and_clouds(tmp_path):
    summary = write_object_dataset(tmp_path, 1, 0, "surface", ["bowl", "desk"], progress=False)
    manifest = json.loads(summary.manifest.read_text())
    assert manifest["unseen_categories"] == list(UNSEEN_CATEGORIES)
    for entry in manifest["objects"]:
        assert {*ENTRY_FIELDS, "params"} <= set(entry) and "view" not in entry
        cloud = np.load(tmp_path / entry["cloud"])
        assert cloud.dtype == np.float32 and cloud.ndim == 2 and cloud.shape[1] == 3
        assert all({"question", "answer", "type"} == set(q) for q in entry["qa"])
    records = list(read_manifest(tmp_path))
    assert [r.id for r in records] == ["bowl_0000", "desk_0000"]


def test_manifest_records_how_each_object_was_seen(tmp_path):
    cats = ["car", "person", "sofa", "bottle"]
    summary = write_object_dataset(tmp_path, 3, 2, "lidar", cats, progress=False)
    manifest = json.loads(summary.manifest.read_text())
    assert manifest["views"]["rigs"] == [] and manifest["views"]["range_m"] is None
    for entry in manifest["objects"]:
        view = entry["view"]
        assert set(view) == set(VIEW_FIELDS) and entry["sensor"] == "lidar"
        assert entry["num_points"] == len(np.load(tmp_path / entry["cloud"])) >= MIN_POINTS
        rig = RIGS[view["rig"]]
        assert rig.kind == "lidar" and view["sensor_model"] == rig.sensor.name
        low, high = rig.mount_height_m
        assert low <= view["mount_height_m"] <= high and view["range_m"] > 0
        assert 0.0 <= view["occlusion"] <= 1.0
        assert 0 <= view["ground_points"] + view["clutter_points"] <= entry["num_points"]
    ranges = {e["category"]: e["view"]["range_m"] for e in manifest["objects"]}
    assert ranges["bottle"] < 6.0 and ranges["sofa"] <= 10.0
    records = list(read_manifest(tmp_path))
    assert records[0].view == manifest["objects"][0]["view"]


def test_a_rig_and_a_range_band_can_be_chosen(tmp_path):
    view = ViewConfig(rigs=("car-128",), range_m=(15.0, 25.0))
    summary = write_object_dataset(tmp_path, 2, 0, "lidar", ["car"], progress=False, view=view)
    manifest = json.loads(summary.manifest.read_text())
    assert manifest["views"]["rigs"] == ["car-128"]
    for entry in manifest["objects"]:
        assert entry["view"]["rig"] == "car-128" and 15.0 <= entry["view"]["range_m"] <= 25.0
    with pytest.raises(ValueError, match="not depth rigs"):
        write_object_dataset(tmp_path, 1, 0, "depth", ["car"], progress=False, view=view)


def test_split_is_fixed_and_unseen_objects_are_test():
    assert {object_split(c, i) for c in UNSEEN_CATEGORIES for i in range(20)} == {"test"}
    splits = [object_split("chair", i) for i in range(100)]
    assert splits.count("train") == 80 and splits.count("val") == 10


def test_no_unseen_name_or_synonym_in_training_text():
    for category in SEEN_CATEGORIES:
        for instance in range(4):
            record = generate_object(category, instance, 11, "surface", surface_points=64)
            text = " ".join(record.captions)
            text += " ".join(q["question"] + " " + q["answer"] for q in record.qa)
            assert find_unseen_words(text) == [], (record.id, find_unseen_words(text))


@pytest.mark.parametrize("sensor", ["surface", "lidar", "depth"])
def test_every_category_gives_valid_metric_clouds(sensor):
    for category in CATEGORIES:
        clouds = [generate_object(category, i, 1, sensor).cloud for i in range(2)]
        lo_h, hi_h = HEIGHT_RANGE_M[category]
        for cloud in clouds:
            assert cloud.dtype == np.float32 and cloud.shape[1] == 3
            assert len(cloud) >= (32 if sensor == "surface" else MIN_POINTS), (category, sensor)
            assert np.isfinite(cloud).all()
            extent = cloud.max(0) - cloud.min(0)
            # Partial views can only be smaller than the object; noise adds a few centimetres, a
            # depth camera's up to ~1 % of a range that grows with the object (a bus from 20 m).
            noise = 0.1 + (0.1 if sensor == "depth" else 0.02) * hi_h
            assert extent[2] <= hi_h + noise, (category, sensor, extent)
            assert cloud[:, 2].min() >= -0.1 - 0.02 * hi_h
        if sensor == "surface":
            assert lo_h - 0.01 <= clouds[0][:, 2].max() - clouds[0][:, 2].min()
        assert not np.array_equal(clouds[0][:MIN_POINTS], clouds[1][:MIN_POINTS])


def test_lidar_views_are_partial():
    full = generate_object("dresser", 0, 0, "surface").cloud
    view = generate_object("dresser", 0, 0, "lidar").cloud
    # The sensor is on the -x side: the back (+x extreme of the full cloud) is mostly unseen.
    assert np.mean(view[:, 0] > full[:, 0].max() - 0.05) < 0.1 or len(view) < len(full)
