"""The vocabulary every layer speaks, with no I/O: the download and client models, the stored
attempt, events and hook runs, the error kinds, infohashes, title matching, safe text, human sizes
and the JSON shapes of every record.

May use: nothing of dlwatch (the standard library only). Used by every other layer."""
