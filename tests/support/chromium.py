"""Debian's Chromium and the flags every browser test launches it with.

The background-networking flags keep Chromium from dialling out on this
network-less machine (each refused connection is noise and a delay).
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
