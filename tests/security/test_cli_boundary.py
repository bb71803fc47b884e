"""The command line's last line of defence: a failure no command expected is a message and exit 2."""

from __future__ import annotations

import errno

import pytest

from plaintext_crm import cli


def _run_main_raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> int:
    def failing(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(cli, "cli", failing)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert isinstance(stopped.value.code, int)
    return stopped.value.code


def test_os_error_is_a_message_naming_the_path(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    code = _run_main_raising(monkeypatch, OSError(errno.ENOSPC, "No space left on device", "/w/site/x.html"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Error: No space left on device (/w/site/x.html)")
    assert "Traceback" not in err


def test_unexpected_error_has_no_traceback_and_escapes_control_characters(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    code = _run_main_raising(monkeypatch, ValueError("bad \x1b]0;title\x07 value"))
    err = capsys.readouterr().err
    assert code == 2
    assert "internal error (ValueError: bad \\x1b]0;title\\x07 value)" in err
    assert "\x1b" not in err and "Traceback" not in err


def test_debug_variable_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    monkeypatch.setattr(cli, "cli", lambda **kwargs: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        cli.main()


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run_main_raising(monkeypatch, KeyboardInterrupt()) == 130
