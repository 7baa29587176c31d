"""Every foreign key gets an index whose first column is the key.

PostgreSQL indexes the referenced side of a foreign key (the primary key), never the
referencing column, and these 63 keys had none: a challenge's page looked up its proposals
by scanning all of them (63 ms at 200,000 proposals, seconds under load), a user's supports,
an account's ledger entries and a startup's matches scanned a million rows each. An index on
the key also keeps a delete of the parent from scanning the child table.
tests/core/test_schema.py fails on a foreign key added later without its index.
Plain CREATE INDEX, the same on PostgreSQL and SQLite (which has no CONCURRENTLY).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FOREIGN_KEYS = [
    ("invitations", "invited_by_id"),
    ("invitations", "organization_id"),
    ("memberships", "organization_id"),
    ("oidc_identities", "user_id"),
    ("one_time_tokens", "user_id"),
    ("web_sessions", "user_id"),
    ("challenges", "organization_id"),
    ("challenge_amendments", "challenge_id"),
    ("challenge_attachments", "challenge_id"),
    ("challenge_criteria", "challenge_id"),
    ("challenge_follows", "user_id"),
    ("challenge_questions", "author_id"),
    ("challenge_questions", "challenge_id"),
    ("applications", "organization_id"),
    ("application_partners", "organization_id"),
    ("awards", "challenge_id"),
    ("judge_assignments", "user_id"),
    ("milestones", "award_id"),
    ("reviews", "application_id"),
    ("application_attachments", "application_id"),
    ("judge_invitations", "challenge_id"),
    ("fundings", "challenge_id"),
    ("ledger_entries", "account_id"),
    ("ledger_entries", "transaction_id"),
    ("milestone_files", "milestone_id"),
    ("payouts", "organization_id"),
    ("refunds", "funding_id"),
    ("matches", "startup_id"),
    ("investor_city_picks", "startup_id"),
    ("intro_requests", "answered_by_id"),
    ("intro_requests", "requested_by_id"),
    ("investor_profile_views", "startup_id"),
    ("investor_watches", "startup_id"),
    ("proposals", "author_id"),
    ("proposals", "challenge_id"),
    ("proposal_comments", "author_id"),
    ("proposal_comments", "proposal_id"),
    ("proposal_supports", "user_id"),
    ("incubation_programmes", "organization_id"),
    ("incubation_programmes", "partner_id"),
    ("incubation_cohorts", "programme_id"),
    ("incubation_mentors", "user_id"),
    ("incubation_places", "award_id"),
    ("incubation_places", "challenge_id"),
    ("incubation_places", "organization_id"),
    ("incubation_pairings", "mentor_id"),
    ("incubation_pairings", "place_id"),
    ("incubation_projects", "award_id"),
    ("incubation_projects", "challenge_id"),
    ("incubation_projects", "city_id"),
    ("incubation_projects", "organization_id"),
    ("recovery_codes", "user_id"),
    ("api_tokens", "user_id"),
    ("deliberation_conversations", "opened_by_id"),
    ("deliberation_statements", "conversation_id"),
    ("deliberation_votes", "participant_id"),
    ("deliberation_adoptions", "conversation_id"),
    ("deliberation_adoptions", "statement_id"),
    ("panel_draw_events", "panel_id"),
    ("panel_sessions", "panel_id"),
    ("panel_scores", "panel_id"),
    ("panel_stipends", "panel_id"),
    ("funding_rounds", "organization_id"),
]


def index_name(table: str, column: str) -> str:
    return f"fk_{table}_{column}"


async def forward(apps, schema_editor):
    client = schema_editor.client
    for table, column in FOREIGN_KEYS:
        await client.execute_query(
            f'CREATE INDEX IF NOT EXISTS "{index_name(table, column)}" ON "{table}" ("{column}")'
        )


async def backward(apps, schema_editor):
    client = schema_editor.client
    for table, column in FOREIGN_KEYS:
        await client.execute_query(f'DROP INDEX IF EXISTS "{index_name(table, column)}"')


class Migration(migrations.Migration):
    dependencies = [('civic', '0031_home_pages')]

    initial = False

    operations: list[ops.Operation] = [ops.RunPython(forward, backward)]
