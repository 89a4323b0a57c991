"""What dlwatch decides on its own after a poll's answers: acting on dead downloads (report,
remove, retry through an *arr or Prowlarr) and the disk guard.

May use: arr, delivery, tracking, store, adapters, settings, core. Run by the cycle, never by
the poll itself."""
