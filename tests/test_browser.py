"""Real-browser tests: Debian Chromium driven by Playwright (never `playwright install`).

* every Voila dashboard (started exactly as `make present` starts it) renders, responds to a
  control (the displayed number and the figure change) and shows no error;
* the sample-size explorer works inside JupyterLab: notebooks/02_sample_size.ipynb is opened,
  run top to bottom, a control is moved and the displayed N changes;
* a hand-out opens with the network off, with its formulas rendered as MathML and its figures
  embedded.

Screenshots go to build/screenshots/ so a person can look at them. Servers listen on free
loopback ports; requests to any other host are blocked (and recorded), so the tests neither
need nor use the internet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from servers import BIN, ROOT, free_port, start, stop, wait_http  # tests/ is on sys.path

pytestmark = pytest.mark.browser

SHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Console messages that are not errors of ours: the browser's report of a request we blocked
# (every blocked request is recorded in PageWatch.blocked, and the tests require none).
BLOCKED_NOISE = re.compile(r"^Failed to load resource: net::ERR_(FAILED|INTERNET_DISCONNECTED)")
ERROR_TEXT = re.compile(r"Traceback|error when executing|Exception|\b[A-Z]\w*Error\b")


# --- helpers ------------------------------------------------------------------------------

class PageWatch:
    """Collects a page's console errors, uncaught exceptions, every request it makes
    (``requests``) and the requests outside ``allowed_prefixes``, which are blocked (``blocked``)."""

    def __init__(self, page, allowed_prefixes: tuple[str, ...]) -> None:
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.requests: list[str] = []
        self.allowed = allowed_prefixes
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, msg) -> None:
        if msg.type == "error" and not BLOCKED_NOISE.match(msg.text):
            self.errors.append(f"console: {msg.text[:500]}")


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


# --- Voila dashboards ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def voila(voila_server) -> str:
    """The URL of `make present` (the session's server, conftest.py)."""
    return voila_server.url


def move_slider(page, root: str, label: str, presses: int = 5, key: str = "ArrowRight") -> None:
    """Move the slider labelled ``label`` inside ``root`` with the keyboard, like a person would."""
    slider = page.locator(f"{root} .widget-slider", has=page.locator("label", has_text=label)).first
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        page.keyboard.press(key)


UNREACHABLE_JS = """root => {
  const bad = [];
  // a file upload's <input type=file> is hidden by design: its button is what a person clicks
  for (const el of root.querySelectorAll('button, select, input:not([type=file]), .noUi-handle')) {
    el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    if (r.width < 2 || r.height < 2 || !hit || !(el === hit || el.contains(hit) || hit.contains(el))) {
      const box = el.closest('.widget-inline-hbox, .jupyter-widgets') || el;
      const label = (box.innerText || el.getAttribute('title') || el.tagName).trim().split('\\n')[0];
      bad.push(label + ' (covered by ' + (hit ? hit.tagName + '.' + hit.className : 'nothing') + ')');
    }
  }
  window.scrollTo(0, 0);
  return bad;
}"""


def unreachable_controls(page, root: str) -> list[str]:
    """Controls inside ``root`` that a person cannot click: zero-sized or covered by another element."""
    return page.locator(root).first.evaluate(UNREACHABLE_JS)


@dataclass(frozen=True)
class Dashboard:
    notebook: str
    root: str                       # CSS selector of the dashboard's root widget
    number: str                     # CSS selector of the displayed key number
    act: Callable                   # act(page): what a presenter does
    figure: str = "img, svg"        # what counts as the figure inside root
    opens_with: Callable[[], str] | None = None  # text the panel shows as it opens (computed headless)

    def snapshot(self, page) -> tuple[str, str]:
        number = page.inner_text(self.number).strip()
        figs = page.locator(f"{self.root} :is({self.figure})")
        html = "".join(figs.nth(i).evaluate("e => e.outerHTML") for i in range(min(figs.count(), 5)))
        return number, html


def _sample_size_unrounded() -> str:
    """The unrounded N the sample-size panel computes at the protocol's design, headless (the
    kernel's exact exp(-0.5)): the page must show the same, not a value rounded by its slider."""
    from trialnb.report import fmt_num
    from trialnb.widgets.sample_size import SampleSizeExplorer

    return f"{fmt_num(SampleSizeExplorer().result.n_total, 1)} unrounded"


def allocate_two_patients(page) -> None:
    """Allocate a patient with a bone-dominant disease, then one with visceral disease."""
    root = page.locator(".trialnb-randomization").first
    site = root.locator(".widget-dropdown", has=page.locator("label", has_text="Dominant")).locator("select")
    button = root.get_by_role("button", name="Allocate")
    button.click()
    page.wait_for_function("() => !document.querySelector('.trialnb-allocation').innerText.includes('No patient')",
                           timeout=30_000)
    site.select_option(label="Visceral")
    button.click()
    page.wait_for_function("() => document.querySelector('.trialnb-allocation').innerText.includes('Patient 2')",
                           timeout=30_000)


DASHBOARDS = [
    Dashboard("sample_size", ".trialnb-sample-size", ".trialnb-n-total",
              lambda page: move_slider(page, ".trialnb-sample-size", "Hazard ratio", 5), figure="svg",
              opens_with=_sample_size_unrounded),
    # the console has no plot: its picture is the table of patients per arm and level
    Dashboard("randomization", ".trialnb-randomization", ".trialnb-allocation", allocate_two_patients,
              figure=".trialnb-counts", opens_with=lambda: "No patient allocated yet"),
    Dashboard("bias", ".trialnb-bias", ".trialnb-bias-result",
              lambda page: page.locator(".trialnb-bias").get_by_role("button", name="All mechanisms off").click(),
              figure=".trialnb-bias-plot img"),
    Dashboard("operating_characteristics", ".trialnb-oc", ".trialnb-power",
              lambda page: move_slider(page, ".trialnb-oc", "True hazard ratio", 5),
              figure=".trialnb-oc-histogram svg"),
    # cut-off 29.75 -> 31 months (the planned interim, then five steps of a week): 33 -> 35
    # deaths within 24 months, "continue" (z misses the bound by 2e-4) -> "efficacy boundary crossed"
    Dashboard("monitoring", ".trialnb-monitor", ".trialnb-monitor-decision",
              lambda page: move_slider(page, ".trialnb-monitor", "Cut-off month", 5, "ArrowRight"),
              figure=".trialnb-monitor-plot svg"),
    # untick MF07-01: the pooled HR moves from 0.93 to 1.00, the probability of success from 10% to 3%
    Dashboard("evidence", ".trialnb-evidence", ".trialnb-evidence-pos",
              lambda page: page.locator(".trialnb-evidence .widget-checkbox", has_text="MF07-01")
              .locator("input").first.click(),
              figure=".trialnb-evidence-plot img"),
    # proportional -> delayed benefit: the Cox model's power falls from about 79% to 40%, the curves move
    Dashboard("estimands", ".trialnb-estimands", ".trialnb-estimands-power",
              lambda page: page.locator(".trialnb-estimands select").first.select_option(label="delayed benefit"),
              figure=".trialnb-estimands-curves svg"),
]


def settle(page, dash: Dashboard, before: tuple[str, str], timeout: float = 45, quiet: float = 2.0) -> tuple[str, str]:
    """Wait until number and figure have changed from ``before`` and then stayed the same for
    ``quiet`` seconds (every queued callback has run); return the final snapshot."""
    deadline = time.monotonic() + timeout
    last, since = dash.snapshot(page), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = dash.snapshot(page)
        if now != last:
            last, since = now, time.monotonic()
        elif last[0] != before[0] and last[1] != before[1] and time.monotonic() - since >= quiet:
            break
    return last


@pytest.mark.parametrize("dash", DASHBOARDS, ids=lambda d: d.notebook)
def test_dashboard_renders_and_responds(voila: str, browser, dash: Dashboard) -> None:
    assert (ROOT / "notebooks" / "dashboards" / f"{dash.notebook}.ipynb").exists(), "run make outputs"
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    watch = PageWatch(page, (voila, "data:", "blob:"))
    try:
        page.goto(f"{voila}/voila/render/{dash.notebook}.ipynb", timeout=120_000)
        page.wait_for_selector(dash.number, timeout=120_000)
        page.wait_for_function("() => !document.querySelector('#loading')"
                               " || getComputedStyle(document.querySelector('#loading')).display === 'none'",
                               timeout=120_000)
        before = dash.snapshot(page)
        assert before[0], "the key number is empty"
        if dash.opens_with is not None:  # the panel opens at its defaults, exactly
            assert dash.opens_with() in page.inner_text(dash.root), f"{dash.notebook} did not open at its defaults"
        assert before[1], f"no figure ({dash.figure}) inside {dash.root}"
        page.screenshot(path=str(SHOTS / f"voila_{dash.notebook}_before.png"), full_page=True)
        hidden = unreachable_controls(page, dash.root)
        assert hidden == [], f"controls a presenter cannot reach: {hidden[:5]}"
        dash.act(page)
        after = settle(page, dash, before)
        page.screenshot(path=str(SHOTS / f"voila_{dash.notebook}_after.png"), full_page=True)
        assert after[0] != before[0], f"displayed number did not change: {before[0]!r}"
        assert after[1] != before[1], "the figure did not change"
        assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor, .highlight").count() == 0, "code is shown"
        assert "build_dashboard(" not in page.inner_text("body"), "source code is visible"
        outputs = page.locator(".jp-OutputArea-output[data-mime-type*='stderr'], "
                               ".jp-OutputArea-output[data-mime-type*='error'], .jp-RenderedText")
        bad = [t for t in (outputs.nth(i).inner_text() for i in range(outputs.count())) if ERROR_TEXT.search(t)]
        assert bad == [], f"error output in the page: {bad}"
        assert watch.errors == [], "\n".join(watch.errors)
        assert watch.blocked == [], f"the dashboard requested outside the server: {watch.blocked}"
        assert len(watch.requests) > 10 and all(u.startswith((voila, "data:", "blob:")) for u in watch.requests)
    finally:
        ctx.close()


def _open(page, voila: str, dash: Dashboard) -> None:
    page.goto(f"{voila}/voila/render/{dash.notebook}.ipynb", timeout=120_000)
    page.wait_for_selector(dash.number, timeout=120_000)
    page.wait_for_function("() => !document.querySelector('#loading')"
                           " || getComputedStyle(document.querySelector('#loading')).display === 'none'",
                           timeout=120_000)


def _wait_text(page, selector: str, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function("([sel, t]) => { const e = document.querySelector(sel); "
                           "return e && e.innerText.includes(t); }", arg=[selector, text], timeout=timeout)


EXPORTED = {d.notebook: d for d in DASHBOARDS if d.notebook in ("sample_size", "monitoring")}


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_dashboard_saves_loads_and_reports(voila: str, browser, tmp_path: Path, name: str) -> None:
    """A presenter changes the panel, saves its settings (a download), opens the dashboard again
    (it opens at its defaults), loads the file (the panel shows what it showed before), makes the
    report and downloads it; the report reads offline and holds the settings and both calls; the
    R call is on the page."""
    dash = EXPORTED[name]
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    watch = PageWatch(page, (voila, "data:", "blob:"))
    root = page.locator(dash.root).first
    try:
        _open(page, voila, dash)
        opened = page.inner_text(dash.number).strip()
        if name == "sample_size":  # solve for the power of the patients, then move the hazard ratio
            root.get_by_role("button", name="Power", exact=True).click()
            _wait_text(page, dash.number, "Power")
            move_slider(page, dash.root, "Hazard ratio", 5)
        else:
            move_slider(page, dash.root, "Cut-off month", 5, "ArrowRight")
        changed = settle(page, dash, dash.snapshot(page))[0]
        assert changed != opened
        page.wait_for_timeout(1500)  # the settings link follows the last update
        with page.expect_download() as got:
            root.locator("a.trialnb-download-settings").click()
        saved = tmp_path / got.value.suggested_filename
        got.value.save_as(saved)
        doc = json.loads(saved.read_text())
        assert doc["panel"] == name and doc["format"] == "trialnb-dashboard-settings"
        if name == "sample_size":
            assert doc["settings"]["solve_for"] == "power" and doc["settings"]["hazard_ratio"] != 0.5
        else:
            assert doc["settings"]["cutoff"] != 29.75
        assert watch.errors == [], "\n".join(watch.errors)
        assert watch.blocked == [], f"the dashboard requested outside the server: {watch.blocked}"
        # a new page: a new kernel at the defaults; loading the file restores what was shown
        page.close()
        page = ctx.new_page()
        watch = PageWatch(page, (voila, "data:", "blob:"))
        root = page.locator(dash.root).first
        _open(page, voila, dash)
        assert page.inner_text(dash.number).strip() == opened
        with page.expect_file_chooser() as chooser:  # the upload button opens the file dialog
            root.get_by_role("button", name="Load settings").click()
        chooser.value.set_files(str(saved))
        _wait_text(page, f"{dash.root} .trialnb-export-message", "Settings loaded")
        page.wait_for_function("([sel, t]) => document.querySelector(sel).innerText.trim() === t",
                               arg=[dash.number, changed], timeout=60_000)
        page.screenshot(path=str(SHOTS / f"voila_{name}_loaded.png"), full_page=True)
        # the report
        root.get_by_role("button", name="Make report (HTML)").click()
        page.wait_for_selector(f"{dash.root} a.trialnb-download-report", timeout=60_000)
        with page.expect_download() as got:
            root.locator("a.trialnb-download-report").click()
        report = tmp_path / got.value.suggested_filename
        got.value.save_as(report)
        html = report.read_text()
        assert "<script" not in html and "Reproduce in R (rpact)" in html and "library(rpact)" in html
        assert "Reproduce in Python (trialnb)" in html and " ".join(changed.split()[:2]) in html  # what was shown
        # the R call is on the page, under its heading
        root.get_by_text("Reproduce in R (rpact)").first.click()
        _wait_text(page, f"{dash.root} .trialnb-r-code", "library(rpact)")
        assert watch.errors == [], "\n".join(watch.errors)
        assert watch.blocked == [], f"the dashboard requested outside the server: {watch.blocked}"
        # the report reads offline
        offline = ctx.new_page()
        seen = PageWatch(offline, ("file:",))
        offline.goto(report.as_uri())
        assert offline.locator("h1").first.inner_text().strip()
        offline.screenshot(path=str(SHOTS / f"report_{name}.png"), full_page=True)
        assert seen.blocked == [] and seen.errors == []
    finally:
        ctx.close()


def test_voila_index_lists_every_dashboard(voila: str, browser) -> None:
    """The page `make present` prints (the Voila tree) links every dashboard, and no source
    file; it requests nothing outside the server."""
    ctx = browser.new_context()
    page = ctx.new_page()
    watch = PageWatch(page, (voila, "data:", "blob:"))
    try:
        page.goto(voila + "/", timeout=60_000)
        for d in DASHBOARDS:
            page.get_by_text(f"{d.notebook}.ipynb").first.wait_for(timeout=60_000)
        page.screenshot(path=str(SHOTS / "voila_index.png"))
        assert watch.blocked == [], f"the dashboard list requested outside the server: {watch.blocked}"
    finally:
        ctx.close()


# --- JupyterLab ---------------------------------------------------------------------------

LAB_SETTINGS = {
    # never write to the notebook under test
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # render every cell (no virtual scrolling), so the explorer is in the DOM wherever it is
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news / update checks (network) and no pop-up asking about them
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab on loopback with a token, serving a throwaway copy of the notebooks folder."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "dashboards"))
    for name in ("data", "tests"):  # notebooks read ../data and ../tests/reference
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    settings = tmp / "settings"
    for rel, value in LAB_SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "ws"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               PYTHONHASHSEED="0")
    token = "trialnb-browser-test"
    port = free_port()
    log = tmp / "lab.log"
    proc = start([str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                  f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                  f"--ServerApp.root_dir={work / 'notebooks'}", "--LabApp.expose_app_in_browser=True",
                  "--ServerApp.port_retries=0", "--allow-root"], log, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/status?token={token}", proc, log)
        yield url, token, work
    finally:
        stop(proc)


def test_sample_size_explorer_in_jupyterlab(lab, browser) -> None:
    url, token, work = lab
    nb = work / "notebooks" / "02_sample_size.ipynb"
    assert nb.exists(), "notebooks/02_sample_size.ipynb is missing"
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    watch = PageWatch(page, (url, "data:", "blob:"))
    try:
        page.goto(f"{url}/lab/tree/02_sample_size.ipynb?token={token}", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                               timeout=120_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.ready !== undefined",
                               timeout=60_000)
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # every code cell executed (an execution count) and the kernel idle again
        page.wait_for_function(
            """() => {
                 const w = window.jupyterapp.shell.currentWidget;
                 const cells = w.content.widgets.filter(
                   c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
                 return w.sessionContext.session.kernel.status === 'idle'
                        && cells.every(c => c.model.executionCount !== null && c.promptNode
                                            && !c.promptNode.textContent.includes('*'));
               }""", timeout=150_000, polling=500)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                              ":has-text('Traceback')")
        assert errors.count() == 0, errors.first.inner_text()
        root = page.locator(".trialnb-sample-size").first
        root.scroll_into_view_if_needed(timeout=30_000)
        n = root.locator(".trialnb-n-total").first
        n.wait_for(timeout=60_000)
        before = n.inner_text().strip()
        page.screenshot(path=str(SHOTS / "jupyterlab_02_sample_size_before.png"))
        slider = root.locator(".widget-slider", has=page.locator("label", has_text="Hazard ratio")).first
        slider.locator(".noUi-handle").first.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        deadline = time.monotonic() + 30
        while n.inner_text().strip() == before and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        after = n.inner_text().strip()
        page.screenshot(path=str(SHOTS / "jupyterlab_02_sample_size_after.png"))
        assert after != before, f"N did not change after moving the hazard-ratio slider: {before!r}"
        assert re.search(r"N = [\d,]+", after), after
        console = [e for e in watch.errors if "Failed to load" not in e]
        assert not [e for e in console if "trialnb" in e or "widget" in e.lower()], console
    finally:
        ctx.close()


def test_slide_tags_present_as_rise_slides_in_jupyterlab(lab, browser) -> None:
    """`tools/notebooks.py slide-tags` gives a notebook what jupyterlab-rise needs: one slide per
    H1/H2 cell (the slide rule), shown by RISE's slideshow page."""
    import jupytext
    import nbformat

    url, token, work = lab
    tools = _load_tools()
    py = work / "notebooks" / "slides_check.py"
    # start from the source without slide metadata, so the test proves slide-tags writes it
    text = (ROOT / "notebooks" / "02_sample_size.py").read_text(encoding="utf-8")
    py.write_text(re.sub(r'^(# %% \[markdown\]) slideshow=\{"slide_type": "[a-z-]+"\}', r"\1", text, flags=re.M),
                  encoding="utf-8")
    assert tools.add_slide_metadata(py) > 0
    nb = jupytext.read(py, fmt="py:percent")
    kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    nbformat.write(nb, py.with_suffix(".ipynb"))
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    PageWatch(page, (url, "data:", "blob:"))
    try:
        page.goto(f"{url}/rise/slides_check.ipynb?token={token}", timeout=120_000)
        page.wait_for_selector(".reveal .slides > section", timeout=120_000)
        page.wait_for_function(f"() => document.querySelectorAll('.reveal .slides > section').length"
                               f" === {kinds.count('slide')}", timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "rise_02_sample_size.png"))
    finally:
        ctx.close()


# --- hand-outs offline --------------------------------------------------------------------

def _load_tools():
    import importlib.util

    spec = importlib.util.spec_from_file_location("trialnb_tools_notebooks", ROOT / "tools" / "notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HANDOUT_NOTEBOOKS = ["02_sample_size", "03_randomization"]


@pytest.mark.parametrize("name", HANDOUT_NOTEBOOKS)
def test_handout_reads_offline(browser, tmp_path: Path, name: str) -> None:
    import nbformat

    tools = _load_tools()
    src = ROOT / "notebooks" / f"{name}.py"
    assert src.with_suffix(".ipynb").exists(), f"{src.with_suffix('.ipynb')} missing"
    nb = nbformat.read(src.with_suffix(".ipynb"), as_version=4)
    formulas: list[str] = []
    for c in nb.cells:
        if c.cell_type == "markdown":
            tools.protect_math(c.source, formulas)
    tools.main(["handouts", "--out", str(tmp_path), str(src)])
    handout = tmp_path / f"{name}.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
    page = ctx.new_page()
    watch = PageWatch(page, ("file://", "data:", "blob:"))
    try:
        page.goto(handout.as_uri(), timeout=60_000)
        page.wait_for_load_state("load")
        assert watch.blocked == [], f"the hand-out tried to fetch: {watch.blocked}"
        assert formulas, f"{name} has no formula to check"
        maths = page.locator("math")
        assert maths.count() >= len(formulas), f"{maths.count()} MathML elements for {len(formulas)} formulas"
        sizes = page.evaluate("() => [...document.querySelectorAll('math')]"
                              ".map(m => m.getBoundingClientRect()).map(r => [r.width, r.height])")
        assert all(w > 0 and h > 0 for w, h in sizes), f"MathML not laid out: {sizes}"
        text = page.inner_text("main")
        assert not re.search(r"(?<![\\\w])\$[^$\s](?:[^$]*?[^\s$])?\$(?!\d)", text), "raw $...$ left in the hand-out"
        assert not re.search(r"\\(frac|left|right|mathrm|text|alpha|beta|lambda|ln)\b", text), "raw LaTeX left"
        imgs = page.evaluate("() => [...document.images].map(i => [i.src.slice(0, 22), i.complete, i.naturalWidth])")
        assert imgs, "no figure in the hand-out"
        assert all(s.startswith("data:image/") and ok and w > 0 for s, ok, w in imgs), imgs
        assert page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor").count() == 0, "code is shown"
        page.locator("math").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"handout_{name}_offline.png"))
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()


