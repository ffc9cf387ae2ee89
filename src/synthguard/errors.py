"""The one exception tree of synthguard.

Every exception synthguard raises on purpose derives from :class:`SynthguardError`. Each class
carries a stable machine ``code`` (written into reports as ``error.code``) and the HTTP ``status``
the service answers with. A missing label or an abstaining detector is a *value*, never an
exception; these classes are for input we refuse and for failures of the machinery itself.

::

    SynthguardError                      code=error              status=500
    ├── UsageError                       code=usage              status=400
    │   └── ConfigError                  code=config             status=400
    ├── MissingDependencyError           code=missing_dependency status=501
    │   └── MissingSystemPackageError    code=missing_system     status=501
    ├── MediaError                       code=media              status=422
    │   ├── EmptyFileError               code=empty_file         status=422
    │   ├── UnreadableError              code=unreadable         status=422
    │   │   └── SymlinkLoopError         code=symlink_loop       status=422
    │   ├── UnsupportedFormatError       code=unsupported_format status=415
    │   ├── CorruptMediaError            code=corrupt            status=422
    │   │   ├── TruncatedMediaError      code=truncated          status=422
    │   │   └── DecodeError              code=decode_failed      status=422
    │   └── LimitExceededError           code=limit_exceeded     status=413
    │       ├── FileTooLargeError        code=file_too_large     status=413
    │       ├── TooManyPixelsError       code=too_many_pixels    status=413
    │       ├── TooLongError             code=too_long           status=413
    │       ├── TooManyFramesError       code=too_many_frames    status=413
    │       ├── TooManyStreamsError      code=too_many_streams   status=413
    │       ├── MetadataTooLargeError    code=metadata_too_large status=413
    │       └── NestingTooDeepError      code=nesting_too_deep   status=413
    ├── LabelWriteError                  code=label_write_failed status=500
    ├── InternalError                    code=internal           status=500
    └── ScanAbortedError                 code=aborted            status=500
        ├── ScanTimeoutError             code=timeout            status=504
        ├── OutOfMemoryError             code=out_of_memory      status=507
        └── WorkerCrashedError           code=worker_crashed     status=500

Messages say what was expected and what was got, e.g. ``expected an image of at most
100,000,000 pixels, got 60000x60000 (3,600,000,000)``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorruptMediaError",
    "DecodeError",
    "EmptyFileError",
    "FileTooLargeError",
    "InternalError",
    "LabelWriteError",
    "LimitExceededError",
    "MediaError",
    "MetadataTooLargeError",
    "MissingDependencyError",
    "MissingSystemPackageError",
    "NestingTooDeepError",
    "OutOfMemoryError",
    "ScanAbortedError",
    "ScanTimeoutError",
    "SymlinkLoopError",
    "SynthguardError",
    "TooLongError",
    "TooManyFramesError",
    "TooManyPixelsError",
    "TooManyStreamsError",
    "TruncatedMediaError",
    "UnreadableError",
    "UnsupportedFormatError",
    "UsageError",
    "WorkerCrashedError",
    "error_for_code",
]


class SynthguardError(Exception):
    """Base of every deliberate synthguard error."""

    code: str = "error"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The ``{code, message}`` object written into reports and HTTP error bodies."""
        return {"code": self.code, "message": self.message}


class UsageError(SynthguardError):
    """The caller asked for something impossible (bad option, bad argument)."""

    code = "usage"
    status = 400


class ConfigError(UsageError):
    """A setting or configuration file has an unknown name or a bad value."""

    code = "config"


class MissingDependencyError(SynthguardError):
    """An optional extra is needed; the message names the ``pip install`` to run."""

    code = "missing_dependency"
    status = 501

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra: pip install 'synthguard[{extra}]'")
        self.extra = extra


class MissingSystemPackageError(MissingDependencyError):
    """A system package (not a Python extra) is needed, e.g. a CJK font for visible marks; the
    message names the Debian package to install."""

    code = "missing_system"

    def __init__(self, message: str) -> None:
        SynthguardError.__init__(self, message)
        self.extra = ""


class MediaError(SynthguardError):
    """Input media that synthguard refuses to process."""

    code = "media"
    status = 422


class EmptyFileError(MediaError):
    code = "empty_file"


class UnreadableError(MediaError):
    """The bytes could not be read at all (permissions, not a regular file, I/O error)."""

    code = "unreadable"


class SymlinkLoopError(UnreadableError):
    code = "symlink_loop"


class UnsupportedFormatError(MediaError):
    """The real type, sniffed from the content, is not one synthguard handles."""

    code = "unsupported_format"
    status = 415


class CorruptMediaError(MediaError):
    """The container is malformed (bad structure, impossible sizes, loops)."""

    code = "corrupt"


class TruncatedMediaError(CorruptMediaError):
    """The file ends before its structure says it should."""

    code = "truncated"


class DecodeError(CorruptMediaError):
    """The decoder failed on content that probed well."""

    code = "decode_failed"


class LimitExceededError(MediaError):
    """A configured limit (see ``synthguard.settings``) refuses the input before decoding."""

    code = "limit_exceeded"
    status = 413


class FileTooLargeError(LimitExceededError):
    code = "file_too_large"


class TooManyPixelsError(LimitExceededError):
    code = "too_many_pixels"


class TooLongError(LimitExceededError):
    code = "too_long"


class TooManyFramesError(LimitExceededError):
    code = "too_many_frames"


class TooManyStreamsError(LimitExceededError):
    code = "too_many_streams"


class MetadataTooLargeError(LimitExceededError):
    code = "metadata_too_large"


class NestingTooDeepError(LimitExceededError):
    code = "nesting_too_deep"


class LabelWriteError(SynthguardError):
    """Writing a label failed or its read-back did not find exactly what was written
    (R-IMPL-3); the destination is left as it was."""

    code = "label_write_failed"
    status = 500


class InternalError(SynthguardError):
    """A bug or an unexpected library failure, caught so that one item never stops a batch."""

    code = "internal"
    status = 500


class ScanAbortedError(SynthguardError):
    """The machinery stopped work on one item; the item is reported, the batch goes on."""

    code = "aborted"
    status = 500


class ScanTimeoutError(ScanAbortedError):
    code = "timeout"
    status = 504


class OutOfMemoryError(ScanAbortedError):
    code = "out_of_memory"
    status = 507


class WorkerCrashedError(ScanAbortedError):
    code = "worker_crashed"


def _all_subclasses(cls: type[SynthguardError]) -> list[type[SynthguardError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


def error_for_code(code: str, message: str) -> SynthguardError:
    """Rebuild an error from its ``code`` (e.g. one that crossed a process boundary)."""
    for cls in _all_subclasses(SynthguardError):
        if cls.code == code and cls is not MissingDependencyError:
            return cls(message)
    return SynthguardError(message)
