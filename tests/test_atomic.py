"""Atomic writes (pelsvae_tf.atomic): all-or-nothing replacement and ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from pelsvae_tf.atomic import atomic_dir, atomic_path, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_dir_replaces_only_on_success_and_gets_mkdir_permissions(tmp_path):
    target = tmp_path / "model" / "1"
    with atomic_dir(target) as tmp:
        (tmp / "saved_model.pb").write_text("v1")
    assert (target / "saved_model.pb").read_text() == "v1"
    plain = tmp_path / "plain"
    plain.mkdir()
    # readable by other users like a plain mkdir (a TF Serving container may run as another user)
    assert _mode(target) == _mode(plain)

    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "saved_model.pb").write_text("half")
            raise RuntimeError("interrupted")
    assert (target / "saved_model.pb").read_text() == "v1"  # the finished version survives
    assert [p.name for p in target.parent.iterdir()] == ["1"]  # no temporary left behind


def test_atomic_path_and_text(tmp_path):
    out = tmp_path / "a.json"
    atomic_write_text(out, "one")
    with pytest.raises(ValueError):
        with atomic_path(out) as tmp:
            tmp.write_text("broken")
            raise ValueError("interrupted")
    assert out.read_text() == "one" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(tmp_path / "b.npz"):
            pass
