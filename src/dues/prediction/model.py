"""The model: scikit-learn's HistGradientBoostingRegressor with an absolute-error loss, predicting the
days from invoice to payment. scikit-learn is imported here only, when a model is built."""

from __future__ import annotations

import os

PARAMS = {
    "loss": "absolute_error",
    "learning_rate": 0.03,
    "max_iter": 200,
    "max_depth": 3,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "random_state": 0,
}


def _sklearn():
    """Import scikit-learn with one OpenMP thread: on a small, shared machine its default of one thread
    per core spins against the other processes and a fit of a few thousand rows takes a minute."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor


class DaysToPayModel:
    """fit(rows, days) and predict(rows) -> days; quantile models on request (for ranges)."""

    def __init__(self, quantile: float | None = None, **params):
        HistGradientBoostingRegressor = _sklearn()  # noqa: N806
        p = {**PARAMS, **params}
        if quantile is not None:
            p.update(loss="quantile", quantile=quantile)
        self.quantile = quantile
        self.model = HistGradientBoostingRegressor(**p)
        self.fallback: float | None = None

    def fit(self, rows: list[list[float]], days: list[float]) -> DaysToPayModel:
        import numpy as np

        y = np.asarray(days, dtype=float)
        if len(rows) < 2 * PARAMS["min_samples_leaf"]:
            # too few paid invoices to learn from: predict their median (or quantile)
            self.fallback = float(np.quantile(y, self.quantile or 0.5)) if len(y) else 30.0
            return self
        self.model.fit(np.asarray(rows, dtype=float), y)
        return self

    def predict(self, rows: list[list[float]]) -> list[float]:
        import numpy as np

        if not rows:
            return []
        if self.fallback is not None:
            return [self.fallback] * len(rows)
        return [float(x) for x in self.model.predict(np.asarray(rows, dtype=float))]
