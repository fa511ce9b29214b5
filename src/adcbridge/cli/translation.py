"""``adcbridge fih`` and ``adcbridge translate allometry|ladder``: thin commands over :mod:`adcbridge.translation`.

``fih`` computes the ICH S9 start dose from an HNSTD (non-rodent) or STD10 (rodent), or runs a whole plan from a
YAML file (``--config``: toxicology table, scaling, safety factor, ladder, exposures, BOIN)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from adcbridge.cli.common import Format, emit, floats, frame, name_value_units, name_values

translate_app = typer.Typer(help="Human projection: allometric scaling of PK parameters and dose ladders.",
                            no_args_is_help=True)


class ScalingOption(str, Enum):
    bsa = "bsa"
    mg_per_kg = "mg-per-kg"
    body_weight_exponent = "body-weight-exponent"


class SchemeOption(str, Enum):
    doubling = "doubling"
    modified_fibonacci = "modified-fibonacci"
    list = "list"


class ModalityOption(str, Enum):
    adc = "adc"
    antibody = "antibody"
    small_molecule = "small-molecule"


def _fih_text(c: dict) -> str:
    lines = [f"species {c['species']}, {c['basis']} {c['animal_dose_mg_per_kg']:g} mg/kg, scaling {c['scaling']}, "
             f"safety factor {c['safety_factor']:g}",
             f"HED {c['hed_mg_per_kg']:.4g} mg/kg -> start dose {c['start_dose_mg_per_kg']:.4g} mg/kg "
             f"({c['start_dose_mg']:.4g} mg for {c['patient_weight_kg']:g} kg)",
             f"equation: {c['equation']}"]
    if c.get("occupancy_dose_mg_per_kg") is not None:
        lines.append(f"receptor-occupancy dose: {c['occupancy_dose_mg_per_kg']:.4g} mg/kg")
    if "toxicology" in c:
        t = c["toxicology"]
        lines.append(f"toxicology: NOAEL {t['noael']}, LOAEL {t['loael']}, {t['basis']} {t['basis_dose']} mg/kg "
                     f"({t['rule']})")
    if "ladder" in c:
        import pandas as pd
        levels = pd.DataFrame(c["ladder"]["levels"])
        cols = [k for k in ("level", "dose", "increment_pct", "phase", "cmax", "auc", "cmax_margin", "auc_margin")
                if k in levels.columns]
        lines += [f"dose ladder ({c['ladder']['dose_unit']}; exposures and margins against the animal at the "
                  f"{c['basis']}):", frame(levels[cols], digits=4)]
    if "boin" in c:
        b = c["boin"]
        lines.append(f"BOIN design: target {b.get('target')}, {len(c['ladder']['doses'])} dose levels, cohort size "
                     f"{b.get('cohort_size')}, {b.get('n_cohorts')} cohorts")
    lines += [f"note: {m['message']}" for m in c.get("issues", [])]
    return "\n".join(lines)


def fih(ctx: typer.Context,
        hnstd: Optional[float] = typer.Option(None, "--hnstd", help="HNSTD in the non-rodent (mg/kg)."),
        std10: Optional[float] = typer.Option(None, "--std10", help="STD10 in the rodent (mg/kg)."),
        species: str = typer.Option("cynomolgus", "--species", help="Toxicology species (e.g. cynomolgus, rat)."),
        scaling: ScalingOption = typer.Option(ScalingOption.bsa, "--scaling", help="HED scaling."),
        safety_factor: Optional[float] = typer.Option(None, "--safety-factor",
                                                      help="Divides the HED (> 1; default 6 HNSTD, 10 STD10)."),
        body_weight: Optional[float] = typer.Option(None, "--body-weight",
                                                    help="Animal body weight (kg); needed for an unknown species "
                                                         "(BSA scaling of a listed species uses the FDA Km)."),
        human_weight: float = typer.Option(60.0, "--human-weight",
                                           help="Human weight (kg) of the body-weight-exponent HED (FDA: 60)."),
        patient_weight: float = typer.Option(70.0, "--patient-weight",
                                             help="Patient weight (kg) for the flat start dose in mg."),
        kd: Optional[float] = typer.Option(None, "--kd", help="KD (nM) for a receptor-occupancy dose."),
        occupancy: Optional[float] = typer.Option(None, "--occupancy", help="Target receptor occupancy at Cmax "
                                                                           "(with --kd; default 0.1)."),
        config: Optional[Path] = typer.Option(None, "--config", help="YAML plan: tox table, ladder, exposures."),
        format: Format = typer.Option(Format.text, "--format", help="Output format.")):
    """First-in-human start dose per ICH S9: HED of the HNSTD (or STD10) divided by a safety factor."""
    from adcbridge.translation import fih_start_dose, occupancy_dose
    if config is not None:
        if hnstd is not None or std10 is not None:
            raise typer.BadParameter("give --config or --hnstd/--std10, not both", param_hint="'--config'")
        given = [p.opts[0] for p in ctx.command.params if p.name not in ("config", "format")   # typed by the user
                 and getattr(ctx.get_parameter_source(p.name), "name", None) == "COMMANDLINE"]
        if given:                                   # the plan file sets them: a flag beside it would be ignored
            raise typer.BadParameter(f"the plan file sets the start dose's inputs: {', '.join(given)} would be "
                                     f"ignored; set them in the file", param_hint="'--config'")
        from adcbridge.io.tox_files import load_fih_config
        from adcbridge.translation import run_fih_config
        cfg = load_fih_config(config)
        try:
            contract = run_fih_config(cfg).to_record()
        except ValueError as exc:
            raise ValueError(f"{config}: {str(exc).splitlines()[0]}") from None
        emit(contract, format, _fih_text(contract))
        return
    if (hnstd is None) == (std10 is None):
        raise typer.BadParameter("give exactly one of --hnstd or --std10 (or --config)", param_hint="'--hnstd'")
    if occupancy is not None and kd is None:
        raise typer.BadParameter("sets the receptor occupancy of the occupancy dose, which needs --kd (the KD, nM)",
                                 param_hint="'--occupancy'")
    occ = occupancy_dose(kd, 0.1 if occupancy is None else occupancy) if kd is not None else None
    res = fih_start_dose(hnstd, species, std10=std10, scaling=scaling.value.replace("-", "_"),
                         safety_factor=safety_factor, body_weight=body_weight, human_weight=human_weight,
                         patient_weight=patient_weight, occupancy=occ)
    contract = res.to_record()
    emit(contract, format, _fih_text(contract))


@translate_app.command("allometry")
def allometry(param: list[str] = typer.Option(..., "--param", help="NAME=VALUE:UNIT, e.g. CL=18.2:mL/day/kg "
                                                                   "(repeatable)."),
              species: str = typer.Option("cynomolgus", "--species", help="Animal species."),
              modality: ModalityOption = typer.Option(ModalityOption.adc, "--modality",
                                                      help="Chooses default exponents (ADC CL 1.0, mAb 0.85)."),
              exponent: list[str] = typer.Option([], "--exponent", help="Override, NAME_OR_KIND=B (repeatable)."),
              body_weight: Optional[float] = typer.Option(None, "--body-weight", help="Animal body weight (kg)."),
              human_weight: float = typer.Option(70.0, "--human-weight", help="Human body weight (kg)."),
              format: Format = typer.Option(Format.text, "--format", help="Output format.")):
    """Scale an animal PK parameter set to humans by simple allometry (human values in L/<time> and L)."""
    from adcbridge.translation import scale_parameters
    exps = name_values(exponent, "--exponent")
    res = scale_parameters(name_value_units(param, "--param"), species, body_weight=body_weight,
                           human_weight=human_weight,
                           modality=modality.value.replace("-", "_"), exponents=exps)
    cols = ["name", "kind", "animal_value", "animal_unit", "exponent", "human_value", "human_unit"]
    emit(res.to_record(), format, frame(res.table[cols]))


@translate_app.command("ladder")
def ladder(start: Optional[float] = typer.Option(None, "--start", help="Start dose (mg/kg)."),
           scheme: SchemeOption = typer.Option(SchemeOption.doubling, "--scheme", help="Escalation scheme."),
           levels: Optional[int] = typer.Option(None, "--levels", help="Number of dose levels."),
           max_dose: Optional[float] = typer.Option(None, "--max-dose", help="Highest dose (mg/kg)."),
           doses: Optional[str] = typer.Option(None, "--doses", help="With --scheme list: e.g. 1,2.1,4.2."),
           switch_at_level: Optional[int] = typer.Option(None, "--switch-at-level",
                                                         help="Doubling: level from which smaller steps follow."),
           after_switch: str = typer.Option("0.5,0.33", "--after-switch", help="Increments after the switch."),
           sig_figs: int = typer.Option(2, "--sig-figs", help="Significant figures of the rounded doses."),
           target: Optional[float] = typer.Option(None, "--target", help="Also print the BOIN design."),
           format: Format = typer.Option(Format.text, "--format", help="Output format.")):
    """A dose-escalation ladder (doubling, modified Fibonacci or a list), optionally as a BOIN design."""
    from adcbridge.translation import dose_ladder
    if scheme != SchemeOption.list and start is None:
        raise typer.BadParameter("is required unless --scheme list", param_hint="'--start'")
    if scheme == SchemeOption.list and start is not None:
        raise typer.BadParameter("does not apply to --scheme list (the list gives every dose)", param_hint="'--start'")
    if scheme != SchemeOption.list and doses is not None:
        raise typer.BadParameter("applies to --scheme list only", param_hint="'--doses'")
    lad = dose_ladder(start, scheme.value.replace("-", "_"), n_levels=levels, max_dose=max_dose,
                      doses=floats(doses, "--doses"), switch_at_level=switch_at_level,
                      after_switch=floats(after_switch, "--after-switch"), sig_figs=sig_figs)
    contract = lad.to_record()
    text = frame(lad.table)
    if target is not None:
        design = lad.to_boin(target)
        contract["boin"] = design.model_dump(mode="json")
        text += "\nBOIN: " + ", ".join(design.dose_label(i + 1) for i in range(design.n_doses))
    emit(contract, format, text)
