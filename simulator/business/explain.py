"""Why people are not connected: the barriers, which one binds, what a lever would need.

Four barriers stand between covered and connected (:data:`simulator.business.adoption.
BARRIERS`): a handset, an affordable bundle, the skills, a reason to use it (relevance). With
``combine: nested`` (the catalogue default) the smallest share alone sets the potential, so a
lever on any other barrier changes no number until it rises above the binding one; with
``combine: independent`` every share multiplies, so every lever counts.

:func:`adoption_explanation` turns the shares of a run into the summary's
``adoption_barriers`` section: the people-weighted share of each barrier, which binds (for
how many people), what the binding barrier's levers would need to lift it to the next
barrier, and one sentence per lever that would have no effect. Pure arithmetic on the shares
and the inverse functions of :mod:`simulator.business.adoption` (no I/O).
"""

from __future__ import annotations

import math

import numpy as np

from . import adoption as ad

__all__ = ["LEVERS", "adoption_explanation"]

#: Scenario keys (under ``adoption:``) that move each barrier, in plain words.
LEVERS = {
    "handset": ("smartphone_share", "more smartphones have"),
    "affordability": ("price_usd_per_gb", "a lower data price or a higher income has"),
    "skills": ("training_places", "training places have"),
    "relevance": ("relevance_share", "more relevant content has"),
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    if w.sum() > 0:
        return float(np.sum(values * w) / w.sum())
    return float(values.mean())


def _round(x, nd=6):
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _needs(barrier: str, target: float, a: dict, *, income_eff: float, population: int) -> dict:
    """What the levers of ``barrier`` must reach to lift its share to ``target``."""
    if barrier == "affordability":
        if not 0.0 < target < 1.0:
            return {"price_usd_per_gb": 0.0}
        price = float(ad.price_for_affordability(target, income_eff, a["income_sigma"],
                                                 bundle_gb=a["bundle_gb"],
                                                 threshold_share=a["threshold_share"]))
        out = {"price_usd_per_gb": round(price, 4)}
        if a["price_usd_per_gb"] > 0:
            m_eff = float(ad.income_for_affordability(target, a["price_usd_per_gb"],
                                                      a["income_sigma"],
                                                      bundle_gb=a["bundle_gb"],
                                                      threshold_share=a["threshold_share"]))
            # the scenario key scales every site's income by the same factor
            scale = a["median_income_usd_per_month"] / income_eff
            out["median_income_usd_per_month"] = round(m_eff * scale, 2)
        return out
    if barrier == "skills":
        places = float(ad.training_places_for_skills(
            target, a["skills_baseline_share"], max(population, 1),
            max_share=a["skills_max_share"], training_effectiveness=a["training_effectiveness"]))
        return {"training_places": None if math.isinf(places) else int(math.ceil(places))}
    if barrier == "handset":
        need = target - a["basic_phone_weight"] * a["basic_phone_share"]
        ok = need <= 1.0 - a["basic_phone_share"] + 1e-12
        return {"smartphone_share": round(max(need, 0.0), 4) if ok else None}
    return {"relevance_share": round(target, 4)}


def _needs_text(barrier: str, need: dict, a: dict) -> str:
    if barrier == "affordability":
        parts = [f"a data price of at most USD {need['price_usd_per_gb']:.2f} per GB "
                 f"(now {a['price_usd_per_gb']:g})"]
        if "median_income_usd_per_month" in need:
            parts.append(f"a median income of at least USD "
                         f"{need['median_income_usd_per_month']:,.0f} a month "
                         f"(now {a['median_income_usd_per_month']:g})")
        return " or ".join(parts)
    if barrier == "skills":
        if need["training_places"] is None:
            return (f"more than training can give (skills_max_share caps it at "
                    f"{_pct(a['skills_max_share'])}; raise skills_baseline_share)")
        return f"{need['training_places']:,} training places (now {a['training_places']:,})"
    if barrier == "handset":
        if need["smartphone_share"] is None:
            return "more smartphones than people without a basic phone"
        return (f"smartphone ownership of at least {_pct(need['smartphone_share'])} "
                f"(now {_pct(a['smartphone_share'])})")
    return f"a relevance share of at least {_pct(need['relevance_share'])}"


def adoption_explanation(a: dict, *, handset: float, affordability_by_site: np.ndarray,
                         skills: float, relevance: float, served: np.ndarray,
                         income_by_site: np.ndarray, population_total: int,
                         income_model: str) -> dict:
    """The summary's ``adoption_barriers``: shares, the binding barrier, levers.

    Parameters
    ----------
    a : dict
        The resolved adoption parameters (:func:`simulator.business.assessment.
        resolve_parameters`, ``["adoption"]``).
    handset, skills, relevance : float
        Region-wide shares [-].
    affordability_by_site : ndarray, shape (n_sites,)
        Affordability share of each site's users [-].
    served : ndarray, shape (n_sites,)
        People each site serves (the weights) [people].
    income_by_site : ndarray, shape (n_sites,)
        Median income of each site's users [USD/month].
    population_total : int
        People in the region (training places are spread over them).
    income_model : str
        How incomes vary (``uniform``, ``density``, ``raster``).

    Returns
    -------
    dict
        JSON-ready: ``combine``, ``shares`` (people-weighted), ``binding``,
        ``people_bound_by`` (people served where each barrier binds), ``next_barrier``,
        ``next_share``, ``to_move_binding`` (lever values that lift the binding barrier to the
        next one), ``no_effect`` (barriers whose levers change nothing now), ``income``, and
        ``notes`` (sentences for the table and the report).
    """
    combine = a["combine"]
    aff = np.asarray(affordability_by_site, dtype=np.float64)
    w = np.asarray(served, dtype=np.float64)
    n = aff.size
    per_site = np.stack(np.broadcast_arrays(np.full(n, handset), aff, np.full(n, skills),
                                            np.full(n, relevance)), axis=0)   # (4, n)
    shares = {b: (_weighted_mean(per_site[i], w) if n else
                  float((handset, np.nan, skills, relevance)[i]))
              for i, b in enumerate(ad.BARRIERS)}
    income = np.asarray(income_by_site, dtype=np.float64)
    ok = income > 0
    income_eff = (float(np.exp(_weighted_mean(np.log(income[ok]), w[ok]))) if ok.any()
                  else a["median_income_usd_per_month"])
    bound = np.asarray(ad.binding_barrier(*per_site), dtype=np.int64).reshape(n) if n else \
        np.zeros(0, np.int64)
    people_bound = {b: int(round(float(w[bound == i].sum()))) for i, b in
                    enumerate(ad.BARRIERS)}
    if n:
        weight_by = np.bincount(bound, weights=np.where(w > 0, w, 0.0), minlength=4)
        binding_i = int(np.argmax(weight_by)) if weight_by.sum() > 0 else \
            int(np.bincount(bound, minlength=4).argmax())
    else:
        binding_i = int(np.argmin([shares[b] if math.isfinite(shares[b]) else 2.0
                                   for b in ad.BARRIERS]))
    binding = ad.BARRIERS[binding_i]
    others = [b for b in ad.BARRIERS if b != binding and math.isfinite(shares[b])]
    nxt = min(others, key=lambda b: shares[b]) if others else None
    target = shares[nxt] if nxt else 1.0
    notes: list[str] = []
    no_effect: list[str] = []
    if combine == "nested":
        binding_anywhere = set(int(i) for i in np.unique(bound)) if n else {binding_i}
        need = _needs(binding, target, a, income_eff=income_eff, population=population_total)
        notes.append(f"{binding} binds ({_pct(shares[binding])} of covered people clear it"
                     + (f"; next: {nxt} {_pct(target)}" if nxt else "") + ")")
        if nxt and target > shares[binding] + 1e-9:
            notes.append(f"to move it: {_needs_text(binding, need, a)} would lift {binding} to "
                         f"{_pct(target)}, where {nxt} binds")
        elif nxt:
            notes.append(f"{binding} and {nxt} bind together: both must rise before people "
                         "connected can")
        for i, b in enumerate(ad.BARRIERS):
            if i in binding_anywhere:
                continue
            no_effect.append(b)
            notes.append(f"{LEVERS[b][1]} no effect while {binding} binds "
                         f"({b} {_pct(shares[b])})")
        if len(binding_anywhere) > 1:
            where = ", ".join(f"{ad.BARRIERS[i]} for {people_bound[ad.BARRIERS[i]]:,} people"
                              for i in sorted(binding_anywhere))
            notes.append(f"the binding barrier differs between sites: {where}")
    else:
        need = _needs(binding, min(1.0, shares[binding] * 1.1), a, income_eff=income_eff,
                      population=population_total) if math.isfinite(shares[binding]) else {}
        notes.append(f"combine 'independent': every barrier multiplies ({' x '.join(_pct(shares[b]) for b in ad.BARRIERS)}), "
                     f"so every lever counts; the smallest is {binding}")
        if a["skills_max_share"] <= skills + 1e-12 and a["training_places"] > 0:
            no_effect.append("skills")
            notes.append(f"more training places have no effect: skills are at their cap "
                         f"{_pct(a['skills_max_share'])}")
    inc = {"model": income_model,
           "median_usd_per_month": _round(a["median_income_usd_per_month"], 2),
           "people_weighted_usd_per_month": _round(income_eff, 2),
           "min_usd_per_month": _round(float(income.min()), 2) if n else None,
           "max_usd_per_month": _round(float(income.max()), 2) if n else None}
    return {
        "combine": combine,
        "shares": {b: _round(v) for b, v in shares.items()},
        "affordability_range": ([_round(float(aff.min())), _round(float(aff.max()))]
                                if n else None),
        "binding": binding,
        "people_bound_by": people_bound,
        "next_barrier": nxt,
        "next_share": _round(target) if nxt else None,
        "to_move_binding": need,
        "no_effect": no_effect,
        "income": inc,
        "notes": notes,
    }
