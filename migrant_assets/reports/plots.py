"""Shared figure style: one colour and name per group across every figure, feature units, and PNG
helpers (matplotlib's headless Agg backend; every plot function returns PNG bytes)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from migrant_assets.features import GROUPS, UNITS  # noqa: E402

#: One colour per group, the same in every figure of both studies (colour-blind safe palette).
GROUP_COLORS: dict[str, str] = {
    "local": "#0072B2",
    "settled_migrant": "#E69F00",
    "new_migrant": "#009E73",
    "staying_migrant": "#CC79A7",
    "leaving_migrant": "#D55E00",
}

#: The papers' names of the groups, in legend order per study.
GROUP_NAMES: dict[str, str] = {
    "local": "locals",
    "settled_migrant": "settled migrants",
    "new_migrant": "new migrants",
    "staying_migrant": "staying migrants",
    "leaving_migrant": "leaving migrants",
}

STUDY_GROUPS: dict[str, tuple[str, ...]] = {
    "integration": ("local", "settled_migrant", "new_migrant"),
    "departure": ("local", "staying_migrant", "leaving_migrant"),
}

#: Section titles of the feature groups, in the papers' order (the registry's GROUPS).
FAMILY_TITLES: dict[str, str] = {g: group.title for g, group in GROUPS.items()}


def feature_label(feature: str) -> str:
    """Axis label of a feature: its name and unit."""
    return f"{feature.replace('_', ' ')} ({UNITS[feature]})"


def to_png(fig: Figure, dpi: int = 110, laid_out: bool = False,
           text: dict[str, str] | None = None) -> bytes:
    """Render a figure to PNG bytes and close it, with ``text`` in the PNG's text chunks. A
    figure with a layout engine (constrained), or ``laid_out`` by its maker, is drawn as it is:
    a tight bounding box would draw it twice (half the time of the trend grids)."""
    buf = io.BytesIO()
    tight = None if laid_out or fig.get_layout_engine() is not None else "tight"
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=tight, facecolor="white",
                    metadata=text)
    finally:
        plt.close(fig)
    return buf.getvalue()


def png_base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def png_markdown(png: bytes, alt: str) -> str:
    """``![alt](data:image/png;base64,...)``: a PNG embedded in Dagster markdown metadata."""
    return f"![{alt}](data:image/png;base64,{png_base64(png)})"


#: The PNG text key under which :func:`message_figure` keeps its message (the report lists
#: such a figure as unavailable, with the message as the reason).
NO_DATA_KEY = "migrant_assets.no_data"


def message_figure(title: str, message: str) -> bytes:
    """A small figure that says why a plot has no data (e.g. every cell suppressed); the
    message is also kept in the PNG (:data:`NO_DATA_KEY`, :func:`figure_message`)."""
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11,
            transform=ax.transAxes)
    return to_png(fig, text={NO_DATA_KEY: message})


def panel_message(ax, message: str) -> None:
    """Say in one panel of a figure why it has no data (as :func:`message_figure` does for a
    whole figure): its axes hidden, the message in its middle."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=10,
            transform=ax.transAxes)


def figure_message(png: bytes) -> str | None:
    """Why the figure ``png`` has no data, when :func:`message_figure` drew it; else None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(png)) as image:
            message = image.info.get(NO_DATA_KEY)
    except (OSError, ValueError):  # not a PNG, or cut short: embedded as it is, as before
        return None
    return str(message) if message is not None else None


def figure_path(workdir: Path, name: str) -> Path:
    """Where the asset that draws figure ``name`` saves it (``<workdir>/figures/<name>.png``);
    the report reads figures from here and never draws them again."""
    return Path(workdir) / "figures" / f"{name}.png"


def save_figure(workdir: Path, name: str, png: bytes) -> Path:
    """Write figure ``name`` (PNG bytes) to :func:`figure_path`, replacing it."""
    path = figure_path(workdir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".png.tmp")
    tmp.write_bytes(png)
    tmp.replace(path)
    return path
