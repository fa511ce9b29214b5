#!/usr/bin/env python
"""Generate the data files of the bundled JSKN003-like example study.

The study mirrors, in outline, the published preclinical package of JSKN003 (a biparatopic anti-HER2 ADC: the
antibody KN026 conjugated to the topoisomerase-I inhibitor DXd, DAR about 4): SPR affinity, cell binding,
internalization against DS-8201 (trastuzumab deruxtecan), cytotoxicity, two xenograft models, cynomolgus PK
(single and repeat dose) and the repeat-dose toxicology that sets the HNSTD.  **Every number is synthetic.**  The
true values are the named constants below; each comment says where the value comes from.  "Brief" means the
project brief that specified the example (itself paraphrasing the JSKN003 abstract); "illustrative" means a
plausible value chosen here, not a published one.

Usage (from the repository root)::

    .venv/bin/python scripts/make_example_study.py            # writes src/adcbridge/examples/jskn003_study/data/
    .venv/bin/python scripts/make_example_study.py --out DIR  # somewhere else

Determinism: every file draws from its own generator ``numpy.random.default_rng([SEED, FILE_KEY])`` (so changing
one file's design does not change the others), values are rounded to a stated number of significant digits or
decimals before writing, and the CSVs are written with ``\\n`` line ends.  Running the script twice gives
byte-identical files (the script checks nothing itself; compare with ``sha256sum``).  numpy >= 1.17 (PCG64) and
scipy (``scipy.linalg.expm`` for the linear PK model) are needed; nothing else.

The README next to ``data/`` lists every file, its columns and units, and the ``adcbridge`` command that analyses
it.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.linalg import expm

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "adcbridge" / "examples" / "jskn003_study" / "data"

# ----------------------------------------------------------------------------------------------------------------
# Random numbers
# ----------------------------------------------------------------------------------------------------------------
SEED = 20240603  # fixed master seed (illustrative); each file uses default_rng([SEED, key]) with its own key
FILE_KEYS = {"kinetics": 1, "kinetics_parental": 2, "cell_binding": 3, "internalization": 4, "cytotoxicity": 5,
             "xenograft_n87": 6, "xenograft_bt474": 7, "cyno_pk_sd": 8, "cyno_pk_md": 9}

# ----------------------------------------------------------------------------------------------------------------
# 1. SPR kinetics: 1:1 Langmuir, multi-cycle, HER2 captured on the chip, double-referenced sensorgrams
# ----------------------------------------------------------------------------------------------------------------
KA_ADC = 2.7e5            # 1/(M s), brief (JSKN003 to HER2, KD ~2.2e-10 M)
KD_OFF_ADC = 5.94e-5      # 1/s, chosen so that kd/ka = 2.2e-10 M exactly (brief: KD ~2.2e-10 M)
RMAX_ADC = 60.0           # RU, illustrative (antibody-sized analyte on a low-density HER2 capture surface)
KA_PARENTAL = 3.0e5       # 1/(M s), brief (KN026, KD ~2.0e-10 M)
KD_OFF_PARENTAL = 6.0e-5  # 1/s, so that KD = 2.0e-10 M exactly
RMAX_PARENTAL = 55.0      # RU, illustrative
SPR_CONC_NM = (0.625, 1.25, 2.5, 5.0, 10.0)  # nM, 2-fold series around 3-45 x KD (illustrative)
SPR_T_ON = 60.0           # s, injection start (the --t-on of the fit); baseline 0-60 s
SPR_T_OFF = 360.0         # s, injection end (--t-off): 300 s association
SPR_T_END = 2760.0        # s, 2400 s dissociation (kd 6e-5 1/s: about 13 % dissociates, enough to estimate kd)
SPR_DT = 2.0              # s, sampling interval (0.5 Hz keeps the file small)
SPR_NOISE_RU = 0.25       # RU, white noise SD (typical Biacore 8K/T200 short-term noise, illustrative)

# ----------------------------------------------------------------------------------------------------------------
# 2. Cell binding (flow cytometry MFI), 4PL rising with concentration; concentrations in nM
# ----------------------------------------------------------------------------------------------------------------
BINDING_CONC_NM = tuple(100.0 / 3.0 ** i for i in range(10))  # 100 nM, 3-fold, 10 points (to 0.0051 nM)
BINDING_REPLICATES = 3
# cell line: (EC50 nM, bottom MFI, top MFI, Hill slope as drc b; b < 0 = rising curve).  EC50s: brief (0.1-1 nM);
# tops: NCI-N87 is HER2 3+ (about 1e6 receptors/cell), BxPC-3 HER2 low (illustrative ratio 4).
BINDING_TRUE = {"NCI-N87": (0.25, 150.0, 24000.0, -1.1),
                "BxPC-3": (0.60, 120.0, 6000.0, -1.0)}
BINDING_CV = 0.03         # proportional noise (3 % CV) on top of ...
BINDING_SD = 60.0         # ... an additive MFI noise SD (illustrative flow-cytometry well-to-well noise)

# ----------------------------------------------------------------------------------------------------------------
# 3. Internalization on NCI-N87 (% internalized, quench assay), one-phase association with Y0 = 0
# ----------------------------------------------------------------------------------------------------------------
INTERN_TIMES_H = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0)
INTERN_REPLICATES = 3
INTERN_TRUE = {"JSKN003": (0.35, 70.0),  # (k 1/h, plateau %): brief (faster and more extensive than DS-8201)
               "DS-8201": (0.15, 50.0)}  # brief
INTERN_SD = 1.0           # percentage points: noise SD = INTERN_SD + INTERN_CV * mean (illustrative)
INTERN_CV = 0.05

# ----------------------------------------------------------------------------------------------------------------
# 4. Cytotoxicity (viability %, 6-day CellTiter-Glo style), 4PL falling with concentration; nM
# ----------------------------------------------------------------------------------------------------------------
CYTO_CONC_NM = tuple(300.0 / 3.0 ** i for i in range(10))  # 300 nM, 3-fold, 10 points (to 0.015 nM)
CYTO_REPLICATES = 3
# cell line: (IC50 nM, bottom %, top %, drc b; b > 0 = falling).  Brief: IC50s in the low nM on HER2-high lines.
CYTO_TRUE = {"NCI-N87": (1.2, 8.0, 100.0, 1.0),
             "BT474": (3.5, 15.0, 100.0, 0.9)}
CYTO_SD = 4.0             # percentage points, additive noise SD (illustrative)

# ----------------------------------------------------------------------------------------------------------------
# 5. Xenografts: single IV dose on day 0; per-mouse log-linear growth minus a decaying drug effect
#    d ln V / dt = g - K exp(-lam t),  K = EMAX * dose / (ED50 + dose)   (illustrative model)
# ----------------------------------------------------------------------------------------------------------------
XENO_DAYS = (0, 3, 7, 10, 14, 17, 21)   # twice-weekly calipers, brief (days 0-21)
XENO_DOSES = (1.0, 3.0, 10.0)           # mg/kg, brief
XENO_N_PER_GROUP = 8                     # brief (6-8 mice per group)
XENO_V0_MEAN = 150.0                     # mm3, staging volume at randomisation (illustrative)
XENO_V0_CV = 0.15
XENO_G_CV = 0.15                         # between-mouse CV of the growth rate
XENO_K_CV = 0.25                         # between-mouse CV of the drug effect
XENO_MEAS_CV = 0.07                      # caliper measurement error (lognormal SD)
XENO_LAMBDA = 0.10                       # 1/day, decay of the drug effect (ADC t1/2 in mice ~7 days, illustrative)
XENO_MODELS = {
    # g: vehicle growth rate 1/day (N87 doubles in ~7 days, BT474 in ~9 days); EMAX 1/day; ED50 mg/kg
    "n87": {"g": 0.10, "emax": 0.70, "ed50": 10.0, "prefix": "N87"},
    "bt474": {"g": 0.075, "emax": 0.50, "ed50": 8.0, "prefix": "BT"},
}

# ----------------------------------------------------------------------------------------------------------------
# 6-7. Cynomolgus PK: linear 2-compartment ADC with deconjugation; TAb = ADC + deconjugated antibody; DXd formed
#      by deconjugation, one compartment.  Layout of tests/reference/data/nca/data/cyno_adc_sd.csv.
# ----------------------------------------------------------------------------------------------------------------
PK_TYPICAL = {
    "CLcat": 12.0,   # mL/day/kg, catabolic clearance of the antibody = TAb clearance (brief: "somewhat lower")
    "CLdec": 8.0,    # mL/day/kg, deconjugation; ADC CL = CLcat + CLdec = 20 mL/day/kg (brief; same typical values
                     # as src/adcbridge/examples/jskn003_fih.yaml)
    "V1": 40.0,      # mL/kg, about the plasma volume (jskn003_fih.yaml)
    "Q": 30.0,       # mL/day/kg (jskn003_fih.yaml)
    "V2": 40.0,      # mL/kg (jskn003_fih.yaml)
    "CLpl": 250.0,   # mL/h/kg, DXd clearance (order of the reference study's CLpl, illustrative)
    "Vpl": 1800.0,   # mL/kg, DXd volume (order of the reference study's Vpl, illustrative)
}
PK_BSV_CV = {"CLcat": 0.20, "CLdec": 0.20, "V1": 0.10, "Q": 0.20, "V2": 0.20, "CLpl": 0.20, "Vpl": 0.20}
# between-animal CV (lognormal SD = sqrt(log(1 + CV^2))): brief ~20 %; V1 10 % (the plasma volume per kg varies
# less between monkeys; with 15 % the ADC Cmax power-model interval of this seed crossed the Smith limit)
PK_RESIDUAL_CV = 0.10     # proportional residual error, lognormal, brief
DAR = 4.0                 # drug-antibody ratio, brief (JSKN003 DAR ~4)
MW_ADC = 150_000.0        # g/mol, IgG1-sized bispecific plus 4 DXd (illustrative)
MW_DXD = 493.5            # g/mol, DXd (exatecan derivative)
LLOQ = {"ADC": 0.05, "TAb": 0.05, "PAYLOAD": 0.01}   # ug/mL, ug/mL, ng/mL (as the reference study)
CONC_UNIT = {"ADC": "ug/mL", "TAb": "ug/mL", "PAYLOAD": "ng/mL"}
ANALYTES = ("ADC", "TAb", "PAYLOAD")
TINF_H = 0.5              # h, IV infusion, brief
# single dose: brief (0.3-30 mg/kg, 3 M + 3 F per dose, sampling over 21 days)
SD_DOSES = (0.3, 1.0, 3.0, 10.0, 30.0)
SD_TIMES_H = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0, 48.0, 72.0, 120.0, 168.0, 240.0, 336.0, 504.0)
# multiple dose: brief (10 mg/kg Q3W x 3), 3 M + 3 F; samples after each dose, washout after the third
MD_DOSE = 10.0
MD_N_DOSES = 3
MD_TAU_H = 504.0
MD_TAD_H = (0.0, 0.5, 2.0, 8.0, 24.0, 72.0, 168.0, 336.0)           # after doses 1 and 2 (504 = next pre-dose)
MD_TAD_LAST_H = MD_TAD_H + (504.0, 672.0, 840.0, 1008.0)             # after dose 3 (washout)
N_PER_SEX = 3

# ----------------------------------------------------------------------------------------------------------------
# 8. Toxicology: cynomolgus Q3W x 3, 3/sex/group; findings as src/adcbridge/examples/jskn003_fih.yaml, so that
#    the HNSTD is 30 mg/kg (brief; JSKN003's published HNSTD)
# ----------------------------------------------------------------------------------------------------------------
TOX_SCHEDULE = "Q3W x 3"
TOX_ROWS = [
    # dose, n_animals, finding, severity, reversible, deaths, n_affected
    (10.0, 6, "", "none", "", 0, ""),
    (30.0, 6, "lymphoid depletion", "moderate", "true", 0, 3),
    (30.0, 6, "intestinal toxicity", "mild", "true", 0, 2),
    (78.8, 6, "interstitial pneumonitis", "severe", "false", 0, 4),
    (78.8, 6, "moribund sacrifice", "life-threatening", "", 1, ""),
]
HNSTD_MGKG = 30.0         # the HNSTD the table implies (checked by adcbridge fih)


# ================================================================================================================
# helpers
# ================================================================================================================
def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, FILE_KEYS[name]])


def signif(x, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits (0 stays 0)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    nz = x != 0
    mag = np.floor(np.log10(np.abs(x[nz])))
    scale = 10.0 ** (digits - 1 - mag)
    out[nz] = np.round(x[nz] * scale) / scale
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with \\n line ends; floats (already rounded) in at most 6 significant digits, so 100.0 is written 100."""
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")


