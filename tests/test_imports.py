"""The project's import graph: no module imports itself back through others (import circles),
and the runtime reaches into training only where it says why.

Every import counts, including those inside functions: a lazy import that breaks a circle
at run time is still a circle in the design.
"""

import ast
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = ("ros_pointlang", "training", "export")
# The runtime's only edges into training, both lazy and optional: `pointlang-eval dataset`
# scores datasets with training's code, and `pointlang-bench runtime` compares against torch
# when it is installed.
RUNTIME_TO_TRAINING = {
    ("ros_pointlang.evaluation.cli", "training.evaluate_dataset"),
    ("ros_pointlang.bench_runtime", "training.bench_torch"),
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((CHECKOUT / package).rglob("*.py")):
            parts = path.relative_to(CHECKOUT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a `from a import b` names a.b if a module)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                    ).strip(".")
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
                    break
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert "ros_pointlang.pipeline" in graph["ros_pointlang.describe"]
    assert "training.models.encoder" in graph["training.align"]
    assert "training.evaluate_dataset" in graph["ros_pointlang.evaluation.cli"]  # a lazy one


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles():
    assert find_cycle(import_graph()) is None


def test_the_runtime_imports_training_and_export_only_where_it_says_why():
    edges = {
        (module, target)
        for module, targets in import_graph().items()
        if module.startswith("ros_pointlang")
        for target in targets
        if not target.startswith("ros_pointlang")
    }
    assert edges == RUNTIME_TO_TRAINING
