"""Fetching: one URL politely and defensively (deadlines, caps, politeness, address guard)."""
