"""Outputs are checked before the work: every command that computes and then writes an output folder or file refuses
at once -- exit 2, one line naming the user's path -- a place that cannot take it (a missing folder, ``/proc``, a
read-only folder), instead of computing for minutes and failing at the end.  The computation of each command is
replaced by one that fails the test if it runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clirun import run
from tests.refdata import REFERENCE

FIT = REFERENCE / "fit"
CYNO = REFERENCE / "nca" / "data" / "cyno_adc_sd.csv"
NCA = ["nca", CYNO, "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--route", "ROUTE",
       "--duration", "TINF", "--group", "SEX,DOSE", "--analyte", "ANALYTE", "--blq", "BLQ", "--metabolite", "PAYLOAD",
       "--conc-unit", "CONCU"]
SWEEP = """designs:
- {name: boin, target: 0.25, n_doses: 4, n_cohorts: 4}
scenarios:
- {name: A, p_true: [0.05, 0.12, 0.25, 0.45], target: 0.25}
trials: 200
seed: 1
"""
PP = "PPTESTCD,PPSTRESN,DOSE,SEX\n" + "".join(f"CMAX,{d * k},{d},{s}\n" for d in (1, 3, 10) for k, s in
                                               ((1.0, "F"), (1.1, "M"), (0.9, "F"), (1.2, "M")))
PK_PARAMS = ["--param", "CL=20:mL/day/kg", "--param", "V1=40:mL/kg", "--param", "Q=30:mL/day/kg", "--param",
             "V2=40:mL/kg"]

# command line with {out} where the output goes; the function that does the work (it must not run)
COMMANDS = {
    "sweep": (["sweep", "{sweep}", "--out", "{out}", "--workers", "0", "--quiet"], "adcbridge.sweep.run_sweep"),
    "validate": (["validate", "--out", "{out}"], "adcbridge.qualification.checks.run_checks"),
    "run": (["run", Path(__import__("adcbridge").__file__).parent / "examples" / "jskn003_study" / "study.yaml",
             "--out", "{out}", "--quiet"], "adcbridge.study.run_study"),
    "demo": (["demo", "--out", "{out}", "--quiet"], "adcbridge.study.run_study"),
    "simulate --plot": (["simulate", "--design", "boin", "--target", "0.3", "--p-true", "0.1,0.2,0.3,0.4", "--trials",
                         "20", "--seed", "1", "--plot", "{out}.png"], "adcbridge.dosefinding.simulate"),
    "trial --out": (["trial", "--trials", "20", "--out", "{out}"], "adcbridge.dosefinding.compare_designs"),
    "nca --out": ([*NCA, "--out", "{out}.csv"], "adcbridge.nca.run.nca_setup"),
    "nca --wide": ([*NCA, "--out", "{tmp}/pp.csv", "--wide", "{out}.csv"], "adcbridge.nca.run.nca_setup"),
    "nca --plots": ([*NCA, "--out", "{tmp}/pp.csv", "--plots", "{out}"], "adcbridge.nca.run.nca_setup"),
    "nca-stats --out": (["nca-stats", "{pp}", "--out", "{out}"], "adcbridge.nca.power_model"),
    "pk fit --gof": (["pk", "fit", REFERENCE / "pk" / "r_oracle_input.csv", "--tinf", "TINF", "--gof", "{out}.png"],
                     "adcbridge.pk.fit_pk"),
    "pk project --plot": (["pk", "project", *PK_PARAMS, "--plot", "{out}.png"],
                          "adcbridge.translation.projection.project_human_pk"),
    "fit dose-response --plot": (["fit", "dose-response", FIT / "data" / "drc_ryegrass.csv", "--x", "conc", "--y",
                                  "rootl", "--plot", "{out}.png"], "adcbridge.assays.dose_response.fit_dose_response"),
    "fit dose-response-batch --out": (["fit", "dose-response-batch", FIT / "data" / "drc_S.alba.csv", "--x", "Dose",
                                       "--y", "DryMatter", "--curve", "Herbicide", "--out", "{out}.csv"],
                                      "adcbridge.assays.dose_response.fit_dose_response_batch"),
    "fit kinetics --plot": (["fit", "kinetics", FIT / "kinetics" / "spr_mck_clean.csv", "--t-on", "60", "--t-off",
                             "360", "--conc-unit", "M", "--conc", "conc_M", "--time", "time_s", "--response",
                             "response_RU", "--plot", "{out}.png"], "adcbridge.assays.kinetics.fit_kinetics"),
    "fit internalization --plot": (["fit", "internalization", FIT / "internalization" / "internalization_pct.csv",
                                    "--plot", "{out}.png"], "adcbridge.assays.internalization.fit_internalization"),
    "fit xenograft --km-plot": (["fit", "xenograft", FIT / "xenograft" / "xenograft_synthetic.csv", "--animal",
                                 "mouse", "--volume", "volume_mm3", "--control", "Vehicle", "--tgi", "delta_v",
                                 "--day", "21", "--km-plot", "{out}.png"],
                                "adcbridge.assays.xenograft.analyze_xenograft"),
}
HAS_PROC = os.path.isdir("/proc/self")


def _no_work(*args, **kwargs):
    raise AssertionError("the computation ran before the output was checked")


def _refused(capsys, monkeypatch, tmp_path, name: str, out: str) -> tuple[str, str]:
    """Run command ``name`` with its output at ``out`` and its work made to fail the test; the one-line error (after
    ``adcbridge: error: ``) and the output path as given."""
    args, work = COMMANDS[name]
    monkeypatch.setattr(work, _no_work)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    (tmp_path / "pp.csv").write_text(PP)
    values = {"{sweep}": str(tmp_path / "sweep.yaml"), "{pp}": str(tmp_path / "pp.csv"), "{tmp}": str(tmp_path),
              "{out}": out}
    argv = []
    for a in map(str, args):
        for key, value in values.items():
            a = a.replace(key, value)
        argv.append(a)
    target = next(a for a in argv if a.startswith(out))
    code, stdout, err = run(capsys, *argv)
    assert code == 2 and err.startswith("adcbridge: error: ") and err.count("\n") == 1, (code, stdout, err)
    assert "Traceback" not in err and "Scenario" not in stdout, err
    return err.removeprefix("adcbridge: error: ").rstrip("\n"), target


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc (Linux)")
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_place_that_takes_no_files_is_refused_before_the_work_and_says_so(capsys, monkeypatch, tmp_path, name):
    """/proc answers "No such file or directory" for a folder that is there: the message says what is wrong."""
    err, target = _refused(capsys, monkeypatch, tmp_path, name, "/proc/adcbridge-probe-out")
    assert err == f"{target}: cannot write in /proc (it takes no new files)"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_missing_folder_is_refused_before_the_work(capsys, monkeypatch, tmp_path, name):
    err, target = _refused(capsys, monkeypatch, tmp_path, name, str(tmp_path / "missing" / "out"))
    assert err.startswith(f"{target}: the folder ") and err.endswith(" does not exist; create it first or choose "
                                                                     "another path")
    assert "missing" in err.removeprefix(f"{target}: ") and not (tmp_path / "missing").exists()


@pytest.mark.parametrize("name", ["sweep", "validate", "simulate --plot", "trial --out", "nca --out",
                                  "fit dose-response-batch --out"])
def test_a_read_only_folder_is_refused_before_the_work(capsys, monkeypatch, tmp_path, name):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.geteuid() == 0 or os.access(folder, os.W_OK):     # root writes anywhere: nothing to test
            pytest.skip("the folder stays writable (root)")
        err, target = _refused(capsys, monkeypatch, tmp_path, name, str(folder / "out"))
        shown = folder.resolve() if name in ("sweep", "validate") else folder
        assert err == f"{target}: cannot write in {shown} (permission denied)"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_trial_writes_a_new_folder_and_replaces_an_empty_one_with_force(capsys, tmp_path):
    code, stdout, err = run(capsys, "trial", "--trials", "20", "--out", tmp_path / "new")
    assert code == 0 and (tmp_path / "new" / "oc_summary.csv").exists(), err
    (tmp_path / "empty").mkdir()
    code, stdout, err = run(capsys, "trial", "--trials", "20", "--out", tmp_path / "empty", "--force")
    assert code == 0 and (tmp_path / "empty" / "oc_summary.csv").exists(), err


def test_nca_tables_in_the_plots_folder_it_makes_are_still_accepted(capsys, tmp_path):
    import pandas as pd
    data = pd.read_csv(CYNO)
    small = tmp_path / "small.csv"
    data[data["ID"].isin(sorted(set(data["ID"]))[:2])].to_csv(small, index=False)
    plots = tmp_path / "plots"
    code, _, err = run(capsys, *[small if a == CYNO else a for a in NCA], "--plots", plots, "--out",
                       plots / "pp.csv")
    assert code == 0 and (plots / "pp.csv").exists() and any(plots.glob("*.png")), err


def test_a_bad_table_suffix_of_the_batch_fit_is_refused_before_the_fits(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("adcbridge.assays.dose_response.fit_dose_response_batch", _no_work)
    code, _, err = run(capsys, "fit", "dose-response-batch", FIT / "data" / "drc_S.alba.csv", "--x", "Dose", "--y",
                       "DryMatter", "--curve", "Herbicide", "--out", tmp_path / "fits.xlsx")
    assert code == 2 and err == f"adcbridge: error: cannot write a table to {tmp_path / 'fits.xlsx'}: use .csv or " \
                                ".parquet or .json\n"


# the library's probes ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(not HAS_PROC, reason="needs /proc (Linux)")
def test_the_probes_word_proc_as_a_place_that_takes_no_files():
    from adcbridge.io.files import check_new_folder, probe_output_file, probe_output_folder, staged_outputs
    for probe, path in ((probe_output_file, "/proc/adcbridge-x.png"), (probe_output_folder, "/proc/adcbridge-x")):
        with pytest.raises(OSError) as exc:
            probe(path)
        assert exc.value.filename == path and exc.value.strerror == "cannot write in /proc (it takes no new files)"
    with pytest.raises(ValueError, match=r"^/proc/adcbridge-x: cannot write in /proc \(it takes no new files\)$"):
        check_new_folder("/proc/adcbridge-x", False)
    with pytest.raises(OSError) as exc:                  # and at the end too, should the place change meanwhile
        with staged_outputs() as stage:
            stage.folder("/proc/adcbridge-x")
    assert exc.value.filename == "/proc/adcbridge-x" and "it takes no new files" in exc.value.strerror


def test_the_probes_word_a_refusal_of_the_file_system(monkeypatch, tmp_path):
    """Root is never refused by the permissions, so the refusal is made up: its words, with the user's path."""
    import types

    from adcbridge.io import files

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(files, "tempfile", types.SimpleNamespace(mkstemp=refuse, mkdtemp=refuse))
    with pytest.raises(PermissionError) as exc:
        files.probe_output_file(tmp_path / "x.png")
    assert exc.value.filename == str(tmp_path / "x.png")
    assert exc.value.strerror == f"cannot write in {tmp_path} (permission denied)"
    with pytest.raises(ValueError, match="cannot write in .* \\(permission denied\\)$"):
        files.check_new_folder(tmp_path / "out", False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PermissionError, match="cannot write in the working folder"):
        files.probe_output_folder("out")