# --- the reviewer's report ----------------------------------------------------------------

def test_monitor_report_reads_offline(browser, tmp_path: Path) -> None:
    """`trialnb monitor --html` opens with the network off, with its decision and its figure."""
    from trialnb.cli import main

    path = tmp_path / "interim.html"
    assert main(["monitor", "--data", str(ROOT / "data" / "trial_protocol.csv"), "--cutoff-month", "30",
                 "--html", str(path)]) == 0
    ctx = browser.new_context(offline=True, viewport={"width": 1200, "height": 1400})
    page = ctx.new_page()
    watch = PageWatch(page, ("file://", "data:"))
    try:
        page.goto(path.as_uri(), timeout=60_000)
        assert watch.blocked == [], watch.blocked
        assert page.get_attribute(".decision", "data-decision") == "efficacy boundary crossed"
        from trialnb import __version__

        footer = page.inner_text("footer.provenance")  # what the report was made from
        assert f"trialnb {__version__}" in footer and "SHA-256" in footer
        box = page.locator("figure svg").first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        assert page.locator("table tr").count() >= 10
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "monitor_report.png"), full_page=True)
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()


def test_review_report_reads_offline(browser, tmp_path: Path) -> None:
    """`trialnb audit --html` opens with the network off; every section is there and ok."""
    from trialnb.review import collect, write_html

    path = write_html(tmp_path / "audit.html")
    ctx = browser.new_context(offline=True, viewport={"width": 1200, "height": 1200})
    page = ctx.new_page()
    watch = PageWatch(page, ("file://", "data:"))
    try:
        page.goto(path.as_uri(), timeout=60_000)
        assert watch.blocked == [], watch.blocked
        statuses = page.eval_on_selector_all("section", "els => els.map(e => e.dataset.status)")
        sections = len(collect())
        assert sections >= 6  # findings, numbers, the rpact, survival and riskRegression checks, seeds, versions
        assert statuses == ["findings"] + ["ok"] * (sections - 1), statuses  # the findings lead, then our checks
        assert page.locator("td.result-fail").count() == 0
        assert page.locator("td.result-pass").count() >= 100
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "review_report.png"))
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()


