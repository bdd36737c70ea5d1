"""Plots of results. Every function takes ``ax=None`` and returns the Axes.

matplotlib is imported inside the functions, so the package imports without it being
configured; tests use the Agg backend.
"""

from __future__ import annotations

import numpy as np

_STATION_STYLE = {
    "macro": dict(marker="^", color="#111111", size=140),
    "ruralstar_pro": dict(marker="*", color="#e6550d", size=190),
    "small_cell": dict(marker="s", color="#3182bd", size=70),
}
_DEFAULT_STYLE = dict(marker="D", color="#756bb1", size=80)


def _extent_km(grid):
    x0, y0, x1, y1 = grid.bounds
    return [x0 / 1000.0, x1 / 1000.0, y0 / 1000.0, y1 / 1000.0]


def _scale_bar(ax, grid, length_km=None):
    x0, y0, x1, y1 = (v / 1000.0 for v in grid.bounds)
    width = x1 - x0
    if length_km is None:
        length_km = max(1, int(round(width / 5 / 5)) * 5) if width > 25 else max(1, round(width / 5))
    bx, by = x0 + 0.04 * width, y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length_km], [by, by], color="black", lw=3, solid_capstyle="butt")
    ax.text(bx + length_km / 2, by + 0.015 * (y1 - y0), f"{length_km:g} km", ha="center",
            va="bottom", fontsize=9)
    nx = bx + length_km + 0.05 * width
    ax.annotate("N", xy=(nx, y0 + 0.15 * (y1 - y0)), xytext=(nx, y0 + 0.04 * (y1 - y0)),
                arrowprops=dict(arrowstyle="-|>", color="black"), ha="center", fontsize=11,
                fontweight="bold")


def _legend_below(ax, handles, labels):
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3,
              fontsize=8, frameon=False)


