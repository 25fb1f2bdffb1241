"""Files of the ``sitegen serve`` browser client (reload.js, dev.css), served under /__sitegen/ only."""
