"""Rosbag replay evaluation, torch-free: what the robot would have said about a recorded bag.

frames    one cloud's ground truth and predictions; matching and the metrics of a run
truth     ground truth from the bag's /pointlang/ground_truth topic or a labels file
offline   every cloud through the node's own `Describer.describe`, in this process
live      the bag played into the node running as its own process, over DDS
process   a Python program in its own process, ready once it prints a line (node, tests)
report    report.md, report.html and the plots
cli       `pointlang-eval` (`bag` here; `dataset` in training/evaluate_dataset.py)
"""
