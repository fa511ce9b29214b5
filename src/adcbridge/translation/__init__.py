"""Translation from preclinical data to the first-in-human trial.

* :func:`scale_parameters` -- simple allometry of a PK parameter set (CL, V1, Q, V2 ...) from one species;
* :func:`fit_allometry` -- multi-species log-log allometry with the rule of exponents (MLP / brain weight);
* :func:`human_profile_from_animal`, :func:`dedrick_coordinates` -- species-invariant time (Dedrick plots);
* :func:`prediction_errors` -- Li et al. 2019 percent error, fold error, APE, within-2-fold;
* :func:`summarise_toxicology` -- NOAEL, HNSTD (non-rodent), STD10 (rodent) from a study table;
* :func:`human_equivalent_dose`, :func:`fih_start_dose`, :func:`occupancy_dose` -- FDA 2005 HED, ICH S9 start
  dose, receptor-occupancy alternative;
* :func:`exposure_margins`, :func:`proportional_exposure` -- animal vs predicted human exposure;
* :func:`project_human_pk` -- human profiles and exposure (Cmax, AUC, Ctrough per cycle) at candidate doses from
  an animal compartmental model scaled by allometry;
* :func:`dose_ladder` -- doubling / modified Fibonacci / user ladders, ``ladder.to_boin(target=0.3)``.

>>> from adcbridge.translation import fih_start_dose, dose_ladder
>>> start = fih_start_dose(30, "cynomolgus", scaling="bsa").start_dose_mg_per_kg
>>> round(start, 2)
1.62
>>> dose_ladder(start, "modified_fibonacci", n_levels=5).to_boin(target=0.3).n_doses
5
"""

from .allometry import (
                        DEFAULT_EXPONENTS,
                        AllometrySpec,
                        ScaledParameters,
                        parameter_table,
                        scale_parameters,
                        two_compartment_half_lives,
)
from .config import FihConfig, FihPlan, run_fih_config
from .dedrick import dedrick_coordinates, human_profile_from_animal
from .fih import (
                        DEFAULT_SAFETY_FACTORS,
                        FihDose,
                        FihSpec,
                        OccupancyDose,
                        fih_start_dose,
                        occupancy_dose,
)
from .hed import HumanEquivalentDose, human_equivalent_dose
from .ladder import MODIFIED_FIBONACCI, DoseLadder, LadderSpec, dose_ladder, round_dose
from .margins import (
                        ExposureMargins,
                        exposure_at,
                        exposure_margins,
                        proportional_exposure,
)
from .multispecies import AllometricFit, fit_allometry, rule_of_exponents, sacher_mlp
from .prediction_error import (
                        li_percent_error,
                        predict_per_kg,
                        prediction_errors,
                        summarise_errors,
)
from .projection import HumanPkProjection, ProjectionSpec, project_human_pk
from .reference_sets import TDXD_HUMAN_POPPK, reference_parameters, reference_table
from .species import (
                        SPECIES,
                        canonical_species,
                        default_body_weight,
                        species_info,
                        species_km,
)
from .tox import SEVERITY_LEVELS, ToxicologySummary, summarise_toxicology

__all__ = [
    "scale_parameters", "ScaledParameters", "AllometrySpec", "DEFAULT_EXPONENTS", "parameter_table",
    "two_compartment_half_lives", "fit_allometry", "AllometricFit", "rule_of_exponents", "sacher_mlp",
    "dedrick_coordinates", "human_profile_from_animal", "li_percent_error", "prediction_errors", "summarise_errors",
    "predict_per_kg", "TDXD_HUMAN_POPPK", "reference_parameters", "reference_table", "SPECIES", "species_info",
    "canonical_species", "default_body_weight", "species_km", "summarise_toxicology", "ToxicologySummary",
    "SEVERITY_LEVELS", "human_equivalent_dose", "HumanEquivalentDose", "fih_start_dose", "FihDose", "FihSpec",
    "occupancy_dose", "OccupancyDose", "DEFAULT_SAFETY_FACTORS", "exposure_margins", "ExposureMargins",
    "proportional_exposure", "exposure_at", "dose_ladder", "DoseLadder", "LadderSpec", "MODIFIED_FIBONACCI",
    "round_dose", "FihConfig", "FihPlan", "run_fih_config", "project_human_pk", "HumanPkProjection",
    "ProjectionSpec",
]
