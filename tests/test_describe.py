"""Per-cloud description shared by the node and offline evaluation (ros_pointlang/describe.py)."""

from dataclasses import replace

import numpy as np
import pytest

from ros_pointlang.describe import Describer, DescribeSettings, settings_from_parameters
from ros_pointlang.pipeline import Encoded, Pipeline
from ros_pointlang.schedule import ScheduleSettings
from tests.clouds import box_surface, floor


@pytest.fixture(scope="module")
def pipeline(tiny_bundle):
    return Pipeline.from_bundle(tiny_bundle)


# Each test draws its clouds from its own generator: the same points whichever tests ran first.
def scene(offset=(0.0, 0.0), seed=0):
    dx, dy = offset
    rng = np.random.default_rng([seed, round(100 * dx), round(100 * dy)])
    return np.concatenate(
        [
            floor(extent=8.0, rng=rng),
            box_surface((0.5, 0.5, 0.9), centre=(1 + dx, 1 + dy, 0.45), rng=rng),
            box_surface((1.2, 0.6, 0.75), centre=(-1.5 + dx, 0.5 + dy, 0.375), rng=rng),
        ]
    )


def same_text(generated, expected):
    """Equal texts and confidences equal up to float rounding (ONNX Runtime's kernels may sum in
    another order for another batch)."""
    assert [g.text for g in generated] == [e.text for e in expected]
    assert [g.confidence for g in generated] == pytest.approx(
        [e.confidence for e in expected], abs=1e-3
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


def test_segmentation_parameters_map_onto_the_scene_settings():
    settings = settings_from_parameters(
        {"segmentation": "euclidean", "ground_angle": 12, "segment_angle": 8.5}, "scene"
    )
    scene_config = settings.scene
    assert (scene_config.segmentation, scene_config.ground_angle) == ("euclidean", 12.0)
    assert scene_config.segment_angle == 8.5
    assert DescribeSettings().scene.segmentation == "auto"
    with pytest.raises(ValueError, match="segmentation 'quick' is unknown"):
        settings_from_parameters({"segmentation": "quick"})


def test_an_organised_sweep_is_read_and_cut_on_its_range_image(pipeline):
    from tests.organised_scans import organised_cloud
    from tests.test_range_image import box_sweep

    sweep = organised_cloud(box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5), (-3.0, 2.0, 0.6, 0.6, 0.9)]))
    describer = Describer(pipeline, DescribeSettings(mode="scene"))
    xyz, image = describer.read(sweep)
    assert image is not None and len(xyz) == len(image.points)
    objects = describer.describe(xyz, image=image)
    heights = sorted(float(o.box.size[2]) for o in objects)
    assert np.allclose(heights, [0.9, 1.5], atol=0.15)  # less the ground cut at their feet
    # Euclidean clustering, and object mode, read the same cloud as plain points.
    for settings in (
        DescribeSettings(
            mode="scene", scene=replace(DescribeSettings().scene, segmentation="euclidean")
        ),
        DescribeSettings(mode="object"),
    ):
        points, none = Describer(pipeline, settings).read(sweep)
        assert none is None and np.array_equal(points, xyz)


def test_object_mode_describes_the_whole_cloud_as_object_1(pipeline):
    describer = Describer(pipeline, DescribeSettings(top_k=2))
    cloud = box_surface((0.5, 0.4, 0.9), centre=(2, 0, 0.45), rng=np.random.default_rng(0))
    (obj,) = describer.describe(cloud)
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


