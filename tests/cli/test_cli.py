"""What a user meets at the command line (issue 15, items 2 and 7): one-line errors naming the
option, Ctrl-C during ``train`` ending in one line and exit code 130, no TensorFlow C++ log lines
or CUDA ``cuInit`` error by default, one line per epoch when stdout is not a terminal, help that
shows each default once, and a resume refusal that names only the changed fields."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.model import tiny_run_configs, tiny_train_argv

ROOT = Path(__file__).resolve().parents[2]
#: the user's environment: no TF_CPP_MIN_LOG_LEVEL (the CLI must quiet TensorFlow by itself)
ENV = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PELSVAE_TRACEBACK", "PELSVAE_VERBOSE")}
ENV["PYTHONPATH"] = str(ROOT)
TF_LOG = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]", re.M)


def _pelsvae(*args, timeout=300, **kw):
    return subprocess.run(
        [sys.executable, "-m", "pelsvae_tf", *args],
        env=kw.pop("env", ENV),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def test_ctrl_c_during_train_is_one_line_exit_130_and_rerun_resumes(tiny_dataset, tmp_path):
    """SIGINT after the first committed epoch: exit code 130, no traceback, one line naming the
    epochs kept and how to resume; the default output has no TF C++ log lines, no cuInit error,
    and (stdout being a pipe) one Keras line per epoch rather than a progress bar; re-running
    the command resumes."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "pelsvae_tf", *tiny_train_argv(tiny_dataset.path, out, 200)]
    # a job started with `&` by a non-interactive shell (how CI may start us) inherits SIGINT ignored,
    # and Python then never raises KeyboardInterrupt: give the child the default disposition, as a
    # terminal would
    proc = subprocess.Popen(
        cmd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    state_path = out / "checkpoints" / "state.json"
    try:
        t0 = time.monotonic()
        while not state_path.exists() and proc.poll() is None and time.monotonic() - t0 < 240:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert state_path.exists(), "no epoch committed in 240 s"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-3000:]
    kept = json.loads(state_path.read_text())["epoch"]
    assert 1 <= kept < 200
    last = stderr.strip().splitlines()[-1]
    assert last == (
        f"pelsvae train: interrupted: {out} keeps the {kept} completed epoch(s) "
        f"(checkpoints/state.json); re-run the same command to resume from epoch {kept + 1}"
    )
    assert not TF_LOG.search(stderr) and "cuInit" not in stderr, stderr[:3000]
    assert "Epoch 1/200" in stdout and "\r" not in stdout and "\x08" not in stdout
    # the line's advice works: the same command (up to a nearer last epoch) resumes
    res = _pelsvae(*tiny_train_argv(tiny_dataset.path, out, kept + 1))
    assert res.returncode == 0, res.stderr[-3000:]
    assert not TF_LOG.search(res.stderr) and "cuInit" not in res.stderr, res.stderr[:3000]
    # not a terminal: "Epoch k/N" then one summary line per epoch, no redrawn progress bar
    assert f"Epoch {kept + 1}/{kept + 1}" in res.stdout and "\r" not in res.stdout and "\x08" not in res.stdout
    assert len(re.findall(r"^\d+/\d+ - \d+m?s - .*loss: .*val_loss: ", res.stdout, re.M)) == 1, res.stdout[-2000:]
    assert f"resuming {out} from" in res.stderr and f"(epoch {kept})" in res.stderr
    rows = (out / "history.csv").read_text().strip().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == list(range(kept + 1))