def test_sap_reads_offline_and_prints(browser, tmp_path: Path) -> None:
    """`trialnb sap --html` opens with the network off: the six guideline sections, the
    amendments and both appendices are there, every computed number links to its source row,
    nothing is wider than the page on screen, and it prints to a multi-page PDF."""
    from trialnb.cli import main
    from trialnb.sap_document import GUIDELINE_SECTIONS

    path = tmp_path / "sap" / "sap.html"
    assert main(["sap", "--html", str(path)]) == 0
    ctx = browser.new_context(offline=True, viewport={"width": 1000, "height": 1300})
    page = ctx.new_page()
    watch = PageWatch(page, ("file://", "data:"))
    try:
        page.goto(path.as_uri(), timeout=60_000)
        assert watch.blocked == [], watch.blocked
        names = page.eval_on_selector_all("section", "els => els.map(e => e.dataset.section)")
        assert names == [*GUIDELINE_SECTIONS, "Proposed protocol amendments", "Appendix A", "Appendix B"]
        assert page.locator("#amendments article").count() >= 15
        decide = page.locator('article[data-status="decide"]').count()
        assert decide >= 10 and page.locator("article .decide").count() == decide
        # every computed number's footnote points at an existing row of Appendix B
        targets = page.eval_on_selector_all(".num sup a", "els => els.map(e => e.getAttribute('href'))")
        assert len(targets) >= 100
        missing = [t for t in set(targets) if page.locator(t).count() != 1]
        assert missing == [], missing[:5]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than the page"
        page.locator("#interim-analyses-and-stopping-guidance").scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "sap_interim.png"))
        headings = page.eval_on_selector_all("h1, h2, h3", "els => els.map(e => e.innerText.trim())")
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
        pages = printed_pages(pdf)
        assert len(pages) >= 10, "printed to fewer than ten pages"
        problems = heading_only_or_unnumbered(pages, headings, title=page.title())
        assert problems == [], "\n".join(problems)
        assert "generated" in pages[-1].lower() and "trialnb" in pages[-1], "no provenance footer at the end"
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()