def lognormal_sd(cv: float) -> float:
    return math.sqrt(math.log(1.0 + cv * cv))


def ll4(x, b, c, d, e):
    """drc's LL.4: c + (d - c) / (1 + exp(b (ln x - ln e)))."""
    return c + (d - c) / (1.0 + np.exp(b * (np.log(x) - np.log(e))))


# ================================================================================================================
# 1. kinetics
# ================================================================================================================
def langmuir_cycle(t, conc_m, ka, kd, rmax):
    """Exact 1:1 response for one MCK cycle: 0 before t_on, association to t_off, then dissociation."""
    kobs = ka * conc_m + kd
    req = ka * conc_m * rmax / kobs
    r = np.zeros_like(t)
    on = (t >= SPR_T_ON) & (t <= SPR_T_OFF)
    r[on] = req * (1.0 - np.exp(-kobs * (t[on] - SPR_T_ON)))
    r_off = req * (1.0 - np.exp(-kobs * (SPR_T_OFF - SPR_T_ON)))
    off = t > SPR_T_OFF
    r[off] = r_off * np.exp(-kd * (t[off] - SPR_T_OFF))
    return r


def make_kinetics(name: str, ka: float, kd: float, rmax: float) -> pd.DataFrame:
    rng = rng_for(name)
    t = np.arange(0.0, SPR_T_END + SPR_DT / 2, SPR_DT)
    frames = []
    for cycle, c_nm in enumerate(SPR_CONC_NM, start=1):
        resp = langmuir_cycle(t, c_nm * 1e-9, ka, kd, rmax) + rng.normal(0.0, SPR_NOISE_RU, t.size)
        frames.append(pd.DataFrame({"cycle": cycle, "conc": c_nm, "conc_unit": "nM", "time": t,
                                    "response": np.round(resp, 3)}))
    return pd.concat(frames, ignore_index=True)


