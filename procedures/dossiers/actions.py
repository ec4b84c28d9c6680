"""The registry of dossier actions: the one place that says, for each action, from which
legal statuses it may be taken, which roles may take it, how staff see it (label, help
text), which slip it produces and which service carries it out.

Read by the services (`_require_status`), the role matrix (`procedures.core.roles`), the
admin (buttons, action forms, the slip offered after the action), the staff API (one
endpoint per action, its documentation) and the status table of docs/legal-rules.md
(checked against `markdown_table()` by a test). Nothing else restates it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from procedures.core.constants import Action, DossierStatus, Role
from procedures.core.errors import DomainError
from procedures.dossiers.slips import SlipKind

S = DossierStatus
R = Role


@dataclass(frozen=True)
class ActionDef:
    action: Action
    # The statuses from which the action is legal (docs/legal-rules.md "Statuses");
    # empty for registration, which creates the dossier.
    sources: frozenset[int]
    # Who may take it (Decree 61/2018 art. 15-20: the desk receives and returns; the
    # processing unit appraises; leaders sign, apologise and stop).
    roles: frozenset[Role]
    label: str | Promise
    help_text: str | Promise
    submit_label: str | Promise
    # The name of the function in procedures/dossiers/services.py that performs it.
    service_name: str
    slip: SlipKind | None = None

    @property
    def service(self) -> Callable[..., Any]:
        # Looked up when called: the services module reads this registry at import.
        return getattr(import_module("procedures.dossiers.services"), self.service_name)

    @property
    def is_transition(self) -> bool:
        return bool(self.sources)


_OPEN_AFTER_ACCEPTANCE = frozenset(
    {S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}
)
_CLOCK_RUNNING = frozenset({S.ACCEPTED, S.PROCESSING})

# In button order on the dossier page: the usual next step first, the exits last.
ACTIONS: dict[str, ActionDef] = {
    a.action: a
    for a in [
        ActionDef(
            Action.REGISTER,
            sources=frozenset(),
            roles=frozenset({R.INTAKE}),
            label=_("Register a dossier at the desk"),
            help_text=_("Online dossiers are submitted by the applicant on the portal."),
            submit_label=_("Confirm"),
            service_name="dossier_register",
        ),
        ActionDef(
            Action.ACCEPT,
            sources=frozenset({S.SUBMITTED}),
            roles=frozenset({R.INTAKE}),
            label=_("Accept"),
            help_text=_(
                "The dossier is complete and within the department's competence. "
                "Accepting it starts the processing time and issues the receipt "
                "and appointment slip (form 01)."
            ),
            submit_label=_("Accept the dossier"),
            service_name="dossier_accept",
            slip=SlipKind.RECEIPT,
        ),
        ActionDef(
            Action.REFUSE_INTAKE,
            sources=frozenset({S.SUBMITTED}),
            roles=frozenset({R.INTAKE}),
            label=_("Refuse at intake"),
            help_text=_(
                "The dossier is outside the department's competence or not "
                "eligible. The applicant gets the refusal slip (form 03)."
            ),
            submit_label=_("Refuse the dossier"),
            service_name="dossier_refuse_intake",
            slip=SlipKind.REFUSAL,
        ),
        ActionDef(
            Action.REQUEST_SUPPLEMENT,
            sources=frozenset({S.SUBMITTED, S.ACCEPTED, S.PROCESSING}),
            roles=frozenset({R.INTAKE, R.SPECIALIST, R.UNIT_HEAD}),
            label=_("Request a supplement"),
            help_text=_(
                "List every missing or incorrect paper, once and completely "
                "(Decree 61/2018, art. 19). The applicant gets the supplement request "
                "(form 02). During processing this is allowed once, within 3 working "
                "days of acceptance, and stops the clock."
            ),
            submit_label=_("Request the supplement"),
            service_name="dossier_request_supplement",
            slip=SlipKind.SUPPLEMENT,
        ),
        ActionDef(
            Action.RECEIVE_SUPPLEMENT,
            sources=frozenset({S.SUPPLEMENT_REQUESTED}),
            roles=frozenset({R.INTAKE}),
            label=_("Receive the supplement"),
            help_text=_(
                "The applicant brought the missing papers to the desk. Attach their scans."
            ),
            submit_label=_("Record the supplement"),
            service_name="dossier_receive_supplement",
        ),
        ActionDef(
            Action.REQUEST_PAYMENT,
            sources=_CLOCK_RUNNING,
            roles=frozenset({R.INTAKE, R.SPECIALIST, R.UNIT_HEAD}),
            label=_("Request payment"),
            help_text=_(
                "The dossier waits for a fee or tax to be paid; the processing "
                "time pauses until payment is confirmed."
            ),
            submit_label=_("Request payment"),
            service_name="dossier_request_payment",
        ),
        ActionDef(
            Action.CONFIRM_PAYMENT,
            sources=frozenset({S.PAYMENT_REQUESTED}),
            roles=frozenset({R.INTAKE}),
            label=_("Confirm payment"),
            help_text=_(
                "The payment was received: the processing time runs again and the "
                "due time moves by the working time it stood still."
            ),
            submit_label=_("Confirm payment"),
            service_name="dossier_confirm_payment",
        ),
        ActionDef(
            Action.ASSIGN,
            sources=_OPEN_AFTER_ACCEPTANCE,
            roles=frozenset({R.INTAKE, R.UNIT_HEAD, R.DIRECTOR}),
            label=_("Assign"),
            help_text=_(
                "Transfer the dossier to the processing unit the same working day "
                "(next morning if received after 15:00), or reassign the officer."
            ),
            submit_label=_("Assign"),
            service_name="dossier_assign",
        ),
        ActionDef(
            Action.COMPLETE_STEP,
            sources=_CLOCK_RUNNING,
            roles=frozenset({R.INTAKE, R.SPECIALIST, R.UNIT_HEAD, R.DIRECTOR}),
            label=_("Hand over to the next step"),
            help_text=_(
                "Hand the dossier over to the next step of the internal process. "
                "The control slip (form 05) records whether this step was early, "
                "on time or late."
            ),
            submit_label=_("Hand over"),
            service_name="dossier_complete_step",
        ),
        ActionDef(
            Action.APOLOGISE,
            # Not while paused for payment: the due time would still move when the
            # payment is confirmed, so the date written in the apology could not be kept.
            sources=_CLOCK_RUNNING,
            roles=frozenset({R.UNIT_HEAD, R.DIRECTOR}),
            label=_("Apologise and reschedule"),
            help_text=_(
                "At least 1 working day before the due time, apologise to the "
                "applicant and set a new appointment (form 04). The appointment may "
                "be moved only once; the result is then judged against the original "
                "due date."
            ),
            submit_label=_("Send the apology"),
            service_name="dossier_apologise",
            slip=SlipKind.APOLOGY,
        ),
        ActionDef(
            Action.RESOLVE,
            sources=_CLOCK_RUNNING,
            roles=frozenset({R.UNIT_HEAD, R.DIRECTOR}),
            label=_("Record the result"),
            help_text=_(
                "The result is ready: granted, or refused with reasons in writing. "
                "Attach the signed result document."
            ),
            submit_label=_("Record the result"),
            service_name="dossier_resolve",
        ),
        ActionDef(
            Action.RETURN_RESULT,
            sources=frozenset({S.FINISHED}),
            roles=frozenset({R.INTAKE}),
            label=_("Return the result"),
            help_text=_(
                "The result was handed over to the applicant (at the desk, by post or online)."
            ),
            submit_label=_("Record the hand-over"),
            service_name="dossier_return_result",
        ),
        ActionDef(
            Action.WITHDRAW,
            sources=frozenset({S.SUBMITTED}) | _OPEN_AFTER_ACCEPTANCE,
            roles=frozenset({R.INTAKE}),
            label=_("Withdraw"),
            help_text=_("The applicant asked in writing to withdraw the dossier. This ends it."),
            submit_label=_("Withdraw the dossier"),
            service_name="dossier_withdraw",
        ),
        ActionDef(
            Action.STOP,
            sources=_OPEN_AFTER_ACCEPTANCE,
            roles=frozenset({R.UNIT_HEAD, R.DIRECTOR}),
            label=_("Stop processing"),
            help_text=_("Stop processing the dossier, with reasons. This ends it."),
            submit_label=_("Stop processing"),
            service_name="dossier_stop",
        ),
    ]
}

# The transitions of an existing dossier (every action but registration).
TRANSITIONS: dict[str, ActionDef] = {k: a for k, a in ACTIONS.items() if a.is_transition}


def action_def(action: str) -> ActionDef:
    return ACTIONS[action]


def markdown_table() -> str:
    """The status table of docs/legal-rules.md, as the registry says it (English)."""
    from django.utils import translation

    rows = [
        "| action | from status | roles | slip | service |",
        "|---|---|---|---|---|",
    ]
    with translation.override("en"):
        for a in TRANSITIONS.values():
            sources = ", ".join(f"{int(s)} {S(s).label}" for s in sorted(a.sources))
            roles = ", ".join(str(r.label) for r in Role if r in a.roles)
            slip = str(a.slip.label) if a.slip else "—"
            rows.append(
                f"| {a.label} (`{a.action.value}`) | {sources} | {roles} | {slip} "
                f"| `{a.service_name}` |"
            )
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- refusals
# The services raise these; the admin shows the same text before offering a form.


def role_refusal(*, action: str, user) -> DomainError | None:
    """The refusal when `user`'s roles may not take `action` (None: they may)."""
    from procedures.core.roles import may_perform

    if user is None or may_perform(user, action):
        return None
    return DomainError(
        gettext("Your role may not perform this action: %(action)s.")
        % {"action": Action(action).label},
        code="forbidden",
    )


def status_refusal(*, action: str, status: int) -> DomainError | None:
    """The refusal when a dossier in `status` may not take `action` (None: it may)."""
    allowed = sorted(ACTIONS[action].sources)
    if status in allowed:
        return None
    return DomainError(
        gettext("A dossier that is “%(status)s” cannot be %(action)s. Allowed from: %(allowed)s.")
        % {
            "status": S(status).label,
            "action": Action(action).label.lower(),
            "allowed": ", ".join(str(S(s).label) for s in allowed),
        },
        code="illegal_transition",
    )