def printed_pages(pdf: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf)."""
    import io

    from pypdf import PdfReader

    return [pg.extract_text() or "" for pg in PdfReader(io.BytesIO(pdf)).pages]


def heading_only_or_unnumbered(pages: list[str], headings: list[str], title: str) -> list[str]:
    """Pages without "page n of N" in their margin, and pages holding nothing but headings
    (and the margin's title and number)."""
    problems = []
    norm = lambda t: " ".join(t.split())  # noqa: E731
    for n, text in enumerate(pages, start=1):
        flat = norm(text)
        marker = f"page {n} of {len(pages)}"
        if marker not in flat:
            problems.append(f"page {n}: no '{marker}' in its margin")
        rest = flat.replace(marker, " ").replace(norm(title), " ")
        for h in sorted((norm(h) for h in headings if h.strip()), key=len, reverse=True):
            rest = rest.replace(h, " ")
            rest = rest.replace(h.upper(), " ")
        if len(norm(rest)) < 40:
            problems.append(f"page {n} holds only a heading: {flat[:120]!r}")
    return problems


# --- slides (make slides) -----------------------------------------------------------------

def test_slides_present_offline(browser, tmp_path: Path) -> None:
    """`make slides` output runs reveal.js with the network off: nothing fetched, every slide
    there, navigation works, and no slide overflows into a wall of text."""
    tools = _load_tools()
    src = ROOT / "notebooks" / "01_rationale.py"
    tools.main(["slides", "--out", str(tmp_path), str(src)])
    deck = tmp_path / "01_rationale.slides.html"
    ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    watch = PageWatch(page, ("file://", "data:", "blob:"))
    try:
        page.goto(deck.as_uri(), timeout=60_000)
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        assert watch.blocked == [], f"the slides tried to fetch: {watch.blocked}"
        total = page.evaluate("() => Reveal.getTotalSlides()")
        assert total >= 15, total
        page.evaluate("() => Reveal.next()")
        assert page.evaluate("() => Reveal.getIndices().h + Reveal.getIndices().v") >= 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "slides_01_offline.png"))
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()