def plot_coverage_map(result, ax=None, *, show_population=True, show_uncovered=True,
                      n_settlement_labels=0):
    """Coverage map: population underlay, received signal where covered, sites by type.

    Parameters
    ----------
    result : ScenarioResult
    ax : matplotlib Axes, optional
    show_population : bool
        Grey log-scaled people per cell underneath.
    show_uncovered : bool
        Populated cells left uncovered in red.
    n_settlement_labels : int
        Label the N largest settlements with their population.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8))
    g = result.grid
    ext = _extent_km(g)
    people = result.population.people
    covered = result.covered
    dem = getattr(result, "terrain", None)
    if dem is not None:
        from .terrain import hillshade

        ax.imshow(hillshade(dem, g.resolution_m), extent=ext, origin="upper", cmap="gray",
                  vmin=0, vmax=1, alpha=0.55, interpolation="bilinear", zorder=0.5)
    if show_population and people.max() > 0:
        pop = np.ma.masked_less(people.astype(float), 1)
        ax.imshow(pop, extent=ext, origin="upper", cmap="Greys",
                  norm=LogNorm(vmin=1, vmax=max(people.max(), 2)), interpolation="nearest",
                  zorder=1, alpha=0.8 if dem is not None else 1.0)
    rx = np.ma.masked_where(~covered, result.fields.rx_dbm)
    im = ax.imshow(rx, extent=ext, origin="upper", cmap="viridis", alpha=0.72,
                   interpolation="nearest", zorder=2)
    if show_uncovered:
        unc = np.ma.masked_where(~((people > 0) & ~covered), np.ones(people.shape))
        ax.imshow(unc, extent=ext, origin="upper", cmap=ListedColormap(["#d7301f"]),
                  alpha=0.85, interpolation="nearest", zorder=3)
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    metric = result.technology.signal_metric.upper()
    cb.set_label(f"best-server {metric} where covered [dBm]")

    s = result.sites
    handles = []
    for name in dict.fromkeys(s.station):
        st = _STATION_STYLE.get(name, _DEFAULT_STYLE)
        label = result.stations[name].label
        for existing in (True, False):
            m = np.array([(t == name) and (e == existing) for t, e in zip(s.station, s.existing)])
            if not m.any():
                continue
            ax.scatter(s.x_m[m] / 1000.0, s.y_m[m] / 1000.0, marker=st["marker"], s=st["size"],
                       c=st["color"] if existing else "white", edgecolors=st["color"],
                       linewidths=1.8, zorder=6,
                       label=f"{label} ({'existing' if existing else 'new'}, {int(m.sum())})")
    handles, labels = ax.get_legend_handles_labels()
    if show_uncovered:
        handles.append(Line2D([], [], marker="s", ls="", color="#d7301f", markersize=8))
        labels.append("people not covered")
    if show_population:
        handles.append(Line2D([], [], marker="s", ls="", color="#888888", markersize=8))
        labels.append("people per cell (grey, log scale)")

    pop_obj = result.population
    if len(pop_obj.settlement_people):
        size = 12.0 + 160.0 * np.sqrt(pop_obj.settlement_people / max(
            pop_obj.settlement_people.max(), 1))
        ax.scatter(pop_obj.settlement_x_m / 1000.0, pop_obj.settlement_y_m / 1000.0, s=size,
                   facecolors="none", edgecolors="#333333", linewidths=0.8, zorder=5,
                   label="settlement (size ~ people)")
        handles.insert(len(handles) - int(show_uncovered) - int(show_population),
                       Line2D([], [], marker="o", ls="", markerfacecolor="none",
                              markeredgecolor="#333333", markersize=8))
        labels.insert(len(labels) - int(show_uncovered) - int(show_population),
                      "settlement (circle size ~ people)")
    for k in range(min(n_settlement_labels, len(pop_obj.settlement_people))):
        ax.annotate(f"{pop_obj.settlement_people[k]:,}", (pop_obj.settlement_x_m[k] / 1000,
                    pop_obj.settlement_y_m[k] / 1000), fontsize=7, zorder=7,
                    xytext=(3, 3), textcoords="offset points")
    _legend_below(ax, handles, labels)
    _scale_bar(ax, g)
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal")
    ax.set_xlabel(f"easting [km] ({g.crs})")
    ax.set_ylabel("northing [km]")
    sm = result.summary
    ax.set_title(f"{result.scenario.name}: {sm['people_covered']:,} of "
                 f"{sm['population_total']:,} people covered "
                 f"({100 * sm['coverage_fraction']:.1f} %)\n"
                 f"{sm['sites_total']} sites ({sm['sites_existing']} existing, "
                 f"{sm['sites_new']} new) · {sm['people_newly_covered']:,} newly covered · "
                 f"{result.technology.label}, {sm['propagation_model']}", fontsize=11)
    return ax


def _summary_of(r) -> dict:
    return r if isinstance(r, dict) else r.summary


def plot_scenario_comparison(results, ax=None, *, marginal=True):
    """People covered vs connected per scenario, beside the cost per person connected.

    Three bars per scenario. Left axis: people covered and people connected in the last
    year of the horizon, the part the new sites add drawn darker. Right axis (orange bar,
    labelled): cost per person connected, by default of the new sites (their TCO over the
    people they newly connect); ``marginal=False`` uses the whole network's TCO over all
    people connected.

    Parameters
    ----------
    results : sequence of ScenarioResult or of summary dicts (summary.json)
    ax : matplotlib Axes, optional
    marginal : bool, keyword-only

    Returns
    -------
    matplotlib.axes.Axes
        The people axis (the cost axis is its ``twinx``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    sums = [_summary_of(r) for r in results]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 3.0 * len(sums) + 2), 6))
    x = np.arange(len(sums), dtype=float)
    w = 0.26
    cov = np.array([s["people_covered"] for s in sums], float)
    cov_base = np.array([s["people_covered_by_existing_sites"] for s in sums], float)
    con = np.array([s["people_connected"] for s in sums], float)
    con_base = np.array([s["people_connected_by_existing_sites"] for s in sums], float)
    blue_l, blue, green_l, green, orange = "#9ecae1", "#3182bd", "#a1d99b", "#31a354", "#e6550d"
    ax.bar(x - w, cov_base, w, color=blue_l, edgecolor=blue)
    ax.bar(x - w, cov - cov_base, w, bottom=cov_base, color=blue, edgecolor=blue)
    ax.bar(x, con_base, w, color=green_l, edgecolor=green)
    ax.bar(x, con - con_base, w, bottom=con_base, color=green, edgecolor=green)
    top = max(cov.max() if len(cov) else 1.0, 1.0)
    for xi, c, n in zip(x, cov, con):
        ax.text(xi - w, c + 0.01 * top, f"{c:,.0f}\ncovered", ha="center", va="bottom",
                fontsize=8, color="#08519c")
        pct = f"\n({100 * n / c:.1f} % of\ncovered)" if c else ""
        ax.text(xi, n + 0.01 * top, f"{n:,.0f}\nconnected{pct}", ha="center", va="bottom",
                fontsize=8, color="#006d2c")
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel("people")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xticks(x)
    ax.set_xticklabels([_scenario_label(s) for s in sums], fontsize=9)
    ax.set_xlim(-0.6, len(sums) - 0.4)

    key = "marginal_cost_per_person_connected_usd" if marginal else "cost_per_person_connected_usd"
    cost = np.array([np.nan if s.get(key) is None else s[key] for s in sums], float)
    ax2 = ax.twinx()
    ax2.bar(x + w, np.where(np.isfinite(cost), cost, 0.0), w, color="#fdae6b", edgecolor=orange,
            hatch="//")
    finite = cost[np.isfinite(cost)]
    ctop = finite.max() if finite.size else 1.0
    ax2.set_ylim(0, ctop * 1.2)
    for xi, c in zip(x, cost):
        label = "nobody newly\nconnected" if not np.isfinite(c) else f"USD {c:,.0f}\nper person"
        ax2.text(xi + w, (c if np.isfinite(c) else 0) + 0.01 * ctop, label, ha="center",
                 va="bottom", fontsize=8, color="#a63603", fontweight="bold")
    which = "new sites' TCO / people newly connected" if marginal else \
        "whole network's TCO / people connected"
    ax2.set_ylabel(f"cost per person connected [USD]\n({which})", color="#a63603")
    ax2.tick_params(axis="y", colors="#a63603")
    ax2.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))

    horizon = {s.get("horizon_years") for s in sums}
    h = f"year {horizon.pop()}" if len(horizon) == 1 else "last year of each horizon"
    handles = [Patch(color=blue_l, label="covered by the existing sites alone"),
               Patch(color=blue, label="newly covered by the new sites"),
               Patch(color=green_l, label=f"connected thanks to the existing sites ({h})"),
               Patch(color=green, label=f"newly connected ({h})"),
               Patch(facecolor="#fdae6b", edgecolor=orange, hatch="//",
                     label="cost per person connected (right axis)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2,
              fontsize=8, frameon=False)
    ax.set_title("People covered and connected, and what each connected person costs",
                 fontsize=11)
    return ax


def _scenario_label(s: dict) -> str:
    parts = [f"{d['new']} {name}" for name, d in s.get("sites_by_type", {}).items() if d["new"]]
    return f"{s['scenario']}\n(+{', '.join(parts) if parts else 'no new sites'})"


def plot_marginal_curve(plan_result, ax=None, *, x="sites", percent_axis=True):
    """Marginal curve of a plan: people newly covered against sites built or against cost.

    One line per method run (greedy dashed, ILP solid), with a marker per site so the
    diminishing returns are visible; the budget (``x="cost"``) or the site limit
    (``x="sites"``) as a dotted vertical line.

    Parameters
    ----------
    plan_result : simulator.planning.PlanResult
    ax : matplotlib Axes, optional
    x : {"sites", "cost"}
        Horizontal axis: number of new sites, or cumulative cost [thousand USD].
    percent_axis : bool
        A right-hand axis in percent of the population.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if x not in ("sites", "cost"):
        raise ValueError(f"x={x!r} is invalid; allowed: 'sites' or 'cost'")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    styles = {"greedy": dict(color="#e6550d", ls="--", marker="o", ms=3.5, lw=1.4, zorder=3),
              "ilp": dict(color="#3182bd", ls="-", marker="s", ms=6, lw=3.0, alpha=0.75,
                          zorder=2)}
    # the ILP first (wide, underneath) so an identical greedy curve stays visible on top
    for name in sorted(plan_result.placements, key=lambda n: n != "ilp"):
        p = plan_result.placements[name]
        c = plan_result.curve(name)
        xs = c["sites"] if x == "sites" else c["cost_usd"] / 1000.0
        label = {"greedy": "greedy", "ilp": "ILP"}.get(name, name)
        label += f" ({p.n_sites} sites, {int(c['people'][-1]):,} people"
        label += ", optimal)" if p.optimal else (
            f", gap {100 * p.gap:.2f} %)" if np.isfinite(p.gap) else ")")
        ax.plot(xs, c["people"], label=label,
                **styles.get(name, dict(color="#756bb1", marker="o", ms=3.5)))
    spec = plan_result.spec
    if x == "cost" and spec.budget_usd is not None:
        ax.axvline(spec.budget_usd / 1000.0, color="0.3", ls=":", lw=1.2)
        ax.text(spec.budget_usd / 1000.0, 0.03, "budget ", transform=ax.get_xaxis_transform(),
                ha="right", va="bottom", fontsize=8, color="0.3")
    if x == "sites" and spec.max_sites is not None:
        ax.axvline(spec.max_sites, color="0.3", ls=":", lw=1.2)
        ax.text(spec.max_sites, 0.03, "site limit ", transform=ax.get_xaxis_transform(),
                ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("new sites built" if x == "sites" else "cumulative capex [thousand USD]")
    ax.set_ylabel("people newly covered (beyond the kept sites)")
    ax.set_xlim(left=0)
    ax.margins(x=0.04)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if x == "cost":
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("people newly covered vs " + ("sites" if x == "sites" else "cost"),
                 fontsize=10)
    total = plan_result.summary.get("population_total") or int(plan_result.population.people.sum())
    if percent_axis and total:
        sec = ax.secondary_yaxis("right", functions=(lambda v: 100.0 * v / total,
                                                     lambda v: v * total / 100.0))
        sec.set_ylabel("% of population")
    return ax
