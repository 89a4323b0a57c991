"""What dlwatch decides on its own after a poll's answers: acting on dead downloads (report,
remove, retry through an *arr or Prowlarr), the disk guard, following the *arr imports of
completed downloads, and removing seeded torrents once imported.

May use: arr, delivery, tracking, store, adapters, settings, core. Run by the cycle, never by
the poll itself."""
