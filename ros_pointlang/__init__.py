"""ros_pointlang: point clouds to language on a robot (labels, captions, answers)."""

from pkgutil import extend_path

# The generated interfaces (ros_pointlang.msg / ros_pointlang.srv) may live in a second
# `ros_pointlang` directory on sys.path (the development venv installs them apart from the
# checkout); extend_path lets one package span both.
__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
