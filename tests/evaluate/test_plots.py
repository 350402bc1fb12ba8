"""Saved figures (issue 15, item 7): every figure the package writes goes through
``pelsvae_tf.evaluate.plots.save_figure``, which saves the tight bounding box, so an x label that
sticks out of a small figure is in the PNG, not clipped."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _figure_with_a_low_x_label():
    fig, ax = plt.subplots(figsize=(3.0, 2.0))
    ax.plot(np.linspace(0, 1, 50), np.sin(np.linspace(0, 6.3, 50)))
    label = ax.set_xlabel("phase [cycles]", fontsize=28, color="red")
    fig.subplots_adjust(bottom=0.02)  # the axes reach the bottom edge: the label lies below the canvas
    fig.canvas.draw()
    box = label.get_window_extent()
    assert box.y0 < -10  # the label starts below the figure's bottom edge: a plain savefig cuts it
    return fig, box.height


def test_save_figure_keeps_a_label_that_a_plain_savefig_clips(tmp_path):
    from pelsvae_tf.evaluate.plots import save_figure

    fig, label_px = _figure_with_a_low_x_label()
    dpi = fig.dpi  # pixel sizes measured on the canvas hold in the PNGs
    plain = tmp_path / "plain.png"
    fig.savefig(plain, dpi=dpi)
    path = save_figure(fig, tmp_path / "tight.png", dpi=dpi)
    assert path == tmp_path / "tight.png" and not list(tmp_path.glob("*.tmp*"))  # atomic
    assert not plt.fignum_exists(fig.number)  # closed

    def red_rows(png):
        img = mpimg.imread(png)[..., :3]
        red = (img[..., 0] > 0.8) & (img[..., 1] < 0.3) & (img[..., 2] < 0.3)
        return int(red.any(axis=1).sum())  # image rows with label ink

    red_plain = red_rows(plain)
    red_tight = red_rows(path)
    # the (red) label's ink: whole in the tight PNG (brackets span most of the text box's height),
    # cut in the plain one
    assert red_tight >= 0.6 * label_px, (red_tight, label_px)
    assert red_plain < 0.8 * red_tight, (red_plain, red_tight)


def test_cli_generate_plot_is_saved_through_save_figure(tmp_path, monkeypatch):
    """`pelsvae generate --plot` writes its PNG with save_figure (tight box, atomic)."""
    import pelsvae_tf.evaluate.plots as plots
    from pelsvae_tf.cli.main import main
    from pelsvae_tf.pretrained import PRETRAINED_DIR

    if not (PRETRAINED_DIR / "config.json").exists():
        pytest.skip("package installed without the pretrained run")
    calls = []
    real = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, dpi=90: calls.append(path) or real(fig, path, dpi))
    out = tmp_path / "lcs.csv"
    png = tmp_path / "lcs.png"
    assert main(["generate", "--class", "RRLYR", "--n", "2", "--out", str(out), "--plot", str(png)]) == 0
    assert calls == [png] and png.exists() and mpimg.imread(png).shape[0] > 100
