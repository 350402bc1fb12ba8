"""Lazy public names for the stage subpackages, and the deprecated module paths of 0.1.

Every stage subpackage (``pelsvae_tf.generate``, ``pelsvae_tf.serve``, ...) lists its public
names in one ``{name: submodule}`` table and calls :func:`lazy_exports`; a name is imported the
first time it is used, so ``import pelsvae_tf.generate`` (and ``pelsvae --help``) does not load
TensorFlow while ``from pelsvae_tf.generate import Generator`` works as usual.

:data:`DEPRECATED_MODULES` maps the flat module paths of pelsvae_tf 0.1 (``pelsvae_tf.generator``,
``pelsvae_tf.export``, ...) and the old top-level names ``tuning`` / ``serving`` to their
new homes; :class:`_DeprecatedModuleFinder` (installed by ``import pelsvae_tf``) makes an old
path import the new module with a ``DeprecationWarning`` naming the replacement. The old paths
will be removed in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any, Callable

#: old module path (pelsvae_tf 0.1) -> new module path
DEPRECATED_MODULES: dict[str, str] = {
    "pelsvae_tf.data.sky": "pelsvae_tf.sky",
    "pelsvae_tf.model": None,  # placeholder removed below: pelsvae_tf.model is now the subpackage
    "pelsvae_tf.layers": "pelsvae_tf.model.layers",
    "pelsvae_tf.losses": "pelsvae_tf.model.losses",
    "pelsvae_tf.training": "pelsvae_tf.train",
    "pelsvae_tf.callbacks": "pelsvae_tf.train.callbacks",
    "pelsvae_tf.regressors": "pelsvae_tf.regress",
    "pelsvae_tf.density": "pelsvae_tf.regress.density",
    "pelsvae_tf.regressor_graph": "pelsvae_tf.regress.graph",
    "pelsvae_tf.generator": "pelsvae_tf.generate",
    "pelsvae_tf.phase_function": "pelsvae_tf.generate.phase_function",
    "pelsvae_tf.cadence": "pelsvae_tf.generate.cadence",
    "pelsvae_tf.augment": "pelsvae_tf.generate.augment",
    "pelsvae_tf.export": "pelsvae_tf.serve",
    "pelsvae_tf.serving_signatures": "pelsvae_tf.serve.signatures",
    "pelsvae_tf.evaluation": "pelsvae_tf.evaluate",
    "pelsvae_tf.metrics": "pelsvae_tf.evaluate.metrics",
    "pelsvae_tf.realism": "pelsvae_tf.evaluate.realism",
    "pelsvae_tf.spread": "pelsvae_tf.evaluate.spread",
    "pelsvae_tf.physics_recovery": "pelsvae_tf.evaluate.physics_recovery",
    "pelsvae_tf.plots": "pelsvae_tf.evaluate.plots",
    "tuning": "pelsvae_tf.tuning",
    "serving": "pelsvae_tf.serving",
}
del DEPRECATED_MODULES["pelsvae_tf.model"]  # the 0.1 module's names are the subpackage's names
#: old top-level packages whose submodules are aliased too (``tuning.hypermodel``, ...)
_DEPRECATED_PACKAGES = ("tuning", "serving")


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for a package whose public names are lazy.

    Args:
        package: the package's ``__name__``.
        exports: public name -> submodule (relative to ``package``) that defines it.
    """

    def __getattr__(name: str) -> Any:
        sub = exports.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, sorted(exports)


def _new_name(fullname: str) -> str | None:
    if fullname in DEPRECATED_MODULES:
        return DEPRECATED_MODULES[fullname]
    head, _, rest = fullname.partition(".")
    if head in _DEPRECATED_PACKAGES and rest:
        return f"{DEPRECATED_MODULES[head]}.{rest}"
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def create_module(self, spec):
        warnings.warn(
            f"`{self.old}` is deprecated since pelsvae_tf 0.2 and will be removed in 0.3; import `{self.new}` instead",
            DeprecationWarning,
            stacklevel=4,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module):  # already executed under its new name
        sys.modules[self.old] = module


class _DeprecatedModuleFinder(importlib.abc.MetaPathFinder):
    """Resolve the module paths of pelsvae_tf 0.1 to their new homes (with a warning)."""

    def find_spec(self, fullname, path=None, target=None):
        new = _new_name(fullname)
        if new is None:
            return None
        # a real module of that name (e.g. a source checkout's tuning/ folder) must not win
        return importlib.util.spec_from_loader(fullname, _AliasLoader(fullname, new))


#: design-card folders at the top of a source checkout that install as ``pelsvae_tf.<name>``
_CHECKOUT_PACKAGES = ("tuning", "serving")


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """In a source checkout (``pyproject.toml`` beside ``pelsvae_tf/``), resolve
    ``pelsvae_tf.tuning`` / ``pelsvae_tf.serving`` to that checkout's ``tuning/`` / ``serving/``
    folders, as the installed ``package-dir`` mapping does, whichever checkout is installed."""

    def __init__(self, root):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        head, _, name = fullname.partition(".")
        if head != "pelsvae_tf" or name not in _CHECKOUT_PACKAGES:
            return None
        init = self.root / name / "__init__.py"
        if not init.exists():
            return None
        return importlib.util.spec_from_file_location(fullname, init, submodule_search_locations=[str(init.parent)])


def install() -> None:
    """Put the deprecated-path finder (and, in a source checkout, the checkout finder) first on
    ``sys.meta_path`` (idempotent)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").exists() and not any(isinstance(f, _CheckoutFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _CheckoutFinder(root))
    if not any(isinstance(f, _DeprecatedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _DeprecatedModuleFinder())
