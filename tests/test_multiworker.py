"""``pelsvae train --strategy multiworker`` with two worker processes on loopback (issue 15,
item 6): TF_CONFIG clusters on 127.0.0.1 ports only, a tiny model trained for two epochs, the
chief alone writing the run directory, and a resume after one worker is killed."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _start_cluster(data, outs, epochs, logs: Path):
    """Start worker 0 (the chief) and worker 1 of a fresh loopback cluster; returns the Popens."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index, out in enumerate(outs):
        env = dict(ENV, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        cmd = [sys.executable, "-m", "pelsvae_tf", "train", "--data", str(data), "--out", str(out),
               "--strategy", "multiworker", "--physics", "teff,abs_gmag,period", "--hidden", "8",
               "--n-blocks", "4", "--kernel-size", "5", "--dense-units", "16", "--epochs", str(epochs),
               "--batch-size", "32", "--lr", "5e-3", "--no-tensorboard", "--verbose", "2"]
        log = open(logs / f"worker{index}.{epochs}.log", "w")
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    return procs


def _wait(procs, timeout):
    t0 = time.monotonic()
    for p in procs:
        p.wait(timeout=max(1, timeout - (time.monotonic() - t0)))


def _kill(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def _epochs(run_dir):
    rows = (Path(run_dir) / "history.csv").read_text().strip().splitlines()[1:]
    return [int(r.split(",")[0]) for r in rows]


def test_two_workers_on_loopback_train_chief_writes_and_resume_after_a_kill(tiny_dataset, tmp_path):
    chief, scratch = tmp_path / "chief", tmp_path / "worker1"
    logs = tmp_path / "logs"
    logs.mkdir()
    # 1. two epochs; worker 1 gets its own --out to show that it writes nothing there
    procs = _start_cluster(tiny_dataset.path, [chief, scratch], 2, logs)
    try:
        _wait(procs, 240)
    finally:
        _kill(procs)
    out = {p.name: p.read_text() for p in logs.iterdir()}
    assert [p.returncode for p in procs] == [0, 0], {k: v[-3000:] for k, v in out.items()}
    assert "num_workers = 2" in out["worker0.2.log"], out["worker0.2.log"][:3000]
    assert f"trained 2 epochs -> {chief}/model.keras" in out["worker0.2.log"]
    assert _epochs(chief) == [0, 1]
    for name in ("config.json", "model.keras", "latents.npz", "checkpoints/state.json", "checkpoints/last.keras"):
        assert (chief / name).exists(), name
    assert not scratch.exists() or not any(scratch.iterdir()), list(scratch.rglob("*"))
    # the non-chief trained the same model (same global losses) and says where the results are
    assert "trained 2 epochs (worker 1: nothing written, the chief writes the run directory)" in out["worker1.2.log"]
    def epoch_lines(log):  # Keras verbose=2: "10/10 - 4s - 358ms/step - err_kl: ... - val_loss: ..."
        return [ln.split(" - ", 3)[-1] for ln in out[log].splitlines() if re.match(r"^\d+/\d+ - ", ln)]

    assert len(epoch_lines("worker0.2.log")) == 2
    assert epoch_lines("worker0.2.log") == epoch_lines("worker1.2.log")

    # 2. go on to 4 epochs, both workers on the chief's directory (shared storage); kill worker 1
    #    once epoch 3 is committed, then the stalled chief (it waits on the lost peer)
    procs = _start_cluster(tiny_dataset.path, [chief, chief], 4, logs)
    state_path = chief / "checkpoints" / "state.json"
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 240 and all(p.poll() is None for p in procs):
            try:
                if json.loads(state_path.read_text())["epoch"] >= 3:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        assert all(p.poll() is None for p in procs), {p.name: p.read_text()[-3000:] for p in logs.iterdir()}
        procs[1].send_signal(signal.SIGKILL)
        time.sleep(2)
    finally:
        _kill(procs)
    committed = json.loads(state_path.read_text())["epoch"]
    assert committed == 3
    assert _epochs(chief) == list(range(committed))

    # 3. restart the cluster with the same command: it resumes at the committed epoch and finishes
    procs = _start_cluster(tiny_dataset.path, [chief, chief], 4, logs)
    try:
        _wait(procs, 240)
    finally:
        _kill(procs)
    log0 = (logs / "worker0.4.log").read_text()
    assert [p.returncode for p in procs] == [0, 0], log0[-3000:]
    assert f"(epoch {committed})" in log0  # "resuming ... from epoch-000k.keras (epoch k)"
    assert _epochs(chief) == list(range(4))  # every epoch exactly once
    state = json.loads(state_path.read_text())
    assert state["epoch"] == 4 and len(state["history"]) == 4
    assert "trained 4 epochs (worker 1: nothing written" in (logs / "worker1.4.log").read_text()
