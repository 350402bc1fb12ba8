"""Make a finished main-job run the package's shipped pretrained run and ``saved_models/`` set.

    pelsvae run --out runs/demo                 # the main job (README's first command)
    python scripts/ship_pretrained.py runs/demo  # -> pelsvae_tf/resources/pretrained/, saved_models/

Copies the run directory's model, configuration, history, latents, physics scaler, fitted
regressors (with ``train_stats.npz``: model-curve amplitudes and mean magnitudes) and
``pipeline.json`` into ``pelsvae_tf/resources/pretrained/`` (``data_dir`` set to null: a user's
install has no prepared dataset), then exports version 1 of every TF Serving model from that
copy into ``saved_models/`` (so each SavedModel's provenance hashes are the shipped files').
Both destinations are replaced atomically.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("config.json", "model.keras", "physics_scaler.json", "history.csv", "latents.npz")


def ship(job_dir: Path, root: Path = ROOT) -> dict:
    """Copy ``job_dir/run`` (+ ``job_dir/pipeline.json``) into the package and re-export ``saved_models/``."""
    from pelsvae_tf.atomic import atomic_dir
    from pelsvae_tf.serve.export import export_run

    run = job_dir / "run"
    for name in FILES:
        if not (run / name).exists():
            raise FileNotFoundError(f"{run / name} is missing: finish `pelsvae run --out {job_dir}` first")
    if not (run / "regressors" / "train_stats.npz").exists():
        raise FileNotFoundError(f"{run}/regressors/train_stats.npz is missing: run `pelsvae regress {run}`")
    dest = root / "pelsvae_tf" / "resources" / "pretrained"
    with atomic_dir(dest) as tmp:
        for name in FILES:
            shutil.copy2(run / name, tmp / name)
        cfg = json.loads((run / "config.json").read_text())
        cfg["data_dir"] = None
        (tmp / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        if (job_dir / "pipeline.json").exists():
            shutil.copy2(job_dir / "pipeline.json", tmp / "pipeline.json")
        shutil.copytree(run / "regressors", tmp / "regressors")
    with tempfile.TemporaryDirectory() as t:
        out = Path(t) / "saved_models"
        res = export_run(dest, out, version=1)
        with atomic_dir(root / "saved_models") as tmp:
            shutil.copytree(out, tmp, dirs_exist_ok=True)
    return {"pretrained": str(dest), "saved_models": str(root / "saved_models"), "models": sorted(res["models"])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job_dir", type=Path, help="output folder of `pelsvae run` (holds run/ and pipeline.json)")
    print(json.dumps(ship(p.parse_args(argv).job_dir), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
