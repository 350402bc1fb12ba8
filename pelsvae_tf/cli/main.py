"""The ``pelsvae`` command line: one verb per pipeline stage.

Each verb lives in its own module that defines ``register(subparsers)`` (adds its parser and
sets ``func``) so ``pelsvae --help`` stays fast: TensorFlow is imported only by the verb that
needs it.

What every verb shares (this module):

- bad input (``ValueError``, ``OSError`` such as a missing file, ``KeyError``, a TensorFlow
  ``OpError``) ends in one line ``pelsvae VERB: error: ...`` on stderr and exit code 2, never a
  traceback; ``pelsvae --traceback VERB ...`` (or ``PELSVAE_TRACEBACK=1``) shows the full one;
- Ctrl-C (SIGINT) ends in one line saying what was kept and how to resume, exit code 130;
- TensorFlow's C++ log lines (oneDNN, CUDA stubs, the ``cuInit`` error of a CPU machine) are
  hidden unless ``pelsvae --verbose VERB ...`` (or ``PELSVAE_VERBOSE=1``) is given;
- help shows each option's default once (:class:`HelpFormatter`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

#: verb -> module that implements ``register(subparsers)``; order is the pipeline order.
VERBS: dict[str, str] = {
    "run": "pelsvae_tf.cli.run",
    "sky": "pelsvae_tf.cli.sky",
    "prepare": "pelsvae_tf.cli.prepare",
    "train": "pelsvae_tf.cli.train",
    "regress": "pelsvae_tf.cli.regress",
    "generate": "pelsvae_tf.cli.generate",
    "evaluate": "pelsvae_tf.cli.evaluate",
    "export": "pelsvae_tf.cli.export",
    "tune": "pelsvae_tf.cli.tune",
}

#: exit code of a verb stopped by Ctrl-C (128 + SIGINT, the shell convention)
EXIT_INTERRUPTED = 130
#: exit code of bad input (argparse's own code for a usage error)
EXIT_USAGE = 2

#: a line TensorFlow's C++ runtime writes to stderr (absl format) or its preamble
_TF_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


class HelpFormatter(argparse.HelpFormatter):
    """Append ``(default: X)`` to an option's help unless its text already names a default.

    Options whose default is ``None`` / ``False`` (flags) or suppressed get nothing added, so
    no help line ever says ``(default: None)`` or prints a default twice.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if "(default" in text.lower() or "%(default)" in text:
            return text
        if action.default in (None, False, argparse.SUPPRESS) or isinstance(
            action,
            (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction, argparse._VersionAction),
        ):
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        return text + " (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose help uses :class:`HelpFormatter` whatever a verb asked for."""

    def __init__(self, *args, **kwargs):
        kwargs["formatter_class"] = HelpFormatter
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every verb registered."""
    parser = _Parser(
        prog="pelsvae",
        description=(
            "PELS-VAE: generate periodic variable-star light curves from class, physical "
            "parameters (Teff [K], absolute G mag [mag], period [d]) and cadence."
        ),
        epilog="Errors are one line; `pelsvae --traceback VERB ...` (or PELSVAE_TRACEBACK=1) shows the full "
        "traceback. TensorFlow's C++ log lines are hidden; `pelsvae --verbose VERB ...` (or PELSVAE_VERBOSE=1) "
        "shows them.",
    )
    from pelsvae_tf import __version__

    parser.add_argument("--version", action="version", version=f"pelsvae_tf {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's C++ log lines")
    parser.add_argument("--traceback", action="store_true", help="show the full Python traceback of an error")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for verb, module in VERBS.items():
        mod = importlib.import_module(module)
        mod.register(sub)
    return parser


def _global_flags(argv: list[str]) -> tuple[bool, bool]:
    """``(verbose, traceback)`` from the options before the verb and the environment."""
    head: list[str] = []
    for tok in argv:
        if not tok.startswith("-"):
            break
        head.append(tok)
    env = lambda name: os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")  # noqa: E731
    return ("--verbose" in head or env("PELSVAE_VERBOSE"), "--traceback" in head or env("PELSVAE_TRACEBACK"))


def stdout_is_tty() -> bool:
    """True when stdout is a terminal (a Keras progress bar is then redrawn, not logged line by line)."""
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


def quiet_tensorflow(verbose: bool | None = None) -> None:
    """Import TensorFlow with its C++ start-up log lines hidden (``verbose=False``).

    ``verbose=None`` reads ``PELSVAE_VERBOSE``. Sets ``TF_CPP_MIN_LOG_LEVEL`` (3: no C++ log
    line at all, unless the user set it; a real failure still reaches Python as an exception and
    is reported by :func:`run_verb`; 0 with ``verbose``)
    before TensorFlow is imported, then imports it and lists the physical devices (where a CPU
    machine logs the CUDA ``cuInit`` error) with file descriptor 2 sent to a temporary file.
    Lines of that file that are not TensorFlow log lines are written back to stderr. Does
    nothing when TensorFlow is already imported or ``verbose`` is true (then the logs show).
    """
    if verbose is None:
        verbose = _global_flags([])[0]
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter)
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        for line in tmp.read().decode("utf-8", "replace").splitlines():
            if line.strip() and not _TF_LOG_LINE.match(line):
                print(line, file=sys.stderr)


def _is_user_error(exc: BaseException) -> bool:
    if isinstance(exc, (ValueError, OSError, KeyError)):
        return True
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            return isinstance(exc, tf.errors.OpError)
        except AttributeError:  # pragma: no cover - partially imported TF
            return False
    return False


def _one_line(exc: BaseException) -> str:
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(exc, getattr(tf.errors, "OpError", ())):
        msg = (exc.message or str(exc)).strip().splitlines()
        return f"TensorFlow {type(exc).__name__}: {msg[0] if msg else ''}"
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    if len(lines) > 1 or len(text) > 1000:  # a library's multi-line dump, not one of our messages
        text = lines[0][:300] + " ... (run `pelsvae --traceback VERB ...` for the full message)"
    return text


def interrupted_message(verb: str, args: argparse.Namespace) -> str:
    """The one line printed when ``verb`` is stopped by Ctrl-C: what was kept, how to resume."""
    out = getattr(args, "out", None) or getattr(args, "run_dir", None)
    again = "re-run the same command to resume"
    if verb == "train" and out:
        state_path = Path(out) / "checkpoints" / "state.json"
        try:
            epoch = int(json.loads(state_path.read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return f"interrupted before the first epoch was committed: nothing kept in {out}; re-run the same command to start again"
        return (
            f"interrupted: {out} keeps the {epoch} completed epoch(s) (checkpoints/state.json); "
            f"{again} from epoch {epoch + 1}"
        )
    if verb == "run" and out:
        return (
            f"interrupted: {out} keeps every finished stage (and training's last completed epoch); "
            f"{again} where it stopped"
        )
    if verb == "prepare" and out:
        return f"interrupted: {out} keeps the finished cleaning chunks and output shards; {again} (they are reused)"
    if verb == "tune" and out:
        return f"interrupted: {out} keeps every finished trial; {again} (an unfinished trial is run again)"
    if verb == "export" and out:
        return f"interrupted: {out} keeps every SavedModel already written (each is atomic); {again}"
    return (
        "interrupted: every file already finished is kept and none is half-written (writes are atomic); "
        "re-run the same command"
    )


def run_verb(args: argparse.Namespace, traceback_on: bool = False) -> int:
    """Call ``args.func(args)`` with the shared error and Ctrl-C handling; returns the exit code.

    User errors -> one ``pelsvae VERB: error: ...`` line and :data:`EXIT_USAGE`; Ctrl-C ->
    :func:`interrupted_message` and :data:`EXIT_INTERRUPTED`. ``traceback_on`` re-raises errors.
    """
    verb = getattr(args, "verb", None) or "?"
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        if traceback_on:
            traceback.print_exc()
        sys.stdout.flush()
        print(f"\npelsvae {verb}: {interrupted_message(verb, args)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - filtered by _is_user_error
        if traceback_on or not _is_user_error(exc):
            raise
        print(f"pelsvae {verb}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    return int(rc or 0)


#: verbs that do not need TensorFlow (no quiet import)
_NO_TF_VERBS = ("sky",)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pelsvae`` console script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose, tb = _global_flags(argv)
    if verbose:  # for the verbs and for help text that imports TensorFlow
        os.environ["PELSVAE_VERBOSE"] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("\npelsvae: interrupted before any work started", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.verb not in _NO_TF_VERBS:
            quiet_tensorflow(verbose)
    except KeyboardInterrupt:
        print(f"\npelsvae {args.verb}: interrupted before any work started", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_verb(args, traceback_on=tb)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
