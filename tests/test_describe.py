"""Per-cloud description shared by the node and offline evaluation (ros_pointlang/describe.py)."""

import numpy as np
import pytest

from ros_pointlang.describe import Describer, DescribeSettings, settings_from_parameters
from ros_pointlang.pipeline import Pipeline
from tests.test_preprocess import box_surface, floor


@pytest.fixture(scope="module")
def pipeline(tiny_bundle):
    return Pipeline.from_bundle(tiny_bundle)


def scene(offset=(0.0, 0.0)):
    dx, dy = offset
    return np.concatenate(
        [
            floor(extent=8.0),
            box_surface((0.5, 0.5, 0.9), centre=(1 + dx, 1 + dy, 0.45)),
            box_surface((1.2, 0.6, 0.75), centre=(-1.5 + dx, 0.5 + dy, 0.375)),
        ]
    )


def test_parameters_map_onto_settings_and_absent_ones_keep_the_defaults():
    settings = settings_from_parameters(
        {"mode": "scene", "top_k": 3, "voxel_size": 0.01, "crop_min": [-1, -1, -1], "other": 1}
    )
    assert (settings.mode, settings.top_k, settings.scene.voxel_size) == ("scene", 3, 0.01)
    assert settings.scene.crop_min == (-1, -1, -1)
    assert settings.scene.cluster_tolerance == DescribeSettings().scene.cluster_tolerance
    with pytest.raises(ValueError, match="mode"):
        settings_from_parameters({"mode": "panorama"})


def test_object_mode_describes_the_whole_cloud_as_object_1(pipeline):
    describer = Describer(pipeline, DescribeSettings(top_k=2))
    (obj,) = describer.describe(box_surface((0.5, 0.4, 0.9), centre=(2, 0, 0.45)))
    assert obj.id == 1 and len(obj.labels) == 2 and obj.caption is None
    assert np.allclose(obj.box.size, [0.5, 0.4, 0.9], atol=0.02)
    assert set(describer.timings) == {"segment", "encode"}


def test_scene_ids_stay_with_objects_that_barely_move_and_new_objects_get_new_ids(pipeline):
    describer = Describer(pipeline, DescribeSettings(mode="scene"))
    first = {round(o.box.size[2], 1): o.id for o in describer.describe(scene())}
    moved = {round(o.box.size[2], 1): o.id for o in describer.describe(scene((0.1, 0.05)))}
    assert first == moved and 0 not in first.values()
    far = {o.id for o in describer.describe(scene((3.0, 3.0)))}
    assert far.isdisjoint(first.values())


def test_an_empty_scene_has_no_objects_and_nothing_to_answer_about(pipeline):
    describer = Describer(pipeline, DescribeSettings(mode="scene"))
    assert describer.describe(floor()) == []
    with pytest.raises(ValueError, match="no cloud"):
        describer.answer("what is it?")


def test_asking_about_an_object_that_is_not_there(pipeline):
    describer = Describer(pipeline, DescribeSettings(mode="scene"))
    describer.describe(scene())
    with pytest.raises(ValueError, match="not in the latest cloud"):
        describer.answer("what is it?", object_id=999)


def names(labels):
    return [label.label for label in labels]


def test_stable_labels_rank_each_tracks_decayed_sum_of_views_and_can_be_turned_off(pipeline):
    stable = Describer(pipeline, DescribeSettings(mode="scene", label_memory=0.5))
    single = Describer(pipeline, DescribeSettings(mode="scene", stable_labels=False))
    views = [scene(), scene((0.1, 0.0)), scene((0.1, 0.1))]
    evidence: dict[int, np.ndarray] = {}
    for cloud in views:
        got = {o.id: o for o in stable.describe(cloud)}
        alone = {o.id: o for o in single.describe(cloud)}
        objects = single.segment(cloud)
        embeddings = pipeline.encode(objects).embeddings
        full = pipeline.bundle.encoder["num_points"]
        for obj, points, embedding in zip(alone.values(), objects, embeddings, strict=True):
            # This view alone, without memory:
            assert names(obj.labels) == names(pipeline.labels_from_embeddings(embedding[None])[0])
            weight = min(len(points), full) / full
            evidence[obj.id] = 0.5 * evidence.get(obj.id, 0.0) + weight * embedding
            expected = evidence[obj.id] / np.linalg.norm(evidence[obj.id])
            ranked = pipeline.labels_from_embeddings(expected[None].astype(np.float32))[0]
            assert names(got[obj.id].labels) == names(ranked)
            assert got[obj.id].labels[0].similarity == pytest.approx(ranked[0].similarity, 1e-5)
    assert set(got) == set(alone)  # the same tracks either way
