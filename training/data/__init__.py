"""Procedural 3D-language data engine.

Modules:
- ``categories``: every category name, synonyms and the fixed seen/unseen split.
- ``mesh``: a small numpy triangle mesh with part primitives (boxes, cylinders, rods, lathes...).
- ``families``: one parametric family per category, one module per domain, returning a ``Shape``
  (mesh + true facts).
- ``sensors``: surface sampling; LiDARs and depth cameras from datasheets, as rigs, by ray casting.
- ``language``: captions and QA pairs written from a shape's true facts and measured geometry.
- ``views``: objects where a rig meets them (range, mount height, occluders, ground, crop).
- ``objects``: one object record end to end, and whole datasets with a manifest.
- ``manifest``: the dataset manifest's one writer and reader.
- ``scenes``: a room or a street, a moving LiDAR rig, written as a rosbag2 with ground truth.
- ``readers``: ModelNet40 HDF5, ULIP-2 Objaverse triplets, PointBLIP json + clouds.
- ``contact_sheet``: a PNG grid of sample clouds with captions.
- ``cli``: the ``pointlang-data`` command.
"""
