"""Rule functions of the place model (ODD 7, submodels): arrays in, arrays out, no model object.

One module per group of submodels, in the order of docs/ODD.md section 7:

- :mod:`~sim.rules.needs` - 7.1 life events, 7.2 needs interact, 7.3 crises, 7.11 wellbeing
- :mod:`~sim.rules.seeking` - 7.4 help-seeking: who asks, at which door
- :mod:`~sim.rules.failure` - 7.5 failure demand: classifying contacts
- :mod:`~sim.rules.triage` - 7.6 triage and admission from waiting lists
- :mod:`~sim.rules.support` - 7.7 support and closing cases
- :mod:`~sim.rules.referral` - 7.8 referral: warm hand-off or signpost
- :mod:`~sim.rules.trust` - 7.9 residents' trust
- :mod:`~sim.rules.ties` - 7.9 ties between providers
- :mod:`~sim.rules.money` - 7.10 money, capacity and rationing
- :mod:`~sim.rules.learning` - 7.12 organisational learning (March 1991)
- :mod:`~sim.rules.spread` - 7.15 spread of practice
- :mod:`~sim.rules.change` - 7.16 the cost of change
- :mod:`~sim.rules.arrays` - row-wise reductions the others share

Each function carries its equation and units in its docstring. Functions that take a generator draw from it and
nothing else, in a fixed order. Functions documented "in place" update their first argument and return it, so
that a 200,000 x 6 array is not copied every week. :class:`sim.model.PlaceModel` calls them on whole arrays.
"""
