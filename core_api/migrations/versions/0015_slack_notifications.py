"""Slack notifications through the outbox: one function queues them, a trigger tells of paid invoices (issue 6)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:30:00

`app.queue_notification(firm, event, entity, text)` writes one outbox row (entity `notification`) per live
Slack connection of the firm whose `config.notify.<event>` is not false, in the caller's transaction: the
sync status code, the leads service and the trigger below all go through it, so the per-firm choice is
decided in one place. It runs as the caller (no definer rights): row-level security still applies.

`invoices_paid_notify` fires when an invoice turns paid (sent/partial → paid), whichever path made it so
(an allocation through the API, a billing merge re-settling it), and only when a payment allocated to it
was received in the last seven days: a first sync that brings last year's payments is not news.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | tuple[str, ...] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each Slack connection's delivery reads its firm's notification rows in commit order.
    op.execute(
        "create index ix_outbox_notifications on app.outbox (firm_id, xid, seq) where entity = 'notification'"
    )
    op.execute(
        """
        create function app.queue_notification(p_firm uuid, p_event text, p_entity uuid, p_text text)
        returns integer
        language plpgsql volatile set search_path = pg_catalog, app as
        $$
        declare
            v_slack uuid;
            v_queued integer := 0;
        begin
            for v_slack in
                select c.id from app.connections c
                where c.firm_id = p_firm and c.provider = 'slack' and c.deleted_at is null
                  and c.status = 'active'
                  and coalesce((c.config -> 'notify' ->> p_event)::boolean, true)
                order by c.created_at, c.id
            loop
                insert into app.outbox (id, firm_id, entity, entity_id, operation, payload)
                values (gen_random_uuid(), p_firm, 'notification', p_entity, 'created',
                        jsonb_build_object('provider', 'slack', 'connection_id', v_slack::text,
                                           'event', p_event, 'text', p_text));
                v_queued := v_queued + 1;
            end loop;
            return v_queued;
        end
        $$
        """
    )
    op.execute("revoke all on function app.queue_notification(uuid, text, uuid, text) from public")
    op.execute("grant execute on function app.queue_notification(uuid, text, uuid, text) to firmsync_api")
    op.execute(
        """
        create function app.notify_invoice_paid() returns trigger
        language plpgsql set search_path = pg_catalog, app as
        $$
        declare
            v_client text;
        begin
            if not exists (
                select 1 from app.payment_allocations a join app.payments p on p.id = a.payment_id
                where a.invoice_id = new.id and a.deleted_at is null and p.deleted_at is null
                  and p.received_date >= current_date - 7
            ) then
                return null;
            end if;
            -- Slack's control characters escaped (https://api.slack.com/reference/surfaces/formatting)
            select replace(replace(replace(c.name, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') into v_client
            from app.clients c where c.id = new.client_id;
            perform app.queue_notification(
                new.firm_id, 'invoice_paid', new.id,
                format('Invoice %s for %s was paid in full (%s %s).',
                       new.number, coalesce(v_client, 'a client'), new.currency, new.total));
            return null;
        end
        $$
        """
    )
    op.execute(
        """
        create trigger invoices_paid_notify
        after update of status on app.invoices
        for each row
        when (new.status = 'paid' and old.status in ('sent', 'partial'))
        execute function app.notify_invoice_paid()
        """
    )


def downgrade() -> None:
    op.execute("drop trigger if exists invoices_paid_notify on app.invoices")
    op.execute("drop function if exists app.notify_invoice_paid()")
    op.execute("drop function if exists app.queue_notification(uuid, text, uuid, text)")
    op.execute("drop index if exists app.ix_outbox_notifications")
