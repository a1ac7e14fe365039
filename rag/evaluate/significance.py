"""Is a difference between two rankings real? Paired tests over the same queries, against one baseline.

Per-query scores come from ranx (``evaluate(..., return_mean=False)``), so every mean here is ranx's.
For each system against the baseline and each metric:

- **Fisher's randomisation test** (paired, two-sided; Smucker et al., CIKM 2007): the per-query
  differences have their signs flipped at random, ``permutations`` times; p is the share of flips whose
  mean difference is at least as large as the one seen, counted as (hits + 1) / (permutations + 1)
  (Phipson & Smyth 2010: never 0). Our own numpy code with a fixed seed, not ranx's
  ``fisher_randomization_test``: ranx draws its permutations on parallel numba threads, each with its
  own random state, so its p-value changes from one run to the next on the same input (0.424, 0.455,
  0.416 in three calls). The tests check that the two agree within Monte Carlo error.
- **The paired t-test**: scipy's ``ttest_rel``, which is all ranx's ``paired_student_t_test`` does.
- **Holm's correction** (Holm 1979) over the systems compared with the baseline, per metric and test:
  two or more systems tested against one baseline would otherwise find a "significant" difference by
  chance more often than ``alpha`` says.
- **Wins, ties, losses**: queries where the system scores above, equal to or below the baseline.
- **A bootstrap interval** (95%, percentile, paired: queries resampled with replacement) of the mean
  difference, which says how large a difference this many queries can tell from noise."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

ALPHA = 0.05
PERMUTATIONS = 10_000
BOOTSTRAP = 2_000
SEED = 0
FISHER_MARK, STUDENT_MARK = "*", "†"
# Below this many queries a difference must be large to be told from noise: say so.
FEW_QUERIES = 50

Qrels = Mapping[str, Mapping[str, int]]
RunDict = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class PairTest:
    """One system against the baseline on one metric."""

    system: str
    baseline: str
    metric: str
    mean: float
    baseline_mean: float
    fisher_p: float
    student_p: float
    fisher_p_holm: float
    student_p_holm: float
    wins: int
    ties: int
    losses: int
    ci_low: float  # 95% bootstrap interval of mean(system - baseline)
    ci_high: float

    @property
    def delta(self) -> float:
        return self.mean - self.baseline_mean

    def mark(self, alpha: float = ALPHA) -> str:
        return ((FISHER_MARK if self.fisher_p_holm < alpha else "")
                + (STUDENT_MARK if self.student_p_holm < alpha else ""))

    def to_dict(self) -> dict[str, object]:
        return {"mean": self.mean, "baseline_mean": self.baseline_mean, "delta": self.delta,
                "fisher_p": self.fisher_p, "fisher_p_holm": self.fisher_p_holm,
                "student_p": self.student_p, "student_p_holm": self.student_p_holm,
                "wins": self.wins, "ties": self.ties, "losses": self.losses,
                "delta_ci95": [self.ci_low, self.ci_high]}


@dataclass
class Comparison:
    """Every system against ``baseline`` on every metric, over the qrels' queries."""

    baseline: str
    metrics: list[str]
    queries: list[str]
    alpha: float
    permutations: int
    per_query: dict[str, dict[str, np.ndarray]]  # system -> metric -> scores in ``queries`` order
    tests: dict[str, dict[str, PairTest]] = field(default_factory=dict)  # system -> metric -> test

    def mean(self, system: str, metric: str) -> float:
        scores = self.per_query[system][metric]
        return float(scores.mean()) if len(scores) else float("nan")

    def mark(self, system: str, metric: str) -> str:
        test = self.tests.get(system, {}).get(metric)
        return test.mark(self.alpha) if test else ""

    def cell(self, system: str, metric: str, digits: int = 3) -> str:
        """The mean with its significance marks, for a table."""
        value = self.mean(system, metric)
        return ("n/a" if math.isnan(value) else f"{value:.{digits}f}") + self.mark(system, metric)

    def worst_queries(self, system: str, metric: str, n: int = 10) -> list[tuple[str, float, float]]:
        """The queries where ``system`` loses most against the baseline: (query, baseline, system), worst first."""
        base, mine = self.per_query[self.baseline][metric], self.per_query[system][metric]
        order = np.argsort(mine - base, kind="stable")
        return [(self.queries[i], float(base[i]), float(mine[i])) for i in order[:n] if mine[i] < base[i]]

    def best_queries(self, system: str, metric: str, n: int = 10) -> list[tuple[str, float, float]]:
        base, mine = self.per_query[self.baseline][metric], self.per_query[system][metric]
        order = np.argsort(base - mine, kind="stable")
        return [(self.queries[i], float(base[i]), float(mine[i])) for i in order[:n] if mine[i] > base[i]]

    def sample_note(self, metric: str) -> str:
        """One line: what this many queries can tell apart (the widest bootstrap half-width seen)."""
        n = len(self.queries)
        if n < 10:
            return f"{n} queries: too few for any test to tell systems apart; add questions (or marks)."
        widths = [(t.ci_high - t.ci_low) / 2 for per in self.tests.values() for m, t in per.items() if m == metric]
        if not widths:
            return f"{n} queries."
        width = max(widths)
        line = (f"{n} queries: a difference in {metric} smaller than about {width:.3f} (half the widest 95% "
                f"bootstrap interval of a difference) cannot be told from noise on this set")
        if n < FEW_QUERIES:
            line += f"; under {FEW_QUERIES} queries, treat every difference here as a hint, not a result"
        return line + "."

    def legend(self) -> str:
        return (f"{FISHER_MARK} Fisher's randomisation test, {STUDENT_MARK} paired t-test: different from "
                f"{self.baseline} at p < {self.alpha:g} after Holm's correction ({len(self.queries)} queries, "
                f"{self.permutations} permutations).")

    def to_dict(self) -> dict[str, object]:
        return {"baseline": self.baseline, "alpha": self.alpha, "queries": len(self.queries),
                "permutations": self.permutations, "correction": "holm",
                "tests": {s: {m: t.to_dict() for m, t in per.items()} for s, per in self.tests.items()}}


