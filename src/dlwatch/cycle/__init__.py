"""The poll cycle, composed: asking the clients and recording what changed (tracking), then the
after-answer steps (policies) handed to it.

May use: policies, arr, delivery, tracking, store, adapters, settings, core. Used by: server, cli."""
