"""What each analysis says: its report tables and a sentence of conclusion stated against its data.

Every sentence is built from the analysis' own record (or the tables its command wrote) with the numbers it
rests on, so a reader can follow it back: "KD = 2.2e-10 M (95% CI ...)", "dose-proportional: slope 1.00 (90% CI
0.97-1.02) within the Smith criterion (0.95-1.05)".
"""

from __future__ import annotations

import pandas as pd

__all__ = ["conclude"]


def _g(v, digits: int = 3) -> str:
    """A number for reading: ``digits`` significant digits, or 'n/a'."""
    if v is None:
        return "n/a"
    try:
        return f"{float(v):.{digits}g}"
    except (TypeError, ValueError):
        return str(v)


def _parameters(record: dict) -> pd.DataFrame:
    return pd.DataFrame(record.get("parameters") or [])


def _kinetics(a, o, ctx) -> None:
    r = o.record
    o.tables["parameters"] = pd.DataFrame([
        {"parameter": "ka", "estimate": r["ka"]["estimate"], "se": r["ka"]["se"], "unit": "1/(M s)"},
        {"parameter": "kd", "estimate": r["kd"]["estimate"], "se": r["kd"]["se"], "unit": "1/s"},
        {"parameter": "KD", "estimate": r["KD"]["estimate"], "se": r["KD"]["se"], "unit": "M",
         "ci_low": r["KD"].get("ci_low"), "ci_high": r["KD"].get("ci_high")},
        {"parameter": "Rmax", "estimate": r.get("rmax"), "unit": "RU"}])
    flags = ", ".join(r.get("flags") or []) or "no quality flag"
    o.conclusion = (f"1:1 binding: KD = {_g(r['KD']['estimate'])} M (95% CI {_g(r['KD'].get('ci_low'))} to "
                    f"{_g(r['KD'].get('ci_high'))}), ka = {_g(r['ka']['estimate'])} 1/(M s), kd = "
                    f"{_g(r['kd']['estimate'])} 1/s; {flags}.")


_DRC_TERMS = {"b": "slope (b)", "c": "lower limit (c)", "d": "upper limit (d)", "e": "EC50/IC50 (e)",
              "f": "asymmetry (f)"}


def _dose_response(a, o, ctx) -> None:
    p = _parameters(o.record)
    if "term" in p.columns:                              # drc's letters, said in words
        p = p.assign(term=p["term"].map(lambda t: _DRC_TERMS.get(t, t)))
    o.tables["parameters"] = p
    parts = []
    unit = (o.record.get("spec") or {}).get("x_unit")
    unit_text = f" {unit}" if unit else " (concentration units of the data; give x_unit to name them)"
    what = "EC50"
    for c in o.record.get("curves") or []:
        ed = (c.get("ed") or {}).get("50")
        name = c.get("curve") or "the curve"
        b = ((c.get("params") or {}).get("b") or {}).get("estimate")
        what = "IC50" if b is not None and b > 0 else "EC50"     # drc's b > 0: the response falls with dose
        if ed is not None:
            parts.append(f"{name}: {what} {_g(ed.get('estimate'))}{unit_text} (95% CI {_g(ed.get('ci_low'))} to "
                         f"{_g(ed.get('ci_high'))})")
    o.conclusion = ("; ".join(parts) + "." if parts else "fitted; see the parameter table.")


def _internalization(a, o, ctx) -> None:
    o.tables["parameters"] = _parameters(o.record)
    c = o.record.get("comparison")
    if not c:
        o.conclusion = "one-phase fits per antibody; no comparison was asked for."
        return
    x, y = c["antibodies"]
    ratio, test = c.get("k_ratio") or {}, c.get("k_equal") or {}
    faster = (ratio.get("estimate") or 0) > 1
    p = test.get("p")
    verdict = ("faster" if faster else "slower") if p is not None and p < 0.05 else "not shown to differ in rate"
    o.conclusion = (f"{x} internalizes {verdict} than {y}" if "differ" not in verdict
                    else f"{x} and {y} are {verdict}") \
        + (f": rate ratio k({x})/k({y}) = {_g(ratio.get('estimate'))} (95% CI {_g(ratio.get('ci_low'))} to "
           f"{_g(ratio.get('ci_high'))}), F test of equal rates p = {_g(p, 2)}.")


