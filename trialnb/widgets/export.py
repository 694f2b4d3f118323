"""Export and reproduce, for every dashboard: save the settings (JSON) and load them back, save the
result as a self-contained HTML report, and show the same calculation as trialnb Python code and
as R rpact code.

:class:`ExportBox` only wires: the settings file, the report and the code come from
:mod:`trialnb.reproduce` (pure functions of the panel's settings); a panel gives it three
callables (its settings, how to apply settings, its root widget). Downloads are ``data:`` links
made in the kernel (the page fetches nothing), so they work the same in JupyterLab and Voila,
offline; :meth:`ExportBox.save_settings`, :meth:`ExportBox.load_settings` and
:meth:`ExportBox.save_report` do the same with files on disk (written atomically through
:mod:`trialnb.files`).

Values out of what a panel accepts are refused with a message (a
:class:`~trialnb.errors.SettingsError`), never clamped: :func:`check_values` checks every value
against its control before any is set.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any, Callable, Mapping

import ipywidgets as W

from .. import reproduce
from ..errors import SettingsError
from ..validation import is_number
from .snapshot import snapshot_html
from .svg import esc

__all__ = ["ExportBox", "SettingsPanel", "check_same_plan", "check_values", "data_link"]

NO_SNAPSHOT = "trialnb-no-snapshot"
"""CSS class of the widgets a static picture leaves out (download links, the upload button)."""


def data_link(text: str, filename: str, mime: str, label: str, css_class: str) -> str:
    """An HTML link that downloads ``text`` as ``filename`` (a ``data:`` URL: nothing is fetched)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (f"<a class='{esc(css_class)}' download='{esc(filename)}' href='data:{mime};charset=utf-8;base64,{payload}' "
            f"style='margin-right:1em;color:#1b6ca8;text-decoration:underline'>{esc(label)}</a>")


def _allowed(w: W.Widget) -> tuple[str, Callable[[Any], bool]]:
    """What a control accepts, in words, and the test."""
    if isinstance(w, (W.FloatSlider, W.IntSlider, W.BoundedFloatText, W.BoundedIntText)):
        whole = isinstance(w, (W.IntSlider, W.BoundedIntText))
        lo, hi = w.min, w.max
        return (f"a {'whole ' if whole else ''}number from {lo:g} to {hi:g}",
                lambda v: (is_number(v) and (not whole or float(v).is_integer())
                           and lo - 1e-12 <= float(v) <= hi + 1e-12))
    if isinstance(w, (W.IntText,)):
        return "a whole number", lambda v: is_number(v) and float(v).is_integer()
    if isinstance(w, (W.FloatText,)):
        return "a number", lambda v: is_number(v) and math.isfinite(float(v))
    if isinstance(w, W.Checkbox):
        return "true or false", lambda v: isinstance(v, bool)
    if isinstance(w, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.Select)):
        values = [o[1] if isinstance(o, tuple) else o for o in w.options]
        return f"one of {values}", lambda v: not isinstance(v, bool) and v in values
    if isinstance(w, W.Text):
        return "text", lambda v: isinstance(v, str)
    raise TypeError(f"no rule for a {type(w).__name__}")


