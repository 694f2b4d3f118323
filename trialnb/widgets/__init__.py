"""ipywidgets panels wired to the pure functions of trialnb (one module per topic)."""

__all__: list[str] = []  # the panels live in the submodules (trialnb.widgets.sample_size, ...)