def test_user_errors_are_one_line_naming_the_option_exit_2(tmp_path):
    # a file that does not exist
    res = _pelsvae("train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("pelsvae train: error:")
    # parse errors name the option
    res = _pelsvae("train", "--data", "d", "--out", "o", "--epochs", "many")
    assert res.returncode == 2 and "argument --epochs: invalid int value: 'many'" in res.stderr
    res = _pelsvae("train", "--data", "d", "--out", "o", "--arch", "cnn")
    assert res.returncode == 2 and "argument --arch: invalid choice: 'cnn'" in res.stderr
    res = _pelsvae("run", "--out", str(tmp_path / "job"), "--seq-len", "8")
    assert res.returncode == 2 and res.stderr.strip() == "pelsvae run: error: seq_len must be >= 16 points, got 8"
    # --traceback shows the full one
    res = _pelsvae("--traceback", "run", "--out", str(tmp_path / "job"), "--seq-len", "8")
    assert res.returncode == 1 and "Traceback (most recent call last)" in res.stderr


def test_dense_units_error_names_the_option(tiny_dataset, tmp_path):
    res = _pelsvae("train", "--data", str(tiny_dataset.path), "--out", str(tmp_path / "r"), "--dense-units", "64,x")
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.strip().splitlines()[-1] == (
        "pelsvae train: error: --dense-units '64,x': give comma-separated integers, e.g. --dense-units 64,32"
    )
    assert not TF_LOG.search(res.stderr) and "cuInit" not in res.stderr


def _option_blocks(help_text: str) -> dict[str, str]:
    """``--flag -> its help text`` from argparse's options section."""
    blocks: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        m = re.match(r"^  (-{1,2}[\w-]+)", line)
        if m:
            current = m.group(1)
            blocks[current] = line
        elif current and line.startswith("      "):
            blocks[current] += " " + line.strip()
        else:
            current = None
    return blocks


def test_train_help_shows_every_default_once():
    res = _pelsvae("train", "--help")
    assert res.returncode == 0 and not TF_LOG.search(res.stderr), res.stderr[:2000]
    blocks = _option_blocks(res.stdout)
    without = {"-h", "--data", "--out", "--config"}
    assert len(blocks) > 30
    for flag, text in blocks.items():
        n = text.count("(default")
        assert n == (0 if flag in without else 1), (flag, text)
    assert "(default: 150)" in blocks["--epochs"] and "(default: 0.001)" in blocks["--lr"]
    assert "(default: tcn)" in blocks["--arch"] and "(default: 48)" in blocks["--hidden"]
    assert "(default: deterministic)" in blocks["--no-deterministic"]


@pytest.mark.parametrize("verb", ["run", "generate", "tune", "prepare", "regress", "export", "evaluate"])
def test_help_prints_no_default_twice_and_never_none(verb):
    res = _pelsvae(verb, "--help")
    assert res.returncode == 0, res.stderr[-2000:]
    for flag, text in _option_blocks(res.stdout).items():
        assert text.lower().count("default:") <= 1, (flag, text)
        assert "(default: None)" not in text, (flag, text)


def test_resume_refusal_names_only_the_changed_fields(tiny_run, tiny_dataset, tmp_path):
    from pelsvae_tf.train.trainer import train

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    model_config, train_config = tiny_run_configs(save_latents=False)
    changed = model_config.replace(hidden=12, latent_dim=3)
    before = (run / "checkpoints" / "state.json").read_text()
    with pytest.raises(ValueError) as info:
        train(tiny_dataset.path, run, changed, train_config)
    msg = str(info.value)
    assert "ModelConfig.hidden: saved 16, now 12" in msg and "ModelConfig.latent_dim: saved 4, now 3" in msg
    assert msg.count("ModelConfig.") == 2 and "'arch'" not in msg and "tcn" not in msg
    assert "new --out" in msg
    assert (run / "checkpoints" / "state.json").read_text() == before


def test_runs_saved_before_tcn_impl_existed_resume_with_either_implementation(tiny_run):
    """A run whose config.json has no ``tcn_impl`` (every run made before the field existed) or the
    other value is the same model: resuming it is not refused."""
    from pelsvae_tf.rundir import RunDir
    from pelsvae_tf.train.checkpoint import check_resumable, model_config_differences

    model_config, _ = tiny_run_configs(save_latents=False)
    saved = dict(model_config.to_dict())
    del saved["tcn_impl"]
    assert model_config_differences(saved, model_config.to_dict()) == []
    assert model_config_differences(saved, model_config.replace(tcn_impl="keras").to_dict()) == []
    assert model_config_differences(saved, model_config.replace(hidden=12).to_dict()) == [
        "ModelConfig.hidden: saved 16, now 12"
    ]
    run = RunDir(tiny_run)
    data = run.dataset()
    for impl in ("fast", "keras"):
        check_resumable(run, model_config.replace(tcn_impl=impl), data)  # no error


def test_verbose_shows_tensorflow_logs_that_are_hidden_by_default(tmp_path):
    # a verb that loads TensorFlow (help no longer does: the CLI is TensorFlow-free until a verb runs)
    args = ["generate", "--class", "RRLYR", "--teff", "6500", "--abs-gmag", "0.6", "--period", "0.55", "--n", "1"]
    quiet = _pelsvae(*args, "--out", str(tmp_path / "quiet.csv"))
    loud = _pelsvae("--verbose", *args, "--out", str(tmp_path / "loud.csv"))
    assert quiet.returncode == loud.returncode == 0, quiet.stderr[-2000:] + loud.stderr[-2000:]
    assert not TF_LOG.search(quiet.stderr) and quiet.stderr.strip() == ""
    assert TF_LOG.search(loud.stderr), loud.stderr[:2000]  # e.g. "I0000 ... port.cc:153] oneDNN custom operations ..."
    assert (tmp_path / "quiet.csv").read_text() == (tmp_path / "loud.csv").read_text()
    help_quiet, help_loud = _pelsvae("train", "--help"), _pelsvae("--verbose", "train", "--help")
    assert help_quiet.stdout == help_loud.stdout and help_quiet.stderr.strip() == ""