def _xenograft(a, o, ctx) -> None:
    rows = []
    for t in o.record.get("tgi") or []:
        row = {"group": t["group"], "day": t["day"], "n_treated": t.get("n_treated")}
        row.update({k: (v.get("value") if isinstance(v, dict) else v) for k, v in (t.get("values") or {}).items()})
        rows.append(row)
    tgi = pd.DataFrame(rows)
    o.tables["tgi"] = tgi
    key = next((k for k in ("delta_v", "tgi_tc_mean", "tc_mean") if k in tgi.columns), None)
    if key is None or tgi.empty:
        o.conclusion = "tumour growth summarised; see the tables."
        return
    tests = {(t["comparison"].rsplit(" - ", 1)[0], t["day"]): t for t in o.record.get("day_tests") or []
             if t.get("test") == "dunnett"}
    parts = []
    for r in tgi.to_dict("records"):
        t = tests.get((r["group"], r["day"]))
        p = t.get("p_adjusted") if t else None
        sig = "" if p is None else f", Dunnett p = {_g(p, 2)}{'' if p < 0.05 else ': not significant'}"
        parts.append(f"{r['group']} {_g(r[key])}% (day {_g(r['day'])}{sig})")
    o.conclusion = (f"tumour growth inhibition ({key}, %) versus {o.record.get('control')}: " + ", ".join(parts)
                    + ".")


def _nca(a, o, ctx) -> None:
    summary = ctx.out / f"results/{a.id}.summary.csv"
    if summary.exists():
        s = pd.read_csv(summary)
        keep = s[s["PPTESTCD"].isin(["CMAX", "AUCLST", "AUCIFO", "LAMZHL", "CLO"])]
        o.tables["key_parameters"] = keep
    text = (f"{o.record.get('profiles')} concentration-time profiles analysed ({o.record.get('rows')} parameter "
            f"rows, CDISC PP)")
    pp_path = ctx.out / f"results/{a.id}.csv"
    if summary.exists() and pp_path.exists():
        pp = pd.read_csv(pp_path, usecols=["PPCAT", "PPTESTCD", "PPSTRESU"]).drop_duplicates(["PPCAT", "PPTESTCD"])
        units = {(r.PPCAT, r.PPTESTCD): r.PPSTRESU for r in pp.itertuples()}
        facts = []
        for cat, g in s[s["PPTESTCD"].isin(["LAMZHL", "CLO"])].groupby("PPCAT", sort=False):
            bits = []
            for code, what in (("LAMZHL", "half-life"), ("CLO", "clearance")):
                v = g[g["PPTESTCD"] == code]["geometric_mean"].dropna()
                if len(v):
                    unit = units.get((cat, code), "")
                    bits.append(f"{what} {_g(v.min())}-{_g(v.max())} {unit}".rstrip())
            if bits:
                facts.append(f"{cat}: " + ", ".join(bits))
        if facts:
            text += "; geometric means across dose and sex groups: " + "; ".join(facts)
    n_notes = len(o.record.get("issues") or [])
    o.conclusion = text + (f"; {n_notes} note(s)" if n_notes else "") + "."


