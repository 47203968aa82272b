"""Real-time fan-out: typed timeline events, channel names and the broadcaster transport."""