# ================================================================================================================
# 2 and 4. dose-response tables
# ================================================================================================================
def make_dose_response(name: str, conc, truth: dict, reps: int, noise) -> pd.DataFrame:
    rng = rng_for(name)
    rows = []
    for line, (e, c, d, b) in truth.items():
        for x in conc:
            mu = float(ll4(x, b, c, d, e))
            for rep in range(1, reps + 1):
                rows.append((line, float(signif(x, 4)), rep, noise(rng, mu)))
    return pd.DataFrame(rows, columns=["cell_line", "conc", "rep", "response"])


def binding_noise(rng, mu):
    return round(max(mu * (1.0 + BINDING_CV * rng.normal()) + BINDING_SD * rng.normal(), 1.0), 0)


def cyto_noise(rng, mu):
    return round(mu + CYTO_SD * rng.normal(), 1)


# ================================================================================================================
# 3. internalization
# ================================================================================================================
def make_internalization() -> pd.DataFrame:
    rng = rng_for("internalization")
    rows = []
    for adc, (k, plateau) in INTERN_TRUE.items():
        for t in INTERN_TIMES_H:
            mu = plateau * (1.0 - math.exp(-k * t))
            for rep in range(1, INTERN_REPLICATES + 1):
                rows.append((adc, "NCI-N87", t, rep, round(mu + (INTERN_SD + INTERN_CV * mu) * rng.normal(), 2)))
    return pd.DataFrame(rows, columns=["adc", "cell_line", "time_h", "rep", "pct_internalized"])


