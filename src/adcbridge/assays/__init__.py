"""Assay analysis: dose-response curves (cell binding EC50, cytotoxicity IC50), SPR/BLI binding kinetics,
internalization and xenograft efficacy."""
