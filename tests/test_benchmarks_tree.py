"""benchmarks/ keeps to its rules: scripts import the installed package (no
`sys.path` edits), and results/ holds only what BENCHMARKS.md or README.md
cite (git keeps the history of the rest)."""

import fnmatch
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _expand(pattern):
    """Shell brace expansion: `a_{b,c}.md` -> [`a_b.md`, `a_c.md`]."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    return [expanded for alternative in match.group(1).split(",")
            for expanded in _expand(pattern[:match.start()] + alternative
                                    + pattern[match.end():])]


def _cited_patterns():
    text = "\n".join((ROOT / name).read_text()
                     for name in ("BENCHMARKS.md", "README.md"))
    patterns = set()
    # A path under results/, or a file name in backticks (as in "raw:
    # `quality_10min_{a,b}.*`").
    cited = [m.group(1) for m in re.finditer(r"results/([^\s`)'\"]+)", text)]
    cited += re.findall(r"`([\w{},.*-]+)`", text)
    for citation in cited:
        patterns.update(_expand(citation.rstrip(".,;:")))
    return patterns


def test_every_result_file_is_cited():
    patterns = _cited_patterns()

    def cited(name):
        stem = name.split(".")[0]
        # A result's .md and .json are one result: citing either keeps both.
        return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(stem, p)
                   or fnmatch.fnmatch(stem, p.split(".")[0])
                   for p in patterns)

    uncited = sorted(p.name for p in RESULTS.iterdir() if not cited(p.name))
    assert not uncited, f"results BENCHMARKS.md does not cite: {uncited}"


def test_brace_expansion():
    assert _expand("a_{b,c}_s{0,1}.md") == [
        "a_b_s0.md", "a_b_s1.md", "a_c_s0.md", "a_c_s1.md"]


def test_benchmarks_do_not_edit_sys_path():
    editing = [p.name for p in (ROOT / "benchmarks").glob("*.py")
               if "sys.path" in p.read_text()]
    assert not editing, f"benchmarks editing sys.path: {editing}"
