"""Issue 24 §4: every command that writes a file, on a full disk. The previous file stays intact,
no temporary file is left, the command says "cannot write" in one line and exits 1.

Two ways to fill the disk: a real 1 MiB tmpfs filled to the last byte (needs root to mount;
skipped with the reason otherwise), and a simulated ``ENOSPC`` half-way through the write
(monkeypatching :func:`trialnb.files._write_fd`, always run). ``monitor --html`` used to write
in place: on a full disk the previous report was destroyed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import trialnb.files as files
from trialnb.cli import main
from trialnb.randomization import AllocationLog, PocockSimon, simulate_patients
from trialnb.errors import AllocationLogError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
KEY = bytes(range(32))
PATS = simulate_patients(5, np.random.default_rng(3))


def _fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte (unbuffered writes, smaller and
    smaller blocks, until even one byte does not fit)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs (mounted, unmounted after the test); fill it with :func:`_fill`."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root (the simulated-ENOSPC tests cover the same paths)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


# (command line with {out} for the output folder, the files it writes there)
COMMANDS = [
    (["monitor", "--data", str(DATA / "trial_protocol.csv"), "--cutoff-month", "28.5", "--html", "{out}/report.html"],
     ["report.html"]),
    (["sap", "--html", "{out}/sap.html"], ["sap.html"]),
    (["sap", "--markdown", "{out}/sap.md"], ["sap.md"]),
    (["audit", "--html", "{out}/audit.html"], ["audit.html"]),
    (["build-data", "--out", "{out}", "--force"], ["trial_protocol.csv", "screening_log.csv", "manifest.csv",
                                                    "README.md"]),
]


def _previous(out: Path, names: list[str]) -> dict[str, bytes]:
    before = {}
    for name in names:
        before[name] = f"previous {name}\n".encode()
        (out / name).write_bytes(before[name])
    return before


@pytest.mark.parametrize("argv, names", COMMANDS, ids=[c[0][0] + ("-" + c[0][1] if c[0][0] == "sap" else "")
                                                      for c in COMMANDS])
def test_each_command_on_a_full_tmpfs_keeps_the_previous_file(full_disk, capsys, argv, names):
    before = _previous(full_disk, names)
    _fill(full_disk)
    rc = main([a.replace("{out}", str(full_disk)) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and err[0].startswith("trialnb: cannot write") and "No space left" in err[0], err
    assert {n: (full_disk / n).read_bytes() for n in names} == before
    assert _temps(full_disk) == []
    (full_disk / "filler").unlink()  # room again: the same command succeeds
    assert main([a.replace("{out}", str(full_disk)) for a in argv]) == 0
    assert all((full_disk / n).read_bytes() != before[n] for n in names)


@pytest.mark.parametrize("argv, names", COMMANDS, ids=[c[0][0] + ("-" + c[0][1] if c[0][0] == "sap" else "")
                                                      for c in COMMANDS])
def test_each_command_with_a_simulated_enospc_keeps_the_previous_file(tmp_path, monkeypatch, capsys, argv, names):
    out = tmp_path / "out"
    out.mkdir()
    before = _previous(out, names)

    def full(fd, data):
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write_fd", full)
    rc = main([a.replace("{out}", str(out)) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "No space left" in err[0], err
    assert {n: (out / n).read_bytes() for n in names} == before
    assert _temps(out) == []


def test_the_allocation_log_on_a_full_tmpfs_allocates_nothing(full_disk):
    """The log appends (its own fsynced writes) and its witness (atomic) on a full disk: the
    allocation is refused as a whole, the file and the witness are as before, and once there
    is room the same patient is allocated as an undisturbed log would."""
    path = full_disk / "log.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=5, key=KEY)
    log.allocate(PATS[0], patient_id="P001", timestamp="2026-01-01T00:00:00+00:00")
    witness = full_disk / "log.jsonl.witness"
    before, wbefore = path.read_bytes(), witness.read_bytes()
    _fill(full_disk)
    with pytest.raises(AllocationLogError, match="nothing was allocated") as e:
        log.allocate(PATS[1], patient_id="P002", timestamp="2026-01-01T00:00:00+00:00")
    assert e.value.kind == "io" and len(log) == 1
    assert path.read_bytes() == before and witness.read_bytes() == wbefore and _temps(full_disk) == []
    with pytest.raises(OSError):
        log.export(full_disk / "export.jsonl")
    assert not (full_disk / "export.jsonl").exists() and _temps(full_disk) == []
    (full_disk / "filler").unlink()
    log.allocate(PATS[1], patient_id="P002", timestamp="2026-01-01T00:00:00+00:00")
    ref = AllocationLog.in_memory(PocockSimon(), seed=5, key=KEY)
    for i, pid in enumerate(("P001", "P002")):
        ref.allocate(PATS[i], patient_id=pid, timestamp="2026-01-01T00:00:00+00:00")
    assert [e["arm"] for e in log.entries] == [e["arm"] for e in ref.entries]
    log.close()
    assert AllocationLog.verify_file(path, key=KEY) == 2


@pytest.mark.parametrize("argv, match", [
    (["sap", "--html", ""], "--html is empty"),
    (["sap", "--markdown", ""], "--markdown is empty"),
    (["sap", "--html", " "], "--html is empty"),
    (["audit", "--html", ""], "--html is empty"),
    (["sap", "--html", "x.txt"], "must end in .html or .htm"),
])
def test_an_empty_output_path_is_refused_as_build_data_refuses_one(tmp_path, monkeypatch, capsys, argv, match):
    """Issue 24: sap --html '' wrote nothing and exited 0."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert match in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_output_path_that_is_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "x.html").mkdir()
    assert main(["sap", "--html", str(tmp_path / "x.html")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_never_overwrite_works_without_hard_links(tmp_path, monkeypatch):
    """write_bytes_atomic(overwrite=False) renames by hard link (refused if the name exists); on
    a file system without hard links it checks, then renames, and still never replaces."""
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    p = tmp_path / "once.txt"
    files.write_bytes_atomic(p, b"first", overwrite=False)
    with pytest.raises(FileExistsError):
        files.write_bytes_atomic(p, b"second", overwrite=False)
    assert p.read_bytes() == b"first" and _temps(tmp_path) == []