SLIDE_FIT_JS = """() => {
  // every slide and sub-slide of the deck, in order: how far its content reaches past the
  // reveal.js slide box (in slide pixels), and any element that hides content behind a scrollbar
  const out = [];
  const stacks = Reveal.getHorizontalSlides();
  for (let h = 0; h < stacks.length; h++) {
    const subs = stacks[h].querySelectorAll(':scope > section');
    for (let v = 0; v < Math.max(subs.length, 1); v++) {
      Reveal.slide(h, v);
      const s = Reveal.getCurrentSlide();
      const box = Reveal.getSlidesElement().getBoundingClientRect();
      const scale = Reveal.getScale();
      let bottom = box.top, right = box.left, left = box.right, top = box.bottom;
      for (const el of s.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
        top = Math.min(top, r.top); left = Math.min(left, r.left);
      }
      const scrolled = [...s.querySelectorAll('*')].filter(e => {
        const cs = getComputedStyle(e);
        return (e.scrollWidth > e.clientWidth + 1 && !['visible', 'clip'].includes(cs.overflowX))
            || (e.scrollHeight > e.clientHeight + 1 && !['visible', 'clip'].includes(cs.overflowY));
      }).map(e => e.tagName + '.' + e.className);
      out.push({slide: `${h + 1}.${v + 1}`, below: (bottom - box.bottom) / scale, right: (right - box.right) / scale,
                above: (box.top - top) / scale, leftward: (box.left - left) / scale, scrolled,
                text: (s.innerText || '').trim().split('\\n')[0].slice(0, 70)});
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    """Every numbered notebook's deck, exactly as `make slides` writes it."""
    tools = _load_tools()
    out = tmp_path_factory.mktemp("slides")
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    assert tools.main(["slides", "--out", str(out), *map(str, sources)]) == 0
    return {p.stem: out / f"{p.stem}.slides.html" for p in sources}


