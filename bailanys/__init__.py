"""Bailanys: a telephony contact-centre engine (SIP, IVR, queues, KPIs)."""

import os as _os

# The media tick multiplies small matrices (in-band DTMF for every call at
# once).  Multi-threaded BLAS gains nothing at that size, and its worker
# threads spin-wait on the engine's core: measured here with 400 calls on one
# pinned core, 1.0 core busy with OpenBLAS threads versus 0.35 without.
# Set before numpy is first imported; an explicit setting by the user wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
