"""resnet-essence: experiments that test an essay's claims about why residual networks work.

The library is a house of packages by concern; a module imports only from its own floor or a
lower one (``tests/test_layout.py`` checks it), bottom to top:

1. ``stats``, ``files``, ``papers``, ``scripting``: intervals and tests, atomic files, the
   published numbers compared against, what every rule script shares;
2. ``data/`` (the data sets and their normalisation), ``nets/`` (the networks and their packed
   form), ``collapse/`` (the ReLU-collapse experiment);
3. ``config`` (the checks of a config before any job), ``tables/`` (every table's columns, and
   the aggregation of per-run files into tables);
4. ``train/``: the trainer, packed seeds, a training job;
5. ``measure/``: per-layer statistics, probes, the width sweep, a measuring job;
6. ``claims/``: the claims (``claims.yaml``) and the rules that turn tables into verdicts;
7. ``report/``: the report, the figure, the HTML page, provenance, the commands on published
   runs.
"""

__version__ = "0.1.0"