# ================================================================================================================
# 5. xenografts
# ================================================================================================================
def make_xenograft(model: str) -> pd.DataFrame:
    p = XENO_MODELS[model]
    rng = rng_for(f"xenograft_{model}")
    days = np.asarray(XENO_DAYS, dtype=float)
    groups = [("Vehicle", 0.0)] + [(f"JSKN003 {d:g} mg/kg", d) for d in XENO_DOSES]
    rows = []
    animal_no = 0
    for group, dose in groups:
        k_typ = p["emax"] * dose / (p["ed50"] + dose)
        for _ in range(XENO_N_PER_GROUP):
            animal_no += 1
            v0 = XENO_V0_MEAN * math.exp(lognormal_sd(XENO_V0_CV) * rng.normal())
            g = p["g"] * math.exp(lognormal_sd(XENO_G_CV) * rng.normal())
            k = k_typ * math.exp(lognormal_sd(XENO_K_CV) * rng.normal())
            log_v = math.log(v0) + g * days - k * (1.0 - np.exp(-XENO_LAMBDA * days)) / XENO_LAMBDA
            obs = np.exp(log_v + lognormal_sd(XENO_MEAS_CV) * rng.normal(size=days.size))
            for d, v in zip(days, obs):
                rows.append((group, dose, f"{p['prefix']}-{animal_no:03d}", int(d), round(float(v), 1)))
    return pd.DataFrame(rows, columns=["group", "dose_mgkg", "animal", "day", "volume"])