@pytest.mark.parametrize("viewport", [(1280, 720), (1920, 1080)], ids=lambda v: f"{v[0]}x{v[1]}")
def test_every_slide_fits_the_screen(browser, decks: dict[str, Path], viewport: tuple[int, int]) -> None:
    """In a real browser at a laptop's and a projector's full-HD screen size, no slide or
    sub-slide of any deck has content outside the reveal.js slide box (tolerance 1 slide pixel)
    or hidden behind a scrollbar: figures, tables and printed output included."""
    width, height = viewport
    bad: list[str] = []
    counted = 0
    for name, deck in decks.items():
        ctx = browser.new_context(offline=True, viewport={"width": width, "height": height})
        page = ctx.new_page()
        watch = PageWatch(page, ("file://", "data:", "blob:"))
        try:
            page.goto(deck.as_uri(), timeout=60_000)
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
            page.evaluate("() => document.fonts.ready")
            slides = page.evaluate(SLIDE_FIT_JS)
            counted += len(slides)
            for s in slides:
                over = max(s["below"], s["right"], s["above"], s["leftward"])
                if over > 1 or s["scrolled"]:
                    bad.append(f"{name} slide {s['slide']} ({s['text']!r}): {over:.0f} px outside the slide"
                               + (f", scrolled {s['scrolled'][:2]}" if s["scrolled"] else ""))
            if width == 1280 and name == "04_analysis":
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.evaluate("() => Reveal.slide(4, 0)")
                page.screenshot(path=str(SHOTS / "slides_04_fit.png"))
            assert watch.blocked == [] and watch.errors == [], (watch.blocked, watch.errors)
        finally:
            ctx.close()
    assert counted >= 8 * 15, f"only {counted} slides in {len(decks)} decks"
    assert bad == [], f"{len(bad)} of {counted} slides overflow at {width}x{height}:\n" + "\n".join(bad)
