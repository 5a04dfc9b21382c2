"""Build the Cython kernel, with OpenMP when the compiler has it.

OpenMP is detected by compiling and linking a probe.  Without it the kernel builds
serially and the build warns; BERTSIZE_REQUIRE_OPENMP=1 (CI) makes that an error and
BERTSIZE_DISABLE_OPENMP=1 forces a serial build.  The same kind of probe picks the flag
that turns off straight-line vectorisation (see _NO_SLP_CANDIDATES).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int threads = 0;
        #pragma omp parallel reduction(+:threads)
        threads += 1;
        return threads > 0 ? 0 : 1;
    }
    """
)

# (compile flags, link flags) to try, in order.
_OPENMP_CANDIDATES = [
    (["-fopenmp"], ["-fopenmp"]),  # GCC, Clang on Linux
    (["/openmp"], []),  # MSVC
    (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),  # Apple Clang with Homebrew libomp
]


# The row loop writes a configuration's sizes into a struct one 8-byte store at a time
# and reads them straight back; GCC's and Clang's straight-line (SLP) vectoriser merge
# those reads into 16-byte loads, which cannot be forwarded from the 8-byte stores and
# stall (a third of the time per row for one metric on this project's machine).
_NO_SLP_CANDIDATES = [
    (["-fno-tree-slp-vectorize"], []),  # GCC
    (["-fno-slp-vectorize"], []),  # Clang
]
_EMPTY_PROBE = "int main(void) { return 0; }\n"


def _first_working_flags(compiler, probe, candidates) -> tuple[list[str], list[str]] | None:
    """The first (compile flags, link flags) with which `probe` compiles and links, else None."""
    workdir = tempfile.mkdtemp(prefix="bertsize-probe-")
    try:
        source = os.path.join(workdir, "probe.c")
        with open(source, "w", encoding="utf-8") as handle:
            handle.write(probe)
        for compile_flags, link_flags in candidates:
            try:
                objects = compiler.compile([source], output_dir=workdir, extra_postargs=compile_flags)
                compiler.link_executable(objects, "probe", output_dir=workdir, extra_postargs=link_flags)
            except Exception:  # noqa: BLE001 - any compiler or linker failure means "not this flag"
                continue
            return compile_flags, link_flags
        return None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class BuildWithOptionalOpenMP(build_ext):
    def build_extensions(self) -> None:
        flags = (None if os.environ.get("BERTSIZE_DISABLE_OPENMP") == "1"
                 else _first_working_flags(self.compiler, _PROBE, _OPENMP_CANDIDATES))
        no_slp = (None if self.compiler.compiler_type == "msvc"
                  else _first_working_flags(self.compiler, _EMPTY_PROBE, _NO_SLP_CANDIDATES))
        if flags is None:
            message = "bertsize: building the kernel without OpenMP (serial loops)"
            if os.environ.get("BERTSIZE_REQUIRE_OPENMP") == "1":
                sys.exit(f"error: {message}, but BERTSIZE_REQUIRE_OPENMP=1")
            print(f"WARNING: {message}", file=sys.stderr)
        for extension in self.extensions:
            if flags is not None:
                extension.extra_compile_args += flags[0]
                extension.extra_link_args += flags[1]
            if self.compiler.compiler_type != "msvc":
                extension.extra_compile_args += ["-O3"]
            if no_slp is not None:
                extension.extra_compile_args += no_slp[0]
        super().build_extensions()


_HEADERS = [os.path.join("csrc", name) for name in sorted(os.listdir("csrc")) if name.endswith(".h")]
# (extension, its C sources beside the .pyx): the kernel's stage loops are a translation
# unit of their own, which compiles the formula headers over doubles (csrc/bs_stage.c)
_SOURCES = {"_kernel": ["csrc/bs_stage.c"], "_search": []}
extensions = [
    Extension(f"bertsize.{name}", sources=[f"src/bertsize/{name}.pyx", *c_sources],
              include_dirs=["csrc", "src/bertsize"], depends=_HEADERS)
    for name, c_sources in _SOURCES.items()
]

setup(
    ext_modules=cythonize(extensions, compiler_directives={"language_level": 3}),
    cmdclass={"build_ext": BuildWithOptionalOpenMP},
)