# ================================================================================================================
# 6-7. cynomolgus PK
# ================================================================================================================
def pk_matrix(p: dict) -> np.ndarray:
    """Rate matrix (1/h) of the amounts [ADC central, ADC peripheral, deconjugated Ab central, deconjugated Ab
    peripheral, DXd] (ug/kg).  Deconjugation turns ADC into antibody and releases DAR x MW_DXD/MW_ADC ug of DXd
    per ug of ADC."""
    clcat, cldec, q = p["CLcat"] / 24.0, p["CLdec"] / 24.0, p["Q"] / 24.0   # mL/h/kg
    v1, v2, clpl, vpl = p["V1"], p["V2"], p["CLpl"], p["Vpl"]
    f_dxd = DAR * MW_DXD / MW_ADC
    a = np.zeros((5, 5))
    a[0, 0] = -(clcat + cldec + q) / v1
    a[0, 1] = q / v2
    a[1, 0] = q / v1
    a[1, 1] = -q / v2
    a[2, 0] = cldec / v1
    a[2, 2] = -(clcat + q) / v1
    a[2, 3] = q / v2
    a[3, 2] = q / v1
    a[3, 3] = -q / v2
    a[4, 0] = f_dxd * cldec / v1
    a[4, 4] = -clpl / vpl
    return a


def single_dose_conc(p: dict, dose_mgkg: float, tad: np.ndarray) -> dict:
    """ADC, TAb (ug/mL) and DXd (ng/mL) at the times after one infusion of ``dose_mgkg`` over TINF_H."""
    a = pk_matrix(p)
    rate = dose_mgkg * 1000.0 / TINF_H                       # ug/kg/h into the ADC central compartment
    aug = np.zeros((6, 6))
    aug[:5, :5] = a
    aug[0, 5] = 1.0
    z0 = np.zeros(6)
    z0[5] = rate
    x_eoi = (expm(aug * TINF_H) @ z0)[:5]
    amounts = np.zeros((tad.size, 5))
    for i, t in enumerate(tad):
        if t <= 0:
            continue
        if t <= TINF_H:
            amounts[i] = (expm(aug * t) @ z0)[:5]
        else:
            amounts[i] = expm(a * (t - TINF_H)) @ x_eoi
    v1 = p["V1"]
    return {"ADC": amounts[:, 0] / v1, "TAb": (amounts[:, 0] + amounts[:, 2]) / v1,
            "PAYLOAD": amounts[:, 4] / p["Vpl"] * 1000.0}