# -- the tests ---------------------------------------------------------------------------------
def fisher_randomization(a: np.ndarray, b: np.ndarray, permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """Two-sided paired randomisation test of mean(a) == mean(b): (hits + 1) / (permutations + 1)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = len(diff)
    if n == 0:
        return float("nan")
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    # Bounded memory: about 2M signs at a time, whatever the number of queries.
    step = max(1, 2_000_000 // n)
    while done < permutations:
        size = min(step, permutations - done)
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
        means = np.abs(signs @ diff) / n
        # A tolerance so that a flip giving the same mean in exact arithmetic is not lost to rounding.
        hits += int(np.count_nonzero(means >= observed - 1e-12))
        done += size
    return (hits + 1) / (permutations + 1)


def paired_t(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sided paired t-test as ranx runs it: its ``paired_student_t_test`` is scipy's ``ttest_rel``,
    called here directly (importing ranx costs seconds). Identical scores give p = 1, not NaN."""
    from scipy.stats import ttest_rel

    if len(a) < 2 or np.allclose(a, b):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns when the differences are constant
        _, p = ttest_rel(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), alternative="two-sided")
    return 1.0 if math.isnan(p) else float(p)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def bootstrap_ci(diff: np.ndarray, resamples: int = BOOTSTRAP, seed: int = SEED,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diff`` (queries resampled with replacement)."""
    diff = np.asarray(diff, dtype=np.float64)
    n = len(diff)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, 2_000_000 // n)
    for at in range(0, resamples, step):
        size = min(step, resamples - at)
        means[at:at + size] = diff[rng.integers(0, n, size=(size, n))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


# -- per-query scores (ranx) -------------------------------------------------------------------
def per_query_scores(qrels: Qrels, run: RunDict, metrics: Sequence[str]) -> tuple[list[str], dict[str, np.ndarray]]:
    """ranx's score of every qrels query on each metric, and the queries' order. A query with nothing
    retrieved scores 0 (a placeholder item that is never relevant, as ``ranx_evaluate`` does)."""
    from ..extras import require

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's int-cast warning inside ranx's kernels
        ranx = require("ranx", "eval", "rag eval")
        full = {q: (dict(run.get(q) or {}) or {"__nothing_retrieved__": 0.0}) for q in qrels}
        q_obj = ranx.Qrels({q: dict(v) for q, v in qrels.items()})
        scores = ranx.evaluate(q_obj, ranx.Run(full), list(metrics), return_mean=False, make_comparable=True)
    if not isinstance(scores, dict):
        scores = {metrics[0]: scores}
    # ranx keeps its queries sorted; its score arrays follow that order.
    return list(q_obj.keys()), {m: np.asarray(scores[m], dtype=np.float64) for m in metrics}


def compare(qrels: Qrels, runs: Mapping[str, RunDict], metrics: Sequence[str], baseline: str | None = None,
            alpha: float = ALPHA, permutations: int = PERMUTATIONS, seed: int = SEED) -> Comparison:
    """Score every run on the qrels' queries and test each against ``baseline`` (default: the first)."""
    names = list(runs)
    if not names:
        raise ValueError("no runs to compare")
    baseline = baseline or names[0]
    if baseline not in runs:
        from ..errors import UserError

        raise UserError(f"--baseline {baseline!r} is not one of the compared systems: {', '.join(names)}")
    queries: list[str] = []
    per_query: dict[str, dict[str, np.ndarray]] = {}
    for name in names:
        queries, per_query[name] = per_query_scores(qrels, runs[name], metrics)
    return compare_scores(per_query, queries, list(metrics), baseline, alpha, permutations, seed)


def compare_scores(per_query: dict[str, dict[str, np.ndarray]], queries: list[str], metrics: list[str],
                   baseline: str, alpha: float = ALPHA, permutations: int = PERMUTATIONS,
                   seed: int = SEED) -> Comparison:
    """The tests over per-query scores already computed (every array in ``queries`` order)."""
    out = Comparison(baseline=baseline, metrics=metrics, queries=queries, alpha=alpha,
                     permutations=permutations, per_query=per_query)
    others = [n for n in per_query if n != baseline]
    for metric in metrics:
        base = per_query[baseline][metric]
        raw = {n: (fisher_randomization(per_query[n][metric], base, permutations, seed),
                   paired_t(per_query[n][metric], base)) for n in others}
        fisher_adj = holm([raw[n][0] for n in others])
        student_adj = holm([raw[n][1] for n in others])
        for i, name in enumerate(others):
            mine = per_query[name][metric]
            low, high = bootstrap_ci(mine - base, seed=seed)
            out.tests.setdefault(name, {})[metric] = PairTest(
                system=name, baseline=baseline, metric=metric, mean=float(mine.mean()) if len(mine) else float("nan"),
                baseline_mean=float(base.mean()) if len(base) else float("nan"),
                fisher_p=raw[name][0], student_p=raw[name][1], fisher_p_holm=fisher_adj[i],
                student_p_holm=student_adj[i], wins=int(np.sum(mine > base)), ties=int(np.sum(mine == base)),
                losses=int(np.sum(mine < base)), ci_low=low, ci_high=high)
    return out


# -- tables ------------------------------------------------------------------------------------
def table_rows(comparison: Comparison, labels: Sequence[tuple[str, str]], extra: Mapping[str, Sequence[str]] = {},
               digits: int = 3) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per system, its means with their marks, then wins/ties/losses against
    the baseline on the first metric. ``labels`` is (column title, metric); ``extra`` adds columns."""
    first = labels[0][1]
    header = ["system"] + [title for title, _ in labels] + [f"W/T/L {labels[0][0]}"] + list(extra)
    rows = []
    for i, name in enumerate(comparison.per_query):
        test = comparison.tests.get(name, {}).get(first)
        wtl = f"{test.wins}/{test.ties}/{test.losses}" if test else "baseline"
        rows.append([name] + [comparison.cell(name, m, digits) for _, m in labels] + [wtl]
                    + [column[i] for column in extra.values()])
    return header, rows


def format_comparison(comparison: Comparison, labels: Sequence[tuple[str, str]],
                      extra: Mapping[str, Sequence[str]] = {}, markdown: bool = False) -> str:
    from ..tables import markdown_table, text_table

    header, rows = table_rows(comparison, labels, extra)
    return markdown_table(header, rows) if markdown else text_table(header, rows)


def p_value_lines(comparison: Comparison, metrics: Sequence[str] | None = None) -> list[str]:
    """One line per system and metric: the difference, its interval and both p-values (raw, then Holm)."""
    out = []
    for name, per in comparison.tests.items():
        for metric, t in per.items():
            if metrics is not None and metric not in metrics:
                continue
            out.append(f"{name} vs {comparison.baseline}, {metric}: {t.delta:+.3f} "
                       f"[{t.ci_low:+.3f}, {t.ci_high:+.3f}]  Fisher p{_p(t.fisher_p)} (Holm p{_p(t.fisher_p_holm)})  "
                       f"t-test p{_p(t.student_p)} (Holm p{_p(t.student_p_holm)})  W/T/L {t.wins}/{t.ties}/{t.losses}")
    return out


def _p(p: float) -> str:
    return " n/a" if math.isnan(p) else ("<0.001" if p < 0.001 else f"={p:.3f}")


def report_lines(comparison: Comparison, metric: str, worst: int = 10) -> list[str]:
    """The report's section: the marks' legend, what the sample size allows, every p-value, and each
    system's per-query wins and losses against the baseline on ``metric``, worst losses first."""
    lines = ["## Is the difference real?", "", comparison.legend(), "", comparison.sample_note(metric), ""]
    lines += [f"- {line}" for line in p_value_lines(comparison)]
    lines += ["", f"### Per-query wins and losses against {comparison.baseline} ({metric}), worst first", ""]
    for name, per in comparison.tests.items():
        t = per.get(metric)
        if t is None:
            continue
        losses = comparison.worst_queries(name, metric, worst)
        shown = ", ".join(f"{q} ({b:.3f} -> {s:.3f})" for q, b, s in losses) or "none"
        lines.append(f"- **{name}**: {t.wins} wins, {t.ties} ties, {t.losses} losses; worst losses: {shown}")
    return lines + [""]