def _nca_stats(a, o, ctx) -> None:
    folder = ctx.out / f"results/{a.id}"
    parts = []
    pm_path, sex_path = folder / "power_model.csv", folder / "sex_comparison.csv"
    if pm_path.exists():
        pm = pd.read_csv(pm_path)
        allg = pm[pm["subset"].astype(str).str.startswith("all")]
        o.tables["power_model"] = allg[["PPCAT", "PPTESTCD", "slope", "slope_ci_low", "slope_ci_high", "crit_low",
                                        "crit_high", "conclusion"]]
        covers = int(((allg["slope_ci_low"] <= 1) & (allg["slope_ci_high"] >= 1)).sum())
        verdicts = allg["conclusion"].value_counts().to_dict()
        parts.append(f"dose proportionality (power model, all doses): the slope's 90% CI contains 1 for {covers} of "
                     f"{len(allg)} parameters (linear PK); Smith criterion: "
                     + ", ".join(f"{n} {k}" for k, n in verdicts.items()))
    if sex_path.exists():
        sx = pd.read_csv(sex_path)
        o.tables["sex"] = sx[[c for c in ("PPCAT", "PPTESTCD", "analysis", "dose", "gmr", "gmr_ci_low",
                                           "gmr_ci_high", "p", "p_f_sex", "p_interaction") if c in sx.columns]]
        adjusted = sx[sx["analysis"] != "t_test_per_dose"]
        p_adj = pd.concat([adjusted[c] for c in ("p_f_sex", "p") if c in adjusted.columns]).dropna()
        per_dose = sx[sx["analysis"] == "t_test_per_dose"]["p"].dropna() if "p" in sx.columns else pd.Series([])
        if len(p_adj):
            hits = int((p_adj < 0.05).sum())
            parts.append(("no sex effect" if hits == 0 else f"a sex effect in {hits} of {len(p_adj)} dose-adjusted "
                                                             f"tests")
                         + f" (dose-adjusted tests: smallest p {_g(p_adj.min(), 2)})")
        if len(per_dose):
            hits = int((per_dose < 0.05).sum())
            parts.append(f"per-dose t tests: {hits} of {len(per_dose)} at p < 0.05 (about "
                         f"{0.05 * len(per_dose):.1f} expected by chance)")
    o.conclusion = "; ".join(parts) + "." if parts else "no statistics written."


def _pk_fit(a, o, ctx) -> None:
    p = _parameters(o.record)
    o.tables["parameters"] = p
    if p.empty:
        o.conclusion = "no parameters."
        return
    typical = p.groupby(["term", "unit"], sort=False)["estimate"].median().reset_index()
    o.conclusion = ("median individual estimates: " + ", ".join(f"{r.term} {_g(r.estimate)} {r.unit}"
                                                               for r in typical.itertuples()) + ".")


def _pk_project(a, o, ctx) -> None:
    r = o.record
    exposure = pd.DataFrame(r.get("exposure") or [])
    o.tables["projection"] = exposure
    o.tables["parameters"] = pd.DataFrame(r.get("parameters") or [])
    units = r.get("units") or {}
    cl = next((p for p in r.get("parameters") or [] if p.get("name") == "CL"), None)
    text = (f"{r.get('model')} parameters scaled from the {r.get('species')} to a {_g(r.get('human_weight_kg'))} kg "
            f"patient" + (f" (CL {_g(cl['human_value'])} {cl['human_unit']}, exponent {_g(cl['exponent'])})"
                          if cl else ""))
    if not exposure.empty:
        lo, hi = exposure.iloc[0], exposure.iloc[-1]
        cycle = f"cycle {int(lo['cycle'])}" if "cycle" in exposure.columns and lo.get("cycle") == lo.get("cycle") \
            else "the dosing interval"
        cu, au = units.get("cmax", ""), units.get("auc", "")
        text += (f"; {cycle}: Cmax {_g(lo['cmax'])}-{_g(hi['cmax'])} {cu}, AUC {_g(lo['auc'])}-{_g(hi['auc'])} {au}, "
                 f"trough {_g(lo['ctrough'])}-{_g(hi['ctrough'])} {units.get('ctrough', cu)} from "
                 f"{_g(lo['dose'])} to {_g(hi['dose'])} mg/kg")
    o.conclusion = text + "."