def check_values(controls: Mapping[str, W.Widget], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``controls`` (name -> widget) before anything is set: every
    name known, every value one its control accepts (a slider's range, a list's options); the
    first problem raises :class:`~trialnb.errors.SettingsError` saying what is allowed. Whole
    numbers of an integer control come back as ``int``."""
    unknown = sorted(set(values) - set(controls))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(controls))}")
    out = {}
    for name, v in values.items():
        w = controls[name]
        words, ok = _allowed(w)
        if not ok(v):
            raise SettingsError(f"setting {name} = {v!r} is not allowed; allowed: {words} (nothing was changed)")
        out[name] = int(v) if isinstance(w, (W.IntSlider, W.IntText, W.BoundedIntText)) else v
    return out


def check_same_plan(values: dict[str, Any], plan: Any) -> None:
    """Take ``plan_changes`` out of ``values`` (settings being loaded) and refuse the settings
    (:class:`~trialnb.errors.SettingsError`) when they were saved for another plan than ``plan``
    (compared by :func:`trialnb.reproduce.plan_changes`, the plan's differences from ``PLAN``)."""
    if "plan_changes" not in values:
        return
    saved = reproduce.plan_changes(reproduce.plan_with_changes(values.pop("plan_changes")))
    if saved != reproduce.plan_changes(plan):
        raise SettingsError("these settings were saved for another plan than this panel's; load them in a panel "
                            "built on that plan")


class SettingsPanel:
    """What the panels whose controls are set together from a settings file share: ``named``
    (setting name -> control), ``_busy`` (the controls' observers do nothing while it is set) and
    ``_update()`` (recompute and redraw once), which each panel defines."""

    named: dict[str, W.Widget]
    _busy: bool = False

    def _update(self, change: Any = None) -> None:
        raise NotImplementedError

    def set_controls(self, values: Mapping[str, Any], also: Callable[[], None] | None = None) -> None:
        """Check every value against its control (:func:`check_values`: nothing is set when one
        is refused), then set them all, with ``also()`` (other state of the panel set in the same
        step), observers held, and recompute once."""
        checked = check_values(self.named, values)
        self._busy = True
        try:
            if also is not None:
                also()
            for name, value in checked.items():
                self.named[name].value = value
        finally:
            self._busy = False
        self._update()


class ExportBox:
    """The export section of a panel (CSS class ``trialnb-export``).

    ``panel``: the panel's name in :data:`trialnb.reproduce.PANELS`; ``settings()``: its current
    settings; ``apply(settings)``: set them (raising :class:`~trialnb.errors.SettingsError` for a
    value it does not accept); ``root()``: the panel's root widget (for the report's picture).

    Parts: ``settings_link`` (download the settings, class ``trialnb-settings-link``), ``upload``
    (load a settings file), ``report_button`` (make the report) and ``report_link`` (download it,
    class ``trialnb-report-link``), ``message`` (class ``trialnb-export-message``), ``python``
    and ``r`` (the code, classes ``trialnb-python-code`` and ``trialnb-r-code``). Call
    :meth:`refresh` after every update of the panel: the code follows the settings and a report
    made before is withdrawn (it would no longer be the panel's)."""

    def __init__(self, panel: str, settings: Callable[[], dict[str, Any]], apply: Callable[[Mapping[str, Any]], None],
                 root: Callable[[], W.Widget]) -> None:
        if panel not in reproduce.PANELS:
            raise SettingsError(f"unknown dashboard {panel!r}; allowed: {', '.join(reproduce.PANELS)}")
        self.panel, self._settings, self._apply, self._root = panel, settings, apply, root
        self.settings_link = W.HTML().add_class("trialnb-settings-link").add_class(NO_SNAPSHOT)
        self.upload = W.FileUpload(accept=".json", multiple=False, description="Load settings",
                                   layout=W.Layout(width="auto"),
                                   tooltip="Load a settings file saved by this dashboard").add_class(NO_SNAPSHOT)
        self.report_button = W.Button(description="Make report (HTML)", icon="file", layout=W.Layout(width="auto"),
                                      tooltip="The panel as it is now, its settings and the code, in one page")
        self.report_button.add_class(NO_SNAPSHOT)
        self.report_link = W.HTML().add_class("trialnb-report-link").add_class(NO_SNAPSHOT)
        self.message = W.HTML().add_class("trialnb-export-message").add_class(NO_SNAPSHOT)
        self.python = W.HTML().add_class("trialnb-python-code")
        self.r = W.HTML().add_class("trialnb-r-code")
        self.code = W.Accordion(children=[self.python, self.r], titles=("Reproduce in Python (trialnb)",
                                                                        "Reproduce in R (rpact)"))
        self.root = W.VBox([W.HTML("<b>Export and reproduce</b>").add_class(NO_SNAPSHOT),
                            W.HBox([self.settings_link, self.upload, self.report_button]).add_class(NO_SNAPSHOT),
                            self.report_link, self.message, self.code]).add_class("trialnb-export")
        self.report_text: str | None = None
        self.upload.observe(self._on_upload, names="value")
        self.report_button.on_click(lambda _b: self.make_report())

    # ---- after each update of the panel ------------------------------------------------------
    def refresh(self) -> None:
        """The settings link and the code for the panel's current settings; a report made
        before is withdrawn."""
        s = self._settings()
        self.settings_link.value = data_link(reproduce.settings_json(self.panel, s), f"{self.panel}-settings.json",
                                             "application/json", "Save settings (JSON)", "trialnb-download-settings")
        self.python.value = f"<pre class='trialnb-code'>{esc(reproduce.python_code(self.panel, s))}</pre>"
        rc = reproduce.r_code(self.panel, s)
        note = f"<p style='color:#555'>{esc(reproduce.r_note(self.panel, s))}</p>"
        self.r.value = (f"<pre class='trialnb-code'>{esc(rc)}</pre>{note}" if rc is not None else note)
        self.report_text = None
        self.report_link.value = ""

    # ---- settings ------------------------------------------------------------------------------
    def load_text(self, text: str | bytes) -> dict[str, Any]:
        """Apply a settings file's text; say on screen what was loaded or why not (nothing is
        changed when a value is refused). Returns the settings applied."""
        try:
            settings = reproduce.read_settings(text, self.panel)
            self._apply(settings)
        except SettingsError as exc:
            self.message.value = f"<p style='color:#b00020'><b>Settings not loaded:</b> {esc(str(exc))}</p>"
            raise
        self.message.value = "<p style='color:#1b6ca8'>Settings loaded.</p>"
        return settings

    def _on_upload(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        content = item["content"] if isinstance(item, dict) else item.content
        try:
            self.load_text(bytes(content))
        except SettingsError:
            pass  # said on screen
        finally:
            self.upload.value = ()  # the same file can be loaded again

    def save_settings(self, path: str | Path) -> Path:
        """Write the settings file to ``path`` (atomically)."""
        return reproduce.write_settings(path, self.panel, self._settings())

    def load_settings(self, path: str | Path) -> dict[str, Any]:
        """Load a settings file from ``path``."""
        return self.load_text(Path(path).read_bytes())

    # ---- the report ----------------------------------------------------------------------------
    def picture(self) -> str:
        """The panel as it is now, static (the export section left out)."""
        return snapshot_html(self._root(), note="The panel as it was when this report was made.",
                             exclude=(NO_SNAPSHOT, "trialnb-export"))

    def make_report(self) -> str:
        """Build the report now (the panel as it is, its settings, the code) and offer it as a
        download link. Returns the report's HTML."""
        text = reproduce.report_html(self.panel, self._settings(), self.picture())
        self.report_text = text
        self.report_link.value = data_link(text, f"{self.panel}-report.html", "text/html",
                                           "Download the report (HTML)", "trialnb-download-report")
        return text

    def save_report(self, path: str | Path) -> Path:
        """Write the report to ``path`` (atomically)."""
        return reproduce.write_report(path, self.panel, self._settings(), self.picture())

