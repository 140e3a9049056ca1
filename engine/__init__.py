"""DossierSCO: online school re-enrolment driven by campaign YAML files.

The package is importable without Flask: ``engine.campaign``, ``engine.expr``, ``engine.fields``
and ``engine.rules`` can load, check and evaluate a campaign in a plain Python script.
"""
