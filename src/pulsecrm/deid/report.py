"""The human-readable report of a run: HTML (self-contained) or Markdown.

The report is the GB/T 37964 process record laid out for a privacy officer:
goal, identified attributes, methods, verification with utility and risk
figures, a histogram of equivalence-class sizes, DP aggregates, approval and
monitoring. HTML embeds the chart as base64 so the file can be mailed or
archived alone; Markdown links a PNG written next to it.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in tests

import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pulsecrm.deid.profiles.process_record import ProcessRecord


class ReportError(ValueError):
    """The report could not be written (unknown extension, unwritable path)."""


_ENV = Environment(
    loader=PackageLoader("pulsecrm.deid", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def class_size_chart(sizes: np.ndarray, *, k: int | None = None) -> bytes:
    """PNG histogram of equivalence-class sizes, with the required k marked."""
    import matplotlib  # imported on use: it costs ~1 s and only reports need it

    matplotlib.use("Agg")  # no display on servers and in tests

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    try:
        if len(sizes):
            upper = int(sizes.max())
            bins = np.unique(np.geomspace(1, upper + 1, num=min(40, upper + 1)).astype(int))
            ax.hist(
                sizes,
                bins=bins.tolist() if len(bins) > 1 else 1,
                color="#3b6ea8",
                edgecolor="white",
            )
            if upper > 50:
                ax.set_xscale("log")
        if k is not None:
            ax.axvline(k, color="#a11", linestyle="--", label=f"k = {k}")
            ax.legend()
        ax.set_xlabel("equivalence-class size (records)")
        ax.set_ylabel("classes")
        ax.set_title("Equivalence-class sizes of the release")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def render_report(
    summary: dict[str, Any],
    record: ProcessRecord,
    class_sizes: np.ndarray,
    *,
    kind: str,
    chart_file: str | None = None,
) -> str:
    """The report text; ``kind`` is ``html`` (chart embedded) or ``md`` (chart linked)."""
    record_data = record.to_dict()
    has_qis = bool(record.quasi_identifiers)
    if kind == "html":
        chart = (
            base64.b64encode(class_size_chart(class_sizes, k=summary.get("k_required"))).decode()
            if has_qis
            else None
        )
        return _ENV.get_template("deid_report.html.j2").render(
            summary=summary, record=record_data, chart=chart
        )
    if kind == "md":
        return _ENV.get_template("deid_report.md.j2").render(
            summary=summary, record=record_data, chart_file=chart_file if has_qis else None
        )
    raise ReportError(f"unknown report kind {kind!r} (use html or md)")


def write_report(
    path: Path, summary: dict[str, Any], record: ProcessRecord, class_sizes: np.ndarray
) -> list[Path]:
    """Write the report to ``path`` (format by extension); return every file written."""
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [path]
    try:
        if suffix in (".html", ".htm"):
            path.write_text(render_report(summary, record, class_sizes, kind="html"), "utf-8")
        elif suffix in (".md", ".markdown"):
            chart_path = path.with_name(path.stem + ".classes.png")
            if record.quasi_identifiers:
                chart_path.write_bytes(class_size_chart(class_sizes, k=summary.get("k_required")))
                written.append(chart_path)
            text = render_report(
                summary, record, class_sizes, kind="md", chart_file=chart_path.name
            )
            path.write_text(text, "utf-8")
        else:
            raise ReportError(f"{path}: report must end in .html or .md")
    except OSError as exc:
        raise ReportError(f"{path}: cannot write report: {exc.strerror}") from None
    return written
