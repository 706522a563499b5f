"""spamc's configuration file: words read from it go in front of the command-line words.

Mirrors the C client, whose rules are odd but relied upon by existing installations:

* only `-F path` names a file, found by scanning argv for a word *starting with* `-F` and taking
  the next word (`--config` is never recognised); the first such word wins;
* without `-F` the compiled-in /etc/spamassassin/spamc.conf is read if it can be opened, and
  silently skipped if not; an unopenable `-F` file is an error (EX_CONFIG);
* lines are read `fgets`-style in 8191-byte pieces; a line starting with `#` or empty is skipped;
  other lines are split at spaces only (a TAB stays inside a word); a line must end in a newline;
* the program name plus all words (config file and command line, `-F path` included) may not
  exceed 24 entries.
"""

from __future__ import annotations

from spamkiln.daemon.spamc.exitcodes import EX_CONFIG, SpamcError
from spamkiln.daemon.spamc.log import write_stderr

DEFAULT_CONFIG_FILE = b"/etc/spamassassin/spamc.conf"
# fgets() with an 8192-byte buffer returns at most 8191 bytes; a line needs room for its "\n",
# so 8190 usable bytes (the number the C client prints in its error).
_FGETS_CHUNK = 8191
_MAX_LINE = 8190
# Entries (program name + words) the C client accepts; one more is an error.
_MAX_ARGS = 24


class ConfigError(SpamcError):
    """A config-file problem: printed to stderr as is, exit status EX_CONFIG."""

    def __init__(self, message: bytes) -> None:
        super().__init__(EX_CONFIG, message.decode("utf-8", "surrogateescape"))
        self.raw_message = message

    def report(self) -> None:
        write_stderr(self.raw_message + b"\n")


def config_file_from_argv(argv: list[bytes]) -> bytes | None:
    """The word after the first word that starts with `-F` (None if there is none)."""
    for index, word in enumerate(argv):
        if word.startswith(b"-F"):
            return argv[index + 1] if index + 1 < len(argv) else None
    return None


def _read_file(path: bytes) -> bytes | None:
    """The file's bytes; b"" for a directory (fopen succeeds, fgets reads nothing); None when
    it cannot be opened."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except IsADirectoryError:
        return b""
    except OSError:
        return None


def _fgets_lines(data: bytes) -> list[bytes]:
    """The pieces successive fgets(buf, 8192, f) calls return."""
    pieces = []
    pos = 0
    while pos < len(data):
        newline = data.find(b"\n", pos, pos + _FGETS_CHUNK)
        end = newline + 1 if newline >= 0 else min(len(data), pos + _FGETS_CHUNK)
        pieces.append(data[pos:end])
        pos = end
    return pieces


def config_words(data: bytes, path: bytes, words: list[bytes]) -> None:
    """Append a config file's argument words to `words` (which starts with the program name),
    raising ConfigError where the C client would, in the order it would."""
    for piece in _fgets_lines(data):
        nul = piece.find(b"\0")
        line = piece if nul < 0 else piece[:nul]  # the C code sees a C string
        if line[:1] in (b"#", b"\n"):
            continue
        tokens = [token for token in line.split(b" ") if token]
        if not tokens:
            continue
        if not tokens[-1].endswith(b"\n"):
            if len(line) >= _FGETS_CHUNK:
                raise ConfigError(b"Exceeded max line size (%d) in %s" % (_MAX_LINE, path))
            raise ConfigError(b"Line not terminated with a newline in %s" % path)
        tokens[-1] = tokens[-1][:-1]
        for token in tokens:
            if token:
                _check_count(len(words), path)
                words.append(token)


def _check_count(count: int, path: bytes) -> None:
    if count >= _MAX_ARGS:
        raise ConfigError(b"Exceeded max number of arguments (%d) in %s" % (_MAX_ARGS, path))


def combine_args(argv: list[bytes], default_path: bytes = DEFAULT_CONFIG_FILE) -> list[bytes]:
    """argv[0], then the config file's words, then argv[1:] (or argv itself without a file).

    Raises ConfigError for an unopenable `-F` file, a malformed file, or too many words.
    """
    named = config_file_from_argv(argv)
    path = named if named is not None else default_path
    data = _read_file(path)
    if data is None:
        if named is not None:
            raise ConfigError(b"Failed to open config file: %s" % named)
        return list(argv)
    combined = [argv[0] if argv else b"spamc"]
    config_words(data, path, combined)
    for word in argv[1:]:
        _check_count(len(combined), path)
        combined.append(word)
    return combined
