"""Presentation: tables as Markdown/HTML and plots.  The only place that imports matplotlib or Jinja2.

Names are imported from their sub-modules on first use, so a command that prints text never loads matplotlib."""

_EXPORTS = {
    "plot_dose_response": ".assay_plots", "plot_internalization": ".assay_plots", "plot_sensorgrams": ".assay_plots",
    "plot_oc": ".plots", "decision_table_html": ".tables", "decision_table_markdown": ".tables",
    "frame_to_markdown": ".tables", "oc_summary_table": ".tables",
}

__all__ = ["plot_oc", "plot_dose_response", "plot_sensorgrams", "plot_internalization", "decision_table_markdown",
           "decision_table_html", "frame_to_markdown", "oc_summary_table"]


def __getattr__(name: str):
    """Import the sub-module that defines ``name`` on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
