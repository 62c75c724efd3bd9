"""No exception in a handler ends the trainer: it is reported, and the model is kept.

Textual ends the app on any exception that escapes a message handler, action or callback
(``App._handle_exception``: exit status 1 and a traceback), and the trained model goes with
it. By the time that private hook runs, the message pump that raised has already stopped
processing messages, so it cannot be used to carry on. Instead, the trainer's own code is
guarded where it is entered, with public API only:

- every action (key bindings of the app and its widgets, the command palette) goes through
  ``App.run_action``, which :class:`~miniframe.tui.app.TrainerApp` overrides with
  :func:`report_error` around it;
- message handlers, timer callbacks and dialog-result callbacks are wrapped with
  :func:`reported`.

A reported error becomes an error notification naming what failed, and its traceback goes
to Textual's log (``textual console``) and to :attr:`ErrorLog.last`.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


class ErrorLog:
    """The reported errors of this process (tests read it; the newest is ``last``)."""

    count = 0
    last: str | None = None


def report_error(app: Any, where: str, error: BaseException) -> None:
    """Tell the user that ``where`` failed with ``error``; keep running."""
    text = "".join(traceback.format_exception(error))
    ErrorLog.count += 1
    ErrorLog.last = text
    try:
        app.log.error(f"{where} failed:\n{text}")
        app.notify(
            f"{where}: {type(error).__name__}: {error}. The model and settings are kept.",
            title="Something went wrong",
            severity="error",
            timeout=15,
        )
    except Exception:  # the app is closing: nothing left to tell
        pass


def _app_of(owner: Any) -> Any:
    try:
        return owner.app
    except Exception:
        return owner


def reported(method: F) -> F:
    """Wrap a handler (method of a widget, screen or the app): an exception it raises is
    reported with :func:`report_error` instead of ending the app."""
    where = method.__name__.strip("_").replace("_", " ")

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except Exception as error:
                report_error(_app_of(self), where, error)
                return None

        return cast(F, async_wrapper)

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            report_error(_app_of(self), where, error)
            return None

    return cast(F, wrapper)


def guarded(app: Any, where: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` (a plain function, e.g. a dialog-result callback) with its exceptions
    reported instead of raised."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except Exception as error:
            report_error(app, where, error)
            return None

    return wrapper


def with_path(path: str, error: BaseException) -> str:
    """An error message that names ``path`` once."""
    if isinstance(error, RecursionError):
        text = "nested too deeply to read"
    else:
        text = str(error) or type(error).__name__
    return text if path in text else f"{path}: {text}"
