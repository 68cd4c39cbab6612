"""Atomic writes and fresh outputs (`tfp_videoflow.files`)."""

import os
import stat

import pytest

from tfp_videoflow import files


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_text_replaces_the_file_with_usual_permissions(tmp_path):
    path = tmp_path / "run.json"
    files.atomic_write_text(path, "old")
    files.atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert _mode(path) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    files.atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        files.atomic_write_text(path, b"bytes are not text")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.parametrize("as_directory", [False, True])
def test_a_failed_writer_leaves_nothing(tmp_path, as_directory):
    def fail(tmp):
        if as_directory:
            tmp.mkdir()
            tmp = tmp / "inside"
        tmp.write_bytes(b"half")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(tmp_path / "x.png", fail)
    assert not list(tmp_path.iterdir())


def test_the_writer_sees_the_suffix(tmp_path):
    seen = []
    files.atomic_write(tmp_path / "m.keras",
                       lambda tmp: (seen.append(tmp.suffix),
                                    tmp.write_text("x")))
    assert seen == [".keras"]
    assert (tmp_path / "m.keras").read_text() == "x"


def test_check_new_output(tmp_path):
    assert files.check_new_output(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    files.check_new_output(tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a").write_text("a")
    (tmp_path / "file").write_text("f")
    for name in ("full", "file"):
        with pytest.raises(FileExistsError, match="not an empty directory"):
            files.check_new_output(tmp_path / name)
