"""Typed errors of the recording layer. Each message names the file and what to do."""
from __future__ import annotations


class RecordError(Exception):
    """A mission record (or one of its files) that cannot be written or read: corrupt,
    missing, of another format or a newer version. The message names the file and says
    what to do about it."""


class RecordDiskFull(RecordError):
    """The disk filled up while writing one stream of the record. What was written before
    stays readable; the writer stops that stream and the recorder reports it."""
