"""The *arr world: what Prowlarr, Sonarr and Radarr share (servarr), each of their APIs, the
instances dlwatch may act through, clients imported from them or from a file, and releases
searched and grabbed through Prowlarr.

May use: tracking, store, adapters, settings, core."""
