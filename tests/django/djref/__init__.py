"""djref: the article's Django code, run for real as racelab's reference.

A settings module (settings.py), the models (models.py) and the workloads
(workloads.py); tests/django/run.py drives them and tests/django.t compares the
figures with racelab's.  No project scaffolding: the package is its own app.
"""
