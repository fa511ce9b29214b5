"""One decision per trial and history: a unique index, so two requests on the same patients cannot store two.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_decision_history", "decisions", ["trial_id", "history_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_decision_history", table_name="decisions")
