"""Payment-date prediction: features from a customer's paid history, a gradient-boosted model, the
back-test, the cash forecast and the risk grade. Pure Python (numpy and scikit-learn loaded lazily by
the model); no Django here. See docs/prediction.md."""