def draw_animal(rng: np.random.Generator) -> dict:
    return {k: v * math.exp(lognormal_sd(PK_BSV_CV[k]) * rng.normal()) for k, v in PK_TYPICAL.items()}


def observe(rng, pred: np.ndarray, analyte: str):
    """Proportional (lognormal) residual error, 4 significant digits; below the LLOQ: CONC 0 and BLQ 1."""
    obs = pred * np.exp(lognormal_sd(PK_RESIDUAL_CV) * rng.normal(size=pred.size))
    obs = signif(obs, 4)
    blq = (pred <= 0) | (obs < LLOQ[analyte])
    return np.where(blq, 0.0, obs), blq.astype(int)


def make_cyno_sd() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = rng_for("cyno_pk_sd")
    times = np.asarray(SD_TIMES_H)
    rows, truth = [], []
    n = 0
    for dose in SD_DOSES:
        for sex in ("M", "F"):
            for _ in range(N_PER_SEX):
                n += 1
                sid = f"SD{n:03d}"
                p = draw_animal(rng)
                truth.append({"ID": sid, "SEX": sex, "DOSE": dose, **p})
                pred = single_dose_conc(p, dose, times)
                for analyte in ANALYTES:
                    conc, blq = observe(rng, pred[analyte], analyte)
                    for t, c, b, cp in zip(times, conc, blq, pred[analyte]):
                        rows.append(("JSKN003-CYNO-SD", sid, sex, dose, "mg/kg", "IV infusion", TINF_H, 1, 0.0, t,
                                     t, t, analyte, c, CONC_UNIT[analyte], b, LLOQ[analyte], float(signif(cp, 6))))
    cols = ["STUDY", "ID", "SEX", "DOSE", "DOSEU", "ROUTE", "TINF", "DOSENO", "TDOSE", "NOMTIME", "TIME", "TAD",
            "ANALYTE", "CONC", "CONCU", "BLQ", "LLOQ", "CPRED"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(truth)


def make_cyno_md() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = rng_for("cyno_pk_md")
    rows, dosing, truth = [], [], []
    n = 0
    for sex in ("M", "F"):
        for _ in range(N_PER_SEX):
            n += 1
            sid = f"MD{n:03d}"
            p = draw_animal(rng)
            truth.append({"ID": sid, "SEX": sex, "DOSE": MD_DOSE, **p})
            tdoses = [k * MD_TAU_H for k in range(MD_N_DOSES)]
            for k, td in enumerate(tdoses, start=1):
                dosing.append((sid, td, sex, MD_DOSE, k, TINF_H, MD_TAU_H))
            # sampling schedule: (dose number, time of that dose, time after it); the sample at t_k + tau is the
            # next dose's pre-dose sample and is written once, under the next dose
            sched = []
            for k, td in enumerate(tdoses, start=1):
                tads = MD_TAD_LAST_H if k == MD_N_DOSES else MD_TAD_H
                sched += [(k, td, tad) for tad in tads]
            times = np.array([td + tad for _, td, tad in sched])
            pred = {a: np.zeros(times.size) for a in ANALYTES}
            for td in tdoses:                        # linear PK: superposition of the doses
                after = times > td
                one = single_dose_conc(p, MD_DOSE, times[after] - td)
                for a in ANALYTES:
                    pred[a][after] += one[a]
            for analyte in ANALYTES:
                conc, blq = observe(rng, pred[analyte], analyte)
                for (k, td, tad), t, c, b, cp in zip(sched, times, conc, blq, pred[analyte]):
                    rows.append(("JSKN003-CYNO-MD", sid, sex, MD_DOSE, "mg/kg", "IV infusion", TINF_H, k, td, t, t,
                                 tad, analyte, c, CONC_UNIT[analyte], b, LLOQ[analyte], float(signif(cp, 6))))
    cols = ["STUDY", "ID", "SEX", "DOSE", "DOSEU", "ROUTE", "TINF", "DOSENO", "TDOSE", "NOMTIME", "TIME", "TAD",
            "ANALYTE", "CONC", "CONCU", "BLQ", "LLOQ", "CPRED"]
    dcols = ["ID", "TDOSE", "SEX", "DOSE", "DOSENO", "TINF", "TAU"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(dosing, columns=dcols), pd.DataFrame(truth)


def true_params(truth: pd.DataFrame) -> pd.DataFrame:
    """The animals' true parameters (6 significant digits), named with their units as in
    tests/reference/data/pk/cyno_adc_sd_true_params.csv."""
    t = truth.copy()
    t.insert(3, "CL_ADC_mL_day_kg", t["CLcat"] + t["CLdec"])
    t = t.rename(columns={"CLcat": "CLcat_mL_day_kg", "CLdec": "CLdec_mL_day_kg", "V1": "V1_mL_kg",
                          "Q": "Q_mL_day_kg", "V2": "V2_mL_kg", "CLpl": "CLpl_mL_h_kg", "Vpl": "Vpl_mL_kg"})
    for c in t.columns[3:]:
        t[c] = signif(t[c].to_numpy(float), 6)
    return t


def exposure_at(sd: pd.DataFrame, dose: float, analyte: str = "ADC") -> tuple[float, float]:
    """Mean Cmax (ug/mL) and mean AUClast (ug*day/mL, linear-up/log-down, as adcbridge nca's default) of the
    animals at ``dose``: the animal exposure at the HNSTD for the FIH plan."""
    cmax, auc = [], []
    sub = sd[(sd["DOSE"] == dose) & (sd["ANALYTE"] == analyte)]
    for _, g in sub.groupby("ID", sort=True):
        t, c = g["TIME"].to_numpy(float), g["CONC"].to_numpy(float)
        last = np.nonzero(c > 0)[0].max()
        t, c = t[: last + 1], c[: last + 1]
        area = 0.0
        for i in range(1, t.size):
            dt = t[i] - t[i - 1]
            if c[i] < c[i - 1] and c[i] > 0:
                area += dt * (c[i - 1] - c[i]) / math.log(c[i - 1] / c[i])
            else:
                area += dt * (c[i - 1] + c[i]) / 2.0
        cmax.append(c.max())
        auc.append(area / 24.0)
    return float(np.mean(cmax)), float(np.mean(auc))


# ================================================================================================================
# 8. toxicology and the FIH plan
# ================================================================================================================
def make_toxicology() -> pd.DataFrame:
    rows = [("cynomolgus", TOX_SCHEDULE, d, n, f, s, r, dd, na) for d, n, f, s, r, dd, na in TOX_ROWS]
    return pd.DataFrame(rows, columns=["species", "schedule", "dose", "n_animals", "finding", "severity",
                                       "reversible", "deaths", "n_affected"])


def fih_plan_yaml(cmax: float, auc_day: float) -> str:
    def row(d, n, f, s, r, dd, na):
        parts = [f"dose: {d:g}", f"schedule: {TOX_SCHEDULE}", f"n_animals: {n}"]
        if f:
            parts.append(f"finding: {f}")
        parts.append(f"severity: {s}")
        if r:
            parts.append(f"reversible: {r}")
        if dd:
            parts.append(f"deaths: {dd}")
        if na != "":
            parts.append(f"n_affected: {na}")
        return "  - {" + ", ".join(parts) + "}"

    tp = PK_TYPICAL
    cl = tp["CLcat"] + tp["CLdec"]
    lines = [
        "# First-in-human plan of the bundled JSKN003-like example study (generated by",
        "# scripts/make_example_study.py; edit the script, not this file).  Toxicology: the rows of",
        "# toxicology.csv (cynomolgus, Q3W x 3, 3/sex/group).  Animal exposure at the HNSTD",
        f"# ({HNSTD_MGKG:g} mg/kg): mean ADC Cmax and AUClast (0-504 h, lin-up/log-down) of",
        f"# the {HNSTD_MGKG:g} mg/kg group of cyno_pk_sd.csv (6 animals).  Human exposure: the study's typical",
        "# 2-compartment ADC parameters (true values of the generator) scaled to a 70 kg patient (ADC exponent 1.0),",
        "# cycle 1 of Q3W: like with like, animal AUC(0-21 d) after one dose against the human AUC(0-21 d) of cycle 1.",
        "name: JSKN003-like FIH (example study)",
        "species: cynomolgus",
        "scaling: bsa",
        "safety_factor: 6",
        "tox:",
        *[row(*r) for r in TOX_ROWS],
        "ladder: {scheme: doubling, n_levels: 7, switch_at_level: 3}",
        "exposure:",
        f"  animal_cmax: {float(signif(cmax, 5)):g}          # ug/mL",
        f"  animal_auc: {float(signif(auc_day, 5)):g}          # ug*day/mL, AUC(0-21 d) of the ADC after one dose",
        "  human_model:",
        "    species: cynomolgus",
        "    model: 2cmt",
        (f"    parameters: {{CL: [{cl:g}, mL/day/kg], V1: [{tp['V1']:g}, mL/kg], Q: [{tp['Q']:g}, mL/day/kg], "
         f"V2: [{tp['V2']:g}, mL/kg]}}"),
        "    modality: adc",
        "    tau_day: 21",
        "    n_doses: 1",
        "boin: {target: 0.3, cohort_size: 3, cohorts: 10}",
    ]
    return "\n".join(lines) + "\n"


# ================================================================================================================
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=None,
                    help="another master seed (a second data set from the same truths, e.g. for benchmarks); the "
                         "bundled files use the default")
    args = ap.parse_args(argv)
    if args.seed is not None:
        global SEED
        SEED = args.seed
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    write_csv(make_kinetics("kinetics", KA_ADC, KD_OFF_ADC, RMAX_ADC), out / "kinetics.csv")
    write_csv(make_kinetics("kinetics_parental", KA_PARENTAL, KD_OFF_PARENTAL, RMAX_PARENTAL),
              out / "kinetics_parental.csv")
    write_csv(make_dose_response("cell_binding", BINDING_CONC_NM, BINDING_TRUE, BINDING_REPLICATES, binding_noise),
              out / "cell_binding.csv")
    write_csv(make_internalization(), out / "internalization.csv")
    write_csv(make_dose_response("cytotoxicity", CYTO_CONC_NM, CYTO_TRUE, CYTO_REPLICATES, cyto_noise),
              out / "cytotoxicity.csv")
    write_csv(make_xenograft("n87"), out / "xenograft_n87.csv")
    write_csv(make_xenograft("bt474"), out / "xenograft_bt474.csv")
    sd, sd_truth = make_cyno_sd()
    write_csv(sd, out / "cyno_pk_sd.csv")
    write_csv(true_params(sd_truth), out / "cyno_pk_sd_true_params.csv")
    md, dosing, md_truth = make_cyno_md()
    write_csv(md, out / "cyno_pk_md.csv")
    write_csv(dosing, out / "cyno_dosing_md.csv")
    write_csv(true_params(md_truth), out / "cyno_pk_md_true_params.csv")
    write_csv(make_toxicology(), out / "toxicology.csv")
    cmax, auc = exposure_at(sd, HNSTD_MGKG)
    (out / "fih_plan.yaml").write_text(fih_plan_yaml(cmax, auc), encoding="utf-8", newline="\n")
    for f in sorted(out.iterdir()):
        print(f"{f.stat().st_size:>9,d}  {f}")


if __name__ == "__main__":
    main()
