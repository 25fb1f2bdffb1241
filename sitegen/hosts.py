"""Names the hosts define, shared by the rules ``routing.py`` writes and the ``emulator.py``
that reads them back (so neither spells them on its own).
"""

# Netlify reads this cookie in place of the visitor's detected country; the region switcher sets
# it, and the Vercel routes test it too, so a choice is kept on both hosts.
COOKIE = "nf_country"
# The request header in which Vercel passes the visitor's country.
VERCEL_COUNTRY_HEADER = "x-vercel-ip-country"
