"""The Jinja sandbox that every template renders in (site pages, record templates), and its errors.

Templates come from the workspace (site-templates/, templates/), which anyone who can commit writes:
they are data, not code. Jinja's ImmutableSandboxedEnvironment refuses Python internals (`__class__`,
`__globals__`, `mro`...), unsafe `str.format` fields and changes to the data (`list.append`); this
subclass also refuses the file system (the I/O methods of paths: `workspace.root.read_text()`), modules
and files, and expressions that build huge values (`'x' * 10**10`). Every failure while compiling or
rendering a template becomes a ToolError naming the template file and line, never a traceback.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any, NoReturn

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from plaintext_crm.errors import ToolError

try:
    import resource
except ImportError:  # pragma: no cover - Windows: no memory cap
    resource = None  # type: ignore[assignment]

MAX_ITEMS = 10_000_000  # characters or items a `*` may build
MAX_POWER_BITS = 100_000  # bits of an integer `**` result
RENDER_SECONDS = 60.0  # one render (a page, a record): a template that runs longer is stopped
RENDER_BYTES = 1 << 30  # memory one render may add ('x'|center(10**9), '%999999999s'|format, `~` doubling)
SANDBOX_VERSION = "1"  # part of the bytecode cache key: compiled code depends on the sandbox's settings

# Where a template frame comes from: (shown name, line) for a template file, None for any other file.
Locate = Callable[[str, int], "tuple[str, int] | None"]

# (type of the object, attribute) -> allowed: the checks only look at the type, and a page reads the
# same attributes thousands of times (this keeps the sandbox's cost to a few percent of a build).
_SAFE_ATTRIBUTES: dict[tuple[type, str], bool] = {}


_budget_running = False


@contextmanager
def render_budget() -> Iterator[None]:
    """Stop a render running past RENDER_SECONDS (nested loops of `range(100000)` never end) with a
    SecurityError raised inside it, so the error names the template's line. The bound needs SIGALRM, so
    it holds in a command's main thread and in render workers; elsewhere (serve's threads) it is skipped."""
    global _budget_running
    if (_budget_running or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield  # an outer render's budget counts (a page rendering a partial)
        return
    limit = RENDER_SECONDS

    def stop(_signum: int, _frame: object) -> None:
        raise SecurityError(f"the template ran for more than {limit:g} s (a loop that never ends?).")

    previous = signal.signal(signal.SIGALRM, stop)
    _budget_running = True
    memory = _limit_memory()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, memory)
        _budget_running = False


def _limit_memory() -> tuple[int, int] | None:
    """Cap the address space at its current size plus RENDER_BYTES, so a template building a huge string
    gets a MemoryError (reported with its line) instead of exhausting the machine; the old limits, to put
    back. Linux only (/proc/self/statm): elsewhere no cap."""
    if resource is None:
        return None
    try:
        with open("/proc/self/statm", "rb") as stream:
            size = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        old = resource.getrlimit(resource.RLIMIT_AS)
        cap = size + RENDER_BYTES
        if old[0] != resource.RLIM_INFINITY and old[0] <= cap:
            return None
        if old[1] != resource.RLIM_INFINITY:
            cap = min(cap, old[1])
        resource.setrlimit(resource.RLIMIT_AS, (cap, old[1]))
    except (OSError, ValueError, IndexError):
        return None
    return old


class TemplateProblem(ToolError):
    """A template's mistake, as `file:line: what`; `cause` names the Jinja error (e.g. "UndefinedError")."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause

    def __reduce__(self) -> tuple[type[TemplateProblem], tuple[str, str]]:  # from forked render workers
        return TemplateProblem, (self.message, self.cause)


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox without file-system access whose errors name the template and line."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, locate: Locate, **options: Any) -> None:
        super().__init__(**options)
        self.locate = locate

    # --- what a template may reach ------------------------------------------------------------

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, PurePath):
            return not attr.startswith("_") and hasattr(PurePath, attr)  # names and parts, no I/O
        if isinstance(obj, types.ModuleType | io.IOBase):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`obj.attribute` as ImmutableSandboxedEnvironment allows it, the check remembered per type."""
        if isinstance(obj, Undefined):  # say what was undefined (or unsafe) first, not what was asked of it
            obj._fail_with_undefined_error()
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        if attribute in ("format", "format_map"):
            wrapped = self.wrap_str_format(value)
            if wrapped is not None:
                return wrapped
        key = (type(obj), attribute)
        safe = _SAFE_ATTRIBUTES.get(key)
        if safe is None:
            safe = _SAFE_ATTRIBUTES[key] = self.is_safe_attribute(obj, attribute, value)
        return value if safe else self.unsafe_undefined(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*` and `**` with a bound on the size of the result (a template must not exhaust memory)."""
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if (isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int)
                        and len(sequence) * count > MAX_ITEMS):
                    raise SecurityError(f"'*' would build {len(sequence) * count:,} items (the limit is {MAX_ITEMS:,})")
        elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
              and right * max(abs(left).bit_length() - 1, 0) > MAX_POWER_BITS):
            raise SecurityError(f"'{left} ** {right}' is too large a number")
        return super().call_binop(context, operator, left, right)

    # --- errors -----------------------------------------------------------------------------

    def handle_exception(self, source: str | None = None) -> NoReturn:
        """Jinja calls this for every error while compiling or rendering: make it a ToolError with the
        template and line when it is a template's fault (a bug of this tool keeps its traceback)."""
        try:
            super().handle_exception(source)  # re-raises with template frames in the traceback
        except ToolError:
            raise
        except Exception as exc:  # anything a template does wrong: explained below
            problem = self.explain(exc)
            if problem is None:
                raise
            raise problem from None

    def explain(self, exc: Exception) -> TemplateProblem | None:
        """A ToolError for a mistake in a template file: `file:line: what`; None when no template file is
        to blame (then the error stays as it is: a template from a string, or a bug of this tool)."""
        where = self._where(exc)
        if where is None:
            return None
        if isinstance(exc, SecurityError):
            message = (f"{exc} Templates render in a sandbox: no Python internals, files, modules or changes "
                       "to the data")
        elif isinstance(exc, MemoryError):
            message = (f"the template needs more than {RENDER_BYTES >> 20:,} MB of memory (a huge value?); "
                       "templates render with bounded memory")
        elif isinstance(exc, TemplateSyntaxError):
            message = exc.message or str(exc)
        elif isinstance(exc, TemplateNotFound):
            message = (f"no template named '{exc.name}' (templates are looked up by name in the template "
                       "folders, never by a path)")
        elif isinstance(exc, TemplateError):
            message = exc.message or type(exc).__name__
        else:
            message = f"{type(exc).__name__}: {exc}"
        return TemplateProblem(f"{where}: {message}", type(exc).__name__)

    def _where(self, exc: Exception) -> str | None:
        """`file:line` of the template being compiled or run when `exc` happened, if any."""
        if isinstance(exc, TemplateSyntaxError) and exc.filename and exc.lineno:
            located = self.locate(exc.filename, exc.lineno)
            if located is not None:
                return f"{located[0]}:{located[1]}"
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            located = self.locate(frame.filename, frame.lineno or 1)
            if located is not None:
                return f"{located[0]}:{located[1]}"
        return None
