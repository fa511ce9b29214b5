"""Presentation: tables as Markdown/HTML and plots.  The only place that imports matplotlib or Jinja2."""

from .assay_plots import plot_dose_response, plot_internalization, plot_sensorgrams
from .plots import plot_oc
from .tables import decision_table_html, decision_table_markdown, frame_to_markdown, oc_summary_table

__all__ = ["plot_oc", "plot_dose_response", "plot_sensorgrams", "plot_internalization", "decision_table_markdown", "decision_table_html", "frame_to_markdown", "oc_summary_table"]
