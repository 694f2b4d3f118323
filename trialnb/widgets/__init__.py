"""ipywidgets panels wired to the pure functions of trialnb (one module per topic)."""
