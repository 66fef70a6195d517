"""Make torch unimportable in this process: what a robot without torch installed would see.

    install()                                   # from here on, `import torch` raises
    python -m tests.no_torch -m MODULE ARGS...  # run a module's main that way
    python -m tests.no_torch -c CODE

conftest.py installs it for the whole test session when POINTLANG_NO_TORCH=1, so the runtime's
tests can be run with torch unimportable (their bundles are built in a child process).
"""

from __future__ import annotations

import importlib.abc
import runpy
import sys

BLOCKED = ("torch", "torchvision", "transformers", "sentence_transformers")


class TorchBlocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{name} is unimportable here (tests/no_torch.py)", name=name)


def install() -> None:
    """Block torch and friends for the rest of this process (they must not be loaded yet)."""
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    if loaded:
        raise RuntimeError(f"{loaded} are already imported; block them before anything loads")
    if not any(isinstance(finder, TorchBlocker) for finder in sys.meta_path):
        sys.meta_path.insert(0, TorchBlocker())


def main(argv: list[str]) -> int:
    install()
    if len(argv) >= 2 and argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    if len(argv) == 2 and argv[0] == "-c":
        exec(compile(argv[1], "<no_torch -c>", "exec"), {"__name__": "__main__"})
        return 0
    raise SystemExit("usage: python -m tests.no_torch (-m MODULE [ARGS...] | -c CODE)")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
