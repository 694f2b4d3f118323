"""trialnb: a protocol companion for NCT04697043 (surgery of the primary tumour in de novo
metastatic breast cancer). Computation lives in the submodules; import what you need, e.g.
``from trialnb.protocol import PROTOCOL``.
"""

__version__ = "0.1.0"
