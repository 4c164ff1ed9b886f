"""What every request of the review application shares: settings, the stores, the templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from pipeline.search import SearchBackend
from pipeline.settings import Settings
from pipeline.store import CatalogueStore
from pipeline.store.accounts import AccountStore
from pipeline.store.leases import LeaseStore
from pipeline.store.lending import LendingStore
from pipeline.store.record_access import RecordAccess
from pipeline.store.review_group import GroupLeases
from pipeline.store.review_save import ReviewSaver

HERE = Path(__file__).resolve().parent


@dataclass
class AppState:
    settings: Settings
    store: CatalogueStore
    accounts: AccountStore
    records: RecordAccess
    leases: LeaseStore
    groups: GroupLeases
    lending: LendingStore
    saver: ReviewSaver
    search: SearchBackend
    templates: Jinja2Templates


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.dangan
    return state
