"""What runs the encoder and the captioner each sweep (ros_pointlang/schedule.py)."""

import numpy as np
import pytest

from ros_pointlang.schedule import (
    Remembered,
    ScheduleSettings,
    Seen,
    changed,
    to_caption,
    to_encode,
)

SETTINGS = ScheduleSettings(
    label_refresh=1.0, encode_budget=2, caption_period=1.0, caption_budget=2
)


def seen(points=500, size=(1.0, 0.5, 1.5)):
    return Seen(points, np.asarray(size, float))


def test_changed_means_other_points_or_another_box_not_noise():
    base = seen()
    assert not changed(seen(560), base, SETTINGS)  # +12 %: the same object, noisier
    assert changed(seen(700), base, SETTINGS)  # +40 %: more of it came into view
    assert not changed(seen(250), base, SETTINGS)  # half hidden: the view it has is better
    assert changed(seen(size=(1.3, 0.5, 1.5)), base, SETTINGS)
    assert not changed(seen(size=(1.05, 0.48, 1.5)), base, SETTINGS)


def test_new_objects_always_run_and_known_ones_within_the_budget_changed_first():
    # label_refresh 1 s: a changed object ranks as if its labels were 1 s older.
    memory = {
        1: Remembered(labels_at=9.5, labels_seen=seen()),  # fresh, unchanged: reused
        2: Remembered(labels_at=9.5, labels_seen=seen(200)),  # changed: ranks as 8.5, first
        3: Remembered(labels_at=8.7, labels_seen=seen()),  # stale: second in the budget
        4: Remembered(labels_at=8.8, labels_seen=seen()),  # stale, over the budget
    }
    objects = [(i, seen()) for i in (1, 2, 3, 4, 5)]  # 5 is new
    assert to_encode(10.0, objects, memory, SETTINGS) == [1, 2, 4]  # ids 2, 3 and 5
    # Labels that waited longer than a refresh period go before a change.
    memory[4] = Remembered(labels_at=7.0, labels_seen=seen())
    assert to_encode(10.0, objects, memory, SETTINGS) == [1, 3, 4]  # ids 2, 4 and 5
    # However many objects are new, every one of them gets labels this sweep.
    fresh = [(i, seen()) for i in range(10, 30)]
    assert to_encode(10.0, fresh, memory, SETTINGS) == list(range(20))
    # Changed objects beyond the budget wait, the longest-waiting first next time.
    moved = {i: Remembered(labels_at=9.0 + i / 10, labels_seen=seen(100)) for i in (1, 2, 3)}
    assert to_encode(10.0, [(i, seen()) for i in (1, 2, 3)], moved, SETTINGS) == [0, 1]


def test_objects_that_change_every_sweep_do_not_starve_the_refresh_of_the_others():
    settings = ScheduleSettings(label_refresh=1.0, encode_budget=1)
    # Tracks 1-3 swing between two segmentations every sweep (a real scan does); 4 is steady.
    looks = [seen(500, (1.5, 1.1, 0.7)), seen(700, (1.2, 0.7, 0.7))]
    memory = {i: Remembered(labels_at=0.0, labels_seen=looks[0]) for i in (1, 2, 3, 4)}
    encoded_at = {i: [] for i in memory}
    for sweep in range(1, 60):
        now = sweep / 10
        objects = [(i, looks[sweep % 2]) for i in (1, 2, 3)] + [(4, looks[0])]
        for index in to_encode(now, objects, memory, settings):
            track, look = objects[index]
            memory[track] = Remembered(labels_at=now, labels_seen=look)
            encoded_at[track].append(now)
    steady = encoded_at[4]
    assert steady and max(np.diff([0.0, *steady, 5.9])) <= 2 * settings.label_refresh + 0.2


def test_captions_go_to_uncaptioned_then_changed_then_oldest_within_the_budget():
    def captioned(at, looked):
        return Remembered(labels_at=9.9, labels_seen=seen(), caption_at=at, caption_seen=looked)

    memory = {
        1: captioned(9.8, seen()),  # recent: not due
        2: captioned(8.9, seen()),  # due
        3: captioned(9.8, seen(100)),  # changed since its caption: ranks as 8.8
        4: captioned(8.95, seen()),  # due
    }
    objects = [(i, seen()) for i in (1, 2, 3, 4, 5)]  # 5 has no caption yet
    assert to_caption(10.0, objects, memory, SETTINGS) == [2, 4]  # ids 3 and 5
    memory[4] = captioned(7.0, seen())  # waited more than a period longer than the change
    assert to_caption(10.0, objects, memory, SETTINGS) == [3, 4]  # ids 4 and 5
    wide = ScheduleSettings(caption_budget=10)
    assert to_caption(10.0, objects, memory, wide) == [1, 2, 3, 4]  # all but the recent one
    assert to_caption(10.0, objects, memory, ScheduleSettings(caption_period=-1)) == []
    assert to_caption(10.0, objects, memory, ScheduleSettings(caption_period=0)) == [0, 1, 2, 3, 4]


def test_settings_refuse_negative_budgets_and_thresholds():
    with pytest.raises(ValueError, match="caption_steps"):
        ScheduleSettings(caption_steps=-1)
    with pytest.raises(ValueError, match="label_refresh"):
        ScheduleSettings(label_refresh=-0.5)
    with pytest.raises(ValueError, match="change"):
        ScheduleSettings(change_size=-1)


def test_a_clock_that_went_back_makes_labels_and_captions_due():
    memory = {
        1: Remembered(labels_at=50.0, labels_seen=seen(), caption_at=50.0, caption_seen=seen())
    }
    objects = [(1, seen())]
    assert to_encode(49.9, objects, memory, SETTINGS) == [0]
    assert to_caption(49.9, objects, memory, SETTINGS) == [0]
    assert to_encode(50.5, objects, memory, SETTINGS) == []
