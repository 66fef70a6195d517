"""Procedural 3D-language data engine.

Modules:
- ``categories``: every category name, synonyms and the fixed seen/unseen split.
- ``mesh``: a small numpy triangle mesh with part primitives (boxes, cylinders, rods, lathes...).
- ``families``: one parametric family per category, one module per domain, returning a ``Shape``
  (mesh + true facts).
- ``sensors``: surface sampling, simulated LiDAR and depth camera by ray casting.
- ``language``: captions and QA pairs written from a shape's true facts.
- ``objects``: one object record end to end, and whole datasets with a manifest.
- ``scenes``: several objects on a floor, a moving LiDAR, written as a rosbag2.
- ``readers``: ModelNet40 HDF5, ULIP-2 Objaverse triplets, PointBLIP json + clouds.
- ``contact_sheet``: a PNG grid of sample clouds with captions.
- ``cli``: the ``pointlang-data`` command.
"""
