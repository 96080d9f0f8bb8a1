"""Plots for the HTML report, drawn with matplotlib's object API on the Agg canvas and returned as PNG bytes.

matplotlib is the optional ``[report]`` extra and is imported only here, inside the functions: without it the
report still renders every table and names the plots it could not draw. No pyplot, so no global state and no
GUI backend is touched.
"""

from __future__ import annotations

import io
import math

from edgeaudit.report.property_views import PropertyLayer
from edgeaudit.report.views import HeadMap, LayerCurves

INSTALL_HINT = "pip install 'edgeaudit[report]'"
MODEL_COLOUR = "#0b5cad"
TWIN_COLOUR = "#b35900"
CONTROL_COLOUR = "#8c959f"
STRONGEST_COLOUR = "#cf222e"
BASELINE_COLOUR = "#57606a"
# The JSD colour scale never tops out below this: a variant that moved attention by 1e-8 (float noise) must look
# unchanged, not like a map of strong contrasts. 0.01 nats is about where a head's argmax starts to move.
JSD_SCALE_FLOOR = 0.01


def plots_unavailable() -> str | None:
    """Why plots cannot be drawn here (matplotlib missing), or None when they can."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        return f"matplotlib is not installed; install the report extra with: {INSTALL_HINT}"
    return None


def _figure(width: float, height: float, *, left: float = 0.6, right: float = 0.2, top: float = 0.45,
            bottom: float = 0.5, wspace: float = 0.3, hspace: float = 0.6):
    """A figure with fixed margins in inches (a layout engine costs more than the drawing on a small device)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                           bottom=bottom / height, wspace=wspace, hspace=hspace)
    return figure


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _integer_ticks(ax) -> None:
    """Layers and hidden states are whole numbers; matplotlib would label a short axis 0.5, 1.5, ..."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def jsd_scale(grid) -> tuple[float, float]:
    """Colour range of the JSD map: from 0 to the largest value, but never narrower than ``JSD_SCALE_FLOOR``."""
    import numpy as np

    finite = np.ma.compressed(np.ma.masked_invalid(grid))
    top = float(finite.max()) if finite.size else 0.0
    return 0.0, max(top, JSD_SCALE_FLOOR)


def _masked(matrix):
    import numpy as np

    return np.ma.masked_invalid(np.array([[math.nan if v is None else v for v in row] for row in matrix], dtype=float))


def head_margin_figure(maps: list[HeadMap], ncols: int = 4) -> bytes:
    """Small multiples: accuracy minus the best fixed-offset baseline per head, one panel per relation/direction.

    Red heads beat the positional baseline, blue ones do worse; the box marks the best head (Clark et al. 2019).
    """
    from matplotlib.patches import Rectangle

    ncols = min(ncols, len(maps))
    nrows = math.ceil(len(maps) / ncols)
    figure = _figure(2.9 * ncols + 1.2, 2.4 * nrows + 0.2, left=0.5, right=1.3, top=0.5, bottom=0.45,
                     wspace=0.25, hspace=0.75)
    from matplotlib.colors import TwoSlopeNorm

    grids = [_masked(m.margins) for m in maps]
    # Zero is the baseline; each side gets the full colour range so the few heads above it stand out.
    low = min([float(g.min()) for g in grids if g.count()] + [-0.05])
    high = max([float(g.max()) for g in grids if g.count()] + [0.05])
    norm = TwoSlopeNorm(vmin=min(low, -0.05), vcenter=0.0, vmax=max(high, 0.05))
    axes = figure.subplots(nrows, ncols, squeeze=False)
    image = None
    for ax, head_map, grid in zip(axes.flat, maps, grids, strict=False):
        image = ax.imshow(grid, cmap="RdBu_r", norm=norm, aspect="auto", interpolation="nearest")
        layers, heads = grid.shape
        best = head_map.best_head or {}
        if "layer" in best and "head" in best:
            ax.add_patch(Rectangle((best["head"] - 0.5, best["layer"] - 0.5), 1, 1, fill=False, lw=1.6, ec="black"))
        offset = "" if head_map.best_offset is None else f"{head_map.best_offset:+d}"
        base = "" if head_map.baseline is None else f", offset {offset} = {head_map.baseline:.2f}"
        ax.set_title(f"{head_map.title}\nn={head_map.count}{base}", fontsize=8.5)
        ax.set_xticks(range(heads))
        ax.set_yticks(range(layers))
        ax.tick_params(labelsize=6.5, length=0)
        ax.set_xlabel("head", fontsize=7.5)
        ax.set_ylabel("layer", fontsize=7.5)
    for ax in list(axes.flat)[len(maps):]:
        ax.set_visible(False)
    if image is not None:
        width, height = figure.get_size_inches()
        bar = figure.colorbar(image, cax=figure.add_axes((1 - 1.05 / width, 0.15, 0.12 / width, 0.7)))
        bar.set_label("accuracy − offset baseline", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return _png(figure)


def _curve(ax, xs, values, label, colour, style="-", marker="o"):
    if not values:
        return
    points = [(x, v) for x, v in zip(xs, values, strict=False) if v is not None]
    if points:
        ax.plot(*zip(*points, strict=True), style, marker=marker, ms=3.5, lw=1.6, color=colour, label=label)


def _hline(ax, value, label, colour=BASELINE_COLOUR, style=":"):
    if value is not None:
        ax.axhline(value, ls=style, lw=1.1, color=colour, label=label)
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, value - 0.02), max(high, value + 0.02))  # keep the baseline in view


def layer_curves_figure(curves: LayerCurves) -> bytes:
    """Token correspondence, structural-probe UUAS and attention-tree UUAS across depth, the random twin beside."""
    panels = []
    if curves.identifiability or curves.rollout_self_share:
        panels.append("correspondence")
    if curves.structural_uuas:
        panels.append("structural")
    if curves.tree_uuas:
        panels.append("trees")
    figure = _figure(4.0 * len(panels), 3.2, left=0.45, right=0.15, top=0.35, bottom=0.5, wspace=0.22)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    hidden = curves.hidden_states
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "correspondence":
            _curve(ax, hidden, curves.identifiability, "identifiability (nearest embedding)", MODEL_COLOUR)
            _curve(ax, hidden, curves.identifiability_linear, "identifiability (linear map)", MODEL_COLOUR, "--", "s")
            _curve(ax, hidden, curves.rollout_self_share, "rollout self-share", "#1a7f37")
            _hline(ax, curves.min_rollout_self_share, "self-share floor", "#1a7f37")
            _hline(ax, curves.min_identifiability, "identifiability floor", MODEL_COLOUR)
            ax.set_title("Do positions still stand for their tokens?", fontsize=9.5)
            ax.set_xlabel("hidden state (0 = embeddings)", fontsize=8.5)
            ax.set_ylim(-0.02, 1.05)
        elif panel == "structural":
            _curve(ax, hidden, curves.structural_uuas, "model", MODEL_COLOUR)
            _curve(ax, hidden, curves.structural_uuas_twin, "random-init twin", TWIN_COLOUR, "--", "s")
            _hline(ax, curves.linear_chain_uuas, "linear chain")
            ax.set_title("Structural (distance) probe UUAS", fontsize=9.5)
            ax.set_xlabel("hidden state (0 = embeddings)", fontsize=8.5)
        else:
            layers = curves.layers or list(range(len(curves.tree_uuas)))
            _curve(ax, layers, curves.tree_uuas, "model (heads averaged)", MODEL_COLOUR)
            _curve(ax, layers, curves.tree_uuas_twin, "random-init twin", TWIN_COLOUR, "--", "s")
            _hline(ax, curves.tree_baselines.get("chain"), "chain")
            _hline(ax, curves.tree_baselines.get("random_tree"), "random tree", style="-.")
            ax.set_title("Attention-tree UUAS per layer", fontsize=9.5)
            ax.set_xlabel("attention layer", fontsize=8.5)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=7.5)
        _integer_ticks(ax)
        ax.legend(fontsize=7, loc="best", framealpha=0.85)
    return _png(figure)


def property_figure(layer: PropertyLayer, ncols: int = 3) -> bytes:
    """Per metric: the model's score and every control's, with bootstrap CIs; the strongest control in red."""
    metrics = layer.metrics
    ncols = min(ncols, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    rows_per_panel = max(len(m.bars) for m in metrics)
    figure = _figure(4.1 * ncols, (0.2 * rows_per_panel + 0.9) * nrows + 0.3, left=1.45, right=0.15, top=0.65,
                     bottom=0.35, wspace=0.12, hspace=0.45)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for index, (ax, metric) in enumerate(zip(axes.flat, metrics, strict=False)):
        bars = metric.bars
        controls = [b for b in bars if not b.real and not b.evidence and b.estimate is not None]
        strongest = max(controls, key=lambda b: b.estimate).name if controls else None
        ys = list(range(len(bars)))[::-1]
        values = [b.estimate or 0.0 for b in bars]
        colours = [MODEL_COLOUR if b.real else STRONGEST_COLOUR if b.name == strongest else CONTROL_COLOUR
                   for b in bars]
        low = [max(0.0, (b.estimate - b.low)) if b.low is not None and b.estimate is not None else 0 for b in bars]
        high = [max(0.0, (b.high - b.estimate)) if b.high is not None and b.estimate is not None else 0 for b in bars]
        ax.barh(ys, values, color=colours, height=0.7, xerr=[low, high], error_kw={"lw": 0.9, "capsize": 2})
        ax.set_yticks(ys)
        ax.set_yticklabels([b.name.replace("_", " ") if index % ncols == 0 else "" for b in bars], fontsize=7)
        if metric.chance is not None:
            ax.axvline(metric.chance, ls=":", color=BASELINE_COLOUR, lw=1.1)
        ax.set_title(metric.metric, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.25)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    figure.suptitle(f"Layer {layer.layer}: model (blue) vs every control (grey; strongest in red), 95% CIs"
                    + ("; dotted = chance" if any(m.chance is not None for m in metrics) else ""), fontsize=9.5)
    return _png(figure)


def sqnr_figure(layers: list[tuple[int, float | None]]) -> bytes:
    """Activation SQNR per hidden state: higher is closer to the reference (every 6 dB ~ one bit)."""
    figure = _figure(5.2, 2.9, left=0.65, top=0.35)
    ax = figure.subplots()
    points = [(layer, value) for layer, value in layers if value is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.bar(xs, ys, color=MODEL_COLOUR, width=0.7)
        ax.set_xticks(list(xs))
    ax.set_xlabel("hidden state (0 = embeddings)", fontsize=8.5)
    ax.set_ylabel("SQNR (dB)", fontsize=8.5)
    ax.set_title("Activation SQNR, variant vs reference", fontsize=9.5)
    ax.grid(axis="y", alpha=0.25)
    ax.tick_params(labelsize=7.5)
    return _png(figure)


def jsd_figure(matrix: list[list[float | None]]) -> bytes:
    """Jensen–Shannon divergence of every head's attention rows between reference and variant."""
    from matplotlib.ticker import FormatStrFormatter

    grid = _masked(matrix)
    layers, heads = grid.shape
    figure = _figure(max(4.0, 0.42 * heads + 1.6), max(2.4, 0.36 * layers + 1.0), left=0.55, right=1.0, top=0.35)
    ax = figure.subplots()
    low, high = jsd_scale(grid)
    image = ax.imshow(grid, cmap="magma_r", aspect="auto", interpolation="nearest", vmin=low, vmax=high)
    ax.set_xticks(range(heads))
    ax.set_yticks(range(layers))
    ax.tick_params(labelsize=7, length=0)
    ax.set_xlabel("head", fontsize=8.5)
    ax.set_ylabel("layer", fontsize=8.5)
    ax.set_title("Attention JSD per head (0 = unchanged)", fontsize=9.5)
    width, height = figure.get_size_inches()
    bar = figure.colorbar(image, cax=figure.add_axes((1 - 0.8 / width, 0.5 / height, 0.12 / width,
                                                      1 - 0.85 / height)))
    bar.ax.tick_params(labelsize=7)
    bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))  # no "1e-8" offset text over the title
    return _png(figure)