def test_with_a_clock_unchanged_objects_keep_their_embedding_and_changed_ones_run_again(pipeline):
    schedule = ScheduleSettings(label_refresh=1.0, encode_budget=1)
    describer = Describer(pipeline, DescribeSettings(mode="scene", schedule=schedule))
    first = describer.describe(scene(), now=0.0)
    assert describer.counts == {"objects": 2, "encoded": 2, "captioned": 0}
    again = describer.describe(scene(seed=1), now=0.1)  # fresh noise, same objects
    assert describer.counts["encoded"] == 0
    assert [o.labels for o in again] == [o.labels for o in first]
    describer.describe(scene(seed=2), now=1.5)  # both stale: the budget refreshes one per cloud
    assert describer.counts["encoded"] == 1
    describer.describe(scene(seed=3), now=1.6)
    assert describer.counts["encoded"] == 1
    # A vocabulary change reaches remembered objects at once: labels are ranked every cloud.
    words = pipeline.vocabulary[:3]
    pipeline.set_vocabulary(words)
    try:
        relabelled = describer.describe(scene(seed=4), now=1.7)
        assert describer.counts["encoded"] == 0
        assert all(label.label in {*words, "unknown"} for o in relabelled for label in o.labels)
    finally:
        pipeline.reset_vocabulary()
    more = box_surface((0.5, 0.5, 0.9), centre=(1, 1, 0.45), rng=np.random.default_rng(5))
    grown = np.concatenate([scene(), more])
    describer.describe(grown, now=1.8)  # twice the points on one object: changed
    assert describer.counts["encoded"] == 1


def test_an_object_lost_for_a_sweep_keeps_its_id_and_labels_until_track_timeout(pipeline):
    schedule = ScheduleSettings(label_refresh=10.0)
    settings = DescribeSettings(mode="scene", track_timeout=0.5, schedule=schedule)
    describer = Describer(pipeline, settings)
    rng = np.random.default_rng(7)
    lone = np.concatenate([floor(extent=8.0, rng=rng), box_surface((0.5, 0.5, 0.9), (1, 1, 0.45))])
    first = {o.id: o.labels for o in describer.describe(scene(), now=0.0)}
    (kept,) = [o.id for o in describer.describe(lone, now=0.1)]  # the other one is missed
    assert describer.counts["encoded"] == 0
    back = describer.describe(scene(seed=1), now=0.2)
    assert {o.id: o.labels for o in back} == first and describer.counts["encoded"] == 0
    describer.describe(lone, now=0.3)
    assert describer.describe(floor(), now=0.4) == []  # an empty sweep forgets nobody early
    again = describer.describe(scene(seed=2), now=0.6)
    assert {o.id for o in again} == set(first) and describer.counts["encoded"] == 0
    describer.describe(lone, now=0.7)
    later = describer.describe(scene(seed=3), now=1.3)  # gone 0.7 s > track_timeout: new
    assert kept in {o.id for o in later} and set(first) - {o.id for o in later}
    assert describer.counts["encoded"] == 1


@pytest.fixture(scope="module")
def captioner():
    return Pipeline.from_bundle()  # the shipped model: the tiny test bundle cannot caption


def test_captions_are_decoded_a_few_runs_per_cloud_and_match_a_caption_in_one_go(captioner):
    schedule = ScheduleSettings(
        label_refresh=100.0, caption_period=10.0, caption_budget=8, caption_steps=4
    )
    describer = Describer(captioner, DescribeSettings(mode="scene", schedule=schedule))
    clouds = 0
    while True:
        objects = describer.describe(scene(seed=clouds), now=0.1 * clouds)
        clouds += 1
        if any(o.captioned for o in objects):
            break
        assert all(o.caption is None for o in objects) and clouds < 40
    assert clouds > 2  # a caption is ~25 decoder runs: it took several clouds at 4 a cloud
    assert all(o.captioned and o.caption for o in objects)
    expected = captioner.caption_encoded(
        Encoded.concatenate([describer.latest[o.id] for o in objects])
    )
    same_text([o.caption for o in objects], expected)
    later = describer.describe(scene(seed=clouds), now=0.1 * clouds)
    same_text([o.caption for o in later], expected)
    assert not any(o.captioned for o in later)


def test_caption_period_zero_captions_every_object_in_the_same_cloud(captioner):
    schedule = ScheduleSettings(caption_period=0.0, caption_steps=4)
    describer = Describer(captioner, DescribeSettings(mode="scene", schedule=schedule))
    objects = describer.describe(scene(), now=0.0)
    assert len(objects) == 2 and all(o.captioned and o.caption for o in objects)
    assert describer.describe(scene())[0].caption is None  # without a clock: labels only


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
