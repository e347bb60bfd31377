"""What the progress page shows of the learner's planner: the plan, the what-if against the chosen
programme, up to three programmes side by side, the gaps with the units that fill them, and a
catalogue search to add units from. The page itself is `citizen.progress_page`."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from bank.applications import target_of
from bank.planner import Plan, plan_of, planner
from infra.errors import Conflict, InvalidInput, NotFound
from issuers.catalogue import search_units
from issuers.schemas import UNIT_KINDS
from portal.api.verify import record_context
from portal.runtime import runtime

SEARCH_RESULTS = 10


@dataclass
class PlannerView:
    """The planner's part of the progress page, its form errors and the page's status."""

    target: dict | None = None
    state: dict | None = None
    plan: Plan = field(default_factory=lambda: Plan((), ()))
    compared: list[dict] = field(default_factory=list)
    compare: list[str] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    search: dict = field(default_factory=dict)
    results: list[dict] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200
    kinds: tuple[str, ...] = UNIT_KINDS


def planner_view(learner: dict, args: MultiDict[str, str]) -> PlannerView:
    """Audit the learner's record with their plan (and the programmes in `args` "compare"), and
    search the catalogue for `args` "q" and "kind"; bad choices become form errors (400)."""
    opened = runtime()
    view = PlannerView(compare=[value for value in args.getlist("compare") if value][:20])
    view.search = {"q": args.get("q", "").strip(), "kind": args.get("kind", "")}
    try:
        view.target = target_of(opened.engine, learner)
    except NotFound:
        view.target = None
    if view.target is not None:
        found = _planned(learner, view)
        if found is not None:
            view.state, view.plan = found, found["plan"]
            view.compared, view.gaps = found["compared"], found["gaps"]
    if view.state is None:
        view.plan = plan_of(opened.engine, learner)
    view.results = _search(view)
    return view


def _planned(learner: dict, view: PlannerView) -> dict | None:
    """The planner's audit, or None when the chosen programme's rules are not in force (or no
    longer approved)."""
    opened = runtime()
    try:
        return planner(opened.engine, opened.view, learner, record_context(),
                       compare=view.compare)
    except InvalidInput:
        view.errors["compare"] = _("Choose up to three of the approved programmes to compare.")
        view.status = 400
    except (Conflict, NotFound):
        return None
    try:
        return planner(opened.engine, opened.view, learner, record_context())
    except (Conflict, NotFound):
        return None


def _search(view: PlannerView) -> list[dict] | None:
    """The catalogue units matching the search, or None when nothing was searched."""
    text, kind = view.search["q"], view.search["kind"]
    if not text and not kind:
        return None
    if kind and kind not in UNIT_KINDS:
        view.errors["kind"] = _("Choose one of the kinds of learning.")
        view.status = 400
        return None
    try:
        with runtime().engine.connect() as connection:
            return search_units(connection, text=text or None, kind=kind or None,
                                limit=SEARCH_RESULTS)
    except InvalidInput:
        view.errors["q"] = _("Search with 1 to 100 characters.")
        view.status = 400
        return None
