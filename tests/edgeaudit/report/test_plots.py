"""Figures read as a user reads them: whole-number layer axes, a JSD scale that does not magnify float noise."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from edgeaudit.report import plots  # noqa: E402
from edgeaudit.report.views import LayerCurves  # noqa: E402


@pytest.fixture()
def drawn(monkeypatch):
    """The matplotlib figures the plot functions build, instead of their PNG bytes."""
    figures = []
    monkeypatch.setattr(plots, "_png", lambda figure: figures.append(figure) or b"")
    return figures


def test_layer_axes_have_whole_number_ticks_only(drawn):
    curves = LayerCurves(hidden_states=[0, 1, 2], identifiability=[1.0, 0.9, 0.7],
                         structural_uuas=[0.3, 0.5, 0.45], structural_uuas_twin=[0.3, 0.31, 0.3])
    plots.layer_curves_figure(curves)
    [figure] = drawn
    for ax in figure.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


@pytest.mark.parametrize(("largest", "top"), [(3e-8, plots.JSD_SCALE_FLOOR), (0.2, 0.2)])
def test_jsd_noise_is_drawn_as_unchanged_and_real_change_fills_the_scale(drawn, largest, top):
    matrix = [[0.0, largest / 2], [largest, None]]
    assert plots.jsd_scale(plots._masked(matrix)) == (0.0, pytest.approx(top))
    plots.jsd_figure(matrix)
    [figure] = drawn
    image = figure.axes[0].images[0]
    assert image.norm.vmax == pytest.approx(top)
    colorbar_axis = figure.axes[-1].yaxis
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    assert colorbar_axis.get_offset_text().get_text() == ""  # no "1e-8" printed over the title
