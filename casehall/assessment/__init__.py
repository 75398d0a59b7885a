"""Assessment: the monthly rates of every hotline unit and hall department, computed from the hash-chained event
logs (``rates``: the one place defining them), stored per month (``store``), reported (``report``, ``export``)."""
