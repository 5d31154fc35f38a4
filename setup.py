"""The compiled media inner loop (bailanys/media/_fastrtp.c); everything else is in pyproject.toml.

Built by ``pip install -e .`` with the system's C compiler (Debian: gcc,
``build-essential``).  Where it cannot be built the install still succeeds
and the media hub runs its pure-Python fallback (bailanys/media/core.py).
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the extension if a compiler is there; warn and go on if not."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers: the fallback runs
            print(f"bailanys: media fast path not built ({exc}); pure Python is used",
                  file=sys.stderr)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"bailanys: {ext.name} not built ({exc}); pure Python is used",
                  file=sys.stderr)


setup(
    ext_modules=[
        Extension(
            "bailanys.media._fastrtp",
            ["bailanys/media/_fastrtp.c"],
            extra_compile_args=["-O3", "-std=c11", "-D_GNU_SOURCE", "-Wall"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
