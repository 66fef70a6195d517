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
    assert changed(seen(size=(1.3, 0.5, 1.5)), base, SETTINGS)
    assert not changed(seen(size=(1.05, 0.48, 1.5)), base, SETTINGS)


def test_new_objects_always_run_and_known_ones_within_the_budget_changed_first():
    memory = {
        1: Remembered(labels_at=9.5, labels_seen=seen()),  # fresh, unchanged: reused
        2: Remembered(labels_at=9.5, labels_seen=seen(200)),  # changed: first in the budget
        3: Remembered(labels_at=8.0, labels_seen=seen()),  # stale
        4: Remembered(labels_at=7.0, labels_seen=seen()),  # staler: second in the budget
        5: Remembered(labels_at=8.5, labels_seen=seen()),  # stale, over the budget
    }
    objects = [(i, seen()) for i in (1, 2, 3, 4, 5, 6)]  # 6 is new
    assert to_encode(10.0, objects, memory, SETTINGS) == [1, 3, 5]  # ids 2, 4 and 6
    # However many objects are new, every one of them gets labels this sweep.
    fresh = [(i, seen()) for i in range(10, 30)]
    assert to_encode(10.0, fresh, memory, SETTINGS) == list(range(20))
    # Changed objects beyond the budget wait, the longest-waiting first next time.
    moved = {i: Remembered(labels_at=9.0 + i / 10, labels_seen=seen(100)) for i in (1, 2, 3)}
    assert to_encode(10.0, [(i, seen()) for i in (1, 2, 3)], moved, SETTINGS) == [0, 1]


def test_captions_go_to_uncaptioned_then_changed_then_oldest_within_the_budget():
    def captioned(at, looked):
        return Remembered(labels_at=9.9, labels_seen=seen(), caption_at=at, caption_seen=looked)

    memory = {
        1: captioned(9.8, seen()),  # recent: not due
        2: captioned(8.0, seen()),  # due
        3: captioned(9.8, seen(100)),  # changed since its caption
        4: captioned(7.0, seen()),  # due, older
    }
    objects = [(i, seen()) for i in (1, 2, 3, 4, 5)]  # 5 has no caption yet
    assert to_caption(10.0, objects, memory, SETTINGS) == [2, 4]  # ids 3 and 5
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
