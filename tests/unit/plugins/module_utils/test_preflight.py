"""module_utils/preflight.py: the refusals of a deploy, in the order of the checks."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

preflight = load("module_utils", "preflight")


POSTGRES = {"api_version": "apps/v1", "kind": "Deployment", "name": "postgres", "claim": "postgres-16", "version": "16"}


def test_refusals_speak_in_the_order_of_the_checks():
    found = {"claims": ["postgres-15", "repository-cache"], "postgres_claims": ["postgres-15"],
             "foreign_refusal": "p holds objects this repository did not make"}
    reasons = preflight.refusals(found, "p", {"postgres": POSTGRES})
    assert reasons == [
        "p keeps PostgreSQL data on claim postgres-15 and has no claim postgres-16: this deploy would start "
        "PostgreSQL 16 on an empty one. Deploy with postgres_version 15, then move the data with make db-upgrade "
        "(README, Database); nothing was changed",
        "p holds objects this repository did not make",
        "Deployment postgres in p keeps its data on claim postgres-15; this deploy would start PostgreSQL 16 on "
        "claim postgres-16 instead: move the data with make db-upgrade (README, Database) or set postgres_version "
        "to the running version; nothing was changed",
    ]
    # make adopt: the takeover deals with the foreign objects
    assert len(preflight.refusals(found, "p", {"postgres": POSTGRES, "adopting": True})) == 2


@pytest.mark.parametrize(("found", "postgres"), [
    ({"claims": ["postgres-16", "postgres-15"], "postgres_claims": ["postgres-16"]}, POSTGRES),  # data is here
    ({"claims": ["postgres-data"], "postgres_claims": []}, POSTGRES),  # no claim named after a version
    ({"claims": [], "postgres_claims": []}, POSTGRES),  # a new project
    ({"claims": ["postgres-15"], "postgres_claims": ["postgres-15"]}, None),  # postgres not in this run
])
def test_no_refusal_where_the_data_is_where_the_deploy_looks(found, postgres):
    assert preflight.refusals(dict(found, foreign_refusal=""), "p", {"postgres": postgres}) == []
