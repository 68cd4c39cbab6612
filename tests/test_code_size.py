"""The package's functions stay short enough to read at once (issue 22)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("tfp_videoflow", "bijectors")
MAX_LINES = 60  # a function, docstring included, fits on one screen


def function_lengths():
    """(lines, "file:line name") of every function of the packages."""
    lengths = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lengths.append((
                        node.end_lineno - node.lineno + 1,
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(lengths, reverse=True)


def test_the_packages_hold_functions():
    # The count below means nothing if the walk found nothing.
    assert len(function_lengths()) > 100


def test_no_function_is_longer_than_a_screen():
    lengths = function_lengths()
    longest = "\n".join(f"{n:4d} {where}" for n, where in lengths[:5])
    print(f"longest functions:\n{longest}")
    too_long = [f"{n} lines: {where}" for n, where in lengths if n > MAX_LINES]
    assert not too_long, f"over {MAX_LINES} lines:\n" + "\n".join(too_long)
