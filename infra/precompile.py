"""Add bytecode to the deployment package that `chalice package` wrote, so cold starts skip compiling.

Lambda's code directory is read-only, so Python cannot cache bytecode there: from a package of
sources alone, every cold start compiles every module it imports, ours and the dependencies the
package carries (pydantic, PynamoDB, Powertools, ...). Measured on the prod package, `import app`
takes 2.4 times as long that way (docs/BENCHMARKS.md). The bytecode is "unchecked-hash": Python
loads it without looking at the source's timestamp, which the zip would not keep anyway; the
package is never edited in place, so the two cannot drift apart.

Bytecode belongs to one Python version, so the package's runtime must be the interpreter running
this (`chalice package` takes its runtime from the same interpreter).

    python infra/precompile.py build/prod
"""

from __future__ import annotations

import compileall
import json
import sys
import tempfile
import zipfile
from pathlib import Path
from py_compile import PycInvalidationMode

LAMBDA_CODE_DIRECTORY = "/var/task"
# Fixed, so that two builds of the same sources give the same package.
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _runtimes(template: Path) -> set[str]:
    resources = json.loads(template.read_text())["Resources"]
    return {
        resource["Properties"]["Runtime"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Serverless::Function" and "Runtime" in resource.get("Properties", {})
    }


def precompile(package_directory: Path) -> int:
    """Add a `__pycache__/*.pyc` beside every module of `deployment.zip`; the number added."""
    interpreter = f"python{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = _runtimes(package_directory / "sam.json")
    if runtimes != {interpreter}:
        raise SystemExit(f"package runs on {sorted(runtimes)}, not {interpreter}: no bytecode would load")
    package = package_directory / "deployment.zip"
    with tempfile.TemporaryDirectory() as scratch:
        sources = Path(scratch) / "sources"
        with zipfile.ZipFile(package) as original:
            original.extractall(sources)
        compiled = compileall.compile_dir(
            sources,
            quiet=1,
            stripdir=str(sources),
            prependdir=LAMBDA_CODE_DIRECTORY,
            invalidation_mode=PycInvalidationMode.UNCHECKED_HASH,
            workers=0,
        )
        if not compiled:
            raise SystemExit("some modules of the package do not compile (listed above)")
        rewritten = package.with_name("deployment.zip.partial")
        added = 0
        with (
            zipfile.ZipFile(package) as original,
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            names = set(original.namelist())
            for entry in original.infolist():
                out.writestr(entry, original.read(entry))
            for bytecode in sorted(sources.rglob("*.pyc")):
                name = bytecode.relative_to(sources).as_posix()
                if name in names:
                    continue
                entry = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(entry, bytecode.read_bytes())
                added += 1
        rewritten.replace(package)
    return added


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"{precompile(Path(sys.argv[1]))} modules compiled into {sys.argv[1]}/deployment.zip")  # noqa: T201