def _fih(a, o, ctx) -> None:
    r = o.record
    ladder = r.get("ladder") or {}
    tox = r.get("toxicology") or {}
    if tox:
        o.tables["toxicology"] = pd.DataFrame([{"species": tox.get("species"), "NOAEL": tox.get("noael"),
                                                "LOAEL": tox.get("loael"), "HNSTD": tox.get("hnstd"),
                                                "STD10": tox.get("std10"), "unit": tox.get("dose_unit")}])
    if ladder:
        levels = pd.DataFrame(ladder.get("levels") or [])
        keep = [c for c in ("level", "dose", "increment_pct", "phase", "cmax", "auc", "cmax_margin", "auc_margin")
                if c in levels.columns]
        o.tables["ladder"] = (levels[keep].assign(unit=ladder.get("dose_unit", "mg/kg")) if keep else
                              pd.DataFrame({"level": range(1, len(ladder["doses"]) + 1), "dose": ladder["doses"],
                                            "unit": ladder.get("dose_unit", "mg/kg")}))
    o.tables["alternatives"] = pd.DataFrame(r.get("alternatives") or [])
    o.conclusion = (f"{r.get('basis')} {_g(r.get('animal_dose_mg_per_kg'))} mg/kg in the {r.get('species')}; "
                    f"HED {_g(r.get('hed_mg_per_kg'))} mg/kg ({r.get('scaling')}), safety factor "
                    f"{_g(r.get('safety_factor'))}: start dose {_g(r.get('start_dose_mg_per_kg'))} mg/kg "
                    f"({_g(r.get('start_dose_mg'))} mg for {_g(r.get('patient_weight_kg'))} kg)"
                    + (f"; ladder {', '.join(_g(d) for d in ladder['doses'])} {ladder.get('dose_unit', 'mg/kg')}"
                       if ladder else "") + ".")


def _design(a, o, ctx) -> None:
    spec = o.record["spec"]
    levels = spec.get("dose_levels") or []
    unit = spec.get("dose_unit", "")
    text = (f"{o.record['design'].upper()} design over {len(levels)} dose levels "
            f"({', '.join(_g(v) for v in levels)} {unit})"
            + (f", target DLT rate {spec['target']:g}" if spec.get("target") is not None else "")
            + (f", cohorts of {spec['cohort_size']}, at most {spec['n_cohorts']} cohorts"
               if spec.get("cohort_size") and spec.get("n_cohorts") else ""))
    fih = next((x.record for k, x in ctx.outcomes.items() if ctx.study.analysis(k).kind == "fih"), None)
    if fih and levels and unit == "mg/kg" and fih.get("start_dose_mg_per_kg"):
        start, hed = fih["start_dose_mg_per_kg"], fih.get("hed_mg_per_kg")
        first = levels[(spec.get("start_dose") or 1) - 1]
        text += (f"; it starts at {_g(first)} mg/kg, {_g(first / start, 2)} x the FIH start dose "
                 f"({_g(start)} mg/kg)")
        if hed:
            text += (f", and its top dose is {_g(levels[-1] / hed, 2)} x the HED of the {fih.get('basis')} "
                     f"({_g(hed)} mg/kg)")
        if first > start * (1 + 1e-9):
            text += " -- above the FIH start dose: justify it in the protocol"
    o.conclusion = text + "."


def _simulate(a, o, ctx) -> None:
    """Correct selection per design and scenario; a difference from the first design is called higher or lower
    only when it exceeds twice its paired Monte Carlo standard error (same simulated patients)."""
    t = o.tables["operating_characteristics"]
    parts = []
    for sc, g in t.groupby("scenario", sort=False):
        rows = g.to_dict("records")
        ref = rows[0]["design"]
        items = [f"{rows[0]['design']} {rows[0]['pcs']:.1f}%"]
        for r in rows[1:]:
            d, se = r["pcs_diff"], r["pcs_diff_se"]
            verdict = ("higher" if d > 0 else "lower") if se == se and abs(d) > 2 * se else "no clear difference"
            items.append(f"{r['design']} {r['pcs']:.1f}% ({d:+.1f} points vs {ref}, SE {se:.1f}: {verdict})")
        parts.append(f"{sc}: correct selection " + ", ".join(items))
    o.conclusion = "; ".join(parts) + f" ({o.record['trials']:,} trials per scenario, seed {o.record['seed']})."


_BY_KIND = {"kinetics": _kinetics, "dose-response": _dose_response, "internalization": _internalization,
            "xenograft": _xenograft, "nca": _nca, "nca-stats": _nca_stats, "pk-fit": _pk_fit,
            "pk-project": _pk_project, "fih": _fih, "design": _design, "simulate": _simulate}


def conclude(a, outcome, ctx) -> None:
    """Fill ``outcome.tables`` and ``outcome.conclusion`` for analysis ``a``."""
    _BY_KIND[a.kind](a, outcome, ctx)