def test_the_probes_leave_nothing_and_refuse_what_the_writers_refuse(tmp_path):
    from adcbridge.io.files import probe_output_file, probe_output_folder
    probe_output_file(tmp_path / "x.png")
    probe_output_folder(tmp_path / "out")
    probe_output_folder(tmp_path)
    probe_output_folder(tmp_path / "a" / "b", parents=True)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        probe_output_folder(tmp_path / "file")
    with pytest.raises(NotADirectoryError, match="is a file, so the output folder cannot be made"):
        probe_output_folder(tmp_path / "file" / "out")
    with pytest.raises(NotADirectoryError, match="is a file, so the folder for the output cannot be made"):
        probe_output_file(tmp_path / "file" / "x.png")
    with pytest.raises(IsADirectoryError):
        probe_output_file(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        probe_output_folder(tmp_path / "a" / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_init_into_a_place_that_takes_no_files_says_so(capsys):
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    code, out, err = run(capsys, "init", "/proc/adcbridge-study")
    assert (code, out) == (2, "") and err == ("adcbridge: error: /proc/adcbridge-study: cannot write in /proc (it "
                                              "takes no new files)\n")


MOUNT = next((m for m in ("/proc", "/sys", "/dev/shm") if os.path.ismount(m)), None)


@pytest.mark.skipif(MOUNT is None, reason="no mount point to try")
@pytest.mark.parametrize("name", ["sweep", "validate", "run", "trial --out"])
def test_force_onto_a_mount_point_is_refused_before_the_work(capsys, monkeypatch, tmp_path, name):
    """Found: the work ran, then replacing the folder failed with "Device or resource busy"."""
    args, work = COMMANDS[name]
    monkeypatch.setattr(work, _no_work)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    argv = [str(a).replace("{sweep}", str(tmp_path / "sweep.yaml")).replace("{out}", MOUNT) for a in args]
    code, out, err = run(capsys, *argv, "--force")
    assert (code, err) == (2, f"adcbridge: error: {MOUNT}: the output folder is a mount point, which cannot be "
                              f"replaced; give a new folder inside it\n")
