"""Presentation: tables as Markdown/HTML and plots.  The only place that imports matplotlib or Jinja2.

Names are imported from their sub-modules on first use, so a command that prints text never loads matplotlib."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "plot_dose_response": ".assay_plots", "plot_internalization": ".assay_plots", "plot_sensorgrams": ".assay_plots",
    "plot_oc": ".plots", "decision_table_html": ".tables", "decision_table_markdown": ".tables",
    "frame_to_markdown": ".tables", "oc_summary_table": ".tables",
}

__all__ = ["plot_oc", "plot_dose_response", "plot_sensorgrams", "plot_internalization", "decision_table_markdown",
           "decision_table_html", "frame_to_markdown", "oc_summary_table"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
