"""Continual reassessment method: one-parameter models, skeletons, posterior and trial conduct."""

from .design import CrmDesign, CrmPolicy, crm
from .model import CrmModel, Posterior, indifference_skeleton

__all__ = ["CrmDesign", "CrmPolicy", "crm", "CrmModel", "Posterior", "indifference_skeleton"]
