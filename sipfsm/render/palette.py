"""The palette and font of every diagram.

One ink for ordinary transitions, orange for everything about timers, red for transport
errors, blue for what the amendments add (RFC 6026, RFC 4320), grey for what they replace.
"""

from __future__ import annotations

FONT = "Helvetica,Arial,sans-serif"

INK = "#2c3e50"
STATE_FILL = "#eaf1f8"
TERMINAL_FILL = "#e5e7e9"
TIMER = "#c0580f"
ERROR = "#b03a2e"
ADDED = "#1f6fd1"
ADDED_FILL = "#dcebfc"
REMOVED = "#98a2ab"
HIGHLIGHT = "#d4a017"
HIGHLIGHT_FILL = "#fff4cc"
MUTED = "#6b7b8c"
