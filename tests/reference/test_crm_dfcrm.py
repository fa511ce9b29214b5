"""CRM skeletons and posteriors against dfcrm 0.2-2.1 (getprior; crm with method = 'bayes')."""

import numpy as np
import pytest

from adcbridge.dosefinding import crm, indifference_skeleton, next_dose
from adcbridge.dosefinding.crm import CrmModel
from adcbridge.dosefinding.outcomes import DoseCounts, parse_outcomes
from tests.refdata import load_reference

REF = load_reference("crm", "dfcrm_cases.json")


@pytest.mark.parametrize("case", REF["getprior"], ids=[c["call"] for c in REF["getprior"]])
def test_indifference_interval_skeleton(case):
    s = indifference_skeleton(case["target"], case["halfwidth"], case["nu"], case["nlevel"], case["model"])
    np.testing.assert_allclose(s, case["skeleton"], rtol=1e-9)


def _counts(case):
    K = len(case["skeleton"])
    if "outcomes" in case:
        return DoseCounts.from_cohorts(parse_outcomes(case["outcomes"], K, check_skipping=False), K).arrays()
    n, y = np.zeros(K, int), np.zeros(K, int)
    for lev, t in zip(case["level"], case["tox"]):
        n[lev - 1] += 1
        y[lev - 1] += t
    return n, y


@pytest.mark.parametrize("case", REF["crm"], ids=[c["id"] for c in REF["crm"]])
def test_posterior_matches_dfcrm(case):
    model = CrmModel(case["skeleton"], case["model"], case["intercept"], case["prior_var"] ** 0.5, case["target"])
    n, y = _counts(case)
    post = model.posterior(n, y)
    # dfcrm integrates adaptively (R integrate) and prints 10 significant digits
    np.testing.assert_allclose(post.mean[0], case["estimate"], rtol=1e-7)
    np.testing.assert_allclose(post.var[0], case["post_var"], rtol=1e-7)
    np.testing.assert_allclose(post.p_hat[0], case["ptox"], rtol=1e-6)
    assert int(np.abs(post.p_hat[0] - case["target"]).argmin()) + 1 == case["mtd"]


def test_published_recommendation_of_escalation_docs():
    """escalation's get_dfcrm documentation: skeleton (0.05, 0.1, 0.25, 0.4, 0.6), target 0.25, '1NNN 2NTN'
    -> recommended dose 2."""
    design = crm(0.25, 5, skeleton=[0.05, 0.1, 0.25, 0.4, 0.6])
    assert next_dose(design, "1NNN 2NTN").next_dose == 2


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_quadrature_agrees_with_adaptive_integration():
    from scipy.integrate import quad
    rng = np.random.default_rng(7)
    for model_name in ("empiric", "logistic"):
        model = CrmModel([0.05, 0.10, 0.20, 0.35, 0.50, 0.70], model_name)
        for _ in range(20):
            n = rng.integers(0, 40, 6) * rng.integers(0, 2, 6)
            y = rng.binomial(n, rng.random(6))

            def f(b, power):
                lp, lq = model.log_prob(b)
                return b ** power * np.exp((y * lp + (n - y) * lq).sum() - 0.5 * b * b / 1.34)

            den = quad(f, -10, 10, args=(0,), epsabs=0, epsrel=1e-10, limit=400)[0]
            mean = quad(f, -10, 10, args=(1,), epsabs=0, epsrel=1e-10, limit=400)[0] / den
            post = model.posterior(n, y)
            assert post.mean[0] == pytest.approx(mean, rel=1e-7, abs=1e-9)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("model_name", ["empiric", "logistic"])
def test_probability_lowest_dose_too_toxic_agrees_with_adaptive_integration(model_name):
    """Pr(p_1 > target | data) decides the safety stop: the fine grid must agree with adaptive quadrature, the
    coarse grid within the refinement band, and the refined decision at the cut-off must be the exact one."""
    from scipy.integrate import quad
    skeleton, target, cutoff = [0.05, 0.12, 0.25, 0.4, 0.55], 0.25, 0.9
    model = CrmModel(skeleton, model_name, target=target)
    rng = np.random.default_rng(3)
    cases = [(np.array([8, 0, 0, 0, 0]), np.array([4, 0, 0, 0, 0]))]       # 0.9009 under the empiric model
    cases += [(n, rng.binomial(n, 0.4)) for n in rng.integers(1, 60, (40, 5)) * rng.integers(0, 2, (40, 5))]
    for n, y in cases:
        def f(b):
            lp, lq = model.log_prob(b)
            return np.exp((y * lp + (n - y) * lq).sum() - 0.5 * b * b / 1.34)
        low = quad(f, -10, model.beta_star, epsabs=0, epsrel=1e-12, limit=400)[0]
        high = quad(f, model.beta_star, 10, epsabs=0, epsrel=1e-12, limit=400)[0]
        exact = low / (low + high)
        assert model.posterior(n, y, fine=True).p_lowest_above_target[0] == pytest.approx(exact, abs=1e-9)
        coarse = model.posterior(n, y)
        assert abs(coarse.p_lowest_above_target[0] - exact) < 0.01
        decided = model.prob_lowest_too_toxic(coarse, n[None, :], y[None, :], cutoff)[0]
        assert (decided > cutoff) == (exact > cutoff)
